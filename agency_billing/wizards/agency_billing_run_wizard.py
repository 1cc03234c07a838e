from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const


class AgencyBillingRunWizard(models.TransientModel):
    """ "Run billing now": preview what is due, then bill it."""

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
    line_ids = fields.One2many("agency.billing.run.wizard.line", "wizard_id", string="Preview", readonly=True)
    is_previewed = fields.Boolean(readonly=True)
    preview_total = fields.Monetary(compute="_compute_preview_total", currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")

    @api.depends("line_ids.amount_total")
    def _compute_preview_total(self):
        for wizard in self:
            wizard.preview_total = sum(
                line.currency_id._convert(
                    line.amount_total, wizard.currency_id, wizard.company_id, wizard.date
                )
                for line in wizard.line_ids
            )

    def _check_date(self):
        today = fields.Date.context_today(self)
        if self.date > today:
            raise UserError(
                self.env._("A billing run cannot bill ahead of today: pick today or an earlier date.")
            )

    def action_preview(self):
        """The dry run: shows what would be invoiced, writes nothing."""
        self.ensure_one()
        self._check_date()
        lines = self.env["agency.billing.run"]._preview(
            self.company_id, self.date, partners=self.partner_ids.commercial_partner_id
        )
        self.line_ids = [fields.Command.clear()] + [fields.Command.create(vals) for vals in lines]
        self.is_previewed = True
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Run Billing Now"),
        }

    def action_run(self):
        self.ensure_one()
        self._check_date()
        run = self.env["agency.billing.run"]._run_now(
            self.company_id, self.date, partners=self.partner_ids.commercial_partner_id, trigger="manual"
        )
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
