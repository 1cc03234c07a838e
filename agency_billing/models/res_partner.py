from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from .. import const, dunning, rounding


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
        if not run.invoice_count and not run.log_ids:
            raise UserError(
                self.env._("Nothing is due for %(client)s today.", client=clients[:1].display_name)
            )
        return run._get_result_action()

    # ------------------------------------------------------------------
    # REMINDERS AND OVERDUE ALERTS (issue #13)
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
