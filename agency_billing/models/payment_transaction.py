from odoo import models

from .. import quotes


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

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
