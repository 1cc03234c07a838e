from . import portal
from . import payment_portal
