"""Quotes accepted in the portal: by signature, by payment (Odoo's demo
provider), never when expired, never another client's; then the client sees
its deposit invoice and its upcoming charges. A browser test signs a quote."""

import re
from datetime import date

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger, str2bool

from .quotes_common import AgencyQuoteHttpCase

SIGNATURE = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestQuotePortal(AgencyQuoteHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls.other_portal_user = cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)
        cls.company.portal_confirmation_sign = True
        cls.company.portal_confirmation_pay = False

    def _sent_quote(self, **values):
        values.setdefault("agency_acceptance_mode", "deposit")
        values.setdefault("agency_deposit_percent", 30.0)
        values.setdefault("agency_balance_trigger", "on_delivery")
        values.setdefault("agency_recurring_start", date(2027, 4, 1))
        values.setdefault("validity_date", date(2027, 4, 9))
        order = self._create_quote([(self.product_build, 1), (self.product_care, 1)], **values)
        order.action_quotation_sent()
        order._portal_ensure_token()
        return order

    def _csrf(self):
        """The CSRF token of the logged-in session, as a portal page carries it."""
        page = self.url_open("/my").text
        return re.search(r'csrf_token: "([^"]+)"', page).group(1)

    def _accept(self, order, order_id=None, token=None):
        return self.make_jsonrpc_request(
            f"/my/orders/{order_id or order.id}/accept",
            {
                "access_token": token if token is not None else order.access_token,
                "name": "Alice Baker",
                "signature": SIGNATURE,
            },
        )

    # ------------------------------------------------------------------
    # signature
    # ------------------------------------------------------------------
    def test_signing_in_the_portal_invoices_the_deposit_and_plans_the_rest(self):
        order = self._sent_quote()
        self.authenticate("acme_portal", "acme_portal")
        page = self.url_open(order.get_portal_url()).text
        self.assertIn("When you accept", page)
        self.assertIn("A deposit of 30 %", page)

        result = self._accept(order)
        self.assertIn("redirect_url", result)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.agency_accepted_how, "portal_signature")
        deposit = order.invoice_ids
        self.assertEqual(deposit.state, "posted")
        self.assertEqual(deposit.amount_total, 1725.0)
        self.assertEqual(deposit.agency_billing_run_id.user_id, order.user_id, "in the salesperson's name")

        order_page = self.url_open(order.get_portal_url()).text.replace("\xa0", " ")
        self.assertIn("Still to be invoiced", order_page)
        self.assertIn("Rest of the quote ($ 4,025.00): on delivery.", order_page)
        self.assertIn("Website care plan ($ 49.00 excl. taxes): next invoiced on 04/01/2027.", order_page)
        invoices_page = self.url_open("/my/invoices").text
        self.assertIn(deposit.name, invoices_page)
        charges_page = self.url_open("/my/charges").text
        self.assertIn("Website care plan", charges_page)
        self.assertIn("Rest of the quote", charges_page)
        self.assertIn("On delivery", charges_page)

        # signing again (same trigger twice) changes nothing
        self.assertIn("error", self._accept(order))
        self.assertEqual(order.invoice_ids, deposit)
        self.assertEqual(len(order.agency_acceptance_ids), 1)

    def test_signing_with_the_other_options(self):
        self.authenticate("acme_portal", "acme_portal")
        with self.subTest("invoice the whole quote"):
            order = self._sent_quote(agency_acceptance_mode="invoice")
            self._accept(order)
            self.assertEqual(order.agency_accepted_how, "portal_signature")
            self.assertEqual(order.invoice_ids.amount_total, 5750.0)
            self.assertEqual(order.agency_item_ids.invoice_action, "recurring")
        with self.subTest("billable items"):
            order = self._sent_quote(agency_acceptance_mode="items", agency_items_action="next_invoice")
            self._accept(order)
            self.assertEqual(order.state, "sale")
            self.assertFalse(order.invoice_ids)
            self.assertEqual(
                sorted(order.agency_item_ids.mapped("invoice_action")), ["next_invoice", "recurring"]
            )
            self.assertIn("Website build", self.url_open("/my/charges").text)

    def test_an_expired_quote_cannot_be_accepted_and_says_so(self):
        order = self._sent_quote(validity_date=date(2027, 3, 9))
        self.authenticate("acme_portal", "acme_portal")
        page = self.url_open(order.get_portal_url()).text
        self.assertIn("It expired on", page)
        self.assertNotIn("When you accept", page)
        result = self._accept(order)
        self.assertIn("This quote expired on", result["error"])
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.invoice_ids)
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/my/orders/{order.id}/transaction",
                data=f'{{"jsonrpc": "2.0", "method": "call", "params": {{"access_token": "{order.access_token}", '
                f'"amount": 100, "flow": "direct", "provider_id": 1, "payment_method_id": 1, "token_id": null, '
                f'"tokenization_requested": false, "landing_route": "/"}}}}',
                headers={"Content-Type": "application/json"},
            )
        self.assertIn("This quote expired on", response.text)
        self.assertFalse(order.transaction_ids)

    def test_another_clients_quote_is_refused_whatever_the_url(self):
        order = self._sent_quote()
        self.authenticate("birch_portal", "birch_portal")
        for token in ("", "not-the-token"):
            result = self._accept(order, token=token)
            self.assertEqual(result.get("error"), "Invalid order.")
        response = self.url_open(f"/my/orders/{order.id}")
        self.assertTrue(response.url.endswith("/my"), "redirected to the portal home")
        response = self.url_open(
            f"/my/orders/{order.id}/decline", data={"decline_message": "no", "csrf_token": self._csrf()}
        )
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.agency_lost_reason_id)
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/my/orders/{order.id}/transaction",
                data='{"jsonrpc": "2.0", "method": "call", "params": {"access_token": "x", "amount": 1, '
                '"flow": "direct", "provider_id": 1, "payment_method_id": 1, "token_id": null, '
                '"tokenization_requested": false, "landing_route": "/"}}',
                headers={"Content-Type": "application/json"},
            )
        self.assertIn("error", response.json())
        self.assertFalse(order.transaction_ids)
        self.assertNotIn("Website care plan", self.url_open("/my/charges").text)
        self.assertEqual(order.state, "sent")

    def test_the_other_client_never_sees_the_planned_invoices_of_a_quote(self):
        order = self._sent_quote()
        order.action_confirm()
        self.authenticate("birch_portal", "birch_portal")
        page = self.url_open("/my/charges").text
        self.assertNotIn(order.name, page)
        self.assertNotIn("Rest of the quote", page)
        self.assertFalse(self.Charge.with_user(self.other_portal_user).search([]))
        self.assertEqual(
            self.Charge.with_user(self.portal_user).search([]), order.agency_quote_charge_ids.filtered("id")
        )

    def test_the_home_counts_the_planned_quote_invoices(self):
        order = self._sent_quote(agency_acceptance_mode="deposit")
        order.order_line.filtered(lambda sol: sol.product_id == self.product_care).unlink()
        order.action_confirm()
        self.authenticate("acme_portal", "acme_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_charge_count"]})
        self.assertEqual(counters["agency_charge_count"], 1, "the rest waiting for delivery")
        order.action_agency_mark_delivered()
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["agency_charge_count"]})
        self.assertEqual(counters["agency_charge_count"], 0)

    def test_declining_marks_the_quote_lost_with_the_clients_words(self):
        order = self._sent_quote()
        self.authenticate("acme_portal", "acme_portal")
        self.url_open(
            f"/my/orders/{order.id}/decline",
            data={
                "access_token": order.access_token,
                "decline_message": "We found another agency",
                "csrf_token": self._csrf(),
            },
        )
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.agency_quote_status, "lost")
        self.assertEqual(
            order.agency_lost_reason_id, self.env.ref("agency_billing.quote_lost_reason_declined")
        )
        self.assertEqual(order.agency_lost_note, "We found another agency")

    # ------------------------------------------------------------------
    # payment with Odoo's demo provider
    # ------------------------------------------------------------------
    def _demo_provider(self):
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", self.company.id)], limit=1
        )
        self.assertTrue(provider, "payment_demo is installed in the test database")
        provider.write({"state": "test", "is_published": True})
        return provider

    def _pay_online(self, order, amount):
        """The client pays ``amount`` of ``order`` in the portal with the demo provider."""
        provider = self._demo_provider()
        method = provider.payment_method_ids[:1]
        processing = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/transaction",
            {
                "access_token": order.access_token,
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "token_id": None,
                "amount": amount,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": order.get_portal_url(),
            },
        )
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {"reference": processing["reference"], "payment_details": "4242", "simulated_state": "done"},
        )
        tx = self.env["payment.transaction"].search([("reference", "=", processing["reference"])])
        self.assertEqual(tx.state, "done")
        # Odoo's post-processing of payments, as its scheduled action does it
        cron = self.env.ref("payment.cron_post_process_payment_tx")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        return tx

    def test_paying_the_prepayment_online_makes_it_the_deposit(self):
        self.env["ir.config_parameter"].set_param("sale.automatic_invoice", "True")
        self.assertTrue(str2bool(self.env["ir.config_parameter"].get_param("sale.automatic_invoice")))
        order = self._sent_quote(require_signature=False, require_payment=True, prepayment_percent=0.4)
        self.authenticate("acme_portal", "acme_portal")
        prepayment = order._get_prepayment_required_amount()
        self.assertEqual(prepayment, round(order.amount_total * 0.4, 2))
        page = self.url_open(order.get_portal_url()).text.replace("\xa0", " ")
        self.assertIn(f"What is paid online when accepting ($ {prepayment:,.2f}) is the deposit", page)
        tx = self._pay_online(order, prepayment)

        self.assertEqual(order.state, "sale")
        self.assertEqual(order.agency_accepted_how, "portal_payment")
        deposit = order.invoice_ids
        self.assertEqual(len(deposit), 1, "Odoo's automatic invoicing made nothing more")
        self.assertEqual(deposit.amount_total, prepayment, "the deposit is what was paid")
        self.assertEqual(
            deposit.payment_state, "in_payment" if tx.payment_id.state == "in_process" else "paid"
        )
        self.assertIn(deposit, tx.invoice_ids)
        self.assertEqual(order.agency_quote_charge_ids.mapped("kind"), ["deposit", "balance"])
        self.assertEqual(order.agency_quote_charge_ids[0].deposit_type, "fixed")

        # the post-processing again (a second trigger) bills nothing twice
        tx._post_process()
        self.assertEqual(order.invoice_ids, deposit)
        self.assertEqual(len(order.agency_acceptance_ids), 1)

        order.action_agency_mark_delivered()
        rest = order.invoice_ids - deposit
        self.assertEqual(deposit.amount_total + rest.amount_total, order.amount_total - 56.35)
        self.assertEqual(rest.amount_residual, rest.amount_total, "the rest is still to pay")

    def test_paying_a_whole_quote_online_invoices_it_paid(self):
        order = self._sent_quote(
            agency_acceptance_mode="invoice",
            require_signature=False,
            require_payment=True,
            prepayment_percent=1.0,
        )
        order.order_line.filtered(lambda sol: sol.product_id == self.product_care).unlink()
        self.authenticate("acme_portal", "acme_portal")
        self._pay_online(order, order.amount_total)
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_total, 5750.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertNothingLeftForOdoo(order)

    def test_paying_a_quote_of_billable_items_leaves_the_payment_as_credit_for_its_invoice(self):
        order = self._sent_quote(
            agency_acceptance_mode="items",
            require_signature=False,
            require_payment=True,
            prepayment_percent=0.5,
        )
        self.authenticate("acme_portal", "acme_portal")
        tx = self._pay_online(order, order._get_prepayment_required_amount())
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.agency_accepted_how, "portal_payment")
        self.assertFalse(order.invoice_ids, "the items are billed by the run")
        self.assertEqual(len(order.agency_item_ids), 2)
        self.assertEqual(tx.payment_id.amount, tx.amount)
        self.assertFalse(tx.payment_id.is_reconciled, "a credit on the client's account until invoiced")
        self.Run._run_now(self.company, date(2027, 3, 10))
        invoice = order.invoice_ids
        self.assertEqual(invoice.amount_total, 5750.0)
        # the client's open credit pays its new invoice when it is posted
        self.assertTrue(tx.payment_id.is_reconciled)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 5750.0 - tx.amount)

    # ------------------------------------------------------------------
    # in the browser
    # ------------------------------------------------------------------
    def test_sign_a_quote_in_the_browser_then_see_the_deposit_and_the_plan(self):
        order = self._sent_quote()
        order.write({"name": "S-TOUR-1", "client_order_ref": "Relaunch"})
        self.start_tour(order.get_portal_url(), "agency_billing_quote_portal", login="acme_portal")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.signed_by, "Alice Baker")
        self.assertEqual(order.invoice_ids.amount_total, 1725.0)
        self.assertEqual(order.agency_item_ids.product_id, self.product_care)
