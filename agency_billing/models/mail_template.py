from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.tools import str2bool

from .. import dunning


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.constrains("body_html", "model_id")
    def _check_agency_reminder_pay_link(self):
        self._agency_check_pay_link()

    def _agency_check_pay_link(self):
        """A reminder email must carry the pay-online link when clients can pay online."""
        if not self._agency_online_payment_enabled():
            return
        for template in self.filtered(lambda t: t.model == "agency.reminder"):
            if dunning.PAY_LINK_PLACEHOLDER not in (template.body_html or ""):
                raise ValidationError(
                    self.env._(
                        "The reminder email “%(template)s” has no pay-online link, but your clients can pay "
                        "their invoices online. Add the link to each invoice, for example "
                        '<a t-att-href="line.pay_url">Pay now</a> inside the list of invoices, '
                        "or switch off online payment in Accounting settings.",
                        template=template.name,
                    )
                )

    @api.model
    def _agency_online_payment_enabled(self):
        return str2bool(
            self.env["ir.config_parameter"].sudo().get_param("account_payment.enable_portal_payment") or False
        )
