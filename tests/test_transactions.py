"""A client's Transactions: Odoo's accounting, as it is, with the running balance."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import AgencyPaymentCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-20")
class TestClientTransactions(AgencyPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.agency_credit_auto_apply = False  # every document stays as it was made

    def _history(self):
        """Invoices, a partial payment, a credit note, an overpayment and a refund."""
        client = self.client_a
        first = self._create_invoice_for(client, 1000.0, date=date(2027, 1, 10), taxes=self.tax_sale_a)
        self._pay(first, 400.0, date=date(2027, 1, 20))
        second = self._create_invoice_for(client, 200.0, date=date(2027, 2, 10))
        credit_note = self._create_invoice_for(client, 50.0, date=date(2027, 2, 12), move_type="out_refund")
        overpayment = self._receive(client, 2000.0, date=date(2027, 3, 1))
        refund = self._receive(client, 100.0, date=date(2027, 3, 5), payment_type="outbound")
        # noise: another client's invoice never shows
        self._create_invoice_for(self.client_b, 999.0, date=date(2027, 1, 15))
        return first, second, credit_note, overpayment, refund

    def test_balance_equals_odoo_partner_balance(self):
        first, second, credit_note, overpayment, refund = self._history()
        rows = self._transactions(self.client_a)
        # newest first, one row per document
        self.assertEqual(
            rows.mapped("transaction_type"),
            ["refund", "payment", "credit_note", "invoice", "payment", "invoice"],
        )
        self.assertEqual(rows[0].move_id, refund.move_id)
        self.assertEqual(rows[1].payment_id, overpayment)
        self.assertEqual(rows[2].move_id, credit_note)
        self.assertEqual(rows[3].move_id, second)
        self.assertEqual(rows[5].move_id, first)
        # the running balance, oldest to newest: 1150, 750, 950, 900, -1100, -1000
        self.assertEqual(
            rows.sorted("date").mapped("balance"), [1150.0, 750.0, 950.0, 900.0, -1100.0, -1000.0]
        )
        self.assertEqual(rows[0].balance, self._client_balance(self.client_a))
        self.assertEqual(self._client_balance(self.client_a), -1000.0)
        self.assertAlmostEqual(sum(rows.mapped("debit")) - sum(rows.mapped("credit")), rows[0].balance)
        # the partial payment shows the invoice as partly paid, with what is left open
        self.assertEqual(rows[5].payment_state, "partial")
        self.assertEqual(rows[5].amount_open, 750.0)
        self.assertEqual(rows[2].payment_state, "not_paid", "the credit note is still open credit")
        self.assertEqual(rows[1].amount_open, 2000.0)
        self.assertNotIn(self.client_b, rows.partner_id)

    def test_credit_applied_shows_without_changing_the_balance(self):
        self.company.agency_credit_auto_apply = True
        credit_note = self._create_invoice_for(
            self.client_a, 80.0, date=date(2027, 3, 1), move_type="out_refund"
        )
        invoice = self._create_invoice_for(self.client_a, 100.0, date=date(2027, 3, 10))
        rows = self._transactions(self.client_a)
        self.assertEqual(rows.mapped("transaction_type"), ["applied", "invoice", "credit_note"])
        applied = rows[0]
        self.assertEqual(applied.amount_applied, 80.0)
        self.assertEqual(applied.move_id, invoice)
        self.assertEqual(applied.source_move_id, credit_note)
        self.assertEqual(applied.display_name, f"Credit from {credit_note.name} applied to {invoice.name}")
        self.assertEqual(applied.balance, 20.0, "applying credit moves no money")
        self.assertEqual(rows[1].payment_state, "partial")
        self.assertEqual(applied.balance, self._client_balance(self.client_a))

    def test_filters_by_period_and_type_keep_the_running_balance(self):
        self._history()
        Transaction = self.env["agency.client.transaction"]
        march_payments = Transaction.search(
            [
                ("partner_id", "=", self.client_a.id),
                ("transaction_type", "in", ("payment", "refund")),
                ("date", ">=", "2027-03-01"),
                ("date", "<=", "2027-03-31"),
            ]
        )
        self.assertEqual(march_payments.mapped("credit"), [0.0, 2000.0])
        self.assertEqual(march_payments.mapped("balance"), [-1000.0, -1100.0])
        invoices = Transaction.search(
            [("partner_id", "=", self.client_a.id), ("transaction_type", "=", "invoice")]
        )
        self.assertEqual(invoices.mapped("debit"), [200.0, 1150.0])

    def test_export_to_a_spreadsheet(self):
        self._history()
        rows = self._transactions(self.client_a)
        data = rows.export_data(["date", "transaction_type", "name", "debit", "credit", "balance"])["datas"]
        self.assertEqual(len(data), 6)
        self.assertEqual(data[-1][1], "Invoice")
        self.assertEqual(data[0][5], -1000.0)

    def test_each_row_opens_its_document(self):
        first, _second, _credit_note, overpayment, _refund = self._history()
        rows = self._transactions(self.client_a)
        action = rows.filtered(lambda r: r.move_id == first).action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.move", first.id))
        action = rows.filtered(lambda r: r.payment_id == overpayment).action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.payment", overpayment.id))
        action = self.client_a_contact.action_agency_view_transactions()
        self.assertEqual(self.env["agency.client.transaction"].search(action["domain"]), rows)

    def test_client_form_tab_lists_the_same_rows(self):
        self._history()
        self.assertEqual(self.client_a.agency_transaction_ids, self._transactions(self.client_a))

    def test_who_sees_transactions(self):
        self._history()
        clerk = self._create_new_internal_user(login="clerk", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["agency.client.transaction"].with_user(clerk).search([])
        rows = (
            self.env["agency.client.transaction"]
            .with_user(self.billing_user)
            .search([("partner_id", "=", self.client_a.id)])
        )
        self.assertEqual(len(rows), 6)

    def test_nothing_crosses_companies(self):
        self._history()
        other = self.setup_other_company(name="Other Agency")["company"]
        other_invoice = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_date": date(2027, 3, 15),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Other work", "price_unit": 500.0, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        other_invoice.action_post()
        user = self.billing_user  # only in the test company
        rows = (
            self.env["agency.client.transaction"]
            .with_user(user)
            .search([("partner_id", "=", self.client_a.id)])
        )
        self.assertNotIn(other_invoice, rows.move_id)
        self.assertEqual(rows[0].balance, -1000.0, "the other company's invoice is not in this balance")
        both = (
            self.env["agency.client.transaction"]
            .with_context(allowed_company_ids=[self.company.id, other.id])
            .search([("partner_id", "=", self.client_a.id), ("company_id", "=", other.id)])
        )
        self.assertEqual(both.move_id, other_invoice)
        self.assertEqual(both.balance, 500.0, "each company has its own running balance")
