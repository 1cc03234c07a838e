"""A database running the previous release upgrades in place, with nothing lost.

`make test` builds a database with the previous release of the addon
(PREVIOUS_RELEASE in tools/common.sh, taken from this repository's history)
and data made with it (tests/upgrade/populate.py: items billed and not,
recurring periods, billed time, a time-only run, a cancelled invoice). The
test upgrades it with this version (`odoo-bin -u agency_billing`, as an
administrator would) and checks that every record and link is still there.
"""

import os
import subprocess
import sys
from datetime import date

import pytest

from odoo import SUPERUSER_ID, api, sql_db
from odoo.modules.registry import Registry

from .scratch import production_mode

FACTS = {
    "items": "SELECT id, partner_id, state, invoice_action, next_invoice_date FROM agency_billable_item ORDER BY id",
    "billed periods": """SELECT l.agency_item_id, l.agency_period_key, m.state, l.price_subtotal
                           FROM account_move_line l JOIN account_move m ON m.id = l.move_id
                          WHERE l.agency_item_id IS NOT NULL ORDER BY 1, 2, 3""",
    "billed time": """SELECT analytic_line_id, move_line_id, rate, quantity, is_released
                        FROM agency_timesheet_billing ORDER BY 1, 2""",
    "timesheet states": """SELECT id, agency_billing_state, agency_invoice_line_id FROM account_analytic_line
                            WHERE project_id IS NOT NULL ORDER BY id""",
    "runs": "SELECT id, name, trigger, state, date_started, date_finished FROM agency_billing_run ORDER BY id",
    "run logs": "SELECT run_id, partner_id, level, message FROM agency_billing_run_log ORDER BY id",
    "invoices": """SELECT id, name, state, amount_total, agency_billing_run_id FROM account_move
                    WHERE move_type = 'out_invoice' ORDER BY id""",
}


def _facts(dbname):
    with sql_db.db_connect(dbname).cursor() as cr:
        facts = {}
        for name, query in FACTS.items():
            cr.execute(query)
            facts[name] = cr.fetchall()
        cr.execute(
            "SELECT trigger, scope_source IS NOT DISTINCT FROM NULL FROM agency_billing_run ORDER BY id"
            if _has_column(cr, "scope_source")
            else "SELECT trigger, is_time_only FROM agency_billing_run ORDER BY id"
        )
        facts["scopes"] = cr.fetchall()
        cr.execute("SELECT latest_version FROM ir_module_module WHERE name = 'agency_billing'")
        facts["version"] = cr.fetchone()[0]
        return facts


def _has_column(cr, column):
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'agency_billing_run' AND column_name = %s",
        [column],
    )
    return bool(cr.fetchone())


def test_a_database_of_the_previous_release_upgrades_with_nothing_lost():
    dbname = os.environ.get("AGENCY_BILLING_UPGRADE_DB")
    if not dbname:
        pytest.fail("AGENCY_BILLING_UPGRADE_DB is not set: run the suite with `make test`.")
    before = _facts(dbname)
    assert before["version"] == "19.0.1.0.0"
    with sql_db.db_connect(dbname).cursor() as cr:
        cr.execute(
            "SELECT id, invoice_count, client_count, item_count, timesheet_count FROM agency_billing_run ORDER BY id"
        )
        counts_before = cr.fetchall()
    assert all(row[1] for row in counts_before), counts_before
    assert before["billed time"] and before["billed periods"] and len(before["runs"]) == 2
    sql_db.close_db(dbname)

    upgrade = subprocess.run(
        [
            sys.executable,
            os.path.join(os.environ["ODOO_DIR"], "odoo-bin"),
            "-c",
            os.environ["AGENCY_BILLING_ODOO_CONF"],
            "-d",
            dbname,
            "-u",
            "agency_billing",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in upgrade.stderr.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert upgrade.returncode == 0 and not errors, upgrade.stderr[-3000:]

    after = _facts(dbname)
    assert after["version"] == "19.0.2.0.0"
    for name in FACTS:
        assert after[name] == before[name], f"{name} changed in the upgrade"
    # the time-only run is now a run limited to the timesheets source
    assert [trigger for trigger, _scope in before["scopes"]] == ["manual", "time"]
    assert [flag for _trigger, flag in before["scopes"]] == [False, True]
    with sql_db.db_connect(dbname).cursor() as cr:
        assert not _has_column(cr, "is_time_only")
        cr.execute("SELECT trigger, scope_source FROM agency_billing_run ORDER BY id")
        assert cr.fetchall() == [("manual", None), ("time", "account.analytic.line")]

    # and the upgraded database bills on: what was billed stays billed, once
    with production_mode():
        registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # what each run billed is still what it says
        runs = env["agency.billing.run"].search([], order="id")
        assert [
            (run.id, run.invoice_count, run.client_count, run.item_count, run.timesheet_count) for run in runs
        ] == counts_before
        company = env["res.company"].search([("name", "=", "Upgrade Agency")])
        env = env(context={"allowed_company_ids": company.ids})
        run = env["agency.billing.run"]._run_now(company, date(2026, 2, 12))
        billed = run.invoice_ids.invoice_line_ids
        # only Birch's periods, released by its cancelled invoice, are billed again
        assert billed.agency_item_id.mapped("name") == ["Birch hosting"]
        assert sorted(billed.mapped("agency_period_key")) == ["2026-01-01", "2026-02-01"]
        cr.rollback()
