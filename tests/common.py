"""Shared base classes of the suite.

Each class builds its own company (with a chart of accounts), clients,
products and team: no test depends on demo data.
"""

from odoo import Command
from odoo.tests import HttpCase

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class AgencyBillingCase(AccountTestInvoicingCommon):
    """A company with an agency's clients, service products and employees."""

    @classmethod
    def get_default_groups(cls):
        # The test user is the agency owner: billing manager, timesheets and HR officer.
        return (
            super().get_default_groups()
            | cls.quick_ref("agency_billing.group_agency_billing_manager")
            | cls.quick_ref("hr_timesheet.group_timesheet_manager")
            | cls.quick_ref("sales_team.group_sale_manager")
            | cls.quick_ref("project.group_project_manager")
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id

        cls.group_billing_user = cls.env.ref("agency_billing.group_agency_billing_user")
        cls.group_billing_manager = cls.env.ref("agency_billing.group_agency_billing_manager")

        Partner = cls.env["res.partner"]
        cls.client_a = Partner.create(
            {
                "name": "Acme Bakery",
                "is_company": True,
                "customer_rank": 1,
                "email": "accounts@acme-bakery.example.com",
            }
        )
        cls.client_a_contact = Partner.create(
            {"name": "Alice Baker", "parent_id": cls.client_a.id, "email": "alice@acme-bakery.example.com"}
        )
        cls.client_b = Partner.create(
            {
                "name": "Birch Legal",
                "is_company": True,
                "customer_rank": 1,
                "email": "billing@birch-legal.example.com",
            }
        )

        cls.product_hosting = cls._create_product(
            name="Web Hosting", type="service", lst_price=50.0, taxes_id=[Command.set(cls.tax_sale_a.ids)]
        )
        cls.product_hour = cls._create_product(
            name="Development Hour",
            type="service",
            lst_price=100.0,
            uom_id=cls.env.ref("uom.product_uom_hour").id,
        )

        cls.billing_user = cls._create_new_internal_user(
            login="billing_user",
            name="Bill User",
            groups="base.group_user,agency_billing.group_agency_billing_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.billing_manager = cls._create_new_internal_user(
            login="billing_manager",
            name="Bill Manager",
            groups="base.group_user,agency_billing.group_agency_billing_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.employee = cls.env["hr.employee"].create({"name": "Dana Developer", "company_id": cls.company.id})
        cls.Item = cls.env["agency.billable.item"]
        cls.Run = cls.env["agency.billing.run"]

    @classmethod
    def _create_item(cls, **values):
        values.setdefault("partner_id", cls.client_a.id)
        values.setdefault("product_id", cls.product_hosting.id)
        values.setdefault("name", "Web hosting")
        values.setdefault("price_unit", 50.0)
        return cls.Item.create(values)

    @classmethod
    def _create_recurring(cls, date_start, **values):
        values.setdefault("invoice_action", "recurring")
        values.setdefault("date_start", date_start)
        return cls._create_item(**values)

    def _run(self, date, **kwargs):
        return self.Run._run_now(self.company, date, **kwargs)

    def _invoices(self, partner=None):
        domain = [("move_type", "=", "out_invoice"), ("company_id", "=", self.company.id)]
        if partner:
            domain.append(("commercial_partner_id", "=", partner.id))
        return self.env["account.move"].search(domain)


class AgencyBillingHttpCase(HttpCase, AgencyBillingCase):
    """Browser and HTTP tests on the same fixtures."""


# ----------------------------------------------------------------------
# Client documents: real PDFs, read back as text
# ----------------------------------------------------------------------
def render_pdf(env, report_ref, res_ids, data=None):
    """A report printed by wkhtmltopdf (tests otherwise get Odoo's HTML fallback)."""
    report = env["ir.actions.report"].with_context(force_report_rendering=True)
    content, report_type = report._render_qweb_pdf(report_ref, res_ids, data=data)
    assert report_type == "pdf" and content.startswith(b"%PDF"), "wkhtmltopdf made no PDF"
    return content


def pdf_text(content):
    """What a PDF says (poppler's pdftotext), one line per printed line."""
    import subprocess

    assert content.startswith(b"%PDF"), f"not a PDF: {content[:60]!r}"
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()
