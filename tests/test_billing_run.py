"""The billing run: invoice actions, grouping, automation, exactly once."""

from datetime import date
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import config, mute_logger

from .common import AgencyBillingCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestBillingRun(AgencyBillingCase):
    # ------------------------------------------------------------------
    # invoice actions
    # ------------------------------------------------------------------
    def test_next_run_item_is_invoiced_once_and_done(self):
        item = self._create_item(quantity=2, price_unit=60.0)
        run = self._run(date(2027, 3, 10))
        invoice = self._invoices(self.client_a)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.agency_billing_run_id, run)
        self.assertEqual(invoice.invoice_date, date(2027, 3, 10))
        self.assertEqual(invoice.invoice_line_ids.name, "Web hosting")
        self.assertEqual(invoice.amount_untaxed, 120.0)
        self.assertEqual(invoice.state, "posted")  # company default: post
        self.assertEqual(item.state, "done")
        self.assertEqual(item.invoice_ids, invoice)
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "invoice_count": 1,
                    "client_count": 1,
                    "item_count": 1,
                    "line_count": 1,
                    "error_count": 0,
                    "trigger": "manual",
                }
            ],
        )

    def test_on_date_item_waits_for_its_date(self):
        item = self._create_item(invoice_action="on_date", date_due=date(2027, 3, 20))
        self._run(date(2027, 3, 10))
        self.assertFalse(self._invoices(self.client_a))
        self.assertEqual(item.next_invoice_date, date(2027, 3, 20))
        with freeze_time("2027-03-20"):
            self._run(date(2027, 3, 20))
        self.assertEqual(len(self._invoices(self.client_a)), 1)
        self.assertEqual(item.state, "done")

    def test_hold_is_never_invoiced_until_released(self):
        item = self._create_item(invoice_action="hold")
        self._run(date(2027, 3, 10))
        self.assertFalse(self._invoices(self.client_a))
        item.action_release()
        self.assertEqual(item.invoice_action, "next_run")
        self._run(date(2027, 3, 10))
        self.assertEqual(self._invoices(self.client_a).invoice_line_ids.agency_item_id, item)

    def test_next_invoice_item_rides_along_only(self):
        rider = self._create_item(name="Domain renewal", invoice_action="next_invoice", price_unit=18.0)
        self._run(date(2027, 3, 10))
        self.assertFalse(self._invoices(self.client_a), "a next-invoice item alone makes no invoice")
        self.assertEqual(rider.state, "pending")
        self._create_item(name="Design work", price_unit=500.0)
        self._run(date(2027, 3, 10))
        invoice = self._invoices(self.client_a)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(sorted(invoice.invoice_line_ids.mapped("name")), ["Design work", "Domain renewal"])
        self.assertEqual(rider.state, "done")

    def test_recurring_catches_up_every_missed_period_as_its_own_line(self):
        self.client_a.lang = "en_US"
        item = self._create_recurring(date(2027, 1, 1), name="Hosting", price_unit=49.0)
        self._run(date(2027, 3, 10))
        lines = self._invoices(self.client_a).invoice_line_ids.sorted("agency_period_start")
        self.assertEqual(
            lines.mapped("name"),
            [
                "Hosting — 1 Jan 2027 to 31 Jan 2027",
                "Hosting — 1 Feb 2027 to 28 Feb 2027",
                "Hosting — 1 Mar 2027 to 31 Mar 2027",
            ],
        )
        self.assertEqual(
            lines.mapped("agency_period_start"), [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
        )
        self.assertEqual(item.billed_count, 3)
        self.assertEqual(item.remaining_count, -1)
        self.assertEqual(item.next_invoice_date, date(2027, 4, 1))
        self.assertEqual(item.state, "pending")

    def test_recurring_with_count_finishes(self):
        item = self._create_recurring(date(2027, 1, 1), recurring_count=2)
        self._run(date(2027, 3, 10))
        self.assertEqual(len(self._invoices(self.client_a).invoice_line_ids), 2)
        self.assertEqual(item.state, "done")
        self.assertEqual(item.remaining_count, 0)
        self.assertFalse(item.next_invoice_date)

    def test_post_paid_bills_after_the_period(self):
        item = self._create_recurring(date(2027, 2, 1), recurring_invoicing_type="post_paid")
        self._run(date(2027, 3, 10))
        lines = self._invoices(self.client_a).invoice_line_ids
        self.assertEqual(len(lines), 1, "only February has ended")
        self.assertEqual(lines.agency_period_end, date(2027, 2, 28))
        self.assertEqual(item.next_invoice_date, date(2027, 4, 1))

    def test_prorated_first_period(self):
        self._create_recurring(date(2027, 3, 16), is_aligned=True, is_prorated=True, price_unit=31.0)
        with freeze_time("2027-03-16"):
            self._run(date(2027, 3, 16))
        line = self._invoices(self.client_a).invoice_line_ids
        self.assertEqual(line.quantity, 1.0)
        self.assertAlmostEqual(line.price_subtotal, 16.0, places=2)
        self.assertIn("prorated", line.name)

    def test_period_labels_in_each_clients_language(self):
        """One run, clients in two languages: each line's dates in its client's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client_b.lang = "fr_FR"
        self._create_recurring(date(2027, 3, 1), name="Hosting")
        self._create_recurring(
            date(2027, 3, 16),
            name="Hébergement",
            partner_id=self.client_b.id,
            is_aligned=True,
            is_prorated=True,
        )
        self._run(date(2027, 3, 16))
        self.assertEqual(
            self._invoices(self.client_a).invoice_line_ids.name, "Hosting — 1 Mar 2027 to 31 Mar 2027"
        )
        self.assertEqual(
            self._invoices(self.client_b).invoice_line_ids.name,
            "Hébergement — 16 mars 2027 to 31 mars 2027 (prorated: 51.61%)",
        )

    def test_period_labels_of_a_client_whose_language_is_not_installed(self):
        """A client whose language is none, or not installed (any more): Odoo's fallback, the
        context's language, whatever was billed before in another one."""
        self.env["res.lang"]._activate_lang("fr_FR")
        item = self._create_recurring(date(2027, 3, 1), name="Hosting")
        [period] = item._get_due_periods(date(2027, 3, 10))[item]
        self.assertNotIn("de_CH", dict(self.env["res.lang"].get_installed()))
        for lang in ("de_CH", False):
            english = item.with_context(lang="en_US")._get_line_description(period, lang=lang)
            french = item.with_context(lang="fr_FR")._get_line_description(period, lang=lang)
            self.assertEqual(english, "Hosting — 1 Mar 2027 to 31 Mar 2027")
            self.assertEqual(french, "Hosting — 1 mars 2027 to 31 mars 2027")

    def test_paused_and_stopped_items_are_not_billed(self):
        paused = self._create_recurring(date(2027, 3, 1))
        paused.action_pause()
        stopped = self._create_recurring(date(2027, 3, 1), partner_id=self.client_b.id)
        stopped.action_stop()
        self._run(date(2027, 3, 10))
        self.assertFalse(self._invoices())
        paused.action_resume()
        self._run(date(2027, 3, 10))
        self.assertEqual(len(self._invoices(self.client_a)), 1)
        with self.assertRaises(UserError):
            stopped.action_resume()

    # ------------------------------------------------------------------
    # grouping and automation
    # ------------------------------------------------------------------
    def test_one_invoice_per_client_and_currency(self):
        eur = self.setup_other_currency("EUR")
        self._create_item(name="A1")
        self._create_item(name="A2")
        self._create_item(name="A3 in euros", currency_id=eur.id)
        self._create_item(name="B1", partner_id=self.client_b.id)
        self._run(date(2027, 3, 10))
        invoices_a = self._invoices(self.client_a)
        self.assertEqual(len(invoices_a), 2)
        self.assertEqual(sorted(len(inv.invoice_line_ids) for inv in invoices_a), [1, 2])
        self.assertEqual(
            invoices_a.filtered(lambda m: m.currency_id == eur).invoice_line_ids.name, "A3 in euros"
        )
        self.assertEqual(len(self._invoices(self.client_b)), 1)

    def test_one_invoice_per_project_when_the_client_asks(self):
        project_x = self.env["project.project"].create({"name": "Site X", "partner_id": self.client_a.id})
        project_y = self.env["project.project"].create({"name": "Site Y", "partner_id": self.client_a.id})
        self._create_item(name="X", project_id=project_x.id)
        self._create_item(name="Y", project_id=project_y.id)
        self._run(date(2027, 3, 10))
        self.assertEqual(len(self._invoices(self.client_a)), 1)

        self.client_b.billing_group_by_project = True
        self._create_item(name="X", project_id=project_x.id, partner_id=self.client_b.id)
        self._create_item(name="Y", project_id=project_y.id, partner_id=self.client_b.id)
        self._run(date(2027, 3, 10))
        invoices = self._invoices(self.client_b)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(sorted(invoices.invoice_line_ids.mapped("name")), ["X", "Y"])
        line_x = invoices.invoice_line_ids.filtered(lambda line: line.name == "X")
        self.assertEqual(line_x.analytic_distribution, {str(project_x.account_id.id): 100})

    def test_invoice_goes_to_the_invoice_address(self):
        invoice_contact = self.env["res.partner"].create(
            {
                "name": "Accounts Dept",
                "type": "invoice",
                "parent_id": self.client_a.id,
                "email": "ap@acme.example.com",
            }
        )
        self._create_item()
        self._run(date(2027, 3, 10))
        invoice = self._invoices(self.client_a)
        self.assertEqual(invoice.partner_id, invoice_contact)

    def test_automation_levels(self):
        self.client_a.billing_automation = "draft"
        self.client_b.billing_automation = "post"
        self._create_item()
        self._create_item(partner_id=self.client_b.id)
        self._run(date(2027, 3, 10))
        self.assertEqual(self._invoices(self.client_a).state, "draft")
        self.assertEqual(self._invoices(self.client_b).state, "posted")

    def test_post_and_send_emails_the_pdf(self):
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        self.client_a.billing_automation = "send"
        self._create_item()
        self._run(date(2027, 3, 10))
        invoice = self._invoices(self.client_a)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.sending_data, "queued for Odoo's own sending")
        # what Odoo's sending cron does, with a real PDF from wkhtmltopdf
        self.env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        self.env["account.move.send"].with_context(force_report_rendering=True)._generate_and_send_invoices(
            invoice, from_cron=True
        )
        self.assertFalse(invoice.sending_data)
        self.assertTrue(invoice.is_move_sent)
        message = invoice.message_ids.filtered(lambda m: m.message_type == "comment" and m.attachment_ids)[:1]
        self.assertIn(self.client_a, message.partner_ids)
        pdf = message.attachment_ids.filtered(lambda a: a.mimetype == "application/pdf")
        self.assertTrue(pdf, "the invoice PDF is attached to the email")
        self.assertTrue(pdf.raw.startswith(b"%PDF"))
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertTrue(mail, "an email is queued to the client")

    def test_no_email_before_the_document_layout_is_set_up(self):
        """Odoo asks for the layout on the first print: the first automatic sending waits for it too."""
        self.company.external_report_layout_id = False
        self.client_a.billing_automation = "send"
        self._create_item()
        run = self._run(date(2027, 3, 10))
        invoice = run.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.sending_data, "not queued for sending")
        self.assertIn("document layout is not set up", run.log_ids.message)
        self.assertEqual(run.log_ids.move_ids, invoice)
        self.assertTrue(run.has_unsent_invoices, "listed for sending from the run")
        action = run.action_send_invoices()
        self.assertEqual(action["res_model"], "account.move.send.wizard")

    def test_invoices_never_show_the_run_number(self):
        self._create_item()
        run = self._run(date(2027, 3, 10))
        invoice = run.invoice_ids
        self.assertEqual(invoice.agency_billing_run_id, run, "the link stays, out of sight")
        self.assertFalse(invoice.invoice_origin)
        html = self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", invoice.ids)[0]
        self.assertIn(invoice.name, html.decode())
        self.assertNotIn(run.name, html.decode(), "not on Odoo's invoice PDF")
        body = self.env.ref("account.email_template_edi_invoice")._render_field("body_html", invoice.ids)
        self.assertNotIn(run.name, str(body[invoice.id]), "not in the invoice email")

    def test_draft_clients_get_new_charges_on_their_open_draft(self):
        self.client_a.billing_automation = "draft"
        first_item = self._create_item(name="Hosting March", price_unit=50.0)
        first = self._run(date(2027, 3, 10)).invoice_ids
        self.assertEqual(first.state, "draft")
        second_item = self._create_item(name="Extra work", price_unit=80.0)
        with freeze_time("2027-03-12"):
            run = self._run(date(2027, 3, 12))
        self.assertFalse(run.invoice_ids, "no second draft")
        self.assertEqual(self._invoices(self.client_a), first)
        self.assertEqual(
            sorted(first.invoice_line_ids.mapped("name")),
            ["Extra work", "Hosting March"],
            "added to the open draft",
        )
        self.assertEqual(first.amount_untaxed, 130.0)
        self.assertEqual(first.invoice_date, date(2027, 3, 12))
        self.assertEqual(run.log_ids.move_ids, first)
        self.assertEqual((first_item.state, second_item.state), ("done", "done"))
        # billed once: a third run adds nothing
        self.assertFalse(self._run(date(2027, 3, 12)).log_ids.move_ids)
        # a client that wants separate drafts gets one per run
        self.client_a.billing_separate_drafts = True
        self._create_item(name="More work", price_unit=10.0)
        separate = self._run(date(2027, 3, 12)).invoice_ids
        self.assertEqual(separate.invoice_line_ids.name, "More work")
        self.assertEqual(len(self._invoices(self.client_a)), 2)

    # ------------------------------------------------------------------
    # dry run and exactly once
    # ------------------------------------------------------------------
    def test_dry_run_lists_totals_and_writes_nothing(self):
        item = self._create_recurring(date(2027, 2, 1), price_unit=100.0)
        self._create_item(partner_id=self.client_b.id, price_unit=40.0)
        runs_before = self.Run.search_count([])
        moves_before = self.env["account.move"].search_count([])
        wizard = self.env["agency.billing.run.wizard"].create({"date": date(2027, 3, 10)})
        wizard.action_preview()
        by_client = {line.partner_id: line for line in wizard.line_ids}
        self.assertEqual(by_client[self.client_a].amount_untaxed, 200.0)
        self.assertEqual(by_client[self.client_a].line_count, 2)
        self.assertEqual(by_client[self.client_b].amount_untaxed, 40.0)
        self.assertGreater(by_client[self.client_a].amount_total, 200.0, "taxes come from Odoo")
        self.assertEqual(self.Run.search_count([]), runs_before)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(item.billed_count, 0)
        self.assertEqual(item.next_invoice_date, date(2027, 2, 1))
        wizard.action_run()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 2)

    def test_second_run_on_the_same_day_creates_nothing(self):
        self.client_a.billing_automation = "send"
        self._create_recurring(date(2027, 1, 1))
        self._create_item(invoice_action="on_date", date_due=date(2027, 3, 1))
        self._run(date(2027, 3, 10))
        invoices = self._invoices()
        mails = self.env["account.move"].search_count([("sending_data", "!=", False)])
        second = self._run(date(2027, 3, 10))
        self.assertEqual(self._invoices(), invoices)
        self.assertEqual(second.invoice_count, 0)
        self.assertEqual(self.env["account.move"].search_count([("sending_data", "!=", False)]), mails)

    def test_database_refuses_a_period_on_two_invoices(self):
        item = self._create_item()
        self._run(date(2027, 3, 10))
        line = item.invoice_line_ids
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.cr.savepoint():
            self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "copy",
                                "price_unit": 1.0,
                                "agency_item_id": item.id,
                                "agency_period_key": line.agency_period_key,
                            }
                        )
                    ],
                }
            )
            self.env.flush_all()

    def test_cancelling_releases_a_credit_note_does_not(self):
        item = self._create_recurring(date(2027, 3, 1))
        self._run(date(2027, 3, 10))
        invoice = item.invoice_ids
        # a credit note keeps the period billed
        self._reverse_invoice(invoice, post=True)
        self.assertEqual(item.billed_count, 1)
        self._run(date(2027, 3, 10))
        self.assertEqual(len(item.invoice_ids), 1)

        invoice2 = self._run_and_get_new(date(2027, 3, 10), item, release=invoice)
        self.assertNotEqual(invoice2, invoice)
        self.assertEqual(invoice2.invoice_line_ids.agency_period_start, date(2027, 3, 1))

    def _run_and_get_new(self, run_date, item, release):
        release.button_draft()
        release.button_cancel()
        self.assertEqual(item.billed_count, 0)
        self.assertEqual(item.next_invoice_date, date(2027, 3, 1))
        self._run(run_date)
        self.assertEqual(item.billed_count, 1)
        return item.invoice_ids

    def test_deleting_a_draft_invoice_releases(self):
        self.client_a.billing_automation = "draft"
        item = self._create_item()
        self._run(date(2027, 3, 10))
        self.assertEqual(item.state, "done")
        item.invoice_ids.unlink()
        self.assertEqual(item.state, "pending")

    # ------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------
    def test_invoice_selected_items_now(self):
        held = self._create_item(invoice_action="hold", name="Held")
        later = self._create_item(invoice_action="on_date", date_due=date(2027, 6, 1), name="Later")
        other = self._create_item(name="Not selected")
        (held | later).action_invoice_now()
        lines = self._invoices(self.client_a).invoice_line_ids
        self.assertEqual(sorted(lines.mapped("name")), ["Held", "Later"])
        self.assertEqual(other.state, "pending")

    def test_bill_this_client_now(self):
        self._create_item()
        self._create_item(partner_id=self.client_b.id)
        action = self.client_a.action_bill_now()
        run = self.Run.browse(action["res_id"])
        self.assertEqual(run.trigger, "client")
        self.assertEqual(len(self._invoices(self.client_a)), 1)
        self.assertFalse(self._invoices(self.client_b))
        with self.assertRaises(UserError):
            self.client_a.action_bill_now()

    def test_scheduled_action_runs_billing(self):
        self._create_item()
        cron = self.env.ref("agency_billing.ir_cron_bill_due_items")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        run = self.Run.search([("trigger", "=", "cron"), ("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "done")
        self.assertEqual(run.date, date(2027, 3, 10))
        self.assertEqual(len(self._invoices(self.client_a)), 1)

    def test_scheduled_action_calls_itself_back_when_work_remains(self):
        """Out of time with clients left: the cron asks to run again at once."""
        self._create_item()
        self._create_item(partner_id=self.client_b.id)
        self.env["ir.config_parameter"].set_param("agency_billing.batch_size", "1")
        cron = self.env.ref("agency_billing.ir_cron_bill_due_items")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        with (
            patch("odoo.addons.base.models.ir_cron.MIN_TIME_PER_JOB", 0),
            patch("odoo.addons.base.models.ir_cron.MIN_RUNS_PER_JOB", 1),
            self.enter_registry_test_mode(),
        ):
            cron.method_direct_trigger()
        run = self.Run.search([("trigger", "=", "cron"), ("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "running")
        self.assertEqual(len(self._invoices()), 1, "one batch of one client")
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertTrue(new_triggers, "the cron called itself back")
        self.assertLessEqual(new_triggers[0].call_at, fields.Datetime.now())
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.client_count, 2)
        self.assertEqual(len(self._invoices()), 2)

    # ------------------------------------------------------------------
    # failures
    # ------------------------------------------------------------------
    def test_a_failing_client_does_not_stop_the_others(self):
        bad = self._create_item(partner_id=self.client_b.id)
        good = self._create_item()
        self.client_b.action_archive()
        run = self._run(date(2027, 3, 10))
        self.assertEqual(good.state, "done")
        self.assertEqual(bad.state, "pending")
        self.assertIn("archived", bad.billing_error)
        self.assertEqual(run.error_count, 1)
        log = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(log.partner_id, self.client_b)
        self.assertIn(bad, log.item_ids)
        self.assertIn("could not bill this client", self.client_b.message_ids[0].body)

    def test_an_error_at_posting_rolls_back_only_that_client(self):
        """All or nothing per client: an invoice Odoo refuses to post leaves nothing behind."""
        good = self._create_item()
        bad = self._create_item(partner_id=self.client_b.id, name="Bad", price_unit=-100.0)
        run = self._run(date(2027, 3, 10))
        self.assertEqual(good.state, "done")
        self.assertFalse(self._invoices(self.client_b), "no draft left behind for the failed client")
        self.assertEqual(bad.state, "pending")
        self.assertTrue(bad.billing_error)
        self.assertEqual(run.error_count, 1)
        bad.price_unit = 100.0
        run = self._run(date(2027, 3, 10))
        self.assertEqual(bad.state, "done")
        self.assertFalse(bad.billing_error)

    def test_no_income_account_flags_the_item(self):
        product = self._create_product(name="No account", property_account_income_id=False)
        product.categ_id.property_account_income_categ_id = False
        self.company_data["default_journal_sale"].default_account_id = False
        self.company.income_account_id = False
        item = self._create_item(product_id=product.id)
        self._run(date(2027, 3, 10))
        self.assertIn("income account", item.billing_error)
        self.assertEqual(item.state, "pending")

    def test_a_locked_accounting_period_flags_the_items(self):
        self.company.fiscalyear_lock_date = date(2027, 3, 31)
        item = self._create_item()
        other = self._create_item(partner_id=self.client_b.id)
        run = self._run(date(2027, 3, 10))
        self.assertEqual(run.invoice_count, 0)
        self.assertIn("Lock Date", item.billing_error)
        self.assertEqual((item.state, other.state), ("pending", "pending"))
        self.assertEqual(run.error_count, 2)
        self.assertFalse(self._invoices(), "nothing half-written")

    def test_a_run_of_one_batch_finishes_at_once(self):
        for partner in (self.client_a, self.client_b):
            self._create_item(partner_id=partner.id)
        run = self._run(date(2027, 3, 10))
        self.assertEqual(run.state, "done")
        self.assertEqual((run.partner_done_count, run.partner_total_count, run.progress), (2, 2, 100.0))

    def test_a_run_of_more_than_one_batch_is_handed_to_the_billing_job(self):
        self.env["ir.config_parameter"].set_param("agency_billing.batch_size", "1")
        for partner in (self.client_a, self.client_b):
            self._create_item(partner_id=partner.id)
        cron = self.env.ref("agency_billing.ir_cron_bill_due_items")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        run = self._run(date(2027, 3, 10))
        self.assertEqual(run.state, "queued")
        self.assertFalse(run.invoice_ids, "nothing is billed in the request")
        self.assertEqual(
            Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1, "the job is called at once"
        )
        # the job carries it out
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.invoice_count, 2)

    def test_only_running_runs_can_be_stopped(self):
        self._create_item()
        run = self._run(date(2027, 3, 10))
        with self.assertRaisesRegex(UserError, "is not running"):
            run.action_stop()

    def test_run_actions_check_access(self):
        self._create_item()
        run = self._run(date(2027, 3, 10))
        self.assertEqual(
            run.with_user(self.billing_user).action_view_invoices()["domain"],
            [("agency_billing_run_id", "=", run.id)],
        )
        portal = self._create_new_portal_user(login="acme_portal_runs", partner_id=self.client_a_contact.id)
        internal = self._create_new_internal_user(login="no_billing", groups="base.group_user")
        other_company = self.setup_other_company()["company"]
        outsider = self._create_new_internal_user(
            login="other_company_biller",
            groups="base.group_user,agency_billing.group_agency_billing_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        for user in (portal, internal, outsider):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                run.with_user(user).action_view_invoices()
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                run.with_user(user).action_stop()

    def test_preview_of_a_big_run_bills_a_first_page_and_totals_the_rest(self):
        """Every client's previewed total equals what the run then invoices."""
        clients = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True, "customer_rank": 1} for n in range(6)]
        )
        tax_included = self.env["account.tax"].create(
            {
                "name": "21% incl.",
                "amount_type": "percent",
                "amount": 21.0,
                "price_include_override": "tax_included",
            }
        )
        for index, client in enumerate(clients):
            self._create_item(partner_id=client.id, price_unit=33.33 + index, quantity=1.5)
            self._create_recurring(
                date(2027, 1, 15),
                partner_id=client.id,
                price_unit=121.0,
                tax_ids=[Command.set(tax_included.ids)],
            )
        with patch("odoo.addons.agency_billing.const.PREVIEW_FULL_CLIENTS", 2):
            lines = self.Run._preview(self.company, date(2027, 3, 10), partners=clients)
        self.assertFalse(self._invoices(), "a preview writes nothing")
        self.assertEqual(sorted(line["level"] for line in lines), ["billed"] * 2 + ["estimated"] * 4)
        run = self._run(date(2027, 3, 10), partners=clients)
        for line in lines:
            invoice = run.invoice_ids.filtered(
                lambda m, p=line["partner_id"]: m.commercial_partner_id.id == p
            )
            self.assertEqual(
                (line["amount_untaxed"], line["amount_total"]), (invoice.amount_untaxed, invoice.amount_total)
            )

    def test_other_company_items_are_not_billed(self):
        other = self.setup_other_company(name="Other Agency")["company"]
        self.env["agency.billable.item"].with_company(other).create(
            {
                "name": "Other company's charge",
                "partner_id": self.client_a.id,
                "company_id": other.id,
                "price_unit": 10.0,
            }
        )
        self._run(date(2027, 3, 10))
        self.assertFalse(self._invoices(self.client_a))
