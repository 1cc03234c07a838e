from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import payments, quotes
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

    agency_time_bill_from = fields.Date(
        string="Bill Time Logged From",
        help="Time logged before this date is never billed by this addon. Set to the install date "
        "when the addon is installed on a database that already has timesheets; move it back on purpose "
        "to bill older time. Empty: all time.",
    )
    agency_time_product_id = fields.Many2one(
        "product.product",
        string="Time Billed As",
        domain="[('type', '=', 'service')]",
        help="The default service product of invoice lines for billed time.",
    )

    # Payments: credit and automatic charging
    agency_credit_auto_apply = fields.Boolean(
        string="Apply Open Credit Automatically",
        default=True,
        help="A client's open credit (credit notes, overpayments, prepayments) pays its new invoices "
        "when they are posted, oldest credit first, unless the client says otherwise.",
    )
    agency_autopay_timing = fields.Selection(
        payments.CHARGE_TIMINGS,
        string="Charge Saved Payment Methods",
        default=payments.CHARGE_ON_POST,
        required=True,
    )
    agency_autopay_days_before = fields.Integer(
        string="Days Before Due Date", default=payments.DEFAULT_DAYS_BEFORE_DUE
    )
    agency_autopay_retry_days = fields.Char(
        string="Retry Failed Charges After (days)",
        default=payments.DEFAULT_RETRY_DAYS,
        help="Days after the first failed charge to try again, e.g. 1, 3, 7. "
        "After the last one the invoice is left to payment reminders. Empty: no retry.",
    )

    @api.constrains("agency_autopay_retry_days", "agency_autopay_days_before")
    def _check_agency_autopay_settings(self):
        for company in self:
            try:
                payments.parse_retry_days(company.agency_autopay_retry_days)
            except ValueError:
                raise ValidationError(
                    self.env._(
                        "“%(value)s” is not a retry schedule: write increasing numbers of days "
                        "separated by commas, e.g. 1, 3, 7.",
                        value=company.agency_autopay_retry_days,
                    )
                ) from None
            if company.agency_autopay_days_before < 0:
                raise ValidationError(self.env._("The days before the due date cannot be negative."))

    def _agency_retry_days(self):
        self.ensure_one()
        return payments.parse_retry_days(self.agency_autopay_retry_days)

    # Reminders, late fees and overdue alerts
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

    # ------------------------------------------------------------------
    # ACCEPTED QUOTES
    # ------------------------------------------------------------------
    agency_quote_acceptance = fields.Selection(
        selection=quotes.ACCEPTANCE_MODES,
        string="When a Quote Is Accepted",
        default=quotes.ACCEPT_MANUAL,
        required=True,
        help="What a quote's acceptance does, for clients without a setting of their own. "
        "Nothing (the default) leaves orders to Odoo's own invoicing, as before.",
    )
    agency_quote_deposit_percent = fields.Float(string="Default Deposit (%)", default=50.0)
    agency_quote_balance_trigger = fields.Selection(
        selection=quotes.BALANCE_TRIGGERS,
        string="Invoice the Rest",
        default=quotes.DUE_ON_DELIVERY,
        required=True,
    )
    agency_quote_reminder_days = fields.Integer(
        string="Remind Before Expiry (days)",
        default=3,
        help="Email the client this many days before a sent quote expires, once. 0: no reminder.",
    )

    @api.constrains("agency_quote_deposit_percent", "agency_quote_reminder_days")
    def _check_agency_quote_defaults(self):
        for company in self:
            if not 0 < company.agency_quote_deposit_percent < 100:
                raise ValidationError(
                    self.env._("The default deposit must be more than 0 % and less than 100 %.")
                )
            if company.agency_quote_reminder_days < 0:
                raise ValidationError(
                    self.env._("The days before expiry cannot be negative (0: no reminder).")
                )
