"""Billable items: bad input, lifecycle, access."""

from datetime import date

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import AgencyBillingCase


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestBillableItem(AgencyBillingCase):
    # ------------------------------------------------------------------
    # bad input is refused at save, with a message, and nothing changes
    # ------------------------------------------------------------------
    def test_refused_at_save(self):
        cases = [
            ({"quantity": 0}, "more than zero"),
            ({"quantity": -2}, "more than zero"),
            (
                {"invoice_action": "recurring", "date_start": date(2027, 1, 1), "recurring_interval": 0},
                "at least every",
            ),
            (
                {"invoice_action": "recurring", "date_start": date(2027, 1, 1), "recurring_count": -1},
                "negative",
            ),
            (
                {"invoice_action": "recurring", "date_start": date(2027, 2, 1), "date_end": date(2027, 1, 1)},
                "ends before it starts",
            ),
            ({"invoice_action": "on_date"}, "set the date"),
            ({"invoice_action": "recurring"}, "needs a start date"),
        ]
        for vals, message in cases:
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, message):
                self._create_item(**vals)

    def test_inactive_currency_is_refused(self):
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", "CHF")])
        currency.active = False
        with self.assertRaisesRegex(ValidationError, "not active"):
            self._create_item(currency_id=currency.id)

    def test_product_or_project_of_another_company_is_refused(self):
        other = self.setup_other_company(name="Other Agency")["company"]
        product = self.env["product.product"].create({"name": "Theirs", "company_id": other.id})
        project = (
            self.env["project.project"]
            .with_company(other)
            .create({"name": "Their project", "company_id": other.id})
        )
        with self.assertRaisesRegex(UserError, "company"):
            self._create_item(product_id=product.id)
        with self.assertRaisesRegex(UserError, "company"):
            self._create_item(project_id=project.id)

    def test_a_contact_is_billed_through_its_company(self):
        item = self._create_item(partner_id=self.client_a_contact.id)
        self.assertEqual(item.partner_id, self.client_a)
        with self.assertRaisesRegex(ValidationError, "Bill the company"):
            item.partner_id = self.client_a_contact

    def test_refused_write_leaves_the_item_as_it_was(self):
        item = self._create_item(quantity=3, price_unit=20.0)
        with self.assertRaises(ValidationError):
            item.write({"quantity": 0, "price_unit": 99.0})
        self.assertRecordValues(item, [{"quantity": 3.0, "price_unit": 20.0}])

    def test_defaults_come_from_the_product(self):
        item = self.Item.create(
            {"name": "Hosting", "partner_id": self.client_a.id, "product_id": self.product_hosting.id}
        )
        self.assertEqual(item.price_unit, 50.0)
        self.assertEqual(item.tax_ids, self.tax_sale_a)
        self.assertEqual(item.currency_id, self.company.currency_id)
        self.assertEqual(item.next_invoice_date, date(2027, 3, 10))

    # ------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------
    def test_recurring_lifecycle(self):
        item = self._create_recurring(date(2027, 3, 1), recurring_count=12)
        self.assertEqual(item.remaining_count, 12)
        self._run(date(2027, 3, 10))
        self.assertEqual((item.billed_count, item.remaining_count), (1, 11))
        self.assertEqual(item.next_invoice_date, date(2027, 4, 1))
        item.action_pause()
        self.assertEqual(item.state, "paused")
        with self.assertRaises(UserError):
            item.action_pause()
        item.action_resume()
        self.assertEqual(item.state, "pending")
        item.action_stop()
        self.assertEqual(item.state, "stopped")
        with self.assertRaises(UserError):
            item.action_stop()

    def test_what_an_item_says_about_itself(self):
        plan = self._create_recurring(date(2027, 3, 1), name="Hosting", price_unit=750.0)
        self.assertEqual(
            (plan.display_state, plan.period_label, plan.remaining_label),
            ("active", "/ month", "until stopped"),
        )
        self.assertEqual(plan._portal_schedule_label(), "every month")
        quarterly = self._create_recurring(
            date(2027, 3, 1), recurring_interval=3, recurring_count=4, partner_id=self.client_b.id
        )
        self.assertEqual((quarterly.period_label, quarterly.remaining_label), ("/ 3 months", "4"))
        self.assertEqual(quarterly._portal_schedule_label(), "every 3 months, 4 more times")
        one_off = self._create_item(name="Audit")
        held = self._create_item(name="Later", invoice_action="hold")
        self.assertEqual((one_off.display_state, one_off.period_label), ("pending", "once"))
        self.assertEqual(held.display_state, "on_hold")
        self._run(date(2027, 3, 10))
        self.assertEqual(
            (plan.display_state, one_off.display_state), ("active", "done"), "a plan being billed is active"
        )
        plan.action_pause()
        self.assertEqual(plan.display_state, "paused")
        self.assertFalse(plan.next_invoice_date, "a paused plan has no next invoice")
        plan.action_resume()
        self.assertEqual(plan.next_invoice_date, date(2027, 4, 1))

    def test_items_list_groups_show_totals(self):
        self._create_recurring(date(2027, 3, 1), price_unit=750.0)
        self._create_item(price_unit=100.0, quantity=2)
        [(partner, total)] = self.Item._read_group(
            [("partner_id", "=", self.client_a.id)], ["partner_id"], ["amount_untaxed:sum"]
        )
        self.assertEqual((partner, total), (self.client_a, 950.0))
        arch = self.env.ref("agency_billing.agency_billable_item_view_list").arch
        self.assertIn('name="period_label"', arch)
        form = etree.fromstring(self.env.ref("agency_billing.agency_billable_item_view_form").arch)
        [pause] = form.xpath("//button[@name='action_pause']")
        self.assertTrue(pause.get("invisible").startswith("not id or"), "no Pause on an item not saved yet")

    def test_one_off_items_cannot_be_paused(self):
        with self.assertRaisesRegex(UserError, "Only recurring"):
            self._create_item().action_pause()

    def test_editing_a_billed_item_never_changes_past_invoices(self):
        item = self._create_recurring(date(2027, 3, 1), price_unit=50.0)
        self._run(date(2027, 3, 10))
        invoice = item.invoice_ids
        item.write({"price_unit": 80.0, "name": "Premium hosting"})
        self.assertEqual(invoice.amount_untaxed, 50.0)
        self.assertIn("Web hosting", invoice.invoice_line_ids.name)
        with self.assertRaisesRegex(UserError, "schedule cannot change"):
            item.recurring_rule_type = "yearly"
        with self.assertRaisesRegex(UserError, "another client"):
            item.partner_id = self.client_b

    def test_deleting_a_billed_item_is_refused(self):
        billed = self._create_item()
        unbilled = self._create_item(invoice_action="hold")
        self._run(date(2027, 3, 10))
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            billed.unlink()
        unbilled.unlink()
        self.assertFalse(unbilled.exists())

    # ------------------------------------------------------------------
    # access
    # ------------------------------------------------------------------
    def test_billing_user_bills_and_manager_configures(self):
        Item = self.Item.with_user(self.billing_user)
        item = Item.create({"name": "Retainer", "partner_id": self.client_a.id, "price_unit": 100.0})
        run = self.Run.with_user(self.billing_user)._run_now(self.company, date(2027, 3, 10))
        self.assertEqual(run.invoice_count, 1)
        self.assertEqual(item.state, "done")
        with self.assertRaises(AccessError):
            run.with_user(self.billing_user).unlink()
        self.assertTrue(self.billing_manager.has_group("agency_billing.group_agency_billing_user"))
        run.with_user(self.billing_manager).unlink()
        self.assertFalse(run.exists())

    def test_company_default_automation_from_settings(self):
        settings = self.env["res.config.settings"].create({})
        settings.agency_billing_automation = "draft"
        settings.execute()
        self.assertEqual(self.company.agency_billing_automation, "draft")
        self.assertEqual(self.client_a.billing_automation_effective, "draft")
        self.client_a.billing_automation = "send"
        self.assertEqual(self.client_a.billing_automation_effective, "send")
        self.assertEqual(self.client_a_contact.billing_automation_effective, "send")

    def test_users_without_billing_rights_see_nothing(self):
        self._create_item()
        salesman = new_test_user(
            self.env,
            login="salesman",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.Item.with_user(salesman).search([])
        with self.assertRaises(AccessError):
            self.Run.with_user(salesman).search([])

    def test_items_of_another_company_are_invisible(self):
        other = self.setup_other_company(name="Other Agency")["company"]
        theirs = self.Item.with_company(other).create(
            {"name": "Theirs", "partner_id": self.client_a.id, "company_id": other.id, "price_unit": 1.0}
        )
        mine = self._create_item()
        visible = self.Item.with_user(self.billing_user).search([])
        self.assertIn(mine, visible)
        self.assertNotIn(theirs, visible)

    def test_portal_user_reads_only_its_own_client_items(self):
        own = self._create_item(name="Own hosting")
        held = self._create_item(name="Internal hold", invoice_action="hold")
        other = self._create_item(name="Other client", partner_id=self.client_b.id)
        portal = self._create_new_portal_user(login="acme_portal", partner_id=self.client_a_contact.id)
        visible = self.Item.with_user(portal).search([])
        self.assertEqual(visible, own)
        with self.assertRaises(AccessError):
            other.with_user(portal).read(["name"])
        with self.assertRaises(AccessError):
            held.with_user(portal).read(["name"])
        with self.assertRaises(AccessError):
            own.with_user(portal).write({"price_unit": 0.01})
