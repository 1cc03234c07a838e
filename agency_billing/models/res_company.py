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
