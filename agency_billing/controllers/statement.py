from dateutil.relativedelta import relativedelta
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

STATEMENT_REPORT = "agency_billing.report_statement_main"


class AgencyStatementPortal(CustomerPortal):
    """The client's statement of account at /my/statement, for a period, with its PDF.

    Only ever the logged-in user's own client: no client id is taken from the
    URL, and a company is one the client has transactions with.
    """

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "agency_statement_count" in counters:
            values["agency_statement_count"] = len(self._agency_statement_companies(default=False))
        return values

    def _show_report(self, model, report_type, report_ref, download=False):
        # An invoice shows in the portal with its own layout (the one it was
        # posted with, else its client's), as its PDF attachment and email do.
        if (
            model._name == "account.move"
            and len(model) == 1
            and model.is_sale_document(include_receipts=True)
        ):
            report = request.env["account.move.send"].sudo()._get_default_pdf_report_id(model.sudo())
            report_ref = report.report_name or report_ref
        return super()._show_report(model, report_type, report_ref, download=download)

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _agency_statement_client(self):
        return request.env.user.partner_id.commercial_partner_id

    def _agency_statement_companies(self, default=True):
        """The companies the client has receivable journal items with (read as
        superuser: portal users cannot read journal items)."""
        client = self._agency_statement_client()
        AML = request.env["account.move.line"].sudo().with_context(active_test=False)
        groups = AML._read_group(
            Domain("partner_id.commercial_partner_id", "=", client.id)
            & Domain("parent_state", "=", "posted")
            & Domain("account_id.account_type", "=", "asset_receivable"),
            groupby=["company_id"],
        )
        companies = request.env["res.company"].sudo().concat(*(company for (company,) in groups))
        if not companies and default:
            companies = request.env.company.sudo()
        return companies.sorted("id")

    def _agency_statement_params(self, date_from=None, date_to=None, company_id=None):
        """(company, date_from, date_to, error) from the URL's parameters."""
        today = fields.Date.context_today(request.env.user)
        error = None
        try:
            start = (
                fields.Date.to_date(date_from)
                if date_from
                else today.replace(day=1) - relativedelta(months=2)
            )
            end = fields.Date.to_date(date_to) if date_to else today
        except ValueError:
            start, end = today.replace(day=1) - relativedelta(months=2), today
            error = request.env._("These dates are not valid: use the date pickers.")
        if not error and start > end:
            error = request.env._(
                "The start date is after the end date: pick a start date on or before the end date."
            )
        companies = self._agency_statement_companies()
        if company_id:
            try:
                company = companies.filtered(lambda c: c.id == int(company_id))
            except ValueError:
                company = None
            if not company:
                raise NotFound()
        else:
            company = companies[:1]
        return company, companies, start, end, error

    # ------------------------------------------------------------------
    # ROUTES
    # ------------------------------------------------------------------
    @http.route(["/my/statement"], type="http", auth="user", website=True)
    def portal_my_statement(self, date_from=None, date_to=None, company_id=None, **kw):
        company, companies, start, end, error = self._agency_statement_params(date_from, date_to, company_id)
        client = self._agency_statement_client()
        statement = None
        if not error:
            Statement = request.env["agency.statement"].sudo().with_company(company)
            try:
                statement = Statement._get_statement_values(client, company, start, end)[client.id]
            except UserError as exc:
                error = exc.args[0]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "agency_statement",
                "client": client.sudo(),
                "company": company,
                "companies": companies,
                "date_from": start,
                "date_to": end,
                "error": error,
                "statement": statement,
                "report_type": "html",
                "pdf_url": "/my/statement/pdf?"
                + f"date_from={start.isoformat()}&date_to={end.isoformat()}&company_id={company.id}",
            }
        )
        return request.render("agency_billing.portal_my_statement", values)

    @http.route(["/my/statement/pdf"], type="http", auth="user", website=True)
    def portal_my_statement_pdf(self, date_from=None, date_to=None, company_id=None, **kw):
        company, _companies, start, end, error = self._agency_statement_params(date_from, date_to, company_id)
        if error:
            return request.redirect(
                f"/my/statement?date_from={date_from or ''}&date_to={date_to or ''}&company_id={company.id}"
            )
        client = self._agency_statement_client()
        report = request.env["ir.actions.report"].sudo().with_company(company)
        content, _report_type = report._render_qweb_pdf(
            STATEMENT_REPORT,
            [client.id],
            data={"date_from": start.isoformat(), "date_to": end.isoformat(), "company_id": company.id},
        )
        filename = request.env["agency.statement"].sudo()._filename(client, end)
        return request.make_response(
            content,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(content)),
                ("Content-Disposition", http.content_disposition(filename)),
            ],
        )
