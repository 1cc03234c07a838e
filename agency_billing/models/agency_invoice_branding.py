import hashlib
import json

from odoo import api, fields, models
from odoo.exceptions import UserError

# the client settings a snapshot keeps (res.partner field → snapshot field)
PARTNER_FIELDS = {
    "agency_invoice_color": "accent_color",
    "agency_invoice_note": "note",
    "agency_payment_instructions": "payment_instructions",
    "agency_client_reference": "client_reference",
}


class AgencyInvoiceBranding(models.Model):
    """The layout and client branding a posted invoice is printed with.

    Made when the invoice is posted and never changed: invoices posted with the
    same layout and branding share one record (found by its fingerprint), and a
    client's new settings make a new one, so older invoices print as they were.
    """

    _name = "agency.invoice.branding"
    _description = "Invoice Layout Snapshot"
    _order = "id desc"

    report_id = fields.Many2one(
        "ir.actions.report", string="Layout", required=True, readonly=True, ondelete="restrict"
    )
    accent_color = fields.Char(readonly=True)
    logo = fields.Image(readonly=True, attachment=True)
    note = fields.Text(string="Note on Invoices", readonly=True)
    payment_instructions = fields.Text(readonly=True)
    client_reference = fields.Char(readonly=True)
    lang = fields.Char(string="Document Language", readonly=True)
    fingerprint = fields.Char(required=True, readonly=True, index=True)

    @api.depends("report_id")
    def _compute_display_name(self):
        for branding in self:
            branding.display_name = branding.report_id.name or ""

    def write(self, vals):
        if self:
            raise UserError(
                self.env._(
                    "The layout an invoice was posted with cannot change; change the client's "
                    "settings for its next invoices."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _get_layout_values(self):
        self.ensure_one()
        return {
            "report": self.report_id,
            "accent_color": self.accent_color or False,
            "logo": self.logo or False,
            "note": self.note or False,
            "payment_instructions": self.payment_instructions or False,
            "client_reference": self.client_reference or False,
            "lang": self.lang or False,
        }

    @api.model
    def _get_partner_layout_values(self, partner, report=None):
        """What a client's documents print today (its current settings)."""
        partner = partner.commercial_partner_id
        return {
            "report": report or partner.invoice_template_pdf_report_id,
            "accent_color": partner.agency_invoice_color or False,
            "logo": partner.agency_invoice_logo or False,
            "note": partner.agency_invoice_note or False,
            "payment_instructions": partner.agency_payment_instructions or False,
            "client_reference": partner.agency_client_reference or False,
            "lang": partner.agency_document_lang or partner.lang or False,
        }

    @api.model
    def _fingerprint(self, report, values, logo_checksum):
        key = [report.id, logo_checksum or "", values["lang"] or ""]
        key += [values[field] or "" for field in PARTNER_FIELDS.values()]
        return hashlib.sha1(json.dumps(key).encode()).hexdigest()

    @api.model
    def _snapshot(self, invoices):
        """Give each invoice the snapshot of its client's layout and branding, in
        a few queries for the whole batch (the billing run posts many at once)."""
        Send = self.env["account.move.send"]
        clients = invoices.commercial_partner_id
        logo_checksums = {
            attachment["res_id"]: attachment["checksum"]
            for attachment in self.env["ir.attachment"]
            .sudo()
            .search_read(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_field", "=", "agency_invoice_logo"),
                    ("res_id", "in", clients.ids),
                ],
                ["res_id", "checksum"],
            )
        }
        wanted = {}  # fingerprint: (client, report, values)
        per_invoice = {}
        for invoice in invoices:
            report = Send._get_default_pdf_report_id(invoice)
            client = invoice.commercial_partner_id
            values = {
                "lang": client.agency_document_lang or invoice.partner_id.lang or False,
                **{target: client[source] or False for source, target in PARTNER_FIELDS.items()},
            }
            fingerprint = self._fingerprint(report, values, logo_checksums.get(client.id))
            wanted.setdefault(fingerprint, (client, report, values))
            per_invoice[invoice] = fingerprint
        snapshots = {
            snapshot.fingerprint: snapshot
            for snapshot in self.sudo().search([("fingerprint", "in", list(wanted))])
        }
        missing = [fingerprint for fingerprint in wanted if fingerprint not in snapshots]
        if missing:
            created = self.sudo().create(
                [
                    {
                        "fingerprint": fingerprint,
                        "report_id": wanted[fingerprint][1].id,
                        "logo": wanted[fingerprint][0].agency_invoice_logo or False,
                        **wanted[fingerprint][2],
                    }
                    for fingerprint in missing
                ]
            )
            snapshots.update(zip(missing, created, strict=True))
        by_snapshot = {}
        for invoice, fingerprint in per_invoice.items():
            by_snapshot.setdefault(snapshots[fingerprint], []).append(invoice.id)
        Move = self.env["account.move"].with_context(skip_is_manually_modified=True, tracking_disable=True)
        for snapshot, invoice_ids in by_snapshot.items():
            Move.browse(invoice_ids).write({"agency_branding_id": snapshot.id})
