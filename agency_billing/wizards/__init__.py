from . import agency_billing_run_wizard
