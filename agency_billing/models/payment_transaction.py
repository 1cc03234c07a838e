from odoo import models

from .. import payments, quotes


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _post_process(self):
        """Automatic charges follow their transaction, also when the provider
        answers later (a webhook, Odoo's post-processing cron)."""
        res = super()._post_process()
        attempts = (
            self.env["agency.payment.attempt"]
            .sudo()
            .search(
                [
                    ("transaction_id", "in", self.ids),
                    ("state", "in", (payments.ATTEMPT_PROCESSING, payments.ATTEMPT_PENDING)),
                ]
            )
        )
        attempts._sync_from_transaction()
        return res

    def _agency_support_refund(self):
        """'none', 'full_only' or 'partial': what the provider and the payment method allow
        (as Odoo's own refund wizard decides)."""
        self.ensure_one()
        method = self.payment_method_id.primary_payment_method_id or self.payment_method_id
        supports = {self.provider_id.support_refund, method.support_refund}
        if "none" in supports or False in supports:
            return "none"
        if "full_only" in supports:
            return "full_only"
        return "partial"

    def _check_amount_and_confirm_order(self):
        # a quote paid online is accepted by its payment
        return super(
            PaymentTransaction, self.with_context(**{quotes.CONTEXT_TRIGGER: quotes.TRIGGER_PAYMENT})
        )._check_amount_and_confirm_order()

    def _invoice_sale_orders(self):
        # Odoo's "automatic invoice" after an online payment: an order the
        # billing engine invoices (its acceptance did) is not invoiced again
        handled = self.filtered(
            lambda tx: tx.sale_order_ids and all(order._agency_is_handled() for order in tx.sale_order_ids)
        )
        return super(PaymentTransaction, self - handled)._invoice_sale_orders()

    def _send_invoice(self):
        # invoices made by the billing run are sent by it, the client's way (or not at all)
        mine = self.filtered(
            lambda tx: tx.invoice_ids and tx.invoice_ids == tx.invoice_ids.filtered("agency_billing_run_id")
        )
        return super(PaymentTransaction, self - mine)._send_invoice()
