from collections import OrderedDict

from odoo import http
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import pager as portal_pager

from .. import payments

TRANSACTIONS_PER_PAGE = 30


class AgencyPaymentPortal(PortalAccount):
    """The client's transactions, its automatic payment, and paying all
    overdue invoices of the client (not only those addressed to the user)."""

    # ------------------------------------------------------------------
    # Transactions
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "agency_transaction_count" in counters:
            Transaction = request.env["agency.client.transaction"]
            values["agency_transaction_count"] = (
                Transaction.search_count(self._get_transactions_domain())
                if Transaction.has_access("read")
                else 0
            )
        return values

    def _get_transactions_domain(self):
        # The record rule already limits portal users to their own client;
        # the domain says it again so that internal users see the same page.
        partner = request.env.user.partner_id.commercial_partner_id
        return Domain("partner_id", "=", partner.id)

    def _get_transactions_searchbar_filters(self):
        env = request.env
        return OrderedDict(
            [
                ("all", {"label": env._("All"), "domain": Domain.TRUE}),
                (
                    "invoices",
                    {
                        "label": env._("Invoices"),
                        "domain": Domain("transaction_type", "=", payments.TX_INVOICE),
                    },
                ),
                (
                    "payments",
                    {
                        "label": env._("Payments and Refunds"),
                        "domain": Domain("transaction_type", "in", [payments.TX_PAYMENT, payments.TX_REFUND]),
                    },
                ),
                (
                    "credits",
                    {
                        "label": env._("Credit"),
                        "domain": Domain(
                            "transaction_type", "in", [payments.TX_CREDIT_NOTE, payments.TX_APPLIED]
                        ),
                    },
                ),
            ]
        )

    @http.route(
        ["/my/transactions", "/my/transactions/page/<int:page>"], type="http", auth="user", website=True
    )
    def portal_my_transactions(self, page=1, filterby=None, **kw):
        Transaction = request.env["agency.client.transaction"]
        filters = self._get_transactions_searchbar_filters()
        filterby = filterby if filterby in filters else "all"
        domain = self._get_transactions_domain() & filters[filterby]["domain"]
        readable = Transaction.has_access("read")
        total = Transaction.search_count(domain) if readable else 0
        pager = portal_pager(
            url="/my/transactions",
            url_args={"filterby": filterby},
            total=total,
            page=page,
            step=TRANSACTIONS_PER_PAGE,
        )
        rows = (
            Transaction.search(domain, limit=TRANSACTIONS_PER_PAGE, offset=pager["offset"])
            if total
            else Transaction
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "agency_transactions",
                "pager": pager,
                "transactions": rows,
                "balances": self._get_transaction_balances() if readable else [],
                "searchbar_filters": filters,
                "filterby": filterby,
                "default_url": "/my/transactions",
                **self._get_autopay_values(),
            }
        )
        return request.render("agency_billing.portal_my_transactions", values)

    def _get_transaction_balances(self):
        """[(company, currency, balance)]: what the client owes (negative: its credit)."""
        groups = request.env["agency.client.transaction"]._read_group(
            self._get_transactions_domain(),
            groupby=["company_id", "company_currency_id"],
            aggregates=["debit:sum", "credit:sum"],
        )
        return [
            (company, currency, currency.round(debit - credit)) for company, currency, debit, credit in groups
        ]

    # ------------------------------------------------------------------
    # Automatic payment: the client agrees (or stops) from the portal
    # ------------------------------------------------------------------
    def _get_autopay_client(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return partner.sudo().with_company(request.env.company)

    def _get_autopay_tokens(self):
        """The client's saved payment methods with the company's providers."""
        client = self._get_autopay_client()
        return (
            request.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", client.id),
                    ("company_id", "=", request.env.company.id),
                    ("provider_id.state", "!=", "disabled"),
                ],
                order="id desc",
            )
        )

    def _get_autopay_values(self):
        client = self._get_autopay_client()
        return {
            "autopay_client": client,
            "autopay_enabled": client.agency_autopay,
            "autopay_token": client.agency_autopay_token_id,
            "autopay_tokens": self._get_autopay_tokens(),
        }

    @http.route("/my/transactions/autopay", type="http", auth="user", methods=["POST"], website=True)
    def portal_my_autopay(self, token_id=None, enable=None, **kw):
        client = self._get_autopay_client()
        user = request.env.user
        if enable:
            token = self._get_autopay_tokens().filtered(lambda t: str(t.id) == str(token_id))
            if not token:
                return request.redirect("/my/transactions?autopay_error=1")
            client.write({"agency_autopay": True, "agency_autopay_token_id": token.id})
            body = request.env._(
                "%(user)s turned automatic payment on from the portal, with %(token)s.",
                user=user.name,
                token=token.display_name,
            )
        elif client.agency_autopay:
            client.write({"agency_autopay": False})
            body = request.env._("%(user)s turned automatic payment off from the portal.", user=user.name)
        else:
            return request.redirect("/my/transactions")
        client.message_post(body=body, subtype_xmlid="mail.mt_note")
        return request.redirect("/my/transactions?autopay_saved=1")

    # ------------------------------------------------------------------
    # Paying the overdue invoices of the client
    # ------------------------------------------------------------------
    def _get_overdue_invoices_domain(self, partner_id=None):
        """Odoo's "Pay overdue" pays the invoices addressed to the user itself;
        an agency's client is a company whose people log in as its contacts:
        they pay the client's overdue invoices. One payment is for one
        company, currency and invoice address (the oldest overdue invoice's);
        the rest, if any, is paid the next time."""
        domain = super()._get_overdue_invoices_domain(partner_id=partner_id)
        if partner_id:
            return domain
        client = request.env.user.partner_id.commercial_partner_id
        domain = [
            ("commercial_partner_id", "=", client.id) if leaf[0] == "partner_id" else leaf for leaf in domain
        ]
        Move = request.env["account.move"]
        if Move.has_access("read"):
            oldest = Move.search(domain, order="invoice_date_due, id", limit=1)
            if oldest:
                domain += [
                    ("company_id", "=", oldest.company_id.id),
                    ("currency_id", "=", oldest.currency_id.id),
                    ("partner_id", "=", oldest.partner_id.id),
                ]
        return domain
