from odoo import fields, models
from odoo.fields import Command

from .. import quotes


class AgencyBillingRun(models.Model):
    """The billing run, as accepted quotes use it: a run started by an
    acceptance (or a delivery) bills only that quote's invoices, and invoices
    made from orders say so (origin, client reference, online payments)."""

    _inherit = "agency.billing.run"

    trigger = fields.Selection(
        selection_add=[(quotes.RUN_TRIGGER_QUOTE, "Quote accepted")],
        ondelete={quotes.RUN_TRIGGER_QUOTE: lambda runs: runs.write({"trigger": "manual"})},
    )
    scope_quote_charge_ids = fields.Many2many(
        "agency.quote.charge", string="Only Quote Invoices", readonly=True
    )

    def _prepare_invoice_vals(self, partner, plan, batch):
        vals = super()._prepare_invoice_vals(partner, plan, batch)
        charges = plan["charges"]
        quote_charges = self.env["agency.quote.charge"].concat(
            *(c.records for c in charges if c.source == "agency.quote.charge")
        )
        items = self.env["agency.billable.item"].concat(
            *(c.records for c in charges if c.source == "agency.billable.item")
        )
        orders = quote_charges.order_id | items.sale_order_id
        if not orders:
            return vals
        if all(
            (c.source == "agency.quote.charge")
            or (c.source == "agency.billable.item" and c.records.sale_order_id)
            for c in charges
        ):
            # every line comes from an order: the invoice says which, as Odoo's own does
            vals["invoice_origin"] = ", ".join(orders.mapped("name"))
            references = [ref for ref in orders.mapped("client_order_ref") if ref]
            if references:
                vals["ref"] = ", ".join(references)
        # online payments of the quote are settled with its invoices (as Odoo's _prepare_invoice does)
        transactions = quote_charges.order_id.sudo().transaction_ids.filtered(
            lambda tx: (
                tx.state in ("pending", "authorized")
                or (tx.state == "done" and not tx.payment_id.is_reconciled)
            )
        )
        if transactions:
            vals["transaction_ids"] = [Command.set(transactions.ids)]
        return vals
