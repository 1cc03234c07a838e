from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools.misc import formatLang

from .. import payments


class AgencyRefundWizard(models.TransientModel):
    """Refund from an invoice, as in WHMCS, done the accounting way.

    Every refund is first a credit note of the refunded amount (the whole
    invoice reversed, or the amount spread over its taxes as Odoo spreads a
    down payment). Then the money goes back, or not:

    - credit the client's balance: the credit note stays open as credit,
      which pays the client's next invoice;
    - through the payment provider: Odoo's own refund of the transaction,
      whose refund payment is reconciled with the credit note;
    - paid outside Odoo: a refund payment registered on the credit note.
    """

    _name = "agency.refund.wizard"
    _description = "Refund an Invoice"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
    )
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Client")
    refundable_amount = fields.Monetary(
        string="Paid and Not Refunded",
        related="move_id.agency_refundable_amount",
        currency_field="currency_id",
    )
    method = fields.Selection(payments.REFUND_METHODS, required=True, default=payments.REFUND_CREDIT)
    amount = fields.Monetary(
        string="Amount to Refund",
        currency_field="currency_id",
        compute="_compute_amount",
        store=True,
        readonly=False,
        required=True,
    )
    reason = fields.Char(help="Shown on the credit note.")
    date = fields.Date(required=True, default=fields.Date.context_today)
    transaction_id = fields.Many2one(
        "payment.transaction",
        string="Online Payment",
        compute="_compute_transaction_id",
        store=True,
        readonly=False,
        domain="[('id', 'in', refundable_transaction_ids)]",
    )
    refundable_transaction_ids = fields.Many2many(
        "payment.transaction", compute="_compute_refundable_transaction_ids"
    )
    transaction_refundable_amount = fields.Monetary(
        string="Refundable Through the Provider",
        compute="_compute_transaction_refund_info",
        currency_field="currency_id",
    )
    transaction_support_refund = fields.Selection(
        [("none", "Unsupported"), ("full_only", "Full Only"), ("partial", "Partial")],
        string="Provider Refunds",
        compute="_compute_transaction_refund_info",
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Paid From",
        domain="[('type', 'in', ('bank', 'cash', 'credit')), ('company_id', '=', company_id)]",
        help="The bank or cash journal the refund was paid from.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("move_id")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.move_id.agency_refundable_amount

    @api.depends("move_id")
    def _compute_refundable_transaction_ids(self):
        for wizard in self:
            wizard.refundable_transaction_ids = wizard.move_id._agency_refundable_transactions()

    @api.depends("move_id", "method")
    def _compute_transaction_id(self):
        for wizard in self:
            if wizard.method != payments.REFUND_PROVIDER:
                wizard.transaction_id = False
            elif not wizard.transaction_id:
                wizard.transaction_id = wizard.move_id._agency_refundable_transactions()[:1]

    @api.depends("transaction_id")
    def _compute_transaction_refund_info(self):
        for wizard in self:
            tx = wizard.transaction_id.sudo()
            wizard.transaction_support_refund = tx._agency_support_refund() if tx else "none"
            wizard.transaction_refundable_amount = tx.payment_id.amount_available_for_refund if tx else 0.0

    # ------------------------------------------------------------------
    # ACTION
    # ------------------------------------------------------------------
    def action_refund(self):
        self.ensure_one()
        self._check_refund()
        credit_note = self._create_credit_note()
        if self.method == payments.REFUND_PROVIDER:
            self._refund_through_provider(credit_note)
        elif self.method == payments.REFUND_MANUAL:
            self._register_refund_payment(credit_note)
        method = dict(self._fields["method"]._description_selection(self.env))[self.method]
        self.move_id.message_post(
            body=self.env._(
                "Refund of %(amount)s (%(method)s): credit note %(credit_note)s.",
                amount=formatLang(self.env, self.amount, currency_obj=self.currency_id),
                method=method,
                credit_note=credit_note._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": credit_note.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def _check_refund(self):
        invoice = self.move_id
        currency = self.currency_id
        if invoice.move_type != "out_invoice" or invoice.state != "posted":
            raise UserError(self.env._("Only a posted customer invoice can be refunded."))
        if currency.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(self.env._("The amount to refund must be more than zero."))
        if currency.compare_amounts(self.amount, invoice.agency_refundable_amount) > 0:
            raise UserError(
                self.env._(
                    "You can refund at most %(max)s on %(invoice)s: what was paid on it and not "
                    "refunded or credited yet.",
                    max=formatLang(self.env, invoice.agency_refundable_amount, currency_obj=currency),
                    invoice=invoice.name,
                )
            )
        if self.method == payments.REFUND_PROVIDER:
            self._check_provider_refund()
        if self.method == payments.REFUND_MANUAL and not self.journal_id:
            raise UserError(self.env._("Choose the bank or cash journal the refund was paid from."))

    def _check_provider_refund(self):
        tx = self.transaction_id.sudo()
        currency = self.currency_id
        if not tx:
            raise UserError(
                self.env._(
                    "%(invoice)s was not paid online through a payment provider that can refund: "
                    "credit the client's balance, or record a refund paid outside Odoo.",
                    invoice=self.move_id.name,
                )
            )
        support = tx._agency_support_refund()
        if support == "none":
            raise UserError(
                self.env._(
                    "%(provider)s cannot refund payments made with %(method)s: credit the client's "
                    "balance, or record a refund paid outside Odoo.",
                    provider=tx.provider_id.name,
                    method=tx.payment_method_id.name,
                )
            )
        # Odoo computes it from the refunds confirmed so far, every time
        tx.payment_id.invalidate_recordset(["amount_available_for_refund"])
        available = tx.payment_id.amount_available_for_refund
        if currency.compare_amounts(self.amount, available) > 0:
            raise UserError(
                self.env._(
                    "The online payment %(reference)s can be refunded %(max)s at most.",
                    reference=tx.reference,
                    max=formatLang(self.env, available, currency_obj=currency),
                )
            )
        if support == "full_only" and currency.compare_amounts(self.amount, available) != 0:
            raise UserError(
                self.env._(
                    "%(provider)s only refunds whole payments: refund %(max)s, or credit the client's "
                    "balance instead.",
                    provider=tx.provider_id.name,
                    max=formatLang(self.env, available, currency_obj=currency),
                )
            )
        pending = (
            self.env["payment.transaction"]
            .sudo()
            .search_count(
                [
                    ("source_transaction_id", "=", tx.id),
                    ("operation", "=", "refund"),
                    ("state", "in", ("draft", "pending", "authorized")),
                ],
                limit=1,
            )
        )
        if pending:
            raise UserError(
                self.env._("A refund of %(reference)s is still being processed.", reference=tx.reference)
            )

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _get_credit_note_ref(self):
        invoice = self.move_id
        lang = invoice.partner_id.lang or self.env.lang
        env = self.with_context(lang=lang).env
        if self.reason:
            return env._("Refund of %(invoice)s: %(reason)s", invoice=invoice.name, reason=self.reason)
        return env._("Refund of %(invoice)s", invoice=invoice.name)

    def _create_credit_note(self):
        """The posted credit note of the refunded amount: Odoo's reversal of the
        whole invoice, or, for part of it, the amount spread over its taxes."""
        invoice = self.move_id
        currency = self.currency_id
        values = {
            "ref": self._get_credit_note_ref(),
            "date": self.date,
            "invoice_date": self.date,
            "invoice_date_due": self.date,
            "invoice_payment_term_id": False,
            "invoice_origin": invoice.name,
        }
        already_credited = currency.compare_amounts(
            invoice.agency_refundable_amount, invoice.amount_total - invoice.amount_residual
        )
        if currency.compare_amounts(self.amount, invoice.amount_total) == 0 and already_credited == 0:
            # the whole invoice, fully paid: Odoo's reversal, line by line
            credit_note = invoice._reverse_moves([values])
        else:
            # Part of it: not linked as a reversal, which Odoo would reconcile
            # with what is still open on the invoice; the refund stays credit.
            credit_note = (
                self.env["account.move"]
                .with_company(invoice.company_id)
                .create(
                    {
                        **values,
                        "move_type": "out_refund",
                        "partner_id": invoice.partner_id.id,
                        "currency_id": currency.id,
                        "fiscal_position_id": invoice.fiscal_position_id.id,
                        "journal_id": invoice.journal_id.id,
                        "invoice_line_ids": self._prepare_partial_credit_lines(),
                    }
                )
            )
        credit_note.agency_refunded_invoice_id = invoice
        credit_note._post(soft=False)
        if currency.compare_amounts(credit_note.amount_total, self.amount) != 0:
            raise UserError(
                self.env._(
                    "The credit note came to %(total)s instead of %(amount)s: refund the whole invoice, "
                    "or make the credit note by hand.",
                    total=formatLang(self.env, credit_note.amount_total, currency_obj=currency),
                    amount=formatLang(self.env, self.amount, currency_obj=currency),
                )
            )
        return credit_note

    def _prepare_partial_credit_lines(self):
        """Lines for part of the invoice: ``amount`` spread over the invoice's
        taxes by Odoo's tax engine, exactly as a down payment is."""
        invoice = self.move_id
        company = invoice.company_id
        AccountTax = self.env["account.tax"]
        base_lines = [
            AccountTax._prepare_base_line_for_taxes_computation(
                line,
                price_unit=line.price_unit,
                quantity=line.quantity,
                discount=line.discount,
                rate=invoice.invoice_currency_rate,
                special_mode=False,
            )
            for line in invoice.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        ]
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        refund_lines = AccountTax._prepare_down_payment_lines(
            base_lines=base_lines,
            company=company,
            amount_type="fixed",
            amount=self.amount,
            computation_key=f"agency_refund,{invoice.id}",
        )
        name = self._get_credit_note_ref()
        return [
            Command.create(
                {
                    "name": name,
                    "quantity": base_line["quantity"],
                    "price_unit": base_line["price_unit"],
                    "tax_ids": [Command.set(base_line["tax_ids"].ids)],
                    "account_id": base_line["account_id"].id,
                    "analytic_distribution": base_line["analytic_distribution"],
                    "extra_tax_data": AccountTax._export_base_line_extra_tax_data(base_line),
                }
            )
            for base_line in refund_lines
        ]

    def _refund_through_provider(self, credit_note):
        """Odoo's own refund of the online payment; its refund payment pays out the credit note."""
        tx = self.transaction_id.sudo().with_context(payment_backend_action=True)
        refund_tx = tx._refund(amount_to_refund=self.amount)
        # Odoo's post-processing reconciles the refund payment with the
        # transaction's documents: the credit note it pays out
        refund_tx.invoice_ids = [Command.set(credit_note.ids)]
        if refund_tx.state == "error":
            raise UserError(
                self.env._(
                    "%(provider)s refused the refund: %(reason)s",
                    provider=tx.provider_id.name,
                    reason=refund_tx.state_message or "",
                )
            )
        if refund_tx.state in ("done", "cancel"):
            refund_tx._post_process()
        return refund_tx

    def _register_refund_payment(self, credit_note):
        """A refund paid outside Odoo: Odoo's "Register Payment" on the credit note."""
        register = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=credit_note.ids)
            .create(
                {
                    "journal_id": self.journal_id.id,
                    "payment_date": self.date,
                    "amount": self.amount,
                    "communication": credit_note.ref or credit_note.name,
                }
            )
        )
        return register._create_payments()
