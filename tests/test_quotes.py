"""Accepted quotes turn into money through the billing engine, once.

Each acceptance option (invoice now, deposit and the rest later, billable
items) by a salesperson's confirmation; figures against what Odoo itself
reports on the order and the invoices; Odoo's own invoicing finding nothing
left; no duplicate when acceptance fires twice; bad input refused where it
can be fixed; the quote's lifecycle (lost, expired, reminders); companies.
The portal's triggers (signature, payment) are in test_quote_portal.py.
"""

from datetime import date, timedelta

from psycopg2.errors import UniqueViolation

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import pdf_text, render_pdf
from .quotes_common import AgencyQuoteCase, AgencyQuoteHttpCase

TODAY = date(2027, 3, 10)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestQuoteAcceptance(AgencyQuoteCase):
    # ------------------------------------------------------------------
    # invoice the whole quote
    # ------------------------------------------------------------------
    def test_invoice_now_bills_the_whole_quote_once_as_the_client_automation_says(self):
        self.client_a.with_company(self.company).billing_automation = "send"
        # invoices are emailed once the company's document layout is set
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        order = self._create_quote(
            [(self.product_build, 1), (self.product_seo, 2)], agency_acceptance_mode="invoice"
        )
        self.assertEqual(order.amount_total, 7590.0)  # (5,000 + 1,600) + 15 %
        order.action_confirm()

        invoice = self._order_invoices(order)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, order.amount_total)
        self.assertEqual(invoice.invoice_origin, order.name)
        self.assertEqual(invoice.agency_billing_run_id.trigger, "quote")
        self.assertTrue(invoice.sending_data, "queued for Odoo's sending, as the client's automation says")
        for line in invoice.invoice_line_ids:
            self.assertEqual(len(line.sale_line_ids), 1, "every line is linked to its order line")
        self.assertEqual(invoice.invoice_line_ids.sale_line_ids, order.order_line)
        self.assertEqual(order.order_line.mapped("qty_invoiced"), [1.0, 2.0])
        self.assertEqual(order.amount_invoiced, order.amount_total)
        self.assertEqual(order.agency_accepted_how, "salesperson")
        self.assertEqual(order.agency_quote_charge_ids.state, "done")
        self.assertNothingLeftForOdoo(order)

        # the daily run bills nothing more
        self.Run._run_now(self.company, TODAY)
        self.assertEqual(self._order_invoices(order), invoice)

    def test_draft_automation_leaves_the_quote_invoice_in_draft(self):
        self.client_a.with_company(self.company).billing_automation = "draft"
        order = self._create_quote(agency_acceptance_mode="invoice")
        order.action_confirm()
        invoice = self._order_invoices(order)
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.amount_total, 5750.0)
        self.assertEqual(order.order_line.qty_invoiced, 1.0, "a draft invoice counts, as in Odoo")
        self.assertEqual(order.invoice_status, "invoiced")

    def test_cancelling_the_quote_invoice_plans_it_again(self):
        order = self._create_quote(agency_acceptance_mode="invoice")
        order.action_confirm()
        invoice = self._order_invoices(order)
        invoice.button_draft()
        invoice.button_cancel()
        charge = order.agency_quote_charge_ids
        self.assertEqual(charge.state, "pending")
        self.assertEqual(order.order_line.qty_to_invoice, 0.0, "still the billing engine's to invoice")
        self.Run._run_now(self.company, TODAY)
        again = self._order_invoices(order)
        self.assertEqual(len(again), 1)
        self.assertNotEqual(again, invoice)
        self.assertEqual(again.amount_total, 5750.0)

    # ------------------------------------------------------------------
    # deposit now, the rest later
    # ------------------------------------------------------------------
    def test_deposit_then_rest_on_delivery_add_up_to_the_quote(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_seo, 1)],
            agency_acceptance_mode="deposit",
            agency_deposit_percent=30.0,
            agency_balance_trigger="on_delivery",
        )
        self.assertEqual(order.amount_total, 6670.0)
        summary = self._summary(order)
        self.assertIn("A deposit of 30 % ($ 2,001.00)", summary)
        self.assertIn("the rest ($ 4,669.00) when the work is delivered", summary)
        order.action_confirm()

        deposit = self._order_invoices(order)
        self.assertEqual(len(deposit), 1)
        self.assertEqual(deposit.amount_untaxed, 1740.0)
        self.assertEqual(deposit.amount_total, 2001.0, "the figure the quote announced")
        self.assertEqual(deposit.invoice_line_ids.name, f"Deposit of 30 % on {order.name}")
        self.assertTrue(deposit.invoice_line_ids.is_downpayment)
        self.assertTrue(deposit.invoice_line_ids.sale_line_ids.is_downpayment, "an Odoo down payment line")
        balance = order.agency_quote_charge_ids.filtered(lambda c: c.kind == "balance")
        self.assertEqual(balance.state, "pending")
        self.assertEqual(balance.amount_total, 4669.0)
        note = order.message_ids.filtered(lambda m: "Quote accepted" in (m.body or ""))
        self.assertIn(
            "Rest of the quote ($ 4,669.00): on delivery.",
            str(note.body).replace("&nbsp;", " "),
        )
        self.assertEqual(order.invoice_status, "no", "nothing for Odoo to invoice: the rest is planned")

        # not delivered: the daily run waits
        self._trigger_billing_cron()
        self.assertEqual(self._order_invoices(order), deposit)

        order.action_agency_mark_delivered()
        rest = self._order_invoices(order) - deposit
        self.assertEqual(len(rest), 1)
        self.assertEqual(rest.amount_total, 4669.0, "the figure shown before")
        self.assertEqual(deposit.amount_total + rest.amount_total, order.amount_total)
        deduction = rest.invoice_line_ids.filtered("is_downpayment")
        self.assertEqual(deduction.quantity, -1.0, "the deposit deducted as Odoo's final invoice does")
        self.assertEqual(deduction.sale_line_ids, deposit.invoice_line_ids.sale_line_ids)
        self.assertEqual(balance.state, "done")
        self.assertEqual(order.amount_invoiced, order.amount_total)
        self.assertNothingLeftForOdoo(order)

    def test_rest_on_a_date_is_billed_by_the_scheduled_run_on_that_date(self):
        order = self._create_quote(
            agency_acceptance_mode="deposit",
            agency_deposit_percent=50.0,
            agency_balance_trigger="on_date",
            agency_balance_date=date(2027, 4, 1),
        )
        order.action_confirm()
        self.assertEqual(len(self._order_invoices(order)), 1)
        with freeze_time("2027-03-31"):
            self._trigger_billing_cron()
        self.assertEqual(len(self._order_invoices(order)), 1, "the day before: not yet")
        with freeze_time("2027-04-01"):
            self._trigger_billing_cron()
        invoices = self._order_invoices(order)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(invoices[1].invoice_date, date(2027, 4, 1))
        self.assertEqual(sum(invoices.mapped("amount_total")), 5750.0)
        self.assertNothingLeftForOdoo(order)

    def test_rest_on_the_next_run_and_a_fixed_deposit(self):
        order = self._create_quote(
            agency_acceptance_mode="deposit",
            agency_deposit_type="fixed",
            agency_deposit_amount=1150.0,
            agency_balance_trigger="next_run",
        )
        order.action_confirm()
        deposit = self._order_invoices(order)
        self.assertEqual(
            deposit.amount_total, 1150.0, "a fixed deposit is what the client pays, taxes included"
        )
        self.assertEqual(deposit.amount_untaxed, 1000.0)
        self._trigger_billing_cron()
        rest = self._order_invoices(order) - deposit
        self.assertEqual(rest.amount_total, 4600.0)
        self.assertNothingLeftForOdoo(order)

    def test_the_rest_never_goes_before_its_deposit(self):
        self.client_a.with_company(self.company).billing_automation = "draft"
        order = self._create_quote(
            agency_acceptance_mode="deposit", agency_deposit_percent=20.0, agency_balance_trigger="next_run"
        )
        order.action_confirm()
        deposit = self._order_invoices(order)
        deposit.button_cancel()
        deposit_charge, balance = order.agency_quote_charge_ids.sorted("id")
        self.assertEqual(deposit_charge.state, "pending", "a cancelled deposit invoice is planned again")
        with self.assertRaises(UserError):
            balance.action_invoice_now()
        self.Run._run_now(self.company, TODAY)
        invoices = self._order_invoices(order)
        self.assertEqual(len(invoices), 1, "the deposit first, alone")
        self.assertEqual(invoices.amount_total, 1150.0)
        self.Run._run_now(self.company, TODAY)
        self.assertEqual(sum(self._order_invoices(order).mapped("amount_total")), 5750.0)

    def test_invoice_the_rest_now_by_hand(self):
        order = self._create_quote(
            agency_acceptance_mode="deposit",
            agency_deposit_percent=25.0,
            agency_balance_trigger="on_date",
            agency_balance_date=date(2027, 6, 1),
        )
        order.action_confirm()
        balance = order.agency_quote_charge_ids.filtered(lambda c: c.kind == "balance")
        action = balance.action_invoice_now()
        run = self.Run.browse(action["res_id"])
        self.assertEqual(run.trigger, "quote")
        self.assertEqual(balance.state, "done")
        self.assertEqual(sum(self._order_invoices(order).mapped("amount_total")), 5750.0)

    # ------------------------------------------------------------------
    # billable items, recurring services
    # ------------------------------------------------------------------
    def test_items_option_turns_lines_into_items_billed_by_the_run(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_care, 2)],
            agency_acceptance_mode="items",
            agency_items_action="next_run",
            agency_recurring_start=date(2027, 4, 1),
        )
        order.order_line.filtered(lambda sol: sol.product_id == self.product_build).discount = 10.0
        order.action_confirm()
        self.assertFalse(order.invoice_ids, "nothing invoiced at acceptance")
        build, care = order.agency_item_ids.sorted(lambda i: i.invoice_action != "next_run")
        self.assertRecordValues(
            build,
            [
                {
                    "source": "quote",
                    "invoice_action": "next_run",
                    "quantity": 1.0,
                    "price_unit": 5000.0,
                    "discount": 10.0,
                    "amount_untaxed": 4500.0,
                    "partner_id": self.client_a.id,
                    "sale_order_id": order.id,
                }
            ],
        )
        self.assertRecordValues(
            care,
            [
                {
                    "invoice_action": "recurring",
                    "date_start": date(2027, 4, 1),
                    "recurring_rule_type": "monthly",
                    "quantity": 2.0,
                    "price_unit": 49.0,
                    "next_invoice_date": date(2027, 4, 1),
                }
            ],
        )
        self.assertEqual(order.agency_item_count, 2)
        self.assertEqual(order.order_line.mapped("qty_to_invoice"), [0.0, 0.0], "items bill them, not Odoo")

        self._trigger_billing_cron()
        first = self._order_invoices(order)
        self.assertEqual(first.amount_untaxed, 4500.0)
        self.assertEqual(first.invoice_line_ids.sale_line_ids.product_id, self.product_build)
        self.assertEqual(first.invoice_line_ids.discount, 10.0)

        for day in ("2027-04-01", "2027-05-01", "2027-06-01"):
            with freeze_time(day):
                self._trigger_billing_cron()
        care_line = order.order_line.filtered(lambda sol: sol.product_id == self.product_care)
        self.assertEqual(len(care.invoice_line_ids), 3)
        self.assertEqual(care.invoice_line_ids.sale_line_ids, care_line, "every period linked to its line")
        self.assertEqual(care_line.qty_invoiced, 6.0)
        self.assertAlmostEqual(order.amount_invoiced, sum(self._order_invoices(order).mapped("amount_total")))
        self.assertNothingLeftForOdoo(order)
        self.assertFalse(
            self.env["account.move"].search(
                [("move_type", "=", "out_refund"), ("partner_id", "=", self.client_a.id)]
            ),
            "Odoo's final invoicing never credits the periods billed",
        )

    def test_recurring_services_start_where_asked_in_every_option(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_care, 1)],
            agency_acceptance_mode="invoice",
            agency_recurring_start=date(2027, 3, 15),
        )
        self.assertIn("Website care plan: $ 49.00 every month", self._summary(order))
        order.action_confirm()
        invoice = self._order_invoices(order)
        self.assertEqual(
            invoice.amount_total, 5750.0, "the build only: the care plan is billed on its schedule"
        )
        care = order.agency_item_ids
        self.assertRecordValues(
            care, [{"invoice_action": "recurring", "date_start": date(2027, 3, 15), "state": "pending"}]
        )
        with freeze_time("2027-03-15"):
            self._trigger_billing_cron()
        self.assertEqual(care.invoice_line_ids.agency_period_start, date(2027, 3, 15))
        self.assertEqual(care.invoice_line_ids.move_id.amount_total, 56.35)
        self.assertNothingLeftForOdoo(order)

    def test_recurring_start_defaults_to_the_day_of_acceptance(self):
        order = self._create_quote([(self.product_care, 1)], agency_acceptance_mode="items")
        with freeze_time("2027-03-12"):
            order.action_confirm()
        self.assertEqual(order.agency_item_ids.date_start, date(2027, 3, 12))

    def test_lines_invoiced_as_delivered_stay_with_the_order(self):
        support = self._create_product(
            name="Support hours",
            type="service",
            lst_price=90.0,
            invoice_policy="delivery",
            taxes_id=[Command.set(self.tax_sale_a.ids)],
        )
        order = self._create_quote([(self.product_build, 1), (support, 10)], agency_acceptance_mode="invoice")
        self.assertIn("invoiced as they are delivered", self._summary(order))
        order.action_confirm()
        invoice = self._order_invoices(order)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.product_build, "the fixed price part only")
        support_line = order.order_line.filtered(lambda sol: sol.product_id == support)
        support_line.qty_delivered = 3.0
        odoo_invoice = order._create_invoices()
        self.assertEqual(odoo_invoice.invoice_line_ids.product_id, support)
        self.assertEqual(odoo_invoice.invoice_line_ids.quantity, 3.0, "Odoo invoices the delivered time")
        self.assertEqual(order.agency_quote_charge_ids.invoice_ids, invoice)

    def test_the_quote_pdf_says_what_acceptance_does(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_care, 1)],
            agency_acceptance_mode="deposit",
            agency_deposit_percent=40.0,
            agency_balance_trigger="on_delivery",
            agency_recurring_start=date(2027, 4, 1),
        )
        text = " ".join(pdf_text(render_pdf(self.env, "sale.action_report_saleorder", order.ids)).split())
        self.assertIn("When you accept", text)
        self.assertIn("A deposit of 40 % ($ 2,300.00) is invoiced as soon as the quote is accepted", text)
        self.assertIn("the rest ($ 3,450.00) when the work is delivered", text)
        self.assertIn("Billed every month", text)
        order.action_confirm()
        text = pdf_text(render_pdf(self.env, "sale.action_report_saleorder", order.ids))
        self.assertNotIn("When you accept", text, "an order says it no more")

    # ------------------------------------------------------------------
    # exactly once
    # ------------------------------------------------------------------
    def test_accepting_twice_creates_nothing_twice(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_care, 1)],
            agency_acceptance_mode="deposit",
            agency_deposit_percent=30.0,
            agency_balance_trigger="next_run",
        )
        order.action_confirm()
        counts = (
            len(order.agency_acceptance_ids),
            len(order.agency_quote_charge_ids),
            len(order.agency_item_ids),
        )
        invoices = self._order_invoices(order)

        # the same trigger again, and another one
        order._agency_accept("salesperson")
        order._agency_accept("portal_signature")
        with self.assertRaises(UserError):
            order.action_confirm()
        self.assertEqual(
            (
                len(order.agency_acceptance_ids),
                len(order.agency_quote_charge_ids),
                len(order.agency_item_ids),
            ),
            counts,
        )
        self.assertEqual(self._order_invoices(order), invoices)

        # the database refuses a second acceptance, whatever the code path
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Acceptance.create({"order_id": order.id, "trigger": "portal_payment", "mode": "deposit"})
            self.env.flush_all()

    def test_the_database_refuses_an_order_line_billed_twice(self):
        order = self._create_quote(agency_acceptance_mode="invoice")
        order.action_confirm()
        line = self._order_invoices(order).invoice_line_ids
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_build.id,
                                "quantity": 1,
                                "price_unit": 5000.0,
                                "agency_quote_charge_id": line.agency_quote_charge_id.id,
                                "agency_sale_line_id": line.agency_sale_line_id.id,
                            }
                        )
                    ],
                }
            )
            self.env.flush_all()

    def test_one_item_per_order_line(self):
        order = self._create_quote([(self.product_care, 1)], agency_acceptance_mode="items")
        order.action_confirm()
        item = order.agency_item_ids
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            item.copy({"sale_line_id": item.sale_line_id.id})
            self.env.flush_all()

    # ------------------------------------------------------------------
    # bad input, said where it can be fixed
    # ------------------------------------------------------------------
    def test_deposit_outside_its_bounds_is_refused_when_saving(self):
        order = self._create_quote(agency_acceptance_mode="deposit", agency_balance_trigger="next_run")
        for percent in (0.0, -5.0, 100.0, 120.0):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                order.agency_deposit_percent = percent
                order.flush_recordset()
        with self.assertRaisesRegex(ValidationError, "must be more than zero"), self.env.cr.savepoint():
            order.agency_deposit_type = "fixed"
            order.flush_recordset()
        with (
            self.assertRaisesRegex(ValidationError, "must be less than what the quote invoices once"),
            self.env.cr.savepoint(),
        ):
            order.write({"agency_deposit_type": "fixed", "agency_deposit_amount": 5750.0})
            order.flush_recordset()
        order.write({"agency_deposit_type": "fixed", "agency_deposit_amount": 5000.0})
        order.flush_recordset()
        with self.assertRaisesRegex(ValidationError, "must be less than"), self.env.cr.savepoint():
            # the total drops below the deposit, edited in the quote's form
            order.write({"order_line": [Command.update(order.order_line.id, {"price_unit": 1000.0})]})
            order.flush_recordset()
        self.assertEqual(order.order_line.price_unit, 5000.0, "nothing half-written")
        order.order_line.price_unit = 1000.0  # edited elsewhere: checked when the quote is sent
        with self.assertRaisesRegex(ValidationError, "must be less than"):
            order.action_quotation_send()

    def test_rest_on_delivery_with_nothing_to_deliver_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "nothing to deliver"):
            self._create_quote(
                [(self.product_care, 1)],
                agency_acceptance_mode="deposit",
                agency_balance_trigger="on_delivery",
            )
        with self.assertRaisesRegex(ValidationError, "on which date"):
            self._create_quote(agency_acceptance_mode="deposit", agency_balance_trigger="on_date")

    def test_recurring_product_without_a_period_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "say how often it is billed"):
            self.product_care.product_tmpl_id.agency_recurring_interval = 0
        with self.assertRaisesRegex(ValidationError, "say how often it is billed"):
            self._create_product(
                name="Broken plan", agency_is_recurring=True, agency_recurring_rule_type=False
            )

    def test_the_default_comes_from_the_client_then_the_company(self):
        self.company.write({"agency_quote_acceptance": "invoice", "agency_quote_balance_trigger": "next_run"})
        self.client_a.write({"agency_quote_acceptance": "deposit", "agency_quote_deposit_percent": 40.0})
        # a contact's quote takes its company's (the client's) setting
        quote_a = self._create_quote(partner=self.client_a_contact)
        quote_b = self._create_quote(partner=self.client_b)
        self.assertEqual(
            (quote_a.agency_acceptance_mode, quote_a.agency_deposit_percent, quote_a.agency_balance_trigger),
            ("deposit", 40.0, "next_run"),
        )
        self.assertEqual(quote_b.agency_acceptance_mode, "invoice")
        # the quote's own choice wins, and the client's setting changes no quote already written
        quote_b.agency_acceptance_mode = "items"
        self.client_b.agency_quote_acceptance = "deposit"
        self.assertEqual(quote_b.agency_acceptance_mode, "items")
        # each default is refused out of bounds, in plain words
        with self.assertRaisesRegex(ValidationError, r"must be less than 100 % \(0"), self.env.cr.savepoint():
            self.client_a.agency_quote_deposit_percent = 100.0
        with self.assertRaisesRegex(ValidationError, "default deposit must be more than 0 %"):
            self.company.agency_quote_deposit_percent = 0.0
        self.assertEqual(self.client_a.agency_quote_deposit_percent, 40.0, "nothing half-written")

    def test_a_quote_the_engine_cannot_bill_is_refused_when_sent_and_confirmed(self):
        order = self._create_quote(agency_acceptance_mode="invoice")
        self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "sale")]
        ).active = False
        with self.assertRaisesRegex(UserError, "has no sales journal"):
            order.action_quotation_send()
        with self.assertRaisesRegex(UserError, "has no sales journal"):
            order.action_confirm()
        self.assertEqual(order.state, "draft", "nothing half-done")
        order.agency_acceptance_mode = "manual"
        order.action_confirm()
        self.assertEqual(order.state, "sale", "invoiced by hand, the engine is not asked")
        self.assertFalse(order.agency_acceptance_ids)

    def test_a_quote_in_an_inactive_currency_is_refused(self):
        currency = self.setup_other_currency("EUR")
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": currency.id})
        order = self._create_quote(agency_acceptance_mode="invoice", pricelist_id=pricelist.id)
        currency.active = False
        with self.assertRaisesRegex(UserError, "is not active"):
            order.action_confirm()

    def test_a_foreign_currency_quote_is_billed_in_its_currency(self):
        currency = self.setup_other_currency("EUR")
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": currency.id})
        order = self._create_quote(
            [(self.product_build, 1, 3000.0)], agency_acceptance_mode="invoice", pricelist_id=pricelist.id
        )
        order.action_confirm()
        invoice = self._order_invoices(order)
        self.assertEqual(invoice.currency_id, currency)
        self.assertEqual(invoice.amount_total, 3450.0)
        self.assertNothingLeftForOdoo(order)

    # ------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------
    def test_cancelling_an_accepted_order_stops_what_it_planned(self):
        order = self._create_quote(
            [(self.product_build, 1), (self.product_care, 1)],
            agency_acceptance_mode="deposit",
            agency_deposit_percent=30.0,
            agency_balance_trigger="next_run",
            agency_recurring_start=date(2027, 5, 1),
        )
        order.action_confirm()
        order._action_cancel()
        self.assertEqual(order.agency_quote_charge_ids.mapped("state"), ["done", "cancelled"])
        self.assertFalse(order.agency_item_ids, "the care plan never billed is gone")
        self.assertEqual(order.agency_acceptance_ids.state, "cancelled")
        with freeze_time("2027-05-02"):
            self._trigger_billing_cron()
        self.assertEqual(len(self._order_invoices(order)), 1, "only the deposit, already made")

    def test_mark_as_lost_with_a_reason(self):
        order = self._create_quote()
        order.action_quotation_sent()
        reason = self.env.ref("agency_billing.quote_lost_reason_competitor")
        action = order.action_agency_mark_lost()
        wizard = (
            self.env["agency.quote.lost.wizard"]
            .with_context(**action["context"])
            .create({"reason_id": reason.id, "note": "Chose a cheaper freelancer"})
        )
        wizard.action_mark_lost()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.agency_lost_reason_id, reason)
        self.assertEqual(order.agency_quote_status, "lost")
        self.assertIn("Chose a cheaper freelancer", order.message_ids[0].body)
        accepted = self._create_quote(agency_acceptance_mode="manual")
        accepted.action_confirm()
        wizard = self.env["agency.quote.lost.wizard"].create(
            {"order_ids": [Command.set(accepted.ids)], "reason_id": reason.id}
        )
        with self.assertRaisesRegex(UserError, "not an open quote"):
            wizard.action_mark_lost()

    def test_the_quotes_menu_lists_each_status_with_its_total(self):
        open_quote = self._create_quote(validity_date=date(2027, 4, 1))
        open_quote.action_quotation_sent()
        expired = self._create_quote(validity_date=date(2027, 3, 1))
        expired.action_quotation_sent()
        accepted = self._create_quote(agency_acceptance_mode="manual")
        accepted.action_confirm()
        lost = self._create_quote()
        self.env["agency.quote.lost.wizard"].create(
            {
                "order_ids": [Command.set(lost.ids)],
                "reason_id": self.env.ref("agency_billing.quote_lost_reason_price").id,
            }
        ).action_mark_lost()
        mine = [("partner_id", "=", self.client_a.id)]
        for status, order in (
            ("open", open_quote),
            ("expired", expired),
            ("accepted", accepted),
            ("lost", lost),
        ):
            self.assertEqual(
                self.SaleOrder.search([*mine, ("agency_quote_status", "=", status)]), order, status
            )
            self.assertEqual(order.agency_quote_status, status)
        action = self.env.ref("agency_billing.sale_order_action_agency_quotes")
        self.assertIn("search_default_agency_status_open", action.context)
        groups = self.SaleOrder._read_group(
            [*mine, ("agency_quote_status", "in", ["open", "expired"])], aggregates=["amount_total:sum"]
        )
        self.assertEqual(groups[0][0], 11500.0)

    def test_expiry_reminder_is_emailed_once_by_the_scheduled_action(self):
        self.company.agency_quote_reminder_days = 3
        soon = self._create_quote(validity_date=date(2027, 3, 12))
        later = self._create_quote(validity_date=date(2027, 3, 30))
        draft = self._create_quote(validity_date=date(2027, 3, 12))
        for order in soon | later:
            order.action_quotation_sent()
        self.assertTrue(soon.agency_expiry_reminder)
        cron = self.env.ref("agency_billing.ir_cron_quote_expiry_reminder")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertTrue(soon.agency_expiry_reminder_sent_on)
        self.assertFalse(later.agency_expiry_reminder_sent_on, "not yet within 3 days")
        self.assertFalse(draft.agency_expiry_reminder_sent_on, "never sent to the client: no reminder")
        reminder = soon.message_ids.filtered(lambda m: "expires on" in (m.subject or ""))
        self.assertEqual(len(reminder), 1)
        self.assertIn(self.client_a, reminder.partner_ids)
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(
            len(soon.message_ids.filtered(lambda m: "expires on" in (m.subject or ""))), 1, "once per quote"
        )
        self.company.agency_quote_reminder_days = 0
        with freeze_time("2027-03-28"), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertFalse(later.agency_expiry_reminder_sent_on, "switched off in the settings")

    # ------------------------------------------------------------------
    # who, which company
    # ------------------------------------------------------------------
    def test_a_salesperson_without_billing_rights_confirms_and_the_engine_bills(self):
        salesperson = self._create_new_internal_user(
            login="seller",
            name="Sam Seller",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        order = self._create_quote(agency_acceptance_mode="invoice", user_id=salesperson.id)
        order.with_user(salesperson).action_confirm()
        invoice = self._order_invoices(order)
        self.assertEqual(invoice.amount_total, 5750.0)
        self.assertEqual(invoice.agency_billing_run_id.user_id, salesperson, "the run is in their name")
        charge = order.agency_quote_charge_ids.with_user(salesperson)
        self.assertEqual(charge.state, "done", "they see what their quote planned")
        with self.assertRaises(AccessError):
            charge.write({"is_cancelled": True})
        with self.assertRaises(AccessError):
            self.Run.with_user(salesperson).search([])

    def test_nothing_crosses_companies(self):
        other = self.setup_other_company(name="Other Agency")["company"]
        client = self.env["res.partner"].create({"name": "Other Client", "is_company": True})
        product = self._create_product(name="Other build", lst_price=1000.0, company_id=other.id, taxes_id=[])
        order = (
            self.SaleOrder.with_company(other)
            .with_context(allowed_company_ids=[other.id, self.company.id])
            .create(
                {
                    "partner_id": client.id,
                    "company_id": other.id,
                    "agency_acceptance_mode": "invoice",
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
        )
        order.with_context(allowed_company_ids=[other.id, self.company.id]).action_confirm()
        invoice = order.invoice_ids
        self.assertEqual(invoice.company_id, other)
        self.assertEqual(invoice.agency_billing_run_id.company_id, other)
        self.assertEqual(order.agency_quote_charge_ids.company_id, other)
        self.assertFalse(self.Run.search([("company_id", "=", self.company.id)]))
        billing_user = self.billing_user  # only the first company
        self.assertFalse(self.Charge.with_user(billing_user).search([("order_id", "=", order.id)]))

    def test_a_preview_shows_the_planned_rest_and_writes_nothing(self):
        order = self._create_quote(
            agency_acceptance_mode="deposit", agency_deposit_percent=40.0, agency_balance_trigger="next_run"
        )
        order.action_confirm()
        lines = self.Run._preview(self.company, TODAY)
        self.assertEqual([line["amount_total"] for line in lines], [3450.0])
        self.assertEqual(
            order.agency_quote_charge_ids.filtered(lambda c: c.kind == "balance").state, "pending"
        )
        self.assertEqual(len(self._order_invoices(order)), 1)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    @staticmethod
    def _summary(order):
        return order.agency_acceptance_summary.replace("\xa0", " ")

    def _trigger_billing_cron(self):
        cron = self.env.ref("agency_billing.ir_cron_bill_due_items")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestQuoteAcceptanceProblems(AgencyQuoteCase):
    def test_a_problem_in_the_portal_never_stops_the_client_and_is_fixed_later(self):
        """A client accepts a quote the engine cannot bill: the order is confirmed, the
        salesperson is told, and "Bill Acceptance" applies it once fixed."""
        order = self._create_quote(agency_acceptance_mode="invoice")
        journals = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "sale")]
        )
        journals.active = False
        order.with_context(agency_acceptance_trigger="portal_signature").action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.agency_acceptance_ids, "nothing recorded: it can be applied again")
        self.assertIn("has no sales journal", order.agency_acceptance_problem)
        self.assertTrue(order.activity_ids.filtered(lambda a: a.summary == "Accepted quote not billed"))
        journals.active = True
        order.action_agency_accept()
        self.assertFalse(order.agency_acceptance_problem)
        self.assertEqual(order.agency_accepted_how, "salesperson")
        self.assertEqual(self._order_invoices(order).amount_total, 5750.0)
        with self.assertRaises(UserError):
            order.action_agency_accept()

    def test_a_client_that_cannot_be_billed_keeps_its_planned_invoice_flagged(self):
        order = self._create_quote(agency_acceptance_mode="invoice")
        self.client_a.active = False
        order.action_confirm()
        charge = order.agency_quote_charge_ids
        self.assertEqual(charge.state, "pending")
        self.assertIn("archived", charge.billing_error)
        self.assertIn("archived", order.message_ids[0].body)
        self.client_a.active = True
        self.Run._run_now(self.company, fields.Date.today() + timedelta(days=0))
        self.assertEqual(charge.state, "done")
        self.assertFalse(charge.billing_error)


@tagged("post_install", "-at_install")
class TestQuoteBackOffice(AgencyQuoteHttpCase):
    def test_set_up_and_accept_a_quote_from_the_billing_app(self):
        """A billing user opens the quote from Billing > Quotes, asks for a deposit, confirms
        it, then marks the work delivered: the deposit and the rest are invoiced."""
        order = self._create_quote(agency_acceptance_mode="manual")
        order.write({"name": "S-BO-1"})
        order.action_quotation_sent()
        self.start_tour("/odoo", "agency_billing_quote_backoffice", login=self.billing_user.login)
        self.assertEqual(order.agency_acceptance_mode, "deposit")
        self.assertEqual(order.state, "sale")
        invoices = order.invoice_ids.sorted("id")
        self.assertEqual(invoices.mapped("amount_total"), [2300.0, 3450.0])
        self.assertEqual(order.invoice_status, "invoiced")
