"""Portal: the client's transactions, automatic payment, paying online."""

from datetime import timedelta

from odoo import fields, http
from odoo.tests import tagged

from .common import AgencyPaymentHttpCase


@tagged("post_install", "-at_install")
class TestPortalPayments(AgencyPaymentHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.agency_credit_auto_apply = False
        cls.portal_user = cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls.other_portal_user = cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        today = fields.Date.today()
        cls.overdue_1 = cls._create_invoice_for(
            cls.client_a, 100.0, date=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        cls.overdue_2 = cls._create_invoice_for(
            cls.client_a, 50.0, date=today - timedelta(days=35), due=today - timedelta(days=5)
        )
        cls.current = cls._create_invoice_for(cls.client_a, 80.0, date=today, due=today + timedelta(days=30))
        cls._pay(cls.current, 30.0, date=today)
        cls.birch_invoice = cls._create_invoice_for(
            cls.client_b, 777.0, date=today - timedelta(days=40), due=today - timedelta(days=10)
        )

    def _page(self, url="/my/transactions"):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return response.text

    # ------------------------------------------------------------------
    # /my/transactions
    # ------------------------------------------------------------------
    def test_client_sees_its_own_transactions_and_balance(self):
        self.authenticate("acme_portal", "acme_portal")
        page = self._page()
        for invoice in self.overdue_1 | self.overdue_2 | self.current:
            self.assertIn(invoice.name, page)
        self.assertIn("Partly paid", page)
        self.assertIn("200.00", page, "the balance: 100 + 50 + 80 - 30")
        self.assertIn("to pay", page)
        self.assertNotIn(self.birch_invoice.name, page)
        self.assertNotIn("777.00", page)
        self.assertNotIn("BNK", page, "no journal codes shown to clients")

    def test_another_client_sees_only_its_own(self):
        self.authenticate("birch_portal", "birch_portal")
        page = self._page()
        self.assertIn(self.birch_invoice.name, page)
        self.assertNotIn(self.overdue_1.name, page)

    def test_changing_the_url_shows_nothing_else(self):
        self.authenticate("birch_portal", "birch_portal")
        for url in (
            f"/my/transactions?partner_id={self.client_a.id}",
            f"/my/transactions?filterby=invoices&partner_id={self.client_a.id}",
            "/my/transactions?filterby=unknown",
            "/my/transactions/page/2",
        ):
            self.assertNotIn(self.overdue_1.name, self._page(url))

    def test_filters(self):
        self.authenticate("acme_portal", "acme_portal")
        payments = self._page("/my/transactions?filterby=payments")
        self.assertNotIn(self.overdue_1.name, payments)
        self.assertIn("Payment", payments)
        invoices = self._page("/my/transactions?filterby=invoices")
        self.assertIn(self.overdue_1.name, invoices)

    def test_login_required_and_home_counter(self):
        response = self.url_open("/my/transactions", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("acme_portal", "acme_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_transaction_count"]})
        self.assertEqual(counters["agency_transaction_count"], 4)

    # ------------------------------------------------------------------
    # automatic payment, agreed from the portal
    # ------------------------------------------------------------------
    def test_client_turns_automatic_payment_on_and_off(self):
        card = self._create_token(self.client_a_contact)
        client = self.client_a.with_company(self.company)
        self.authenticate("acme_portal", "acme_portal")
        self.assertIn("Pay automatically", self._page())
        response = self.url_open(
            "/my/transactions/autopay",
            data={"enable": "1", "token_id": card.id, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertIn("autopay_saved", response.url)
        self.assertTrue(client.agency_autopay)
        self.assertEqual(client.agency_autopay_token_id, card)
        self.assertIn("turned automatic payment on", client.message_ids[0].body)
        self.assertIn("Stop automatic payment", response.text)
        self.url_open("/my/transactions/autopay", data={"csrf_token": http.Request.csrf_token(self)})
        client.invalidate_recordset()
        self.assertFalse(client.agency_autopay)

    def test_another_clients_card_is_refused(self):
        birch_card = self._create_token(self.client_b)
        self.authenticate("acme_portal", "acme_portal")
        response = self.url_open(
            "/my/transactions/autopay",
            data={"enable": "1", "token_id": birch_card.id, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertIn("autopay_error", response.url)
        self.assertFalse(self.client_a.with_company(self.company).agency_autopay)
        self.assertFalse(self.client_b.with_company(self.company).agency_autopay)

    def test_invoice_page_says_when_it_is_charged(self):
        self._enable_autopay(self.client_a, agency_autopay_timing="before_due", agency_autopay_days_before=2)
        invoice = self._create_invoice_for(
            self.client_a, 60.0, date=fields.Date.today(), due=fields.Date.today() + timedelta(days=20)
        )
        self.authenticate("acme_portal", "acme_portal")
        self.assertIn("will be paid automatically", self._page(invoice.get_portal_url()))

    # ------------------------------------------------------------------
    # paying overdue invoices of the client, as a contact of the client
    # ------------------------------------------------------------------
    def test_contact_pays_the_clients_overdue_invoices(self):
        self.authenticate("acme_portal", "acme_portal")
        self.assertIn('href="/my/invoices/overdue"', self._page("/my/invoices"))
        page = self._page("/my/invoices/overdue")
        self.assertIn("150.00", page, "both overdue invoices of the client, and only them")
        self.assertNotIn("777.00", page)
        values = self.make_jsonrpc_request(
            "/invoice/transaction/overdue",
            {
                "payment_reference": "BATCH",
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": 150.0,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/my/invoices",
            },
        )
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", values["reference"])])
        self.assertEqual(tx.invoice_ids, self.overdue_1 | self.overdue_2)
        self.assertEqual(tx.amount, 150.0)

    def test_portal_user_pays_an_invoice_in_the_browser(self):
        self.start_tour(self.overdue_1.get_portal_url(), "agency_billing_portal_pay", login="acme_portal")
        self.assertIn(self.overdue_1.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.overdue_1.amount_residual, 0.0)
        tx = self.overdue_1.transaction_ids
        self.assertEqual((tx.state, tx.provider_id), ("done", self.provider))

    def test_portal_user_pays_all_overdue_invoices_in_the_browser(self):
        self.start_tour("/my/invoices", "agency_billing_portal_pay_overdue", login="acme_portal")
        for invoice in self.overdue_1 | self.overdue_2:
            self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self.current.amount_residual, 50.0, "not overdue: not paid")
        self.assertEqual(self.birch_invoice.amount_residual, 777.0)
