from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import AUTOMATION_LEVELS


class ResCompany(models.Model):
    _inherit = "res.company"

    agency_billing_automation = fields.Selection(
        selection=AUTOMATION_LEVELS,
        string="Invoice Automation",
        default="post",
        required=True,
        help="What the billing run does with the invoices it creates, for clients "
        "that have no setting of their own.",
    )

    agency_time_product_id = fields.Many2one(
        "product.product",
        string="Time Billed As",
        domain="[('type', '=', 'service')]",
        help="The default service product of invoice lines for billed time.",
    )

    # Reminders, late fees and overdue alerts (issue #13)
    agency_reminder_plan_id = fields.Many2one(
        "agency.reminder.plan",
        string="Reminder Plan",
        domain="[('company_id', '=', id)]",
        help="The reminders unpaid invoices get, for clients without a plan of their own. "
        "Empty: no reminders.",
    )
    agency_late_fee_cancel_if_paid = fields.Boolean(
        string="Drop Late Fees of Paid Invoices",
        help="A late fee not invoiced yet is dropped when its invoice is paid. "
        "Otherwise the fee stays due and the next billing run invoices it.",
    )
    agency_overdue_digest = fields.Boolean(
        string="Daily Overdue Digest",
        default=True,
        help="Every morning, billing managers get an email listing the invoices that became overdue.",
    )
    agency_overdue_digest_date = fields.Date(
        string="Last Overdue Digest", help="The invoices due before this day have been in a digest."
    )

    @api.constrains("agency_reminder_plan_id")
    def _check_agency_reminder_plan_company(self):
        for company in self:
            plan = company.agency_reminder_plan_id
            if plan and plan.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The reminder plan “%(plan)s” belongs to %(other)s, not to %(company)s.",
                        plan=plan.name,
                        other=plan.company_id.name,
                        company=company.name,
                    )
                )
