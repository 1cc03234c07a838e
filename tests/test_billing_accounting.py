"""The run's invoices are exactly what Odoo's own invoice creation makes.

The run hands Odoo's tax engine whole invoices (see
`_add_accounting_values`); these tests create the same invoice the ordinary
way and compare every journal item.
"""

from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing.models.agency_billing_run import AgencyBillingRun

from .common import AgencyBillingCase

COMPARED = (
    "display_type",
    "account_id",
    "balance",
    "amount_currency",
    "tax_base_amount",
    "date_maturity",
)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestBillingAccounting(AgencyBillingCase):
    def setUp(self):
        super().setUp()
        self.tax_included = self.percent_tax(21.0, price_include_override="tax_included", name="21% incl.")
        self.tax_fixed = self.fixed_tax(2.5, name="eco fee")
        self.tax_group = self.group_of_taxes(self.tax_sale_a | self.tax_fixed, name="15% + eco")
        self.project = self.env["project.project"].create({"name": "Website", "partner_id": self.client_a.id})

    def _items(self):
        return [
            self._create_item(name="Hosting", price_unit=49.99, quantity=3),
            self._create_item(
                name="Included", price_unit=121.0, tax_ids=[Command.set(self.tax_included.ids)]
            ),
            self._create_item(
                name="Group", price_unit=33.33, quantity=7, tax_ids=[Command.set(self.tax_group.ids)]
            ),
            self._create_item(
                name="No tax", price_unit=10.0, tax_ids=[Command.clear()], project_id=self.project.id
            ),
            self._create_item(
                name="Two taxes",
                price_unit=0.01,
                tax_ids=[Command.set((self.tax_sale_a | self.tax_sale_b).ids)],
            ),
        ]

    def _journal_items(self, move):
        return sorted(
            (
                line.display_type,
                line.account_id.id,
                line.balance,
                line.amount_currency,
                line.tax_base_amount,
                str(line.date_maturity),
                line.name if line.display_type != "payment_term" else "",
                tuple(line.tax_ids.ids),
                tuple(line.tax_tag_ids.ids),
                line.tax_repartition_line_id.id,
                line.tax_line_id.id,
                str(line.analytic_distribution or {}),
            )
            for line in move.line_ids
        )

    def _assert_same_as_odoo(self, items, automation="draft"):
        self.client_a.billing_automation = automation
        run = self._run(date(2027, 3, 10))
        ours = run.invoice_ids
        self.assertEqual(len(ours), 1)
        expected_lines = self._journal_items(ours)
        expected_totals = (ours.amount_total, ours.amount_tax, ours.state)
        # release the periods, then make the same invoice the ordinary way
        if ours.state == "posted":
            ours.button_draft()
        ours.button_cancel()
        reference_run = self.Run.create(
            {"company_id": self.company.id, "date": date(2027, 3, 10), "trigger": "manual"}
        )
        due = self.Item.browse([i.id for i in items])._get_due_periods(date(2027, 3, 10))
        plan = reference_run._plan_partner_invoices(self.client_a, due)[0]
        fiscal_position = self.env["account.fiscal.position"]._get_fiscal_position(self.client_a)
        self.assertTrue(
            reference_run._can_prepare_accounting(self.client_a, plan, fiscal_position),
            "the run made this invoice through the tax engine in one go",
        )
        with patch.object(AgencyBillingRun, "_can_prepare_accounting", return_value=False):
            vals = reference_run._prepare_invoice_vals(self.client_a, plan)
        reference = self.env["account.move"].create(vals)
        self.assertEqual(expected_lines, self._journal_items(reference))
        self.assertEqual(expected_totals[:2], (reference.amount_total, reference.amount_tax))
        if automation != "draft":
            self.assertEqual(expected_totals[2], "posted")
        return ours

    def test_same_journal_items_as_odoo(self):
        items = self._items()
        ours = self._assert_same_as_odoo(items)
        self.assertTrue(ours.line_ids.filtered(lambda line: line.display_type == "tax"))

    def test_same_journal_items_with_payment_terms_and_fiscal_position(self):
        self.client_a.property_payment_term_id = self.env.ref("account.account_payment_term_advance_60days")
        self.client_a.property_account_position_id = self.fiscal_pos_a
        self._assert_same_as_odoo(self._items(), automation="post")

    def test_foreign_currency_goes_the_ordinary_way(self):
        eur = self.setup_other_currency("EUR")
        item = self._create_item(name="In euros", currency_id=eur.id, price_unit=100.0)
        run = self._run(date(2027, 3, 10))
        invoice = run.invoice_ids
        self.assertEqual(invoice.currency_id, eur)
        self.assertEqual(invoice.amount_untaxed, 100.0)
        self.assertEqual(invoice.amount_untaxed_signed, 50.0, "Odoo converts at its own rate (2.0 in 2017+)")
        self.assertEqual(item.state, "done")

    def test_same_journal_items_when_rounding_globally(self):
        self.company.tax_calculation_rounding_method = "round_globally"
        self._assert_same_as_odoo(self._items())
