"""/my/statement: a client's own statement, never another client's."""

from odoo.tests import freeze_time, tagged

from .common import AgencyBillingHttpCase
from .test_statements import StatementFixture


@tagged("post_install", "-at_install")
@freeze_time("2027-04-30")
class TestStatementPortal(StatementFixture, AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()
        cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        cls.other_company = cls.setup_other_company(name="Other Agency")["company"]
        cls.period = "date_from=2027-02-01&date_to=2027-03-31"

    def test_client_sees_its_own_statement(self):
        self.authenticate("acme_portal", "acme_portal")
        response = self.url_open(f"/my/statement?{self.period}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Statement of Account", page)
        self.assertIn(self.inv2.name, page)
        self.assertIn(self.pay2.move_id.name, page)
        self.assertIn("Opening balance", page)
        self.assertIn("Amounts in EUR", page)
        self.assertNotIn(self.other_inv.name, page)
        pdf = self.url_open(f"/my/statement/pdf?{self.period}&company_id={self.company.id}")
        self.assertEqual(pdf.status_code, 200)
        self.assertEqual(pdf.headers["Content-Type"], "application/pdf")
        self.assertIn("attachment", pdf.headers["Content-Disposition"])
        # (in tests Odoo renders reports as HTML: what matters is whose figures they are)
        self.assertIn(self.inv2.name.encode(), pdf.content)
        self.assertNotIn(self.other_inv.name.encode(), pdf.content)

    def test_other_client_gets_its_own_whatever_the_url_says(self):
        self.authenticate("birch_portal", "birch_portal")
        for url in (
            f"/my/statement?{self.period}",
            f"/my/statement?{self.period}&partner_id={self.client_a.id}",
            f"/my/statement?date_from=2000-01-01&date_to=2099-12-31&partner_id={self.client_a.id}",
            f"/my/statement/pdf?{self.period}&partner_id={self.client_a.id}",
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertNotIn(self.inv2.name, response.text, url)
            self.assertNotIn(self.inv1.name, response.text, url)
        self.assertIn(self.other_inv.name, self.url_open(f"/my/statement?{self.period}").text)
        # a company the client has nothing with, or another client's report by id
        self.assertEqual(
            self.url_open(f"/my/statement?{self.period}&company_id={self.other_company.id}").status_code, 404
        )
        self.assertEqual(self.url_open(f"/my/statement/pdf?{self.period}&company_id=abc").status_code, 404)
        response = self.url_open(f"/report/pdf/agency_billing.report_statement_main/{self.client_a.id}")
        self.assertNotIn(self.inv2.name.encode(), response.content)

    def test_bad_dates_are_explained(self):
        self.authenticate("acme_portal", "acme_portal")
        page = self.url_open("/my/statement?date_from=2027-03-31&date_to=2027-02-01").text
        self.assertIn("The start date is after the end date", page)
        self.assertNotIn(self.inv2.name, page)
        page = self.url_open("/my/statement?date_from=yesterday&date_to=2027-02-01").text
        self.assertIn("These dates are not valid", page)
        response = self.url_open(
            "/my/statement/pdf?date_from=2027-03-31&date_to=2027-02-01", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))

    def test_login_required_and_home_card(self):
        response = self.url_open("/my/statement", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("acme_portal", "acme_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_statement_count"]})
        self.assertEqual(counters["agency_statement_count"], 1)

    def test_statement_page_in_the_browser(self):
        self.start_tour("/my", "agency_billing_statement_portal", login="acme_portal")
