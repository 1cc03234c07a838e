from odoo import fields, models
from odoo.exceptions import UserError


class AgencyQuoteLostWizard(models.TransientModel):
    """Mark quotes as lost: cancelled, with the reason kept for the quotes' reports."""

    _name = "agency.quote.lost.wizard"
    _description = "Mark Quotes as Lost"

    order_ids = fields.Many2many("sale.order", string="Quotes", required=True)
    reason_id = fields.Many2one("agency.quote.lost.reason", required=True)
    note = fields.Text(string="Details")

    def action_mark_lost(self):
        self.ensure_one()
        orders = self.order_ids
        not_quotes = orders.filtered(lambda o: o.state not in ("draft", "sent"))
        if not_quotes:
            raise UserError(
                self.env._(
                    "%(order)s is not an open quote: only a draft or sent quote can be lost.",
                    order=not_quotes[0].name,
                )
            )
        orders._action_cancel()
        orders.write({"agency_lost_reason_id": self.reason_id.id, "agency_lost_note": self.note or False})
        for order in orders:
            order.message_post(
                body=self.env._(
                    "Quote lost: %(reason)s%(note)s",
                    reason=self.reason_id.name,
                    note=f" ({self.note})" if self.note else "",
                ),
                subtype_xmlid="mail.mt_note",
            )
        return {"type": "ir.actions.act_window_close"}
