"""Reminders and late fees without the ORM: which level is due, how much a fee is.

An invoice climbs the levels of its client's reminder plan. Each level sits a
number of days from the invoice's due date (negative: before it). A level is
sent at most once per invoice, an invoice never goes back down, and the levels
before (or on) the due date are never sent once the invoice is overdue.
"""

import dataclasses
from datetime import date, timedelta

FEE_NONE = "none"
FEE_FIXED = "fixed"
FEE_PERCENT = "percent"
FEE_TYPES = [
    (FEE_NONE, "No late fee"),
    (FEE_FIXED, "Fixed amount"),
    (FEE_PERCENT, "Percentage of the amount due"),
]

TRIGGER_CRON = "cron"
TRIGGER_MANUAL = "manual"
TRIGGERS = [
    (TRIGGER_CRON, "Daily run"),
    (TRIGGER_MANUAL, "Send reminder now"),
]
RUN_STATES = [
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Interrupted"),
]
LOG_LEVELS = [
    ("skipped", "Skipped"),
    ("error", "Error"),
]

# Payment states of an invoice that is still owed (Odoo's own "To pay"):
# never "in_payment", "paid", "reversed" or "blocked".
OPEN_PAYMENT_STATES = ("not_paid", "partial")
# Invoices a reminder is about.
REMINDED_MOVE_TYPES = ("out_invoice", "out_receipt")

# How many invoice numbers a reminder's name lists before "and N more".
NAME_MAX_INVOICES = 3

# The placeholder a reminder template must hold when clients can pay online.
PAY_LINK_PLACEHOLDER = "pay_url"


@dataclasses.dataclass(frozen=True, order=True)
class Level:
    """A level of a plan as the planning needs it: its days from the due date."""

    days: int
    id: int


def level_date(date_due: date, level: Level) -> date:
    """The day a level falls on for an invoice due on ``date_due``."""
    return date_due + timedelta(days=level.days)


def _levels_left(levels, date_due, today, reached_days):
    """The levels an invoice can still get: above the last one reached, and
    none of those before or on the due date once it is overdue (a "due soon"
    note about an invoice already late would be wrong)."""
    overdue = today > date_due
    return [
        level
        for level in levels
        if (reached_days is None or level.days > reached_days) and not (overdue and level.days <= 0)
    ]


def level_to_send(levels, date_due: date, today: date, reached_days=None):
    """The level the daily run sends today for one invoice, or None.

    The highest level whose day has come among those left: an invoice found
    late (the plan was set up after its due date, the run did not run for
    days) gets the level that fits its lateness, never a stack of earlier ones.
    """
    due = [
        level
        for level in _levels_left(levels, date_due, today, reached_days)
        if level_date(date_due, level) <= today
    ]
    return max(due) if due else None


def next_level(levels, date_due: date, today: date, reached_days=None):
    """The level "send reminder now" sends: the one the daily run would send
    today, else the next one left, whatever its date."""
    due = level_to_send(levels, date_due, today, reached_days)
    if due:
        return due
    left = _levels_left(levels, date_due, today, reached_days)
    return min(left) if left else None


def fee_amount(fee_type, *, fixed=0.0, percent=0.0, minimum=0.0, maximum=0.0, amount_due=0.0):
    """A late fee before rounding, in the currency of the amounts given.

    A percentage fee is bounded by ``minimum`` and ``maximum`` (0: no bound);
    a fixed fee is the fixed amount. Never negative.
    """
    if fee_type == FEE_FIXED:
        amount = fixed
    elif fee_type == FEE_PERCENT:
        amount = amount_due * percent / 100.0
        if minimum:
            amount = max(amount, minimum)
        if maximum:
            amount = min(amount, maximum)
    else:
        amount = 0.0
    return max(amount, 0.0)
