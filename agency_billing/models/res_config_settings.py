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

    # Payments: credit and automatic charging
    agency_credit_auto_apply = fields.Boolean(related="company_id.agency_credit_auto_apply", readonly=False)
    agency_autopay_timing = fields.Selection(related="company_id.agency_autopay_timing", readonly=False)
    agency_autopay_days_before = fields.Integer(
        related="company_id.agency_autopay_days_before", readonly=False
    )
    agency_autopay_retry_days = fields.Char(related="company_id.agency_autopay_retry_days", readonly=False)
