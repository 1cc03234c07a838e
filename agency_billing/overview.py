"""The Billing Overview's figures, free of the ORM: the SQL that computes them.

Every figure aggregates in PostgreSQL, whatever the number of clients: the
models of the Overview (``agency.billing.forecast``, ``agency.billing.mrr``,
``agency.billing.trend``, ``agency.billing.client.summary``) are views on
these queries, and the Overview's own figures run the same queries with a
company filter.

The forecast is the schedule maths of ``schedule.py`` (``iter_periods``)
written as a set-returning query: period ``k`` starts at ``anchor + k ×
interval`` (PostgreSQL's ``date + interval`` keeps to the last day of shorter
months as ``relativedelta`` does), a first period cut at a calendar boundary
and the last one cut at the end date are prorated by their share of days.
Nothing is stored per period; the test suite compares it period by period
with ``iter_periods`` on generated schedules.
"""

from datetime import timedelta

from odoo.tools import SQL

from . import const, documents, schedule

# How far the forecast looks ahead: the current month and the 11 after it.
FORECAST_MONTHS = 12
# "Scheduled in the next N days" on the Overview.
UPCOMING_DAYS = (30, 90)
# Days sales outstanding: receivables against what was invoiced in this many days.
DSO_DAYS = 90
# How far back "recurring revenue over time" goes.
MRR_HISTORY_MONTHS = 24

# One period's amount times this, divided by the interval, is its amount per month.
MRR_FACTORS = {
    schedule.DAILY: 365 / 12,
    schedule.WEEKLY: 52 / 12,
    schedule.MONTHLY: 1.0,
    schedule.YEARLY: 1 / 12,
}

# Aging buckets: (bucket, first day late, last day late) of an open amount.
AGING_RANGES = (
    (documents.AGING_CURRENT, None, 0),
    (documents.AGING_1_30, 1, 30),
    (documents.AGING_31_60, 31, 60),
    (documents.AGING_61_90, 61, 90),
    (documents.AGING_OVER_90, 91, None),
)

# Moves whose receivable lines are money received or paid back (not invoices).
_PAYMENT_MOVE = SQL(
    "(move.origin_payment_id IS NOT NULL OR move.statement_line_id IS NOT NULL) AND move.move_type = 'entry'"
)
CUSTOMER_DOCUMENTS = ("out_invoice", "out_refund", "out_receipt")
# Journal items Odoo counts in a document's untaxed amount (with no tax repartition).
UNTAXED_LINE_TYPES = ("product", "rounding", "non_deductible_product", "non_deductible_product_total")


def disable_jit(cr):
    """Turn PostgreSQL's JIT compiler off for the rest of the transaction.

    The planner cannot know that each plan has a handful of periods in the
    forecast's window, so it estimates these queries at millions of rows, and
    JIT-compiles them for seconds when running them takes milliseconds.
    """
    cr.execute(SQL("SET LOCAL jit = off"))


def monthly_amount(amount, rule_type, interval):
    """What one period's ``amount`` is worth per month (monthly recurring revenue)."""
    return amount * MRR_FACTORS[rule_type or schedule.MONTHLY] / max(interval or 1, 1)


# ----------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------
def _step(k):
    """``k`` periods of the plan in ``plan`` as an SQL interval."""
    return SQL(
        """make_interval(
               years => CASE WHEN plan.unit = 'yearly' THEN (%(k)s) * plan.n ELSE 0 END,
               months => CASE WHEN plan.unit = 'monthly' THEN (%(k)s) * plan.n ELSE 0 END,
               weeks => CASE WHEN plan.unit = 'weekly' THEN (%(k)s) * plan.n ELSE 0 END,
               days => CASE WHEN plan.unit = 'daily' THEN (%(k)s) * plan.n ELSE 0 END)""",
        k=k,
    )


def _periods_elapsed(day):
    """Whole periods of ``plan`` from its anchor to ``day`` (an estimate to bound the series)."""
    return SQL(
        """CASE plan.unit
               WHEN 'daily' THEN (%(day)s - plan.anchor) / plan.n
               WHEN 'weekly' THEN (%(day)s - plan.anchor) / (7 * plan.n)
               WHEN 'yearly' THEN (EXTRACT(YEAR FROM %(day)s)::int - EXTRACT(YEAR FROM plan.anchor)::int) / plan.n
               ELSE ((EXTRACT(YEAR FROM %(day)s)::int - EXTRACT(YEAR FROM plan.anchor)::int) * 12
                     + EXTRACT(MONTH FROM %(day)s)::int - EXTRACT(MONTH FROM plan.anchor)::int) / plan.n
           END""",
        day=day,
    )


def _plans(where, simple=None):
    """One row per recurring item: its schedule as ``schedule.Schedule`` reads it
    (``simple``: an SQL flag on the item, as column ``simple``)."""
    return SQL(
        """SELECT item.id AS item_id, %(simple)s AS simple,
                  item.company_id, item.currency_id, item.amount_untaxed AS amount, 1 AS items,
                  item.date_start AS s,
                  item.date_end AS e,
                  GREATEST(COALESCE(item.recurring_interval, 1), 1) AS n,
                  COALESCE(item.recurring_rule_type, %(monthly)s) AS unit,
                  COALESCE(item.recurring_invoicing_type, %(pre_paid)s) = %(post_paid)s AS post_paid,
                  GREATEST(COALESCE(item.recurring_count, 0), 0) AS times,
                  COALESCE(item.is_prorated, FALSE) AS prorate,
                  item.next_invoice_date AS next_date,
                  -- the calendar boundary a period of an aligned plan starts on
                  CASE
                      WHEN NOT COALESCE(item.is_aligned, FALSE) THEN item.date_start
                      WHEN item.recurring_rule_type = 'weekly'
                          THEN item.date_start + (8 - EXTRACT(ISODOW FROM item.date_start)::int) %% 7
                      WHEN item.recurring_rule_type = 'yearly'
                          THEN CASE WHEN to_char(item.date_start, 'MM-DD') = '01-01' THEN item.date_start
                                    ELSE make_date(EXTRACT(YEAR FROM item.date_start)::int + 1, 1, 1) END
                      WHEN COALESCE(item.recurring_rule_type, 'monthly') = 'monthly'
                          THEN CASE WHEN EXTRACT(DAY FROM item.date_start) = 1 THEN item.date_start
                                    ELSE (date_trunc('month', item.date_start) + interval '1 month')::date END
                      ELSE item.date_start
                  END AS anchor
             FROM agency_billable_item item
            WHERE item.invoice_action = %(recurring)s
              AND item.date_start IS NOT NULL
              AND %(where)s""",
        simple=simple if simple is not None else SQL("FALSE"),
        monthly=schedule.MONTHLY,
        pre_paid=schedule.PRE_PAID,
        post_paid=schedule.POST_PAID,
        recurring=const.ACTION_RECURRING,
        where=where,
    )


def recurring_periods(date_to, where=None):
    """The periods of pending recurring items not billed yet and invoiced on or
    before ``date_to`` (missed ones included), as ``schedule.iter_periods`` makes
    them. Columns: item_id, period_index, date_start, date_end, invoice_date,
    factor, and the plan's (company_id, currency_id, amount, ...).

    ``where`` filters the items (alias ``item``). The series of each item starts
    at its next invoice date: the periods before it are billed.
    """
    where = SQL(
        "item.state = %s AND item.next_invoice_date <= %s AND %s",
        const.STATE_PENDING,
        date_to,
        where if where is not None else SQL("TRUE"),
    )
    return _period_series(_plans(where), date_to)


def _period_series(plans, date_to, *, skip_billed=True):
    """The periods invoiced on or before ``date_to`` of each row of ``plans``
    (columns as ``_plans`` makes them), from its next invoice date on.

    ``skip_billed``: leave out periods on an invoice (each row is one item);
    otherwise every period from the next invoice date on is kept (rows of items
    with nothing billed after their next period, see ``_has_hole``).
    """
    billed = (
        SQL(
            """NOT EXISTS (
                    SELECT 1 FROM account_move_line billed
                     WHERE billed.agency_item_id = plan.item_id
                       AND billed.agency_period_key = to_char(p.date_start, 'YYYY-MM-DD')
                       AND billed.parent_state <> 'cancel')"""
        )
        if skip_billed
        else SQL("p.invoice_date >= plan.next_date")
    )
    return SQL(
        """SELECT plan.*, p.period_index, p.date_start, p.date_end, p.invoice_date,
                  ROUND(p.factor::numeric, 6)::float8 AS factor
             -- OFFSET 0: each plan's columns are computed once, not inlined in every period
             FROM (SELECT raw.*, raw.anchor <> raw.s AS partial FROM (%(plans)s) raw OFFSET 0) plan
             CROSS JOIN LATERAL (
                    SELECT GREATEST(%(elapsed_next)s - 2, 0) AS k_lo,
                           %(elapsed_to)s + 1 AS k_hi
                    OFFSET 0
             ) bounds
             CROSS JOIN LATERAL generate_series(
                    CASE WHEN bounds.k_lo = 0 THEN 0 ELSE bounds.k_lo + plan.partial::int END,
                    CASE WHEN plan.times > 0 THEN LEAST(bounds.k_hi + plan.partial::int, plan.times - 1)
                         ELSE bounds.k_hi + plan.partial::int END
             ) AS series(i)
             CROSS JOIN LATERAL (
                    SELECT plan.partial AND series.i = 0 AS is_first_partial,
                           series.i - plan.partial::int AS k
                    OFFSET 0
             ) idx
             CROSS JOIN LATERAL (
                    SELECT CASE WHEN idx.is_first_partial THEN plan.s
                                ELSE (plan.anchor + %(step_k)s)::date END AS date_start,
                           CASE WHEN idx.is_first_partial THEN plan.anchor
                                ELSE (plan.anchor + %(step_k1)s)::date END AS end_excl,
                           CASE WHEN idx.is_first_partial AND plan.prorate
                                THEN (plan.anchor - plan.s)::float8
                                     / GREATEST((plan.s + %(step_1)s)::date - plan.s, 1)::float8
                                ELSE 1.0::float8 END AS base_factor
                    OFFSET 0
             ) d
             CROSS JOIN LATERAL (
                    SELECT series.i AS period_index,
                           d.date_start,
                           CASE WHEN plan.e IS NOT NULL AND d.end_excl - 1 > plan.e THEN plan.e
                                ELSE d.end_excl - 1 END AS date_end,
                           CASE WHEN plan.e IS NOT NULL AND d.end_excl - 1 > plan.e AND plan.prorate
                                THEN d.base_factor * ((plan.e - d.date_start + 1)::float8
                                                      / (d.end_excl - d.date_start)::float8)
                                ELSE d.base_factor END AS factor
                    OFFSET 0
             ) cut
             CROSS JOIN LATERAL (
                    SELECT cut.period_index, cut.date_start, cut.date_end, cut.factor,
                           CASE WHEN plan.post_paid THEN cut.date_end + 1 ELSE cut.date_start END AS invoice_date
                    OFFSET 0
             ) p
            WHERE (plan.e IS NULL OR p.date_start <= plan.e)
              AND p.invoice_date <= %(date_to)s
              AND %(billed)s""",
        plans=plans,
        billed=billed,
        elapsed_next=_periods_elapsed(SQL("plan.next_date")),
        elapsed_to=_periods_elapsed(SQL("%s::date", date_to)),
        step_k=_step(SQL("idx.k")),
        step_k1=_step(SQL("idx.k + 1")),
        step_1=_step(SQL("1")),
        date_to=date_to,
    )


def rate_table(env, companies, day):
    """VALUES (company_id, currency_id, rate): what one unit of each currency of the
    billable items is worth in each company's currency on ``day``, at Odoo's rates."""
    env.cr.execute(
        SQL(
            "SELECT DISTINCT company_id, currency_id FROM agency_billable_item WHERE company_id IN %s",
            tuple(companies.ids) or (0,),
        )
    )
    pairs = set(env.cr.fetchall())
    pairs |= {(company.id, company.currency_id.id) for company in companies}
    Currency = env["res.currency"].with_context(active_test=False)
    rows = []
    for company_id, currency_id in sorted(pairs):
        company = env["res.company"].browse(company_id)
        currency = Currency.browse(currency_id)
        rate = (
            1.0
            if currency == company.currency_id
            else Currency._get_conversion_rate(currency, company.currency_id, company, day)
        )
        rows.append(SQL("(%s, %s, %s::float8)", company_id, currency_id, rate))
    if not rows:
        rows.append(SQL("(0, 0, 1.0::float8)"))
    return SQL("(VALUES %s) AS rates(company_id, currency_id, rate)", SQL(", ").join(rows))


def forecast(env, companies, today, date_to, *, where=None, rates=None):
    """Every charge of billable items the billing run will invoice up to ``date_to``:
    each period of each pending recurring item (not billed yet; a missed one is due
    ``today``), and pending one-off items on their date (``today`` for the next run
    or the client's next invoice).

    Columns: id, item_id, partner_id, company_id, project_id, product_id, name,
    kind, date, date_scheduled, is_late, period_start, period_end, factor,
    currency_id, amount (before tax, in the item's currency), company_currency_id,
    amount_company (in the company's currency at today's rate), rides_along.
    """
    item_filter = SQL(
        "item.company_id IN %s AND %s",
        tuple(companies.ids) or (0,),
        where if where is not None else SQL("TRUE"),
    )
    return SQL(
        """SELECT charge.*,
                  ROUND((charge.amount * rates.rate)::numeric, company_currency.decimal_places)::float8
                      AS amount_company,
                  company.currency_id AS company_currency_id
             FROM (
                    SELECT item.id::bigint * 100000 + p.period_index + 1 AS id,
                           item.id AS item_id, item.partner_id, item.company_id, item.project_id,
                           item.product_id, item.name, 'recurring' AS kind,
                           GREATEST(p.invoice_date, %(today)s::date) AS date,
                           p.invoice_date AS date_scheduled,
                           p.invoice_date < %(today)s::date AS is_late,
                           p.date_start AS period_start, p.date_end AS period_end, p.factor,
                           item.currency_id,
                           ROUND((item.amount_untaxed * p.factor)::numeric, currency.decimal_places)::float8
                               AS amount,
                           FALSE AS rides_along
                      FROM (%(periods)s) p
                      JOIN agency_billable_item item ON item.id = p.item_id
                      JOIN res_currency currency ON currency.id = item.currency_id
                 UNION ALL
                    SELECT item.id::bigint * 100000 AS id,
                           item.id AS item_id, item.partner_id, item.company_id, item.project_id,
                           item.product_id, item.name, 'one_off' AS kind,
                           CASE WHEN item.invoice_action = %(on_date)s
                                THEN GREATEST(item.date_due, %(today)s::date) ELSE %(today)s::date END AS date,
                           CASE WHEN item.invoice_action = %(on_date)s THEN item.date_due
                                ELSE %(today)s::date END AS date_scheduled,
                           item.invoice_action = %(on_date)s AND item.date_due < %(today)s::date AS is_late,
                           NULL::date AS period_start, NULL::date AS period_end, 1.0::float8 AS factor,
                           item.currency_id,
                           item.amount_untaxed AS amount,
                           item.invoice_action = %(next_invoice)s AS rides_along
                      FROM agency_billable_item item
                     WHERE item.state = %(pending)s
                       AND item.invoice_action IN %(one_off_actions)s
                       AND (item.invoice_action <> %(on_date)s OR item.date_due <= %(date_to)s)
                       AND %(item_filter)s
             ) charge
             JOIN res_company company ON company.id = charge.company_id
             JOIN res_currency company_currency ON company_currency.id = company.currency_id
             LEFT JOIN %(rates)s ON rates.company_id = charge.company_id AND rates.currency_id = charge.currency_id""",
        periods=recurring_periods(date_to, item_filter),
        today=today,
        date_to=date_to,
        on_date=const.ACTION_ON_DATE,
        next_invoice=const.ACTION_NEXT_INVOICE,
        pending=const.STATE_PENDING,
        one_off_actions=(const.ACTION_NEXT_RUN, const.ACTION_NEXT_INVOICE, const.ACTION_ON_DATE),
        item_filter=item_filter,
        rates=rates if rates is not None else rate_table(env, companies, today),
    )


def _has_hole(item="item"):
    """SQL: the recurring item has a period on an invoice after its next one (an
    earlier invoice was cancelled): only then must each period be checked."""
    return SQL(
        """EXISTS (SELECT 1 FROM account_move_line billed
                    WHERE billed.agency_item_id = %(item)s.id
                      AND billed.parent_state <> 'cancel'
                      AND billed.agency_period_key >= to_char(
                              %(item)s.next_invoice_date
                              + CASE WHEN %(item)s.recurring_invoicing_type = %(post_paid)s THEN 0 ELSE 1 END,
                              'YYYY-MM-DD'))""",
        item=SQL.identifier(item),
        post_paid=schedule.POST_PAID,
    )


def forecast_totals(env, companies, today, date_to, *, rates=None):
    """The billing forecast up to ``date_to`` summed per company and day (the day
    the run invoices it, today for what is late), recurring periods apart from
    one-off items: what ``forecast`` lists, with the same amounts, at a cost that
    grows with the number of distinct schedules rather than of periods.

    Plans billed in the company's currency, not prorated and with nothing billed
    after their next period (all but a few) are grouped by schedule: their
    periods are made once per schedule, for the sum of their amounts (every
    period is a full one: amount × 1). The others go period by period.
    Columns: company_id, date, is_recurring, amount_company, charge_count.
    """
    company_ids = tuple(companies.ids) or (0,)
    base = SQL(
        "item.state = %s AND item.next_invoice_date <= %s AND item.company_id IN %s",
        const.STATE_PENDING,
        date_to,
        company_ids,
    )
    simple = SQL(
        """(NOT COALESCE(item.is_prorated, FALSE)
            AND item.currency_id = (SELECT c.currency_id FROM res_company c WHERE c.id = item.company_id)
            AND NOT %s)""",
        _has_hole(),
    )
    return SQL(
        """WITH totals_plan AS MATERIALIZED (%(plans)s)
           SELECT charge.company_id, charge.date, charge.is_recurring,
                  SUM(ROUND((charge.amount * rates.rate)::numeric, company_currency.decimal_places))::float8
                      AS amount_company,
                  SUM(charge.items)::int AS charge_count
             FROM (
                    SELECT company_id, currency_id, GREATEST(invoice_date, %(today)s::date) AS date,
                           TRUE AS is_recurring, amount, items
                      FROM (%(grouped)s) grouped
                 UNION ALL
                    SELECT one.company_id, one.currency_id, GREATEST(invoice_date, %(today)s::date), TRUE,
                           ROUND((one.amount * one.factor)::numeric, currency.decimal_places)::float8, 1
                      FROM (%(one_by_one)s) one
                      JOIN res_currency currency ON currency.id = one.currency_id
                 UNION ALL
                    SELECT item.company_id, item.currency_id,
                           CASE WHEN item.invoice_action = %(on_date)s
                                THEN GREATEST(item.date_due, %(today)s::date) ELSE %(today)s::date END,
                           FALSE, item.amount_untaxed, 1
                      FROM agency_billable_item item
                     WHERE item.state = %(pending)s
                       AND item.invoice_action IN %(one_off_actions)s
                       AND (item.invoice_action <> %(on_date)s OR item.date_due <= %(date_to)s)
                       AND item.company_id IN %(company_ids)s
             ) charge
             JOIN res_company company ON company.id = charge.company_id
             JOIN res_currency company_currency ON company_currency.id = company.currency_id
             LEFT JOIN %(rates)s ON rates.company_id = charge.company_id AND rates.currency_id = charge.currency_id
            GROUP BY charge.company_id, charge.date, charge.is_recurring""",
        plans=_plans(base, simple),
        grouped=_period_series(
            SQL(
                """SELECT MIN(item_id) AS item_id, company_id, currency_id, SUM(amount) AS amount,
                          SUM(items) AS items, s, e, n, unit, post_paid, times, prorate, next_date, anchor
                     FROM totals_plan WHERE simple
                    GROUP BY company_id, currency_id, s, e, n, unit, post_paid, times, prorate, next_date, anchor"""
            ),
            date_to,
            skip_billed=False,
        ),
        one_by_one=_period_series(SQL("SELECT * FROM totals_plan WHERE NOT simple"), date_to),
        today=today,
        date_to=date_to,
        on_date=const.ACTION_ON_DATE,
        pending=const.STATE_PENDING,
        one_off_actions=(const.ACTION_NEXT_RUN, const.ACTION_NEXT_INVOICE, const.ACTION_ON_DATE),
        company_ids=company_ids,
        rates=rates if rates is not None else rate_table(env, companies, today),
    )


def due_totals(env, companies, today, rates, totals):
    """What the next run on ``today`` would invoice, before tax, in all: the
    total of ``due_now`` and its number of clients, without listing the periods
    client by client (the recurring part from ``totals``, the name of a CTE of
    ``forecast_totals`` up to today or later).

    A client has something due when one of its plans has its next invoice date
    today or before (its first unbilled period is due), a one-off item is due,
    or it has time to bill with a rate; a charge that rides along with the next
    invoice counts only for a client with such a charge in its currency.
    Columns: amount_company, client_count.
    """
    company_ids = tuple(companies.ids) or (0,)
    return SQL(
        """WITH due_recurring AS (
                    SELECT amount_company FROM %(totals)s WHERE is_recurring AND date <= %(today)s),
                due_time AS (SELECT * FROM (%(time)s) t WHERE t.has_rate),
                due_one_off AS (
                    SELECT item.partner_id, item.company_id, item.currency_id,
                           ROUND((item.amount_untaxed * rates.rate)::numeric, company_currency.decimal_places)::float8
                               AS amount_company,
                           item.invoice_action = %(next_invoice)s AS rides_along
                      FROM agency_billable_item item
                      JOIN res_company company ON company.id = item.company_id
                      JOIN res_currency company_currency ON company_currency.id = company.currency_id
                      LEFT JOIN %(rates)s ON rates.company_id = item.company_id AND rates.currency_id = item.currency_id
                     WHERE item.state = %(pending)s
                       AND item.invoice_action IN %(one_off_actions)s
                       AND (item.invoice_action <> %(on_date)s OR item.date_due <= %(today)s)
                       AND item.company_id IN %(company_ids)s),
                due_clients AS (
                    SELECT item.partner_id, item.company_id, item.currency_id
                      FROM agency_billable_item item
                     WHERE item.state = %(pending)s
                       AND item.invoice_action = %(recurring_action)s
                       AND item.date_start IS NOT NULL
                       AND item.next_invoice_date <= %(today)s
                       AND item.company_id IN %(company_ids)s
                 UNION
                    SELECT partner_id, company_id, currency_id FROM due_one_off WHERE NOT rides_along
                 UNION
                    SELECT t.partner_id, t.company_id, company.currency_id
                      FROM due_time t JOIN res_company company ON company.id = t.company_id)
           SELECT (SELECT COALESCE(SUM(amount_company), 0) FROM due_recurring)
                  + (SELECT COALESCE(SUM(amount_company), 0) FROM due_one_off one
                      WHERE NOT one.rides_along
                         OR (one.partner_id, one.company_id, one.currency_id) IN (
                              SELECT c.partner_id, c.company_id, c.currency_id FROM due_clients c))
                  + (SELECT COALESCE(SUM(amount), 0) FROM due_time) AS amount_company,
                  (SELECT COUNT(DISTINCT partner_id) FROM due_clients) AS client_count""",
        totals=SQL.identifier(totals),
        time=time_to_bill(companies, today),
        rates=rates,
        next_invoice=const.ACTION_NEXT_INVOICE,
        pending=const.STATE_PENDING,
        one_off_actions=(const.ACTION_NEXT_RUN, const.ACTION_NEXT_INVOICE, const.ACTION_ON_DATE),
        on_date=const.ACTION_ON_DATE,
        recurring_action=const.ACTION_RECURRING,
        today=today,
        company_ids=company_ids,
    )


def time_to_bill(companies, today):
    """Unbilled time the next run bills (Unbilled Time): per timesheet entry, its
    client (the commercial partner), company, hours and amount; ``has_rate`` is
    false for time no rate applies to (the run leaves it unbilled)."""
    return SQL(
        """SELECT partner.commercial_partner_id AS partner_id, line.company_id,
                  COALESCE(line.agency_quantity, 0.0) AS hours,
                  COALESCE(line.agency_amount_expected, 0.0) AS amount,
                  line.agency_rate_level IS NOT NULL AS has_rate
             FROM account_analytic_line line
             JOIN res_partner partner ON partner.id = line.partner_id
            WHERE line.agency_billing_state = 'to_bill'
              AND line.project_id IS NOT NULL
              AND line.date <= %s
              AND line.company_id IN %s""",
        today,
        tuple(companies.ids) or (0,),
    )


def _due_charges(forecast_table, time_table, today):
    """What the next run on ``today`` would invoice, before tax, per client, company
    and currency, from a forecast and the time to bill (CTE names): every period
    due (missed ones included), one-off items due, the charges that ride along
    when the client has another charge in their currency, and time with a rate.
    Columns: partner_id, company_id, currency_id, amount, amount_company."""
    return SQL(
        """WITH charges AS (
                SELECT f.partner_id, f.company_id, f.currency_id, f.amount, f.amount_company, f.rides_along
                  FROM %(forecast)s f
                 WHERE f.date <= %(today)s
             UNION ALL
                SELECT t.partner_id, t.company_id, company.currency_id, t.amount, t.amount, FALSE
                  FROM %(time)s t
                  JOIN res_company company ON company.id = t.company_id
                 WHERE t.has_rate
           )
           SELECT c.partner_id, c.company_id, c.currency_id,
                  SUM(c.amount) AS amount, SUM(c.amount_company) AS amount_company
             FROM charges c
            WHERE NOT c.rides_along
               -- a hashed set, not a scan of the charges per charge that rides along
               OR (c.partner_id, c.company_id, c.currency_id) IN (
                    SELECT other.partner_id, other.company_id, other.currency_id
                      FROM charges other WHERE NOT other.rides_along)
            GROUP BY c.partner_id, c.company_id, c.currency_id""",
        forecast=SQL.identifier(forecast_table),
        time=SQL.identifier(time_table),
        today=today,
    )


def due_now(env, companies, today):
    """``_due_charges`` of the companies on ``today`` (see there)."""
    return SQL(
        "WITH due_forecast AS (%s), due_time AS (%s) SELECT * FROM (%s) due",
        forecast(env, companies, today, today),
        time_to_bill(companies, today),
        _due_charges("due_forecast", "due_time", today),
    )


def pending_items(companies, rates):
    """One-off items waiting for their invoice (status "To invoice"), with their
    amount in the company's currency. Columns: item_id, partner_id, company_id,
    amount_company."""
    return SQL(
        """SELECT item.id AS item_id, item.partner_id, item.company_id,
                  ROUND((item.amount_untaxed * rates.rate)::numeric, company_currency.decimal_places)::float8
                      AS amount_company
             FROM agency_billable_item item
             JOIN res_company company ON company.id = item.company_id
             JOIN res_currency company_currency ON company_currency.id = company.currency_id
             LEFT JOIN %(rates)s ON rates.company_id = item.company_id AND rates.currency_id = item.currency_id
            WHERE item.state = %(pending)s
              AND item.invoice_action IN %(actions)s
              AND item.company_id IN %(company_ids)s""",
        rates=rates,
        pending=const.STATE_PENDING,
        actions=(const.ACTION_NEXT_RUN, const.ACTION_NEXT_INVOICE, const.ACTION_ON_DATE),
        company_ids=tuple(companies.ids) or (0,),
    )


def client_summary(env, companies, today):
    """One row per client and company with the Overview's figures (see
    ``agency.billing.client.summary``): a client is listed when one is not zero."""
    rates = rate_table(env, companies, today)
    this_month = today.replace(day=1)
    return SQL(
        """WITH summary_forecast AS (%(forecast)s),
                summary_time AS (%(time)s),
                summary_due AS (%(due)s),
                parts AS (
                    SELECT partner_id, company_id, hours AS unbilled_hours, amount AS unbilled_time_amount,
                           0 AS pending_count, 0.0 AS pending_amount, 0.0 AS unbilled_amount,
                           0.0 AS upcoming_amount, 0.0 AS mrr, 0.0 AS open_amount, 0.0 AS overdue_amount,
                           NULL::date AS oldest_due, 0.0 AS credit_amount
                      FROM summary_time
                 UNION ALL
                    SELECT partner_id, company_id, 0.0, 0.0, 0, 0.0, amount_company, 0.0, 0.0, 0.0, 0.0, NULL, 0.0
                      FROM summary_due
                 UNION ALL
                    SELECT partner_id, company_id, 0.0, 0.0, 0, 0.0, 0.0, amount_company, 0.0, 0.0, 0.0, NULL, 0.0
                      FROM summary_forecast
                 UNION ALL
                    SELECT partner_id, company_id, 0.0, 0.0, 1, amount_company, 0.0, 0.0, 0.0, 0.0, 0.0, NULL, 0.0
                      FROM (%(pending)s) pending
                 UNION ALL
                    SELECT partner_id, company_id, 0.0, 0.0, 0, 0.0, 0.0, 0.0, mrr, 0.0, 0.0, NULL, 0.0
                      FROM (%(mrr)s) mrr
                 UNION ALL
                    SELECT partner_id, company_id, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0,
                           GREATEST(residual, 0.0),
                           CASE WHEN residual > 0 AND date_due < %(today)s THEN residual ELSE 0.0 END,
                           CASE WHEN residual > 0 AND date_due < %(today)s THEN date_due END,
                           GREATEST(-residual, 0.0)
                      FROM (%(receivables)s) receivable
                )
           SELECT parts.partner_id::bigint * 65536 + parts.company_id AS id,
                  parts.partner_id, parts.company_id, company.currency_id,
                  SUM(unbilled_amount) AS unbilled_amount,
                  SUM(unbilled_hours) AS unbilled_hours,
                  SUM(unbilled_time_amount) AS unbilled_time_amount,
                  SUM(pending_count) AS pending_count,
                  SUM(pending_amount) AS pending_amount,
                  SUM(upcoming_amount) AS upcoming_amount,
                  SUM(mrr) AS mrr,
                  SUM(open_amount) AS open_amount,
                  SUM(overdue_amount) AS overdue_amount,
                  COALESCE(%(today)s::date - MIN(oldest_due), 0) AS overdue_days,
                  SUM(credit_amount) AS credit_amount,
                  SUM(open_amount) - SUM(credit_amount) AS balance
             FROM parts
             JOIN res_company company ON company.id = parts.company_id
            GROUP BY parts.partner_id, parts.company_id, company.currency_id""",
        forecast=forecast(env, companies, today, today + timedelta(days=UPCOMING_DAYS[0]), rates=rates),
        time=time_to_bill(companies, today),
        due=_due_charges("summary_forecast", "summary_time", today),
        pending=pending_items(companies, rates),
        mrr=mrr(env, companies, today, this_month, this_month, rates=rates),
        receivables=receivables(companies),
        today=today,
    )


def recurring_runs(companies, today):
    """Each recurring item's run and its monthly amount (in its currency).

    A pending plan runs from its start to its end date or the end of its last
    period (by count), else until stopped; a paused, stopped or finished one up
    to the end of the last period billed (never billed: it never ran).
    Columns: item_id, partner_id, company_id, product_id, project_id, currency_id,
    run_start, run_end (NULL: until stopped), monthly.
    """
    return SQL(
        """SELECT item.id AS item_id, item.partner_id, item.company_id, item.product_id, item.project_id,
                  item.currency_id, plan.s AS run_start,
                  CASE WHEN item.state = %(pending)s THEN
                           LEAST(plan.e,
                                 CASE WHEN plan.times > 0 THEN
                                     (CASE WHEN plan.anchor <> plan.s THEN plan.anchor + %(step_last_partial)s
                                           ELSE plan.s + %(step_last)s END)::date - 1
                                 END)
                       -- never billed: it never ran (ends the day before it starts)
                       ELSE COALESCE((SELECT MAX(billed.agency_period_end) FROM account_move_line billed
                                       WHERE billed.agency_item_id = item.id AND billed.parent_state <> 'cancel'),
                                     plan.s - 1)
                  END AS run_end,
                  item.amount_untaxed * CASE plan.unit WHEN 'daily' THEN %(daily)s WHEN 'weekly' THEN %(weekly)s
                                                       WHEN 'yearly' THEN %(yearly)s ELSE %(monthly)s END
                      / plan.n AS monthly
             FROM (%(plans)s) plan
             JOIN agency_billable_item item ON item.id = plan.item_id
            WHERE item.state IN %(states)s""",
        pending=const.STATE_PENDING,
        step_last_partial=_step(SQL("plan.times - 1")),
        step_last=_step(SQL("plan.times")),
        daily=MRR_FACTORS[schedule.DAILY],
        weekly=MRR_FACTORS[schedule.WEEKLY],
        yearly=MRR_FACTORS[schedule.YEARLY],
        monthly=MRR_FACTORS[schedule.MONTHLY],
        plans=_plans(SQL("item.company_id IN %s", tuple(companies.ids) or (0,))),
        states=(const.STATE_PENDING, const.STATE_PAUSED, const.STATE_STOPPED, const.STATE_DONE),
    )


def mrr(env, companies, today, month_from, month_to, *, rates=None):
    """Monthly recurring revenue per item and month, from ``month_from`` to
    ``month_to`` (first days of months): an item counts in a month when it runs on
    the month's last day (on today, for the current month), for its monthly
    amount in the company's currency at today's rate.
    Columns: id, date, item_id, partner_id, company_id, product_id, project_id,
    company_currency_id, mrr."""
    return SQL(
        """SELECT run.item_id::bigint * 10000 + (EXTRACT(YEAR FROM month.day)::int %% 100) * 100
                      + EXTRACT(MONTH FROM month.day)::int AS id,
                  month.day::date AS date,
                  run.item_id, run.partner_id, run.company_id, run.product_id, run.project_id,
                  company.currency_id AS company_currency_id,
                  ROUND((run.monthly * rates.rate)::numeric, company_currency.decimal_places)::float8 AS mrr
             FROM (%(runs)s) run
             JOIN res_company company ON company.id = run.company_id
             JOIN res_currency company_currency ON company_currency.id = company.currency_id
             LEFT JOIN %(rates)s ON rates.company_id = run.company_id AND rates.currency_id = run.currency_id
             CROSS JOIN LATERAL generate_series(
                    GREATEST(date_trunc('month', run.run_start), %(month_from)s::date),
                    LEAST(date_trunc('month', COALESCE(run.run_end, %(month_to)s::date)), %(month_to)s::date),
                    interval '1 month') AS month(day)
             CROSS JOIN LATERAL (
                    SELECT CASE WHEN month.day = date_trunc('month', %(today)s::date) THEN %(today)s::date
                                ELSE (month.day + interval '1 month' - interval '1 day')::date END AS ref
             ) ref
            WHERE run.run_start <= ref.ref AND (run.run_end IS NULL OR run.run_end >= ref.ref)""",
        runs=recurring_runs(companies, today),
        rates=rates if rates is not None else rate_table(env, companies, today),
        month_from=month_from,
        month_to=month_to,
        today=today,
    )


def receivables(companies):
    """Open receivable journal items of the companies, as Odoo's Aged Receivable and
    the statements read them: posted, not reconciled. Columns: partner_id (the
    client), company_id, move_id, date_due, residual (company currency; positive:
    owed by the client, negative: its credit)."""
    return SQL(
        """SELECT partner.commercial_partner_id AS partner_id, line.company_id, line.move_id,
                  COALESCE(line.date_maturity, line.date) AS date_due,
                  line.amount_residual AS residual
             FROM account_move_line line
             JOIN account_account account ON account.id = line.account_id
             JOIN res_partner partner ON partner.id = line.partner_id
            WHERE account.account_type = 'asset_receivable'
              AND line.parent_state = 'posted'
              AND line.reconciled IS NOT TRUE
              AND line.amount_residual <> 0
              AND line.company_id IN %s""",
        tuple(companies.ids) or (0,),
    )


def aging_bucket(days_late):
    """The SQL CASE putting an amount ``days_late`` past due into its aging bucket."""
    return SQL(
        """CASE WHEN %(d)s <= 0 THEN %(b0)s WHEN %(d)s <= 30 THEN %(b1)s WHEN %(d)s <= 60 THEN %(b2)s
                WHEN %(d)s <= 90 THEN %(b3)s ELSE %(b4)s END""",
        d=days_late,
        b0=documents.AGING_CURRENT,
        b1=documents.AGING_1_30,
        b2=documents.AGING_31_60,
        b3=documents.AGING_61_90,
        b4=documents.AGING_OVER_90,
    )


def collected(companies):
    """Money received from clients (and paid back to them) on their receivable
    account: one row per journal item of a payment or a bank transaction.
    Columns: line_id, move_id, partner_id, company_id, date, amount (received:
    positive, paid back: negative)."""
    return SQL(
        """SELECT line.id AS line_id, line.move_id, partner.commercial_partner_id AS partner_id,
                  line.company_id, line.date, -line.balance AS amount
             FROM account_move_line line
             JOIN account_move move ON move.id = line.move_id
             JOIN account_account account ON account.id = line.account_id
             JOIN res_partner partner ON partner.id = line.partner_id
            WHERE account.account_type = 'asset_receivable'
              AND line.parent_state = 'posted'
              AND %s
              AND line.company_id IN %s""",
        _PAYMENT_MOVE,
        tuple(companies.ids) or (0,),
    )


def _line_project():
    """The project an invoice line (alias ``line``) bills, as account.move.line
    ``_agency_project`` finds it: its item's, its timesheets', else its analytic
    account's."""
    return SQL(
        """COALESCE(
               (SELECT item.project_id FROM agency_billable_item item WHERE item.id = line.agency_item_id),
               (SELECT MIN(timesheet.project_id)
                  FROM agency_timesheet_billing billing
                  JOIN account_analytic_line timesheet ON timesheet.id = billing.analytic_line_id
                 WHERE billing.move_line_id = line.id),
               CASE WHEN line.analytic_distribution IS NOT NULL THEN
                   (SELECT MIN(project.id) FROM project_project project
                     WHERE project.account_id IS NOT NULL
                       AND EXISTS (SELECT 1 FROM jsonb_object_keys(line.analytic_distribution) AS dist(key)
                                    WHERE project.account_id::text = ANY(string_to_array(dist.key, ','))))
               END)"""
    )


def trends(companies):
    """Invoiced and collected, per client, project and day, in the company's currency.

    - Invoiced: each line of a posted customer invoice or credit note (credit
      notes negative), before tax, and its share of the document's total with tax.
    - Collected: a payment applied to an invoice counts for the invoice's
      projects, in proportion of its lines; what is not applied (yet), and money
      paid back, has no project. Dated when the money came.

    Columns: id, kind, date, partner_id, company_id, project_id, move_id,
    amount_untaxed, amount_invoiced, amount_collected, amount (invoiced or
    collected, by kind), company_currency_id.
    Ids: invoiced 4×line, unapplied 4×line+1, applied 4×(partial×2^20+project)+2
    (project ids below 2^20).
    """
    company_ids = tuple(companies.ids) or (0,)
    return SQL(
        """SELECT row.*, row.amount_invoiced + row.amount_collected AS amount,
                  company.currency_id AS company_currency_id
             FROM (
                    SELECT line.id::bigint * 4 AS id, 'invoiced' AS kind,
                           move.invoice_date AS date, move.commercial_partner_id AS partner_id,
                           line.company_id, %(project)s AS project_id, move.id AS move_id,
                           -line.balance AS amount_untaxed,
                           CASE WHEN move.amount_untaxed_signed = 0 THEN 0.0
                                ELSE move.amount_total_signed * (-line.balance) / move.amount_untaxed_signed
                           END AS amount_invoiced,
                           0.0 AS amount_collected
                      FROM account_move_line line
                      JOIN account_move move ON move.id = line.move_id
                     WHERE move.move_type IN %(documents)s
                       AND move.state = 'posted'
                       AND line.display_type IN %(untaxed_types)s
                       AND line.tax_repartition_line_id IS NULL
                       AND line.company_id IN %(company_ids)s
                 UNION ALL
                    SELECT paid.line_id::bigint * 4 + 1 AS id, 'collected' AS kind,
                           paid.date, paid.partner_id, paid.company_id, NULL AS project_id, paid.move_id,
                           0.0, 0.0,
                           paid.amount - COALESCE((
                               SELECT SUM(partial.amount)
                                 FROM account_partial_reconcile partial
                                 JOIN account_move_line invoice_line ON invoice_line.id = partial.debit_move_id
                                 JOIN account_move invoice ON invoice.id = invoice_line.move_id
                                WHERE partial.credit_move_id = paid.line_id
                                  AND invoice.move_type IN ('out_invoice', 'out_receipt')
                                  AND invoice.amount_untaxed_signed <> 0), 0.0) AS amount_collected
                      FROM (%(collected)s) paid
                 UNION ALL
                    SELECT (partial_id::bigint * 1048576 + COALESCE(project_id, 0)) * 4 + 2 AS id, 'collected',
                           date, partner_id, company_id, project_id, move_id, 0.0, 0.0, SUM(amount)
                      FROM (
                            SELECT partial.id AS partial_id, paid.date, invoice.commercial_partner_id AS partner_id,
                                   paid.company_id, %(project)s AS project_id, paid.move_id,
                                   partial.amount * line.balance / (-invoice.amount_untaxed_signed) AS amount
                              FROM (%(collected)s) paid
                              JOIN account_partial_reconcile partial ON partial.credit_move_id = paid.line_id
                              JOIN account_move_line invoice_line ON invoice_line.id = partial.debit_move_id
                              JOIN account_move invoice ON invoice.id = invoice_line.move_id
                              JOIN account_move_line line ON line.move_id = invoice.id
                             WHERE invoice.move_type IN ('out_invoice', 'out_receipt')
                               AND invoice.amount_untaxed_signed <> 0
                               AND line.display_type IN %(untaxed_types)s
                               AND line.tax_repartition_line_id IS NULL
                      ) applied
                     GROUP BY partial_id, date, partner_id, company_id, project_id, move_id
             ) row
             JOIN res_company company ON company.id = row.company_id""",
        project=_line_project(),
        untaxed_types=UNTAXED_LINE_TYPES,
        documents=CUSTOMER_DOCUMENTS,
        company_ids=company_ids,
        collected=collected(companies),
    )
