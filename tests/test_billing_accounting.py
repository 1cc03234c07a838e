"""The run's invoices are exactly what Odoo's own invoice creation makes.

The run hands Odoo's tax engine whole invoices (see
`_add_accounting_values`), creates them without Odoo's line synchronisation
and adds their receivable lines from Odoo's `needed_terms` (see
`_create_invoices`); these tests create the same invoice the ordinary way,
post it the same way, and compare every journal item, the totals and the
analytic entries.
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
                line.sequence,
                line.journal_id.id,
                line.company_id.id,
                line.account_id.id,
                line.partner_id.id,
                line.product_id.id,
                line.product_uom_id.id,
                line.quantity,
                line.price_unit,
                line.is_storno,
                line.tax_group_id.id,
                line.currency_id.id,
                line.balance,
                line.debit,
                line.credit,
                line.amount_currency,
                line.amount_residual,
                line.price_subtotal,
                line.price_total,
                line.tax_base_amount,
                str(line.date_maturity),
                str(line.discount_date),
                line.discount_balance,
                # a receivable line is named after its invoice's number
                (line.name or "").replace(move.name or "", "<number>"),
                tuple(line.tax_ids.ids),
                tuple(line.tax_tag_ids.ids),
                line.tax_repartition_line_id.id,
                line.tax_line_id.id,
                str(line.analytic_distribution or {}),
                tuple(sorted((a.account_id.id, a.amount) for a in line.analytic_line_ids)),
            )
            for line in move.line_ids
        )

    def _totals(self, move):
        return (
            move.amount_untaxed,
            move.amount_tax,
            move.amount_total,
            move.amount_residual,
            move.amount_total_signed,
            str(move.invoice_date_due),
            move.state,
            move.payment_state,
            move.partner_id.id,
            move.journal_id.id,
            move.fiscal_position_id.id,
            move.invoice_payment_term_id.id,
            move.tax_totals["total_amount"],
            move.tax_totals["base_amount"],
        )

    def _assert_same_as_odoo(self, items, automation="draft", check=None, prepared=True):
        """Compare the run's invoice with Odoo's; ``check(invoice)`` runs on ours first.

        ``prepared``: whether the run made the invoice through the tax engine in
        one go (`_add_accounting_values`) rather than the ordinary way.
        """
        self.client_a.billing_automation = automation
        run = self._run(date(2027, 3, 10))
        ours = run.invoice_ids
        self.assertEqual(len(ours), 1)
        # what is stored, not what the run left in the cache
        self.env.flush_all()
        self.env.invalidate_all()
        if check:
            check(ours)
        self.assertTrue(ours.line_ids.filtered(lambda line: line.display_type == "payment_term"))
        expected_lines = self._journal_items(ours)
        expected_totals = self._totals(ours)
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
        self.assertEqual(
            reference_run._can_prepare_accounting(self.client_a, plan, fiscal_position),
            prepared,
            "the run made this invoice through the tax engine in one go" if prepared else "the ordinary way",
        )
        with patch.object(AgencyBillingRun, "_can_prepare_accounting", return_value=False):
            vals = reference_run._prepare_invoice_vals(self.client_a, plan)
        reference = self.env["account.move"].create(vals)
        if automation != "draft":
            reference.action_post()
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(expected_lines, self._journal_items(reference))
        self.assertEqual(expected_totals, self._totals(reference))
        self.assertEqual(expected_totals[6], "draft" if automation == "draft" else "posted")
        return ours

    def test_same_journal_items_as_odoo(self):
        items = self._items()
        ours = self._assert_same_as_odoo(items)
        self.assertTrue(ours.line_ids.filtered(lambda line: line.display_type == "tax"))

    def test_same_journal_items_with_payment_terms_and_fiscal_position(self):
        self.client_a.property_payment_term_id = self.env.ref("account.account_payment_term_advance_60days")
        self.client_a.property_account_position_id = self.fiscal_pos_a
        # invoices go to the invoice address; journal items name the client
        self.client_a_contact.type = "invoice"

        def check(invoice):
            self.assertEqual(invoice.partner_id, self.client_a_contact)
            self.assertEqual(invoice.line_ids.partner_id, self.client_a)

        self._assert_same_as_odoo(self._items(), automation="post", check=check)

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

    def test_same_journal_items_with_analytic_distribution_models(self):
        """A company's analytic distribution models apply to the run's lines as to Odoo's."""
        plan = self.env["account.analytic.plan"].create({"name": "Clients"})
        account = self.env["account.analytic.account"].create({"name": "Acme", "plan_id": plan.id})
        self.env["account.analytic.distribution.model"].create(
            {"partner_id": self.client_a.id, "analytic_distribution": {str(account.id): 100}}
        )

        def check(invoice):
            hosting = invoice.invoice_line_ids.filtered(lambda line: line.name.startswith("Hosting"))
            self.assertEqual(hosting.analytic_distribution, {str(account.id): 100})
            self.assertEqual(hosting.analytic_line_ids.amount, hosting.price_subtotal)

        self._assert_same_as_odoo(self._items(), automation="post", check=check, prepared=False)

    def test_same_journal_items_without_distribution_models_posted(self):
        def check(invoice):
            self.assertEqual(invoice.state, "posted")
            hosting = invoice.invoice_line_ids.filtered(lambda line: line.name.startswith("Hosting"))
            self.assertFalse(hosting.analytic_distribution)
            project_line = invoice.invoice_line_ids.filtered(lambda line: line.name == "No tax")
            self.assertEqual(project_line.analytic_distribution, {str(self.project.account_id.id): 100})
            self.assertEqual(project_line.analytic_line_ids.amount, 10.0)

        self._assert_same_as_odoo(self._items(), automation="post", check=check)

    def test_unbalanced_invoice_is_refused(self):
        """The balance check Odoo makes at creation still guards the run's invoices."""
        item = self._create_item(name="Hosting", price_unit=49.99)
        AccountMove = type(self.env["account.move"])
        original = AccountMove._sync_dynamic_line_needed_values

        def off_by_one(moves, values_list):
            needed = original(moves, values_list)
            for values in needed.values():
                values["balance"] += 1.0
                values["amount_currency"] += 1.0
            return needed

        with patch.object(AccountMove, "_sync_dynamic_line_needed_values", off_by_one):
            run = self._run(date(2027, 3, 10))
        self.assertFalse(run.invoice_ids)
        self.assertFalse(self._invoices(self.client_a))
        self.assertEqual(run.error_count, 1)
        self.assertIn("not balanced", run.log_ids.message)
        self.assertEqual(item.state, "pending")
