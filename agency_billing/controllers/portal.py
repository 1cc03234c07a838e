from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from .. import const

ITEMS_PER_PAGE = 40


class AgencyBillingPortal(CustomerPortal):
    """The client's upcoming charges: its own pending and recurring items."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "agency_charge_count" in counters:
            Item = request.env["agency.billable.item"]
            values["agency_charge_count"] = (
                Item.search_count(self._get_upcoming_charges_domain()) if Item.has_access("read") else 0
            )
        return values

    def _get_upcoming_charges_domain(self):
        # The record rule already limits portal users to their own client;
        # the domain says it again so that internal users see the same page.
        partner = request.env.user.partner_id.commercial_partner_id
        return Domain.AND(
            [
                Domain("partner_id", "=", partner.id),
                Domain("state", "in", [const.STATE_PENDING, const.STATE_PAUSED]),
                Domain("invoice_action", "!=", const.ACTION_HOLD),
            ]
        )

    @http.route(["/my/charges", "/my/charges/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_upcoming_charges(self, page=1, **kw):
        Item = request.env["agency.billable.item"]
        domain = self._get_upcoming_charges_domain()
        total = Item.search_count(domain) if Item.has_access("read") else 0
        pager = portal_pager(url="/my/charges", total=total, page=page, step=ITEMS_PER_PAGE)
        items = (
            Item.search(domain, order="next_invoice_date, id", limit=ITEMS_PER_PAGE, offset=pager["offset"])
            if total
            else Item
        )
        values = self._prepare_portal_layout_values()
        totals = {}
        for item in items.sudo():
            totals.setdefault(item.currency_id, 0.0)
            totals[item.currency_id] += item.amount_untaxed
        values.update(
            {
                "page_name": "agency_charges",
                "pager": pager,
                # read through sudo only after the access-checked search: products
                # and taxes are shown by name, never opened
                "charges": items.sudo(),
                "totals": [{"currency": currency, "amount": amount} for currency, amount in totals.items()],
                "default_url": "/my/charges",
            }
        )
        return request.render("agency_billing.portal_my_upcoming_charges", values)

    @http.route(["/my/invoices/<int:invoice_id>/time"], type="http", auth="public", website=True)
    def portal_my_invoice_time(self, invoice_id, access_token=None, **kw):
        """The timesheet entries an invoice billed, when the client's setting shows them."""
        try:
            invoice_sudo = self._document_check_access("account.move", invoice_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        if invoice_sudo.state != "posted" or not invoice_sudo._agency_portal_shows_time():
            return request.not_found()
        billed = invoice_sudo.line_ids.agency_timesheet_billing_ids.filtered(lambda b: not b.is_released)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "agency_invoice_time",
                "invoice": invoice_sudo,
                "billed": billed.sorted(lambda b: (b.analytic_line_id.date, b.id)),
            }
        )
        return request.render("agency_billing.portal_invoice_time", values)
