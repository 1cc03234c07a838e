from odoo import api, fields, models
from odoo.tools.misc import format_amount, format_date


class AgencyReminderLine(models.Model):
    """One invoice in a reminder: the proof that a level was sent for it.

    The unique index is the guard of "each level at most once per invoice",
    whatever sends it (the daily run, "send now", two workers at once).
    """

    _name = "agency.reminder.line"
    _description = "Reminded Invoice"
    _order = "reminder_id desc, date_due, id"

    reminder_id = fields.Many2one("agency.reminder", required=True, index=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, ondelete="cascade")
    level_id = fields.Many2one("agency.reminder.level", required=True, ondelete="restrict")
    partner_id = fields.Many2one(related="reminder_id.partner_id", string="Client", store=True, index=True)
    company_id = fields.Many2one(related="reminder_id.company_id", store=True, index=True)
    date = fields.Date(related="reminder_id.date", string="Sent On", store=True)
    contact_id = fields.Many2one(related="reminder_id.contact_id", string="Sent To")
    currency_id = fields.Many2one("res.currency", required=True)
    amount_residual = fields.Monetary(string="Amount Due", currency_field="currency_id", readonly=True)
    date_due = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(
        readonly=True,
        help="On the day of the reminder; negative: days before the due date.",
    )
    fee_item_id = fields.Many2one(
        "agency.billable.item", string="Late Fee", readonly=True, ondelete="set null"
    )
    fee_amount = fields.Monetary(related="fee_item_id.amount_untaxed", string="Fee")
    pay_url = fields.Char(string="Pay Online Link", compute="_compute_pay_url")

    _level_once_per_invoice = models.UniqueIndex(
        "(move_id, level_id)",
        "This reminder level has already been sent for this invoice.",
    )

    @api.depends("move_id")
    def _compute_pay_url(self):
        # the invoice's customer page (with its access token): the client can
        # see the invoice and pay it online there without logging in
        for line in self:
            move = line.move_id.sudo()
            line.pay_url = move.get_base_url() + move.get_portal_url() if move else False

    @api.model
    def _prepare_vals(self, move, level, date):
        return {
            "move_id": move.id,
            "level_id": level.id,
            "currency_id": move.currency_id.id,
            "amount_residual": move.amount_residual,
            "date_due": move.invoice_date_due,
            "days_overdue": (date - move.invoice_date_due).days if move.invoice_date_due else 0,
        }

    def _get_history_text(self):
        """ "INV/2027/00012: 1,200.00 € due on 1 Mar 2027 (9 days overdue)"."""
        self.ensure_one()
        values = {
            "invoice": self.move_id.name,
            "amount": format_amount(self.env, self.amount_residual, self.currency_id),
            "date": format_date(self.env, self.date_due, date_format="d MMM yyyy"),
            "days": abs(self.days_overdue),
        }
        if self.days_overdue > 0:
            return self.env._("%(invoice)s: %(amount)s due on %(date)s (%(days)s days overdue)", **values)
        return self.env._("%(invoice)s: %(amount)s due on %(date)s", **values)
