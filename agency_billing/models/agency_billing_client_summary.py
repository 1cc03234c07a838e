from odoo import fields, models

from .. import const, overview


class AgencyBillingClientSummary(models.Model):
    """The Overview's figures per client and company (``overview.client_summary``):
    what is waiting to be billed, what is scheduled, what is owed. A client is
    listed when one of its figures is not zero. Amounts are in the company's
    currency (at today's rate for billable items in another currency)."""

    _name = "agency.billing.client.summary"
    _description = "Client Billing Figures"
    _auto = False
    _order = "balance desc, unbilled_amount desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    unbilled_amount = fields.Monetary(
        string="Unbilled",
        readonly=True,
        help="What the next billing run would invoice today, before tax: periods due (missed ones "
        "too), one-off items due, charges riding along, and time.",
    )
    unbilled_hours = fields.Float(readonly=True, digits=(16, 2))
    unbilled_time_amount = fields.Monetary(
        string="Unbilled Time", readonly=True, help="Time to bill up to today (Unbilled Time), before tax."
    )
    pending_count = fields.Integer(
        string="Pending Items", readonly=True, help="One-off items waiting for their invoice."
    )
    pending_amount = fields.Monetary(string="Pending Items Amount", readonly=True)
    upcoming_amount = fields.Monetary(
        string="Next 30 Days",
        readonly=True,
        help="Billable items the billing run will invoice from today to 30 days from now, before tax "
        "(the billing forecast).",
    )
    mrr = fields.Monetary(
        string="Monthly Recurring",
        readonly=True,
        help="The client's recurring plans running today, per month, before tax.",
    )
    open_amount = fields.Monetary(
        string="Open", readonly=True, help="What the client's posted invoices still owe, taxes included."
    )
    overdue_amount = fields.Monetary(
        string="Overdue", readonly=True, help="Open amounts past their due date."
    )
    overdue_days = fields.Integer(
        string="Oldest Overdue (days)",
        readonly=True,
        aggregator="max",
        help="How many days the oldest overdue amount is past its due date.",
    )
    credit_amount = fields.Monetary(
        string="Credit",
        readonly=True,
        help="The client's credit not used yet: open credit notes, payments not applied to an invoice.",
    )
    balance = fields.Monetary(
        readonly=True, help="Open less credit: what the client owes, as Odoo's Total Receivable."
    )

    _depends = {
        "agency.billable.item": [
            "partner_id",
            "company_id",
            "currency_id",
            "amount_untaxed",
            "state",
            "invoice_action",
            "date_due",
            *const.ITEM_SCHEDULE_FIELDS,
            "next_invoice_date",
        ],
        "account.analytic.line": [
            "partner_id",
            "company_id",
            "project_id",
            "date",
            "agency_billing_state",
            "agency_quantity",
            "agency_amount_expected",
            "agency_rate_level",
        ],
        "account.move.line": [
            "agency_item_id",
            "agency_period_key",
            "agency_period_end",
            "parent_state",
            "account_id",
            "partner_id",
            "reconciled",
            "amount_residual",
            "date_maturity",
            "date",
        ],
    }

    def _determine_fields_to_fetch(self, field_names=None, ignore_when_in_cache=False):
        # each query on this view computes every client's figures: when a column is missing,
        # fetch them all at once (a list page then costs one computation, not one per field group)
        fields_to_fetch = super()._determine_fields_to_fetch(field_names, ignore_when_in_cache)
        return super()._determine_fields_to_fetch() if fields_to_fetch else fields_to_fetch

    @property
    def _table_query(self):
        overview.disable_jit(self.env.cr)
        return overview.client_summary(self.env, self.env.companies, fields.Date.context_today(self))

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_open_client(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "views": [(False, "form")],
            "target": "current",
        }
