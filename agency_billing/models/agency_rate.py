from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Most specific first: the first level with a rule valid on the entry's date wins.
PRECEDENCE = [
    ("employee_task", ("employee_id", "task_id")),
    ("task", ("task_id",)),
    ("employee_project", ("employee_id", "project_id")),
    ("project", ("project_id",)),
    ("client", ("partner_id",)),
    ("employee", ("employee_id",)),
]
LEVELS = [
    ("employee_task", "Employee on a task"),
    ("task", "Task"),
    ("employee_project", "Employee on a project"),
    ("project", "Project"),
    ("client", "Client"),
    ("employee", "Employee's default rate"),
    ("product", "Service product's price"),
]
KEYS = ("partner_id", "project_id", "task_id", "employee_id")


class AgencyRate(models.Model):
    """An hourly rate for billed time, from a date on.

    A rule names what it applies to (an employee, a task, a project, a client,
    or a combination the precedence knows); the rate used is stored on each
    billed timesheet line, so a new rule from a date never rewrites history.
    """

    _name = "agency.rate"
    _description = "Hourly Rate"
    _order = "level_sequence, date_start desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Client", check_company=True, domain="[('parent_id', '=', False)]"
    )
    project_id = fields.Many2one("project.project", check_company=True)
    task_id = fields.Many2one("project.task", check_company=True)
    employee_id = fields.Many2one("hr.employee", check_company=True)
    rate = fields.Monetary(string="Hourly Rate", required=True, currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_start = fields.Date(string="Valid From", required=True, default="2000-01-01")
    level = fields.Selection(LEVELS, compute="_compute_level", store=True)
    level_sequence = fields.Integer(compute="_compute_level", store=True)
    active = fields.Boolean(default=True)

    @api.depends(*KEYS)
    def _compute_level(self):
        for rule in self:
            keys = {key for key in KEYS if rule[key]}
            if rule.task_id:
                keys.discard("project_id")  # a task rule may name the task's project too
            level = next((name for name, needed in PRECEDENCE if set(needed) == keys), False)
            rule.level = level
            rule.level_sequence = [name for name, _needed in PRECEDENCE].index(level) if level else 99

    @api.constrains(*KEYS, "rate")
    def _check_rule(self):
        for rule in self:
            if rule.task_id and rule.project_id and rule.task_id.project_id != rule.project_id:
                raise ValidationError(self.env._("The task is not in that project."))
            if not rule.level:
                raise ValidationError(
                    self.env._(
                        "A rate applies to an employee on a task, a task, an employee on a project, a project, "
                        "a client or an employee: pick one of these."
                    )
                )
            if rule.rate < 0:
                raise ValidationError(self.env._("An hourly rate cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._refresh_unbilled_time()
        return rules

    def write(self, vals):
        res = super().write(vals)
        self._refresh_unbilled_time()
        return res

    def unlink(self):
        companies = self.company_id
        res = super().unlink()
        self.env["account.analytic.line"]._agency_recompute_expected([("company_id", "in", companies.ids)])
        return res

    def _refresh_unbilled_time(self):
        if self:
            self.env["account.analytic.line"]._agency_recompute_expected(
                [("company_id", "in", self.company_id.ids)]
            )

    def _compute_display_name(self):
        for rule in self:
            subject = " / ".join(
                rule[key].display_name
                for key in ("employee_id", "task_id", "project_id", "partner_id")
                if rule[key]
            )
            rule.display_name = f"{subject}: {rule.rate} (from {rule.date_start})"

    @api.model
    def _find_rates(self, lines):
        """{timesheet line: (rate, level)} for the given timesheet lines.

        One query for all the rules that could apply; the precedence and the
        dates are then resolved in Python, per line.
        """
        result = {}
        if not lines:
            return result
        companies = lines.company_id
        rules = self.search(
            [
                ("company_id", "in", companies.ids),
                "|",
                "|",
                "|",
                ("employee_id", "in", lines.employee_id.ids),
                ("task_id", "in", lines.task_id.ids),
                ("project_id", "in", lines.project_id.ids),
                ("partner_id", "in", lines.mapped("partner_id.commercial_partner_id").ids),
            ]
        )
        needed_by_level = dict(PRECEDENCE)
        index = {}
        for rule in rules:  # already sorted by level, then most recent first
            if not rule.level:
                continue
            needed = needed_by_level[rule.level]
            key = (rule.company_id.id, rule.level, *(rule[k].id for k in needed))
            index.setdefault(key, []).append(rule)
        for line in lines:
            values = {
                "partner_id": line.partner_id.commercial_partner_id.id,
                "project_id": line.project_id.id,
                "task_id": line.task_id.id,
                "employee_id": line.employee_id.id,
            }
            found = None
            for level, needed in PRECEDENCE:
                key = (line.company_id.id, level, *(values[k] for k in needed))
                for rule in index.get(key, ()):
                    if rule.date_start <= line.date:
                        found = (rule.rate, level)
                        break
                if found:
                    break
            if not found:
                product = line._agency_time_product()
                if product:
                    found = (product.lst_price, "product")
            result[line] = found or (None, False)
        return result
