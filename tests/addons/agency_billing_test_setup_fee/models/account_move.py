from odoo import api, models


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _agency_fast_line_keys(self):
        # a link to the fee changes no amount: invoices keep the one-go way
        return super()._agency_fast_line_keys() | {"agency_setup_fee_id"}
