from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.tools import SQL

from .. import overview


class AgencyBillingForecastTotal(models.Model):
    """The billing forecast in totals per day: what ``agency.billing.forecast``
    lists, summed (``overview.forecast_totals``), for graphs that stay fast
    whatever the number of billable items."""

    _name = "agency.billing.forecast.total"
    _description = "Billing Forecast Totals"
    _auto = False
    _order = "date"
    _rec_name = "date"

    date = fields.Date(string="Invoice Date", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    amount_company = fields.Monetary(
        string="Amount",
        readonly=True,
        currency_field="company_currency_id",
        help="Before tax, in the company's currency.",
    )
    charge_count = fields.Integer(string="Charges", readonly=True)
    is_recurring = fields.Boolean(string="Recurring", readonly=True)

    @property
    def _table_query(self):
        overview.disable_jit(self.env.cr)
        today = fields.Date.context_today(self)
        horizon = today.replace(day=1) + relativedelta(months=overview.FORECAST_MONTHS, days=-1)
        return SQL(
            """SELECT (totals.company_id::bigint * 1000000 + (totals.date - DATE '2000-01-01')) * 2
                          + totals.is_recurring::int AS id,
                      totals.*, company.currency_id AS company_currency_id
                 FROM (%s) totals
                 JOIN res_company company ON company.id = totals.company_id""",
            overview.forecast_totals(self.env, self.env.companies, today, horizon),
        )
