from odoo import api, fields, models
from odoo.exceptions import AccessError


class ReportAgencyStatement(models.AbstractModel):
    """The values of the statement PDF: a client's figures for a period and company."""

    _name = "report.agency_billing.report_statement_main"
    _description = "Client Statement Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        Statement = self.env["agency.statement"]
        company = self.env["res.company"].browse(data.get("company_id")).exists() or self.env.company
        if not self.env.su and company not in self.env.user.company_ids:
            raise AccessError(self.env._("You cannot see the statements of another company."))
        today = fields.Date.context_today(self)
        date_to = fields.Date.to_date(data.get("date_to")) or today
        date_from = fields.Date.to_date(data.get("date_from")) or date_to.replace(day=1)
        clients = self.env["res.partner"].browse(docids).commercial_partner_id
        statements = data.get("statement_values") or Statement.with_company(company)._get_statement_values(
            clients, company, date_from, date_to
        )
        return {
            "doc_ids": clients.ids,
            "doc_model": "res.partner",
            "docs": clients,
            "company": company,
            "statements": statements,
        }
