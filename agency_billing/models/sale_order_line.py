from odoo import api, fields, models

from .. import const, quotes


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    agency_item_ids = fields.One2many(
        "agency.billable.item", "sale_line_id", string="Billable Items", readonly=True, copy=False
    )

    # ------------------------------------------------------------------
    # ODOO'S INVOICING FIGURES
    # ------------------------------------------------------------------
    # Once a quote is accepted, the billing engine invoices its lines (its
    # quote invoices and billable items): Odoo's own invoicing finds nothing
    # left to invoice on them, so its "Create Invoice" never bills them again.
    @api.depends(
        "agency_item_ids.state",
        "order_id.agency_quote_charge_ids.state",
        "order_id.agency_quote_charge_ids.kind",
    )
    def _compute_qty_to_invoice(self):
        res = super()._compute_qty_to_invoice()
        for line in self:
            if line.qty_to_invoice and line._agency_is_billed_by_engine():
                line.qty_to_invoice = 0.0
        return res

    @api.depends("agency_item_ids.invoice_action")
    def _compute_untaxed_amount_to_invoice(self):
        res = super()._compute_untaxed_amount_to_invoice()
        for line in self.filtered(lambda sol: sol._agency_recurring_item()):
            # every period billed is linked to the line: what was ordered is
            # one period, and nothing of it is left to invoice once billed
            line.untaxed_amount_to_invoice = max(line.untaxed_amount_to_invoice, 0.0)
        return res

    @api.depends("agency_item_ids.invoice_action")
    def _compute_amount_to_invoice(self):
        res = super()._compute_amount_to_invoice()
        for line in self.filtered(lambda sol: sol._agency_recurring_item()):
            line.amount_to_invoice = max(line.amount_to_invoice, 0.0)
        return res

    def _agency_is_one_off(self):
        """A line invoiced once by the billing engine: a product at a fixed price (invoiced on
        ordered quantities), not a recurring service, not already a billable item."""
        self.ensure_one()
        product = self.product_id.product_tmpl_id
        return bool(
            not self.display_type
            and not self.is_downpayment
            and self.product_id
            and not product.agency_is_recurring
            and product.invoice_policy == "order"
            and not self.agency_item_ids
        )

    def _agency_item_name(self):
        """The line's first line of description, without the product's internal reference."""
        self.ensure_one()
        name = (self.name or self.product_id.name or "").split("\n")[0].strip()
        code = self.product_id.default_code
        if code and name.startswith(f"[{code}]"):
            name = name[len(code) + 2 :].strip()
        return name or self.product_id.name

    def _agency_recurring_item(self):
        self.ensure_one()
        return self.agency_item_ids.filtered(lambda i: i.invoice_action == const.ACTION_RECURRING)[:1]

    def _agency_is_billed_by_engine(self):
        """Whether a billable item or a pending quote invoice of the order bills this line."""
        self.ensure_one()
        if self.agency_item_ids.filtered(lambda i: i.state != const.STATE_STOPPED):
            return True
        pending = self.order_id.agency_quote_charge_ids.filtered(
            lambda c: c.state == quotes.CHARGE_PENDING and c.kind in (quotes.KIND_FULL, quotes.KIND_BALANCE)
        )
        return bool(pending) and (self.is_downpayment or self._agency_is_one_off())

    # ------------------------------------------------------------------
    # DESCRIPTION
    # ------------------------------------------------------------------
    def _get_sale_order_line_multiline_description_sale(self):
        description = super()._get_sale_order_line_multiline_description_sale()
        product = self.product_id.product_tmpl_id
        if product.agency_is_recurring and product.agency_recurring_rule_type:
            count = product.agency_recurring_count
            hint = self.env._("Billed %(period)s", period=product._agency_period_label())
            if count:
                hint += self.env._(", %(count)s times", count=count)
            description = f"{description}\n{hint}"
        return description

    # ------------------------------------------------------------------
    # DELIVERY
    # ------------------------------------------------------------------
    def write(self, vals):
        res = super().write(vals)
        if "qty_delivered" in vals:
            self.order_id._agency_bill_delivered()
        return res
