"""Back office, in the browser: a client's transactions and a refund."""

from odoo.tests import tagged

from .common import AgencyPaymentHttpCase


@tagged("post_install", "-at_install")
class TestPaymentUi(AgencyPaymentHttpCase):
    def test_refund_from_the_clients_transactions(self):
        invoice = self._create_invoice_for(self.client_a, 100.0)
        self._pay(invoice)
        self.start_tour(
            f"/odoo/agency-clients/{self.client_a.id}",
            "agency_billing_transactions_refund",
            login=self.billing_user.login,
        )
        credit_note = invoice.agency_refund_credit_note_ids
        self.assertEqual(credit_note.amount_total, 40.0)
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.payment_state, "not_paid", "left open as credit")
        self.assertEqual(self._client_balance(self.client_a), -40.0)
