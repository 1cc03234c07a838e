from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from .. import const

TIME_SOURCE = "account.analytic.line"


class AgencyBillingRunWizard(models.TransientModel):
    """ "Run Billing Now" and "Bill Time": preview what is due, say what will happen, then bill it.

    Nothing is billed before the user has seen the preview: how many
    invoices for how many clients, the total, and how many will be posted,
    emailed or left in draft.
    """

    _name = "agency.billing.run.wizard"
    _description = "Run Billing Now"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date = fields.Date(string="Bill Up To", required=True, default=fields.Date.context_today)
    partner_ids = fields.Many2many(
        "res.partner",
        string="Only These Clients",
        domain="[('parent_id', '=', False)]",
        help="Empty: every client with something due.",
    )
    project_ids = fields.Many2many("project.project", string="Only These Projects")
    is_time_only = fields.Boolean(string="Time Only", help="Bill unbilled timesheets only.")
    line_ids = fields.One2many("agency.billing.run.wizard.line", "wizard_id", string="Preview", readonly=True)
    is_previewed = fields.Boolean(readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    # what the preview says will happen
    preview_total = fields.Monetary(compute="_compute_preview_summary", currency_field="currency_id")
    preview_invoice_count = fields.Integer(compute="_compute_preview_summary")
    preview_client_count = fields.Integer(compute="_compute_preview_summary")
    preview_posted_count = fields.Integer(compute="_compute_preview_summary")
    preview_sent_count = fields.Integer(compute="_compute_preview_summary")
    preview_draft_count = fields.Integer(compute="_compute_preview_summary")
    preview_problem_count = fields.Integer(compute="_compute_preview_summary")
    preview_estimated_count = fields.Integer(compute="_compute_preview_summary")
    preview_summary = fields.Char(compute="_compute_preview_summary")
    before_start_hours = fields.Float(compute="_compute_before_start")
    bill_from = fields.Date(related="company_id.agency_time_bill_from")

    @api.depends("line_ids")
    def _compute_preview_summary(self):
        for wizard in self:
            invoices = wizard.line_ids.filtered(lambda line: line.level in ("billed", "estimated"))
            wizard.preview_invoice_count = len(invoices)
            wizard.preview_client_count = len(invoices.partner_id)
            wizard.preview_posted_count = len(invoices.filtered("is_posted"))
            wizard.preview_sent_count = len(invoices.filtered("is_sent"))
            wizard.preview_draft_count = len(invoices) - wizard.preview_posted_count
            wizard.preview_problem_count = len(wizard.line_ids.filtered(lambda line: line.level == "error"))
            wizard.preview_estimated_count = len(invoices.filtered(lambda line: line.level == "estimated"))
            wizard.preview_total = sum(
                line.currency_id._convert(
                    line.amount_total, wizard.currency_id, wizard.company_id, wizard.date
                )
                for line in invoices
            )
            wizard.preview_summary = self.env._(
                "%(invoices)s for %(clients)s, %(total)s in all: %(posted)s posted (%(sent)s of them "
                "emailed), %(draft)s left in draft.",
                invoices=self._count(
                    wizard.preview_invoice_count, self.env._("1 invoice"), self.env._("invoices")
                ),
                clients=self._count(
                    wizard.preview_client_count, self.env._("1 client"), self.env._("clients")
                ),
                total=wizard.currency_id.format(wizard.preview_total),
                posted=wizard.preview_posted_count,
                sent=wizard.preview_sent_count,
                draft=wizard.preview_draft_count,
            )

    @api.model
    def _count(self, number, one, many):
        return one if number == 1 else f"{number} {many}"

    @api.depends("company_id", "partner_ids", "project_ids")
    def _compute_before_start(self):
        AAL = self.env["account.analytic.line"]
        for wizard in self:
            domain = [
                ("company_id", "=", wizard.company_id.id),
                ("agency_billing_state", "=", "before_start"),
            ]
            if wizard.partner_ids:
                domain.append(("partner_id", "child_of", wizard.partner_ids.ids))
            if wizard.project_ids:
                domain.append(("project_id", "in", wizard.project_ids.ids))
            groups = AAL._read_group(domain, aggregates=["unit_amount:sum"])
            wizard.before_start_hours = groups[0][0] or 0.0

    def _check_date(self):
        if self.date > fields.Date.context_today(self):
            raise UserError(
                self.env._("A billing run cannot bill ahead of today: pick today or an earlier date.")
            )

    def _scope(self):
        partners = self.partner_ids.commercial_partner_id
        if self.project_ids:
            partners |= self.project_ids.partner_id.commercial_partner_id
        return {
            "partners": partners,
            "projects": self.project_ids,
            "source": TIME_SOURCE if self.is_time_only else None,
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Bill Time") if self.is_time_only else self.env._("Run Billing Now"),
        }

    def action_preview(self):
        """The dry run: shows what would be invoiced and what will happen to it, writes nothing."""
        self.ensure_one()
        self._check_date()
        lines = self.env["agency.billing.run"]._preview(self.company_id, self.date, **self._scope())
        self.line_ids = [Command.clear()] + [Command.create(vals) for vals in lines]
        self.is_previewed = True
        return self._reopen()

    def action_run(self):
        self.ensure_one()
        self._check_date()
        if not self.is_previewed:
            raise UserError(
                self.env._("Preview the run first: it says what will be invoiced, posted and emailed.")
            )
        run = self.env["agency.billing.run"]._run_now(
            self.company_id, self.date, trigger="time" if self.is_time_only else "manual", **self._scope()
        )
        if run.state == const.RUN_DONE and not run.invoice_count and not run.log_ids:
            raise UserError(self.env._("Nothing is due up to that date."))
        return run._get_result_action()


class AgencyBillingRunWizardLine(models.TransientModel):
    _name = "agency.billing.run.wizard.line"
    _description = "Billing Run Preview Line"
    _order = "level, partner_id"

    wizard_id = fields.Many2one("agency.billing.run.wizard", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Client")
    currency_id = fields.Many2one("res.currency")
    amount_untaxed = fields.Monetary(string="Untaxed", currency_field="currency_id")
    amount_total = fields.Monetary(string="Total", currency_field="currency_id")
    line_count = fields.Integer(string="Lines")
    description = fields.Text()
    level = fields.Selection([*const.LOG_LEVELS, ("estimated", "Totalled")], string="Outcome")
    is_posted = fields.Boolean(string="Posted")
    is_sent = fields.Boolean(string="Emailed")
