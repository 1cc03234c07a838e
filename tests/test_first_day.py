"""The first day, and every day: figures that equal what the run then does, runs that say
what they will do, settings that warn before a surprise."""

from datetime import date

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common import AgencyBillingCase

RUN_DATE = date(2027, 3, 10)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestFiguresEqualTheRun(AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.agency_time_product_id = cls.product_hour
        cls.project = cls.env["project.project"].create({"name": "Shop", "partner_id": cls.client_a.id})
        cls.env["agency.rate"].create({"project_id": cls.project.id, "rate": 90.0})
        tax_included = cls.env["account.tax"].create(
            {
                "name": "21% incl.",
                "amount_type": "percent",
                "amount": 21.0,
                "price_include_override": "tax_included",
            }
        )
        # three monthly periods to catch up, a one-off, a charge that rides along, time
        cls._create_recurring(date(2027, 1, 1), name="Hosting", price_unit=49.99)
        cls._create_item(name="Audit", price_unit=121.0, tax_ids=[Command.set(tax_included.ids)])
        cls._create_item(name="Domain", price_unit=18.0, invoice_action="next_invoice")
        cls._create_item(name="Later", price_unit=999.0, invoice_action="hold")
        cls._create_item(
            name="Next month", price_unit=500.0, invoice_action="on_date", date_due=date(2027, 4, 1)
        )
        cls.timesheets = cls.env["account.analytic.line"].create(
            [
                {
                    "name": f"Work {n}",
                    "project_id": cls.project.id,
                    "employee_id": cls.employee.id,
                    "unit_amount": hours,
                    "date": date(2027, 3, 1 + n),
                }
                for n, hours in enumerate([4 / 3, 2.25, 0.1])
            ]
        )

    def test_client_unbilled_figure_equals_the_preview_and_the_run(self):
        figure = self.client_a.with_context(allowed_company_ids=self.company.ids).billing_unbilled_amount
        # 3 × 49.99 + 100.00 (121 incl. 21%) + 18.00 + (1.33 + 2.25 + 0.10) h × 90
        self.assertAlmostEqual(figure, 149.97 + 100.0 + 18.0 + 331.2, places=2)
        preview = self.Run._preview(self.company, RUN_DATE, partners=self.client_a)
        self.assertEqual([line["amount_untaxed"] for line in preview], [figure])
        run = self._run(RUN_DATE, partners=self.client_a)
        self.assertEqual(run.invoice_ids.amount_untaxed, figure)
        self.assertEqual(self.client_a.billing_unbilled_amount, 0.0, "nothing left to bill today")

    def test_unbilled_time_lists_what_the_run_bills_with_its_amounts(self):
        unbilled = self.env["account.analytic.line"].search(
            [("agency_billing_state", "=", "to_bill"), ("partner_id", "child_of", self.client_a.id)]
        )
        self.assertEqual(unbilled, self.timesheets)
        groups = self.env["account.analytic.line"]._read_group(
            [("id", "in", unbilled.ids)],
            ["project_id"],
            ["agency_quantity:sum", "agency_amount_expected:sum"],
        )
        [(project, hours, amount)] = groups
        run = self._run(RUN_DATE, partners=self.client_a)
        line = run.invoice_ids.invoice_line_ids.filtered("agency_timesheet_billing_ids")
        self.assertEqual((project, line.quantity), (self.project, hours))
        self.assertEqual(line.price_subtotal, round(amount, 2))

    def test_run_billing_now_says_what_it_will_do_before_anything_happens(self):
        self.client_b.billing_automation = "send"
        self._create_item(partner_id=self.client_b.id, price_unit=200.0)
        third = self.env["res.partner"].create(
            {"name": "Cedar Draft Co", "is_company": True, "customer_rank": 1}
        )
        third.billing_automation = "draft"
        self._create_item(partner_id=third.id, price_unit=10.0)
        wizard = self.env["agency.billing.run.wizard"].create({"date": RUN_DATE})
        wizard.action_preview()
        self.assertFalse(self._invoices(), "the preview wrote nothing")
        self.assertRecordValues(
            wizard,
            [
                {
                    "preview_invoice_count": 3,
                    "preview_client_count": 3,
                    "preview_posted_count": 2,
                    "preview_sent_count": 1,
                    "preview_draft_count": 1,
                    "preview_problem_count": 0,
                }
            ],
        )
        total = sum(wizard.line_ids.mapped("amount_total"))
        self.assertEqual(wizard.preview_total, total)
        self.assertIn("3 invoices for 3 clients", wizard.preview_summary)
        self.assertIn("2 posted (1 of them emailed), 1 left in draft", wizard.preview_summary)
        run = self.Run.browse(wizard.action_run()["res_id"])
        self.assertEqual(run.invoice_count, 3)
        self.assertEqual(sum(run.invoice_ids.mapped("amount_total")), total)
        self.assertEqual(sorted(run.invoice_ids.mapped("state")), ["draft", "posted", "posted"])


@tagged("post_install", "-at_install")
class TestSettings(AgencyBillingCase):
    def test_default_payment_terms_are_asked_for(self):
        field = self.env["ir.model.fields"]._get("res.partner", "property_payment_term_id")
        self.env["ir.default"].search(
            [("field_id", "=", field.id), ("company_id", "=", self.company.id)]
        ).unlink()
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.agency_payment_term_id, "Settings warn: no default payment terms")
        term = self.env.ref("account.account_payment_term_30days")
        settings.agency_payment_term_id = term
        self.assertEqual(self.env["res.config.settings"].create({}).agency_payment_term_id, term)
        client = self.env["res.partner"].create({"name": "New Client", "is_company": True})
        self.assertEqual(client.with_company(self.company).property_payment_term_id, term)
        with freeze_time("2027-03-10"):
            self._create_item(partner_id=client.id)
            invoice = self._run(RUN_DATE).invoice_ids
        self.assertEqual(invoice.invoice_date_due, date(2027, 4, 9), "due in 30 days, not today")

    def test_pdf_engine_without_patched_qt_is_told(self):
        from odoo.addons.base.models.ir_actions_report import _wkhtml

        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.agency_pdf_engine_is_limited, not _wkhtml().is_patched_qt)
