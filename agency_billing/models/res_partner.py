from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const, rounding


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
