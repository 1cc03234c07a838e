from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from .. import const, documents, dunning, payments, quotes, rounding


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
    billing_separate_drafts = fields.Boolean(
        string="Separate Draft Invoices",
        company_dependent=True,
        help="For a client whose invoices stay in draft: make a new draft invoice each billing run "
        "instead of adding the new charges to the open draft invoice.",
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
        help="What the next billing run would invoice this client today, untaxed: every period due "
        "(missed ones included), charges that ride along, and time.",
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
        clients = self.commercial_partner_id.filtered("id")
        groups = self.env["agency.billable.item"]._read_group(
            [
                ("partner_id", "in", clients.ids),
                ("company_id", "=", company.id),
                ("state", "=", const.STATE_PENDING),
                ("invoice_action", "!=", const.ACTION_HOLD),
            ],
            groupby=["partner_id"],
            aggregates=["id:count"],
        )
        counts = {partner.id: count for partner, count in groups}
        # what the next run would invoice today: due periods (caught up),
        # charges riding along, time; as the run itself plans and prices them
        unbilled = (
            self.env["agency.billing.run"]._unbilled_amounts(
                company, fields.Date.context_today(self), clients
            )
            if clients
            else {}
        )
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.billing_pending_count = counts.get(commercial.id, 0)
            partner.billing_unbilled_amount = unbilled.get(commercial.id, 0.0)
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
        action["context"] = {
            "default_partner_ids": self.commercial_partner_id.ids,
            "default_is_time_only": True,
        }
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
        action["context"] = {
            "default_partner_ids": self.commercial_partner_id.ids,
            "default_is_time_only": True,
        }
        return action

    def action_view_agency_statements(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_statement_action")
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        action["context"] = {"create": False}

    # PAYMENTS: TRANSACTIONS, CREDIT AND AUTOMATIC CHARGING
    # ------------------------------------------------------------------
    agency_credit_apply = fields.Selection(
        payments.CREDIT_APPLY_MODES,
        string="Open Credit",
        company_dependent=True,
        help="What happens to this client's open credit (credit notes, overpayments, prepayments) "
        "when a new invoice is posted. Empty: the company's setting (Settings > Billing).",
    )
    agency_autopay = fields.Boolean(
        string="Automatic Payment",
        company_dependent=True,
        help="The client agreed that its saved payment method is charged for its invoices.",
    )
    agency_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method to Charge",
        company_dependent=True,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="A payment method the client saved when paying online (a card, a mandate).",
    )
    agency_autopay_timing = fields.Selection(
        payments.CHARGE_TIMINGS,
        string="When to Charge",
        company_dependent=True,
        help="Empty: the company's setting (Settings > Billing).",
    )
    agency_autopay_days_before = fields.Integer(
        string="Days Before Due Date",
        company_dependent=True,
        help="With “Some days before the due date”: how many. 0 charges on the due date.",
    )
    agency_transaction_ids = fields.One2many(
        "agency.client.transaction", "partner_id", string="Transactions", readonly=True
    )

    @api.constrains("agency_autopay", "agency_autopay_token_id")
    def _check_agency_autopay_token(self):
        for partner in self:
            if not partner.agency_autopay:
                continue
            token = partner.sudo().agency_autopay_token_id
            if not token or not token.active:
                raise ValidationError(
                    self.env._(
                        "%(client)s has no saved payment method to charge: the client saves one by paying "
                        "an invoice online with “Save my payment details” ticked, then you choose it here.",
                        client=partner.display_name,
                    )
                )
            if token.partner_id.commercial_partner_id != partner.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The payment method to charge must be one %(client)s saved.", client=partner.name
                    )
                )
            if token.company_id != self.env.company:
                raise ValidationError(
                    self.env._(
                        "The payment method %(token)s belongs to another company's payment provider.",
                        token=token.display_name,
                    )
                )

    @api.onchange("agency_autopay")
    def _onchange_agency_autopay(self):
        if self.agency_autopay and not self.agency_autopay_token_id:
            self.agency_autopay_token_id = self._agency_payment_tokens()[:1]

    def _agency_payment_tokens(self):
        """The active payment methods the client (or one of its contacts) saved, newest first."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", commercial.id),
                    ("company_id", "=", self.env.company.id),
                ],
                order="id desc",
            )
        )

    def _agency_applies_credit_automatically(self):
        """Whether open credit goes on new invoices by itself (in the current company)."""
        self.ensure_one()
        mode = self.commercial_partner_id.agency_credit_apply
        if mode:
            return mode == payments.CREDIT_AUTO
        return self.env.company.agency_credit_auto_apply

    def _agency_charge_date_for(self, invoice):
        """The day the client's saved payment method is charged for ``invoice``."""
        self.ensure_one()
        company = invoice.company_id
        client = self.commercial_partner_id.with_company(company)
        today = fields.Date.context_today(client)
        timing = client.agency_autopay_timing or company.agency_autopay_timing
        if timing != payments.CHARGE_BEFORE_DUE or not invoice.invoice_date_due:
            return today
        days = (
            client.agency_autopay_days_before
            if client.agency_autopay_timing
            else company.agency_autopay_days_before
        )
        return max(today, invoice.invoice_date_due - timedelta(days=days))

    def action_agency_view_transactions(self):
        """The client's transactions: invoices, credit notes, payments, refunds, credit applied."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "agency_billing.agency_client_transaction_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        action["display_name"] = self.env._(
            "Transactions of %(client)s", client=self.commercial_partner_id.name
        )
        return action

    # ------------------------------------------------------------------
    # REMINDERS AND OVERDUE ALERTS
    # ------------------------------------------------------------------
    agency_no_reminders = fields.Boolean(
        string="No Reminders",
        company_dependent=True,
        help="Never send this client payment reminders (the daily run skips it).",
    )
    agency_reminder_plan_id = fields.Many2one(
        "agency.reminder.plan",
        string="Reminder Plan",
        company_dependent=True,
        domain="[('company_id', '=', current_company_id)]",
        help="Empty: the company's plan (Settings > Billing).",
    )
    agency_no_late_fees = fields.Boolean(
        string="No Late Fees", company_dependent=True, help="Reminders are sent, but never with a late fee."
    )
    agency_reminder_contact_id = fields.Many2one(
        "res.partner",
        string="Send Reminders To",
        domain="[('commercial_partner_id', '=', commercial_partner_id), ('email', '!=', False)]",
        help="A contact of the client. Empty: the client's invoice address.",
    )
    agency_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_agency_overdue",
        currency_field="agency_overdue_currency_id",
        groups="account.group_account_invoice",
        help="What the client's overdue invoices still owe, in the company's currency.",
    )
    agency_overdue_count = fields.Integer(
        string="Overdue Invoices",
        compute="_compute_agency_overdue",
        search="_search_agency_overdue_count",
        groups="account.group_account_invoice",
    )
    agency_overdue_days = fields.Integer(
        string="Oldest Overdue (days)",
        compute="_compute_agency_overdue",
        groups="account.group_account_invoice",
        help="How many days the oldest overdue invoice is past its due date.",
    )
    agency_overdue_currency_id = fields.Many2one("res.currency", compute="_compute_agency_overdue")
    agency_reminder_count = fields.Integer(
        string="Reminders", compute="_compute_agency_reminder_count", groups="account.group_account_invoice"
    )

    @api.constrains("agency_reminder_contact_id")
    def _check_agency_reminder_contact(self):
        for partner in self:
            contact = partner.agency_reminder_contact_id
            if contact and contact.commercial_partner_id != partner.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "Reminders of %(client)s can only go to one of its own contacts, not to %(contact)s.",
                        client=partner.commercial_partner_id.display_name,
                        contact=contact.display_name,
                    )
                )

    @api.constrains("agency_reminder_plan_id")
    def _check_agency_reminder_plan_company(self):
        company = self.env.company
        for partner in self:
            plan = partner.agency_reminder_plan_id
            if plan and plan.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The reminder plan “%(plan)s” belongs to %(other)s: choose a plan of %(company)s.",
                        plan=plan.name,
                        other=plan.company_id.name,
                        company=company.name,
                    )
                )

    @api.depends_context("company")
    def _compute_agency_overdue(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        Move = self.env["account.move"]
        # every overdue invoice of the client, whoever may read it: the alert is a fact
        groups = Move.sudo()._read_group(
            Move._agency_overdue_domain(today)
            & Domain("company_id", "=", company.id)
            & Domain("commercial_partner_id", "in", self.commercial_partner_id.ids),
            groupby=["commercial_partner_id"],
            aggregates=["amount_residual_signed:sum", "invoice_date_due:min", "__count"],
        )
        figures = {partner.id: (amount, oldest, count) for partner, amount, oldest, count in groups}
        for partner in self:
            amount, oldest, count = figures.get(partner.commercial_partner_id.id, (0.0, None, 0))
            partner.agency_overdue_amount = amount
            partner.agency_overdue_count = count
            partner.agency_overdue_days = (today - oldest).days if oldest else 0
            partner.agency_overdue_currency_id = company.currency_id

    def _search_agency_overdue_count(self, operator, value):
        if operator not in (">", ">=", "=", "!=") or not isinstance(value, int):
            return NotImplemented
        Move = self.env["account.move"]
        Move = Move.sudo()
        query = Move._search(Move._agency_overdue_domain() & Domain("company_id", "=", self.env.company.id))
        with_overdue = Domain(
            "id", "in", query.subselect(Move._field_to_sql(query.table, "commercial_partner_id", query))
        )
        if (operator, value) in ((">", 0), (">=", 1), ("!=", 0)):
            return with_overdue
        if (operator, value) == ("=", 0):
            return ~with_overdue
        return NotImplemented

    def _compute_agency_reminder_count(self):
        groups = self.env["agency.reminder"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            groupby=["partner_id"],
            aggregates=["__count"],
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.agency_reminder_count = counts.get(partner.commercial_partner_id.id, 0)

    def _agency_reminder_plans(self):
        """{client id: its reminder plan in the current company (empty: no reminders)}."""
        default = self.env.company.agency_reminder_plan_id
        no_plan = self.env["agency.reminder.plan"]
        return {
            partner.id: no_plan
            if partner.agency_no_reminders
            else (partner.agency_reminder_plan_id or default)
            for partner in self
        }

    def _agency_reminder_contact(self):
        """Who a client's reminders go to: its chosen contact, else its invoice address."""
        self.ensure_one()
        client = self.commercial_partner_id
        return client.agency_reminder_contact_id or self.browse(client.address_get(["invoice"])["invoice"])

    def action_agency_view_overdue_invoices(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.account_move_action_overdue")
        action["domain"] = [
            ("move_type", "in", dunning.REMINDED_MOVE_TYPES),
            ("commercial_partner_id", "in", self.commercial_partner_id.ids),
        ]
        return action

    def action_agency_view_reminders(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_reminder_action")
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        action["context"] = {}
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
