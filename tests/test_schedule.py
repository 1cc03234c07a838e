"""Recurrence maths: month ends, leap years, counts, end dates, catch-up."""

from datetime import date

from odoo.addons.agency_billing import schedule as s


def starts(sched, n):
    periods = []
    for period in s.iter_periods(sched):
        periods.append(period)
        if len(periods) == n:
            break
    return [(p.date_start, p.date_end) for p in periods]


def test_monthly_on_the_31st_bills_on_month_ends_and_comes_back():
    sched = s.Schedule(date(2027, 1, 31))
    assert [start for start, _end in starts(sched, 5)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    # each period ends the day before the next one starts
    assert starts(sched, 2)[0] == (date(2027, 1, 31), date(2027, 2, 27))


def test_monthly_on_the_31st_in_a_leap_year():
    sched = s.Schedule(date(2028, 1, 31))
    assert starts(sched, 2)[1][0] == date(2028, 2, 29)


def test_yearly_from_29_february():
    sched = s.Schedule(date(2028, 2, 29), rule_type=s.YEARLY)
    assert [start for start, _end in starts(sched, 5)] == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]


def test_weekly_and_daily_intervals():
    weekly = s.Schedule(date(2027, 3, 3), interval=2, rule_type=s.WEEKLY)
    assert starts(weekly, 2) == [
        (date(2027, 3, 3), date(2027, 3, 16)),
        (date(2027, 3, 17), date(2027, 3, 30)),
    ]
    daily = s.Schedule(date(2027, 3, 30), interval=3, rule_type=s.DAILY)
    assert [start for start, _end in starts(daily, 3)] == [
        date(2027, 3, 30),
        date(2027, 4, 2),
        date(2027, 4, 5),
    ]


def test_count_limits_the_number_of_periods():
    sched = s.Schedule(date(2027, 1, 1), count=3)
    assert len(list(s.iter_periods(sched))) == 3
    assert s.total_periods(sched) == 3


def test_end_date_stops_the_schedule_and_cuts_the_last_period():
    sched = s.Schedule(date(2027, 1, 1), date_end=date(2027, 3, 15))
    periods = list(s.iter_periods(sched))
    assert [(p.date_start, p.date_end) for p in periods] == [
        (date(2027, 1, 1), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2027, 3, 15)),
    ]
    assert periods[-1].factor == 1.0  # not prorated unless asked
    prorated = list(s.iter_periods(s.Schedule(date(2027, 1, 1), date_end=date(2027, 3, 15), prorate=True)))
    assert prorated[-1].factor == round(15 / 31, 6)


def test_until_stopped_has_no_total():
    assert s.total_periods(s.Schedule(date(2027, 1, 1))) is None


def test_pre_paid_and_post_paid_invoice_dates():
    pre = next(s.iter_periods(s.Schedule(date(2027, 3, 1))))
    post = next(s.iter_periods(s.Schedule(date(2027, 3, 1), invoicing_type=s.POST_PAID)))
    assert pre.invoice_date == date(2027, 3, 1)
    assert post.invoice_date == date(2027, 4, 1)


def test_aligned_first_period_is_partial_and_prorated():
    sched = s.Schedule(date(2027, 3, 16), align=True, prorate=True)
    first, second = starts(sched, 2)
    assert first == (date(2027, 3, 16), date(2027, 3, 31))
    assert second == (date(2027, 4, 1), date(2027, 4, 30))
    period = next(s.iter_periods(sched))
    assert period.factor == round(16 / 31, 6)
    unprorated = next(s.iter_periods(s.Schedule(date(2027, 3, 16), align=True)))
    assert unprorated.factor == 1.0


def test_catch_up_lists_every_missed_period_once():
    sched = s.Schedule(date(2027, 1, 1))
    due = s.due_periods(sched, date(2027, 4, 10))
    assert [p.date_start.month for p in due] == [1, 2, 3, 4]
    billed = {due[0].key, due[2].key}
    assert [p.date_start.month for p in s.due_periods(sched, date(2027, 4, 10), billed)] == [2, 4]
