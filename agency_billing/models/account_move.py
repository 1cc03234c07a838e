import json

from odoo import fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    agency_billing_run_id = fields.Many2one(
        "agency.billing.run", string="Billing Run", copy=False, readonly=True, index="btree_not_null"
    )

    agency_credited_time_count = fields.Integer(compute="_compute_agency_credited_time_count")

    def _compute_agency_credited_time_count(self):
        for move in self:
            move.agency_credited_time_count = len(move._agency_credited_time())

    def _agency_credited_time(self):
        """On a credit note: the billed time of the credited invoice not released yet."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env["agency.timesheet.billing"]
        return self.reversed_entry_id.line_ids.agency_timesheet_billing_ids.filtered(
            lambda billing: not billing.is_released
        )

    def action_agency_release_credited_time(self):
        """On a credit note: the credited invoice's time can be billed again."""
        for move in self:
            if move.move_type != "out_refund" or move.state != "posted" or not move.reversed_entry_id:
                raise UserError(
                    self.env._("Only a posted credit note releases the time of the invoice it credits.")
                )
            billed = move._agency_credited_time()
            if not billed:
                raise UserError(self.env._("The credited invoice has no billed time left to release."))
            billed.sudo().write({"is_released": True})
            move.message_post(
                body=self.env._(
                    "%(count)s timesheet entries of %(invoice)s were released to be billed again.",
                    count=len(billed),
                    invoice=move.reversed_entry_id.display_name,
                )
            )
        return True

    def _agency_portal_shows_time(self):
        self.ensure_one()
        return bool(
            self.move_type == "out_invoice"
            and self.commercial_partner_id.agency_portal_show_time
            and self.line_ids.agency_timesheet_billing_ids
        )

    def _agency_items(self):
        return self.line_ids.agency_item_id

    def write(self, vals):
        # Cancelling (or reviving) an invoice frees (or takes back) its periods:
        # the items' next date and state follow.
        if vals.get("state") not in ("cancel", "draft"):
            return super().write(vals)
        items = self._agency_items()
        res = super().write(vals)
        if items:
            items._update_billing_status()
        return res

    def unlink(self):
        items = self._agency_items()
        res = super().unlink()
        if items:
            items.exists()._update_billing_status()
        return res

    # ------------------------------------------------------------------
    # INVOICE LAYOUT AND BRANDING (issue #11)
    # ------------------------------------------------------------------
    # The layout (Odoo's invoice report) and the client's branding an
    # invoice was posted with: a reprint, the email attachment and the
    # portal show the same document whatever the client's settings become.
    agency_branding_id = fields.Many2one(
        "agency.invoice.branding",
        string="Layout Used",
        copy=False,
        readonly=True,
        ondelete="restrict",
        help="The invoice layout and client branding this invoice was posted with.",
    )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._agency_snapshot_layout()
        return posted

    def button_draft(self):
        # back to draft, the document may change: posting it again takes the
        # client's settings of that moment, as Odoo makes its PDF again
        res = super().button_draft()
        self.filtered("agency_branding_id").agency_branding_id = False
        return res

    def _agency_snapshot_layout(self):
        """Keep on each customer invoice the layout and branding it is posted with."""
        invoices = self.filtered(
            lambda m: m.is_sale_document(include_receipts=True) and not m.agency_branding_id
        )
        if invoices:
            self.env["agency.invoice.branding"]._snapshot(invoices)

    def _agency_layout_values(self):
        """What the invoice layouts print for this invoice: the snapshot once
        posted, the client's current settings before."""
        self.ensure_one()
        Branding = self.env["agency.invoice.branding"]
        if self.agency_branding_id:
            return self.agency_branding_id._get_layout_values()
        return Branding._get_partner_layout_values(self.commercial_partner_id)

    def _agency_document_lang(self):
        """The language the invoice is printed in: the snapshot's, else the client's."""
        self.ensure_one()
        return (
            self.agency_branding_id.lang
            or self.commercial_partner_id.agency_document_lang
            or self.partner_id.lang
            or self.env.lang
        )

    def _agency_billing_period(self):
        """(first day, last day) of what the invoice bills: item periods and timesheet dates."""
        self.ensure_one()
        starts, ends = [], []
        for line in self.invoice_line_ids:
            if line.agency_period_start:
                starts.append(line.agency_period_start)
                ends.append(line.agency_period_end or line.agency_period_start)
            dates = line.agency_timesheet_billing_ids.analytic_line_id.mapped("date")
            if dates:
                starts.append(min(dates))
                ends.append(max(dates))
        return (min(starts), max(ends)) if starts else (False, False)

    def _agency_lines_by_project(self):
        """The invoice lines in blocks per project, projects by name, lines of
        no project last: [{name, lines, subtotal, total}]. A block's subtotal
        adds up its lines' own, as Odoo does for a section."""
        self.ensure_one()
        blocks = {}
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        for line in lines.sorted(lambda line: (line.sequence, line.id)):
            project = line._agency_project()
            blocks[project] = blocks.get(project, self.env["account.move.line"]) | line
        ordered = sorted(blocks.items(), key=lambda kv: (not kv[0], kv[0].name or ""))
        return [
            {
                "name": project.name if project else False,
                "lines": block,
                "subtotal": self.currency_id.round(sum(block.mapped("price_subtotal"))),
                "total": self.currency_id.round(sum(block.mapped("price_total"))),
            }
            for project, block in ordered
        ]

    def _agency_time_appendix(self):
        """The timesheet entries billed on the invoice, by project and task:
        [{project, hours, tasks: [{task, hours, entries}]}]."""
        self.ensure_one()
        billed = self.invoice_line_ids.agency_timesheet_billing_ids.filtered(lambda b: not b.is_released)
        projects = {}
        for entry in billed.sorted(lambda b: (b.analytic_line_id.date, b.id)):
            timesheet = entry.analytic_line_id
            tasks = projects.setdefault(timesheet.project_id, {})
            tasks.setdefault(timesheet.task_id, []).append(entry)
        appendix = []
        for project, tasks in sorted(projects.items(), key=lambda kv: kv[0].name or ""):
            task_blocks = [
                {"task": task, "entries": entries, "hours": round(sum(e.quantity for e in entries), 2)}
                for task, entries in sorted(tasks.items(), key=lambda kv: (not kv[0], kv[0].name or ""))
            ]
            appendix.append(
                {
                    "project": project,
                    "tasks": task_blocks,
                    "hours": round(sum(block["hours"] for block in task_blocks), 2),
                }
            )
        return appendix

    def _get_invoice_pdf_proforma(self):
        # Odoo's pro forma (the portal download before the invoice was sent)
        # is printed with Odoo's layout: with the invoice's own instead
        report = self.env["account.move.send"]._get_default_pdf_report_id(self)
        if report.report_name == "account.report_invoice_with_payments":
            return super()._get_invoice_pdf_proforma()
        content, report_type = self.env["ir.actions.report"]._pre_render_qweb_pdf(
            report.report_name, self.ids, data={"proforma": True}
        )
        content_by_id = self.env["ir.actions.report"]._get_splitted_report(
            report.report_name, content, report_type
        )
        return {
            "filename": self._get_invoice_proforma_pdf_report_filename(),
            "filetype": "pdf",
            "content": content_by_id[self.id],
        }

    # ------------------------------------------------------------------
    # SENDING (issue #11): what the billing run's "post and send" asks Odoo
    # ------------------------------------------------------------------
    def _agency_get_sending_data(self, author):
        """The sending of this invoice, decided when it is queued: Odoo's own
        picks for the client (sending method, e-invoice format) and the
        invoice's layout. Odoo's sending cron follows it (see account.move.send)."""
        self.ensure_one()
        Send = self.env["account.move.send"]
        methods = Send._get_default_sending_methods(self)
        return {
            "author_user_id": author.id,
            "author_partner_id": author.partner_id.id,
            "sending_methods": sorted(methods),
            "invoice_edi_format": Send._get_default_invoice_edi_format(self, sending_methods=methods)
            or False,
            "pdf_report_id": Send._get_default_pdf_report_id(self).id,
            "agency_billing": True,
        }

    def _agency_queue_sending(self, author):
        """Queue these posted invoices for Odoo's sending cron, each the client's way."""
        no_email = self.browse()
        groups = {}  # one write per distinct decision: clients mostly share one
        for move in self:
            data = move._agency_get_sending_data(author)
            key = json.dumps(data, sort_keys=True)
            groups.setdefault(key, (data, []))[1].append(move.id)
            if "email" in data["sending_methods"] and not move.partner_id.email:
                no_email |= move
        for data, move_ids in groups.values():
            self.browse(move_ids).sending_data = data
        for move in no_email:
            move.message_post(
                body=self.env._(
                    "This invoice will not be emailed: %(contact)s has no email address. "
                    "Its PDF is made all the same.",
                    contact=move.partner_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        cron = self.env.ref("account.ir_cron_account_move_send", raise_if_not_found=False)
        if cron and self:
            cron.sudo()._trigger()
