import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    agency_billing_run_id = fields.Many2one(
        "agency.billing.run", string="Billing Run", copy=False, readonly=True, index="btree_not_null"
    )

    agency_credited_time_count = fields.Integer(compute="_compute_agency_credited_time_count")

    def _compute_agency_credited_time_count(self):
        for move in self:
            move.agency_credited_time_count = len(move._agency_credited_time())

    def _agency_credited_time(self):
        """On a credit note: the billed time of the credited invoice not released yet."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env["agency.timesheet.billing"]
        return self.reversed_entry_id.line_ids.agency_timesheet_billing_ids.filtered(
            lambda billing: not billing.is_released
        )

    def action_agency_release_credited_time(self):
        """On a credit note: the credited invoice's time can be billed again."""
        for move in self:
            if move.move_type != "out_refund" or move.state != "posted" or not move.reversed_entry_id:
                raise UserError(
                    self.env._("Only a posted credit note releases the time of the invoice it credits.")
                )
            billed = move._agency_credited_time()
            if not billed:
                raise UserError(self.env._("The credited invoice has no billed time left to release."))
            billed.sudo().write({"is_released": True})
            move.message_post(
                body=self.env._(
                    "%(count)s timesheet entries of %(invoice)s were released to be billed again.",
                    count=len(billed),
                    invoice=move.reversed_entry_id.display_name,
                )
            )
        return True

    def _agency_portal_shows_time(self):
        self.ensure_one()
        return bool(
            self.move_type == "out_invoice"
            and self.commercial_partner_id.agency_portal_show_time
            and self.line_ids.agency_timesheet_billing_ids
        )

    def _agency_items(self):
        return self.line_ids.agency_item_id

    def write(self, vals):
        # Cancelling (or reviving) an invoice frees (or takes back) its periods:
        # the items' next date and state follow.
        if vals.get("state") not in ("cancel", "draft"):
            return super().write(vals)
        items = self._agency_items()
        res = super().write(vals)
        if items:
            items._update_billing_status()
        return res

    def unlink(self):
        items = self._agency_items()
        res = super().unlink()
        if items:
            items.exists()._update_billing_status()
        return res

    # ------------------------------------------------------------------
    # PAYMENTS: CREDIT, REFUNDS AND AUTOMATIC CHARGING
    # ------------------------------------------------------------------
    agency_charge_date = fields.Date(
        string="Automatic Charge On",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="When the client's saved payment method is charged for what is left to pay.",
    )
    agency_payment_attempt_ids = fields.One2many(
        "agency.payment.attempt", "move_id", string="Charge Attempts", readonly=True
    )
    agency_payment_attempt_count = fields.Integer(compute="_compute_agency_payment_attempt_count")
    agency_can_charge = fields.Boolean(compute="_compute_agency_can_charge")
    agency_refunded_invoice_id = fields.Many2one(
        "account.move",
        string="Refund Of",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="On a credit note made by a refund: the invoice whose payment it refunds.",
    )
    agency_refund_credit_note_ids = fields.One2many(
        "account.move", "agency_refunded_invoice_id", string="Refunds", readonly=True
    )
    agency_refundable_amount = fields.Monetary(
        string="Refundable",
        compute="_compute_agency_refundable_amount",
        currency_field="currency_id",
        help="What was paid on this invoice and not refunded or credited yet.",
    )

    @api.depends("agency_payment_attempt_ids")
    def _compute_agency_payment_attempt_count(self):
        for move in self:
            move.agency_payment_attempt_count = len(move.agency_payment_attempt_ids)

    @api.depends("state", "move_type", "payment_state", "commercial_partner_id")
    def _compute_agency_can_charge(self):
        for move in self:
            client = move.commercial_partner_id.with_company(move.company_id)
            move.agency_can_charge = bool(
                move.state == "posted"
                and move.move_type == "out_invoice"
                and move.payment_state in ("not_paid", "partial")
                and client.agency_autopay
                and client.sudo().agency_autopay_token_id.active
            )

    @api.depends(
        "amount_total",
        "amount_residual",
        "state",
        "move_type",
        "reversal_move_ids.state",
        "reversal_move_ids.amount_total",
        "agency_refund_credit_note_ids.state",
        "agency_refund_credit_note_ids.amount_total",
    )
    def _compute_agency_refundable_amount(self):
        # Settled on the invoice (payments, applied credit), less what credit
        # notes of this invoice already gave back; both read from Odoo.
        for move in self:
            if move.move_type != "out_invoice" or move.state != "posted":
                move.agency_refundable_amount = 0.0
                continue
            credited = sum(
                (move.reversal_move_ids | move.agency_refund_credit_note_ids)
                .filtered(lambda m: m.move_type == "out_refund" and m.state == "posted")
                .mapped("amount_total")
            )
            settled = move.amount_total - move.amount_residual
            move.agency_refundable_amount = max(move.currency_id.round(settled - credited), 0.0)

    def _compute_payment_state(self):
        # Odoo calls an invoice settled only by credit notes "reversed"; one
        # paid with the client's credit (a credit note of another invoice,
        # applied to it) is paid, as the client and the accountant see it.
        res = super()._compute_payment_state()
        for invoice in self.filtered(
            lambda m: m.payment_state == "reversed" and m.move_type in ("out_invoice", "out_receipt")
        ):
            credit_moves = invoice.line_ids.matched_credit_ids.credit_move_id.move_id
            if credit_moves and invoice not in credit_moves.reversed_entry_id:
                invoice.payment_state = "paid"
        return res

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda move: move.move_type == "out_invoice")
        if invoices:
            # the billing run posts without Odoo's invoice synchronisation;
            # reconciling and charging go through Odoo's ordinary way
            invoices = invoices.with_context(
                skip_invoice_sync=False, skip_invoice_line_sync=False, check_move_validity=True
            )
            invoices._agency_apply_outstanding_credit()
            invoices._agency_schedule_automatic_charge()
        return posted

    def _agency_apply_outstanding_credit(self):
        """Use the clients' open credit on these new invoices, oldest credit first.

        Credit is any open credit on the client's receivable account in the
        invoice's currency: a credit note, an overpayment, a prepayment. It is
        reconciled with the invoice as Odoo's "Outstanding credits" widget
        does, one credit after the other, until the invoice is paid.
        """
        invoices = self.filtered(
            lambda m: (
                m.commercial_partner_id.with_company(m.company_id)._agency_applies_credit_automatically()
                and not m.currency_id.is_zero(m.amount_residual)
            )
        )
        if not invoices:
            return
        receivable = invoices.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        credit_lines = self.env["account.move.line"].search(
            [
                ("account_id", "in", receivable.account_id.ids),
                ("partner_id", "in", invoices.commercial_partner_id.ids),
                ("company_id", "in", invoices.company_id.ids),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("balance", "<", 0.0),
                ("move_id", "not in", invoices.ids),
            ],
            order="date, id",
        )
        if not credit_lines:
            return
        by_client = defaultdict(list)
        for line in credit_lines:
            by_client[line.partner_id, line.company_id, line.account_id, line.currency_id].append(line)
        for invoice in invoices.sorted(lambda m: (m.invoice_date or m.date, m.id)):
            open_lines = invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            )
            key = (
                invoice.commercial_partner_id,
                invoice.company_id,
                open_lines.account_id[:1],
                invoice.currency_id,
            )
            open_credit = by_client.get(key)
            if not open_credit or invoice.currency_id.is_zero(invoice.amount_residual):
                continue
            try:
                with self.env.cr.savepoint():
                    applied = invoice._agency_reconcile_credit(open_credit)
            except Exception as error:  # the invoice is posted all the same; credit stays open
                _logger.warning("open credit not applied to %s", invoice.name, exc_info=True)
                invoice.message_post(
                    body=self.env._(
                        "The client's open credit could not be applied automatically (%(error)s): apply it "
                        "from Outstanding credits below the totals.",
                        error=error,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            if applied:
                invoice.message_post(
                    body=self.env._(
                        "Credit applied automatically: %(credits)s.",
                        credits=", ".join(
                            f"{move.name} ({formatLang(self.env, amount, currency_obj=invoice.currency_id)})"
                            for move, amount in applied
                        ),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def _agency_reconcile_credit(self, credit_lines):
        """Reconcile credit lines with this invoice one after the other, as
        Odoo's "Outstanding credits" widget does, until it is paid.
        Returns [(credit move, amount applied)]."""
        self.ensure_one()
        applied = []
        for credit in credit_lines:
            if self.currency_id.is_zero(self.amount_residual):
                break
            if credit.reconciled:
                continue
            before = self.amount_residual
            (
                credit
                + self.line_ids.filtered(
                    lambda line, c=credit: line.account_id == c.account_id and not line.reconciled
                )
            ).reconcile()
            applied.append((credit.move_id, before - self.amount_residual))
        return applied

    def _agency_schedule_automatic_charge(self):
        """Invoices of clients on automatic payment get the date their saved
        payment method is charged; the charging job does the rest."""
        by_date = defaultdict(list)
        for invoice in self:
            client = invoice.commercial_partner_id.with_company(invoice.company_id)
            if not client.agency_autopay or invoice.currency_id.is_zero(invoice.amount_residual):
                continue
            by_date[client._agency_charge_date_for(invoice)].append(invoice.id)
        if not by_date:
            return
        for charge_date, ids in by_date.items():
            self.browse(ids).write({"agency_charge_date": charge_date})
        today = fields.Date.context_today(self)
        if min(by_date) <= today:
            self.env.ref("agency_billing.ir_cron_charge_due_invoices").sudo()._trigger()

    def action_agency_refund(self):
        """Open the refund wizard on a paid (or partly paid) invoice."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refund %(invoice)s", invoice=self.name),
            "res_model": "agency.refund.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_agency_charge_now(self):
        """Charge the client's saved payment method for this invoice now."""
        self.ensure_one()
        run = self.env["agency.payment.run"]._charge_now(self)
        attempt = run.attempt_ids[:1]
        ok = attempt.state in ("done", "pending")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if ok else "danger",
                "title": dict(attempt._fields["state"]._description_selection(self.env)).get(attempt.state),
                "message": attempt.message or "",
                "sticky": not ok,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_agency_view_payment_attempts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_payment_attempt_action")
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _agency_refundable_transactions(self):
        """The confirmed online payments of this invoice, newest first."""
        self.ensure_one()
        return (
            self.sudo()
            .transaction_ids.filtered(
                lambda tx: (
                    tx.state == "done" and tx.operation not in ("refund", "validation") and tx.payment_id
                )
            )
            .sorted("id", reverse=True)
        )
