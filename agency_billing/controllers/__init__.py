from . import portal
from . import statement
from . import payment_portal
from . import quote
from . import billing_portal
