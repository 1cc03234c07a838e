"""Late fees: charged by a reminder level, billed once by the billing run."""

from datetime import date

from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .reminder_common import ReminderCase


@tagged("post_install", "-at_install")
class TestLateFees(ReminderCase):
    def test_the_fee_is_a_billable_item_of_its_own_kind(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        fee = invoice.agency_late_fee_item_ids
        self.assertRecordValues(
            fee,
            [
                {
                    "name": f"Late Fee — {invoice.name}, First reminder",
                    "partner_id": self.client_a.id,
                    "company_id": self.company.id,
                    "currency_id": invoice.currency_id.id,
                    "product_id": self.fee_product.id,
                    "quantity": 1.0,
                    "price_unit": 10.0,
                    "source": "late_fee",
                    "invoice_action": "next_run",
                    "state": "pending",
                    "overdue_move_id": invoice.id,
                    "reminder_level_id": self.level_first.id,
                }
            ],
        )
        self.assertEqual(self._reminders().line_ids.fee_item_id, fee)
        message, _mail = self._email(self._reminders())
        self.assertIn("A late fee of", message.body)

    def test_billed_once_by_the_billing_run_and_never_again(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        fee = invoice.agency_late_fee_item_ids
        with freeze_time("2027-03-09"):
            run = self._run(date(2027, 3, 9))
        fee_invoice = run.invoice_ids
        self.assertEqual(len(fee_invoice), 1)
        self.assertEqual(fee_invoice.partner_id.commercial_partner_id, self.client_a)
        line = fee_invoice.invoice_line_ids
        self.assertEqual(line.name, f"Late Fee — {invoice.name}, First reminder")
        self.assertEqual(line.price_subtotal, 10.0)
        self.assertEqual(line.agency_item_id, fee)
        self.assertEqual(fee.state, "done")
        # a second billing run, and a second reminder run, add nothing
        with freeze_time("2027-03-09"):
            self.assertFalse(self._run(date(2027, 3, 9)).invoice_ids)
        self._run_reminders("2027-03-10")
        self.assertEqual(invoice.agency_late_fee_item_ids, fee)
        with freeze_time("2027-03-10"):
            self.assertFalse(self._run(date(2027, 3, 10)).invoice_ids)

    def test_each_level_charges_its_own_fee(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self._run_reminders("2027-03-15")
        fees = invoice.agency_late_fee_item_ids.sorted("id")
        self.assertEqual(fees.reminder_level_id, self.level_first | self.level_second)
        self.assertEqual(fees.mapped("price_unit"), [10.0, 20.0], "10 % of the 200.00 still due")
        self.assertEqual(fees[1].name, f"Late Fee — {invoice.name}, Second reminder")
        self._run_reminders("2027-03-31")  # the final notice has no fee
        self.assertEqual(len(invoice.agency_late_fee_item_ids), 2)

    def test_a_percentage_fee_is_bounded_by_its_minimum_and_maximum(self):
        small = self._invoice(amount=30.0, due=date(2027, 3, 1))
        big = self._invoice(partner=self.client_b, amount=1000.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-15")  # straight to the second reminder
        self.assertEqual(small.agency_late_fee_item_ids.price_unit, 5.0, "3.00 raised to the minimum")
        self.assertEqual(big.agency_late_fee_item_ids.price_unit, 50.0, "100.00 capped at the maximum")

    def test_a_percentage_fee_is_of_what_is_still_due(self):
        invoice = self._invoice(amount=400.0, due=date(2027, 3, 1))
        self._pay(invoice, amount=250.0)
        self._run_reminders("2027-03-15")
        self.assertEqual(invoice.amount_residual, 150.0)
        self.assertEqual(invoice.agency_late_fee_item_ids.price_unit, 15.0)

    def test_a_fixed_fee_on_a_foreign_currency_invoice_is_converted_by_odoo(self):
        foreign = self.setup_other_currency("EUR", rates=[("1900-01-01", 1.0), ("2027-01-01", 2.0)])
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1), currency=foreign)
        self._run_reminders("2027-03-08")
        fee = invoice.agency_late_fee_item_ids
        self.assertEqual(fee.currency_id, foreign)
        expected = self.company.currency_id._convert(10.0, foreign, self.company, date(2027, 3, 8))
        self.assertEqual(fee.price_unit, expected)
        self.assertEqual(fee.price_unit, 20.0)

    def test_the_fee_product_taxes_are_odoos(self):
        self.fee_product.taxes_id = [Command.set(self.tax_sale_a.ids)]
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        with freeze_time("2027-03-09"):
            fee_invoice = self._run(date(2027, 3, 9)).invoice_ids
        self.assertEqual(fee_invoice.amount_untaxed, 10.0)
        self.assertEqual(fee_invoice.invoice_line_ids.tax_ids, self.tax_sale_a)
        self.assertEqual(fee_invoice.amount_tax, self.tax_sale_a.compute_all(10.0)["taxes"][0]["amount"])
        self.assertTrue(invoice.agency_late_fee_item_ids.state == "done")

    def test_paying_before_the_billing_run_keeps_the_fee_by_default(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self._pay(invoice)
        self._run_reminders("2027-03-09")
        fee = invoice.agency_late_fee_item_ids
        self.assertEqual(fee.state, "pending")
        with freeze_time("2027-03-09"):
            self.assertEqual(self._run(date(2027, 3, 9)).invoice_ids.amount_untaxed, 10.0)
        self.assertEqual(fee.state, "done")

    def test_paying_drops_the_unbilled_fee_when_the_company_says_so(self):
        self.company.agency_late_fee_cancel_if_paid = True
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        billed_before = self._invoice(partner=self.client_b, amount=100.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        with freeze_time("2027-03-08"):
            self._run(date(2027, 3, 8), partners=self.client_b)
        self._pay(invoice)
        self._pay(billed_before)
        fee = invoice.agency_late_fee_item_ids
        self.assertEqual(fee.state, "stopped", "dropped when the invoice was paid")
        self.assertIn("was paid before the fee was invoiced", fee.message_ids[:1].body)
        self.assertEqual(billed_before.agency_late_fee_item_ids.state, "done", "a billed fee stays billed")
        with freeze_time("2027-03-09"):
            self.assertFalse(self._run(date(2027, 3, 9), partners=self.client_a).invoice_ids)

    def test_the_daily_run_drops_fees_of_invoices_paid_any_other_way(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self._pay(invoice)
        fee = invoice.agency_late_fee_item_ids
        self.assertEqual(fee.state, "pending", "the company kept fees when this payment came")
        self.company.agency_late_fee_cancel_if_paid = True
        self._run_reminders("2027-03-09")
        self.assertEqual(fee.state, "stopped")

    def test_the_billing_run_never_bills_a_fee_the_company_drops_once_paid(self):
        """Paid some other way after the reminder run, before the billing run: not billed."""
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self._pay(invoice)
        fee = invoice.agency_late_fee_item_ids
        self.company.agency_late_fee_cancel_if_paid = True  # set after the payment came in
        self.assertEqual(fee.state, "pending")
        with freeze_time("2027-03-09"):
            self.assertFalse(self._run(date(2027, 3, 9), partners=self.client_a).invoice_ids)
        self.assertEqual(fee.state, "stopped")

    def test_cancelling_the_invoice_drops_its_unbilled_fee(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        fee = invoice.agency_late_fee_item_ids
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(fee.state, "stopped")
        self.assertIn("was cancelled", fee.message_ids[:1].body)
        with freeze_time("2027-03-09"):
            self.assertFalse(self._run(date(2027, 3, 9)).invoice_ids)

    def test_the_database_refuses_a_second_fee_for_an_invoice_and_level(self):
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        vals = self.Reminder._prepare_late_fee_vals(self.client_a, self.level_first, invoice, 10.0)
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self.Item.create(vals)

    def test_a_fee_already_charged_is_not_charged_again_when_a_level_is_resent(self):
        """A manager deletes a reminder to send it again: the invoice keeps its one fee."""
        invoice = self._invoice(amount=200.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        fee = invoice.agency_late_fee_item_ids
        self._reminders().unlink()
        invoice.agency_reminder_level_id = False
        self._run_reminders("2027-03-09")
        reminder = self._reminders()
        self.assertEqual(reminder.level_id, self.level_first)
        self.assertEqual(invoice.agency_late_fee_item_ids, fee)
        self.assertEqual(reminder.line_ids.fee_item_id, fee)

    def test_the_fee_shows_in_the_clients_upcoming_charges_count(self):
        self._invoice(amount=200.0, due=date(2027, 3, 1))
        self.assertEqual(self.client_a.with_company(self.company).billing_pending_count, 0)
        self._run_reminders("2027-03-08")
        self.client_a.invalidate_recordset()
        self.assertEqual(self.client_a.with_company(self.company).billing_pending_count, 1)
