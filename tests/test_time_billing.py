"""Time billing: rates, rounding, the lock, grouping, coexistence with sales orders."""

from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing import rounding

from .common import AgencyBillingCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-20")
class TestTimeBilling(AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.agency_time_product_id = cls.product_hour  # 100.00 an hour
        cls.project = cls.env["project.project"].create(
            {"name": "Shop", "partner_id": cls.client_a.id, "allow_timesheets": True}
        )
        cls.task = cls.env["project.task"].create({"name": "Checkout", "project_id": cls.project.id})
        cls.task_2 = cls.env["project.task"].create({"name": "Design", "project_id": cls.project.id})
        cls.employee_2 = cls.env["hr.employee"].create({"name": "Eve Designer", "company_id": cls.company.id})
        cls.Rate = cls.env["agency.rate"]
        cls.AAL = cls.env["account.analytic.line"]

    def _log_time(self, hours, day=date(2027, 3, 10), task=None, employee=None, project=None, **vals):
        return self.AAL.create(
            {
                "name": vals.pop("name", "Work"),
                "project_id": (project or self.project).id,
                "task_id": (task or self.task).id if (task is not False) else False,
                "employee_id": (employee or self.employee).id,
                "unit_amount": hours,
                "date": day,
                **vals,
            }
        )

    def _bill_time(self, up_to=date(2027, 3, 20)):
        return self.Run._run_now(
            self.company, up_to, partners=self.client_a, trigger="time", source="account.analytic.line"
        )

    # ------------------------------------------------------------------
    # rates
    # ------------------------------------------------------------------
    def test_rate_precedence_most_specific_first(self):
        line = self._log_time(1.0)
        levels = [
            ({"employee_id": self.employee.id}, 60.0, "employee"),
            ({"partner_id": self.client_a.id}, 70.0, "client"),
            ({"project_id": self.project.id}, 80.0, "project"),
            ({"employee_id": self.employee.id, "project_id": self.project.id}, 90.0, "employee_project"),
            ({"task_id": self.task.id}, 110.0, "task"),
            ({"employee_id": self.employee.id, "task_id": self.task.id}, 120.0, "employee_task"),
        ]
        self.assertEqual(
            self.Rate._find_rates(line)[line], (100.0, "product"), "no rule: the product's price"
        )
        rules = []
        for keys, rate, level in levels:
            rules.append(self.Rate.create({**keys, "rate": rate}))
            self.assertEqual(self.Rate._find_rates(line)[line], (rate, level), level)
            self.assertEqual(line.agency_rate_expected, rate, "unbilled time shows the rate that applies now")
        # the most specific rule removed: the next one applies
        rules[-1].unlink()
        self.assertEqual(self.Rate._find_rates(line)[line], (110.0, "task"))
        # a rule for another employee never applies
        other = self._log_time(1.0, employee=self.employee_2, task=self.task_2)
        self.assertEqual(self.Rate._find_rates(other)[other], (80.0, "project"))

    def test_dated_rates_apply_from_their_date_and_billed_rate_stays(self):
        self.Rate.create({"project_id": self.project.id, "rate": 100.0})
        before = self._log_time(2.0, day=date(2027, 2, 28))
        after = self._log_time(2.0, day=date(2027, 3, 1))
        self.Rate.create({"project_id": self.project.id, "rate": 120.0, "date_start": date(2027, 3, 1)})
        self.assertEqual((before.agency_rate_expected, after.agency_rate_expected), (100.0, 120.0))
        self.client_a.agency_time_grouping = "entry"
        self._bill_time()
        self.assertEqual((before.agency_rate, after.agency_rate), (100.0, 120.0))
        # a later rate change does not rewrite what was billed
        self.Rate.create({"project_id": self.project.id, "rate": 150.0, "date_start": date(2027, 1, 1)})
        self.assertEqual((before.agency_rate, after.agency_rate), (100.0, 120.0))
        self.assertEqual(
            sorted(before.agency_invoice_line_id.move_id.invoice_line_ids.mapped("price_unit")),
            [100.0, 120.0],
        )

    def test_unbilled_time_follows_the_product_it_is_billed_as(self):
        line = self._log_time(2.0)
        self.assertEqual((line.agency_rate_expected, line.agency_amount_expected), (100.0, 200.0))
        premium = self._create_product(name="Senior hour", type="service", lst_price=150.0)
        self.project.agency_time_product_id = premium
        self.assertEqual((line.agency_rate_expected, line.agency_amount_expected), (150.0, 300.0))
        premium.lst_price = 160.0
        self.assertEqual(line.agency_rate_expected, 160.0)
        self.project.agency_time_product_id = False
        self.company.agency_time_product_id = False
        self.assertEqual((line.agency_rate_expected, line.agency_rate_level), (0.0, False))

    def test_a_rule_needs_a_subject(self):
        with self.assertRaisesRegex(ValidationError, "pick one"):
            self.Rate.create({"rate": 50.0})
        with self.assertRaisesRegex(ValidationError, "not in that project"):
            other = self.env["project.project"].create({"name": "Other"})
            self.Rate.create({"rate": 50.0, "task_id": self.task.id, "project_id": other.id})

    def test_no_rate_anywhere_bills_nothing_and_says_why(self):
        self.company.agency_time_product_id = False
        line = self._log_time(1.0)
        run = self._bill_time()
        self.assertEqual(run.invoice_count, 0)
        self.assertEqual(line.agency_billing_state, "to_bill")
        self.assertIn("No rate found", " ".join(run.log_ids.mapped("message")))

    # ------------------------------------------------------------------
    # rounding
    # ------------------------------------------------------------------
    def test_rounding_methods_and_minimum(self):
        self.assertEqual(rounding.round_hours(0.1, 15, rounding.UP), 0.25)
        self.assertEqual(rounding.round_hours(0.1, 15, rounding.DOWN), 0.0)
        self.assertEqual(rounding.round_hours(0.2, 15, rounding.NEAREST), 0.25)
        self.assertEqual(rounding.round_hours(0.1, 6, rounding.UP), 0.1, "6 minutes exactly stays")
        self.assertEqual(rounding.round_hours(1.01, 30, rounding.UP), 1.5)
        self.assertEqual(rounding.round_hours(0.1, 0, rounding.UP, minimum_minutes=30), 0.5)
        self.assertEqual(rounding.round_hours(0.75, 15, rounding.UP, minimum_minutes=30), 0.75)

    def test_client_rounding_then_project_rounding(self):
        self.client_a.write(
            {"agency_rounding_increment": 15, "agency_rounding_method": "up", "agency_rounding_minimum": 30}
        )
        short = self._log_time(0.1)
        odd = self._log_time(1.1)
        self.assertEqual(
            (short.unit_amount, short.agency_quantity), (0.1, 0.5), "raw time stays, minimum applies"
        )
        self.assertEqual(odd.agency_quantity, 1.25)
        self.project.write({"agency_rounding_increment": 6, "agency_rounding_method": "nearest"})
        self.assertEqual(odd.agency_quantity, 1.1)
        self._bill_time()
        self.assertAlmostEqual(odd.agency_invoice_line_id.quantity, 1.1 + 0.1)

    # ------------------------------------------------------------------
    # billing, lock, release
    # ------------------------------------------------------------------
    def test_time_is_billed_once_with_links_and_a_clear_description(self):
        self.client_a.lang = "en_US"
        a = self._log_time(2.0, day=date(2027, 3, 2))
        b = self._log_time(1.5, day=date(2027, 3, 9))
        later = self._log_time(1.0, day=date(2027, 3, 25))
        run = self._bill_time(up_to=date(2027, 3, 20))
        invoice = run.invoice_ids
        self.assertEqual(len(invoice.invoice_line_ids), 1)
        line = invoice.invoice_line_ids
        self.assertEqual((line.quantity, line.price_unit, line.product_id), (3.5, 100.0, self.product_hour))
        self.assertEqual(line.name, "Shop: 2 Mar 2027 to 9 Mar 2027, 3.50 h × 100.00")
        self.assertEqual((a | b).mapped("agency_billing_state"), ["billed", "billed"])
        self.assertEqual((a | b).agency_invoice_line_id, line)
        self.assertEqual(later.agency_billing_state, "to_bill", "after the up-to date")
        self.assertEqual(run.timesheet_count, 2)
        again = self._bill_time(up_to=date(2027, 3, 20))
        self.assertEqual(again.invoice_count, 0, "nothing is billed twice")

    def test_the_daily_schedule_bills_time_alone(self):
        """A company with unbilled time and no billable item is billed by the cron too."""
        line = self._log_time(2.0)
        cron = self.env.ref("agency_billing.ir_cron_bill_due_items")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        run = self.Run.search([("trigger", "=", "cron"), ("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "done")
        self.assertEqual(line.agency_billing_state, "billed")

    def test_the_billing_run_bills_time_and_items_together(self):
        self._log_time(2.0)
        self._create_item(name="Hosting", price_unit=50.0)
        run = self.Run._run_now(self.company, date(2027, 3, 20))
        self.assertEqual(len(run.invoice_ids), 1)
        self.assertEqual(run.invoice_ids.amount_untaxed, 250.0)

    def test_billed_time_is_locked_until_the_invoice_is_cancelled(self):
        line = self._log_time(2.0)
        invoice = self._bill_time().invoice_ids
        self.assertTrue(line.readonly_timesheet, "the timesheet form shows it locked")
        unlock = f"billed on invoice {invoice.name}: to change or delete it, reset that invoice to draft and cancel it"
        self.assertIn(unlock, line.agency_lock_reason)
        with self.assertRaisesRegex(UserError, unlock):
            line.unit_amount = 3.0
        with self.assertRaisesRegex(UserError, unlock):
            line.date = date(2027, 3, 11)
        with self.assertRaisesRegex(UserError, unlock):
            line.unlink()
        line.name = "A better description"  # not a billed figure
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(line.agency_billing_state, "to_bill")
        self.assertFalse(line.readonly_timesheet)
        line.unit_amount = 3.0
        self._bill_time()
        self.assertEqual(line.agency_invoice_line_id.quantity, 3.0)

    def test_time_on_a_draft_invoice_is_unlocked_by_removing_its_line(self):
        self.client_a.billing_automation = "draft"
        line = self._log_time(2.0)
        invoice = self._bill_time().invoice_ids
        self.assertEqual(invoice.state, "draft")
        with self.assertRaisesRegex(UserError, "remove its line from that invoice"):
            line.unit_amount = 3.0
        invoice.invoice_line_ids.filtered("agency_timesheet_billing_ids").unlink()
        self.assertEqual(line.agency_billing_state, "to_bill")
        line.unit_amount = 3.0
        self.assertEqual(line.agency_quantity, 3.0)

    def test_time_of_a_cancelled_invoice_can_be_deleted_and_so_can_its_project(self):
        line = self._log_time(2.0)
        invoice = self._bill_time().invoice_ids
        invoice.button_draft()
        invoice.button_cancel()
        line.unlink()
        self.assertFalse(line.exists())
        self.assertEqual(invoice.state, "cancel", "the cancelled invoice stays, for the record")
        project = self.project
        project.unlink()
        self.assertFalse(project.exists())

    def test_a_credit_note_releases_time_only_when_asked(self):
        line = self._log_time(2.0)
        invoice = self._bill_time().invoice_ids
        refund = self._reverse_invoice(invoice, post=True)
        self.assertEqual(line.agency_billing_state, "billed")
        self.assertEqual(self._bill_time().invoice_count, 0)
        self.assertEqual(refund.agency_credited_time_count, 1)
        refund.action_agency_release_credited_time()
        self.assertEqual(line.agency_billing_state, "to_bill")
        rebilled = self._bill_time().invoice_ids
        self.assertEqual(line.agency_invoice_line_id.move_id, rebilled)
        with self.assertRaises(UserError):
            refund.action_agency_release_credited_time()

    def test_grouping_modes(self):
        self._log_time(1.0, task=self.task, employee=self.employee)
        self._log_time(1.0, task=self.task_2, employee=self.employee)
        self._log_time(1.0, task=self.task_2, employee=self.employee_2)
        expected = {"project": 1, "task": 2, "employee": 2, "entry": 3}
        for mode, count in expected.items():
            with self.subTest(mode=mode):
                self.client_a.agency_time_grouping = mode
                invoice = self._bill_time().invoice_ids
                self.assertEqual(len(invoice.invoice_line_ids), count)
                self.assertEqual(sum(invoice.invoice_line_ids.mapped("quantity")), 3.0)
                invoice.button_draft()
                invoice.button_cancel()

    def test_different_rates_never_share_a_line(self):
        self.Rate.create({"employee_id": self.employee_2.id, "project_id": self.project.id, "rate": 140.0})
        self._log_time(1.0)
        self._log_time(1.0, employee=self.employee_2)
        lines = self._bill_time().invoice_ids.invoice_line_ids
        self.assertEqual(sorted(lines.mapped("price_unit")), [100.0, 140.0])

    def test_bill_time_action_for_a_project(self):
        other_project = self.env["project.project"].create({"name": "Blog", "partner_id": self.client_a.id})
        self._log_time(1.0)
        blog = self._log_time(1.0, project=other_project, task=False)
        context = self.project.action_agency_bill_time()["context"]
        wizard = self.env["agency.billing.run.wizard"].with_context(**context).create({})
        self.assertEqual((wizard.project_ids, wizard.is_time_only), (self.project, True))
        wizard.action_preview()
        self.assertEqual(wizard.preview_invoice_count, 1)
        self.assertEqual(wizard.line_ids.amount_untaxed, 100.0, "the project's hour only")
        action = wizard.action_run()
        run = self.Run.browse(action["res_id"])
        self.assertEqual(run.trigger, "time")
        self.assertEqual(run.timesheet_count, 1)
        self.assertEqual(blog.agency_billing_state, "to_bill")

    # ------------------------------------------------------------------
    # billable defaults, bad input, sales orders
    # ------------------------------------------------------------------
    def test_bill_time_action_for_a_client_up_to_a_date(self):
        early = self._log_time(1.0, day=date(2027, 3, 2))
        late = self._log_time(1.0, day=date(2027, 3, 15))
        context = self.client_a_contact.action_agency_bill_time()["context"]
        wizard = (
            self.env["agency.billing.run.wizard"].with_context(**context).create({"date": date(2027, 3, 10)})
        )
        self.assertEqual(wizard.partner_ids, self.client_a)
        with self.assertRaisesRegex(UserError, "Preview the run first"):
            wizard.action_run()
        wizard.action_preview()
        wizard.action_run()
        self.assertEqual((early.agency_billing_state, late.agency_billing_state), ("billed", "to_bill"))
        with self.assertRaisesRegex(UserError, "ahead of today"):
            wizard.date = date(2027, 4, 1)
            wizard.action_preview()

    def test_billable_default_from_task_then_project_then_client(self):
        self.assertTrue(self._log_time(1.0).agency_billable)
        self.client_a.agency_time_billable = False
        self.assertFalse(self._log_time(1.0).agency_billable)
        self.project.agency_time_billable = "billable"
        self.assertTrue(self._log_time(1.0).agency_billable)
        self.task.agency_time_billable = "non_billable"
        line = self._log_time(1.0)
        self.assertFalse(line.agency_billable)
        self.assertEqual(line.agency_billing_state, "non_billable")
        self.assertFalse(self._bill_time().timesheet_count == 4)

    def test_zero_or_negative_billable_durations_are_refused(self):
        for hours in (0.0, -1.0):
            with self.subTest(hours=hours), self.assertRaisesRegex(ValidationError, "duration above zero"):
                self._log_time(hours)

    def test_a_correction_entry_is_not_billable(self):
        correction = self._log_time(-1.0, agency_billable=False)
        self.assertEqual(correction.agency_billing_state, "non_billable")

    def test_billable_time_on_an_archived_project_is_refused(self):
        archived = self.env["project.project"].create({"name": "Old site", "partner_id": self.client_a.id})
        archived.action_archive()
        with self.assertRaisesRegex(ValidationError, "archived"):
            self._log_time(1.0, project=archived, task=False)

    def test_written_off_time_is_not_billed(self):
        line = self._log_time(2.0)
        line.action_agency_write_off()
        self.assertEqual(line.agency_billing_state, "written_off")
        self.assertEqual(self._bill_time().invoice_count, 0)
        line.action_agency_restore()
        self.assertEqual(self._bill_time().timesheet_count, 1)

    def test_time_sold_through_a_sales_order_is_never_billed_here(self):
        """Coexistence with sale_timesheet: the order invoices its own time."""
        self.assertIn(
            "timesheet_invoice_id", self.AAL._fields, "sale_timesheet is installed in this database"
        )
        service = self._create_product(
            name="Support (ordered)",
            type="service",
            lst_price=80.0,
            service_policy="delivered_timesheet",
            uom_id=self.env.ref("uom.product_uom_hour").id,
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.client_a.id,
                "order_line": [Command.create({"product_id": service.id, "product_uom_qty": 10})],
            }
        )
        order.action_confirm()
        so_project = order.order_line.project_id or self.env["project.project"].create(
            {"name": "Ordered support", "partner_id": self.client_a.id, "sale_line_id": order.order_line.id}
        )
        sold = self.AAL.create(
            {
                "name": "Support",
                "project_id": so_project.id,
                "employee_id": self.employee.id,
                "unit_amount": 3.0,
                "date": date(2027, 3, 10),
                "so_line": order.order_line.id,
            }
        )
        ours = self._log_time(2.0)
        run = self._bill_time()
        self.assertEqual(ours.agency_billing_state, "billed")
        self.assertNotEqual(sold.agency_billing_state, "billed")
        self.assertEqual(run.timesheet_count, 1)
        # the order invoices its own time, once
        self.assertEqual(order.order_line.qty_delivered, 3.0)
        order_invoice = order._create_invoices()
        self.assertEqual(order_invoice.invoice_line_ids.quantity, 3.0)
        self.assertNotIn(sold, run.invoice_ids.line_ids.agency_timesheet_billing_ids.analytic_line_id)

    # ------------------------------------------------------------------
    # which time is ours to bill
    # ------------------------------------------------------------------
    def _sold_order(self):
        service = self._create_product(
            name="Support (ordered)",
            type="service",
            lst_price=80.0,
            service_policy="delivered_timesheet",
            uom_id=self.env.ref("uom.product_uom_hour").id,
        )
        order = self.env["sale.order"].create(
            {"partner_id": self.client_a.id, "order_line": [Command.create({"product_id": service.id})]}
        )
        order.action_confirm()
        return order

    def test_time_sold_through_an_order_in_any_way_is_odoos_to_invoice(self):
        """A project or task linked to an order line, an employee mapping, or the entry's own line."""
        order_line = self._sold_order().order_line
        plain = self.env["project.project"].create({"name": "Shop 2", "partner_id": self.client_a.id})
        by_project = self.env["project.project"].create(
            {"name": "Sold site", "partner_id": self.client_a.id, "sale_line_id": order_line.id}
        )
        by_task = self.env["project.task"].create(
            {"name": "Sold task", "project_id": plain.id, "sale_line_id": order_line.id}
        )
        by_employee = self.env["project.project"].create(
            {
                "name": "Mapped",
                "partner_id": self.client_a.id,
                "allow_billable": True,
                "sale_line_employee_ids": [
                    Command.create({"employee_id": self.employee_2.id, "sale_line_id": order_line.id})
                ],
            }
        )
        entries = [
            self._log_time(1.0, project=by_project, task=False),
            self._log_time(1.0, project=plain, task=by_task),
            self._log_time(1.0, project=by_employee, task=False, employee=self.employee_2),
        ]
        ours = self._log_time(2.0, project=plain, task=False)
        for entry in entries:
            with self.subTest(entry=entry.project_id.name):
                self.assertFalse(entry.agency_billing_state, "no state of ours: Odoo's own")
                self.assertFalse(entry.agency_amount_expected and entry.agency_billing_state == "to_bill")
        unbilled = self.AAL.search([("agency_billing_state", "=", "to_bill")])
        self.assertEqual(unbilled, ours, "Unbilled Time never counts sold time")
        run = self._bill_time()
        self.assertEqual(run.invoice_ids.line_ids.agency_timesheet_billing_ids.analytic_line_id, ours)

    def test_time_on_the_companys_own_projects_is_never_billed(self):
        internal = self.env["project.project"].create({"name": "Website redesign (ours)"})
        own_contact = self.env["res.partner"].create({"name": "Ops", "parent_id": self.company.partner_id.id})
        ours_too = self.env["project.project"].create({"name": "Office", "partner_id": own_contact.id})
        # a department filed as a company under the agency's own
        department = self.env["res.partner"].create(
            {"name": "Design dept", "is_company": True, "parent_id": self.company.partner_id.id}
        )
        dept_project = self.env["project.project"].create({"name": "Portfolio", "partner_id": department.id})
        entries = (
            self._log_time(3.0, project=internal, task=False)
            | self._log_time(1.0, project=ours_too, task=False)
            | self._log_time(1.0, project=dept_project, task=False)
        )
        self.assertEqual(set(entries.mapped("agency_billing_state")), {"non_billable"})
        entries.agency_billable = True  # even ticked by hand
        self.assertEqual(set(entries.mapped("agency_billing_state")), {"non_billable"})
        self.assertFalse(self.Run._run_now(self.company, date(2027, 3, 20)).invoice_ids)

    def test_time_before_the_billing_start_is_never_billed(self):
        self.company.agency_time_bill_from = date(2027, 3, 5)
        old = self._log_time(4.0, day=date(2027, 3, 1))
        new = self._log_time(2.0, day=date(2027, 3, 10))
        self.assertEqual(old.agency_billing_state, "before_start")
        self.assertEqual(new.agency_billing_state, "to_bill")
        wizard = self.env["agency.billing.run.wizard"].create(
            {"date": date(2027, 3, 20), "partner_ids": self.client_a.ids, "is_time_only": True}
        )
        self.assertEqual(wizard.before_start_hours, 4.0, "the preview says how much time it leaves out")
        run = self._bill_time()
        self.assertEqual(run.invoice_ids.line_ids.agency_timesheet_billing_ids.analytic_line_id, new)
        # moved back on purpose: the older time is billed by the next run
        self.company.agency_time_bill_from = date(2027, 2, 1)
        self.assertEqual(old.agency_billing_state, "to_bill")
        self.assertEqual(
            self._bill_time().invoice_ids.line_ids.agency_timesheet_billing_ids.analytic_line_id, old
        )

    def test_billed_hours_add_up_to_the_invoice_line(self):
        """1:20 three times: 1.33 h each, 3.99 h and 3 × 133.00 on the invoice, as Unbilled Time said."""
        self.Rate.create({"project_id": self.project.id, "rate": 100.0})
        entries = self._log_time(4 / 3) | self._log_time(4 / 3) | self._log_time(4 / 3)
        self.assertEqual(entries.mapped("agency_quantity"), [1.33, 1.33, 1.33])
        expected = sum(entries.mapped("agency_amount_expected"))
        line = self._bill_time().invoice_ids.invoice_line_ids
        self.assertEqual(line.quantity, 3.99)
        self.assertAlmostEqual(line.price_subtotal, expected, places=2)
        self.assertEqual(line.price_subtotal, 399.0)
        self.assertEqual(sum(entries.mapped("agency_amount_billed")), 399.0)
