"""Refunds from an invoice: as credit, through the payment provider, or paid outside."""

from datetime import date

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import AgencyPaymentCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestRefunds(AgencyPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Wizard = cls.env["agency.refund.wizard"]

    def _refund(self, invoice, amount, method="credit", **values):
        wizard = self.Wizard.create({"move_id": invoice.id, "amount": amount, "method": method, **values})
        action = wizard.action_refund()
        return self.env["account.move"].browse(action["res_id"])

    def _paid_invoice(self, amount=100.0, taxes=None):
        invoice = self._create_invoice_for(self.client_a, amount, date=date(2027, 3, 1), taxes=taxes)
        self._pay(invoice)
        return invoice

    def _paid_online(self, amount=100.0, state="done"):
        """An invoice the client paid with its saved demo card."""
        self._enable_autopay(self.client_a, token=self._create_token(self.client_a, state=state))
        invoice = self._create_invoice_for(self.client_a, amount, date=date(2027, 3, 1))
        self.env["agency.payment.run"]._charge_now(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        return invoice

    # ------------------------------------------------------------------
    # credit the client's balance
    # ------------------------------------------------------------------
    def test_partial_refund_as_credit_spreads_the_amount_over_the_taxes(self):
        invoice = self._paid_invoice(100.0, taxes=self.tax_sale_a)  # 115.00
        self.assertEqual(invoice.agency_refundable_amount, 115.0)
        credit_note = self._refund(invoice, 46.0, reason="Downtime")
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.agency_refunded_invoice_id, invoice)
        self.assertEqual(credit_note.amount_total, 46.0)
        self.assertEqual(credit_note.amount_untaxed, 40.0)
        self.assertEqual(credit_note.amount_tax, 6.0)
        self.assertEqual(credit_note.invoice_line_ids.tax_ids, self.tax_sale_a)
        self.assertIn("Downtime", credit_note.ref)
        # left open: the client has 46 of credit, which Odoo's own balance says
        self.assertEqual(credit_note.payment_state, "not_paid")
        self.assertEqual(self._client_balance(self.client_a), -46.0)
        self.assertEqual(invoice.agency_refundable_amount, 69.0)
        self.assertIn("Refund of", invoice.message_ids[0].body)
        # ... which pays the next invoice
        next_invoice = self._create_invoice_for(self.client_a, 50.0)
        self.assertEqual(next_invoice.amount_residual, 4.0)

    def test_whole_refund_reverses_the_invoice_line_by_line(self):
        invoice = self._paid_invoice(100.0, taxes=self.tax_sale_a)
        credit_note = self._refund(invoice, 115.0)
        self.assertEqual(credit_note.invoice_line_ids.mapped("name"), invoice.invoice_line_ids.mapped("name"))
        self.assertEqual(credit_note.amount_total, 115.0)
        self.assertEqual(invoice.agency_refundable_amount, 0.0)

    def test_refund_above_the_amount_paid_is_refused(self):
        invoice = self._create_invoice_for(self.client_a, 100.0, date=date(2027, 3, 1))
        self._pay(invoice, 40.0)
        credit_notes_before = self.env["account.move"].search_count([("move_type", "=", "out_refund")])
        with self.assertRaisesRegex(UserError, "at most"):
            self._refund(invoice, 50.0)
        with self.assertRaisesRegex(UserError, "more than zero"):
            self._refund(invoice, 0.0)
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "out_refund")]),
            credit_notes_before,
            "nothing was written",
        )
        self._refund(invoice, 30.0)
        with self.assertRaisesRegex(UserError, "at most"):
            self._refund(invoice, 10.01)
        self._refund(invoice, 10.0)
        self.assertEqual(invoice.agency_refundable_amount, 0.0)

    # ------------------------------------------------------------------
    # paid outside Odoo
    # ------------------------------------------------------------------
    def test_refund_paid_outside_odoo(self):
        invoice = self._paid_invoice(200.0)
        with self.assertRaisesRegex(UserError, "journal"):
            self._refund(invoice, 80.0, method="manual")
        credit_note = self._refund(invoice, 80.0, method="manual", journal_id=self.bank_journal.id)
        self.assertIn(credit_note.payment_state, ("paid", "in_payment"))
        refund_payment = credit_note.matched_payment_ids
        self.assertEqual((refund_payment.payment_type, refund_payment.amount), ("outbound", 80.0))
        self.assertEqual(self._client_balance(self.client_a), 0.0)
        rows = self._transactions(self.client_a)
        self.assertEqual(rows[0].transaction_type, "refund")
        self.assertEqual(rows[0].debit, 80.0)
        self.assertEqual(rows[0].balance, 0.0)

    # ------------------------------------------------------------------
    # through the payment provider
    # ------------------------------------------------------------------
    def test_refund_through_the_demo_provider(self):
        invoice = self._paid_online(100.0)
        tx = invoice.transaction_ids
        wizard = self.Wizard.create({"move_id": invoice.id, "method": "provider", "amount": 40.0})
        self.assertEqual(wizard.transaction_id, tx)
        self.assertEqual(wizard.transaction_refundable_amount, 100.0)
        self.assertEqual(wizard.transaction_support_refund, "partial")
        credit_note = self.env["account.move"].browse(wizard.action_refund()["res_id"])
        refund_tx = tx.child_transaction_ids
        self.assertEqual((refund_tx.operation, refund_tx.state, refund_tx.amount), ("refund", "done", -40.0))
        self.assertEqual(refund_tx.payment_id.payment_type, "outbound")
        self.assertIn(
            credit_note.payment_state, ("paid", "in_payment"), "the refund paid out the credit note"
        )
        tx.payment_id.invalidate_recordset(["amount_available_for_refund"])
        self.assertEqual(tx.payment_id.amount_available_for_refund, 60.0)
        self.assertEqual(self._client_balance(self.client_a), 0.0)
        rows = self._transactions(self.client_a)
        self.assertEqual(rows.mapped("transaction_type"), ["refund", "credit_note", "payment", "invoice"])
        # and no more than what the provider can still give back
        with self.assertRaisesRegex(UserError, "at most"):
            self._refund(invoice, 60.01, method="provider")

    def test_not_paid_online_cannot_be_refunded_through_a_provider(self):
        invoice = self._paid_invoice(100.0)
        with self.assertRaisesRegex(UserError, "not paid online"):
            self._refund(invoice, 10.0, method="provider")

    def test_a_provider_that_cannot_refund(self):
        invoice = self._paid_online(100.0)
        self.demo_method.support_refund = "none"
        with self.assertRaisesRegex(UserError, "cannot refund"):
            self._refund(invoice, 10.0, method="provider")
        self.demo_method.support_refund = "full_only"
        with self.assertRaisesRegex(UserError, "only refunds whole payments"):
            self._refund(invoice, 10.0, method="provider")
        credit_note = self._refund(invoice, 100.0, method="provider")
        self.assertEqual(credit_note.amount_total, 100.0)

    def test_who_may_refund(self):
        invoice = self._paid_invoice(100.0)
        self.assertTrue(self.Wizard.with_user(self.billing_user).check_access("create") is None)
        clerk = self._create_new_internal_user(login="clerk3", groups="base.group_user")
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            self.Wizard.with_user(clerk).create({"move_id": invoice.id, "amount": 10.0})
