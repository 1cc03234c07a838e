from odoo import models

from .. import payments


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
