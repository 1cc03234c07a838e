"""One billing run spread over several workers, on real transactions (see scratch.py).

Workers here are threads with a database connection each, as Odoo's cron
threads are (tests/test_faults.py runs real servers).
"""

import threading
from datetime import date
from unittest import mock

from odoo.tests import freeze_time

from odoo.addons.agency_billing.models.agency_billing_run import AgencyBillingRun

from .scratch import (
    batch_size,
    cursor_env,
    invoice_lines_per_period,
    make_agency,
    production_mode,
    scratch_registry,
)

RUN_DATE = date(2027, 3, 10)


def _in_threads(registry, *jobs):
    """Run each job(env) in a thread of its own, all started together; re-raise what failed."""
    start = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        try:
            with cursor_env(registry) as env:
                start.wait()
                job(env)
                env.cr.commit()
        except Exception as error:  # reported below
            errors.append(error)
            raise

    threads = [threading.Thread(target=worker, args=(job,), name=f"worker-{n}") for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors


@freeze_time("2027-03-10")
def test_the_daily_job_and_a_billing_worker_share_the_run():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 5):
        company_id, _partner_ids = make_agency(registry, clients=40, action="next_run")
        _in_threads(
            registry,
            lambda env: env["agency.billing.run"]._cron_bill_due_items(),
            lambda env: env["agency.billing.run"]._cron_work_on_batches(),
        )
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"].search([("company_id", "=", company_id)])
            assert run.state == "done"
            assert run.invoice_count == 40
            assert set(invoice_lines_per_period(env, company_id).values()) == {1}
            assert run.batch_ids.mapped("state") == ["done"] * 8
            # the worker started at the same time as the daily job: it found the
            # batches once they were planned, or right after, and took its share
            assert len(set(run.batch_ids.mapped("worker"))) >= 1
            assert run.partner_done_count == run.partner_total_count == 40


@freeze_time("2027-03-10")
def test_two_workers_bill_a_big_manual_run_together_once():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 5):
        company_id, partner_ids = make_agency(registry, clients=60, action="next_run")
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"]._run_now(env["res.company"].browse(company_id), RUN_DATE)
            assert run.state == "queued" and len(run.batch_ids) == 12
            run_id = run.id
            env.cr.commit()
        _in_threads(
            registry,
            lambda env: env["agency.billing.run"]._cron_work_on_batches(),
            lambda env: env["agency.billing.run"]._cron_work_on_batches(),
        )
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"].browse(run_id)
            assert run.state == "done"
            invoices = env["account.move"].search(
                [("company_id", "=", company_id), ("move_type", "=", "out_invoice")]
            )
            assert len(invoices) == 60 and sorted(invoices.commercial_partner_id.ids) == sorted(partner_ids)
            assert run.worker_count == 2, "both workers billed batches"
            assert set(run.batch_ids.mapped("state")) == {"done"}


@freeze_time("2027-03-10")
def test_a_batch_that_keeps_failing_is_given_up_and_the_others_are_billed():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 5):
        company_id, partner_ids = make_agency(registry, clients=15, action="next_run")
        doomed = set(partner_ids[5:10])
        original = AgencyBillingRun._bill_partners

        def dies_on_the_second_batch(self, partners, batch_record=None):
            if set(partners.ids) == doomed:
                # the worker dies in the middle of this batch, every time
                raise SystemExit("killed")
            return original(self, partners, batch_record=batch_record)

        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"]._run_now(env["res.company"].browse(company_id), RUN_DATE)
            run_id = run.id
            env.cr.commit()
        with mock.patch.object(AgencyBillingRun, "_bill_partners", dies_on_the_second_batch):
            for _attempt in range(10):  # the job is called again and again, as Odoo's cron would
                try:
                    with cursor_env(registry) as env:
                        env["agency.billing.run"]._cron_work_on_batches()
                        env.cr.commit()
                    break
                except SystemExit:
                    continue
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"].browse(run_id)
            assert run.state == "done", "the run ends"
            assert run.invoice_count == 10, "the other batches are billed"
            failed = run.batch_ids.filtered(lambda b: b.state == "failed")
            assert set(failed.partner_ids.ids) == doomed
            assert len(failed.claim_ids) == 6, "given up after five claims"
            errors = run.log_ids.filtered(lambda log: log.level == "error")
            assert set(errors.partner_id.ids) == doomed
            assert "failed 5 times" in errors[0].message
