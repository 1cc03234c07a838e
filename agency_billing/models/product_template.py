from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import schedule


class ProductTemplate(models.Model):
    _inherit = "product.template"

    # A recurring service sold on a quote becomes, once the quote is accepted,
    # a recurring billable item with this schedule (the quote line gives the
    # quantity and the price of one period).
    agency_is_recurring = fields.Boolean(
        string="Recurring Service",
        help="Sold on a quote, it is billed on a schedule (for example hosting every month) "
        "by the billing run once the client accepts.",
    )
    agency_recurring_interval = fields.Integer(string="Bill Every", default=1)
    agency_recurring_rule_type = fields.Selection(
        schedule.RULE_TYPES, string="Billing Period", default=schedule.MONTHLY
    )
    agency_recurring_count = fields.Integer(
        string="Number of Periods", default=0, help="How many periods to bill. 0: until stopped."
    )
    agency_recurring_invoicing_type = fields.Selection(
        schedule.INVOICING_TYPES, string="Invoicing", default=schedule.PRE_PAID
    )

    @api.constrains(
        "agency_is_recurring",
        "agency_recurring_interval",
        "agency_recurring_rule_type",
        "agency_recurring_count",
    )
    def _check_agency_recurrence(self):
        for product in self.filtered("agency_is_recurring"):
            if product.agency_recurring_interval < 1 or not product.agency_recurring_rule_type:
                raise ValidationError(
                    self.env._(
                        "“%(product)s” is a recurring service: say how often it is billed "
                        "(every 1 or more days, weeks, months or years).",
                        product=product.display_name,
                    )
                )
            if product.agency_recurring_count < 0:
                raise ValidationError(
                    self.env._(
                        "The number of periods of “%(product)s” cannot be negative (0 means until stopped).",
                        product=product.display_name,
                    )
                )

    def _agency_period_label(self):
        """ "every month", "every 3 weeks", … in the user's language."""
        self.ensure_one()
        interval = self.agency_recurring_interval or 1
        units = {
            schedule.DAILY: (self.env._("day"), self.env._("days")),
            schedule.WEEKLY: (self.env._("week"), self.env._("weeks")),
            schedule.MONTHLY: (self.env._("month"), self.env._("months")),
            schedule.YEARLY: (self.env._("year"), self.env._("years")),
        }
        one, many = units.get(self.agency_recurring_rule_type or schedule.MONTHLY)
        if interval == 1:
            return self.env._("every %(unit)s", unit=one)
        return self.env._("every %(count)s %(unit)s", count=interval, unit=many)
