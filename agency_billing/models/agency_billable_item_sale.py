from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Command


class AgencyBillableItem(models.Model):
    """Billable items made from an accepted quote's lines.

    Each invoice line of such an item is linked to its order line (Odoo's
    ``sale_line_ids``), with the order line's unit, discount and taxes, so
    that the order's invoiced quantities and status follow what the billing
    run bills. (Kept apart from the item's own file: the sales side of items.)
    """

    _inherit = "agency.billable.item"

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Order Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id", string="From Order", store=True, index="btree_not_null"
    )
    discount = fields.Float(string="Discount (%)", digits="Discount", default=0.0)

    # one live item per order line, whatever triggers the quote's acceptance
    _one_item_per_sale_line = models.UniqueIndex(
        "(sale_line_id) WHERE sale_line_id IS NOT NULL AND state <> 'stopped'",
        "This order line already has a billable item.",
    )

    @api.depends("discount")
    def _compute_amount_untaxed(self):
        res = super()._compute_amount_untaxed()
        for item in self.filtered("discount"):
            item.amount_untaxed = item.currency_id.round(
                item.quantity * item.price_unit * (1 - item.discount / 100.0)
            )
        return res

    @api.constrains("discount")
    def _check_discount(self):
        for item in self:
            if not 0 <= item.discount <= 100:
                raise ValidationError(
                    self.env._("The discount of “%(item)s” must be between 0 and 100 %%.", item=item.name)
                )

    def _prepare_invoice_line_vals(self, period, fiscal_position=None, lang=None):
        vals = super()._prepare_invoice_line_vals(period, fiscal_position=fiscal_position, lang=lang)
        if self.discount:
            vals["discount"] = self.discount
        line = self.sale_line_id
        if line:
            vals["sale_line_ids"] = [Command.link(line.id)]
            vals["product_uom_id"] = line.product_uom_id.id
            # the taxes the client accepted on the quote (already those of its fiscal position)
            vals["tax_ids"] = [Command.set(self.tax_ids.ids)]
            if line.analytic_distribution and "analytic_distribution" not in vals:
                vals["analytic_distribution"] = line.analytic_distribution
        return vals

    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "views": [(False, "form")],
        }
