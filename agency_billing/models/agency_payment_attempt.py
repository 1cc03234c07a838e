from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, formatLang

from .. import payments


class AgencyPaymentAttempt(models.Model):
    """One try at charging an invoice to the client's saved payment method.

    The payment itself is Odoo's: a ``payment.transaction`` by token, whose
    post-processing records the ``account.payment`` and reconciles it with the
    invoice. The unique index below allows one processing, pending or
    successful attempt per invoice, whatever the number of workers: an
    invoice is never charged twice.
    """

    _name = "agency.payment.attempt"
    _description = "Automatic Charge Attempt"
    _order = "id desc"
    _rec_name = "move_id"

    run_id = fields.Many2one("agency.payment.run", string="Charging Run", index=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Client", index=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    token_id = fields.Many2one("payment.token", string="Payment Method")
    transaction_id = fields.Many2one("payment.transaction", index="btree_not_null")
    payment_id = fields.Many2one(related="transaction_id.payment_id", string="Payment")
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency")
    date = fields.Date(string="Attempted On", required=True, default=fields.Date.context_today)
    state = fields.Selection(payments.ATTEMPT_STATES, required=True, default=payments.ATTEMPT_PROCESSING)
    message = fields.Text()
    date_next = fields.Date(string="Next Attempt")

    _agency_charged_once = models.UniqueIndex(
        "(move_id) WHERE state IN ('processing', 'pending', 'done')",
        "This invoice is already charged, or being charged, to a saved payment method.",
    )

    # ------------------------------------------------------------------
    # SYNC WITH THE TRANSACTION
    # ------------------------------------------------------------------
    def _sync_from_transaction(self):
        """Follow the transaction: charged, still pending, or failed (then
        schedule the next try, or leave the invoice to reminders)."""
        for attempt in self:
            tx = attempt.transaction_id.sudo()
            if attempt.state not in (payments.ATTEMPT_PROCESSING, payments.ATTEMPT_PENDING) or not tx:
                continue
            if tx.state == "done":
                attempt._set_charged()
            elif tx.state in ("pending", "authorized"):
                attempt.write(
                    {
                        "state": payments.ATTEMPT_PENDING,
                        "message": self.env._("The payment provider has not confirmed the payment yet."),
                    }
                )
                attempt.move_id.agency_charge_date = False
            elif tx.state in ("error", "cancel"):
                attempt._set_failed(tx.state_message or self.env._("The payment was declined."))

    def _set_charged(self):
        self.ensure_one()
        invoice = self.move_id
        self.write(
            {
                "state": payments.ATTEMPT_DONE,
                "message": self.env._(
                    "%(amount)s charged to %(method)s.",
                    amount=formatLang(self.env, self.amount, currency_obj=self.currency_id),
                    method=self.token_id.sudo().display_name,
                ),
            }
        )
        invoice.agency_charge_date = False

    def _set_failed(self, reason):
        """A failed charge: the invoice stays unpaid; the retry schedule says when to try again."""
        self.ensure_one()
        invoice = self.move_id
        failures = self.search(
            [("move_id", "=", invoice.id), ("state", "=", payments.ATTEMPT_FAILED)], order="id"
        )
        first = failures[:1].date or self.date
        retry_days = invoice.company_id._agency_retry_days()
        next_date = payments.next_retry_date(first, len(failures) + 1, retry_days)
        if next_date:
            # never again the same day: the run that failed it is still going
            next_date = max(next_date, fields.Date.context_today(self) + timedelta(days=1))
            note = self.env._("Next attempt on %(date)s.", date=format_date(self.env, next_date))
        else:
            note = self.env._("No more automatic attempts: the invoice is left to payment reminders.")
        self.write(
            {
                "state": payments.ATTEMPT_FAILED,
                "message": f"{reason}\n{note}",
                "date_next": next_date or False,
            }
        )
        invoice.agency_charge_date = next_date or False
        invoice.message_post(
            body=self.env._(
                "The automatic charge of %(amount)s to %(method)s failed: %(reason)s %(next)s",
                amount=formatLang(self.env, self.amount, currency_obj=self.currency_id),
                method=self.token_id.sudo().display_name,
                reason=reason,
                next=note,
            ),
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_release(self):
        """An attempt stuck in "processing" (the worker stopped while the
        provider was answering): once someone checked with the provider that
        nothing was charged, the invoice can be charged again."""
        for attempt in self:
            if attempt.state != payments.ATTEMPT_PROCESSING:
                raise UserError(self.env._("Only an attempt still processing can be released."))
            if attempt.transaction_id.sudo().state not in ("draft", "error", "cancel"):
                raise UserError(
                    self.env._("The payment provider answered for this attempt: it cannot be released.")
                )
            attempt.write(
                {
                    "state": payments.ATTEMPT_FAILED,
                    "message": self.env._("Released by %(user)s: not charged.", user=self.env.user.name),
                }
            )
            invoice = attempt.move_id
            if invoice.payment_state in ("not_paid", "partial"):
                # the next run of the job charges it
                invoice.agency_charge_date = fields.Date.context_today(self)
        self.env.ref("agency_billing.ir_cron_charge_due_invoices").sudo()._trigger()
        return True

    @api.model
    def _get_holding_domain(self):
        return [("state", "in", payments.ATTEMPT_HOLDING_STATES)]
