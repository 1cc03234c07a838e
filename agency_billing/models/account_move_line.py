from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # The invoice line is the billing ledger: the unique index below lets a
    # period of an item be on only one invoice that is not cancelled, whatever
    # the code path or the number of concurrent runs. Cancelling the invoice
    # (parent_state) frees it; a credit note copies none of these fields.
    agency_item_id = fields.Many2one(
        "agency.billable.item",
        string="Billable Item",
        copy=False,
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    agency_period_key = fields.Char(copy=False, readonly=True)
    agency_period_start = fields.Date(string="Billed From", copy=False, readonly=True)
    agency_period_end = fields.Date(string="Billed To", copy=False, readonly=True)
    agency_timesheet_billing_ids = fields.One2many(
        "agency.timesheet.billing", "move_line_id", string="Billed Time", copy=False, readonly=True
    )

    _agency_exactly_once = models.UniqueIndex(
        "(agency_item_id, agency_period_key) WHERE agency_item_id IS NOT NULL AND parent_state <> 'cancel'",
        "This period of the billable item is already on an invoice that is not cancelled.",
    )

    # ------------------------------------------------------------------
    # INVOICE LAYOUTS
    # ------------------------------------------------------------------
    def _agency_project(self):
        """The project an invoice line bills: its item's, its timesheets', else
        the project of its analytic account (empty when none)."""
        self.ensure_one()
        if self.agency_item_id.project_id:
            return self.agency_item_id.project_id
        projects = self.agency_timesheet_billing_ids.analytic_line_id.project_id
        if projects:
            return projects[:1]
        account_ids = [
            int(account_id)
            for key in (self.analytic_distribution or {})
            for account_id in key.split(",")
            if account_id.isdigit()
        ]
        if not account_ids:
            return self.env["project.project"]
        return self.env["project.project"].search([("account_id", "in", account_ids)], limit=1)

    # ------------------------------------------------------------------
    # ACCEPTED QUOTES
    # ------------------------------------------------------------------
    # An invoice line made for a quote invoice (agency.quote.charge) keeps
    # the order line it bills (also in Odoo's sale_line_ids): the unique index
    # lets an order line be on only one invoice of a quote invoice that is not
    # cancelled, whatever the code path or the number of concurrent runs.
    agency_quote_charge_id = fields.Many2one(
        "agency.quote.charge",
        string="Quote Invoice",
        copy=False,
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    agency_sale_line_id = fields.Many2one("sale.order.line", copy=False, readonly=True, ondelete="set null")

    _agency_quote_exactly_once = models.UniqueIndex(
        "(agency_quote_charge_id, agency_sale_line_id) "
        "WHERE agency_quote_charge_id IS NOT NULL AND parent_state <> 'cancel'",
        "This order line is already on an invoice of this quote that is not cancelled.",
    )
