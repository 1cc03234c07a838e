"""The Billing Overview and the client's billing page, in Chromium and over HTTP."""

from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import format_date

from .common import AgencyPaymentHttpCase


@tagged("post_install", "-at_install")
class TestOverviewBrowser(AgencyPaymentHttpCase):
    def test_billing_manager_opens_the_overview(self):
        """The Billing app opens on the Overview; its figures are on screen and a
        click opens the records behind one."""
        today = self._today()
        self._create_invoice_for(self.client_a, 120.0, due=today + timedelta(days=10))
        late = self._create_invoice_for(
            self.client_b, 300.0, date=today - timedelta(days=75), due=today - timedelta(days=45)
        )
        self._create_recurring(today.replace(day=1), price_unit=100.0)
        data = self.env["agency.billing.overview"].get_overview_data()
        self.assertEqual((data["open"]["amount"], data["overdue"]["amount"]), (420.0, 300.0))
        self.assertEqual(late.amount_residual, 300.0)
        self.start_tour("/odoo", "agency_billing_overview", login=self.billing_manager.login)


@tagged("post_install", "-at_install")
class TestBillingPage(AgencyPaymentHttpCase):
    """/my/billing: the client's own figures only, whatever the URL says."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = cls._today()
        cls.portal_user = cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls.other_portal_user = cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        cls.acme_overdue = cls._create_invoice_for(
            cls.client_a, 80.0, date=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        cls.acme_open = cls._create_invoice_for(cls.client_a, 150.0, due=today + timedelta(days=20))
        cls.acme_credit = cls._create_invoice_for(cls.client_a, 25.0, move_type="out_refund")
        cls.birch_invoice = cls._create_invoice_for(cls.client_b, 777.0, due=today + timedelta(days=5))
        cls.product_hosting.taxes_id = False
        cls.plan = cls._create_recurring(
            today + timedelta(days=3),
            name="Managed hosting plan",
            price_unit=49.0,
            product_id=cls.product_hosting.id,
        )
        cls._create_recurring(
            today + timedelta(days=3), name="Birch retainer", price_unit=1234.0, partner_id=cls.client_b.id
        )
        cls.company.agency_time_product_id = cls.product_hour
        project = cls.env["project.project"].create({"name": "Shop relaunch", "partner_id": cls.client_a.id})
        cls.env["account.analytic.line"].create(
            {
                "name": "Checkout page",
                "project_id": project.id,
                "employee_id": cls.employee.id,
                "unit_amount": 2.5,
                "date": today,
            }
        )
        cls.client_a.agency_portal_show_time = True

    def _page(self, url="/my/billing"):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_client_sees_its_own_figures(self):
        self.authenticate("acme_portal", "acme_portal")
        page = self._page()
        self.assertIn("230.00", page, "balance due: both open invoices")
        self.assertIn(self.acme_overdue.name, page)
        self.assertIn(self.acme_open.name, page)
        self.assertIn("25.00", page, "the credit note not used yet")
        self.assertIn("Managed hosting plan", page)
        self.assertIn("2.50 h", page, "the client's setting shows its time")
        for other in (self.birch_invoice.name, "777.00", "Birch retainer", "1,234.00"):
            self.assertNotIn(other, page)
        self.assertIn('href="/my/statement"', page)
        # the next periods of the plan: one row per month with its date
        forecast = self.env["agency.billing.forecast"].search(
            [("item_id", "=", self.plan.id), ("date", "<=", self._today() + timedelta(days=90))]
        )
        self.assertGreaterEqual(len(forecast), 3)
        for row in forecast:
            self.assertIn(format_date(self.env, row.date), page)

    def test_time_hidden_when_the_client_setting_says_so(self):
        self.client_a.agency_portal_show_time = False
        self.authenticate("acme_portal", "acme_portal")
        self.assertNotIn("Time not invoiced yet", self._page())

    def test_other_client_sees_only_its_own(self):
        self.authenticate("birch_portal", "birch_portal")
        page = self._page(f"/my/billing?partner_id={self.client_a.id}")
        self.assertIn("777.00", page)
        self.assertIn("Birch retainer", page)
        for other in (
            self.acme_overdue.name,
            self.acme_open.name,
            "Managed hosting plan",
            "230.00",
            "2.50 h",
        ):
            self.assertNotIn(other, page)

    def test_pay_route_pays_only_the_users_own_invoices(self):
        company, currency = self.company.id, self.currency.id
        self.authenticate("birch_portal", "birch_portal")
        page = self._page(f"/my/billing/pay/{company}/{currency}")
        self.assertIn("777.00", page)
        self.assertNotIn(self.acme_open.name, page)
        # a company that is not the client's: nothing to pay, back to the billing page
        response = self.url_open(f"/my/billing/pay/{company + 1000}/{currency}", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(response.headers["Location"].endswith("/my/billing"))
        values = self.make_jsonrpc_request(
            f"/my/billing/pay/{company}/{currency}/transaction",
            {
                "payment_reference": "BILLING",
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": 1.0,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/my/billing",
            },
        )
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", values["reference"])])
        self.assertEqual(tx.invoice_ids, self.birch_invoice, "Birch's invoice only, whatever Acme owes")
        self.assertEqual(tx.amount, 777.0, "what is owed, not the amount the page sent")

    def test_login_required_and_home_card(self):
        response = self.url_open("/my/billing", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("acme_portal", "acme_portal")
        self.assertIn('href="/my/billing"', self._page("/my"))
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_billing_count"]})
        self.assertGreater(counters["agency_billing_count"], 0)

    def test_billing_page_on_a_phone_and_paying_the_balance(self):
        """On a phone: the balance, credit, forecast and time fit the screen; the
        client pays both open invoices in one online payment."""
        self.browser_size = "390,844"
        self.touch_enabled = True
        self.start_tour("/my/billing", "agency_billing_portal_billing_phone", login="acme_portal")
        for invoice in self.acme_overdue | self.acme_open:
            self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self.birch_invoice.amount_residual, 777.0)
