"""Billing batches as OCA queue_job jobs (the glue addon agency_billing_queue_job), run by
queue_job's own job runner in a real `odoo-bin` server, on a database with both installed."""

import os
import socket

import pytest

from odoo.modules.registry import Registry

from .scratch import batch_size, cursor_env, make_agency, production_mode
from .servers import servers
from .test_faults import assert_billed_once, trigger_billing, wait_for_run

CHANNELS = "root:2,root.agency_billing:2"


def queue_registry():
    dbname = os.environ.get("AGENCY_BILLING_QUEUE_DB")
    if not dbname:
        pytest.fail("AGENCY_BILLING_QUEUE_DB is not set: run the suite with `make test`.")
    with production_mode():
        return Registry(dbname)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def job_server(registry):
    """A server as queue_job wants it: queue_job loaded server-wide (its job runner runs in
    the server and calls the server's HTTP port for each job), two jobs of billing at once."""
    return {
        "dbname": registry.db_name,
        "config": os.environ["AGENCY_BILLING_QUEUE_CONF"],
        "extra_args": (
            f"--http-port={free_port()}",
            "--http-interface=127.0.0.1",
            "--load=base,web,queue_job",
        ),
        "environ": {"ODOO_QUEUE_JOB_CHANNELS": CHANNELS, "ODOO_QUEUE_JOB_HOST": "127.0.0.1"},
    }


def assert_billed_by_jobs(registry, company_id, run_id):
    with cursor_env(registry, company_id) as env:
        run = env["agency.billing.run"].browse(run_id)
        batches = run.batch_ids
        assert len(batches) > 1 and set(batches.mapped("state")) == {"done"}
        jobs = env["queue.job"].search([("uuid", "in", batches.mapped("agency_job_uuid"))])
        assert len(jobs) == len(batches), "one job per batch"
        assert set(jobs.mapped("state")) == {"done"}
        assert set(jobs.mapped("channel")) == {"root.agency_billing"}
        # billed in the jobs (the server's HTTP threads), not by a cron thread
        assert not [worker for worker in batches.mapped("worker") if "cron" in worker]
        assert run.invoice_count == run.partner_total_count == run.partner_done_count
        # the run is closed by a job of its own, not one after every batch: a batch job whose
        # run still has a batch waiting for its job leaves the closing to that later job
        closing = (
            env["queue.job"]
            .search([("method_name", "=", "_agency_job_close")])
            .filtered(lambda job: job.records.ids == [run_id])
        )
        # (one that came again while a batch was being billed may still wait: it finds the run done)
        assert "done" in closing.mapped("state")
        assert len(closing) < len(batches)


def test_queue_job_workers_bill_the_daily_run_and_a_manual_run_once():
    registry = queue_registry()
    with production_mode(), batch_size(registry, 4):
        company_id, partner_ids = make_agency(registry, clients=14, action="next_run", automation="post")
        with servers(job_server(registry)) as started:
            # the daily job plans the run; its batches become jobs
            trigger_billing(registry)
            run_id = wait_for_run(registry, company_id, started)
            assert_billed_by_jobs(registry, company_id, run_id)
            assert_billed_once(registry, company_id, partner_ids)

            # "Run Billing Now" of several batches: queued, billed by jobs, not in the request
            other_id, other_partner_ids = make_agency(
                registry, clients=10, action="next_run", automation="post"
            )
            with cursor_env(registry, other_id) as env:
                company = env["res.company"].browse(other_id)
                run = env["agency.billing.run"]._run_now(company, env["agency.billing.run"]._today(company))
                assert run.state == "queued" and run.invoice_count == 0
                assert len(run.batch_ids) == 3 and all(run.batch_ids.mapped("agency_job_uuid"))
                manual_id = run.id
                env.cr.commit()
            wait_for_run(registry, other_id, started, run_id=manual_id)
            assert_billed_by_jobs(registry, other_id, manual_id)
            assert_billed_once(registry, other_id, other_partner_ids)
