"""What the billing run bills, free of the ORM's models.

A *charge source* (a model inheriting ``agency.charge.source``: billable items,
timesheets, …) finds what is due and hands the run :class:`Charge` values; the
run groups them into invoices and asks each charge's source for its invoice
line. :class:`BillingBatch` is what every step of one batch shares.
"""

import dataclasses
from typing import Any


@dataclasses.dataclass
class Charge:
    """One invoice line's worth of something due, found by a charge source.

    ``source`` is the model name of the source that found it and builds its
    invoice line; ``records`` what it bills (a billable item, timesheet
    lines, …), ``period`` the period of a recurring item. A charge that
    ``rides_along`` only goes on an invoice made for other charges of the
    same client ("add to the client's next invoice"); ``values`` holds what
    the source needs to build the line.
    """

    source: str
    partner: Any  # res.partner: the client's commercial partner
    currency: Any  # res.currency
    project: Any  # project.project, may be empty
    records: Any
    period: Any = None
    rides_along: bool = False
    values: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class BillingBatch:
    """What the steps of one batch of a run share, looked up once per batch.

    ``run``: the billing run; ``journal``: the company's sales journal (empty
    when there is none); ``record``: the ``agency.billing.batch`` being billed
    (none in a preview). ``income_account()`` caches the income account per
    product and fiscal position.
    """

    run: Any
    journal: Any
    record: Any = None  # the agency.billing.batch being billed, if any
    _income_accounts: dict = dataclasses.field(default_factory=dict)

    @property
    def company(self):
        return self.run.company_id

    @property
    def date(self):
        return self.run.date

    def add_counts(self, counts):
        """What the batch billed (invoices, lines, items, …), kept on its batch record."""
        if self.record:
            self.record._add_counts(counts)

    def income_account(self, product, fiscal_position):
        key = (product.id, fiscal_position.id)
        if key not in self._income_accounts:
            self._income_accounts[key] = (
                product.product_tmpl_id.with_company(self.company)
                .get_product_accounts(fiscal_pos=fiscal_position)
                .get("income")
                if product
                else None
            )
        return self._income_accounts[key]
