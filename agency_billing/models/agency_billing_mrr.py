from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from .. import overview


class AgencyBillingMrr(models.Model):
    """Monthly recurring revenue over time: one row per recurring item and month.

    An item counts in a month when it runs on the month's last day (for the
    current month: today), for its amount per month (``overview.mrr``): a
    weekly amount × 52 / 12, a yearly one / 12, each divided by the interval.
    """

    _name = "agency.billing.mrr"
    _description = "Monthly Recurring Revenue"
    _auto = False
    _order = "date desc, partner_id, item_id"
    _rec_name = "item_id"

    date = fields.Date(string="Month", readonly=True)
    item_id = fields.Many2one("agency.billable.item", string="Billable Item", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    mrr = fields.Monetary(
        string="Monthly Recurring Revenue",
        readonly=True,
        currency_field="company_currency_id",
        help="The item's amount per month, before tax, in the company's currency.",
    )

    _depends = {
        "agency.billable.item": [
            "partner_id",
            "company_id",
            "currency_id",
            "product_id",
            "project_id",
            "amount_untaxed",
            "state",
            "invoice_action",
            "date_start",
            "date_end",
            "recurring_interval",
            "recurring_rule_type",
            "recurring_count",
            "is_aligned",
        ],
        "account.move.line": ["agency_item_id", "agency_period_end", "parent_state"],
    }

    @property
    def _table_query(self):
        overview.disable_jit(self.env.cr)
        today = fields.Date.context_today(self)
        month_from, month_to = self._agency_months(today)
        return overview.mrr(self.env, self.env.companies, today, month_from, month_to)

    @api.model
    def _agency_months(self, today):
        """(first month, last month) shown: two years back, the forecast's months ahead."""
        this_month = today.replace(day=1)
        return (
            this_month - relativedelta(months=overview.MRR_HISTORY_MONTHS),
            this_month + relativedelta(months=overview.FORECAST_MONTHS - 1),
        )

    def action_open_item(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "agency.billable.item",
            "res_id": self.item_id.id,
            "views": [(False, "form")],
            "target": "current",
        }
