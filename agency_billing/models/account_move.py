from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    agency_billing_run_id = fields.Many2one(
        "agency.billing.run", string="Billing Run", copy=False, readonly=True, index="btree_not_null"
    )

    def _agency_items(self):
        return self.line_ids.agency_item_id

    def write(self, vals):
        # Cancelling (or reviving) an invoice frees (or takes back) its periods:
        # the items' next date and state follow.
        if vals.get("state") not in ("cancel", "draft"):
            return super().write(vals)
        items = self._agency_items()
        res = super().write(vals)
        if items:
            items._update_billing_status()
        return res

    def unlink(self):
        items = self._agency_items()
        res = super().unlink()
        if items:
            items.exists()._update_billing_status()
        return res
