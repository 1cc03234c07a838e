from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    agency_setup_fee_id = fields.Many2one("agency.setup.fee", index="btree_not_null", copy=False)

    # exactly once: a fee is on at most one invoice that is not cancelled
    _agency_setup_fee_exactly_once = models.UniqueIndex(
        "(agency_setup_fee_id) WHERE agency_setup_fee_id IS NOT NULL AND parent_state <> 'cancel'"
    )
