from . import account_move
from . import account_move_line
from . import agency_setup_fee
