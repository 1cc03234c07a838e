"""The few errors the billing engine raises on purpose."""

from odoo.exceptions import UserError


class BillingError(UserError):
    """A client or an item cannot be billed now; the reason is shown to the user."""
