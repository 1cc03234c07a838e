"""Reminders: each level once per invoice, grouped per client, never for what is paid or disputed."""

import io
from datetime import date
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import config, mute_logger
from odoo.tools.pdf import PdfFileReader

from odoo.addons.agency_billing.models.agency_reminder import STATEMENT_REPORT as STATEMENT

from .reminder_common import ReminderCase


@tagged("post_install", "-at_install")
class TestReminderLevels(ReminderCase):
    def test_each_level_is_sent_once_on_its_day(self):
        invoice = self._invoice(due=date(2027, 3, 1))
        for day, expected in [
            ("2027-02-25", None),  # 4 days before: nothing yet
            ("2027-02-26", self.level_before),  # 3 days before
            ("2027-02-27", None),
            ("2027-03-01", None),  # due today
            ("2027-03-08", self.level_first),
            ("2027-03-09", None),
            ("2027-03-15", self.level_second),
            ("2027-03-31", self.level_final),
            ("2027-04-30", None),  # every level sent
        ]:
            before = self._reminders()
            self._run_reminders(day)
            new = self._reminders() - before
            if expected:
                self.assertEqual(new.level_id, expected, f"on {day}")
                self.assertEqual(new.move_ids, invoice)
                self.assertEqual(new.date, fields.Date.to_date(day))
            else:
                self.assertFalse(new, f"nothing is sent on {day}")
        self.assertEqual(self._reminders().level_id, self.plan.level_ids)
        self.assertEqual(invoice.agency_reminder_level_id, self.level_final)
        self.assertEqual(invoice.agency_reminder_date, date(2027, 3, 31))
        self.assertEqual(len(invoice.agency_reminder_line_ids), 4)

    def test_a_late_invoice_gets_the_level_of_its_lateness_only(self):
        """Found 20 days late (plan set up late, server down): the second reminder, not a stack."""
        invoice = self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-21")
        reminder = self._reminders()
        self.assertEqual(reminder.level_id, self.level_second)
        self.assertEqual(invoice.agency_reminder_level_id, self.level_second)
        self._run_reminders("2027-03-22")
        self.assertEqual(self._reminders(), reminder, "the levels it skipped are not sent afterwards")

    def test_no_due_soon_note_once_the_invoice_is_overdue(self):
        """An invoice issued after its "due soon" day gets no "due soon" note once overdue."""
        invoice = self._invoice(due=date(2027, 3, 1), invoice_date=date(2027, 3, 1))
        self._run_reminders("2027-03-02")
        self.assertFalse(self._reminders(), "the before-due level is past, the first reminder not due")
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().level_id, self.level_first)
        self.assertEqual(invoice.agency_reminder_level_id, self.level_first)

    def test_several_invoices_of_a_client_go_in_one_email_per_level(self):
        first = self._invoice(amount=100.0, due=date(2027, 3, 1))
        second = self._invoice(amount=250.0, due=date(2027, 3, 1))
        other_client = self._invoice(partner=self.client_b, amount=80.0, due=date(2027, 3, 1))
        later = self._invoice(amount=40.0, due=date(2027, 3, 5))  # first reminder due on 12 March
        self._run_reminders("2027-03-08")
        reminders = self._reminders(level=self.level_first)
        self.assertEqual(len(reminders), 2, "one email per client")
        acme = reminders.filtered(lambda r: r.partner_id == self.client_a)
        self.assertEqual(acme.move_ids, first | second)
        self.assertEqual(acme.name, f"{first.name}, {second.name}")
        self.assertEqual(reminders.filtered(lambda r: r.partner_id == self.client_b).move_ids, other_client)
        message, mail = self._email(acme)
        self.assertEqual(message.partner_ids, self.client_a)
        self.assertEqual(mail.recipient_ids, self.client_a)
        self.assertIn(first.name, message.body)
        self.assertIn(second.name, message.body)
        self.assertNotIn(later.name, message.body)
        self.assertIn("350.00", message.body, "the total due of the email")
        self.assertIn("overdue invoices", message.subject)
        self.assertEqual(mail.state, "outgoing", "queued for Odoo's mail queue")
        self._run_reminders("2027-03-12")
        self.assertEqual(
            self._reminders(level=self.level_first).move_ids, first | second | other_client | later
        )

    def test_levels_of_one_day_and_one_client_make_one_email_each(self):
        """Two invoices at different levels the same day: one email per level."""
        self._invoice(due=date(2027, 3, 1))
        self._invoice(due=date(2027, 2, 22))
        self._run_reminders("2027-03-08")
        reminders = self._reminders(partner=self.client_a)
        self.assertEqual(reminders.level_id, self.level_first | self.level_second)
        self.assertTrue(all(len(r.line_ids) == 1 for r in reminders))

    # ------------------------------------------------------------------
    # never for paid, in-payment or disputed invoices
    # ------------------------------------------------------------------
    def test_never_for_a_paid_invoice_and_stops_once_paid(self):
        paid = self._invoice(due=date(2027, 3, 1))
        self._pay(paid)
        reminded = self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().move_ids, reminded)
        self.assertEqual(paid.payment_state, "paid")
        self._pay(reminded)
        self._run_reminders("2027-03-15")
        self._run_reminders("2027-03-31")
        self.assertEqual(self._reminders().level_id, self.level_first, "nothing after the payment")

    def test_a_partly_paid_invoice_is_reminded_of_what_is_left(self):
        invoice = self._invoice(amount=300.0, due=date(2027, 3, 1))
        self._pay(invoice, amount=120.0)
        self.assertEqual(invoice.payment_state, "partial")
        self._run_reminders("2027-03-08")
        line = self._reminders().line_ids
        self.assertEqual(line.amount_residual, 180.0)
        self.assertEqual(line.amount_residual, invoice.amount_residual)
        message, _mail = self._email(line.reminder_id)
        self.assertIn("180.00", message.body)

    def test_never_for_an_invoice_in_payment(self):
        """With Odoo's "in payment" state (as Accounting sets it): no reminder."""
        invoice = self._invoice(due=date(2027, 3, 1))
        Move = type(self.env["account.move"])
        with patch.object(Move, "_get_invoice_in_payment_state", lambda self: "in_payment"):
            self._pay(invoice)
            invoice.invalidate_recordset(["payment_state"])
            self.assertEqual(invoice.payment_state, "in_payment")
            self._run_reminders("2027-03-08")
        self.assertFalse(self._reminders())
        with self.assertRefused(UserError, "in payment"):
            invoice.action_agency_send_reminder()

    def test_never_for_a_disputed_invoice(self):
        disputed = self._invoice(due=date(2027, 3, 1))
        disputed.agency_is_disputed = True
        self._run_reminders("2027-03-08")
        self.assertFalse(self._reminders())
        with self.assertRefused(UserError, "disputed or on hold"):
            disputed.action_agency_send_reminder()
        # the dispute is settled: the reminder its lateness calls for goes out
        disputed.action_agency_toggle_disputed()
        self.assertFalse(disputed.agency_is_disputed)
        self._run_reminders("2027-03-09")
        self.assertEqual(self._reminders().level_id, self.level_first)

    def test_never_for_drafts_cancelled_or_credit_notes(self):
        self._invoice(due=date(2027, 3, 1), post=False)
        cancelled = self._invoice(due=date(2027, 3, 1))
        cancelled.button_draft()
        cancelled.button_cancel()
        refund = self._invoice(due=date(2027, 3, 1))._reverse_moves()
        refund.action_post()
        self._run_reminders("2027-03-08")
        reminded = self._reminders().move_ids
        self.assertNotIn(cancelled, reminded)
        self.assertNotIn(refund, reminded)
        self.assertFalse(reminded.filtered(lambda m: m.state != "posted"))

    # ------------------------------------------------------------------
    # send now
    # ------------------------------------------------------------------
    def test_send_now_then_the_daily_run_does_not_repeat_the_level(self):
        invoice = self._invoice(due=date(2027, 3, 1))
        with freeze_time("2027-03-03"):
            self.assertEqual(invoice.agency_next_reminder_level_id, self.level_first)
            self.assertEqual(invoice.agency_next_reminder_date, date(2027, 3, 8))
            action = invoice.with_user(self.billing_user).action_agency_send_reminder()
        self.assertEqual(action["params"]["type"], "success")
        reminder = self._reminders()
        self.assertEqual(reminder.level_id, self.level_first)
        self.assertEqual(reminder.trigger, "manual")
        self.assertEqual(reminder.user_id, self.billing_user)
        self.assertEqual(reminder.date, date(2027, 3, 3))
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders(), reminder, "the first reminder is not sent again on its day")
        self._run_reminders("2027-03-15")
        self.assertEqual(self._reminders().level_id, self.level_first | self.level_second)

    def test_send_now_twice_sends_the_next_level_then_refuses(self):
        invoice = self._invoice(due=date(2027, 3, 1))
        with freeze_time("2027-03-20"):
            for expected in (self.level_second, self.level_final):
                invoice.action_agency_send_reminder()
                self.assertEqual(invoice.agency_reminder_level_id, expected)
            with self.assertRefused(UserError, "Every level"):
                invoice.action_agency_send_reminder()
        self.assertEqual(self._reminders().level_id, self.level_second | self.level_final)

    def test_send_now_on_selected_invoices_groups_per_client(self):
        invoices = (
            self._invoice(due=date(2027, 3, 1))
            | self._invoice(due=date(2027, 3, 2))
            | self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        )
        with freeze_time("2027-03-10"):
            invoices.action_agency_send_reminder()
        reminders = self._reminders()
        self.assertEqual(len(reminders), 2)
        self.assertEqual(reminders.filtered(lambda r: r.partner_id == self.client_a).invoice_count, 2)

    def test_send_now_on_more_than_a_batch_goes_to_the_background(self):
        self.env["ir.config_parameter"].set_param("agency_billing.batch_size", "2")
        invoices = (
            self._invoice(due=date(2027, 3, 1))
            | self._invoice(due=date(2027, 3, 1))
            | self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        )
        cron_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)])
        with freeze_time("2027-03-03"):
            action = invoices.action_agency_send_reminder()
        run = self.ReminderRun.browse(action["res_id"])
        self.assertEqual(run.trigger, "manual")
        self.assertEqual(run.state, "running")
        self.assertEqual(run.scope_move_ids, invoices)
        self.assertFalse(self._reminders(), "nothing is sent in the request")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)]) - cron_triggers,
            "the reminder cron is started at once",
        )
        self._run_reminders("2027-03-03")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.client_total, 2)
        self.assertEqual(run.reminder_count, 2)
        self.assertEqual(run.invoice_count, 3)
        self.assertEqual(self._reminders().move_ids, invoices)
        self.assertEqual(self._reminders().level_id, self.level_first)

    def test_send_now_says_what_stops_it(self):
        draft = self._invoice(due=date(2027, 3, 1), post=False)
        with self.assertRefused(UserError, "Only posted customer invoices"):
            draft.action_agency_send_reminder()
        paid = self._invoice(due=date(2027, 3, 1))
        self._pay(paid)
        with self.assertRefused(UserError, "nothing to remind"):
            paid.action_agency_send_reminder()
        invoice = self._invoice(due=date(2027, 3, 1))
        self.client_a.agency_no_reminders = True
        with self.assertRefused(UserError, "switched off"):
            invoice.action_agency_send_reminder()
        self.client_a.agency_no_reminders = False
        self.client_a.email = False
        with self.assertRefused(UserError, "no email address"):
            invoice.action_agency_send_reminder()
        self.client_a.email = "accounts@acme-bakery.example.com"
        self.company.agency_reminder_plan_id = False
        with self.assertRefused(UserError, "No reminder plan"):
            invoice.action_agency_send_reminder()
        self.assertFalse(self._reminders(), "nothing half-sent")

    # ------------------------------------------------------------------
    # history
    # ------------------------------------------------------------------
    def test_history_shows_on_the_invoice_and_in_the_clients_chatter(self):
        invoice = self._invoice(amount=120.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        reminder = self._reminders()
        note = invoice.message_ids.filtered(lambda m: "First reminder" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("accounts@acme-bakery.example.com", note.body)
        self.assertIn("Late fee: ", note.body)
        client_note = self.client_a.message_ids.filtered(lambda m: invoice.name in (m.body or ""))
        self.assertEqual(len(client_note), 1)
        self.assertIn("First reminder", client_note.body)
        self.assertIn("7 days overdue", client_note.body)
        self.assertEqual(invoice.agency_reminder_line_ids.reminder_id, reminder)
        self.assertEqual(self.client_a.agency_reminder_count, 1)
        action = invoice.action_agency_view_reminders()
        self.assertEqual(self.Reminder.search(action["domain"]), reminder)

    def test_final_level_schedules_a_call_for_the_account_manager(self):
        self.client_a.user_id = self.billing_user
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-31")
        activity = self.client_a.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.billing_user)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertEqual(activity.summary, "Call about the unpaid invoices")
        self.assertEqual(activity.date_deadline, date(2027, 3, 31))

    def test_no_account_manager_and_no_fallback_is_logged(self):
        self.client_a.user_id = False
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-31")
        self.assertFalse(self.client_a.activity_ids)
        run = self.ReminderRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.reminder_count, 1, "the email is sent all the same")
        self.assertIn("No activity scheduled", run.log_ids.message)
        self.level_final.activity_user_id = self.billing_manager
        self._invoice(partner=self.client_a, due=date(2027, 3, 2))
        self._run_reminders("2027-04-01")
        self.assertEqual(self.client_a.activity_ids.user_id, self.billing_manager)

    def test_invoice_pdfs_and_statement_are_attached_when_the_level_asks(self):
        first = self._invoice(amount=100.0, due=date(2027, 3, 1))
        second = self._invoice(amount=50.0, due=date(2027, 3, 1))
        not_due = self._invoice(amount=70.0, due=date(2027, 4, 20))
        self._run_reminders("2027-03-15")  # second reminder: invoices attached
        message, mail = self._email(self._reminders())
        names = sorted(message.attachment_ids.mapped("name"))
        self.assertEqual(len(names), 2)
        self.assertTrue(all(n.endswith(".pdf") for n in names))
        self.assertIn(first.name.replace("/", "_"), " ".join(names))
        self.assertEqual(mail.attachment_ids, message.attachment_ids, "the email carries them")
        self._run_reminders("2027-03-31")  # final notice: the statement
        final = self._reminders(level=self.level_final)
        message, _mail = self._email(final)
        self.assertEqual(message.attachment_ids.mapped("name"), ["Statement Acme Bakery 2027-03-31.pdf"])
        statement = message.attachment_ids.raw.decode()
        for move in first | second | not_due:
            self.assertIn(move.name, statement, "every open invoice is on the statement")
        self.assertIn("220.00", statement, "the total due")
        self.assertIn("150.00", statement, "of which overdue")

    def test_real_pdfs_from_wkhtmltopdf_and_what_the_statement_says(self):
        self.env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        self.level_second.attach_statement = True
        first = self._invoice(amount=100.0, due=date(2027, 3, 1))
        second = self._invoice(amount=50.0, due=date(2027, 2, 28))
        not_due = self._invoice(amount=70.0, due=date(2027, 4, 20))
        with freeze_time("2027-03-15"):
            run = self.ReminderRun._get_cron_run(self.company)
            run.with_context(force_report_rendering=True)._send_batch(run._plan())
        self.assertEqual(run.error_count, 0, run.log_ids.mapped("message"))
        message, _mail = self._email(self._reminders())
        pdfs = message.attachment_ids
        self.assertEqual(len(pdfs), 3, "two invoices and the statement")
        self.assertTrue(all(pdf.raw.startswith(b"%PDF") for pdf in pdfs))
        statement = pdfs.filtered(lambda a: a.name.startswith("Statement"))
        self.assertEqual(statement.name, "Statement Acme Bakery 2027-03-15.pdf")
        for pdf in pdfs:
            # each document in a PDF of its own (wkhtmltopdf here cannot split several)
            self.assertEqual(len(PdfFileReader(io.BytesIO(pdf.raw)).pages), 1, pdf.name)
        self.assertEqual(
            sorted((pdfs - statement).mapped("name")),
            sorted(f"{move.name.replace('/', '_')}.pdf" for move in first | second),
        )
        # what the statement says (this wkhtmltopdf draws text as shapes: read
        # the HTML Odoo turns into the PDF)
        html = self.env["ir.actions.report"]._render_qweb_html(STATEMENT, self._reminders().ids)[0].decode()
        for move in first | second | not_due:
            self.assertIn(move.name, html)
        self.assertRegex(html, r"Total due[\s\S]*220\.00[\s\S]*of which overdue[\s\S]*150\.00")

    def test_email_in_the_clients_language_with_a_pay_link_per_invoice(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client_a.lang = "fr_FR"
        invoice = self._invoice(amount=100.0, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        message, _mail = self._email(self._reminders())
        invoice.invalidate_recordset(["access_token"])
        self.assertTrue(invoice.access_token, "the link lets the client open the invoice without logging in")
        self.assertIn(f"/my/invoices/{invoice.id}?access_token={invoice.access_token}", message.body)
        self.assertEqual(self._reminders().contact_id.lang, "fr_FR")


@tagged("post_install", "-at_install")
class TestReminderOverrides(ReminderCase):
    def test_client_with_no_reminders_is_left_alone(self):
        self.client_a.with_company(self.company).agency_no_reminders = True
        self._invoice(due=date(2027, 3, 1))
        self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().partner_id, self.client_b)

    def test_client_with_another_plan(self):
        gentle = self.env["agency.reminder.plan"].create(
            {
                "name": "Gentle",
                "level_ids": [
                    Command.create(
                        {"name": "Kind note", "days": 20, "mail_template_id": self.template_overdue.id}
                    )
                ],
            }
        )
        self.client_a.agency_reminder_plan_id = gentle
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-15")
        self.assertFalse(self._reminders(), "the company's levels do not apply to it")
        self._run_reminders("2027-03-21")
        self.assertEqual(self._reminders().level_id.name, "Kind note")

    def test_client_without_late_fees_gets_the_reminder_only(self):
        self.client_a.agency_no_late_fees = True
        invoice = self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().level_id, self.level_first)
        self.assertFalse(invoice.agency_late_fee_item_ids)

    def test_reminders_go_to_the_invoice_address_or_the_chosen_contact(self):
        accounts = self.env["res.partner"].create(
            {
                "name": "Acme Accounts",
                "parent_id": self.client_a.id,
                "type": "invoice",
                "email": "ap@acme-bakery.example.com",
            }
        )
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        reminder = self._reminders()
        self.assertEqual(reminder.contact_id, accounts, "Odoo's invoice address of the client")
        self.assertEqual(self._email(reminder)[0].partner_ids, accounts)
        self.client_a.agency_reminder_contact_id = self.client_a_contact
        self._run_reminders("2027-03-15")
        reminder = self._reminders(level=self.level_second)
        self.assertEqual(reminder.contact_id, self.client_a_contact)
        self.assertEqual(self._email(reminder)[0].partner_ids, self.client_a_contact)

    def test_the_reminder_contact_must_belong_to_the_client(self):
        with self.assertRefused(ValidationError, "its own contacts"):
            self.client_a.agency_reminder_contact_id = self.client_b

    def test_a_client_without_email_is_logged_and_reminded_once_fixed(self):
        self.client_a.email = False
        self._invoice(due=date(2027, 3, 1))
        self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().partner_id, self.client_b, "the others are reminded")
        run = self.ReminderRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.skipped_count, 1)
        self.assertEqual(run.log_ids.partner_id, self.client_a)
        self.assertIn("has no email address", run.log_ids.message)
        self.client_a.email = "accounts@acme-bakery.example.com"
        self._run_reminders("2027-03-09")
        self.assertEqual(self._reminders(partner=self.client_a).level_id, self.level_first)


@tagged("post_install", "-at_install")
class TestReminderRun(ReminderCase):
    def test_the_run_commits_in_batches_and_shows_its_progress(self):
        self.env["ir.config_parameter"].set_param("agency_billing.batch_size", "1")
        self._invoice(due=date(2027, 3, 1))
        self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        run = self.ReminderRun.search([("company_id", "=", self.company.id)])
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "trigger": "cron",
                    "date": date(2027, 3, 8),
                    "client_total": 2,
                    "client_done": 2,
                    "reminder_count": 2,
                    "invoice_count": 2,
                    "fee_count": 2,
                    "progress": 100.0,
                }
            ],
        )
        self.assertEqual(run.reminder_ids, self._reminders())

    def test_out_of_time_the_cron_calls_itself_back_and_finishes(self):
        self.env["ir.config_parameter"].set_param("agency_billing.batch_size", "1")
        self._invoice(due=date(2027, 3, 1))
        self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)])
        with (
            patch("odoo.addons.base.models.ir_cron.MIN_TIME_PER_JOB", 0),
            patch("odoo.addons.base.models.ir_cron.MIN_RUNS_PER_JOB", 1),
        ):
            self._run_reminders("2027-03-08")
        run = self.ReminderRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "running")
        self.assertEqual(run.client_done, 1)
        self.assertEqual(len(self._reminders()), 1, "one batch of one client")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)]) - triggers
        )
        self._run_reminders("2027-03-08")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.client_done, 2)
        self.assertEqual(len(self._reminders()), 2, "each client once")

    def test_run_reminders_now_starts_the_cron_at_once(self):
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)])
        action = self.ReminderRun.with_user(self.billing_user).action_run_now()
        self.assertEqual(action["params"]["title"], "Reminder run started")
        new = self.env["ir.cron.trigger"].search([("cron_id", "=", self.reminder_cron.id)]) - triggers
        self.assertLessEqual(new.call_at, fields.Datetime.now())

    def test_one_failing_client_does_not_stop_the_others(self):
        self._invoice(due=date(2027, 3, 1))
        self._invoice(partner=self.client_b, due=date(2027, 3, 1))
        original = type(self.Reminder)._send_emails

        def broken_for_acme(reminders, **kwargs):
            if self.client_a in reminders.partner_id:
                raise UserError("The mail server refused the message")
            return original(reminders, **kwargs)

        with (
            patch.object(type(self.Reminder), "_send_emails", broken_for_acme),
            mute_logger("odoo.addons.agency_billing.models.agency_reminder_run"),
        ):
            self._run_reminders("2027-03-08")
        self.assertEqual(self._reminders().partner_id, self.client_b)
        run = self.ReminderRun.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.error_count, 1)
        self.assertEqual(run.log_ids.message, "The mail server refused the message")
        invoice_a = self._invoices(self.client_a)
        self.assertFalse(invoice_a.agency_reminder_level_id, "nothing half-done for the failed client")
        self.assertFalse(invoice_a.agency_late_fee_item_ids)
        # tomorrow's run tries it again
        self._run_reminders("2027-03-09")
        self.assertEqual(self._reminders(partner=self.client_a).level_id, self.level_first)

    def test_the_database_refuses_a_level_twice_for_an_invoice(self):
        invoice = self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        reminder = self._reminders()
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self.env["agency.reminder.line"].create(
                {
                    "reminder_id": reminder.id,
                    "move_id": invoice.id,
                    "level_id": self.level_first.id,
                    "currency_id": invoice.currency_id.id,
                }
            )

    def test_a_level_sent_meanwhile_is_not_sent_again_by_the_batch(self):
        """The plan is made, then someone sends the level by hand before the batch."""
        invoice = self._invoice(due=date(2027, 3, 1))
        with freeze_time("2027-03-08"):
            run = self.ReminderRun._get_cron_run(self.company)
            todo = run._plan()
            invoice.action_agency_send_reminder()
            run._send_batch(todo)
        self.assertEqual(len(self._reminders()), 1)
        self.assertEqual(run.reminder_count, 0)


@tagged("post_install", "-at_install")
class TestReminderConfiguration(ReminderCase):
    def _level(self, **values):
        values = {"name": "Level", "days": 60, "mail_template_id": self.template_overdue.id, **values}
        return self.env["agency.reminder.level"].create({"plan_id": self.plan.id, **values})

    def test_two_levels_on_the_same_day_are_refused(self):
        with self.assertRefused(ValidationError, "both 7 days after the due date"):
            self._level(name="Another first", days=7)

    def test_bad_fees_are_refused(self):
        product = {"fee_product_id": self.fee_product.id}
        with self.assertRefused(ValidationError, "cannot be negative"):
            self._level(fee_type="fixed", fee_fixed=-5.0, **product)
        with self.assertRefused(ValidationError, "between 0 and 100"):
            self._level(fee_type="percent", fee_percent=150.0, **product)
        with self.assertRefused(ValidationError, "is below its minimum"):
            self._level(fee_type="percent", fee_percent=5.0, fee_min=20.0, fee_max=10.0, **product)
        with self.assertRefused(ValidationError, "Set the amount"):
            self._level(fee_type="fixed", fee_fixed=0.0, **product)
        with self.assertRefused(ValidationError, "Choose the product"):
            self._level(fee_type="fixed", fee_fixed=5.0, fee_product_id=False)
        level = self._level(fee_type="percent", fee_percent=5.0, fee_min=2.0, fee_max=40.0, **product)
        with self.assertRefused(ValidationError, "cannot be negative"):
            level.fee_min = -1.0
        self.assertEqual(level.fee_min, 2.0, "a refused write leaves the level as it was")

    def test_a_template_without_the_pay_link_is_refused_when_clients_pay_online(self):
        self.env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", "True")
        values = {
            "name": "Bare reminder",
            "model_id": self.env["ir.model"]._get_id("agency.reminder"),
            "body_html": "<p>Please pay <t t-out='object.name'/>.</p>",
        }
        with self.assertRefused(ValidationError, "“Bare reminder” has no pay-online link"):
            self.env["mail.template"].create(values)
        with self.assertRefused(ValidationError, "has no pay-online link"):
            self.template_overdue.body_html = "<p>Please pay.</p>"
        values["body_html"] = '<p><a t-att-href="object.line_ids[:1].pay_url">Pay now</a></p>'
        template = self.env["mail.template"].create(values)
        self._level(mail_template_id=template.id)
        # other templates are none of its business
        self.env["mail.template"].create(
            {
                "name": "Hello",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body_html": "<p>Hi</p>",
            }
        )

    def test_switching_online_payment_on_checks_the_reminder_templates(self):
        self.env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", "False")
        self.template_before.body_html = "<p>Soon due.</p>"
        settings = self.env["res.config.settings"].create({"pay_invoices_online": True})
        with self.assertRefused(ValidationError, "Payment Reminder: Due Soon"):
            settings.execute()

    def test_a_level_that_was_sent_cannot_be_deleted(self):
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        with self.assertRefused(UserError, "archive it"):
            self.level_first.unlink()
        self.level_first.active = False
        self.assertNotIn(self.level_first, self.plan.level_ids)

    def test_the_company_plan_cannot_be_archived(self):
        with self.assertRefused(ValidationError, "choose another plan"):
            self.plan.active = False


@tagged("post_install", "-at_install")
class TestReminderAccess(ReminderCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoicing_user = cls._create_new_internal_user(
            login="invoicing_only",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.other_company = cls.env["res.company"].create({"name": "Other Agency"})
        cls.other_plan = cls.env["agency.reminder.plan"].create(
            {
                "name": "Other agency reminders",
                "company_id": cls.other_company.id,
                "level_ids": [
                    Command.create({"name": "Nudge", "days": 1, "mail_template_id": cls.template_overdue.id})
                ],
            }
        )

    def test_only_billing_users_send_and_only_managers_configure(self):
        invoice = self._invoice(due=date(2027, 3, 1))
        with freeze_time("2027-03-08"), self.assertRaises(AccessError):
            invoice.with_user(self.invoicing_user).action_agency_send_reminder()
        self.assertFalse(self._reminders())
        with self.assertRaises(AccessError):
            self.plan.with_user(self.billing_user).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.level_first.with_user(self.billing_user).write({"fee_fixed": 1.0})
        self.plan.with_user(self.billing_manager).write({"name": "Renamed"})
        with freeze_time("2027-03-08"):
            invoice.with_user(self.billing_user).action_agency_send_reminder()
        reminder = self._reminders()
        self.assertEqual(reminder.with_user(self.billing_user).level_id, self.level_first)
        with self.assertRaises(AccessError):
            reminder.with_user(self.billing_user).unlink()
        with self.assertRaises(AccessError):
            reminder.with_user(self.invoicing_user).read(["name"])

    def test_nothing_crosses_companies(self):
        self.billing_user.company_ids = [Command.set(self.company.ids)]
        self.assertFalse(
            self.env["agency.reminder.plan"]
            .with_user(self.billing_user)
            .search([("id", "=", self.other_plan.id)])
        )
        with self.assertRaises(AccessError):
            self.other_plan.with_user(self.billing_user).read(["name"])
        # a plan of another company cannot be the client's plan here
        with self.assertRefused(ValidationError, "belongs to Other Agency"):
            self.company.agency_reminder_plan_id = self.other_plan
        with self.assertRefused(ValidationError, "belongs to Other Agency"):
            self.client_a.with_company(self.company).agency_reminder_plan_id = self.other_plan
        # the other company's run reminds its own invoices only
        self._invoice(due=date(2027, 3, 1))
        self._run_reminders("2027-03-08")
        other_run = self.ReminderRun.sudo().search([("company_id", "=", self.other_company.id)])
        self.assertEqual(other_run.reminder_count, 0)
        self.assertEqual(self._reminders().company_id, self.company)
