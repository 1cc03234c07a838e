from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request
from odoo.tools.misc import format_date

from odoo.addons.sale.controllers import portal as sale_portal

from .. import quotes
from .portal import AgencyBillingPortal


def _expired_message(order_sudo):
    return request.env._(
        "This quote expired on %(date)s: it can no longer be accepted. Ask %(company)s for a new one.",
        date=format_date(request.env, order_sudo.validity_date),
        company=order_sudo.company_id.name,
    )


class AgencyQuotePortal(sale_portal.CustomerPortal):
    """Odoo's quote page, as accepted quotes need it: an expired quote is
    refused (however the request is made) and says so, and a declined one
    is lost with the client's reason."""

    @http.route()
    def portal_quote_accept(self, order_id, access_token=None, name=None, signature=None):
        access_token = access_token or request.httprequest.args.get("access_token")
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            return {"error": request.env._("Invalid order.")}
        if order_sudo.state in ("draft", "sent") and order_sudo.is_expired:
            return {"error": _expired_message(order_sudo)}
        return super().portal_quote_accept(
            order_id, access_token=access_token, name=name, signature=signature
        )

    @http.route()
    def portal_quote_decline(self, order_id, access_token=None, decline_message=None, **kwargs):
        response = super().portal_quote_decline(
            order_id, access_token=access_token, decline_message=decline_message, **kwargs
        )
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            return response
        if order_sudo.state == "cancel" and decline_message and not order_sudo.agency_lost_reason_id:
            reason = request.env.ref("agency_billing.quote_lost_reason_declined", raise_if_not_found=False)
            if reason:
                order_sudo.write({"agency_lost_reason_id": reason.id, "agency_lost_note": decline_message})
        return response


class AgencyQuotePaymentPortal(sale_portal.PaymentPortal):
    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token)
        except (AccessError, MissingError):
            return super().portal_order_transaction(order_id, access_token, **kwargs)
        if order_sudo.state in ("draft", "sent") and order_sudo.is_expired:
            raise ValidationError(_expired_message(order_sudo))
        return super().portal_order_transaction(order_id, access_token, **kwargs)


class AgencyQuoteChargesPortal(AgencyBillingPortal):
    """The client's upcoming charges also list what its accepted quotes still plan to invoice."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "agency_charge_count" in counters:
            values["agency_charge_count"] += len(self._agency_planned_quote_invoices())
        return values

    def _agency_planned_quote_invoices(self):
        Charge = request.env["agency.quote.charge"]
        if not Charge.has_access("read"):
            return Charge
        partner = request.env.user.partner_id.commercial_partner_id
        return Charge.search(
            [("partner_id", "=", partner.id), ("state", "=", quotes.CHARGE_PENDING)], order="order_id, id"
        )

    @http.route()
    def portal_my_upcoming_charges(self, page=1, **kw):
        response = super().portal_my_upcoming_charges(page=page, **kw)
        if getattr(response, "qcontext", None) is not None:
            # read through sudo only after the access-checked search
            response.qcontext["quote_charges"] = self._agency_planned_quote_invoices().sudo()
        return response
