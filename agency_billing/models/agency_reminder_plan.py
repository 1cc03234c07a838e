from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import dunning


class AgencyReminderPlan(models.Model):
    """A company's reminder plan: the levels an unpaid invoice climbs."""

    _name = "agency.reminder.plan"
    _description = "Reminder Plan"
    _order = "company_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    level_ids = fields.One2many("agency.reminder.level", "plan_id", string="Levels", copy=True)
    level_count = fields.Integer(compute="_compute_level_count")
    is_company_default = fields.Boolean(
        string="Company's Plan",
        compute="_compute_is_company_default",
        help="The plan of clients without one.",
    )

    @api.depends("level_ids")
    def _compute_level_count(self):
        for plan in self:
            plan.level_count = len(plan.level_ids)

    @api.depends("company_id.agency_reminder_plan_id")
    def _compute_is_company_default(self):
        for plan in self:
            plan.is_company_default = plan.company_id.agency_reminder_plan_id == plan

    @api.constrains("active")
    def _check_not_the_company_plan(self):
        for plan in self:
            if not plan.active and plan.company_id.agency_reminder_plan_id == plan:
                raise ValidationError(
                    self.env._(
                        "“%(plan)s” is the reminder plan of %(company)s: choose another plan in "
                        "Settings > Billing before archiving it.",
                        plan=plan.name,
                        company=plan.company_id.name,
                    )
                )

    def _get_levels(self):
        """{plan id: [dunning.Level]} of the active levels, in order."""
        return {
            plan.id: sorted(dunning.Level(days=level.days, id=level.id) for level in plan.level_ids)
            for plan in self
        }

    def action_make_company_default(self):
        """ "Use for the company": whoever may change the plan may choose it."""
        self.ensure_one()
        self.check_access("write")
        self.company_id.sudo().agency_reminder_plan_id = self
