"""Plain rules of the client documents (invoice layouts, statements): no ORM here."""

import calendar
import re
from datetime import date, timedelta

# An accent colour is a CSS hex colour, as Odoo's colour picker writes it.
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")

# Aging buckets of a statement, by days past the due date at the statement's end.
AGING_CURRENT = "current"
AGING_1_30 = "1_30"
AGING_31_60 = "31_60"
AGING_61_90 = "61_90"
AGING_OVER_90 = "over_90"
AGING_BUCKETS = (AGING_CURRENT, AGING_1_30, AGING_31_60, AGING_61_90, AGING_OVER_90)

# How often a client gets its statement without anybody asking.
STATEMENT_NEVER = "never"
STATEMENT_MONTHLY = "monthly"
STATEMENT_FREQUENCIES = [
    (STATEMENT_NEVER, "Never"),
    (STATEMENT_MONTHLY, "Monthly"),
]

# What became of one client's statement.
STATEMENT_SENT = "sent"
STATEMENT_NO_EMAIL = "no_email"
STATEMENT_ERROR = "error"
STATEMENT_STATES = [
    (STATEMENT_SENT, "Sent"),
    (STATEMENT_NO_EMAIL, "Not sent: no email"),
    (STATEMENT_ERROR, "Error"),
]

RUN_QUEUED = "queued"
RUN_RUNNING = "running"
RUN_DONE = "done"
RUN_CANCELLED = "cancelled"
RUN_STATES = [
    (RUN_QUEUED, "Queued"),
    (RUN_RUNNING, "Running"),
    (RUN_DONE, "Done"),
    (RUN_CANCELLED, "Cancelled"),
]
RUN_TRIGGERS = [
    ("manual", "Send Statements"),
    ("schedule", "Schedule"),
]

PARAM_STATEMENT_BATCH_SIZE = "agency_billing.statement_batch_size"
DEFAULT_STATEMENT_BATCH_SIZE = 50


def normalize_color(value):
    """The colour in lower case, or None when it is not a #rrggbb colour."""
    if not value:
        return ""
    value = value.strip()
    return value.lower() if COLOR_RE.fullmatch(value) else None


def aging_bucket(due_date, as_of):
    """The bucket of an amount due on ``due_date``, seen on ``as_of``."""
    days = (as_of - due_date).days
    if days <= 0:
        return AGING_CURRENT
    if days <= 30:
        return AGING_1_30
    if days <= 60:
        return AGING_31_60
    if days <= 90:
        return AGING_61_90
    return AGING_OVER_90


def day_in_month(year, month, day):
    """``day`` of that month, or its last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_statement_date(day, after):
    """The first statement day on or after ``after`` for a client sent one on ``day`` of each month."""
    candidate = day_in_month(after.year, after.month, day)
    if candidate >= after:
        return candidate
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return day_in_month(year, month, day)


def last_statement_date(day, on):
    """The last statement day on or before ``on``."""
    candidate = day_in_month(on.year, on.month, day)
    if candidate <= on:
        return candidate
    year, month = (on.year - 1, 12) if on.month == 1 else (on.year, on.month - 1)
    return day_in_month(year, month, day)


def statement_period(day, on):
    """(first, last) day a statement sent on ``on`` covers: from the statement
    day of the month before up to the day before ``on``."""
    year, month = (on.year - 1, 12) if on.month == 1 else (on.year, on.month - 1)
    return day_in_month(year, month, day), on - timedelta(days=1)
