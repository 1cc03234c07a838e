from odoo import fields, models

from .. import const, rounding


class ProjectProject(models.Model):
    _inherit = "project.project"

    agency_time_billable = fields.Selection(
        [
            (const.TIME_BILLABLE_CLIENT, "As the client's setting"),
            (const.TIME_BILLABLE_YES, "Billable"),
            (const.TIME_BILLABLE_NO, "Not billable"),
        ],
        string="Time Is Billable",
        default=const.TIME_BILLABLE_CLIENT,
        required=True,
    )
    agency_time_product_id = fields.Many2one(
        "product.product",
        string="Time Billed As",
        check_company=True,
        domain="[('type', '=', 'service')]",
        help="The service product of the invoice lines for this project's time "
        "(income account, taxes, and the rate when no rate rule applies). "
        "Empty: the company's default.",
    )
    agency_rounding_increment = fields.Integer(string="Round Time To (min)", help="0: the client's rounding.")
    agency_rounding_method = fields.Selection(rounding.METHODS, string="Rounding", default=rounding.UP)
    agency_rounding_minimum = fields.Integer(string="Minimum per Entry (min)")

    def _agency_is_internal(self):
        """The company's own project: no customer, or the company itself (or one of its contacts)."""
        self.ensure_one()
        company = (self.company_id or self.env.company).partner_id
        partner = self.partner_id
        while partner:
            if company in (partner, partner.commercial_partner_id):
                return True
            partner = partner.parent_id
        return not self.partner_id

    def action_agency_bill_time(self):
        """ "Bill time": this project's unbilled time up to a date."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "agency_billing.agency_billing_time_wizard_action"
        )
        action["context"] = {"default_project_ids": self.ids, "default_is_time_only": True}
        return action
