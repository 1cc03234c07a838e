"""19.0.2.0.0.

- A run's "Time Only" flag becomes the charge source it is limited to.
- What a run billed is added up from its batches (which parallel workers
  write, never the run's own row): each earlier run gets one batch holding
  what its own columns counted.
"""

from odoo.tools import SQL

COUNTERS = ("invoice_count", "line_count", "item_count", "timesheet_count", "client_count")


def _columns(cr):
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'agency_billing_run'")
    return {row[0] for row in cr.fetchall()}


def migrate(cr, version):
    columns = _columns(cr)
    if "is_time_only" in columns:
        cr.execute("UPDATE agency_billing_run SET scope_source = 'account.analytic.line' WHERE is_time_only")
        cr.execute(
            """UPDATE agency_billing_run SET scope_source = 'agency.billable.item'
                WHERE scope_source IS NULL AND trigger = 'items'"""
        )
        cr.execute("ALTER TABLE agency_billing_run DROP COLUMN is_time_only")
    if set(COUNTERS) <= columns:
        cr.execute(
            """INSERT INTO agency_billing_batch
                      (run_id, company_id, sequence, state, is_retry, partner_count, invoice_count, line_count,
                       item_count, timesheet_count, client_count, date_done, create_uid, write_uid, create_date,
                       write_date)
               SELECT r.id, r.company_id, 1, 'done', FALSE,
                      COALESCE(r.client_count, 0) + COALESCE(r.skipped_count, 0) + COALESCE(r.error_count, 0),
                      COALESCE(r.invoice_count, 0), COALESCE(r.line_count, 0), COALESCE(r.item_count, 0),
                      COALESCE(r.timesheet_count, 0), COALESCE(r.client_count, 0), r.date_finished,
                      1, 1, r.create_date, r.write_date
                 FROM agency_billing_run r
                WHERE NOT EXISTS (SELECT 1 FROM agency_billing_batch b WHERE b.run_id = r.id)"""
        )
        for column in (
            *COUNTERS,
            "skipped_count",
            "error_count",
            "partner_done_count",
            "partner_total_count",
        ):
            cr.execute(SQL("ALTER TABLE agency_billing_run DROP COLUMN IF EXISTS %s", SQL.identifier(column)))
