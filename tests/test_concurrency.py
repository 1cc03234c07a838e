"""Concurrent runs, background runs and crashes, on real transactions (see scratch.py)."""

import threading
from datetime import date
from unittest import mock

import pytest

from odoo.service.model import retrying
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


@freeze_time("2027-03-10")
def test_a_run_that_read_stale_data_is_stopped_by_the_database():
    """B reads before A commits, bills after: the unique index refuses the copy."""
    registry = scratch_registry()
    with production_mode():
        company_id, _partner_ids = make_agency(registry, clients=1, automation="draft")
        with cursor_env(registry, company_id) as env_a, cursor_env(registry, company_id) as env_b:
            # B's snapshot starts now, before A bills anything
            items_b = env_b["agency.billable.item"].search([("company_id", "=", company_id)])
            assert items_b.mapped("state") == ["pending"]

            company_a = env_a["res.company"].browse(company_id)
            run_a = env_a["agency.billing.run"]._run_now(company_a, RUN_DATE)
            assert run_a.invoice_count == 1
            env_a.cr.commit()

            company_b = env_b["res.company"].browse(company_id)
            run_b = env_b["agency.billing.run"]._run_now(company_b, RUN_DATE)
            assert run_b.invoice_count == 0
            assert run_b.error_count == 0
            assert "Already invoiced" in run_b.log_ids.message
            env_b.cr.commit()

        with cursor_env(registry, company_id) as env:
            assert set(invoice_lines_per_period(env, company_id).values()) == {1}


# ----------------------------------------------------------------------
# Two runs started together
# ----------------------------------------------------------------------
def _cron(env, company_id):
    env["agency.billing.run"]._cron_bill_due_items()


def _manual(env, company_id):
    """ "Run Billing Now": one batch in the request (retried as Odoo retries requests), more in the background."""
    company = env["res.company"].browse(company_id)
    run = retrying(lambda: env["agency.billing.run"]._run_now(company, RUN_DATE), env)
    env.cr.commit()
    if run.state == "queued":
        # a billing worker carries it out
        env["agency.billing.batch"]._work(run=run)
    env.cr.commit()


STARTERS = {"cron": _cron, "manual": _manual}


@pytest.mark.parametrize("size", [5, 100])
@pytest.mark.parametrize(
    ("first", "second"),
    [("cron", "cron"), ("cron", "manual"), ("manual", "manual")],
    ids=["cron+cron", "cron+manual", "manual+manual"],
)
@freeze_time("2027-03-10")
def test_two_runs_started_together_bill_every_client_once(first, second, size):
    registry = scratch_registry()
    with production_mode(), batch_size(registry, size):
        # 50 clients, one "invoice on the next run" item each, posted: the two
        # runs fight for the clients and for the journal's sequence
        company_id, partner_ids = make_agency(registry, clients=50, action="next_run", automation="post")
        start = threading.Barrier(2)
        errors = []

        def worker(starter):
            try:
                with cursor_env(registry, company_id) as env:
                    start.wait()
                    STARTERS[starter](env, company_id)
            except Exception as error:  # reported below
                errors.append(error)
                raise

        threads = [threading.Thread(target=worker, args=(starter,)) for starter in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert not errors, errors

        with cursor_env(registry, company_id) as env:
            invoices = env["account.move"].search(
                [
                    ("company_id", "=", company_id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "!=", "cancel"),
                ]
            )
            assert len(invoices) == 50
            assert sorted(invoices.commercial_partner_id.ids) == sorted(partner_ids)
            assert set(invoices.mapped("state")) == {"posted"}
            assert set(invoices.mapped("invoice_date")) == {RUN_DATE}
            items = env["agency.billable.item"].search([("company_id", "=", company_id)])
            assert set(items.mapped("state")) == {"done"}
            runs = env["agency.billing.run"].search([("company_id", "=", company_id)])
            assert set(runs.mapped("state")) == {"done"}
            assert not runs.log_ids.filtered(lambda log: log.level == "error")
            assert sum(runs.mapped("invoice_count")) == 50


# ----------------------------------------------------------------------
# Background runs
# ----------------------------------------------------------------------
@freeze_time("2027-03-10")
def test_a_manual_run_of_several_batches_goes_to_the_billing_job():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 5):
        company_id, _partner_ids = make_agency(registry, clients=12, action="next_run")
        with cursor_env(registry, company_id) as env:
            cron = env.ref("agency_billing.ir_cron_bill_due_items")
            triggers_before = env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            run = env["agency.billing.run"]._run_now(env["res.company"].browse(company_id), RUN_DATE)
            # nothing billed in the request: the run waits for the billing job, which is called at once
            assert run.state == "queued"
            assert run.invoice_count == 0
            assert run.partner_total_count == 12
            assert env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]) == triggers_before + 1
            run_id = run.id
            env.cr.commit()

        batches = []
        original = AgencyBillingRun._bill_partners

        def counting(self, partners, batch_record=None):
            # what another user sees of the run between two batches (the daily job also bills
            # what other tests' companies have due: only this run's batches are looked at)
            if self.id != run_id:
                return original(self, partners, batch_record=batch_record)
            with cursor_env(registry, company_id) as other:
                seen = other["agency.billing.run"].browse(run_id)
                batches.append((seen.state, seen.partner_done_count, seen.invoice_count))
            return original(self, partners, batch_record=batch_record)

        with mock.patch.object(AgencyBillingRun, "_bill_partners", counting), cursor_env(registry) as env:
            env.ref("agency_billing.ir_cron_bill_due_items").method_direct_trigger()

        # committed batch by batch: the progress grew as the run went
        assert batches == [("queued", 0, 0), ("running", 5, 5), ("running", 10, 10)]
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"].browse(run_id)
            assert run.state == "done"
            assert run.invoice_count == 12
            assert (run.partner_done_count, run.partner_total_count, run.progress) == (12, 12, 100.0)


@freeze_time("2027-03-10")
def test_a_background_run_can_be_stopped_between_batches():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 5):
        company_id, _partner_ids = make_agency(registry, clients=12, action="next_run")
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"]._run_now(env["res.company"].browse(company_id), RUN_DATE)
            run_id = run.id
            env.cr.commit()
        original = AgencyBillingRun._bill_partners
        calls = []

        def stop_during_second_batch(self, partners, batch_record=None):
            calls.append(partners)
            if len(calls) == 2:
                # the user clicks "Stop" while the second batch is being billed
                with cursor_env(registry, company_id) as other:
                    other["agency.billing.run"].browse(run_id).action_stop()
                    other.cr.commit()
            return original(self, partners, batch_record=batch_record)

        with (
            mock.patch.object(AgencyBillingRun, "_bill_partners", stop_during_second_batch),
            cursor_env(registry) as env,
        ):
            env["agency.billing.batch"]._work(run=env["agency.billing.run"].browse(run_id))
        with cursor_env(registry, company_id) as env:
            run = env["agency.billing.run"].browse(run_id)
            assert run.state == "stopped"
            # the batch being billed when Stop was clicked ends; no batch starts after it
            assert run.invoice_count == 10
            assert run.batch_ids.mapped("state") == ["done", "done", "cancel"]
            items = env["agency.billable.item"].search([("company_id", "=", company_id)])
            assert sorted(items.mapped("state")).count("done") == 10
            # the daily run bills the rest, once
            env["agency.billing.run"]._cron_bill_due_items()
            assert set(invoice_lines_per_period(env, company_id).values()) == {1}
            assert len(invoice_lines_per_period(env, company_id)) == 12


@freeze_time("2027-03-10")
def test_a_run_killed_mid_way_loses_one_batch_and_the_next_run_finishes():
    registry = scratch_registry()
    with production_mode(), batch_size(registry, 2):
        company_id, _partner_ids = make_agency(registry, clients=6)
        original = AgencyBillingRun._create_and_process
        calls = []

        def dies_on_third_batch(self, batch, plans):
            calls.append(len(plans))
            if len(calls) == 3:
                # the worker dies mid-batch: nothing after the last commit is kept
                raise SystemExit("killed")
            return original(self, batch, plans)

        with mock.patch.object(AgencyBillingRun, "_create_and_process", dies_on_third_batch):
            try:
                with cursor_env(registry) as env:
                    env["agency.billing.run"]._cron_bill_due_items()
            except SystemExit:
                pass
        with cursor_env(registry, company_id) as env:
            billed = {
                p
                for (item, _key) in invoice_lines_per_period(env, company_id)
                for p in env["agency.billable.item"].browse(item).partner_id.ids
            }
            assert len(billed) == 4, "two committed batches of two clients survive"
            run = env["agency.billing.run"].search([("company_id", "=", company_id)])
            assert run.state == "running"

        # the next cron call resumes today's run and bills the rest, once
        with cursor_env(registry) as env:
            env["agency.billing.run"]._cron_bill_due_items()
        with cursor_env(registry, company_id) as env:
            counts = invoice_lines_per_period(env, company_id)
            assert len(counts) == 6 * 3
            assert set(counts.values()) == {1}
            run = env["agency.billing.run"].search([("company_id", "=", company_id)])
            assert len(run) == 1
            assert run.state == "done"
            assert run.client_count == 6
