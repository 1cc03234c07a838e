from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_pdf_report_id(self, move):
        # a posted invoice prints with the layout it was posted with
        report = move.agency_branding_id.report_id
        if report and move._is_action_report_available(report):
            return report
        return super()._get_default_pdf_report_id(move)

    @api.model
    def _get_default_sending_settings(self, move, from_cron=False, **custom_settings):
        # Odoo's sending cron takes only the author from an invoice's sending
        # data; what the billing run decided when it queued it (the client's
        # sending method and e-invoice format, the invoice's layout) applies too
        data = move.sending_data or {}
        if from_cron and data.get("agency_billing"):
            decided = {"sending_methods": data.get("sending_methods") or ["email"]}
            if "invoice_edi_format" in data:
                decided["invoice_edi_format"] = data["invoice_edi_format"] or None
            report = self.env["ir.actions.report"].browse(data.get("pdf_report_id")).exists()
            if report:
                decided["pdf_report"] = report
            custom_settings = {**decided, **custom_settings}
        return super()._get_default_sending_settings(move, from_cron=from_cron, **custom_settings)
