from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import quotes
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
