"""Named constants shared by the models, wizards and tests."""

# What the billing run does with an invoice once created.
AUTOMATION_DRAFT = "draft"
AUTOMATION_POST = "post"
AUTOMATION_SEND = "send"
AUTOMATION_LEVELS = [
    (AUTOMATION_DRAFT, "Leave in draft"),
    (AUTOMATION_POST, "Post"),
    (AUTOMATION_SEND, "Post and send by email"),
]

# What a billable item asks the billing run to do (after WHMCS).
ACTION_HOLD = "hold"
ACTION_NEXT_RUN = "next_run"
ACTION_NEXT_INVOICE = "next_invoice"
ACTION_ON_DATE = "on_date"
ACTION_RECURRING = "recurring"
INVOICE_ACTIONS = [
    (ACTION_HOLD, "Don't invoice for now"),
    (ACTION_NEXT_RUN, "Invoice on the next billing run"),
    (ACTION_NEXT_INVOICE, "Add to the client's next invoice"),
    (ACTION_ON_DATE, "Invoice on the due date"),
    (ACTION_RECURRING, "Recurring"),
]

# Where an item comes from.
SOURCES = [
    ("manual", "Manual"),
    ("timesheet", "Timesheet"),
    ("quote", "Quotation"),
    ("late_fee", "Late fee"),
]

STATE_PENDING = "pending"
STATE_PAUSED = "paused"
STATE_DONE = "done"
STATE_STOPPED = "stopped"
ITEM_STATES = [
    (STATE_PENDING, "Pending"),
    (STATE_PAUSED, "Paused"),
    (STATE_DONE, "Done"),
    (STATE_STOPPED, "Stopped"),
]

# The ledger key of a one-off item's only "period".
ONE_OFF_KEY = "once"

# How a billing run was started.
RUN_TRIGGERS = [
    ("cron", "Schedule"),
    ("manual", "Run billing now"),
    ("items", "Invoice selected items"),
    ("client", "Bill this client now"),
    ("time", "Bill time"),
]
RUN_QUEUED = "queued"
RUN_RUNNING = "running"
RUN_DONE = "done"
RUN_STOPPED = "stopped"
RUN_FAILED = "failed"
RUN_STATES = [
    (RUN_QUEUED, "Waiting to start"),
    (RUN_RUNNING, "Running"),
    (RUN_DONE, "Done"),
    (RUN_STOPPED, "Stopped"),
    (RUN_FAILED, "Failed"),
]
# A client another run holds is tried again once the others are billed: a
# background run waits up to this long for it, in steps; a run in a web
# request waits for its lock up to LOCK_WAIT_REQUEST.
HELD_CLIENT_WAIT_SECONDS = 120
HELD_CLIENT_RETRY_SECONDS = 1
LOCK_WAIT_REQUEST = "15s"
# A batch claimed this many times without being billed (its worker died or
# lost the database each time) is given up and its clients logged.
MAX_BATCH_CLAIMS = 5

# The fields of a billable item that make its schedule (``_get_schedule_values``): what
# reads its periods fetches them, what figures them from SQL recomputes with them.
ITEM_SCHEDULE_FIELDS = (
    "date_start",
    "recurring_interval",
    "recurring_rule_type",
    "recurring_invoicing_type",
    "recurring_count",
    "date_end",
    "is_aligned",
    "is_prorated",
)

# The preview bills this many clients for real (then rolls back) and totals the rest.
PREVIEW_FULL_CLIENTS = 50
LOG_LEVELS = [
    ("billed", "Billed"),
    ("skipped", "Skipped"),
    ("error", "Error"),
]

# Tunables kept as system parameters (data records, editable without code).
PARAM_BATCH_SIZE = "agency_billing.batch_size"
DEFAULT_BATCH_SIZE = 100

# Time billing
TIME_BILLABLE_CLIENT = "client"
TIME_BILLABLE_PROJECT = "project"
TIME_BILLABLE_YES = "billable"
TIME_BILLABLE_NO = "non_billable"
TIME_GROUPINGS = [
    ("project", "One line per project"),
    ("task", "One line per task"),
    ("employee", "One line per employee"),
    ("entry", "One line per timesheet entry"),
]
TIME_STATES = [
    ("to_bill", "To bill"),
    ("billed", "Billed"),
    ("non_billable", "Not billable"),
    ("written_off", "Written off"),
    ("before_start", "Before billing start"),
]

# Context for invoices made by a run: no "created" note, no tracking, no
# automatic follower: they cost queries per invoice and tell nobody anything.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}

# "0" switches the one-go invoice creation off: every invoice the ordinary way.
PARAM_FAST_INVOICES = "agency_billing.fast_invoices"
