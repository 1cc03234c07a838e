"""Period maths for recurring billable items, free of the ORM.

A schedule is anchored on its start date: period ``k`` starts at
``start + k × interval`` (computed from the anchor each time, never chained,
so a plan on the 31st bills on the last day of shorter months and returns to
the 31st in longer ones; a yearly plan from 29 February bills on 28 February
in common years).

With ``align`` the periods follow the calendar (months from the 1st, weeks
from Monday, years from 1 January): the first period runs from the start date
to the next calendar boundary and may be prorated.
"""

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"
YEARLY = "yearly"
RULE_TYPES = [
    (DAILY, "Day(s)"),
    (WEEKLY, "Week(s)"),
    (MONTHLY, "Month(s)"),
    (YEARLY, "Year(s)"),
]

PRE_PAID = "pre_paid"
POST_PAID = "post_paid"
INVOICING_TYPES = [
    (PRE_PAID, "Pre-paid: bill each period at its start"),
    (POST_PAID, "Post-paid: bill each period after it ends"),
]

# A safety net against a runaway loop on absurd data (e.g. daily for a century).
MAX_PERIODS = 100_000


@dataclasses.dataclass(frozen=True)
class Schedule:
    date_start: date
    interval: int = 1
    rule_type: str = MONTHLY
    invoicing_type: str = PRE_PAID
    count: int = 0  # 0 = until stopped or until date_end
    date_end: date | None = None
    align: bool = False
    prorate: bool = False


@dataclasses.dataclass(frozen=True)
class Period:
    index: int
    date_start: date
    date_end: date
    invoice_date: date
    # share of a full period billed (1.0 unless prorated)
    factor: float = 1.0

    @property
    def key(self) -> str:
        return self.date_start.isoformat()


def step(rule_type: str, interval: int, times: int = 1) -> relativedelta:
    n = interval * times
    if rule_type == DAILY:
        return relativedelta(days=n)
    if rule_type == WEEKLY:
        return relativedelta(weeks=n)
    if rule_type == MONTHLY:
        return relativedelta(months=n)
    if rule_type == YEARLY:
        return relativedelta(years=n)
    raise ValueError(f"unknown recurrence unit {rule_type!r}")


def calendar_boundary(day: date, rule_type: str) -> date:
    """The first calendar boundary on or after ``day``."""
    if rule_type == DAILY:
        return day
    if rule_type == WEEKLY:
        return day + timedelta(days=(7 - day.weekday()) % 7)
    if rule_type == MONTHLY:
        return day if day.day == 1 else (day.replace(day=1) + relativedelta(months=1))
    if rule_type == YEARLY:
        return day if (day.month, day.day) == (1, 1) else date(day.year + 1, 1, 1)
    raise ValueError(f"unknown recurrence unit {rule_type!r}")


def iter_periods(schedule: Schedule) -> Iterator[Period]:
    """Every period of the schedule, in order (endless when it has no end)."""
    anchor = schedule.date_start
    index = 0
    first_partial = None
    if schedule.align:
        boundary = calendar_boundary(schedule.date_start, schedule.rule_type)
        if boundary != schedule.date_start:
            first_partial = boundary
            anchor = boundary
    k = 0
    while index < MAX_PERIODS:
        if first_partial and index == 0:
            start, end_excl = schedule.date_start, first_partial
            full_end_excl = start + step(schedule.rule_type, schedule.interval)
            # the partial period is a share of the full period that would start on its start date
            factor = (end_excl - start).days / max((full_end_excl - start).days, 1)
            factor = factor if schedule.prorate else 1.0
        else:
            start = anchor + step(schedule.rule_type, schedule.interval, k)
            end_excl = anchor + step(schedule.rule_type, schedule.interval, k + 1)
            factor = 1.0
            k += 1
        if schedule.count and index >= schedule.count:
            return
        if schedule.date_end and start > schedule.date_end:
            return
        end = end_excl - timedelta(days=1)
        if schedule.date_end and end > schedule.date_end:
            if schedule.prorate:
                factor *= ((schedule.date_end - start).days + 1) / ((end - start).days + 1)
            end = schedule.date_end
        invoice_date = start if schedule.invoicing_type == PRE_PAID else end + timedelta(days=1)
        yield Period(index, start, end, invoice_date, round(factor, 6))
        index += 1


def due_periods(schedule: Schedule, up_to: date, billed_keys=frozenset()) -> list[Period]:
    """Periods whose invoice date is on or before ``up_to`` and not billed yet."""
    due = []
    for period in iter_periods(schedule):
        if period.invoice_date > up_to:
            break
        if period.key not in billed_keys:
            due.append(period)
    return due


def next_unbilled(schedule: Schedule, billed_keys=frozenset()) -> Period | None:
    for period in iter_periods(schedule):
        if period.key not in billed_keys:
            return period
    return None


def total_periods(schedule: Schedule) -> int | None:
    """How many periods the schedule has in all; None when it never ends."""
    if not schedule.count and not schedule.date_end:
        return None
    return sum(1 for _ in iter_periods(schedule))
