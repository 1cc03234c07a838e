from odoo import fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    agency_billing_run_id = fields.Many2one(
        "agency.billing.run", string="Billing Run", copy=False, readonly=True, index="btree_not_null"
    )

    agency_credited_time_count = fields.Integer(compute="_compute_agency_credited_time_count")

    def _compute_agency_credited_time_count(self):
        for move in self:
            move.agency_credited_time_count = len(move._agency_credited_time())

    def _agency_credited_time(self):
        """On a credit note: the billed time of the credited invoice not released yet."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env["agency.timesheet.billing"]
        return self.reversed_entry_id.line_ids.agency_timesheet_billing_ids.filtered(
            lambda billing: not billing.is_released
        )

    def action_agency_release_credited_time(self):
        """On a credit note: the credited invoice's time can be billed again."""
        for move in self:
            if move.move_type != "out_refund" or move.state != "posted" or not move.reversed_entry_id:
                raise UserError(
                    self.env._("Only a posted credit note releases the time of the invoice it credits.")
                )
            billed = move._agency_credited_time()
            if not billed:
                raise UserError(self.env._("The credited invoice has no billed time left to release."))
            billed.sudo().write({"is_released": True})
            move.message_post(
                body=self.env._(
                    "%(count)s timesheet entries of %(invoice)s were released to be billed again.",
                    count=len(billed),
                    invoice=move.reversed_entry_id.display_name,
                )
            )
        return True

    def _agency_portal_shows_time(self):
        self.ensure_one()
        return bool(
            self.move_type == "out_invoice"
            and self.commercial_partner_id.agency_portal_show_time
            and self.line_ids.agency_timesheet_billing_ids
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
