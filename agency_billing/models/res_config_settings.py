from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    agency_billing_automation = fields.Selection(
        related="company_id.agency_billing_automation",
        readonly=False,
    )
    agency_time_product_id = fields.Many2one(
        related="company_id.agency_time_product_id",
        readonly=False,
    )

    # accepted quotes
    agency_quote_acceptance = fields.Selection(related="company_id.agency_quote_acceptance", readonly=False)
    agency_quote_deposit_percent = fields.Float(
        related="company_id.agency_quote_deposit_percent", readonly=False
    )
    agency_quote_balance_trigger = fields.Selection(
        related="company_id.agency_quote_balance_trigger", readonly=False
    )
    agency_quote_reminder_days = fields.Integer(
        related="company_id.agency_quote_reminder_days", readonly=False
    )
