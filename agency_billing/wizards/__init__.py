from . import agency_billing_run_wizard
from . import agency_billing_time_wizard
from . import agency_statement_wizard
from . import agency_quote_lost_wizard
