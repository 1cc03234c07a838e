"""Reminders in Chromium (tours), and the pay link of a reminder email."""

from datetime import date, timedelta

from odoo import Command
from odoo.tests import tagged

from .reminder_common import ReminderHttpCase


@tagged("post_install", "-at_install")
class TestReminderUi(ReminderHttpCase):
    def test_send_a_reminder_from_the_overdue_invoices(self):
        """A billing user finds an overdue invoice and sends its reminder by hand."""
        invoice = self._invoice(amount=300.0, due=date.today() - timedelta(days=10))
        self.start_tour("/odoo", "agency_billing_send_reminder", login=self.billing_user.login)
        reminder = self._reminders()
        self.assertEqual(reminder.move_ids, invoice)
        self.assertEqual(reminder.level_id, self.level_first)
        self.assertEqual(reminder.user_id, self.billing_user)
        self.assertEqual(invoice.agency_late_fee_item_ids.price_unit, 10.0)

    def test_set_up_a_reminder_plan(self):
        """A billing manager makes a plan; a negative fee is refused at save, then fixed."""
        self.start_tour("/odoo", "agency_billing_reminder_plan", login=self.billing_manager.login)
        plan = self.env["agency.reminder.plan"].search([("name", "=", "Tour plan")])
        self.assertEqual(self.company.agency_reminder_plan_id, plan)
        self.assertRecordValues(
            plan.level_ids, [{"name": "Gentle nudge", "days": 5, "fee_type": "fixed", "fee_fixed": 5.0}]
        )

    def test_quotation_banner_of_a_client_with_overdue_invoices(self):
        self._invoice(amount=300.0, due=date.today() - timedelta(days=12))
        order = (
            self.env["sale.order"]
            .with_company(self.company)
            .create(
                {
                    "partner_id": self.client_a.id,
                    "user_id": self.billing_user.id,  # a salesman sees his own quotations
                    "order_line": [Command.create({"product_id": self.product_hosting.id})],
                }
            )
        )
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "agency_billing_overdue_banner",
            login=self.billing_user.login,
        )


@tagged("post_install", "-at_install")
class TestReminderPayLink(ReminderHttpCase):
    def test_the_pay_link_opens_the_invoice_for_its_client_only(self):
        invoice = self._invoice(amount=300.0, due=date.today() - timedelta(days=8))
        other = self._invoice(partner=self.client_b, amount=90.0, due=date.today() - timedelta(days=8))
        self._run_reminders(date.today().isoformat())
        line = self._reminders(partner=self.client_a).line_ids
        message, _mail = self._email(line.reminder_id)
        self.assertIn(line.pay_url, message.body)
        # the client follows the link from the email, without logging in
        response = self.url_open(line.pay_url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(invoice.name, response.text)
        self.assertIn("300.00", response.text)
        # the same token does not open another client's invoice (changing the id in the URL)
        tampered = line.pay_url.replace(f"/my/invoices/{invoice.id}?", f"/my/invoices/{other.id}?")
        response = self.url_open(tampered)
        self.assertNotIn(other.name, response.text)
        self.assertNotIn("90.00", response.text)
