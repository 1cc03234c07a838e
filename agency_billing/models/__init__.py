from . import agency_charge_source
from . import account_analytic_line
from . import account_move
from . import account_move_line
from . import agency_billable_item
from . import agency_billing_batch
from . import agency_billing_run
from . import agency_billing_run_log
from . import agency_rate
from . import agency_timesheet_billing
from . import project_project
from . import project_task
from . import res_company
from . import res_config_settings
from . import res_partner

# invoice layouts and statements
from . import account_move_send
from . import agency_invoice_branding
from . import agency_statement
from . import agency_statement_run
from . import ir_actions_report
from . import agency_client_transaction
from . import agency_payment_attempt
from . import agency_payment_run
from . import payment_token
from . import payment_transaction

# reminders, late fees and overdue alerts
from . import agency_reminder_plan
from . import agency_reminder_level
from . import agency_reminder
from . import agency_reminder_line
from . import agency_reminder_run
from . import agency_reminder_run_log
from . import mail_template
from . import sale_order_overdue

# accepted quotes
from . import product_template
from . import agency_quote_acceptance
from . import agency_quote_charge
from . import agency_quote_lost_reason
from . import agency_billable_item_sale
from . import agency_billing_run_quote
from . import sale_order
from . import sale_order_line

# the Billing Overview
from . import agency_billing_forecast
from . import agency_billing_forecast_total
from . import agency_billing_mrr
from . import agency_billing_trend
from . import agency_billing_client_summary
from . import agency_billing_overview
