from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import ValidationError
from odoo.fields import Command, Domain
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount

from .. import dunning

# The client's page shows the charges of the next this many days, at most this many rows.
FORECAST_DAYS = 90
FORECAST_ROWS = 12


class AgencyBillingPagePortal(PortalAccount):
    """The client's billing page (/my/billing): what it owes and pays online,
    its credit, what will be invoiced next, and its unbilled time when its
    settings show it.

    Only ever the logged-in user's own client (its commercial partner): no
    client id is read from the URL; a company or currency in a URL only
    chooses among the client's own open invoices.
    """

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "agency_billing_count" in counters:
            client = self._agency_billing_client()
            values["agency_billing_count"] = len(self._agency_invoices_to_pay(client)) + len(
                self._agency_forecast(client)
            )
        return values

    # ------------------------------------------------------------------
    # FIGURES (each restricted to the logged-in user's client)
    # ------------------------------------------------------------------
    def _agency_billing_client(self):
        return request.env.user.partner_id.commercial_partner_id

    def _agency_invoices_to_pay(self, client, company_id=None, currency_id=None):
        """The client's posted invoices still to pay, oldest due first (as superuser:
        a contact of the client sees and pays all of the client's invoices)."""
        domain = Domain.AND(
            [
                Domain("commercial_partner_id", "=", client.id),
                Domain("move_type", "in", dunning.REMINDED_MOVE_TYPES),
                Domain("state", "=", "posted"),
                Domain("payment_state", "in", dunning.OPEN_PAYMENT_STATES),
            ]
        )
        if company_id is not None:
            domain &= Domain("company_id", "=", company_id)
        if currency_id is not None:
            domain &= Domain("currency_id", "=", currency_id)
        return request.env["account.move"].sudo().search(domain, order="invoice_date_due, id")

    def _agency_balances(self, invoices, today):
        """[{company, currency, amount, overdue, count}]: what the client owes, per company and currency."""
        balances = {}
        for invoice in invoices:
            key = (invoice.company_id, invoice.currency_id)
            balance = balances.setdefault(
                key, {"company": key[0], "currency": key[1], "amount": 0.0, "overdue": 0.0, "count": 0}
            )
            balance["amount"] += invoice.amount_residual
            balance["count"] += 1
            if invoice.invoice_date_due and invoice.invoice_date_due < today:
                balance["overdue"] += invoice.amount_residual
        return list(balances.values())

    def _agency_credit(self, client):
        """[(company, currency, amount)]: the client's credit not used yet (open credit
        notes, payments not applied), from its open receivable journal items."""
        AML = request.env["account.move.line"].sudo()
        groups = AML._read_group(
            [
                ("partner_id", "child_of", client.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual_currency", "<", 0),
            ],
            groupby=["company_id", "currency_id"],
            aggregates=["amount_residual_currency:sum"],
        )
        return [
            (company, currency, -amount)
            for company, currency, amount in groups
            if not currency.is_zero(amount)
        ]

    def _agency_forecast_domain(self, client):
        today = fields.Date.context_today(request.env.user)
        return Domain("partner_id", "=", client.id) & Domain(
            "date", "<=", today + timedelta(days=FORECAST_DAYS)
        )

    def _agency_forecast_model(self, client):
        # the forecast of this client's items only: the page costs the same whatever the number of clients
        return request.env["agency.billing.forecast"].with_context(agency_forecast_partner_ids=client.ids)

    def _agency_forecast(self, client, limit=None):
        Forecast = self._agency_forecast_model(client)
        if not Forecast.has_access("read"):
            return Forecast
        return Forecast.search(self._agency_forecast_domain(client), limit=limit)

    def _agency_forecast_totals(self, client):
        groups = self._agency_forecast_model(client)._read_group(
            self._agency_forecast_domain(client),
            groupby=["currency_id"],
            aggregates=["amount:sum", "__count"],
        )
        return [
            {"currency": currency, "amount": amount, "count": count} for currency, amount, count in groups
        ]

    def _agency_unbilled_time(self, client):
        """[{company, hours, amount}] of time to bill, when the client's setting shows its time."""
        if not client.sudo().agency_portal_show_time:
            return []
        today = fields.Date.context_today(request.env.user)
        AAL = request.env["account.analytic.line"].sudo()
        groups = AAL._read_group(
            Domain("partner_id", "child_of", client.id)
            & Domain("project_id", "!=", False)
            & Domain("agency_billing_state", "=", "to_bill")
            & Domain("date", "<=", today),
            groupby=["company_id"],
            aggregates=["agency_quantity:sum", "agency_amount_expected:sum"],
        )
        return [
            {"company": company, "hours": hours, "amount": company.currency_id.round(amount)}
            for company, hours, amount in groups
            if hours
        ]

    # ------------------------------------------------------------------
    # ROUTES
    # ------------------------------------------------------------------
    @http.route(["/my/billing"], type="http", auth="user", website=True)
    def portal_my_billing(self, **kw):
        client = self._agency_billing_client()
        today = fields.Date.context_today(request.env.user)
        invoices = self._agency_invoices_to_pay(client)
        forecast = self._agency_forecast(client, limit=FORECAST_ROWS)
        forecast_totals = self._agency_forecast_totals(client) if forecast else []
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "agency_billing",
                "client": client.sudo(),
                "today": today,
                "invoices": invoices,
                "balances": self._agency_balances(invoices, today),
                "credits": self._agency_credit(client),
                # read through sudo only after the access-checked search: projects
                # and products are shown by name, never opened
                "forecast": forecast.sudo(),
                "forecast_totals": forecast_totals,
                "forecast_more": sum(total["count"] for total in forecast_totals) - len(forecast),
                "forecast_days": FORECAST_DAYS,
                "unbilled_time": self._agency_unbilled_time(client),
                "is_multi_company": len(invoices.company_id) > 1,
            }
        )
        return request.render("agency_billing.portal_my_billing", values)

    @http.route(
        ["/my/billing/pay/<int:company_id>/<int:currency_id>"], type="http", auth="user", website=True
    )
    def portal_my_billing_pay(self, company_id, currency_id, **kw):
        """Pay every open invoice of one company and currency in one online payment."""
        client = self._agency_billing_client()
        invoices = self._agency_invoices_to_pay(client, company_id=company_id, currency_id=currency_id)
        if not invoices:
            return request.redirect("/my/billing")
        company, currency = invoices.company_id, invoices.currency_id
        amount = currency.round(sum(invoices.mapped("amount_residual")))
        reference = company.get_next_batch_payment_communication() if len(invoices) > 1 else invoices.name
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "agency_billing_pay",
                "invoices": invoices,
                "amount": amount,
                "currency": currency,
                "payment_reference": reference,
            }
        )
        values |= self._get_common_page_view_values(
            invoices_data={
                "partner": request.env.user.partner_id,
                "company": company,
                "total_amount": amount,
                "currency": currency,
                "amount_residual": amount,
                "payment_reference": reference,
                "landing_route": "/my/billing",
                "transaction_route": f"/my/billing/pay/{company.id}/{currency.id}/transaction",
            },
            **kw,
        )
        return request.render("agency_billing.portal_my_billing_pay", values)

    @http.route("/my/billing/pay/<int:company_id>/<int:currency_id>/transaction", type="jsonrpc", auth="user")
    def portal_my_billing_pay_transaction(self, company_id, currency_id, payment_reference=None, **kwargs):
        """The transaction paying the client's open invoices of one company and currency:
        for what they still owe, whatever amount the page sent."""
        client = self._agency_billing_client()
        invoices = self._agency_invoices_to_pay(client, company_id=company_id, currency_id=currency_id)
        if not invoices:
            raise ValidationError(request.env._("There is nothing left to pay."))
        self._validate_transaction_kwargs(kwargs)
        kwargs["amount"] = invoices.currency_id.round(sum(invoices.mapped("amount_residual")))
        tx_sudo = self._create_transaction(
            partner_id=request.env.user.partner_id.id,
            currency_id=invoices.currency_id.id,
            reference_prefix=payment_reference,
            custom_create_values={"invoice_ids": [Command.set(invoices.ids)]},
            **kwargs,
        )
        return tx_sudo._get_processing_values()
