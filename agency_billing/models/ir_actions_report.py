from collections import OrderedDict

from odoo import api, models

from odoo.addons.base.models.ir_actions_report import _wkhtml


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

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
        return report.model == "account.move" or report.report_name.startswith("agency_billing.")

    @api.model
    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        if not self._agency_one_pdf_per_document(report_ref, res_ids):
            return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
        collected = OrderedDict()
        for res_id in dict.fromkeys(res_ids):
            streams = super()._render_qweb_pdf_prepare_streams(report_ref, dict(data or {}), res_ids=[res_id])
            collected[res_id] = streams[res_id]
        return collected
