"""Billing under real faults: real `odoo-bin` servers, `kill -9`, several servers, PostgreSQL restarted.

Each test starts Odoo servers of its own (tests/faults/serve.py: odoo-bin,
with a pause to be killed in) on the scratch database, with cron threads and
no HTTP, and drives them through the database as production would: the
daily billing job is triggered, the servers' cron threads (and the billing
workers) bill, and the test reads what they committed.
"""

import getpass
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager

import psycopg2
import pytest

from .scratch import batch_size, cursor_env, make_agency, production_mode, scratch_registry
from .servers import WAIT_SECONDS, servers


def trigger_billing(registry):
    """What the scheduler does at 04:00: the daily billing job is due now."""
    with cursor_env(registry) as env:
        env.ref("agency_billing.ir_cron_bill_due_items")._trigger()
        env.cr.commit()


def wait_for_run(registry, company_id, servers_, *, state="done", timeout=WAIT_SECONDS, run_id=None):
    """Wait for the company's daily run (or the run ``run_id``) to reach ``state``; returns its id."""
    deadline = time.monotonic() + timeout
    while True:
        with cursor_env(registry, company_id) as env:
            Run = env["agency.billing.run"]
            run = (
                Run.browse(run_id)
                if run_id
                else Run.search([("company_id", "=", company_id), ("trigger", "=", "cron")])
            )
            if run and run.state == state:
                return run.id
        assert time.monotonic() < deadline, "the run did not finish: " + " | ".join(s.log() for s in servers_)
        time.sleep(0.5)


def assert_billed_once(registry, company_id, partner_ids):
    with cursor_env(registry, company_id) as env:
        env.cr.execute(
            """SELECT l.agency_item_id, l.agency_period_key, count(*)
                 FROM account_move_line l JOIN account_move m ON m.id = l.move_id
                WHERE m.company_id = %s AND l.agency_item_id IS NOT NULL AND m.state != 'cancel'
                GROUP BY 1, 2""",
            [company_id],
        )
        periods = env.cr.fetchall()
        assert len(periods) == len(partner_ids), "every client's charge is on an invoice"
        assert {count for _item, _key, count in periods} == {1}, "and on one only"
        invoices = env["account.move"].search(
            [("company_id", "=", company_id), ("move_type", "=", "out_invoice")]
        )
        assert sorted(invoices.commercial_partner_id.ids) == sorted(partner_ids)
        assert set(invoices.mapped("state")) == {"posted"}, "no invoice left half-made"
        for invoice in invoices:
            assert invoice.line_ids and not invoice.currency_id.compare_amounts(
                sum(invoice.line_ids.mapped("debit")), sum(invoice.line_ids.mapped("credit"))
            )
        return invoices


@pytest.mark.parametrize("point", ["creating", "posting", "committed"])
def test_a_server_killed_mid_run_restarts_and_the_run_finishes_exactly_once(point):
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 4):
        company_id, partner_ids = make_agency(registry, clients=12, action="next_run", automation="send")
        with cursor_env(registry) as env:
            env["res.company"].browse(company_id).external_report_layout_id = env.ref(
                "web.external_layout_standard"
            )
            # Odoo emails only clients with an address
            for partner in env["res.partner"].browse(partner_ids):
                partner.email = f"billing-{partner.id}@client.example.com"
            env.cr.commit()
        # the server dies in its second batch (or right after committing it)
        with servers({"dbname": registry.db_name, "pause_at": f"{point}:2"}) as (first,):
            trigger_billing(registry)
            first.wait_paused()
            first.kill()
        with cursor_env(registry, company_id) as env:
            committed = env["account.move"].search_count([("company_id", "=", company_id)])
            assert committed == (8 if point == "committed" else 4), "only committed batches survive"
        # restarted, it finishes the run
        with servers({"dbname": registry.db_name}) as started:
            trigger_billing(registry)
            wait_for_run(registry, company_id, started)
            invoices = assert_billed_once(registry, company_id, partner_ids)
            # and Odoo's sending emails each invoice once
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                with cursor_env(registry, company_id) as env:
                    pending = env["account.move"].search_count(
                        [("id", "in", invoices.ids), ("sending_data", "!=", False)]
                    )
                if not pending:
                    break
                assert time.monotonic() < deadline, started[0].log()
                time.sleep(1)
        with cursor_env(registry, company_id) as env:
            env.cr.execute(
                """SELECT res_id, count(*) FROM mail_message
                    WHERE model = 'account.move' AND res_id = ANY(%s) AND message_type = 'comment'
                      AND id IN (SELECT message_id FROM message_attachment_rel)
                    GROUP BY res_id""",
                [invoices.ids],
            )
            sent = dict(env.cr.fetchall())
            assert sorted(sent) == sorted(invoices.ids), "every invoice was sent"
            assert set(sent.values()) == {1}, "and sent once"


def test_two_servers_with_two_cron_threads_each_share_a_run():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 4):
        company_id, partner_ids = make_agency(registry, clients=40, action="next_run", automation="post")
        with cursor_env(registry) as env:
            worker = env.ref("agency_billing.ir_cron_billing_worker")
            extra = worker.copy({"name": "Agency Billing: billing worker 2"}) | worker.copy(
                {"name": "Agency Billing: billing worker 3"}
            )
            env.cr.commit()
        try:
            with servers(
                {"dbname": registry.db_name, "cron_threads": 2},
                {"dbname": registry.db_name, "cron_threads": 2},
            ) as started:
                trigger_billing(registry)
                run_id = wait_for_run(registry, company_id, started)
                assert_billed_once(registry, company_id, partner_ids)
                with cursor_env(registry, company_id) as env:
                    run = env["agency.billing.run"].browse(run_id)
                    pids = {
                        int(worker.split(":")[1].split("/")[0]) for worker in run.batch_ids.mapped("worker")
                    }
                    assert pids == {server.pid for server in started}, "both servers billed batches"
                    assert run.worker_count >= 3, "several cron threads billed batches"
        finally:
            with cursor_env(registry) as env:
                env["ir.cron"].browse(extra.ids).unlink()
                env.cr.commit()


# ----------------------------------------------------------------------
# PostgreSQL restarted during a run: a cluster of the test's own
# ----------------------------------------------------------------------
@contextmanager
def private_cluster(source_db):
    """A PostgreSQL cluster of the test's own (restarting the shared one would cut every other
    connection), holding a copy of ``source_db``. Yields (host, port, dbname)."""
    bindir = max(
        (
            os.path.join("/usr/lib/postgresql", version, "bin")
            for version in os.listdir("/usr/lib/postgresql")
        ),
        key=lambda path: [int(part) for part in path.split("/")[-2].split(".")],
    )
    workdir = tempfile.mkdtemp(prefix="agency-pg-")
    datadir, port, owner = os.path.join(workdir, "data"), 55400 + os.getpid() % 500, "postgres"
    as_owner = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 else []
    os.chmod(workdir, 0o777)
    subprocess.run(
        [*as_owner, f"{bindir}/initdb", "-D", datadir, "-A", "trust"], check=True, capture_output=True
    )
    pg_ctl = [*as_owner, f"{bindir}/pg_ctl", "-D", datadir, "-w", "-l", os.path.join(workdir, "pg.log")]
    options = f"-o -k {workdir} -p {port} -c listen_addresses=''"
    subprocess.run([*pg_ctl, options, "start"], check=True, capture_output=True)
    user = os.environ.get("PGUSER") or getpass.getuser()
    try:
        subprocess.run(
            [
                *as_owner,
                f"{bindir}/psql",
                "-h",
                workdir,
                "-p",
                str(port),
                "-d",
                "postgres",
                "-c",
                f'CREATE ROLE "{user}" LOGIN CREATEDB',
            ],
            check=True,
            capture_output=True,
        )
        dump = subprocess.run(["pg_dump", "-Fc", source_db], check=True, capture_output=True).stdout
        subprocess.run(
            ["createdb", "-h", workdir, "-p", str(port), source_db], check=True, capture_output=True
        )
        subprocess.run(
            ["pg_restore", "-h", workdir, "-p", str(port), "-d", source_db, "--no-owner"],
            input=dump,
            check=True,
            capture_output=True,
        )
        yield (
            workdir,
            port,
            source_db,
            lambda: subprocess.run(
                [*pg_ctl, options, "restart", "-m", "fast"], check=True, capture_output=True
            ),
        )
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], check=False, capture_output=True)


def _query(host, port, dbname, query, args=()):
    with psycopg2.connect(host=host, port=port, dbname=dbname) as conn, conn.cursor() as cr:
        cr.execute(query, args)
        return cr.fetchall() if cr.description else None


def test_postgresql_restarted_during_a_run_fails_the_batch_and_the_run_resumes():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 4):
        company_id, _partner_ids = make_agency(registry, clients=12, action="next_run", automation="post")
        with cursor_env(registry) as env:
            cron_id = env.ref("agency_billing.ir_cron_bill_due_items").id
        # a 15-second pause in the second batch: the database goes away under it
        pause = {"pause_at": "creating:2", "pause_seconds": 15}
        with (
            private_cluster(registry.db_name) as (host, port, dbname, restart_postgresql),
            servers(
                {"dbname": dbname, **pause, "extra_args": (f"--db_host={host}", f"--db_port={port}")}
            ) as started,
        ):
            _query(
                host,
                port,
                dbname,
                "INSERT INTO ir_cron_trigger (cron_id, call_at) VALUES (%s, now() AT TIME ZONE 'UTC')",
                [cron_id],
            )
            _query(host, port, dbname, "NOTIFY cron_trigger")
            started[0].wait_paused()
            restart_postgresql()
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                rows = _query(
                    host,
                    port,
                    dbname,
                    "SELECT state FROM agency_billing_run WHERE company_id = %s AND trigger = 'cron'",
                    [company_id],
                )
                if rows and rows[0][0] == "done":
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("the run did not resume: " + started[0].log())
                # the scheduler calls the job again (its trigger was lost with the batch)
                _query(
                    host,
                    port,
                    dbname,
                    "INSERT INTO ir_cron_trigger (cron_id, call_at) VALUES (%s, now() AT TIME ZONE 'UTC')",
                    [cron_id],
                )
                _query(host, port, dbname, "NOTIFY cron_trigger")
                time.sleep(2)
            periods = _query(
                host,
                port,
                dbname,
                """SELECT l.agency_item_id, count(*) FROM account_move_line l JOIN account_move m ON m.id = l.move_id
                        WHERE m.company_id = %s AND l.agency_item_id IS NOT NULL AND m.state != 'cancel' GROUP BY 1""",
                [company_id],
            )
            assert len(periods) == 12 and {count for _item, count in periods} == {1}
            claims = _query(
                host,
                port,
                dbname,
                """SELECT count(*) FROM agency_billing_batch_claim c JOIN agency_billing_batch b ON b.id = c.batch_id
                        JOIN agency_billing_run r ON r.id = b.run_id WHERE r.company_id = %s""",
                [company_id],
            )
            assert claims[0][0] > 3, "the interrupted batch was claimed again"
