from odoo import fields, models

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
