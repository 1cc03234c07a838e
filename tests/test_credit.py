"""Open credit pays new invoices when they are posted, oldest credit first."""

from datetime import date
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing.models.account_move import AccountMove

from .common import AgencyPaymentCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestCreditApplied(AgencyPaymentCase):
    def _credit_note(self, partner, amount, when):
        return self._create_invoice_for(partner, amount, date=when, move_type="out_refund")

    def test_posting_by_hand_uses_the_oldest_credit_first(self):
        newer = self._credit_note(self.client_a, 50.0, date(2027, 2, 20))
        older = self._credit_note(self.client_a, 30.0, date(2027, 1, 15))
        invoice = self._create_invoice_for(self.client_a, 60.0)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(older.amount_residual, 0.0, "the oldest credit is used up first")
        self.assertEqual(newer.amount_residual, 20.0, "then the next one, for what is left")
        self.assertEqual(self._client_balance(self.client_a), -20.0)
        self.assertIn("Credit applied automatically", invoice.message_ids[0].body)

    def test_credit_smaller_than_the_invoice_leaves_it_partly_paid(self):
        self._credit_note(self.client_a, 30.0, date(2027, 3, 1))
        invoice = self._create_invoice_for(self.client_a, 100.0, taxes=self.tax_sale_a)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 85.0)

    def test_billing_run_applies_a_prepayment(self):
        """An "add funds" prepayment received as a payment pays the run's invoice."""
        prepayment = self._receive(self.client_a, 500.0, date=date(2027, 3, 1))
        self._create_item(price_unit=50.0)  # 50 + 15% tax
        invoice = self._run(date(2027, 3, 10)).invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 57.5)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        receivable = prepayment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.amount_residual, -442.5)
        self.assertEqual(self._client_balance(self.client_a), -442.5)

    def test_company_setting_off_leaves_credit_alone(self):
        self.company.agency_credit_auto_apply = False
        credit_note = self._credit_note(self.client_a, 30.0, date(2027, 3, 1))
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(credit_note.amount_residual, 30.0)
        # ... unless the client asks for it
        self.client_a.with_company(self.company).agency_credit_apply = "auto"
        second = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(second.amount_residual, 70.0)
        self.assertEqual(credit_note.amount_residual, 0.0)

    def test_client_setting_manual_leaves_credit_alone(self):
        self.client_a.with_company(self.company).agency_credit_apply = "manual"
        credit_note = self._credit_note(self.client_a, 30.0, date(2027, 3, 1))
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.amount_residual, 100.0)
        self.assertEqual(credit_note.amount_residual, 30.0)
        # Odoo still offers it on the invoice, for someone to apply by hand
        self.assertTrue(invoice.invoice_has_outstanding)

    def test_only_the_clients_own_credit_in_the_invoice_currency(self):
        self._credit_note(self.client_b, 40.0, date(2027, 3, 1))
        eur = self.setup_other_currency("EUR")
        self._create_invoice_for(
            self.client_a, 40.0, date=date(2027, 3, 1), currency=eur, move_type="out_refund"
        )
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.amount_residual, 100.0)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_credit_of_a_contact_counts_for_the_client(self):
        """Odoo books a contact's credit note on the client (commercial partner)."""
        self._credit_note(self.client_a_contact, 25.0, date(2027, 3, 1))
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.amount_residual, 75.0)

    def test_draft_invoices_are_left_alone(self):
        credit_note = self._credit_note(self.client_a, 30.0, date(2027, 3, 1))
        draft = self._create_invoice_for(self.client_a, 100.0, post=False)
        self.assertEqual(draft.amount_residual, 100.0)
        self.assertEqual(credit_note.amount_residual, 30.0)

    def test_an_invoice_cancelled_by_its_own_credit_note_stays_reversed(self):
        invoice = self._create_invoice_for(self.client_a, 100.0)
        invoice._reverse_moves(cancel=True)
        self.assertEqual(invoice.payment_state, "reversed")

    def test_a_failure_to_apply_credit_never_stops_the_posting(self):
        credit_note = self._credit_note(self.client_a, 30.0, date(2027, 3, 1))
        with patch.object(
            AccountMove, "_agency_reconcile_credit", side_effect=UserError("Reconciliation refused")
        ):
            invoice = self._create_invoice_for(self.client_a, 100.0)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_residual, 100.0)
        self.assertEqual(credit_note.amount_residual, 30.0)
        self.assertIn("could not be applied automatically", invoice.message_ids[0].body)
