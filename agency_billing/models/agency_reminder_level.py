from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_amount

from .. import dunning


class AgencyReminderLevel(models.Model):
    """One step of a reminder plan: when, which email, which fee, which activity."""

    _name = "agency.reminder.level"
    _description = "Reminder Level"
    _order = "plan_id, days, id"
    _check_company_auto = True

    plan_id = fields.Many2one("agency.reminder.plan", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True)
    name = fields.Char(required=True, translate=True, help="Shown to the client, e.g. “Second reminder”.")
    days = fields.Integer(
        string="Days from Due Date",
        required=True,
        help="When the level is sent: days after the due date (e.g. 7), 0 on the due date, "
        "or days before it as a negative number (e.g. -3).",
    )
    when = fields.Char(compute="_compute_when")
    fee_display = fields.Char(string="Late Fee Summary", compute="_compute_fee_display")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        required=True,
        domain="[('model', '=', 'agency.reminder')]",
        default=lambda self: self.env.ref(
            "agency_billing.mail_template_reminder_overdue", raise_if_not_found=False
        ),
    )
    attach_invoices = fields.Boolean(string="Attach the Invoices", default=True)
    attach_statement = fields.Boolean(
        string="Attach a Statement", help="A statement of every open invoice of the client, as a PDF."
    )

    fee_type = fields.Selection(dunning.FEE_TYPES, string="Late Fee", default=dunning.FEE_NONE, required=True)
    fee_fixed = fields.Monetary(string="Fee Amount", currency_field="currency_id")
    fee_percent = fields.Float(
        string="Fee (%)", digits=(16, 2), help="Of the amount still due on the invoice."
    )
    fee_min = fields.Monetary(string="Minimum Fee", currency_field="currency_id", help="0: no minimum.")
    fee_max = fields.Monetary(string="Maximum Fee", currency_field="currency_id", help="0: no maximum.")
    fee_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        default=lambda self: self.env.ref("agency_billing.product_late_fee", raise_if_not_found=False),
        help="Gives the fee's invoice line its name, income account and taxes.",
    )

    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity",
        help="Schedule this activity on the client for its account manager (the client's salesperson).",
    )
    activity_summary = fields.Char(translate=True)
    activity_delay = fields.Integer(string="Activity Due In (days)", default=0)
    activity_user_id = fields.Many2one(
        "res.users",
        string="If No Account Manager",
        domain="[('share', '=', False)]",
        help="Who gets the activity when the client has no salesperson.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("days")
    def _compute_when(self):
        for level in self:
            if level.days < 0:
                level.when = self.env._("%(days)s days before the due date", days=-level.days)
            elif level.days == 0:
                level.when = self.env._("On the due date")
            else:
                level.when = self.env._("%(days)s days after the due date", days=level.days)

    @api.depends("fee_type", "fee_fixed", "fee_percent", "fee_min", "fee_max", "currency_id")
    def _compute_fee_display(self):
        for level in self:
            currency = level.currency_id

            def money(amount, currency=currency):
                return format_amount(self.env, amount, currency)

            if level.fee_type == dunning.FEE_FIXED:
                level.fee_display = money(level.fee_fixed)
            elif level.fee_type == dunning.FEE_PERCENT:
                text = self.env._("%(percent)s%% of the amount due", percent=f"{level.fee_percent:g}")
                bounds = []
                if level.fee_min:
                    bounds.append(self.env._("at least %(amount)s", amount=money(level.fee_min)))
                if level.fee_max:
                    bounds.append(self.env._("at most %(amount)s", amount=money(level.fee_max)))
                level.fee_display = f"{text} ({', '.join(bounds)})" if bounds else text
            else:
                level.fee_display = ""

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("days", "plan_id", "active")
    def _check_one_level_per_day(self):
        for level in self.filtered("active"):
            twin = self.search(
                [("plan_id", "=", level.plan_id.id), ("days", "=", level.days), ("id", "!=", level.id)],
                limit=1,
            )
            if twin:
                raise ValidationError(
                    self.env._(
                        "“%(level)s” and “%(other)s” of the plan “%(plan)s” are both %(when)s: "
                        "give each level a day of its own.",
                        level=level.name,
                        other=twin[0].name,
                        plan=level.plan_id.name,
                        when=level.when.lower(),
                    )
                )

    @api.constrains("fee_type", "fee_fixed", "fee_percent", "fee_min", "fee_max", "fee_product_id")
    def _check_fee(self):
        for level in self:
            name = level.name
            if min(level.fee_fixed, level.fee_min, level.fee_max) < 0:
                raise ValidationError(
                    self.env._("The late fee of “%(level)s” cannot be negative.", level=name)
                )
            if level.fee_percent < 0 or level.fee_percent > 100:
                raise ValidationError(
                    self.env._(
                        "The late fee of “%(level)s” is a percentage of the amount due: "
                        "between 0 and 100, not %(percent)s.",
                        level=name,
                        percent=level.fee_percent,
                    )
                )
            if level.fee_max and level.fee_max < level.fee_min:
                raise ValidationError(
                    self.env._(
                        "The maximum late fee of “%(level)s” (%(max)s) is below its minimum (%(min)s).",
                        level=name,
                        max=level.fee_max,
                        min=level.fee_min,
                    )
                )
            if level.fee_type == dunning.FEE_FIXED and not level.fee_fixed:
                raise ValidationError(
                    self.env._("Set the amount of the fixed late fee of “%(level)s”.", level=name)
                )
            if level.fee_type == dunning.FEE_PERCENT and not level.fee_percent:
                raise ValidationError(
                    self.env._("Set the percentage of the late fee of “%(level)s”.", level=name)
                )
            if level.fee_type != dunning.FEE_NONE and not level.fee_product_id:
                raise ValidationError(
                    self.env._("Choose the product the late fee of “%(level)s” is invoiced as.", level=name)
                )

    @api.constrains("mail_template_id")
    def _check_mail_template(self):
        for level in self:
            if level.mail_template_id.model != "agency.reminder":
                raise ValidationError(
                    self.env._(
                        "The email of “%(level)s” must be a reminder template (one made for Payment "
                        "Reminders), not “%(template)s”.",
                        level=level.name,
                        template=level.mail_template_id.name,
                    )
                )
        self.mail_template_id._agency_check_pay_link()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        used = self.env["agency.reminder.line"].sudo().search_count([("level_id", "in", self.ids)], limit=1)
        if used:
            raise UserError(
                self.env._(
                    "This level has already been sent to clients and stays in their history: "
                    "archive it instead of deleting it."
                )
            )

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _get_fee(self, move, date):
        """The late fee of this level for an invoice, in the invoice's currency (0.0: none).

        Fixed amounts, minimum and maximum are in the company's currency and
        converted by Odoo at the date's rate.
        """
        self.ensure_one()
        if self.fee_type == dunning.FEE_NONE:
            return 0.0
        company = move.company_id
        currency = move.currency_id

        def convert(amount):
            return company.currency_id._convert(amount, currency, company, date) if amount else 0.0

        amount = dunning.fee_amount(
            self.fee_type,
            fixed=convert(self.fee_fixed),
            percent=self.fee_percent,
            minimum=convert(self.fee_min),
            maximum=convert(self.fee_max),
            amount_due=move.amount_residual,
        )
        return currency.round(amount)
