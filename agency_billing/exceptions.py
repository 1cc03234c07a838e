"""The few errors the billing engine raises, or deals with, on purpose."""

import psycopg2.errors

from odoo.exceptions import UserError


class BillingError(UserError):
    """A client or an item cannot be billed now; the reason is shown to the user."""


# What a concurrent transaction can make a batch fail with: the batch is
# billed again from a fresh snapshot (Odoo retries a web request the same way).
RETRYABLE_ERRORS = (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected)
