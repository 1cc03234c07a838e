from collections import OrderedDict

from odoo import api, models

from odoo.addons.base.models.ir_actions_report import _wkhtml

# wkhtmltopdf waits this long (ms) for a page's scripts before printing it
PARAM_PRINT_DELAY = "agency_billing.print_delay"


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _agency_use_system_font(self):
        """Whether this addon's PDFs print in a font installed on the server.

        Debian's wkhtmltopdf draws text set in a web font (the company's
        document font, loaded by Odoo's report CSS) as shapes: the PDF shows
        it, but its text cannot be searched, copied or read by the client's
        accounts-payable software. A font of the system keeps it text.
        """
        return not _wkhtml().is_patched_qt

    def _agency_is_ours(self, report_ref):
        return self._get_report(report_ref).report_name.startswith("agency_billing.")

    def _agency_one_pdf_per_document(self, report_ref, res_ids):
        """Whether to make one wkhtmltopdf run per document.

        Debian's wkhtmltopdf (without the patched Qt) cannot print several
        documents in one run: Odoo then fails ("Tried to convert multiple
        documents"). Invoices and this addon's documents are printed one by one
        instead, and Odoo merges the PDFs (or keeps them apart, when sending).
        """
        if not res_ids or len(set(res_ids)) < 2 or _wkhtml().is_patched_qt:
            return False
        report = self._get_report(report_ref)
        if report.report_name == "account.report_original_vendor_bill":
            return False  # the vendor's own PDFs, not printed by wkhtmltopdf
        return report.model == "account.move" or self._agency_is_ours(report_ref)

    @api.model
    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        if not self._agency_one_pdf_per_document(report_ref, res_ids):
            return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
        collected = OrderedDict()
        for res_id in dict.fromkeys(res_ids):
            streams = super()._render_qweb_pdf_prepare_streams(report_ref, dict(data or {}), res_ids=[res_id])
            collected[res_id] = streams[res_id]
        return collected

    @api.model
    def _run_wkhtmltopdf(self, bodies, report_ref=False, **kwargs):
        # This addon's documents run no script: wkhtmltopdf need not wait for
        # any (Odoo waits a second per PDF by default, most of a statement's time)
        delay = self.env["ir.config_parameter"].sudo().get_param(PARAM_PRINT_DELAY)
        report = self
        if report_ref and delay and delay.isdigit() and self._agency_is_ours(report_ref):
            report = self.with_context(agency_print_delay=delay)
        return super(IrActionsReport, report)._run_wkhtmltopdf(bodies, report_ref=report_ref, **kwargs)

    @api.model
    def _build_wkhtmltopdf_args(
        self, paperformat_id, landscape, specific_paperformat_args=None, set_viewport_size=False
    ):
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        delay = self.env.context.get("agency_print_delay")
        if delay and "--javascript-delay" in args:
            args[args.index("--javascript-delay") + 1] = delay
        return args
