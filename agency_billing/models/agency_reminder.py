from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.fields import Command, Domain
from odoo.tools.misc import format_amount, format_date

from .. import dunning

# Reminders are made in batches: no "created" note, no tracking, no follower.
QUIET_CREATE = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}
STATEMENT_REPORT = "agency_billing.report_agency_reminder_statement"


class AgencyReminder(models.Model):
    """One reminder email: one client, one level, one or several invoices.

    The email itself is the message posted on this record (sent to the
    client's reminder contact); notes on the client and on each invoice point
    back to it. Sending goes through ``_send``, the daily run and "Send
    reminder now" alike.
    """

    _name = "agency.reminder"
    _description = "Payment Reminder"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True
    # billing users who may send a reminder may post its email
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one("res.partner", string="Client", required=True, index=True, readonly=True)
    contact_id = fields.Many2one("res.partner", string="Sent To", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    level_id = fields.Many2one("agency.reminder.level", required=True, readonly=True)
    plan_id = fields.Many2one(related="level_id.plan_id")
    date = fields.Date(string="Sent On", required=True, readonly=True, index=True)
    trigger = fields.Selection(dunning.TRIGGERS, required=True, readonly=True, default=dunning.TRIGGER_CRON)
    user_id = fields.Many2one(
        "res.users", string="Sent By", readonly=True, default=lambda self: self.env.user
    )
    run_id = fields.Many2one(
        "agency.reminder.run",
        string="Reminder Run",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    line_ids = fields.One2many("agency.reminder.line", "reminder_id", string="Invoices", readonly=True)
    move_ids = fields.Many2many("account.move", string="Reminded Invoices", compute="_compute_move_ids")
    invoice_count = fields.Integer(string="# Invoices", compute="_compute_move_ids")
    amount_due_display = fields.Char(string="Amount Due", compute="_compute_amount_due_display")
    fee_item_ids = fields.Many2many("agency.billable.item", string="Late Fees", compute="_compute_move_ids")
    is_online_payment = fields.Boolean(
        compute="_compute_is_online_payment", help="Clients can pay invoices online (Accounting settings)."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("line_ids.move_id.name")
    def _compute_name(self):
        for reminder in self:
            names = reminder.line_ids.sorted(
                lambda line: (line.date_due or fields.Date.today(), line.id)
            ).mapped("move_id.name")
            shown = ", ".join(names[: dunning.NAME_MAX_INVOICES])
            if len(names) > dunning.NAME_MAX_INVOICES:
                shown = self.env._(
                    "%(invoices)s and %(count)s more",
                    invoices=shown,
                    count=len(names) - dunning.NAME_MAX_INVOICES,
                )
            reminder.name = shown or "/"

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for reminder in self:
            reminder.move_ids = reminder.line_ids.move_id
            reminder.invoice_count = len(reminder.line_ids)
            reminder.fee_item_ids = reminder.line_ids.fee_item_id

    def _compute_is_online_payment(self):
        enabled = self.env["mail.template"]._agency_online_payment_enabled()
        for reminder in self:
            reminder.is_online_payment = enabled

    @api.depends("line_ids.amount_residual", "line_ids.currency_id")
    @api.depends_context("lang")
    def _compute_amount_due_display(self):
        for reminder in self:
            reminder.amount_due_display = reminder._format_amounts(
                (line.amount_residual, line.currency_id) for line in reminder.line_ids
            )

    def _format_amounts(self, amounts, lang=None):
        """ "1,250.00 €" or "1,250.00 € + $300.00": a sum of Odoo's amounts per currency."""
        totals = defaultdict(float)
        for amount, currency in amounts:
            totals[currency] += amount
        return " + ".join(
            format_amount(self.env, currency.round(total), currency, lang_code=lang)
            for currency, total in sorted(totals.items(), key=lambda item: item[0].name)
        )

    # ------------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------------
    @api.model
    def _send(self, groups, date, run=None, trigger=dunning.TRIGGER_CRON):
        """Send reminders: ``groups`` is {(client, level): invoices}, each level due.

        One email per client and level. Returns ``(reminders, problems)``,
        ``problems`` being {client: why nothing was sent to it} for clients
        without an email address to remind. The caller has checked that the
        invoices are open and not disputed, and that each level is above the
        one each invoice reached; the unique index on reminder lines refuses a
        level sent twice all the same.
        """
        problems = {}
        contacts = {}
        for partner in {partner for partner, _level in groups}:
            contact = partner._agency_reminder_contact()
            if not contact.email:
                problems[partner] = self.env._(
                    "%(contact)s has no email address: add one, or choose who receives reminders "
                    "on the client's Billing tab.",
                    contact=contact.display_name,
                )
            contacts[partner] = contact
        groups = {key: moves for key, moves in groups.items() if key[0] not in problems}
        if not groups:
            return self.browse(), problems

        fees = self._create_late_fees(groups, date)
        Line = self.env["agency.reminder.line"]
        vals_list = []
        for (partner, level), moves in groups.items():
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "contact_id": contacts[partner].id,
                    "company_id": level.company_id.id,
                    "level_id": level.id,
                    "date": date,
                    "trigger": trigger,
                    "run_id": run.id if run else False,
                    "line_ids": [
                        Command.create(
                            {
                                **Line._prepare_vals(move, level, date),
                                "fee_item_id": fees.get((move.id, level.id)),
                            }
                        )
                        for move in moves.sorted(lambda m: (m.invoice_date_due, m.id))
                    ],
                }
            )
        reminders = self.with_context(**QUIET_CREATE).create(vals_list)

        # the invoices reach their level: one write per level
        reached = defaultdict(lambda: self.env["account.move"])
        for (_partner, level), moves in groups.items():
            reached[level] |= moves
        for level, moves in reached.items():
            moves.with_context(**QUIET_CREATE).write(
                {"agency_reminder_level_id": level.id, "agency_reminder_date": date}
            )

        reminders.line_ids.move_id._agency_ensure_access_tokens()  # the pay links
        reminders._send_emails(force_send=trigger == dunning.TRIGGER_MANUAL)
        reminders._log_history()
        reminders._schedule_activities()
        return reminders, problems

    @api.model
    def _create_late_fees(self, groups, date):
        """{(invoice id, level id): billable item id} of the late fees the levels charge."""
        Item = self.env["agency.billable.item"]
        moves = self.env["account.move"].concat(*groups.values())
        levels = self.env["agency.reminder.level"].concat(*(level for _partner, level in groups))
        # a fee already charged for an invoice and level stays the only one
        existing = {
            (item.overdue_move_id.id, item.reminder_level_id.id): item.id
            for item in Item.with_context(active_test=False).search(
                [("overdue_move_id", "in", moves.ids), ("reminder_level_id", "in", levels.ids)]
            )
        }
        keys, vals_list = [], []
        for (partner, level), level_moves in groups.items():
            if (
                level.fee_type == dunning.FEE_NONE
                or partner.with_company(level.company_id).agency_no_late_fees
            ):
                continue
            for move in level_moves:
                key = (move.id, level.id)
                if key in existing:
                    continue
                amount = level._get_fee(move, date)
                if amount:
                    keys.append(key)
                    vals_list.append(self._prepare_late_fee_vals(partner, level, move, amount))
        items = Item.with_context(**QUIET_CREATE).create(vals_list) if vals_list else Item
        return {**existing, **dict(zip(keys, items.ids, strict=True))}

    @api.model
    def _prepare_late_fee_vals(self, partner, level, move, amount):
        """The billable item of a late fee: billed by the next billing run."""
        lang = partner.lang or self.env.lang
        product = level.fee_product_id.with_context(lang=lang)
        return {
            "name": f"{product.name} — {move.name}, {level.with_context(lang=lang).name}",
            "partner_id": partner.id,
            "company_id": move.company_id.id,
            "currency_id": move.currency_id.id,
            "product_id": product.id,
            "quantity": 1.0,
            "price_unit": amount,
            "source": "late_fee",
            "invoice_action": "next_run",
            "overdue_move_id": move.id,
            "reminder_level_id": level.id,
        }

    def _send_emails(self, force_send=False):
        """Render each reminder's template and email it to its contact."""
        authors = {}  # {email_from: (author id, email_from)}: one look-up per sender
        for template, reminders in self.grouped(lambda r: r.level_id.mail_template_id).items():
            rendered = template._generate_template(reminders.ids, ("subject", "body_html", "email_from"))
            for reminder in reminders:
                values = rendered[reminder.id]
                lang = reminder.contact_id.lang or reminder.partner_id.lang or self.env.lang
                attachments, attachment_ids = reminder._get_attachments()
                email_from = values.get("email_from")
                if email_from:
                    if email_from not in authors:
                        authors[email_from] = reminder._message_compute_author(email_from=email_from)
                    author_id, email_from = authors[email_from]
                else:
                    author_id, email_from = (reminder.user_id or self.env.user).partner_id.id, None
                reminder.with_context(mail_notify_force_send=force_send, lang=lang).message_post(
                    body=values.get("body_html") or "",
                    subject=values.get("subject"),
                    partner_ids=reminder.contact_id.ids,
                    author_id=author_id,
                    email_from=email_from,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                    attachments=attachments,
                    attachment_ids=attachment_ids,
                    email_layout_xmlid="mail.mail_notification_light",
                    email_add_signature=False,
                    mail_auto_delete=template.auto_delete,
                    model_description=reminder.with_context(lang=lang).env._("Payment Reminder"),
                )

    def _get_attachments(self):
        """(new attachments as (name, content), existing attachment ids) of a reminder's email."""
        self.ensure_one()
        attachments, attachment_ids = [], []
        level = self.level_id
        Report = self.env["ir.actions.report"].with_company(self.company_id)
        if level.attach_invoices:
            to_render = self.env["account.move"]
            for move in self.move_ids:
                if move.invoice_pdf_report_id:
                    # the PDF the client received with the invoice
                    attachment_ids.append(move.invoice_pdf_report_id.id)
                else:
                    to_render |= move
            Send = self.env["account.move.send"]
            for move in to_render:
                # one document per call: wkhtmltopdf without patched Qt cannot split several
                report = Send._get_default_pdf_report_id(move)
                content, _report_type = Report._render_qweb_pdf(report.report_name, res_ids=move.ids)
                attachments.append((move._get_invoice_report_filename(report=report), content))
        if level.attach_statement:
            content, _report_type = Report._render_qweb_pdf(STATEMENT_REPORT, res_ids=self.ids)
            attachments.append((self._get_statement_filename(), content))
        return attachments, attachment_ids

    def _get_statement_filename(self):
        self.ensure_one()
        return self.env._(
            "Statement %(client)s %(date)s.pdf",
            client=self.partner_id.name,
            date=fields.Date.to_string(self.date),
        )

    def _log_history(self):
        """A note on each client and each invoice: the history of reminders."""
        client_bodies = defaultdict(list)
        invoice_bodies = {}
        for reminder in self:
            link = reminder._get_html_link(title=reminder.level_id.name)
            contact = reminder.contact_id
            sent_to = escape(f"{contact.name} <{contact.email}>" if contact.name else contact.email)
            items = Markup("").join(
                Markup("<li>%s</li>") % line._get_history_text() for line in reminder.line_ids
            )
            client_bodies[reminder.partner_id.id].append(
                Markup("%s %s<ul>%s</ul>")
                % (link, self.env._("sent to %(contact)s:", contact=sent_to), items)
            )
            for line in reminder.line_ids:
                body = Markup("%s %s") % (link, self.env._("sent to %(contact)s.", contact=sent_to))
                if line.fee_item_id:
                    body += Markup(" ") + self.env._(
                        "Late fee: %(amount)s, on the client's next invoice.",
                        amount=format_amount(self.env, line.fee_item_id.amount_untaxed, line.currency_id),
                    )
                invoice_bodies[line.move_id.id] = body
        if client_bodies:
            self.env["res.partner"].browse(list(client_bodies))._message_log_batch(
                bodies={pid: Markup("").join(bodies) for pid, bodies in client_bodies.items()}
            )
        if invoice_bodies:
            self.env["account.move"].browse(list(invoice_bodies))._message_log_batch(bodies=invoice_bodies)

    def _schedule_activities(self):
        """The level's activity on the client, for its account manager. Returns the reminders without one."""
        vals_list = []
        unassigned = self.browse()
        model_id = self.env["ir.model"]._get_id("res.partner")
        for reminder in self.filtered(lambda r: r.level_id.activity_type_id):
            level = reminder.level_id
            user = reminder.partner_id.user_id or level.activity_user_id
            if not user:
                unassigned |= reminder
                continue
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": reminder.partner_id.id,
                    "activity_type_id": level.activity_type_id.id,
                    "summary": level.activity_summary or level.name,
                    "note": Markup("<ul>%s</ul>")
                    % Markup("").join(
                        Markup("<li>%s</li>") % line._get_history_text() for line in reminder.line_ids
                    ),
                    "user_id": user.id,
                    "date_deadline": reminder.date + timedelta(days=level.activity_delay),
                }
            )
        if vals_list:
            # the reminder's sender may not manage the client's activities
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        return unassigned

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_invoices(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.move_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_print_statement(self):
        return self.env.ref(STATEMENT_REPORT).report_action(self)

    # ------------------------------------------------------------------
    # STATEMENT
    # ------------------------------------------------------------------
    def _get_statement_moves(self):
        """Every open invoice and credit note of the client in the reminder's company."""
        self.ensure_one()
        Move = self.env["account.move"]
        return Move.search(
            Move._agency_open_invoice_domain(with_refunds=True)
            & Domain("commercial_partner_id", "=", self.partner_id.id)
            & Domain("company_id", "=", self.company_id.id),
            order="invoice_date_due, id",
        )

    def _get_statement_totals(self, moves):
        """[(currency, amount due, of which overdue)] from Odoo's amounts due."""
        totals = defaultdict(lambda: [0.0, 0.0])
        for move in moves:
            sign = -1 if move.move_type == "out_refund" else 1
            totals[move.currency_id][0] += sign * move.amount_residual
            if move.invoice_date_due and move.invoice_date_due < self.date and sign > 0:
                totals[move.currency_id][1] += move.amount_residual
        return [
            (currency, currency.round(due), currency.round(overdue))
            for currency, (due, overdue) in sorted(totals.items(), key=lambda item: item[0].name)
        ]

    def _format_date(self, value):
        return format_date(self.env, value, date_format="d MMM yyyy")
