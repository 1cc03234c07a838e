from . import agency_billing_run_wizard
from . import agency_statement_wizard
from . import agency_refund_wizard
from . import agency_quote_lost_wizard
