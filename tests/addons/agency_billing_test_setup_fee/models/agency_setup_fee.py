from odoo import api, fields, models

from odoo.addons.agency_billing.charges import Charge


class AgencySetupFee(models.Model):
    """A one-off setup fee: billed once by the next billing run, as its own kind of charge."""

    _name = "agency.setup.fee"
    _inherit = ["agency.charge.source"]
    _description = "Setup Fee"

    partner_id = fields.Many2one("res.partner", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    product_id = fields.Many2one("product.product", required=True)
    amount = fields.Float(required=True)
    invoice_line_ids = fields.One2many("account.move.line", "agency_setup_fee_id")

    @api.model
    def _agency_due_domain(self, run):
        return [
            ("company_id", "=", run.company_id.id),
            ("invoice_line_ids", "not any", [("parent_state", "!=", "cancel")]),
        ]

    @api.model
    def _agency_due_partner_ids(self, run):
        return set(self.search(self._agency_due_domain(run)).partner_id.ids)

    @api.model
    def _agency_get_charges(self, batch, partners):
        fees = self.search([*self._agency_due_domain(batch.run), ("partner_id", "in", partners.ids)])
        return [
            Charge(self._name, fee.partner_id, fee.company_id.currency_id, self.env["project.project"], fee)
            for fee in fees
        ]

    @api.model
    def _prepare_agency_invoice_line_vals(self, charge, invoice_vals):
        fee = charge.records
        fiscal_position = self.env["account.fiscal.position"].browse(invoice_vals.get("fiscal_position_id"))
        taxes = fiscal_position.map_tax(fee.product_id.taxes_id._filter_taxes_by_company(fee.company_id))
        return {
            "name": f"Setup fee: {fee.product_id.name}",
            "product_id": fee.product_id.id,
            "quantity": 1.0,
            "price_unit": fee.amount,
            "tax_ids": [fields.Command.set(taxes.ids)],
            "agency_setup_fee_id": fee.id,
        }
