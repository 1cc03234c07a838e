from odoo import fields, models

from .. import const


class AgencyBillingRunLog(models.Model):
    _name = "agency.billing.run.log"
    _description = "Billing Run Log Line"
    _order = "run_id desc, id"

    run_id = fields.Many2one("agency.billing.run", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Client", index=True)
    level = fields.Selection(const.LOG_LEVELS, required=True)
    message = fields.Text()
    item_ids = fields.Many2many("agency.billable.item", string="Items")
    move_ids = fields.Many2many("account.move", string="Invoices")
