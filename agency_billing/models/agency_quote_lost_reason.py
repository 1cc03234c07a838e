from odoo import fields, models


class AgencyQuoteLostReason(models.Model):
    """Why a quote was lost (too expensive, another agency, declined by the client, …)."""

    _name = "agency.quote.lost.reason"
    _description = "Quote Lost Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
