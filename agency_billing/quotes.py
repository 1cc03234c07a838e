"""What an accepted quote turns into: named choices shared by models, views and tests.

A quote (a ``sale.order`` in draft or sent) says what its acceptance does;
accepting it (the client signing or paying in the portal, or a salesperson
confirming it) records one ``agency.quote.acceptance`` and turns the quote
into billable items and quote invoices (``agency.quote.charge``, a charge
source), which the billing run bills.
"""

# What acceptance does with the quote's one-off lines. Recurring services
# always become recurring billable items.
ACCEPT_MANUAL = "manual"
ACCEPT_INVOICE = "invoice"
ACCEPT_DEPOSIT = "deposit"
ACCEPT_ITEMS = "items"
ACCEPTANCE_MODES = [
    (ACCEPT_INVOICE, "Invoice the whole quote"),
    (ACCEPT_DEPOSIT, "Deposit now, the rest later"),
    (ACCEPT_ITEMS, "Billable items"),
    (ACCEPT_MANUAL, "Nothing (invoice by hand)"),
]

DEPOSIT_PERCENT = "percent"
DEPOSIT_FIXED = "fixed"
DEPOSIT_TYPES = [
    (DEPOSIT_PERCENT, "Percentage"),
    (DEPOSIT_FIXED, "Fixed amount (taxes included)"),
]

# When a quote invoice is due.
DUE_NOW = "now"
DUE_NEXT_RUN = "next_run"
DUE_ON_DATE = "on_date"
DUE_ON_DELIVERY = "on_delivery"
BALANCE_TRIGGERS = [
    (DUE_NEXT_RUN, "On the next billing run"),
    (DUE_ON_DATE, "On a date"),
    (DUE_ON_DELIVERY, "When the work is delivered"),
]
CHARGE_TRIGGERS = [(DUE_NOW, "At acceptance"), *BALANCE_TRIGGERS]

# What one quote invoice bills.
KIND_FULL = "full"
KIND_DEPOSIT = "deposit"
KIND_BALANCE = "balance"
CHARGE_KINDS = [
    (KIND_FULL, "Whole quote"),
    (KIND_DEPOSIT, "Deposit"),
    (KIND_BALANCE, "Rest of the quote"),
]

CHARGE_PENDING = "pending"
CHARGE_DONE = "done"
CHARGE_CANCELLED = "cancelled"
CHARGE_STATES = [
    (CHARGE_PENDING, "To invoice"),
    (CHARGE_DONE, "Invoiced"),
    (CHARGE_CANCELLED, "Cancelled"),
]

# How a quote was accepted.
TRIGGER_SIGNATURE = "portal_signature"
TRIGGER_PAYMENT = "portal_payment"
TRIGGER_PORTAL = "portal"
TRIGGER_SALESPERSON = "salesperson"
ACCEPTANCE_TRIGGERS = [
    (TRIGGER_SIGNATURE, "Signed online by the client"),
    (TRIGGER_PAYMENT, "Paid online by the client"),
    (TRIGGER_PORTAL, "Accepted online by the client"),
    (TRIGGER_SALESPERSON, "Confirmed by a salesperson"),
]
# Context key carrying the trigger down to sale.order._action_confirm().
CONTEXT_TRIGGER = "agency_acceptance_trigger"

ACCEPTANCE_ACCEPTED = "accepted"
ACCEPTANCE_CANCELLED = "cancelled"
ACCEPTANCE_STATES = [
    (ACCEPTANCE_ACCEPTED, "Accepted"),
    (ACCEPTANCE_CANCELLED, "Cancelled with the order"),
]

# A quote's place in its life (WHMCS stages on Odoo's states).
STATUS_DRAFT = "draft"
STATUS_OPEN = "open"
STATUS_EXPIRED = "expired"
STATUS_ACCEPTED = "accepted"
STATUS_LOST = "lost"
STATUS_CANCELLED = "cancelled"
QUOTE_STATUSES = [
    (STATUS_DRAFT, "Draft"),
    (STATUS_OPEN, "Sent"),
    (STATUS_EXPIRED, "Expired"),
    (STATUS_ACCEPTED, "Accepted"),
    (STATUS_LOST, "Lost"),
    (STATUS_CANCELLED, "Cancelled"),
]

# The billing run started by an acceptance or a delivery.
RUN_TRIGGER_QUOTE = "quote"

# Expiry reminders: the scheduled action's batch (a system parameter).
PARAM_REMINDER_BATCH_SIZE = "agency_billing.quote_reminder_batch_size"
DEFAULT_REMINDER_BATCH_SIZE = 100
