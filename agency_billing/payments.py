"""Named constants and small helpers of payments, credit and automatic charging."""

from datetime import timedelta

# Kinds of rows in a client's Transactions.
TX_INVOICE = "invoice"
TX_CREDIT_NOTE = "credit_note"
TX_PAYMENT = "payment"
TX_REFUND = "refund"
TX_APPLIED = "applied"
TX_ADJUSTMENT = "adjustment"
TRANSACTION_TYPES = [
    (TX_INVOICE, "Invoice"),
    (TX_CREDIT_NOTE, "Credit Note"),
    (TX_PAYMENT, "Payment"),
    (TX_REFUND, "Refund"),
    (TX_APPLIED, "Credit Applied"),
    (TX_ADJUSTMENT, "Adjustment"),
]

# A client's setting for applying its outstanding credit to new invoices.
CREDIT_AUTO = "auto"
CREDIT_MANUAL = "manual"
CREDIT_APPLY_MODES = [
    (CREDIT_AUTO, "Apply to new invoices automatically"),
    (CREDIT_MANUAL, "Leave it for someone to apply"),
]

# When a saved payment method is charged for an invoice.
CHARGE_ON_POST = "on_post"
CHARGE_BEFORE_DUE = "before_due"
CHARGE_TIMINGS = [
    (CHARGE_ON_POST, "When the invoice is posted"),
    (CHARGE_BEFORE_DUE, "Some days before the due date"),
]

# One attempt to charge an invoice. "Processing", "pending" and "charged"
# attempts hold the invoice: a unique index allows one of them per invoice.
ATTEMPT_PROCESSING = "processing"
ATTEMPT_PENDING = "pending"
ATTEMPT_DONE = "done"
ATTEMPT_FAILED = "failed"
ATTEMPT_SKIPPED = "skipped"
ATTEMPT_STATES = [
    (ATTEMPT_PROCESSING, "Processing"),
    (ATTEMPT_PENDING, "Pending"),
    (ATTEMPT_DONE, "Charged"),
    (ATTEMPT_FAILED, "Failed"),
    (ATTEMPT_SKIPPED, "Skipped"),
]
ATTEMPT_HOLDING_STATES = (ATTEMPT_PROCESSING, ATTEMPT_PENDING, ATTEMPT_DONE)

CHARGE_RUN_TRIGGERS = [
    ("cron", "Schedule"),
    ("manual", "Charge now"),
]

# How a refund from an invoice gives the money back.
REFUND_CREDIT = "credit"
REFUND_PROVIDER = "provider"
REFUND_MANUAL = "manual"
REFUND_METHODS = [
    (REFUND_CREDIT, "Credit the client's balance"),
    (REFUND_PROVIDER, "Refund through the payment provider"),
    (REFUND_MANUAL, "Record a refund paid outside Odoo"),
]

# Tunables kept as system parameters.
PARAM_CHARGE_BATCH_SIZE = "agency_billing.charge_batch_size"
DEFAULT_CHARGE_BATCH_SIZE = 50
DEFAULT_RETRY_DAYS = "1,3,7"
DEFAULT_DAYS_BEFORE_DUE = 3


def parse_retry_days(text):
    """ "1, 3, 7" -> [1, 3, 7]: days after the first failed charge to try again.

    Raises ValueError on anything else than increasing positive whole numbers.
    """
    text = (text or "").strip()
    if not text:
        return []
    days = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    if any(day <= 0 for day in days) or days != sorted(set(days)):
        raise ValueError(text)
    return days


def next_retry_date(first_failure, failures, retry_days):
    """The date of the next attempt after ``failures`` failed ones, or None when
    the schedule is exhausted (the invoice is then left to reminders)."""
    if failures > len(retry_days):
        return None
    return first_failure + timedelta(days=retry_days[failures - 1])
