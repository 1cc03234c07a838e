from odoo import fields, models

from .. import overview


class AgencyBillingTrend(models.Model):
    """Invoiced and collected per client, project and day (``overview.trends``).

    Invoiced: each line of a posted customer invoice or credit note, before
    tax and its share of the document's total with tax. Collected: money
    received on the clients' receivable accounts, less money paid back; a
    payment applied to an invoice counts for the invoice's projects in
    proportion of its lines, what is not applied has no project.
    """

    _name = "agency.billing.trend"
    _description = "Invoiced and Collected"
    _auto = False
    _order = "date desc, id"
    _rec_name = "move_id"

    kind = fields.Selection([("invoiced", "Invoiced"), ("collected", "Collected")], readonly=True)
    date = fields.Date(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    amount_untaxed = fields.Monetary(
        string="Invoiced before Tax",
        readonly=True,
        currency_field="company_currency_id",
        help="Invoices less credit notes, before tax, in the company's currency.",
    )
    amount_invoiced = fields.Monetary(
        string="Invoiced",
        readonly=True,
        currency_field="company_currency_id",
        help="Invoices less credit notes, taxes included, in the company's currency.",
    )
    amount = fields.Monetary(
        readonly=True,
        currency_field="company_currency_id",
        help="Invoiced (taxes included) on an invoiced row, collected on a collected row.",
    )
    amount_collected = fields.Monetary(
        string="Collected",
        readonly=True,
        currency_field="company_currency_id",
        help="Payments received less refunds paid, in the company's currency, on the day the money came.",
    )

    _depends = {
        "account.move": [
            "move_type",
            "state",
            "invoice_date",
            "commercial_partner_id",
            "amount_untaxed_signed",
            "amount_total_signed",
            "origin_payment_id",
            "statement_line_id",
        ],
        "account.move.line": [
            "move_id",
            "balance",
            "display_type",
            "tax_repartition_line_id",
            "account_id",
            "partner_id",
            "parent_state",
            "date",
            "agency_item_id",
            "analytic_distribution",
        ],
        "account.partial.reconcile": ["debit_move_id", "credit_move_id", "amount"],
    }

    @property
    def _table_query(self):
        overview.disable_jit(self.env.cr)
        return overview.trends(self.env.companies)
