"""19.0.2.0.0: a run's "Time Only" flag becomes the charge source it is limited to."""


def migrate(cr, version):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'agency_billing_run' AND column_name = 'is_time_only'"""
    )
    if not cr.fetchone():
        return
    cr.execute("UPDATE agency_billing_run SET scope_source = 'account.analytic.line' WHERE is_time_only")
    cr.execute(
        """UPDATE agency_billing_run SET scope_source = 'agency.billable.item'
            WHERE scope_source IS NULL AND trigger = 'items'"""
    )
    cr.execute("ALTER TABLE agency_billing_run DROP COLUMN is_time_only")
