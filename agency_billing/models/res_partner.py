from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const, documents, quotes, rounding


class ResPartner(models.Model):
    _inherit = "res.partner"

    billing_automation = fields.Selection(
        selection=const.AUTOMATION_LEVELS,
        string="Invoice Automation",
        company_dependent=True,
        help="What the billing run does with this client's invoices. "
        "Empty: the company's default (Settings > Billing).",
    )
    billing_automation_effective = fields.Selection(
        selection=const.AUTOMATION_LEVELS,
        string="Effective Invoice Automation",
        compute="_compute_billing_automation_effective",
    )
    billing_group_by_project = fields.Boolean(
        string="One Invoice per Project",
        company_dependent=True,
        help="Make a separate invoice for each project; otherwise everything due goes on one invoice.",
    )
    agency_time_billable = fields.Boolean(
        string="Time Is Billable", default=True, help="Default for this client's projects and tasks."
    )
    agency_time_grouping = fields.Selection(
        const.TIME_GROUPINGS, string="Time on Invoices", default="project", required=True
    )
    agency_rounding_increment = fields.Integer(
        string="Round Time To (min)", help="For example 6, 15 or 30. 0: no rounding."
    )
    agency_rounding_method = fields.Selection(rounding.METHODS, string="Rounding", default=rounding.UP)
    agency_rounding_minimum = fields.Integer(string="Minimum per Entry (min)")
    agency_portal_show_time = fields.Boolean(
        string="Show Billed Time in the Portal",
        help="The client sees the timesheet lines behind each invoice.",
    )
    billable_item_ids = fields.One2many("agency.billable.item", "partner_id", string="Billable Items")
    billing_pending_count = fields.Integer(
        string="Pending Items",
        compute="_compute_billing_figures",
        groups="agency_billing.group_agency_billing_user",
    )
    billing_unbilled_amount = fields.Monetary(
        string="Unbilled",
        compute="_compute_billing_figures",
        currency_field="billing_currency_id",
        groups="agency_billing.group_agency_billing_user",
        help="What the pending one-off items and the next period of each recurring item add up to, untaxed.",
    )
    billing_currency_id = fields.Many2one("res.currency", compute="_compute_billing_figures")

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("billing_automation", "commercial_partner_id.billing_automation")
    @api.depends_context("company")
    def _compute_billing_automation_effective(self):
        default = self.env.company.agency_billing_automation
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.billing_automation_effective = commercial.billing_automation or default

    @api.depends_context("company")
    def _compute_billing_figures(self):
        company = self.env.company
        groups = self.env["agency.billable.item"]._read_group(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", company.id),
                ("state", "=", const.STATE_PENDING),
                ("invoice_action", "!=", const.ACTION_HOLD),
            ],
            groupby=["partner_id", "currency_id"],
            aggregates=["id:count", "id:recordset"],
        )
        figures = {}
        for partner, currency, count, items in groups:
            total = sum(items.mapped("amount_untaxed"))
            amount = currency._convert(total, company.currency_id, company, fields.Date.context_today(self))
            count_total, amount_total = figures.get(partner.id, (0, 0.0))
            figures[partner.id] = (count_total + count, amount_total + amount)
        for partner in self:
            count, amount = figures.get(partner.commercial_partner_id.id, (0, 0.0))
            partner.billing_pending_count = count
            partner.billing_unbilled_amount = amount
            partner.billing_currency_id = company.currency_id

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_billable_items(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_billable_item_action")
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        action["context"] = {
            "default_partner_id": self.commercial_partner_id[:1].id,
            "search_default_filter_pending": 1,
        }
        return action

    def action_agency_bill_time(self):
        """ "Bill time": this client's unbilled time up to a date."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "agency_billing.agency_billing_time_wizard_action"
        )
        action["context"] = {"default_partner_ids": self.commercial_partner_id.ids}
        return action

    def action_bill_now(self):
        """Bill everything due for this client today ("Bill this client now")."""
        clients = self.commercial_partner_id
        run = self.env["agency.billing.run"]._run_now(
            self.env.company, fields.Date.context_today(self), partners=clients, trigger="client"
        )
        if run.state == const.RUN_DONE and not run.invoice_count and not run.log_ids:
            raise UserError(
                self.env._("Nothing is due for %(client)s today.", client=clients[:1].display_name)
            )
        return run._get_result_action()

    # ------------------------------------------------------------------
    # INVOICE LAYOUT, BRANDING AND STATEMENTS
    # ------------------------------------------------------------------
    # The layout itself is Odoo's own setting, invoice_template_pdf_report_id.
    agency_invoice_color = fields.Char(
        string="Accent Colour",
        help="The colour of titles and table headers on this client's invoices and statements "
        "(#rrggbb). Empty: the company's document layout colour.",
    )
    agency_invoice_logo = fields.Image(
        string="Logo on Documents",
        max_width=1024,
        max_height=1024,
        help="Printed instead of the company's logo on this client's invoices and statements "
        "(for example the brand the client buys from).",
    )
    agency_invoice_note = fields.Text(
        string="Note on Invoices", help="An extra note or legal text printed at the end of each invoice."
    )
    agency_payment_instructions = fields.Text(
        string="Payment Instructions", help="How this client pays: printed on each invoice and statement."
    )
    agency_client_reference = fields.Char(
        string="Client Reference (PO)",
        help="The client's own reference, such as its purchase order number, printed on each invoice.",
    )
    agency_document_lang = fields.Selection(
        selection=lambda self: self.env["res.lang"].get_installed(),
        string="Document Language",
        help="The language of this client's invoices and statements. Empty: the client's language.",
    )
    agency_statement_frequency = fields.Selection(
        documents.STATEMENT_FREQUENCIES,
        string="Send Statements",
        company_dependent=True,
        help="Monthly: on the chosen day, the client is emailed its statement of the month before.",
    )
    agency_statement_day = fields.Integer(
        string="Statement Day",
        company_dependent=True,
        help="The day of the month the statement goes out (29 to 31: the last day of shorter months).",
    )
    agency_statement_next_date = fields.Date(
        string="Next Statement", company_dependent=True, readonly=True, copy=False
    )
    agency_statement_count = fields.Integer(
        string="Statements",
        compute="_compute_agency_statement_count",
        groups="agency_billing.group_agency_billing_user",
    )

    @api.constrains("agency_invoice_color")
    def _check_agency_invoice_color(self):
        for partner in self:
            if (
                partner.agency_invoice_color
                and documents.normalize_color(partner.agency_invoice_color) is None
            ):
                raise ValidationError(
                    self.env._(
                        "“%(color)s” is not a colour: use the colour picker or a code such as #1f6feb.",
                        color=partner.agency_invoice_color,
                    )
                )

    @api.constrains("agency_statement_day", "agency_statement_frequency")
    def _check_agency_statement_day(self):
        for partner in self:
            if partner.agency_statement_frequency == documents.STATEMENT_MONTHLY and not (
                1 <= partner.agency_statement_day <= 31
            ):
                raise ValidationError(self.env._("The statement day is a day of the month, from 1 to 31."))

    @api.onchange("agency_statement_frequency", "agency_statement_day")
    def _onchange_agency_statement_schedule(self):
        for partner in self:
            if partner.agency_statement_frequency == documents.STATEMENT_MONTHLY:
                partner.agency_statement_day = partner.agency_statement_day or 1
                if 1 <= partner.agency_statement_day <= 31:
                    partner.agency_statement_next_date = documents.next_statement_date(
                        partner.agency_statement_day, fields.Date.context_today(self)
                    )
            else:
                partner.agency_statement_next_date = False

    @api.depends_context("company")
    def _compute_agency_statement_count(self):
        groups = self.env["agency.statement"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids), ("company_id", "=", self.env.company.id)],
            groupby=["partner_id"],
            aggregates=["__count"],
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.agency_statement_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_agency_statement(self):
        """Print or email a statement of these clients for a period."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "agency_billing.agency_statement_wizard_action"
        )
        action["context"] = {"default_partner_ids": self.commercial_partner_id.ids}
        return action

    def action_view_agency_statements(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_statement_action")
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # ACCEPTED QUOTES
    # ------------------------------------------------------------------
    agency_quote_acceptance = fields.Selection(
        selection=quotes.ACCEPTANCE_MODES,
        string="When a Quote Is Accepted",
        company_dependent=True,
        help="The default of this client's new quotes. Empty: the company's (Settings > Billing).",
    )
    agency_quote_deposit_percent = fields.Float(
        string="Deposit (%)",
        company_dependent=True,
        help="The default deposit of this client's quotes. Empty: the company's.",
    )

    @api.constrains("agency_quote_deposit_percent")
    def _check_agency_quote_deposit_percent(self):
        for partner in self:
            if not 0 <= partner.agency_quote_deposit_percent < 100:
                raise ValidationError(
                    self.env._("A client's deposit must be less than 100 % (0: the company's default).")
                )
