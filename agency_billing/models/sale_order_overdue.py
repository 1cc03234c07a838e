from odoo import api, fields, models
from odoo.tools.misc import format_amount


class SaleOrder(models.Model):
    _inherit = "sale.order"

    agency_overdue_warning = fields.Char(
        string="Overdue Warning",
        compute="_compute_agency_overdue_warning",
        help="Shown on quotations and orders of a client with overdue invoices.",
    )

    @api.depends("partner_id", "company_id")
    def _compute_agency_overdue_warning(self):
        for order in self:
            order.agency_overdue_warning = False
            client = order.partner_id.commercial_partner_id
            if not client or order.state == "cancel":
                continue
            # the figures are facts for anyone who sells to the client
            client = client.sudo().with_company(order.company_id)
            if not client.agency_overdue_count:
                continue
            values = {
                "client": client.name,
                "count": client.agency_overdue_count,
                "amount": format_amount(
                    self.env, client.agency_overdue_amount, client.agency_overdue_currency_id
                ),
                "days": client.agency_overdue_days,
            }
            if client.agency_overdue_count == 1:
                order.agency_overdue_warning = self.env._(
                    "%(client)s has an overdue invoice: %(amount)s due, %(days)s days late.", **values
                )
            else:
                order.agency_overdue_warning = self.env._(
                    "%(client)s has %(count)s overdue invoices: %(amount)s due, the oldest %(days)s days late.",
                    **values,
                )

    def action_agency_view_overdue_invoices(self):
        self.ensure_one()
        return self.partner_id.commercial_partner_id.action_agency_view_overdue_invoices()
