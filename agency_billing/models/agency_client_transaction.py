from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from odoo.addons.account.models.account_move import PAYMENT_STATE_SELECTION

from .. import payments

# Journal items come first within the same moment, then the credit applied
# from them; rows of journal items keep their order of creation (their id).
_SEQUENCE_DOCUMENT = 0
_SEQUENCE_APPLIED = 1


class AgencyClientTransaction(models.Model):
    """A client's financial history, read from Odoo's accounting as it is.

    One row per posted document on the client's receivable account (invoice,
    credit note, payment, refund, adjustment), plus one row each time an
    older credit (a credit note, an overpayment, a prepayment) was applied to
    a newer invoice. ``balance`` is the running balance in company currency;
    on the newest row it is Odoo's own partner balance (Total Receivable).
    Nothing is stored: this is a query on journal items and reconciliations.
    """

    _name = "agency.client.transaction"
    _description = "Client Transaction"
    _auto = False
    _order = "date desc, date_created desc, sequence desc, id desc"
    _rec_name = "name"

    date = fields.Date(readonly=True)
    date_created = fields.Datetime(string="Recorded On", readonly=True)
    sequence = fields.Integer(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    transaction_type = fields.Selection(payments.TRANSACTION_TYPES, string="Type", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    source_move_id = fields.Many2one(
        "account.move", string="Credit From", readonly=True, help="Where the applied credit came from."
    )
    payment_id = fields.Many2one("account.payment", readonly=True)
    name = fields.Char(string="Number", readonly=True)
    reference = fields.Char(readonly=True)
    date_due = fields.Date(string="Due Date", readonly=True)
    payment_state = fields.Selection(PAYMENT_STATE_SELECTION, string="Status", readonly=True)
    debit = fields.Monetary(
        string="Charges", currency_field="company_currency_id", readonly=True, aggregator="sum"
    )
    credit = fields.Monetary(
        string="Credits",
        currency_field="company_currency_id",
        readonly=True,
        aggregator="sum",
        help="Payments received, credit notes and other credits.",
    )
    amount_applied = fields.Monetary(
        string="Credit Applied", currency_field="company_currency_id", readonly=True, aggregator="sum"
    )
    amount_open = fields.Monetary(
        string="Open",
        currency_field="company_currency_id",
        readonly=True,
        aggregator="sum",
        help="What is left unpaid (invoices) or unused (credits), in company currency.",
    )
    balance = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        aggregator=None,
        help="The client's balance after this row: positive, the client owes it; negative, credit.",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_currency = fields.Monetary(
        string="Amount in Currency", currency_field="currency_id", readonly=True
    )

    _depends = {
        "account.move": [
            "name",
            "state",
            "move_type",
            "date",
            "ref",
            "invoice_date_due",
            "payment_state",
            "origin_payment_id",
            "statement_line_id",
            "currency_id",
            "company_id",
        ],
        "account.move.line": [
            "move_id",
            "account_id",
            "partner_id",
            "balance",
            "amount_currency",
            "amount_residual",
            "parent_state",
        ],
        "account.partial.reconcile": ["debit_move_id", "credit_move_id", "amount", "max_date", "company_id"],
        "account.payment": ["memo"],
        "account.account": ["account_type"],
    }

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT rows.*,
                   SUM(rows.debit - rows.credit) OVER (
                       PARTITION BY rows.partner_id, rows.company_id
                       ORDER BY rows.date, rows.date_created, rows.sequence, rows.id
                   ) AS balance
              FROM (
                    SELECT MIN(aml.id) * 2 AS id,
                           aml.partner_id,
                           m.company_id,
                           company.currency_id AS company_currency_id,
                           m.date,
                           MIN(aml.create_date) AS date_created,
                           CASE
                               WHEN m.move_type IN ('out_invoice', 'out_receipt') THEN %(invoice)s
                               WHEN m.move_type = 'out_refund' THEN %(credit_note)s
                               WHEN m.origin_payment_id IS NULL AND m.statement_line_id IS NULL
                                   THEN %(adjustment)s
                               WHEN SUM(aml.balance) < 0 THEN %(payment)s
                               ELSE %(refund)s
                           END AS transaction_type,
                           %(seq_document)s AS sequence,
                           m.id AS move_id,
                           NULL::integer AS source_move_id,
                           m.origin_payment_id AS payment_id,
                           m.name,
                           COALESCE(NULLIF(pay.memo, ''), NULLIF(m.ref, '')) AS reference,
                           CASE WHEN m.move_type IN ('out_invoice', 'out_receipt') THEN m.invoice_date_due END
                               AS date_due,
                           CASE WHEN m.move_type IN ('out_invoice', 'out_receipt', 'out_refund')
                               THEN m.payment_state END AS payment_state,
                           GREATEST(SUM(aml.balance), 0) AS debit,
                           GREATEST(-SUM(aml.balance), 0) AS credit,
                           0.0 AS amount_applied,
                           ABS(SUM(aml.amount_residual)) AS amount_open,
                           m.currency_id,
                           SUM(aml.amount_currency) AS amount_currency
                      FROM account_move_line aml
                      JOIN account_move m ON m.id = aml.move_id
                      JOIN account_account account ON account.id = aml.account_id
                      JOIN res_company company ON company.id = m.company_id
                 LEFT JOIN account_payment pay ON pay.id = m.origin_payment_id
                     WHERE aml.parent_state = 'posted'
                       AND account.account_type = 'asset_receivable'
                       AND aml.partner_id IS NOT NULL
                  GROUP BY aml.partner_id, m.id, company.currency_id, pay.memo

                 UNION ALL

                    -- an older credit applied to a newer invoice
                    SELECT partial.id * 2 + 1 AS id,
                           debit_line.partner_id,
                           invoice.company_id,
                           company.currency_id AS company_currency_id,
                           partial.max_date AS date,
                           partial.create_date AS date_created,
                           %(applied)s AS transaction_type,
                           %(seq_applied)s AS sequence,
                           invoice.id AS move_id,
                           credit_move.id AS source_move_id,
                           credit_move.origin_payment_id AS payment_id,
                           invoice.name,
                           credit_move.name AS reference,
                           NULL::date AS date_due,
                           NULL AS payment_state,
                           0.0 AS debit,
                           0.0 AS credit,
                           partial.amount AS amount_applied,
                           0.0 AS amount_open,
                           invoice.currency_id,
                           partial.debit_amount_currency AS amount_currency
                      FROM account_partial_reconcile partial
                      JOIN account_move_line debit_line ON debit_line.id = partial.debit_move_id
                      JOIN account_move_line credit_line ON credit_line.id = partial.credit_move_id
                      JOIN account_move invoice ON invoice.id = debit_line.move_id
                      JOIN account_move credit_move ON credit_move.id = credit_line.move_id
                      JOIN account_account account ON account.id = debit_line.account_id
                      JOIN res_company company ON company.id = invoice.company_id
                     WHERE account.account_type = 'asset_receivable'
                       AND invoice.move_type IN ('out_invoice', 'out_receipt')
                       AND invoice.state = 'posted'
                       AND credit_move.state = 'posted'
                       AND debit_line.partner_id IS NOT NULL
                       AND credit_line.id < debit_line.id
              ) AS rows
            """,
            invoice=payments.TX_INVOICE,
            credit_note=payments.TX_CREDIT_NOTE,
            adjustment=payments.TX_ADJUSTMENT,
            payment=payments.TX_PAYMENT,
            refund=payments.TX_REFUND,
            applied=payments.TX_APPLIED,
            seq_document=_SEQUENCE_DOCUMENT,
            seq_applied=_SEQUENCE_APPLIED,
        )

    # ------------------------------------------------------------------
    # DISPLAY
    # ------------------------------------------------------------------
    @api.depends("transaction_type", "name", "source_move_id")
    def _compute_display_name(self):
        for row in self:
            if row.transaction_type == payments.TX_APPLIED:
                row.display_name = self.env._(
                    "Credit from %(credit)s applied to %(invoice)s",
                    credit=row.source_move_id.name or row.reference,
                    invoice=row.name,
                )
            else:
                row.display_name = row.name

    def _get_portal_description(self):
        """What the client reads for this row in the portal: no journal codes."""
        self.ensure_one()
        kind = dict(self._fields["transaction_type"]._description_selection(self.env))[self.transaction_type]
        move = self.move_id.sudo()
        if self.transaction_type in (payments.TX_INVOICE, payments.TX_CREDIT_NOTE):
            return f"{kind} {self.name}"
        if self.transaction_type == payments.TX_APPLIED:
            amount = formatLang(self.env, self.amount_applied, currency_obj=self.company_currency_id)
            source = self.source_move_id.sudo()
            if source.move_type == "out_refund":
                return self.env._(
                    "%(amount)s of credit note %(credit)s used on invoice %(invoice)s",
                    amount=amount,
                    credit=source.name,
                    invoice=self.name,
                )
            return self.env._(
                "%(amount)s of credit on your account used on invoice %(invoice)s",
                amount=amount,
                invoice=self.name,
            )
        payment = move.origin_payment_id
        if payment.payment_token_id:
            return self.env._(
                "%(kind)s by %(method)s (%(card)s)",
                kind=kind,
                method=payment.payment_method_line_id.name,
                card=payment.payment_token_id.display_name,
            )
        return f"{kind} — {move.journal_id.name}"

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_open_document(self):
        """Open what the row is about: the invoice, credit note or payment."""
        self.ensure_one()
        if self.payment_id and self.transaction_type in (payments.TX_PAYMENT, payments.TX_REFUND):
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.payment",
                "res_id": self.payment_id.id,
                "views": [(False, "form")],
                "target": "current",
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "views": [(False, "form")],
            "target": "current",
        }
