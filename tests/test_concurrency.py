"""Concurrent runs and crashes, on real transactions (see scratch.py)."""

from datetime import date
from unittest import mock

from odoo.tests import freeze_time

from odoo.addons.agency_billing.models.agency_billing_run import AgencyBillingRun

from .scratch import cursor_env, invoice_lines_per_period, make_agency, production_mode, scratch_registry

RUN_DATE = date(2027, 3, 10)


@freeze_time("2027-03-10")
def test_two_runs_at_once_never_bill_twice():
    """A manual "bill now" holds a client while the cron runs: the cron skips it."""
    registry = scratch_registry()
    with production_mode():
        # drafts: posting would make B wait for A's journal sequence (in real
        # life B just waits for A to commit; here one thread drives both)
        company_id, partner_ids = make_agency(registry, clients=3, automation="draft")
        with cursor_env(registry, company_id) as env_a, cursor_env(registry, company_id) as env_b:
            company_a = env_a["res.company"].browse(company_id)
            first = env_a["res.partner"].browse(partner_ids[0])
            run_a = env_a["agency.billing.run"]._run_now(
                company_a, RUN_DATE, partners=first, trigger="client"
            )
            assert run_a.invoice_count == 1  # not committed yet: the client stays locked

            company_b = env_b["res.company"].browse(company_id)
            run_b = env_b["agency.billing.run"]._run_now(company_b, RUN_DATE)
            skipped = run_b.log_ids.filtered(lambda log: log.level == "skipped")
            assert skipped.partner_id.id == partner_ids[0]
            assert "Another billing run" in skipped.message
            assert run_b.invoice_count == 2
            env_b.cr.commit()
            env_a.cr.commit()

        with cursor_env(registry, company_id) as env:
            counts = invoice_lines_per_period(env, company_id)
            assert len(counts) == 3 * 3  # 3 clients × January, February, March
            assert set(counts.values()) == {1}
            # and a third run the same day bills nothing
            run_c = env["agency.billing.run"]._run_now(env["res.company"].browse(company_id), RUN_DATE)
            assert run_c.invoice_count == 0
            env.cr.rollback()


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


@freeze_time("2027-03-10")
def test_a_run_killed_mid_way_loses_one_batch_and_the_next_run_finishes():
    registry = scratch_registry()
    with production_mode():
        company_id, _partner_ids = make_agency(registry, clients=6)
        with cursor_env(registry) as env:
            env["ir.config_parameter"].set_param("agency_billing.batch_size", "2")
            env.cr.commit()
        original = AgencyBillingRun._create_and_process
        calls = []

        def dies_on_third_batch(self, plans, **kwargs):
            calls.append(len(plans))
            if len(calls) == 3:
                # the worker dies mid-batch: nothing after the last commit is kept
                raise SystemExit("killed")
            return original(self, plans, **kwargs)

        try:
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
        finally:
            with cursor_env(registry) as env:
                env["ir.config_parameter"].set_param("agency_billing.batch_size", "100")
                env.cr.commit()
