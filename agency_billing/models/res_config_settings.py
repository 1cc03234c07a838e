from odoo import api, fields, models

from odoo.addons.base.models.ir_actions_report import _wkhtml


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    agency_billing_automation = fields.Selection(
        related="company_id.agency_billing_automation",
        readonly=False,
    )
    agency_time_product_id = fields.Many2one(
        related="company_id.agency_time_product_id",
        readonly=False,
    )
    agency_time_bill_from = fields.Date(related="company_id.agency_time_bill_from", readonly=False)
    agency_time_before_start_hours = fields.Float(compute="_compute_agency_time_before_start")
    # Odoo's default payment terms of customers (ir.default of the partners'
    # field, per company): without them, every invoice is due on its date
    agency_payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Default Payment Terms",
        compute="_compute_agency_payment_term_id",
        inverse="_inverse_agency_payment_term_id",
        domain="[('company_id', 'in', [company_id, False])]",
    )
    agency_pdf_engine_is_limited = fields.Boolean(compute="_compute_agency_pdf_engine_is_limited")

    @api.depends("company_id", "agency_time_bill_from")
    def _compute_agency_time_before_start(self):
        AAL = self.env["account.analytic.line"].sudo()
        for settings in self:
            groups = AAL._read_group(
                [("company_id", "=", settings.company_id.id), ("agency_billing_state", "=", "before_start")],
                aggregates=["unit_amount:sum"],
            )
            settings.agency_time_before_start_hours = groups[0][0] or 0.0

    @api.depends("company_id")
    def _compute_agency_payment_term_id(self):
        for settings in self:
            term_id = self.env["ir.default"]._get(
                "res.partner", "property_payment_term_id", company_id=settings.company_id.id
            )
            settings.agency_payment_term_id = self.env["account.payment.term"].browse(term_id).exists()

    def _inverse_agency_payment_term_id(self):
        for settings in self:
            self.env["ir.default"].set(
                "res.partner",
                "property_payment_term_id",
                settings.agency_payment_term_id.id or False,
                company_id=settings.company_id.id,
            )

    def _compute_agency_pdf_engine_is_limited(self):
        self.agency_pdf_engine_is_limited = not _wkhtml().is_patched_qt

    # Payments: credit and automatic charging
    agency_credit_auto_apply = fields.Boolean(related="company_id.agency_credit_auto_apply", readonly=False)
    agency_autopay_timing = fields.Selection(related="company_id.agency_autopay_timing", readonly=False)
    agency_autopay_days_before = fields.Integer(
        related="company_id.agency_autopay_days_before", readonly=False
    )
    agency_autopay_retry_days = fields.Char(related="company_id.agency_autopay_retry_days", readonly=False)

    # Reminders, late fees and overdue alerts
    agency_reminder_plan_id = fields.Many2one(related="company_id.agency_reminder_plan_id", readonly=False)
    agency_late_fee_cancel_if_paid = fields.Boolean(
        related="company_id.agency_late_fee_cancel_if_paid", readonly=False
    )
    agency_overdue_digest = fields.Boolean(related="company_id.agency_overdue_digest", readonly=False)

    def set_values(self):
        res = super().set_values()
        # switching online payment on: every reminder email must carry the pay link
        self.env["mail.template"].search([("model", "=", "agency.reminder")])._agency_check_pay_link()
        return res

    # accepted quotes
    agency_quote_acceptance = fields.Selection(related="company_id.agency_quote_acceptance", readonly=False)
    agency_quote_deposit_percent = fields.Float(
        related="company_id.agency_quote_deposit_percent", readonly=False
    )
    agency_quote_balance_trigger = fields.Selection(
        related="company_id.agency_quote_balance_trigger", readonly=False
    )
    agency_quote_reminder_days = fields.Integer(
        related="company_id.agency_quote_reminder_days", readonly=False
    )
