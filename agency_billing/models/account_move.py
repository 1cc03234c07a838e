import uuid
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from .. import const, dunning


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
    # REMINDERS AND LATE FEES (issue #13)
    # ------------------------------------------------------------------
    agency_is_disputed = fields.Boolean(
        string="Disputed / On Hold",
        copy=False,
        tracking=True,
        help="The client disputes this invoice or it is on hold: no reminder and no late fee while set.",
    )
    agency_reminder_level_id = fields.Many2one(
        "agency.reminder.level",
        string="Reminder Level",
        copy=False,
        readonly=True,
        help="The last reminder level sent for this invoice.",
    )
    agency_reminder_date = fields.Date(string="Last Reminder", copy=False, readonly=True)
    agency_reminder_line_ids = fields.One2many(
        "agency.reminder.line", "move_id", string="Reminders Sent", readonly=True
    )
    agency_late_fee_item_ids = fields.One2many(
        "agency.billable.item", "overdue_move_id", string="Late Fees", readonly=True
    )
    agency_days_overdue = fields.Integer(string="Days Overdue", compute="_compute_agency_reminder_status")
    agency_next_reminder_level_id = fields.Many2one(
        "agency.reminder.level", string="Next Reminder", compute="_compute_agency_reminder_status"
    )
    agency_next_reminder_date = fields.Date(
        string="Next Reminder On", compute="_compute_agency_reminder_status"
    )

    @api.model
    def _agency_open_invoice_domain(self, with_refunds=False):
        """Posted customer invoices still owed (Odoo's "To pay", never in payment or blocked)."""
        move_types = dunning.REMINDED_MOVE_TYPES + (("out_refund",) if with_refunds else ())
        return (
            Domain("state", "=", "posted")
            & Domain("move_type", "in", move_types)
            & Domain("payment_state", "in", dunning.OPEN_PAYMENT_STATES)
        )

    @api.model
    def _agency_overdue_domain(self, today=None):
        today = today or fields.Date.context_today(self)
        return self._agency_open_invoice_domain() & Domain("invoice_date_due", "<", today)

    @api.model
    def _agency_remindable_domain(self):
        return self._agency_open_invoice_domain() & Domain("agency_is_disputed", "=", False)

    def _agency_is_remindable(self):
        self.ensure_one()
        return bool(
            self.state == "posted"
            and self.move_type in dunning.REMINDED_MOVE_TYPES
            and self.payment_state in dunning.OPEN_PAYMENT_STATES
            and not self.agency_is_disputed
        )

    @api.depends("invoice_date_due", "payment_state", "agency_reminder_level_id", "agency_is_disputed")
    @api.depends_context("company")
    def _compute_agency_reminder_status(self):
        today = fields.Date.context_today(self)
        Level = self.env["agency.reminder.level"]
        plans = {}
        for move in self:
            open_invoice = move._agency_is_remindable() or (
                move.agency_is_disputed and move.payment_state in dunning.OPEN_PAYMENT_STATES
            )
            move.agency_days_overdue = (
                (today - move.invoice_date_due).days
                if open_invoice and move.invoice_date_due and move.invoice_date_due < today
                else 0
            )
            move.agency_next_reminder_level_id = False
            move.agency_next_reminder_date = False
            if not move._agency_is_remindable() or not move.id:
                continue
            client = move.commercial_partner_id.with_company(move.company_id)
            key = (client.id, move.company_id.id)
            if key not in plans:
                plans[key] = client._agency_reminder_plans()[client.id]
            plan = plans[key]
            if not plan:
                continue
            levels = plan._get_levels()[plan.id]
            reached = move.agency_reminder_level_id.days if move.agency_reminder_level_id else None
            # what "send reminder now" would send, and when the daily run will
            level = dunning.next_level(levels, move.invoice_date_due, today, reached)
            if level:
                move.agency_next_reminder_level_id = Level.browse(level.id)
                move.agency_next_reminder_date = max(dunning.level_date(move.invoice_date_due, level), today)

    def _agency_check_reminder_now(self):
        """{(client, level): invoices} of "send reminder now", or a UserError saying what stops it."""
        groups = defaultdict(self.browse)
        for move in self:
            client = move.commercial_partner_id.with_company(move.company_id)
            if move.state != "posted" or move.move_type not in dunning.REMINDED_MOVE_TYPES:
                raise UserError(
                    self.env._(
                        "Only posted customer invoices get reminders: %(move)s.", move=move.display_name
                    )
                )
            if move.payment_state not in dunning.OPEN_PAYMENT_STATES:
                raise UserError(
                    self.env._(
                        "%(move)s is %(state)s: there is nothing to remind the client of.",
                        move=move.name,
                        state=dict(move._fields["payment_state"]._description_selection(self.env))[
                            move.payment_state
                        ].lower(),
                    )
                )
            if move.agency_is_disputed:
                raise UserError(
                    self.env._(
                        "%(move)s is disputed or on hold: clear “Disputed / On Hold” before reminding the client.",
                        move=move.name,
                    )
                )
            if client.agency_no_reminders:
                raise UserError(
                    self.env._(
                        "Reminders are switched off for %(client)s (Billing tab of the client).",
                        client=client.display_name,
                    )
                )
            plan = client._agency_reminder_plans()[client.id]
            if not plan or not plan.level_ids:
                raise UserError(
                    self.env._(
                        "No reminder plan applies to %(client)s: choose one in Settings > Billing, or on "
                        "the client's Billing tab.",
                        client=client.display_name,
                    )
                )
            reached = move.agency_reminder_level_id.days if move.agency_reminder_level_id else None
            level = dunning.next_level(
                plan._get_levels()[plan.id], move.invoice_date_due, fields.Date.context_today(self), reached
            )
            if not level:
                raise UserError(
                    self.env._(
                        "Every level of the plan “%(plan)s” has been sent for %(move)s.",
                        plan=plan.name,
                        move=move.name,
                    )
                )
            contact = client._agency_reminder_contact()
            if not contact.email:
                raise UserError(
                    self.env._(
                        "%(contact)s has no email address: add one, or choose who receives reminders on "
                        "the Billing tab of %(client)s.",
                        contact=contact.display_name,
                        client=client.display_name,
                    )
                )
            groups[(move.commercial_partner_id, self.env["agency.reminder.level"].browse(level.id))] |= move
        return dict(groups)

    def _agency_ensure_access_tokens(self):
        """Give the invoices without one the access token of their customer link.

        What portal.mixin's _portal_ensure_token does, for many invoices in one
        statement: it writes them one by one through account.move.write, whose
        checks and line synchronisation have nothing to do with a token and
        cost several queries an invoice.
        """
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        self.flush_recordset(["access_token"])
        values = SQL(", ").join(SQL("(%s, %s)", move.id, str(uuid.uuid4())) for move in missing)
        self.env.cr.execute(
            SQL(
                "UPDATE account_move AS move SET access_token = token.value FROM (VALUES %s) AS token(id, value) "
                "WHERE move.id = token.id AND move.access_token IS NULL",
                values,
            )
        )
        missing.invalidate_recordset(["access_token"])

    def action_agency_send_reminder(self):
        """ "Send reminder now": the next level of each selected invoice, grouped per client."""
        return self.env["agency.reminder.run"]._send_now(self)

    def action_agency_toggle_disputed(self):
        for move in self:
            move.agency_is_disputed = not move.agency_is_disputed

    def action_agency_view_reminders(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_reminder_action")
        action["domain"] = [("line_ids.move_id", "in", self.ids)]
        action["context"] = {}
        return action

    def _invoice_paid_hook(self):
        res = super()._invoice_paid_hook()
        self._agency_drop_unbilled_late_fees()
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self._agency_drop_unbilled_late_fees()
        return res

    @api.model
    def _agency_drop_unbilled_late_fees(self, company=None):
        """Stop the late fees not billed yet of cancelled invoices, and of paid
        ones in companies that say so.

        Called when invoices are paid or cancelled (on ``self``) and by the
        daily reminder run (for ``company``), which catches payments made any
        other way; the reminder run is scheduled before the billing run.
        """
        paid = Domain("overdue_move_id.payment_state", "in", ("paid", "in_payment", "reversed")) & Domain(
            "company_id.agency_late_fee_cancel_if_paid", "=", True
        )
        domain = (
            Domain("source", "=", "late_fee")
            & Domain("state", "=", const.STATE_PENDING)
            & (paid | Domain("overdue_move_id.state", "=", "cancel"))
        )
        if self:
            domain &= Domain("overdue_move_id", "in", self.ids)
        elif company:
            domain &= Domain("company_id", "=", company.id)
        else:
            return
        Item = self.env["agency.billable.item"].sudo()
        fees = Item.search(domain).filtered(lambda item: not item.billed_count)
        if not fees:
            return
        fees.write({"state": const.STATE_STOPPED})
        for fee in fees:
            invoice = fee.overdue_move_id
            if invoice.state == "cancel":
                body = self.env._("Not billed: %(invoice)s was cancelled.", invoice=invoice.name)
            else:
                body = self.env._(
                    "Not billed: %(invoice)s was paid before the fee was invoiced.", invoice=invoice.name
                )
            fee.message_post(body=body)
