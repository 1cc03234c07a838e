from odoo import api, fields, models

from ..const import AUTOMATION_LEVELS


class ResPartner(models.Model):
    _inherit = "res.partner"

    billing_automation = fields.Selection(
        selection=AUTOMATION_LEVELS,
        string="Invoice Automation",
        company_dependent=True,
        help="What the billing run does with this client's invoices. "
        "Empty: the company's default (Settings > Billing).",
    )
    billing_automation_effective = fields.Selection(
        selection=AUTOMATION_LEVELS,
        string="Effective Invoice Automation",
        compute="_compute_billing_automation_effective",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("billing_automation", "commercial_partner_id.billing_automation")
    @api.depends_context("company")
    def _compute_billing_automation_effective(self):
        default = self.env.company.agency_billing_automation
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.billing_automation_effective = commercial.billing_automation or default
