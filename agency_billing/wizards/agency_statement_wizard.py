from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain


def _default_date_from(wizard):
    today = fields.Date.context_today(wizard)
    return today.replace(day=1) - relativedelta(months=2)


class AgencyStatementWizard(models.TransientModel):
    """Print or email client statements for a period ("Send Statements")."""

    _name = "agency.statement.wizard"
    _description = "Client Statements"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(string="From", required=True, default=_default_date_from)
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    scope = fields.Selection(
        [
            ("selected", "The clients below"),
            ("active", "Every client with a balance or transactions in the period"),
        ],
        string="Clients",
        required=True,
        default=lambda self: "selected" if self.env.context.get("default_partner_ids") else "active",
    )
    partner_ids = fields.Many2many(
        "res.partner", string="Clients to Send To", domain="[('parent_id', '=', False)]"
    )
    client_count = fields.Integer(compute="_compute_client_count")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if (
            "partner_ids" in fields_list
            and not values.get("partner_ids")
            and self.env.context.get("active_model") == "res.partner"
            and self.env.context.get("active_ids")
        ):
            partners = self.env["res.partner"].browse(self.env.context["active_ids"])
            values["partner_ids"] = [fields.Command.set(partners.commercial_partner_id.ids)]
            values["scope"] = "selected"
        return values

    @api.depends("scope", "partner_ids", "date_from", "date_to", "company_id")
    def _compute_client_count(self):
        for wizard in self:
            if wizard.date_from and wizard.date_to and wizard.date_from <= wizard.date_to:
                wizard.client_count = len(wizard._get_clients())
            else:
                wizard.client_count = 0

    @api.onchange("date_from", "date_to")
    def _onchange_dates(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            return {
                "warning": {
                    "title": self.env._("Reversed period"),
                    "message": self.env._("The start date is after the end date."),
                }
            }
        return None

    def _get_clients(self):
        self.ensure_one()
        if self.scope == "selected":
            return self.partner_ids.commercial_partner_id
        return self._get_active_clients(self.company_id, self.date_from, self.date_to)

    @api.model
    def _get_active_clients(self, company, date_from, date_to):
        """Clients with receivable journal items in the period or an open balance at its end."""
        AML = self.env["account.move.line"].with_company(company).with_context(active_test=False)
        base = Domain(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("partner_id", "!=", False),
                ("date", "<=", date_to),
            ]
        )
        partners = self.env["res.partner"]
        for (partner,) in AML._read_group(base & Domain("date", ">=", date_from), groupby=["partner_id"]):
            partners |= partner
        for partner, balance in AML._read_group(base, groupby=["partner_id"], aggregates=["balance:sum"]):
            if not company.currency_id.is_zero(balance):
                partners |= partner
        return partners.commercial_partner_id

    def _check(self):
        self.ensure_one()
        self.env["agency.statement"]._check_period(self.date_from, self.date_to)
        clients = self._get_clients()
        if not clients:
            raise UserError(
                self.env._("No client to make a statement for: pick clients, or another period.")
                if self.scope == "selected"
                else self.env._("No client has a balance or transactions in this period.")
            )
        return clients

    def _report_data(self):
        return {
            "date_from": fields.Date.to_string(self.date_from),
            "date_to": fields.Date.to_string(self.date_to),
            "company_id": self.company_id.id,
        }

    def action_print(self):
        """The statements' PDF (one document per client)."""
        clients = self._check()
        return self.env.ref("agency_billing.report_statement").report_action(
            clients, data=self._report_data()
        )

    def action_send(self):
        """Email the statements: one client now, more in the background."""
        clients = self._check()
        if len(clients) == 1:
            Statement = self.env["agency.statement"].with_company(self.company_id)
            if not Statement._get_recipient(clients):
                raise UserError(
                    self.env._(
                        "%(client)s has no email address (nor its invoice contact): add one, or print "
                        "the statement instead.",
                        client=clients.display_name,
                    )
                )
            values = Statement._get_statement_values(clients, self.company_id, self.date_from, self.date_to)
            statement = Statement._make(
                clients, self.company_id, self.date_from, self.date_to, values[clients.id]
            )
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "success",
                    "message": self.env._(
                        "The statement of %(client)s is on its way to %(email)s.",
                        client=clients.display_name,
                        email=statement.email_to,
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        run = self.env["agency.statement.run"]._queue(clients, self.company_id, self.date_from, self.date_to)
        return {
            "type": "ir.actions.act_window",
            "res_model": "agency.statement.run",
            "res_id": run.id,
            "views": [(False, "form")],
            "target": "current",
        }
