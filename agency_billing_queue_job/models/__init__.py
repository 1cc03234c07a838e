from . import agency_billing_batch
from . import agency_billing_run
