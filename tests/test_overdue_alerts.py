"""Overdue alerts: figures on the client, a banner on sales orders, the daily digest."""

from datetime import date

from odoo import Command
from odoo.tests import freeze_time, tagged

from .reminder_common import ReminderCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestOverdueFigures(ReminderCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late = cls._invoice(amount=300.0, due=date(2027, 2, 8))  # 30 days late
        cls.later = cls._invoice(amount=200.0, due=date(2027, 3, 1))  # 9 days late
        cls.not_due = cls._invoice(amount=50.0, due=date(2027, 3, 20))
        cls.paid = cls._invoice(amount=75.0, due=date(2027, 1, 5))

    def setUp(self):
        super().setUp()
        self._pay(self.paid)
        self._pay(self.later, amount=80.0)

    def test_overdue_amount_and_oldest_days_are_odoos_figures(self):
        client = self.client_a.with_company(self.company)
        self.assertEqual(client.agency_overdue_count, 2)
        self.assertEqual(client.agency_overdue_amount, 420.0)
        # what Odoo itself says the overdue invoices still owe
        overdue = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.client_a.id),
                ("company_id", "=", self.company.id),
                ("invoice_date_due", "<", "2027-03-10"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        self.assertEqual(overdue, self.late | self.later)
        self.assertEqual(client.agency_overdue_amount, sum(overdue.mapped("amount_residual_signed")))
        # and the receivable Odoo computes for the client, minus what is not due yet
        self.assertEqual(client.agency_overdue_amount, client.credit - self.not_due.amount_residual)
        self.assertEqual(client.agency_overdue_days, 30)
        self.assertEqual(self.client_a_contact.with_company(self.company).agency_overdue_amount, 420.0)
        self.assertEqual(self.client_b.with_company(self.company).agency_overdue_amount, 0.0)

    def test_disputed_invoices_are_still_overdue(self):
        self.late.agency_is_disputed = True
        self.assertEqual(self.client_a.with_company(self.company).agency_overdue_amount, 420.0)

    def test_filter_clients_with_overdue_invoices(self):
        Partner = self.env["res.partner"].with_company(self.company)
        found = Partner.search([("agency_overdue_count", ">", 0), ("is_company", "=", True)])
        self.assertIn(self.client_a, found)
        self.assertNotIn(self.client_b, found)
        self.assertIn(self.client_b, Partner.search([("agency_overdue_count", "=", 0)]))

    def test_other_companies_invoices_do_not_count(self):
        other = self.env["res.company"].create({"name": "Sister Agency"})
        self.assertEqual(self.client_a.with_company(other).agency_overdue_amount, 0.0)
        self.assertEqual(self.client_a.with_company(other).agency_overdue_count, 0)

    def test_banner_on_quotations_and_orders(self):
        SaleOrder = self.env["sale.order"].with_company(self.company)
        order = SaleOrder.create(
            {
                "partner_id": self.client_a_contact.id,
                "order_line": [Command.create({"product_id": self.product_hosting.id})],
            }
        )
        self.assertEqual(
            order.agency_overdue_warning,
            "Acme Bakery has 2 overdue invoices: $\xa0420.00 due, the oldest 30 days late.",
        )
        order.action_confirm()
        self.assertTrue(order.agency_overdue_warning, "still shown on the confirmed order")
        self.assertFalse(
            SaleOrder.create({"partner_id": self.client_b.id}).agency_overdue_warning,
            "no banner for a client that pays on time",
        )
        action = order.action_agency_view_overdue_invoices()
        self.assertIn("'search_default_late': 1", action["context"], "opens on Odoo's Overdue filter")
        late_filter = [
            ("invoice_date_due", "<", "2027-03-10"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        self.assertEqual(
            self.env["account.move"].search([*action["domain"], *late_filter]), self.late | self.later
        )

    def test_a_salesman_sees_the_banner_of_invoices_he_cannot_open(self):
        salesman = self._create_new_internal_user(
            login="salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        order = (
            self.env["sale.order"]
            .with_user(salesman)
            .with_company(self.company)
            .create({"partner_id": self.client_a.id})
        )
        self.assertIn("420.00", order.agency_overdue_warning)

    def test_the_invoice_shows_its_days_overdue_and_next_reminder(self):
        self.assertEqual(self.late.agency_days_overdue, 30)
        self.assertEqual(self.not_due.agency_days_overdue, 0)
        self.assertEqual(self.later.agency_next_reminder_level_id, self.level_first)
        self.assertEqual(self.later.agency_next_reminder_date, date(2027, 3, 10), "due today: the next run")
        self.assertEqual(self.not_due.agency_next_reminder_level_id, self.level_before)
        self.assertEqual(self.not_due.agency_next_reminder_date, date(2027, 3, 17))
        self.assertFalse(self.paid.agency_next_reminder_level_id)


@tagged("post_install", "-at_install")
class TestOverdueDigest(ReminderCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_manager.email = "manager@agency.example.com"
        cls.billing_user.email = "user@agency.example.com"

    def _run_digest(self, on):
        with freeze_time(on), self._cron_cursor():
            result = self.digest_cron.method_direct_trigger()
        self.assertIs(result, True, f"the digest cron failed: {result}")
        self.env.invalidate_all()

    def _digests(self):
        return (
            self.env["mail.mail"]
            .sudo()
            .search([("subject", "like", "became overdue"), ("subject", "like", self.company.name)])
        )

    def test_the_digest_lists_exactly_the_newly_overdue_invoices(self):
        self.company.agency_overdue_digest_date = date(2027, 3, 9)  # yesterday's digest was sent
        newly = self._invoice(amount=120.0, due=date(2027, 3, 9))
        newly_b = self._invoice(partner=self.client_b, amount=80.0, due=date(2027, 3, 9))
        already_listed = self._invoice(amount=60.0, due=date(2027, 3, 8))
        due_today = self._invoice(amount=40.0, due=date(2027, 3, 10))
        paid = self._invoice(amount=30.0, due=date(2027, 3, 9))
        self._pay(paid)
        self._run_digest("2027-03-10")
        digest = self._digests()
        self.assertEqual(len(digest), 1)
        for move in newly | newly_b:
            self.assertIn(move.name, digest.body_html)
        for move in already_listed | due_today | paid:
            self.assertNotIn(move.name, digest.body_html)
        self.assertIn("2 invoices became overdue", digest.subject)
        self.assertIn("200.00", digest.body_html, "their total")
        self.assertIn(self.billing_manager.partner_id, digest.recipient_ids)
        self.assertNotIn(self.billing_user.partner_id, digest.recipient_ids, "managers only")
        self.assertEqual(self.company.agency_overdue_digest_date, date(2027, 3, 10))
        # run again the same day: nothing twice
        self._run_digest("2027-03-10")
        self.assertEqual(self._digests(), digest)
        # the next day lists that day's only
        tomorrow = self._invoice(amount=10.0, due=date(2027, 3, 10), invoice_date=date(2027, 3, 10))
        self._run_digest("2027-03-11")
        new_digest = self._digests() - digest
        self.assertIn(tomorrow.name, new_digest.body_html)
        self.assertIn(due_today.name, new_digest.body_html)
        self.assertNotIn(newly.name, new_digest.body_html)

    def test_a_missed_day_is_caught_up_and_a_quiet_day_sends_nothing(self):
        self.company.agency_overdue_digest_date = date(2027, 3, 8)
        first = self._invoice(due=date(2027, 3, 8))
        second = self._invoice(due=date(2027, 3, 9))
        self._run_digest("2027-03-10")  # the 9 March digest did not run
        digest = self._digests()
        self.assertIn(first.name, digest.body_html)
        self.assertIn(second.name, digest.body_html)
        self._run_digest("2027-03-11")
        self.assertEqual(self._digests(), digest, "nothing became overdue: no email")
        self.assertEqual(self.company.agency_overdue_digest_date, date(2027, 3, 11))

    def test_the_first_digest_covers_yesterday(self):
        self.assertFalse(self.company.agency_overdue_digest_date)
        old = self._invoice(due=date(2027, 2, 1))
        yesterday = self._invoice(due=date(2027, 3, 9))
        self._run_digest("2027-03-10")
        self.assertIn(yesterday.name, self._digests().body_html)
        self.assertNotIn(old.name, self._digests().body_html)

    def test_the_digest_can_be_switched_off(self):
        self.company.agency_overdue_digest = False
        self._invoice(due=date(2027, 3, 9))
        self._run_digest("2027-03-10")
        self.assertFalse(self._digests())

    def test_each_company_gets_its_own_digest(self):
        sister = self.setup_other_company(name="Sister Agency")["company"]
        sister_manager = self._create_new_internal_user(
            login="sister_manager",
            email="boss@sister.example.com",
            groups="base.group_user,agency_billing.group_agency_billing_manager",
            company_id=sister.id,
            company_ids=[Command.set(sister.ids)],
        )
        ours = self._invoice(due=date(2027, 3, 9))
        theirs = (
            self.env["account.move"]
            .with_company(sister)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_date": date(2027, 3, 9),
                    "invoice_date_due": date(2027, 3, 9),
                    "invoice_line_ids": [Command.create({"name": "Sister work", "price_unit": 75.0})],
                }
            )
        )
        theirs.action_post()
        self._run_digest("2027-03-10")
        # both invoices may be numbered INV/2027/00001: their links tell them apart
        digest = self._digests()
        self.assertIn(f'account_move_action_overdue/{ours.id}"', digest.body_html)
        self.assertNotIn(f'account_move_action_overdue/{theirs.id}"', digest.body_html)
        self.assertNotIn("75.00", digest.body_html)
        self.assertNotIn(sister_manager.partner_id, digest.recipient_ids)
        sister_digest = (
            self.env["mail.mail"]
            .sudo()
            .search([("subject", "=", "Sister Agency: an invoice became overdue")])
        )
        self.assertIn(f'account_move_action_overdue/{theirs.id}"', sister_digest.body_html)
        self.assertIn("75.00", sister_digest.body_html)
        self.assertEqual(
            sister_digest.recipient_ids & self.billing_manager.partner_id, self.env["res.partner"]
        )
        self.assertIn(sister_manager.partner_id, sister_digest.recipient_ids)
