from odoo import fields, models

from .. import dunning


class AgencyReminderRunLog(models.Model):
    _name = "agency.reminder.run.log"
    _description = "Reminder Run Log Line"
    _order = "run_id desc, id"

    run_id = fields.Many2one("agency.reminder.run", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Client", index=True)
    level = fields.Selection(dunning.LOG_LEVELS, required=True)
    message = fields.Text()
    move_ids = fields.Many2many("account.move", string="Invoices")
