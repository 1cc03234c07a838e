from odoo import fields, models
from odoo.exceptions import UserError

from .. import const


class AgencyBillingTimeWizard(models.TransientModel):
    """ "Bill time": a client's or a project's unbilled time up to a date."""

    _name = "agency.billing.time.wizard"
    _description = "Bill Time"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date = fields.Date(string="Time Up To", required=True, default=fields.Date.context_today)
    partner_ids = fields.Many2many("res.partner", string="Clients")
    project_ids = fields.Many2many("project.project", string="Projects")

    def action_bill_time(self):
        self.ensure_one()
        if self.date > fields.Date.context_today(self):
            raise UserError(
                self.env._("Time cannot be billed ahead of today: pick today or an earlier date.")
            )
        partners = self.partner_ids.commercial_partner_id | self.project_ids.partner_id.commercial_partner_id
        run = self.env["agency.billing.run"]._run_now(
            self.company_id,
            self.date,
            partners=partners,
            trigger="time",
            projects=self.project_ids,
            source="account.analytic.line",
        )
        if run.state == const.RUN_DONE and not run.invoice_count and not run.log_ids:
            raise UserError(self.env._("There is no unbilled billable time up to that date."))
        return run._get_result_action()
