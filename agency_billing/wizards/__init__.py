from . import agency_billing_run_wizard
from . import agency_billing_time_wizard
from . import agency_refund_wizard
