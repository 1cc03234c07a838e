"""Automatic charging of saved payment methods, with Odoo's demo provider."""

from datetime import date
from unittest.mock import patch

import psycopg2

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import AgencyPaymentCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestAutomaticCharging(AgencyPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("agency_billing.ir_cron_charge_due_invoices")
        cls.Attempt = cls.env["agency.payment.attempt"]
        cls.PaymentRun = cls.env["agency.payment.run"]

    def _run_cron(self):
        with self.enter_registry_test_mode():
            self.cron.method_direct_trigger()
        self.env.invalidate_all()

    def _triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def assertPaid(self, invoice):
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)

    # ------------------------------------------------------------------
    # consent and bad input
    # ------------------------------------------------------------------
    def test_automatic_payment_needs_a_saved_payment_method(self):
        with self.assertRaisesRegex(ValidationError, "no saved payment method"), self.cr.savepoint():
            self.client_a.with_company(self.company).agency_autopay = True
        self.assertFalse(self.client_a.with_company(self.company).agency_autopay)

    def test_automatic_payment_only_with_the_clients_own_card(self):
        other_card = self._create_token(self.client_b)
        with self.assertRaisesRegex(ValidationError, "one Acme Bakery saved"):
            self._enable_autopay(self.client_a, token=other_card)

    def test_a_contacts_card_pays_for_the_client(self):
        card = self._create_token(self.client_a_contact)
        self._enable_autopay(self.client_a, token=card)
        invoice = self._create_invoice_for(self.client_a, 120.0)
        self._run_cron()
        self.assertPaid(invoice)
        self.assertEqual(invoice.transaction_ids.token_id, card)

    def test_removing_the_card_stops_automatic_payment(self):
        card = self._enable_autopay(self.client_a)
        card.action_archive()
        client = self.client_a.with_company(self.company)
        self.assertFalse(client.agency_autopay)
        self.assertIn("Automatic payment stopped", client.message_ids[0].body)

    # ------------------------------------------------------------------
    # charging
    # ------------------------------------------------------------------
    def test_charged_when_posted_by_hand(self):
        self._enable_autopay(self.client_a)
        triggers = self._triggers()
        invoice = self._create_invoice_for(self.client_a, 115.0)
        self.assertEqual(invoice.agency_charge_date, date(2027, 3, 10))
        self.assertTrue(self._triggers() - triggers, "posting starts the charging job at once")
        self._run_cron()
        self.assertPaid(invoice)
        attempt = invoice.agency_payment_attempt_ids
        self.assertEqual(attempt.state, "done")
        self.assertEqual(attempt.amount, 115.0)
        tx = attempt.transaction_id
        self.assertEqual((tx.state, tx.amount, tx.operation), ("done", 115.0, "offline"))
        self.assertEqual(tx.payment_id.amount, 115.0)
        self.assertFalse(invoice.agency_charge_date)
        run = attempt.run_id
        self.assertEqual((run.trigger, run.state, run.due_count, run.charged_count), ("cron", "done", 1, 1))

    def test_invoices_the_billing_run_posts_are_charged(self):
        self._enable_autopay(self.client_a)
        self._create_item(price_unit=100.0)  # 115 with tax
        self._create_item(partner_id=self.client_b.id, price_unit=100.0)  # not on automatic payment
        run = self._run(date(2027, 3, 10))
        invoice_a = run.invoice_ids.filtered(lambda m: m.commercial_partner_id == self.client_a)
        invoice_b = run.invoice_ids - invoice_a
        self.assertEqual(invoice_a.agency_charge_date, date(2027, 3, 10))
        self.assertFalse(invoice_b.agency_charge_date)
        self._run_cron()
        self.assertPaid(invoice_a)
        self.assertEqual(invoice_b.payment_state, "not_paid")
        self.assertFalse(invoice_b.transaction_ids)

    def test_only_what_is_left_to_pay_after_credit_and_partial_payments(self):
        self._enable_autopay(self.client_a)
        self._create_invoice_for(self.client_a, 30.0, date=date(2027, 3, 1), move_type="out_refund")
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.amount_residual, 70.0, "the credit went first")
        self._run_cron()
        self.assertPaid(invoice)
        self.assertEqual(invoice.transaction_ids.amount, 70.0)

    def test_failure_then_retry_then_success(self):
        card = self._enable_autopay(self.client_a, token=self._create_token(self.client_a, state="error"))
        invoice = self._create_invoice_for(self.client_a, 200.0)
        self._run_cron()
        failed = invoice.agency_payment_attempt_ids
        self.assertEqual(failed.state, "failed")
        self.assertEqual(invoice.payment_state, "not_paid", "a failed charge never marks the invoice paid")
        self.assertEqual(invoice.amount_residual, 200.0)
        self.assertEqual(invoice.agency_charge_date, date(2027, 3, 11), "retried one day later")
        self.assertIn("demo payment status", failed.message)
        self.assertIn("failed", invoice.message_ids[0].body)
        # the same day, the job leaves it alone
        self._run_cron()
        self.assertEqual(len(invoice.agency_payment_attempt_ids), 1)

        card.demo_simulated_state = "done"  # the client's bank now accepts it
        with freeze_time("2027-03-11"):
            self._run_cron()
        self.assertPaid(invoice)
        attempts = invoice.agency_payment_attempt_ids.sorted("id")
        self.assertEqual(attempts.mapped("state"), ["failed", "done"])
        self.assertEqual(len(invoice.transaction_ids.filtered(lambda tx: tx.state == "done")), 1)

    def test_after_the_last_retry_the_invoice_is_left_to_reminders(self):
        self._enable_autopay(self.client_a, token=self._create_token(self.client_a, state="error"))
        invoice = self._create_invoice_for(self.client_a, 200.0)
        dates = []
        day = date(2027, 3, 10)
        while day and len(dates) < 10:
            with freeze_time(day):
                self._run_cron()
            dates.append(day)
            day = invoice.agency_charge_date
        # first try, then 1, 3 and 7 days after it (the company's default schedule)
        self.assertEqual(dates, [date(2027, 3, 10), date(2027, 3, 11), date(2027, 3, 13), date(2027, 3, 17)])
        self.assertEqual(invoice.agency_payment_attempt_ids.mapped("state"), ["failed"] * 4)
        self.assertFalse(invoice.agency_charge_date)
        self.assertIn("left to payment reminders", invoice.message_ids[0].body)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_retry_schedule_is_a_company_setting(self):
        with self.assertRaises(ValidationError):
            self.company.agency_autopay_retry_days = "3, 1"
        self.company.agency_autopay_retry_days = "2"
        self._enable_autopay(self.client_a, token=self._create_token(self.client_a, state="error"))
        invoice = self._create_invoice_for(self.client_a, 200.0)
        self._run_cron()
        self.assertEqual(invoice.agency_charge_date, date(2027, 3, 12))
        with freeze_time("2027-03-12"):
            self._run_cron()
        self.assertFalse(invoice.agency_charge_date, "one retry only")

    def test_never_charged_twice_for_the_same_invoice(self):
        self._enable_autopay(self.client_a)
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self._run_cron()
        self.assertPaid(invoice)
        # someone undoes the payment's reconciliation and the date comes back:
        # the invoice is open again, but it was charged once already
        invoice.line_ids.remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        invoice.agency_charge_date = date(2027, 3, 10)
        self._run_cron()
        attempts = invoice.agency_payment_attempt_ids.sorted("id")
        self.assertEqual(attempts.mapped("state"), ["done", "skipped"])
        self.assertIn("already charged", attempts[-1].message.lower())
        self.assertEqual(len(invoice.transaction_ids), 1, "no second transaction")
        # and the database refuses a second charge whatever the code path
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.cr.savepoint(),
        ):
            self.Attempt.sudo().create({"move_id": invoice.id, "state": "processing", "amount": 100.0})

    def test_not_charged_when_paid_before(self):
        self._enable_autopay(self.client_a, agency_autopay_timing="before_due", agency_autopay_days_before=3)
        invoice = self._create_invoice_for(self.client_a, 100.0, due=date(2027, 4, 9))
        self.assertEqual(invoice.agency_charge_date, date(2027, 4, 6))
        self._pay(invoice, date=date(2027, 3, 20))
        with freeze_time("2027-04-06"):
            self._run_cron()
        self.assertFalse(invoice.transaction_ids)
        self.assertFalse(invoice.agency_payment_attempt_ids)

    def test_charged_some_days_before_the_due_date(self):
        self.company.write({"agency_autopay_timing": "before_due", "agency_autopay_days_before": 5})
        self._enable_autopay(self.client_a)
        invoice = self._create_invoice_for(self.client_a, 100.0, due=date(2027, 4, 9))
        self.assertEqual(invoice.agency_charge_date, date(2027, 4, 4))
        self._run_cron()
        self.assertFalse(invoice.transaction_ids, "not before its day")
        with freeze_time("2027-04-04"):
            self._run_cron()
        self.assertPaid(invoice)
        # a client's own setting wins over the company's
        self._enable_autopay(self.client_b, agency_autopay_timing="on_post")
        other = self._create_invoice_for(self.client_b, 100.0, due=date(2027, 4, 9))
        self.assertEqual(other.agency_charge_date, date(2027, 3, 10))

    def test_pending_payment_completes_later(self):
        card = self._enable_autopay(self.client_a, token=self._create_token(self.client_a, state="pending"))
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self._run_cron()
        attempt = invoice.agency_payment_attempt_ids
        self.assertEqual(attempt.state, "pending")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(invoice.agency_charge_date)
        # the provider confirms later (a webhook), Odoo post-processes it
        tx = attempt.transaction_id
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertEqual(attempt.state, "done")
        self.assertPaid(invoice)
        self.assertEqual(card.demo_simulated_state, "pending")

    def test_skipped_when_automatic_payment_was_switched_off(self):
        self._enable_autopay(self.client_a)
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.client_a.with_company(self.company).agency_autopay = False
        self._run_cron()
        attempt = invoice.agency_payment_attempt_ids
        self.assertEqual(attempt.state, "skipped")
        self.assertIn("Automatic payment is off", attempt.message)
        self.assertFalse(invoice.agency_charge_date)
        self.assertFalse(invoice.transaction_ids)

    def test_the_run_log_says_what_was_charged_failed_and_skipped(self):
        self._enable_autopay(self.client_a)
        self._enable_autopay(self.client_b, token=self._create_token(self.client_b, state="error"))
        third = self.env["res.partner"].create({"name": "Cedar Dental", "is_company": True})
        self._enable_autopay(third)
        charged = self._create_invoice_for(self.client_a, 100.0)
        failed = self._create_invoice_for(self.client_b, 100.0)
        skipped = self._create_invoice_for(third, 100.0)
        self._pay(skipped)  # paid by hand in between: not due any more
        skipped.agency_charge_date = date(2027, 3, 10)
        skipped.line_ids.remove_move_reconcile()
        third.with_company(self.company).agency_autopay = False
        self._run_cron()
        run = self.PaymentRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(run), 1)
        self.assertEqual(
            (run.due_count, run.charged_count, run.failed_count, run.skipped_count), (3, 1, 1, 1)
        )
        self.assertEqual(run.attempt_ids.move_id, charged | failed | skipped)
        self.assertEqual(run.state, "done")

    def test_charge_now_button(self):
        self._enable_autopay(self.client_a, agency_autopay_timing="before_due", agency_autopay_days_before=0)
        invoice = self._create_invoice_for(self.client_a, 100.0, due=date(2027, 4, 9))
        self.assertTrue(invoice.agency_can_charge)
        action = invoice.with_user(self.billing_user).action_agency_charge_now()
        self.assertEqual(action["params"]["type"], "success")
        self.assertPaid(invoice)
        self.assertEqual(invoice.agency_payment_attempt_ids.run_id.trigger, "manual")
        self.assertFalse(invoice.agency_can_charge)

    def test_the_job_works_in_batches_and_resumes(self):
        """Out of time with invoices left: the job calls itself back and the same run goes on."""
        self._enable_autopay(self.client_a)
        invoices = self._create_invoice_for(self.client_a, 10.0) | self._create_invoice_for(
            self.client_a, 20.0
        )
        self.env["ir.config_parameter"].set_param("agency_billing.charge_batch_size", "1")
        with (
            patch("odoo.addons.base.models.ir_cron.MIN_TIME_PER_JOB", 0),
            patch("odoo.addons.base.models.ir_cron.MIN_RUNS_PER_JOB", 1),
        ):
            self._run_cron()
        run = self.PaymentRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "running")
        self.assertEqual(run.charged_count, 1)
        self.assertAlmostEqual(run.progress, 50.0)
        self._run_cron()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.charged_count, 2)
        for invoice in invoices:
            self.assertPaid(invoice)

    def test_nothing_crosses_companies(self):
        self._enable_autopay(self.client_a)
        other = self.setup_other_company(name="Other Agency")["company"]
        invoice = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_date": date(2027, 3, 10),
                    "invoice_line_ids": [(0, 0, {"name": "Other work", "price_unit": 50.0, "tax_ids": []})],
                }
            )
        )
        invoice.action_post()
        self.assertFalse(invoice.agency_charge_date, "automatic payment was agreed with the other company")
        # forced due, the job still refuses a card of another company's provider
        invoice.agency_charge_date = date(2027, 3, 10)
        self.client_a.with_company(other).agency_autopay = False
        self._run_cron()
        self.assertEqual(invoice.agency_payment_attempt_ids.state, "skipped")
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(self.PaymentRun.search([("attempt_ids.move_id", "=", invoice.id)]).company_id, other)

    def test_a_charge_attempt_can_be_followed_by_billing_users_only(self):
        self._enable_autopay(self.client_a)
        self._create_invoice_for(self.client_a, 100.0)
        self._run_cron()
        self.assertTrue(self.Attempt.with_user(self.billing_user).search([]))
        clerk = self._create_new_internal_user(login="clerk2", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Attempt.with_user(clerk).search([])
        portal = self._create_new_portal_user(login="acme_portal2", partner_id=self.client_a_contact.id)
        with self.assertRaises(AccessError):
            self.PaymentRun.with_user(portal).search([])

    def test_a_run_left_unfinished_on_an_earlier_day_is_closed(self):
        stale = self.PaymentRun.create(
            {"company_id": self.company.id, "date": date(2027, 3, 9), "trigger": "cron"}
        )
        self._enable_autopay(self.client_a)
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self._run_cron()
        self.assertEqual(stale.state, "done")
        run = invoice.agency_payment_attempt_ids.run_id
        self.assertNotEqual(run, stale)
        self.assertEqual((run.date, run.state, run.charged_count), (date(2027, 3, 10), "done", 1))
