"""Portal: a client sees its own upcoming charges, never another client's."""

from datetime import date

from odoo.tests import freeze_time, tagged

from .common import AgencyBillingHttpCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestPortalUpcomingCharges(AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls.other_portal_user = cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        cls.hosting = cls._create_recurring(date(2027, 4, 1), name="Managed hosting plan", price_unit=49.0)
        cls.retainer = cls._create_item(name="SEO retainer March", price_unit=750.0)
        cls.held = cls._create_item(name="Internal write-off", invoice_action="hold")
        cls.other = cls._create_item(name="Birch secret project", partner_id=cls.client_b.id)

    def test_client_sees_its_own_charges_only(self):
        self.authenticate("acme_portal", "acme_portal")
        response = self.url_open("/my/charges")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Managed hosting plan", page)
        self.assertIn("SEO retainer March", page)
        self.assertIn("every month", page)
        self.assertNotIn("Every 1", page)
        self.assertIn("Total of the next charges", page)
        self.assertIn("799.00", page, "49.00 + 750.00")
        self.assertIn("/agency_billing/static/src/img/upcoming_charges.svg", self.url_open("/my").text)
        self.assertNotIn("Birch secret project", page)
        self.assertNotIn("Internal write-off", page)

    def test_other_client_sees_its_own(self):
        self.authenticate("birch_portal", "birch_portal")
        page = self.url_open("/my/charges").text
        self.assertIn("Birch secret project", page)
        self.assertNotIn("Managed hosting plan", page)

    def test_billed_items_leave_the_list(self):
        self._run(date(2027, 3, 10))
        self.authenticate("acme_portal", "acme_portal")
        page = self.url_open("/my/charges").text
        self.assertNotIn("SEO retainer March", page)
        self.assertIn("Managed hosting plan", page)

    def test_upcoming_charges_fit_a_phone(self):
        """At phone size the page has a title, the total, and no sideways scrolling."""
        self.browser_size = "390,844"
        self.touch_enabled = True
        self.start_tour("/my/charges", "agency_billing_portal_charges_phone", login="acme_portal")

    def test_home_counter_and_login_required(self):
        response = self.url_open("/my/charges", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("acme_portal", "acme_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_charge_count"]})
        self.assertEqual(counters["agency_charge_count"], 2)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestPortalBilledTime(AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.agency_time_product_id = cls.product_hour
        cls.portal_user = cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls.other_portal_user = cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        project = cls.env["project.project"].create({"name": "Shop relaunch", "partner_id": cls.client_a.id})
        cls.env["account.analytic.line"].create(
            {
                "name": "Checkout page build",
                "project_id": project.id,
                "employee_id": cls.employee.id,
                "unit_amount": 2.5,
                "date": date(2027, 3, 5),
            }
        )
        cls.client_a.agency_portal_show_time = True
        cls.invoice = cls.Run._run_now(
            cls.company, date(2027, 3, 10), trigger="time", source="account.analytic.line"
        ).invoice_ids
        cls.invoice.action_post() if cls.invoice.state == "draft" else None

    def test_client_sees_the_time_behind_its_invoice(self):
        self.authenticate("acme_portal", "acme_portal")
        page = self.url_open(f"/my/invoices/{self.invoice.id}").text
        self.assertIn("See the time billed on this invoice", page)
        response = self.url_open(f"/my/invoices/{self.invoice.id}/time")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Checkout page build", response.text)
        self.assertIn("2.50", response.text)

    def test_another_client_cannot_see_it_by_changing_the_id(self):
        self.authenticate("birch_portal", "birch_portal")
        response = self.url_open(f"/my/invoices/{self.invoice.id}/time")
        self.assertNotIn("Checkout page build", response.text)
        self.assertTrue(response.url.endswith("/my"), "redirected to the portal home")

    def test_hidden_when_the_client_setting_is_off(self):
        self.client_a.agency_portal_show_time = False
        self.authenticate("acme_portal", "acme_portal")
        self.assertNotIn("See the time billed", self.url_open(f"/my/invoices/{self.invoice.id}").text)
        self.assertEqual(self.url_open(f"/my/invoices/{self.invoice.id}/time").status_code, 404)
