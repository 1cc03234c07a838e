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


class AgencyPaymentCase(AgencyBillingCase):
    """Payments: Odoo's demo payment provider in the test company, and helpers
    to make invoices, payments and saved cards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls._setup_demo_provider(cls.company)
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.bank_journal = cls.company_data["default_journal_bank"]

    @classmethod
    def _today(cls):
        from odoo import fields

        return fields.Date.context_today(cls.env.user)

    @classmethod
    def _setup_demo_provider(cls, company):
        Provider = cls.env["payment.provider"].sudo()
        provider = Provider.search([("code", "=", "demo"), ("company_id", "=", company.id)], limit=1)
        if not provider:
            provider = cls.env.ref("payment.payment_provider_demo").sudo().copy({"company_id": company.id})
        provider.write({"state": "test", "is_published": True})
        return provider

    @classmethod
    def _create_token(cls, partner, state="done", details="4242", provider=None):
        """A card the client saved with the demo provider; ``state`` is what charging it gives."""
        return (
            cls.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": (provider or cls.provider).id,
                    "payment_method_id": cls.demo_method.id,
                    "partner_id": partner.id,
                    "payment_details": details,
                    "provider_ref": f"demo-{details}",
                    "demo_simulated_state": state,
                }
            )
        )

    @classmethod
    def _enable_autopay(cls, partner, token=None, company=None, **values):
        token = token or cls._create_token(partner)
        partner.with_company(company or cls.company).write(
            {"agency_autopay": True, "agency_autopay_token_id": token.id, **values}
        )
        return token

    @classmethod
    def _create_invoice_for(
        cls,
        partner,
        amount,
        *,
        date=None,
        taxes=None,
        post=True,
        currency=None,
        due=None,
        move_type="out_invoice",
    ):
        vals = {
            "move_type": move_type,
            "partner_id": partner.id,
            "invoice_date": date or cls._today(),
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Website work",
                        "quantity": 1.0,
                        "price_unit": amount,
                        "tax_ids": [Command.set(taxes.ids if taxes else [])],
                    }
                )
            ],
        }
        if currency:
            vals["currency_id"] = currency.id
        if due:
            vals["invoice_date_due"] = due
        move = cls.env["account.move"].with_company(partner.company_id or cls.company).create(vals)
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None, date=None, journal=None):
        """Register a payment on an invoice, as the "Pay" button does."""
        register = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "amount": amount if amount is not None else invoice.amount_residual,
                    "payment_date": date or invoice.invoice_date,
                    "journal_id": (journal or cls.bank_journal).id,
                }
            )
        )
        return register._create_payments()

    @classmethod
    def _receive(cls, partner, amount, date=None, payment_type="inbound"):
        """Money received from (inbound) or paid back to (outbound) the client, on no invoice."""
        payment = cls.env["account.payment"].create(
            {
                "payment_type": payment_type,
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": date or cls._today(),
                "journal_id": cls.bank_journal.id,
            }
        )
        payment.action_post()
        return payment

    def _client_balance(self, partner):
        """Odoo's own partner balance (Total Receivable) in the test company."""
        partner.invalidate_recordset(["credit"])
        return partner.with_company(self.company).credit

    def _transactions(self, partner):
        return self.env["agency.client.transaction"].search([("partner_id", "=", partner.id)])


class AgencyPaymentHttpCase(HttpCase, AgencyPaymentCase):
    """Browser and HTTP tests of payments."""
