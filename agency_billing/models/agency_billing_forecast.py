from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL, format_amount

from .. import const, overview


class AgencyBillingForecast(models.Model):
    """What billable items will be invoiced, and when, over the next months.

    One row per period of each pending recurring item (every period, not only
    the next one) and per pending one-off item, from the schedule maths
    (``overview.forecast``). Nothing is stored: a plan that runs until stopped
    has as many rows as the forecast's horizon holds.
    """

    _name = "agency.billing.forecast"
    _description = "Billing Forecast"
    _auto = False
    _order = "date, partner_id, item_id, period_start"
    _rec_name = "name"

    name = fields.Char(string="Charge", readonly=True)
    item_id = fields.Many2one("agency.billable.item", string="Billable Item", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    kind = fields.Selection(
        [("recurring", "Recurring"), ("one_off", "One-off")], string="Type", readonly=True
    )
    date = fields.Date(
        string="Invoice Date",
        readonly=True,
        help="The day the billing run invoices it. A charge whose date has passed and that is "
        "not billed yet is invoiced by the next run: today.",
    )
    date_scheduled = fields.Date(string="Scheduled For", readonly=True)
    is_late = fields.Boolean(
        string="Late", readonly=True, help="Its date has passed and it is not billed yet."
    )
    rides_along = fields.Boolean(
        string="With the Next Invoice",
        readonly=True,
        help="Added to the client's next invoice, whenever the run makes one.",
    )
    period_start = fields.Date(string="From", readonly=True)
    period_end = fields.Date(string="To", readonly=True)
    factor = fields.Float(
        string="Share of Period",
        readonly=True,
        aggregator=None,
        digits=(16, 4),
        help="1: a full period; less: a partial period, prorated by its days.",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(
        string="Amount in Currency", readonly=True, aggregator=None, currency_field="currency_id"
    )
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    amount_company = fields.Monetary(
        string="Amount",
        readonly=True,
        currency_field="company_currency_id",
        help="Before tax, in the company's currency (at today's rate for another currency).",
    )

    _depends = {
        "agency.billable.item": [
            "partner_id",
            "company_id",
            "currency_id",
            "product_id",
            "project_id",
            "name",
            "amount_untaxed",
            "state",
            "invoice_action",
            "date_due",
            *const.ITEM_SCHEDULE_FIELDS,
            "next_invoice_date",
        ],
        "account.move.line": ["agency_item_id", "agency_period_key", "parent_state"],
    }

    @property
    def _table_query(self):
        overview.disable_jit(self.env.cr)
        today = fields.Date.context_today(self)
        # a page about some clients only (the portal) computes their charges only;
        # this narrows the rows, the access rules still decide who sees what
        partner_ids = self.env.context.get("agency_forecast_partner_ids")
        where = SQL("item.partner_id IN %s", tuple(partner_ids)) if partner_ids else None
        return overview.forecast(self.env, self.env.companies, today, self._horizon(today), where=where)

    @api.depends("name", "amount_company")
    def _compute_display_name(self):
        # the calendar shows each charge with its amount
        for charge in self:
            amount = format_amount(self.env, charge.amount_company, charge.company_currency_id)
            charge.display_name = f"{charge.name} · {amount}"

    def _horizon(self, today):
        """The last day of the forecast: the end of the 12th month, this one included."""
        return today.replace(day=1) + relativedelta(months=overview.FORECAST_MONTHS, days=-1)

    def action_open_item(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "agency.billable.item",
            "res_id": self.item_id.id,
            "views": [(False, "form")],
            "target": "current",
        }
