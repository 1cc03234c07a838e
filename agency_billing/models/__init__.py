from . import account_analytic_line
from . import account_move
from . import account_move_line
from . import agency_billable_item
from . import agency_billing_run
from . import agency_billing_run_log
from . import agency_rate
from . import agency_timesheet_billing
from . import project_project
from . import project_task
from . import res_company
from . import res_config_settings
from . import res_partner

# reminders, late fees and overdue alerts (issue #13)
from . import agency_reminder_plan
from . import agency_reminder_level
from . import agency_reminder
from . import agency_reminder_line
from . import agency_reminder_run
from . import agency_reminder_run_log
from . import mail_template
from . import sale_order
