from . import account_move
from . import account_move_line
from . import agency_billable_item
from . import agency_billing_run
from . import agency_billing_run_log
from . import res_company
from . import res_config_settings
from . import res_partner
