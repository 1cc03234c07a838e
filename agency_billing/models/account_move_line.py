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
