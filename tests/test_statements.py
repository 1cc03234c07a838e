"""Client statements: figures equal to Odoo's own, aging as of the end date,
the PDF, sending one, many in the background, the monthly schedule, access."""

from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, tagged

from odoo.addons.agency_billing import documents

from .common import AgencyBillingCase, AgencyBillingHttpCase, pdf_text, render_pdf


class StatementFixture:
    """Acme Bakery, from January to March 2027, in dollars and in euros.

    USD: INV1 1,000.00 (10 Jan, due 10 Jan), INV2 500.00 (5 Feb, due 7 Mar),
    a 300.00 payment of INV1 (15 Feb), a 100.00 credit note on INV2 (1 Mar),
    a 1,000.00 payment of INV1 (20 Mar) that pays its last 700.00 and leaves
    300.00 of credit. EUR: 200.00 (20 Feb, due 22 Mar), 50.00 paid on 5 Mar
    at another rate (Odoo books an exchange difference).
    """

    @classmethod
    def setup_statement_fixture(cls):
        cls.usd = cls.company.currency_id
        cls.eur = cls.setup_other_currency("EUR", rates=[("2027-01-01", 2.0), ("2027-03-01", 2.5)])
        client = cls.client_a
        cls.inv1 = cls._post_invoice(client, date(2027, 1, 10), date(2027, 1, 10), 1000.0)
        cls.inv2 = cls._post_invoice(client, date(2027, 2, 5), date(2027, 3, 7), 500.0)
        cls.pay1 = cls._register_payment(cls.inv1, amount=300.0, payment_date=date(2027, 2, 15))
        cls.refund = cls._post_invoice(
            client, date(2027, 3, 1), date(2027, 3, 1), 100.0, move_type="out_refund"
        )
        (cls.inv2 + cls.refund).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        cls.pay2 = cls._register_payment(
            cls.inv1, amount=1000.0, payment_date=date(2027, 3, 20), payment_difference_handling="open"
        )
        cls.inv_eur = cls._post_invoice(client, date(2027, 2, 20), date(2027, 3, 22), 200.0, currency=cls.eur)
        cls.pay_eur = cls._register_payment(
            cls.inv_eur, amount=50.0, currency_id=cls.eur.id, payment_date=date(2027, 3, 5)
        )
        # another client, never on Acme's statement
        cls.other_inv = cls._post_invoice(cls.client_b, date(2027, 2, 10), date(2027, 2, 10), 777.0)
        cls.Statement = cls.env["agency.statement"]

    @classmethod
    def _post_invoice(cls, partner, day, due, amount, *, move_type="out_invoice", currency=None):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": day,
                "date": day,
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "currency_id": (currency or cls.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create({"name": "Design work", "price_unit": amount, "tax_ids": False})
                ],
            }
        )
        move.action_post()
        return move

    def _values(self, date_from, date_to, partner=None, company=None):
        partner = partner or self.client_a
        return self.Statement._get_statement_values(partner, company or self.company, date_from, date_to)[
            partner.commercial_partner_id.id
        ]

    def _trigger(self, cron):
        """Run a scheduled action as its worker does."""
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()

    @staticmethod
    def _section(values, currency):
        return next(s for s in values["sections"] if s["currency"] == currency)


@tagged("post_install", "-at_install")
@freeze_time("2027-04-30")
class TestStatementFigures(StatementFixture, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()

    def test_closing_balance_equals_odoos_partner_balance(self):
        values = self._values(date(2027, 1, 1), date(2027, 4, 30))
        client = self.client_a.with_company(self.company)
        client.invalidate_recordset(["credit"])
        self.assertEqual(values["company_balance"], client.credit, "Odoo's Total Receivable")
        self.assertTrue(self.company.currency_id.compare_amounts(client.credit, 175.0) == 0)
        # per currency, what Odoo says is still open in that currency
        residuals = dict(
            self.env["account.move.line"]._read_group(
                [
                    ("partner_id", "=", self.client_a.id),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("parent_state", "=", "posted"),
                    ("company_id", "=", self.company.id),
                ],
                groupby=["currency_id"],
                aggregates=["amount_residual_currency:sum"],
            )
        )
        self.assertEqual(self._section(values, self.usd)["closing"], 100.0)
        self.assertEqual(self._section(values, self.usd)["closing"], residuals[self.usd])
        self.assertEqual(self._section(values, self.eur)["closing"], 150.0)
        self.assertEqual(self._section(values, self.eur)["closing"], residuals[self.eur])
        self.assertTrue(values["is_multi_currency"])
        self.assertEqual(values["sections"][0]["currency"], self.usd, "the company's currency first")

    def test_period_lines_running_balance_and_applied_credits(self):
        values = self._values(date(2027, 2, 1), date(2027, 3, 31))
        usd = self._section(values, self.usd)
        self.assertEqual(usd["opening"], 1000.0, "INV1 was before the period")
        rows = [(r["kind"], r["reference"], r["debit"], r["credit"], r["balance"]) for r in usd["lines"]]
        self.assertEqual(
            rows,
            [
                ("invoice", self.inv2.name, 500.0, 0.0, 1500.0),
                ("payment", self.pay1.move_id.name, 0.0, 300.0, 1200.0),
                ("credit_note", self.refund.name, 0.0, 100.0, 1100.0),
                ("payment", self.pay2.move_id.name, 0.0, 1000.0, 100.0),
            ],
        )
        self.assertEqual((usd["charges"], usd["credits"], usd["closing"]), (500.0, 1400.0, 100.0))
        applied = {
            r["reference"]: [(a["reference"], a["amount"]) for a in r["applied"]] for r in usd["lines"]
        }
        self.assertEqual(
            applied[self.pay2.move_id.name], [(self.inv1.name, 700.0)], "the rest is unapplied credit"
        )
        self.assertEqual(applied[self.refund.name], [(self.inv2.name, 100.0)])
        eur = self._section(values, self.eur)
        self.assertEqual(
            [(r["kind"], r["amount"]) for r in eur["lines"]], [("invoice", 200.0), ("payment", -50.0)]
        )
        self.assertEqual((eur["opening"], eur["closing"]), (0.0, 150.0))
        self.assertNotIn(self.other_inv.name, str(values), "never another client's documents")

    def test_aging_as_of_the_end_date(self):
        # 31 March: INV2 400.00 is 24 days overdue, the unapplied 300.00 credit of
        # 20 March sits in the same bucket; INV1 is paid
        usd = self._section(self._values(date(2027, 2, 1), date(2027, 3, 31)), self.usd)
        self.assertEqual(
            usd["aging"],
            {"current": 0.0, "1_30": 100.0, "31_60": 0.0, "61_90": 0.0, "over_90": 0.0},
        )
        self.assertEqual(sum(usd["aging"].values()), usd["closing"])
        self.assertEqual(
            sorted((i["reference"], i["residual"]) for i in usd["open_items"]),
            sorted([(self.inv2.name, 400.0), (self.pay2.move_id.name, -300.0)]),
        )
        # 10 March: the 20 March payment had not happened yet: INV1 still owed 700.00
        usd = self._section(self._values(date(2027, 2, 1), date(2027, 3, 10)), self.usd)
        self.assertEqual(usd["closing"], 1100.0)
        self.assertEqual(
            usd["aging"],
            {"current": 0.0, "1_30": 400.0, "31_60": 700.0, "61_90": 0.0, "over_90": 0.0},
        )
        # 30 April: INV2's 400.00 (due 7 March) is 54 days late, less the credit of 20 March (41 days)
        values = self._values(date(2027, 4, 1), date(2027, 4, 30))
        usd = self._section(values, self.usd)
        self.assertEqual(usd["lines"], [], "nothing happened in April")
        self.assertEqual(usd["aging"]["31_60"], 100.0)
        eur = self._section(values, self.eur)
        self.assertEqual(eur["aging"]["31_60"], 150.0, "EUR invoice due 22 March")
        self.assertEqual(sum(eur["aging"].values()), eur["closing"])

    def test_bad_period_and_empty_statement(self):
        with self.assertRaisesRegex(UserError, "start date"):
            self._values(date(2027, 3, 31), date(2027, 3, 1))
        newcomer = self.env["res.partner"].create({"name": "Newcomer Ltd", "is_company": True})
        values = self._values(date(2027, 1, 1), date(2027, 3, 31), partner=newcomer)
        self.assertEqual(values["company_balance"], 0.0)
        self.assertEqual(len(values["sections"]), 1)
        section = values["sections"][0]
        self.assertEqual((section["opening"], section["closing"], section["lines"]), (0.0, 0.0, []))
        self.assertIn("No transactions in this period", pdf_text(self._pdf(newcomer)))

    def _pdf(self, partner, date_from=date(2027, 2, 1), date_to=date(2027, 3, 31)):
        return render_pdf(
            self.env,
            "agency_billing.report_statement_main",
            partner.ids,
            data={"date_from": str(date_from), "date_to": str(date_to), "company_id": self.company.id},
        )

    def test_pdf_says_it(self):
        self.client_a.agency_payment_instructions = "Pay by bank transfer to IBAN GB00 TEST 1234."
        text = pdf_text(self._pdf(self.client_a))
        self.assertIn("Statement of Account", text)
        self.assertIn("Acme Bakery", text)
        self.assertIn(self.company.name, text, "the sender is in the body")
        self.assertRegex(text, r"Opening balance\s+\$\s?1,000\.00")
        self.assertIn(self.inv2.name, text)
        self.assertIn(f"Applied to {self.inv1.name}", text)
        self.assertRegex(text, r"Closing balance\s+\$\s?500\.00\s+\$\s?1,400\.00\s+\$\s?100\.00")
        self.assertIn("Amounts in EUR", text)
        self.assertRegex(text, r"Total balance in USD:\s+\$\s?175\.00")
        self.assertIn("Pay by bank transfer to IBAN GB00 TEST 1234.", text)
        self.assertNotIn(self.other_inv.name, text)

    def test_contacts_documents_are_the_clients(self):
        invoice = self._post_invoice(self.client_a_contact, date(2027, 3, 3), date(2027, 3, 3), 40.0)
        values = self._values(date(2027, 3, 1), date(2027, 3, 31), partner=self.client_a_contact)
        self.assertEqual(values["partner"], self.client_a)
        self.assertIn(invoice.name, [r["reference"] for r in self._section(values, self.usd)["lines"]])


@tagged("post_install", "-at_install")
@freeze_time("2027-04-30")
class TestStatementSending(StatementFixture, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()
        cls.cron = cls.env.ref("agency_billing.ir_cron_send_statements")

    def _wizard(self, partners=None, **values):
        context = {"default_partner_ids": partners.ids} if partners else {}
        return (
            self.env["agency.statement.wizard"]
            .with_context(**context)
            .create({"date_from": date(2027, 2, 1), "date_to": date(2027, 3, 31), **values})
        )

    def test_send_one_statement_by_email(self):
        self._wizard(self.client_a).action_send()
        statement = self.Statement.search([("partner_id", "=", self.client_a.id)])
        self.assertEqual(statement.state, documents.STATEMENT_SENT)
        self.assertEqual(statement.email_to, "accounts@acme-bakery.example.com")
        self.assertEqual(statement.balance, 175.0)
        self.assertEqual(statement.balance_details.replace("\xa0", " "), "$ 100.00, 150.00 €")
        self.assertEqual(statement.attachment_id.mimetype, "application/pdf")
        mail = self.env["mail.mail"].search(
            [("model", "=", "agency.statement"), ("res_id", "=", statement.id)]
        )
        self.assertEqual(mail.state, "outgoing", "queued for Odoo's mail queue")
        self.assertIn(self.client_a, mail.recipient_ids)
        self.assertEqual(mail.attachment_ids, statement.attachment_id)
        self.assertIn("your statement of account", mail.subject)
        self.assertEqual(self.client_a.agency_statement_count, 1)

    def test_client_without_email_is_told_not_sent(self):
        self.client_b.email = False
        with self.assertRaisesRegex(UserError, "no email address"):
            self._wizard(self.client_b).action_send()
        self.assertFalse(self.Statement.search([("partner_id", "=", self.client_b.id)]), "nothing half-made")
        action = str(self._wizard(self.client_b).action_print())
        self.assertIn("agency_billing.report_statement_main", action)
        self.assertIn("'date_to': '2027-03-31'", action)

    def test_reversed_period_is_refused(self):
        wizard = self._wizard(self.client_a, date_from=date(2027, 4, 1))
        with self.assertRaisesRegex(UserError, "start date"):
            wizard.action_send()
        with self.assertRaisesRegex(UserError, "start date"):
            wizard.action_print()

    def test_many_clients_in_the_background_in_batches(self):
        self.env["ir.config_parameter"].set_param(documents.PARAM_STATEMENT_BATCH_SIZE, "2")
        extra = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True, "email": f"c{n}@example.com"} for n in range(3)]
        )
        self.client_b.email = False
        clients = self.client_a | self.client_b | extra
        action = (
            self.env["agency.statement.wizard"]
            .with_context(active_model="res.partner", active_ids=clients.ids)
            .create({"date_from": date(2027, 2, 1), "date_to": date(2027, 3, 31)})
            .action_send()
        )
        run = self.env["agency.statement.run"].browse(action["res_id"])
        self.assertEqual((run.state, run.client_count, run.done_count), ("queued", 5, 0))
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]), "the job starts at once"
        )
        self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.done_count, run.progress), ("done", 5, 100.0))
        self.assertEqual((run.sent_count, run.no_email_count, run.error_count), (4, 1, 0))
        self.assertEqual(len(run.statement_ids), 5)
        self.assertEqual(
            run.statement_ids.filtered(lambda s: s.partner_id == self.client_b).state, "no_email"
        )
        self.assertTrue(all(run.statement_ids.attachment_id), "every client's PDF, sent or not")

    def test_out_of_time_the_job_calls_itself_back(self):
        self.env["ir.config_parameter"].set_param(documents.PARAM_STATEMENT_BATCH_SIZE, "1")
        run = self.env["agency.statement.run"]._queue(
            self.client_a | self.client_b, self.company, date(2027, 2, 1), date(2027, 3, 31)
        )
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        with (
            patch("odoo.addons.base.models.ir_cron.MIN_TIME_PER_JOB", 0),
            patch("odoo.addons.base.models.ir_cron.MIN_RUNS_PER_JOB", 1),
        ):
            self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.done_count, run.progress), ("running", 1, 50.0), "one batch of one")
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers
        self.assertTrue(new_triggers, "the job called itself back")
        self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.done_count), ("done", 2))

    def test_a_cancelled_run_stops(self):
        run = self.env["agency.statement.run"]._queue(
            self.client_a | self.client_b, self.company, date(2027, 2, 1), date(2027, 3, 31)
        )
        run.action_cancel()
        self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.done_count), ("cancelled", 0))
        self.assertFalse(run.statement_ids)
        with self.assertRaises(UserError):
            run.action_cancel()

    def test_a_stopped_run_resumes_without_duplicates(self):
        extra = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True, "email": f"c{n}@example.com"} for n in range(3)]
        )
        run = self.env["agency.statement.run"]._queue(
            self.client_a | extra, self.company, date(2027, 2, 1), date(2027, 3, 31)
        )
        # the job was stopped after its first batch
        run.write({"state": "running"})
        run._process(self.client_a | extra[0])
        self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.statement_ids), 4)
        self.assertEqual(run.statement_ids.partner_id, self.client_a | extra)

    def test_one_failing_client_does_not_stop_the_run(self):
        run = self.env["agency.statement.run"]._queue(
            self.client_a | self.client_b, self.company, date(2027, 2, 1), date(2027, 3, 31)
        )
        original = type(self.Statement)._render_pdf

        def render(statement_model, partner, *args, **kwargs):
            if partner == self.client_b:
                raise UserError("The printer is on fire")
            return original(statement_model, partner, *args, **kwargs)

        with patch.object(type(self.Statement), "_render_pdf", render):
            self._trigger(self.cron)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.sent_count, run.error_count), ("done", 1, 1))
        failed = run.statement_ids.filtered(lambda s: s.partner_id == self.client_b)
        self.assertEqual((failed.state, failed.error), ("error", "The printer is on fire"))

    def test_active_clients_scope(self):
        paid_up = self.env["res.partner"].create({"name": "Paid Up Ltd", "is_company": True})
        invoice = self._post_invoice(paid_up, date(2027, 1, 5), date(2027, 1, 5), 80.0)
        self._register_payment(invoice, payment_date=date(2027, 1, 20))
        wizard = self._wizard(scope="active")
        self.assertEqual(wizard._get_clients(), self.client_a | self.client_b, "both owe money")
        january = self._wizard(scope="active", date_from=date(2027, 1, 1), date_to=date(2027, 1, 31))
        self.assertEqual(january._get_clients(), self.client_a | paid_up)
        self.assertEqual(january.client_count, 2)


@tagged("post_install", "-at_install")
class TestStatementSchedule(StatementFixture, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()
        cls.cron = cls.env.ref("agency_billing.ir_cron_send_statements")

    def test_monthly_statement_on_its_day(self):
        Run = self.env["agency.statement.run"]
        with freeze_time("2027-03-25"):
            with Form(self.client_a.with_company(self.company), view="base.view_partner_form") as form:
                form.agency_statement_frequency = "monthly"
                form.agency_statement_day = 1
            self.assertEqual(
                self.client_a.with_company(self.company).agency_statement_next_date, date(2027, 4, 1)
            )
            self._trigger(self.cron)
            self.assertFalse(Run.search([("trigger", "=", "schedule")]), "not yet")
        with freeze_time("2027-04-01"):
            self._trigger(self.cron)
            run = Run.search([("trigger", "=", "schedule")])
            self.assertEqual((run.date_from, run.date_to), (date(2027, 3, 1), date(2027, 3, 31)))
            self.assertEqual(run.state, "done")
            self.assertEqual(run.statement_ids.partner_id, self.client_a)
            self.assertEqual(run.statement_ids.state, "sent")
            self.assertEqual(
                self.client_a.with_company(self.company).agency_statement_next_date, date(2027, 5, 1)
            )
            self._trigger(self.cron)
            self.assertEqual(len(Run.search([("trigger", "=", "schedule")])), 1, "once a month")
        with freeze_time("2027-05-03"):
            # the job did not run on the 1st: the statement goes out late, once
            self._trigger(self.cron)
            runs = Run.search([("trigger", "=", "schedule")], order="id")
            self.assertEqual(len(runs), 2)
            self.assertEqual((runs[-1].date_from, runs[-1].date_to), (date(2027, 4, 1), date(2027, 4, 30)))

    def test_statement_day_rules(self):
        self.assertEqual(documents.next_statement_date(31, date(2027, 2, 10)), date(2027, 2, 28))
        self.assertEqual(
            documents.statement_period(31, date(2027, 4, 30)), (date(2027, 3, 31), date(2027, 4, 29))
        )
        self.assertEqual(
            documents.statement_period(15, date(2027, 1, 15)), (date(2026, 12, 15), date(2027, 1, 14))
        )
        self.assertEqual(documents.last_statement_date(1, date(2027, 5, 3)), date(2027, 5, 1))


@tagged("post_install", "-at_install")
@freeze_time("2027-04-30")
class TestStatementAccess(StatementFixture, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()
        cls.other_company_data = cls.setup_other_company(name="Other Agency")
        cls.other_company = cls.other_company_data["company"]

    def test_users_without_billing_rights_cannot_see_statements(self):
        self.env["agency.statement.wizard"].create(
            {
                "date_from": date(2027, 2, 1),
                "date_to": date(2027, 3, 31),
                "scope": "selected",
                "partner_ids": self.client_a.ids,
            }
        ).action_send()
        employee = self._create_new_internal_user(login="plain_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["agency.statement"].with_user(employee).search([]).read(["balance"])
        with self.assertRaises(AccessError):
            self.env["agency.statement.run"].with_user(employee).search([])
        self.assertTrue(self.env["agency.statement"].with_user(self.billing_user).search([]))

    def test_nothing_crosses_companies(self):
        other_invoice = (
            self.env["account.move"]
            .with_company(self.other_company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_date": date(2027, 3, 2),
                    "invoice_line_ids": [
                        Command.create({"name": "Other work", "price_unit": 999.0, "tax_ids": False})
                    ],
                }
            )
        )
        other_invoice.action_post()
        values = self._values(date(2027, 2, 1), date(2027, 3, 31))
        moves = [row["move"] for section in values["sections"] for row in section["lines"]]
        self.assertNotIn(other_invoice, moves)
        self.assertEqual(values["company_balance"], 175.0)
        other = self._values(date(2027, 2, 1), date(2027, 3, 31), company=self.other_company)
        self.assertEqual(other["company_balance"], 999.0)
        self.assertEqual([r["move"] for r in other["sections"][0]["lines"]], [other_invoice])
        # a user of the first company only cannot print the other company's
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.billing_user)._render_qweb_html(
                "agency_billing.report_statement_main",
                self.client_a.ids,
                data={
                    "date_from": "2027-02-01",
                    "date_to": "2027-03-31",
                    "company_id": self.other_company.id,
                },
            )


@tagged("post_install", "-at_install")
@freeze_time("2027-04-30")
class TestStatementUi(StatementFixture, AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_statement_fixture()

    def test_send_statements_from_the_client_list(self):
        """A billing user selects clients, sends their statements, follows the run."""
        self.start_tour(
            "/odoo/agency-clients", "agency_billing_send_statements", login=self.billing_user.login
        )
        run = self.env["agency.statement.run"].search([])
        self.assertEqual(run.partner_ids, self.client_a | self.client_b)
        self.assertEqual((run.date_from, run.date_to), (date(2027, 2, 1), date(2027, 4, 30)))
        with self.enter_registry_test_mode():
            self.env.ref("agency_billing.ir_cron_send_statements").method_direct_trigger()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.statement_ids.mapped("state"), ["sent", "sent"])
