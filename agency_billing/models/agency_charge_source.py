from odoo import api, models


class AgencyChargeSource(models.AbstractModel):
    """A kind of charge the billing run bills: the run's extension point.

    A charge source is a model that inherits this one (billable items and
    timesheets do; quotes, late fees or retainers would). The run finds every
    source by itself; per batch of clients it asks each one:

    1. ``_agency_due_partner_ids(run)``: which clients have something due;
    2. ``_agency_get_charges(batch, partners)``: the :class:`~..charges.Charge`
       values due for those clients (locked by the run);
    3. ``_agency_check_charges(batch, partner, charges)``: raise a
       ``BillingError`` when a client's charges cannot be billed (optional);
    4. ``_prepare_agency_invoice_line_vals(charge, invoice_vals)``: the invoice
       line of one charge, a plain dict;
    5. ``_agency_after_invoicing(batch, lines)``: what to update once the
       invoice lines exist (optional), returning counters for the run;
    6. ``_agency_flag_failure(charges, message)``: show why a client could not be
       billed on the charged records (optional).

    The run plans, creates, posts and logs; a source never creates invoices.
    Exactly once is the source's duty: it must guard what it bills with a
    unique index that excludes cancelled invoices (as billable items and
    timesheets do), so that two runs can never bill the same thing twice.
    """

    _name = "agency.charge.source"
    _description = "Charge Source"

    # Order of the sources' lines on an invoice (lower first).
    _agency_charge_sequence = 50

    @api.model
    def _agency_source_description(self):
        """How a run's scope names this source ("Only: Timesheets")."""
        return self._description

    @api.model
    def _agency_due_partner_ids(self, run):
        """Ids of the commercial partners with a charge of this source due for ``run``."""
        raise NotImplementedError(f"{self._name} must implement _agency_due_partner_ids()")

    @api.model
    def _agency_get_charges(self, batch, partners):
        """[Charge]: what is due for ``partners`` (already locked by the run)."""
        raise NotImplementedError(f"{self._name} must implement _agency_get_charges()")

    @api.model
    def _agency_check_charges(self, batch, partner, charges):
        """Raise a ``BillingError`` if ``charges`` of ``partner`` cannot be billed."""

    @api.model
    def _prepare_agency_invoice_line_vals(self, charge, invoice_vals):
        """The values of the invoice line that bills ``charge`` (a plain dict).

        ``invoice_vals`` is the invoice being prepared: its partner, currency,
        fiscal position, … (its lines are not there yet). Give at least the
        name, product, quantity, unit price and taxes (mapped by the fiscal
        position); Odoo computes what is left out.
        """
        raise NotImplementedError(f"{self._name} must implement _prepare_agency_invoice_line_vals()")

    @api.model
    def _agency_after_invoicing(self, batch, lines):
        """The invoice ``lines`` (account.move.line) billing this source's charges exist.

        Returns counters added to the run, e.g. ``{"item_count": 3}``.
        """
        return {}

    @api.model
    def _agency_flag_failure(self, charges, message):
        """The client of ``charges`` could not be billed: say why on the records."""
