"""A new kind of charge plugs into the billing run as one new charge source.

The suite's test addon `agency_billing_test_setup_fee` (tests/addons/) adds
setup fees the way another addon would: one model inheriting
`agency.charge.source`, a link on the invoice line with its own exactly-once
index, and nothing else. The run finds it, bills it with the other charges of
the client, exactly once, and in one go.
"""

from datetime import date
from unittest.mock import patch

from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing.models.account_move import AccountMove

from .common import AgencyBillingCase

RUN_DATE = date(2027, 3, 10)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestChargeSources(AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Fee = cls.env["agency.setup.fee"]
        cls.product_setup = cls._create_product(name="Shop setup", lst_price=400.0)

    def _fee(self, partner=None, amount=400.0):
        return self.Fee.create(
            {
                "partner_id": (partner or self.client_a).id,
                "product_id": self.product_setup.id,
                "amount": amount,
            }
        )

    def test_the_run_finds_every_source(self):
        sources = [source._name for source in self.Run._get_charge_sources()]
        self.assertEqual(
            sources,
            ["agency.quote.charge", "agency.billable.item", "account.analytic.line", "agency.setup.fee"],
        )

    def test_a_new_source_is_billed_with_the_other_charges_once_and_in_one_go(self):
        fee = self._fee()
        self._create_item(name="Hosting", price_unit=50.0)
        fast = []
        original = AccountMove._agency_create_invoices

        def recording(moves, vals_list):
            result = original(moves, vals_list)
            fast.append(result[1])
            return result

        with patch.object(AccountMove, "_agency_create_invoices", recording):
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertEqual(len(invoice), 1, "one invoice for the client's item and fee")
        self.assertEqual(invoice.invoice_line_ids.mapped("name"), ["Hosting", "Setup fee: Shop setup"])
        self.assertEqual(invoice.invoice_line_ids.agency_setup_fee_id, fee)
        self.assertEqual(invoice.amount_untaxed, 450.0)
        self.assertEqual(
            fast[0], invoice, "the fee's link keeps the one-go way (its addon says it changes no amount)"
        )

        self.assertFalse(self._run(RUN_DATE).invoice_ids, "billed once")
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(self._run(RUN_DATE).invoice_ids.invoice_line_ids.agency_setup_fee_id, fee)

    def test_a_client_with_only_a_fee_gets_an_invoice(self):
        self._fee(partner=self.client_b, amount=120.0)
        run = self._run(RUN_DATE)
        self.assertEqual(run.invoice_ids.commercial_partner_id, self.client_b)
        self.assertEqual(run.invoice_ids.amount_untaxed, 120.0)

    def test_a_preview_and_a_run_limited_to_time_see_only_their_charges(self):
        self._fee()
        preview = self.Run._preview(self.company, RUN_DATE)
        self.assertEqual([line["amount_untaxed"] for line in preview], [400.0])
        self.assertFalse(self.Fee.search([]).invoice_line_ids, "a preview bills nothing")
        run = self.Run._run_now(self.company, RUN_DATE, trigger="time", source="account.analytic.line")
        self.assertFalse(run.invoice_ids, "Bill Time bills time only")
