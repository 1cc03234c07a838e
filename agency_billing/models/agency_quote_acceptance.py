import psycopg2.errors

from odoo import api, fields, models

from .. import quotes


class AgencyQuoteAcceptance(models.Model):
    """A quote's acceptance, recorded once: what turned it into money.

    The unique index is the exactly-once guarantee of acceptance: whatever
    fires it (the client signing or paying in the portal, a salesperson
    confirming, the same trigger twice, two at the same time), an order has
    at most one acceptance that is not cancelled, and only the trigger that
    records it creates the order's quote invoices and billable items.
    """

    _name = "agency.quote.acceptance"
    _description = "Quote Acceptance"
    _order = "id desc"
    _rec_name = "order_id"
    _check_company_auto = True

    order_id = fields.Many2one("sale.order", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        related="order_id.partner_id.commercial_partner_id", string="Client", store=True
    )
    date = fields.Datetime(string="Accepted On", required=True, readonly=True, default=fields.Datetime.now)
    trigger = fields.Selection(quotes.ACCEPTANCE_TRIGGERS, string="How", required=True, readonly=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.user)
    mode = fields.Selection(quotes.ACCEPTANCE_MODES, string="On Acceptance", required=True, readonly=True)
    state = fields.Selection(
        quotes.ACCEPTANCE_STATES, default=quotes.ACCEPTANCE_ACCEPTED, required=True, readonly=True
    )

    _exactly_once = models.UniqueIndex(
        "(order_id) WHERE state = 'accepted'",
        "This quote has already been accepted.",
    )

    @api.model
    def _agency_record(self, order, trigger):
        """Record the acceptance of ``order``; empty when it was already accepted.

        Inserted under a savepoint: a concurrent or repeated trigger meets the
        unique index, and its transaction goes on without creating anything.
        """
        if self.search_count([("order_id", "=", order.id), ("state", "=", quotes.ACCEPTANCE_ACCEPTED)]):
            return self.browse()
        try:
            with self.env.cr.savepoint():
                acceptance = self.create(
                    {"order_id": order.id, "trigger": trigger, "mode": order.agency_acceptance_mode}
                )
                acceptance.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            self.env.invalidate_all()
            return self.browse()
        return acceptance
