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
        self.assertIn("Every 1", page)
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

    def test_home_counter_and_login_required(self):
        response = self.url_open("/my/charges", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("acme_portal", "acme_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_charge_count"]})
        self.assertEqual(counters["agency_charge_count"], 2)
