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

    # Reminders, late fees and overdue alerts (issue #13)
    agency_reminder_plan_id = fields.Many2one(related="company_id.agency_reminder_plan_id", readonly=False)
    agency_late_fee_cancel_if_paid = fields.Boolean(
        related="company_id.agency_late_fee_cancel_if_paid", readonly=False
    )
    agency_overdue_digest = fields.Boolean(related="company_id.agency_overdue_digest", readonly=False)

    def set_values(self):
        res = super().set_values()
        # switching online payment on: every reminder email must carry the pay link
        self.env["mail.template"].search([("model", "=", "agency.reminder")])._agency_check_pay_link()
        return res
