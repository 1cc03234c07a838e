from odoo import fields, models


class AgencyTimesheetBilling(models.Model):
    """Which invoice line billed which timesheet line.

    The unique index is the exactly-once guarantee for time: a timesheet line
    is on at most one invoice that is not cancelled (nor credited and released
    by a user), whatever the code path or the number of concurrent runs.
    """

    _name = "agency.timesheet.billing"
    _description = "Billed Timesheet Line"
    _rec_name = "analytic_line_id"

    # a billed entry cannot be deleted (account.analytic.line refuses it);
    # one whose invoice was cancelled can, and takes its history with it
    analytic_line_id = fields.Many2one(
        "account.analytic.line", required=True, index=True, ondelete="cascade", readonly=True
    )
    move_line_id = fields.Many2one(
        "account.move.line", required=True, index=True, ondelete="cascade", readonly=True
    )
    move_id = fields.Many2one(related="move_line_id.move_id", store=True, index=True)
    parent_state = fields.Selection(related="move_line_id.parent_state", store=True)
    is_released = fields.Boolean(readonly=True, help="Credited, and released by a user to be billed again.")
    rate = fields.Float(readonly=True, digits="Product Price")
    quantity = fields.Float(string="Billed Hours", readonly=True)

    _exactly_once = models.UniqueIndex(
        "(analytic_line_id) WHERE parent_state <> 'cancel' AND is_released IS NOT TRUE",
        "This timesheet line is already on an invoice that is not cancelled.",
    )
