from datetime import date

from odoo.tests import tagged

from .common import AgencyBillingHttpCase


@tagged("post_install", "-at_install")
class TestBillingUi(AgencyBillingHttpCase):
    def test_open_billing_app_and_client(self):
        """A billing user logs in, opens the Billing app and a client's Billing tab."""
        self.client_a.with_company(self.company).billing_automation = "send"
        self.billing_user.partner_id.email = "bill@agency.example.com"
        self.start_tour("/odoo", "agency_billing_open_client", login=self.billing_user.login)

    def test_run_billing_now_with_preview(self):
        """A billing user previews the run, then runs it, from the Billing app."""
        self.client_a.with_company(self.company).billing_automation = "post"
        item = self._create_item(price_unit=50.0)
        self.start_tour("/odoo", "agency_billing_run_now", login=self.billing_user.login)
        self.assertEqual(item.state, "done")
        self.assertEqual(item.invoice_ids.invoice_date, date.today())
