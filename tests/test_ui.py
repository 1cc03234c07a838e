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

    def test_bill_time_from_the_billing_app(self):
        """A billing user sees the unbilled time, then bills it."""
        self.company.agency_time_product_id = self.product_hour
        project = self.env["project.project"].create({"name": "Shop", "partner_id": self.client_a.id})
        timesheet = self.env["account.analytic.line"].create(
            {
                "name": "Checkout",
                "project_id": project.id,
                "employee_id": self.employee.id,
                "unit_amount": 2.5,
                "date": date.today(),
            }
        )
        self.start_tour("/odoo", "agency_billing_bill_time", login=self.billing_user.login)
        self.assertEqual(timesheet.agency_billing_state, "billed")
        self.assertEqual(timesheet.agency_invoice_line_id.price_subtotal, 250.0)
