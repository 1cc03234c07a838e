"""The run's invoices are exactly what Odoo's own invoice creation makes.

The run creates the invoices it knows how to make in one go (see
account.move ``_agency_create_invoices``): Odoo's tax engine computes the
whole invoice, Odoo creates it without its line synchronisation, the
receivable lines come from Odoo's ``needed_terms``. Everything else goes
Odoo's ordinary way. These tests make generated invoices both ways and
compare every journal item, the totals, the tax summary and the numbering;
then the run end to end on the cases that found faults.
"""

import copy
from collections import Counter
from datetime import date
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo import Command
from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing.models.account_move import AccountMove
from odoo.addons.agency_billing.models.agency_billable_item import AgencyBillableItem
from odoo.addons.agency_billing.models.agency_billing_run import AgencyBillingRun

from .common import AgencyBillingCase
from .invoices import (
    HYPOTHESIS_SETTINGS,
    assert_same_invoices,
    invoice_specs,
    invoice_values,
    make_both_ways,
    set_defaults,
)

RUN_DATE = date(2027, 3, 10)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestFastInvoicesEqualOdoo(AgencyBillingCase):
    """Generated invoices (hypothesis), made both ways, compared field by field."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tax = cls.env["account.tax"]
        tax_included = Tax.create(
            {
                "name": "21% incl.",
                "amount_type": "percent",
                "amount": 21.0,
                "price_include_override": "tax_included",
            }
        )
        tax_fixed = Tax.create({"name": "eco fee", "amount_type": "fixed", "amount": 2.5})
        tax_10 = Tax.create({"name": "10%", "amount_type": "percent", "amount": 10.0})
        tax_zero = Tax.create({"name": "0%", "amount_type": "percent", "amount": 0.0})
        tax_affecting = Tax.create(
            {"name": "5% affecting", "amount_type": "percent", "amount": 5.0, "include_base_amount": True}
        )
        tax_group = Tax.create(
            {
                "name": "15% + eco",
                "amount_type": "group",
                "children_tax_ids": [Command.set((cls.tax_sale_a | tax_fixed).ids)],
            }
        )
        term_30 = cls.env.ref("account.account_payment_term_30days")
        term_epd = cls.env["account.payment.term"].create(
            {
                "name": "2/10 net 30",
                "early_discount": True,
                "discount_percentage": 2.0,
                "discount_days": 10,
                "early_pay_discount_computation": "included",
                "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
            }
        )
        # an early-payment discount that lowers the tax (Belgian style): extra lines on the invoice
        term_epd_mixed = cls.env["account.payment.term"].create(
            {
                "name": "3/8 net 30, tax on the discounted base",
                "early_discount": True,
                "discount_percentage": 3.0,
                "discount_days": 8,
                "early_pay_discount_computation": "mixed",
                "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
            }
        )
        contact = cls.env["res.partner"].create(
            {"name": "Acme Accounts", "type": "invoice", "parent_id": cls.client_b.id}
        )
        cls.pools_records = {
            "company": cls.company,
            "date": RUN_DATE,
            "product_records": [
                cls.product_hosting,
                cls.product_hour,
                cls._create_product(name="Licence", lst_price=10.0, taxes_id=[Command.clear()]),
            ],
            "tax_records": [
                cls.tax_sale_a,
                cls.tax_sale_b,
                tax_included,
                tax_fixed,
                tax_group,
                tax_zero,
                tax_10,
                tax_affecting,
            ],
            "partner_records": [cls.client_a, contact, cls.partner_a, cls.partner_b],
            "fiscal_position_records": [cls.fiscal_pos_a],
            "payment_term_records": [term_30, cls.pay_terms_b, term_epd, term_epd_mixed],
            "cash_rounding": cls.cash_rounding_a,
            "analytic_account": cls.env["project.project"].create({"name": "Site"}).account_id,
            "foreign_currency": cls.setup_other_currency("EUR"),
        }
        cls.pools = {
            "taxes": len(cls.pools_records["tax_records"]),
            "products": len(cls.pools_records["product_records"]),
            "partners": len(cls.pools_records["partner_records"]),
            "fiscal_positions": 1,
            "payment_terms": 3,  # the estimate's test adds the fourth
        }

    def test_generated_invoices_equal_odoo(self):
        ways = Counter()

        @HYPOTHESIS_SETTINGS
        @given(spec=invoice_specs(self.pools))
        def check(spec):
            savepoint = self.env.cr.savepoint()
            try:
                ours, fast, reference, errors = make_both_ways(self.env, spec, self.pools_records)
                ways["fast" if fast else "ordinary"] += 1
                assert_same_invoices(ours, reference, errors)
            finally:
                savepoint.close(rollback=True)
                self.env.invalidate_all()
                self.env.registry.clear_cache()  # ir.default set by the example

        check()
        # the comparison means something only if both ways were taken often
        self.assertGreater(ways["fast"], ways.total() // 5, ways)
        self.assertGreater(ways["ordinary"], ways.total() // 5, ways)

    def test_estimated_totals_equal_odoo(self):
        """The preview's totals (``_agency_estimate_totals``) equal the invoices Odoo then makes.

        Several invoices at once, some of them the same plan again (the
        estimate computes a plan once), taxes rounded per line or globally,
        cash roundings and payment terms from the values or from defaults
        (early-payment discounts included, one of them lowering the tax).
        """
        Move = self.env["account.move"].with_company(self.company)
        specs = invoice_specs({**self.pools, "payment_terms": 4})

        @settings(HYPOTHESIS_SETTINGS, max_examples=max(HYPOTHESIS_SETTINGS.max_examples // 4, 10))
        @given(
            batch=st.lists(specs, min_size=1, max_size=3).flatmap(
                lambda found: st.lists(st.sampled_from(found), min_size=1, max_size=5)
            ),
            rounding=st.sampled_from(["round_per_line", "round_globally"]),
        )
        def check(batch, rounding):
            savepoint = self.env.cr.savepoint()
            try:
                self.company.tax_calculation_rounding_method = rounding
                # the defaults of the batch's first invoice hold for the whole batch (one call)
                set_defaults(self.env, batch[0], self.pools_records)
                vals_list = [invoice_values(self.env, spec, self.pools_records) for spec in batch]
                estimated = Move._agency_estimate_totals(copy.deepcopy(vals_list))
                for vals, totals in zip(vals_list, estimated, strict=True):
                    invoice = Move.with_context(default_move_type="out_invoice").create(vals)
                    self.assertEqual(totals, (invoice.amount_untaxed, invoice.amount_total), vals)
            finally:
                savepoint.close(rollback=True)
                self.env.invalidate_all()
                self.env.registry.clear_cache()  # ir.default set by the example

        check()

    def test_which_invoices_are_made_in_one_go(self):
        """What the one-go way knows, and what it leaves to Odoo, decided on the final values."""
        Move = self.env["account.move"]
        context = Move._agency_fast_context(self.company)
        journal = context["journal"]
        line = {
            "name": "Hosting",
            "product_id": self.product_hosting.id,
            "quantity": 1.0,
            "price_unit": 50.0,
            "tax_ids": [Command.set(self.tax_sale_a.ids)],
        }
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.client_a.id,
            "company_id": self.company.id,
            "currency_id": self.currency.id,
            "journal_id": journal.id,
            "invoice_date": RUN_DATE,
            "invoice_line_ids": [Command.create(line)],
        }
        self.assertIsNone(Move._agency_fast_refusal(vals, context))
        cases = {
            "discount": {"invoice_line_ids": [Command.create({**line, "discount": 10.0})]},
            "line without quantity or price": {
                "invoice_line_ids": [Command.create({k: v for k, v in line.items() if k != "price_unit"})]
            },
            "line values deferred_start_date": {
                "invoice_line_ids": [Command.create({**line, "deferred_start_date": RUN_DATE})]
            },
            "invoice values invoice_incoterm_id": {"invoice_incoterm_id": False},
            "invoice values invoice_cash_rounding_id": {"invoice_cash_rounding_id": self.cash_rounding_a.id},
            "foreign currency": {"currency_id": self.setup_other_currency("EUR").id},
            "section or note": {
                "invoice_line_ids": [
                    Command.create(line),
                    Command.create({"display_type": "line_section", "name": "Sites"}),
                ]
            },
        }
        for reason, change in cases.items():
            with self.subTest(reason=reason):
                self.assertEqual(Move._agency_fast_refusal({**vals, **change}, context), reason)

        # an early-payment discount or a cash rounding from a default, not from the client
        term_epd = self.env["account.payment.term"].create(
            {"name": "2/10", "early_discount": True, "discount_percentage": 2.0, "discount_days": 10}
        )
        self.env["ir.default"].set(
            "account.move", "invoice_payment_term_id", term_epd.id, company_id=self.company.id
        )
        self.assertEqual(
            Move._agency_fast_refusal(vals, Move._agency_fast_context(self.company)), "early-payment discount"
        )
        self.env["ir.default"].discard_values("account.move", "invoice_payment_term_id", [term_epd.id])
        self.env["ir.default"].set(
            "account.move", "invoice_cash_rounding_id", self.cash_rounding_a.id, company_id=self.company.id
        )
        self.assertEqual(
            Move._agency_fast_refusal(vals, Move._agency_fast_context(self.company)), "cash rounding"
        )
        self.env["ir.default"].discard_values(
            "account.move", "invoice_cash_rounding_id", [self.cash_rounding_a.id]
        )
        self.assertIsNone(Move._agency_fast_refusal(vals, Move._agency_fast_context(self.company)))

        # a system parameter switches the one-go way off
        self.env["ir.config_parameter"].set_param("agency_billing.fast_invoices", "0")
        self.assertEqual(
            Move._agency_fast_refusal(vals, Move._agency_fast_context(self.company)), "switched off"
        )


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestRunInvoicesEqualOdoo(AgencyBillingCase):
    """The billing run, end to end, on the cases that once went wrong."""

    def _fast_invoices(self):
        """Patch that records which invoices the run made in one go."""
        made = []
        original = AccountMove._agency_create_invoices

        def recording(moves, vals_list):
            result = original(moves, vals_list)
            made.append(result[1])
            return result

        return made, patch.object(AccountMove, "_agency_create_invoices", recording)

    def test_time_entry_of_one_hour_twenty_minutes(self):
        """1:20 at 90/h, 15% tax, no rounding rule, client on "post": Odoo's 119.70 + 17.96 = 137.66."""
        self.company.agency_time_product_id = self.product_hour
        self.product_hour.taxes_id = self.tax_sale_a
        project = self.env["project.project"].create({"name": "Shop", "partner_id": self.client_a.id})
        self.env["agency.rate"].create({"project_id": project.id, "rate": 90.0})
        entry = self.env["account.analytic.line"].create(
            {
                "name": "Checkout",
                "project_id": project.id,
                "employee_id": self.employee.id,
                "unit_amount": 4 / 3,
                "date": date(2027, 3, 9),
            }
        )
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertEqual(made[0], invoice, "made in one go")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.invoice_line_ids.quantity, 1.33)
        self.assertRecordValues(
            invoice, [{"amount_untaxed": 119.70, "amount_tax": 17.96, "amount_total": 137.66}]
        )
        self.assertEqual(invoice.tax_totals["total_amount_currency"], 137.66, "the tax summary (PDF) agrees")
        self.assertEqual(entry.agency_billing_state, "billed")

    def test_mixed_batch_numbers_follow_the_clients_order(self):
        """Invoices made in one go and the ordinary way are numbered in the order of the batch."""
        eur = self.setup_other_currency("EUR")
        clients = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True, "customer_rank": 1} for n in range(4)]
        )
        for index, client in enumerate(clients):
            # clients 1 and 3 are billed in euros: the ordinary way
            self._create_item(partner_id=client.id, currency_id=(eur if index % 2 else self.currency).id)
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        invoices = run.invoice_ids.sorted(lambda m: m.commercial_partner_id.id)
        self.assertEqual(invoices.commercial_partner_id, clients)
        self.assertEqual(made[0], invoices[0] | invoices[2])
        self.assertEqual(invoices.mapped("sequence_number"), sorted(invoices.mapped("sequence_number")))
        self.assertEqual(invoices.mapped("id"), sorted(invoices.mapped("id")))

    def test_cash_rounding_from_a_default_goes_the_ordinary_way(self):
        self.env["ir.default"].set(
            "account.move", "invoice_cash_rounding_id", self.cash_rounding_a.id, company_id=self.company.id
        )
        self._create_item(price_unit=10.03)
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertFalse(made[0])
        self.assertEqual(invoice.invoice_cash_rounding_id, self.cash_rounding_a)
        self.assertEqual(invoice.amount_total, 11.55, "10.03 + 15% = 11.53, rounded up to 0.05")
        self.assertTrue(invoice.line_ids.filtered(lambda line: line.display_type == "rounding"))

    def test_early_discount_from_a_default_goes_the_ordinary_way(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2/10 net 30",
                "early_discount": True,
                "discount_percentage": 2.0,
                "discount_days": 10,
                "early_pay_discount_computation": "mixed",
                "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
            }
        )
        self.env["ir.default"].set(
            "res.partner", "property_payment_term_id", term.id, company_id=self.company.id
        )
        self._create_item(price_unit=100.0)
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertFalse(made[0])
        self.assertEqual(invoice.invoice_payment_term_id, term)
        self.assertTrue(invoice.line_ids.filtered(lambda line: line.display_type == "epd"))
        self.assertEqual(invoice.amount_tax, 14.7, "mixed early discount: tax on the discounted base")

    def test_a_hook_adding_an_invoice_field_reaches_the_invoice_either_way(self):
        incoterm = self.env["account.incoterms"].search([], limit=1)
        original = AgencyBillingRun._prepare_invoice_vals

        def with_fields(run, partner, plan, batch):
            vals = original(run, partner, plan, batch)
            vals["narration"] = "Thank you for your business"  # known to the one-go way
            if partner == self.client_b:
                vals["invoice_incoterm_id"] = incoterm.id  # unknown: the ordinary way
            return vals

        self._create_item(price_unit=80.0)
        self._create_item(price_unit=80.0, partner_id=self.client_b.id)
        made, recording = self._fast_invoices()
        with recording, patch.object(AgencyBillingRun, "_prepare_invoice_vals", with_fields):
            run = self._run(RUN_DATE)
        invoice_a = run.invoice_ids.filtered(lambda m: m.commercial_partner_id == self.client_a)
        invoice_b = run.invoice_ids - invoice_a
        self.assertEqual(made[0], invoice_a)
        self.assertIn("Thank you", str(invoice_a.narration))
        self.assertIn("Thank you", str(invoice_b.narration))
        self.assertEqual(invoice_b.invoice_incoterm_id, incoterm)
        self.assertEqual(invoice_a.amount_total, invoice_b.amount_total)

    def test_a_hook_adding_a_line_discount_goes_the_ordinary_way(self):
        original = AgencyBillableItem._prepare_invoice_line_vals

        def with_discount(item, period, fiscal_position=None, lang=None):
            return {**original(item, period, fiscal_position=fiscal_position, lang=lang), "discount": 10.0}

        self._create_item(price_unit=80.0, quantity=3)
        made, recording = self._fast_invoices()
        with recording, patch.object(AgencyBillableItem, "_prepare_invoice_line_vals", with_discount):
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertFalse(made[0])
        self.assertEqual(invoice.amount_untaxed, 216.0)
        self.assertEqual(invoice.amount_total, 248.4)

    def test_analytic_distribution_models_go_the_ordinary_way(self):
        """A company's analytic distribution models apply to the run's lines as to Odoo's."""
        plan = self.env["account.analytic.plan"].create({"name": "Clients"})
        account = self.env["account.analytic.account"].create({"name": "Acme", "plan_id": plan.id})
        self.env["account.analytic.distribution.model"].create(
            {"partner_id": self.client_a.id, "analytic_distribution": {str(account.id): 100}}
        )
        self._create_item(name="Hosting", price_unit=49.99)
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        self.assertFalse(made[0])
        hosting = run.invoice_ids.invoice_line_ids
        self.assertEqual(hosting.analytic_distribution, {str(account.id): 100})
        self.assertEqual(hosting.analytic_line_ids.amount, hosting.price_subtotal)

    def test_project_lines_made_in_one_go(self):
        project = self.env["project.project"].create({"name": "Website", "partner_id": self.client_a.id})
        self._create_item(name="Hosting", price_unit=49.99, quantity=3)
        self._create_item(name="Design", price_unit=10.0, tax_ids=[Command.clear()], project_id=project.id)
        made, recording = self._fast_invoices()
        with recording:
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertEqual(made[0], invoice)
        design = invoice.invoice_line_ids.filtered(lambda line: line.name == "Design")
        self.assertEqual(design.analytic_distribution, {str(project.account_id.id): 100})
        self.assertEqual(design.analytic_line_ids.amount, 10.0)
        hosting = invoice.invoice_line_ids - design
        self.assertFalse(hosting.analytic_distribution)

    def test_unbalanced_invoice_is_refused(self):
        """The balance check Odoo makes at creation still guards the run's invoices."""
        item = self._create_item(name="Hosting", price_unit=49.99)
        Move = type(self.env["account.move"])
        original = Move._sync_dynamic_line_needed_values

        def off_by_one(moves, values_list):
            needed = original(moves, values_list)
            for values in needed.values():
                values["balance"] += 1.0
                values["amount_currency"] += 1.0
            return needed

        with patch.object(Move, "_sync_dynamic_line_needed_values", off_by_one):
            run = self._run(RUN_DATE)
        self.assertFalse(run.invoice_ids)
        self.assertFalse(self._invoices(self.client_a))
        self.assertEqual(run.error_count, 1)
        self.assertIn("not balanced", run.log_ids.message)
        self.assertEqual(item.state, "pending")

    def test_what_the_one_go_way_did_not_foresee_is_made_the_ordinary_way(self):
        """A created invoice that differs from what the one-go way assumed is remade Odoo's way."""
        self._create_item(price_unit=50.0)
        made, recording = self._fast_invoices()
        with (
            recording,
            patch.object(
                AccountMove, "_agency_sync_stack_is_odoo", side_effect=[True, False, True, True, True]
            ),
        ):
            run = self._run(RUN_DATE)
        invoice = run.invoice_ids
        self.assertFalse(made[0], "refused after creation, then made the ordinary way")
        self.assertEqual(len(self._invoices(self.client_a)), 1)
        self.assertEqual(invoice.amount_total, 57.5)
        self.assertEqual(invoice.state, "posted")
