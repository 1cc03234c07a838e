from odoo import fields, models

from .. import const


class ProjectTask(models.Model):
    _inherit = "project.task"

    agency_time_billable = fields.Selection(
        [
            (const.TIME_BILLABLE_PROJECT, "As the project's setting"),
            (const.TIME_BILLABLE_YES, "Billable"),
            (const.TIME_BILLABLE_NO, "Not billable"),
        ],
        string="Time Is Billable",
        default=const.TIME_BILLABLE_PROJECT,
        required=True,
    )
