"""Invoice layouts per client: what each PDF says, the snapshot at posting, the
sending through Odoo's own cron, bulk printing with Debian's wkhtmltopdf."""

import base64
from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from odoo.addons.base.models import ir_actions_report as base_report

from .common import AgencyBillingCase, AgencyBillingHttpCase, pdf_text, render_pdf

# a 1x1 PNG, as a client's logo
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
    )
)


class LayoutFixture:
    """A client billed for a month of hosting and for time on two projects."""

    @classmethod
    def setup_layout_fixture(cls):
        cls.company.write({"name": "Pixel & Pine Studio", "street": "12 Harbour Road", "city": "Bristol"})
        cls.company.agency_time_product_id = cls.product_hour  # 100.00 an hour, no tax
        cls.report_standard = cls.env.ref("agency_billing.report_invoice_standard")
        cls.report_time = cls.env.ref("agency_billing.report_invoice_time")
        cls.report_project = cls.env.ref("agency_billing.report_invoice_project")
        cls.shop = cls.env["project.project"].create({"name": "Shop relaunch", "partner_id": cls.client_a.id})
        cls.care = cls.env["project.project"].create({"name": "Care plan", "partner_id": cls.client_a.id})
        cls.task = cls.env["project.task"].create({"name": "Checkout page", "project_id": cls.shop.id})
        cls.employee.name = "Dana Developer"
        for hours, day, name in (
            (2.5, date(2027, 3, 5), "Checkout page build"),
            (1.0, date(2027, 3, 8), "Payment tests"),
        ):
            cls.env["account.analytic.line"].create(
                {
                    "name": name,
                    "project_id": cls.shop.id,
                    "task_id": cls.task.id,
                    "employee_id": cls.employee.id,
                    "unit_amount": hours,
                    "date": day,
                }
            )
        cls.hosting = cls._create_recurring(
            date(2027, 3, 1), name="Managed hosting", price_unit=50.0, project_id=cls.care.id
        )
        cls.client_a.write(
            {
                "invoice_template_pdf_report_id": cls.report_time.id,
                "agency_invoice_color": "#B5651D",
                "agency_client_reference": "PO-ACME-77",
                "agency_payment_instructions": "Bank transfer to IBAN GB00 TEST 1234, quoting the invoice number.",
                "agency_invoice_note": "Framework agreement of 12 January 2027.",
            }
        )
        cls.client_a.with_company(cls.company).billing_automation = "post"

    def _trigger(self, cron):
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()

    def _bill(self, day=date(2027, 3, 10)):
        run = self._run(day, partners=self.client_a)
        self.assertEqual(len(run.invoice_ids), 1, run.log_ids.mapped("message"))
        return run.invoice_ids


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestInvoiceLayouts(LayoutFixture, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_layout_fixture()

    def test_every_layout_prints_complete_with_wkhtmltopdf(self):
        invoice = self._bill()
        self.assertEqual(invoice.state, "posted")
        # (3.5 h x 100.00 + hosting 50.00) + 15% tax = 460.00
        self.assertEqual(invoice.amount_total, 460.0)
        texts = {}
        for report in (self.report_standard, self.report_time, self.report_project):
            text = pdf_text(render_pdf(self.env, report.report_name, invoice.ids))
            texts[report] = text
            # the sender block is in the body: Debian's wkhtmltopdf prints no page header
            self.assertIn("Pixel & Pine Studio", text)
            self.assertIn("12 Harbour Road", text)
            # the client, the amounts, the billed period, the branding
            self.assertIn("Acme Bakery", text)
            self.assertIn(invoice.name, text)
            self.assertIn("460.00", text)
            self.assertIn("350.00", text)
            self.assertIn("Managed hosting — 1 Mar 2027 to 31 Mar 2027", text)
            self.assertIn("Your Reference", text)
            self.assertIn("PO-ACME-77", text)
            self.assertIn("Billing Period", text)
            self.assertIn("Bank transfer to IBAN GB00 TEST 1234", text)
            self.assertIn("Framework agreement of 12 January 2027.", text)
            self.assertNotIn(
                invoice.agency_billing_run_id.name,
                text,
                "the billing run's number is not the client's business",
            )
        # Detailed time: the appendix, by project and task, with dates, people, hours and rates
        time_text = texts[self.report_time]
        self.assertIn("Time Details", time_text)
        self.assertIn("Checkout page build", time_text)
        self.assertIn("Payment tests", time_text)
        self.assertIn("Dana Developer", time_text)
        self.assertRegex(time_text, r"Checkout page\s+3\.50")
        self.assertRegex(
            time_text, r"03/05/2027\s+Dana Developer\s+Checkout page build\s+2\.50\s+\$\s?100\.00"
        )
        self.assertNotIn("Time Details", texts[self.report_standard])
        self.assertNotIn("Time Details", texts[self.report_project])
        # Summary by project: a block per project with its subtotal
        project_text = texts[self.report_project]
        self.assertRegex(project_text, r"Care plan\s+\$\s?50\.00")
        self.assertRegex(project_text, r"Shop relaunch\s+\$\s?350\.00")
        self.assertLess(project_text.index("Care plan"), project_text.index("Managed hosting —"))

    def test_client_layout_is_odoos_setting_and_in_the_print_menu(self):
        available = self.env["account.move"]._get_available_invoice_template_pdf_report_ids()
        for report in (self.report_standard, self.report_time, self.report_project):
            self.assertIn(report, available, "the client's Invoice report choices")
            self.assertEqual(report.binding_model_id.model, "account.move", "the invoice's Print menu")
        invoice = self._bill()
        # the Print button (Odoo may first offer its document layout configurator)
        self.assertIn("agency_billing.report_invoice_time_main", str(invoice.action_print_pdf()))

    def test_layout_and_branding_are_kept_from_posting(self):
        invoice = self._bill()
        snapshot = invoice.agency_branding_id
        self.assertEqual(snapshot.report_id, self.report_time)
        self.assertEqual(snapshot.client_reference, "PO-ACME-77")
        # the client's settings change after posting
        self.client_a.write(
            {
                "invoice_template_pdf_report_id": self.report_project.id,
                "agency_client_reference": "PO-NEW-2",
                "agency_invoice_color": "#000000",
                "agency_payment_instructions": "Pay by card.",
            }
        )
        self.assertEqual(self.env["account.move.send"]._get_default_pdf_report_id(invoice), self.report_time)
        text = pdf_text(render_pdf(self.env, "agency_billing.report_invoice_time_main", invoice.ids))
        self.assertIn("PO-ACME-77", text)
        self.assertIn("Bank transfer to IBAN GB00 TEST 1234", text)
        self.assertNotIn("PO-NEW-2", text)
        with self.assertRaises(UserError):
            snapshot.client_reference = "tampered"
        # the next invoice is posted with the new settings; the snapshot is reused when equal
        self._create_item(name="Extra work", price_unit=80.0)
        second = self._bill()
        self.assertEqual(second.agency_branding_id.report_id, self.report_project)
        self.assertEqual(second.agency_branding_id.client_reference, "PO-NEW-2")
        self._create_item(name="More work", price_unit=90.0)
        self.assertEqual(self._bill().agency_branding_id, second.agency_branding_id)
        # back to draft and posted again: the settings of that moment
        invoice.button_draft()
        self.assertFalse(invoice.agency_branding_id)
        invoice.action_post()
        self.assertEqual(invoice.agency_branding_id, second.agency_branding_id)

    def test_bulk_printing_makes_one_pdf_per_document(self):
        first = self._bill()
        self._create_item(name="Second invoice line", price_unit=30.0)
        second = self._bill()
        for report in ("agency_billing.report_invoice_standard_main", "account.report_invoice_with_payments"):
            streams = (
                self.env["ir.actions.report"]
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf_prepare_streams(report, {}, res_ids=(first + second).ids)
            )
            self.assertEqual(list(streams), (first + second).ids, "one PDF per invoice")
            self.assertIn(first.name, pdf_text(streams[first.id]["stream"].getvalue()))
            self.assertIn(second.name, pdf_text(streams[second.id]["stream"].getvalue()))
            self.assertNotIn(first.name, pdf_text(streams[second.id]["stream"].getvalue()))
            # printing both from the list: Odoo merges the two
            text = pdf_text(render_pdf(self.env, report, (first + second).ids))
            self.assertIn(first.name, text)
            self.assertIn(second.name, text)

    def test_pdf_text_stays_text_with_debian_wkhtmltopdf(self):
        """Debian's wkhtmltopdf draws web fonts as shapes: our PDFs use a system font."""
        invoice = self._bill()
        self.assertTrue(self.env["ir.actions.report"]._agency_use_system_font(), "this machine's wkhtmltopdf")
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "agency_billing.report_invoice_standard_main", invoice.ids, data={"report_type": "pdf"}
        )
        self.assertIn(b"font-family: Noto Sans, DejaVu Sans, Liberation Sans, sans-serif !important", html)
        preview, _type = self.env["ir.actions.report"]._render_qweb_html(
            "agency_billing.report_invoice_standard_main", invoice.ids
        )
        self.assertNotIn(b"Noto Sans", preview, "the portal's preview keeps the company's font")

    def test_no_wait_for_scripts_on_our_documents(self):
        """Odoo has wkhtmltopdf wait a second per PDF for page scripts; ours have none."""
        invoice = self._bill()
        calls = []
        real = base_report._run_wkhtmltopdf

        def spy(args):
            calls.append(args)
            return real(args)

        with patch.object(base_report, "_run_wkhtmltopdf", spy):
            render_pdf(self.env, "agency_billing.report_invoice_standard_main", invoice.ids)
            render_pdf(self.env, "account.report_invoice_with_payments", invoice.ids)
        delays = [args[args.index("--javascript-delay") + 1] for args in calls]
        self.assertEqual(delays, ["0", "1000"])

    def test_bad_colour_or_logo_is_refused_at_save(self):
        with self.assertRaises(ValidationError):
            self.client_a.agency_invoice_color = "orange-ish"
        with self.assertRaises(UserError):
            self.client_a.agency_invoice_logo = base64.b64encode(b"this is not an image")
        self.assertEqual(self.client_a.agency_invoice_color, "#B5651D", "the refused value was not kept")
        self.client_a.agency_invoice_logo = PNG
        invoice = self._bill()
        self.assertTrue(invoice.agency_branding_id.logo, "the logo is kept with the layout")

    def test_document_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client_a.agency_document_lang = "fr_FR"
        invoice = self._bill()
        self.assertEqual(invoice.agency_branding_id.lang, "fr_FR")
        self.assertEqual(invoice._agency_document_lang(), "fr_FR")
        self.client_a.agency_document_lang = False
        self.assertEqual(invoice._agency_document_lang(), "fr_FR", "kept from posting")


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestInvoiceSending(LayoutFixture, AgencyBillingCase):
    """The billing run's "post and send" through Odoo's sending cron."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_layout_fixture()
        cls.client_a.with_company(cls.company).billing_automation = "send"
        # the company's documents are set up: the run may email (see test_billing_run)
        cls.company.external_report_layout_id = cls.env.ref("web.external_layout_standard")
        cls.send_cron = cls.env.ref("account.ir_cron_account_move_send")

    def test_sent_pdf_is_the_clients_layout_and_agrees_with_the_snapshot(self):
        invoice = self._bill()
        self.assertEqual(invoice.sending_data["pdf_report_id"], self.report_time.id)
        self.assertEqual(invoice.sending_data["sending_methods"], ["email"])
        # the client changes its layout before the cron runs: the posted one is sent
        self.client_a.invoice_template_pdf_report_id = self.report_standard
        self._trigger(self.send_cron)
        invoice.invalidate_recordset()
        self.assertFalse(invoice.sending_data)
        attachment = invoice.invoice_pdf_report_id
        self.assertTrue(attachment, "Odoo made the invoice's PDF")
        # (in tests Odoo renders reports as HTML: the template is what matters)
        self.assertIn(b"Time Details", attachment.raw)
        self.assertIn(b"PO-ACME-77", attachment.raw)
        message = invoice.message_ids.filtered(lambda m: attachment.name in m.attachment_ids.mapped("name"))
        self.assertTrue(message, "emailed with the PDF")
        self.assertIn(self.client_a, message.partner_ids | message.notification_ids.res_partner_id)
        # the portal download and a reprint give the same document
        self.assertEqual(invoice._get_invoice_legal_documents("pdf")["content"], attachment.raw)

    def test_client_sending_method_manual_is_respected(self):
        self.client_a.with_company(self.company).invoice_sending_method = "manual"
        invoice = self._bill()
        self.assertEqual(invoice.sending_data["sending_methods"], ["manual"])
        self._trigger(self.send_cron)
        invoice.invalidate_recordset()
        self.assertTrue(invoice.invoice_pdf_report_id, "the PDF is made")
        self.assertFalse(
            invoice.message_ids.filtered(lambda m: m.message_type == "comment" and m.attachment_ids),
            "but not emailed",
        )

    def test_client_without_email_is_flagged(self):
        self.client_a.email = False
        invoice = self._bill()
        self.assertTrue(
            invoice.message_ids.filtered(lambda m: "will not be emailed" in (m.body or "")),
            "a note tells the accountant the invoice will not reach the client",
        )


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestInvoiceLayoutPortal(LayoutFixture, AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_layout_fixture()
        cls._create_new_portal_user(login="acme_portal", partner_id=cls.client_a_contact.id)
        cls._create_new_portal_user(login="birch_portal", partner_id=cls.client_b.id)

    def test_portal_shows_and_downloads_the_invoice_in_its_layout(self):
        invoice = self._bill()
        self.client_a.agency_client_reference = "PO-CHANGED"
        self.authenticate("acme_portal", "acme_portal")
        html = self.url_open(f"/my/invoices/{invoice.id}?report_type=html").text
        self.assertIn("Time Details", html)
        self.assertIn("PO-ACME-77", html)
        self.assertNotIn("PO-CHANGED", html)
        download = self.url_open(f"/my/invoices/{invoice.id}?report_type=pdf&download=true")
        self.assertEqual(download.status_code, 200)
        self.assertIn(b"PO-ACME-77", download.content)

    def test_another_client_cannot_open_it(self):
        invoice = self._bill()
        self.authenticate("birch_portal", "birch_portal")
        response = self.url_open(f"/my/invoices/{invoice.id}?report_type=html")
        self.assertNotIn("PO-ACME-77", response.text)
        self.assertTrue(response.url.endswith("/my"))


@tagged("post_install", "-at_install")
class TestBrandingAccess(AgencyBillingCase):
    def test_snapshots_are_read_only_for_invoicing_users(self):
        Branding = self.env["agency.invoice.branding"].with_user(self.billing_user)
        self.assertTrue(Branding.has_access("read"))
        self.assertFalse(Branding.has_access("create"))
        self.assertFalse(Branding.has_access("unlink"))

    def test_partner_fields_stay_on_the_commercial_partner(self):
        self.client_a.agency_client_reference = "PO-1"
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.client_a_contact.id,
                "invoice_date": date(2027, 3, 1),
                "invoice_line_ids": [Command.create({"name": "Work", "price_unit": 10.0, "tax_ids": False})],
            }
        )
        invoice.action_post()
        self.assertEqual(invoice.agency_branding_id.client_reference, "PO-1")
