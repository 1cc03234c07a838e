"""What goes on an invoice line besides billable items: a group of timesheet lines."""

import dataclasses
from typing import Any


@dataclasses.dataclass
class TimeCharge:
    """Timesheet lines billed together on one invoice line, at one rate."""

    timesheets: Any  # account.analytic.line recordset
    product: Any  # product.product (may be empty)
    project: Any  # project.project
    currency: Any  # res.currency
    rate: float
    quantity: float = 0.0
    label: str = ""
