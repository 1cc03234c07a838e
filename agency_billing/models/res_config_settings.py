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
