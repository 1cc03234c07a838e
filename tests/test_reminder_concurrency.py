"""Reminders on real transactions: two workers at once, a worker killed mid-run (see scratch.py)."""

import uuid
from datetime import date
from unittest import mock

from odoo import Command
from odoo.tests import freeze_time

from odoo.addons.agency_billing.models.agency_reminder import AgencyReminder

from .scratch import cursor_env, production_mode, scratch_registry

RUN_DAY = "2027-03-08"


def make_collections_agency(registry, clients=3):
    """A company with a one-level reminder plan (7 days, fee 10.00) and one
    invoice due on 1 March 2027 per client; committed."""
    tag = uuid.uuid4().hex[:6]
    with cursor_env(registry) as root_env:
        company = root_env["res.company"].create(
            {"name": f"Collections {tag}", "currency_id": root_env.ref("base.USD").id}
        )
        root_env.user.company_ids = [Command.link(company.id)]
        root_env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        env = root_env(context={"allowed_company_ids": [company.id]})
        plan = env["agency.reminder.plan"].create(
            {
                "name": f"Plan {tag}",
                "company_id": company.id,
                "level_ids": [
                    Command.create(
                        {
                            "name": "First reminder",
                            "days": 7,
                            "mail_template_id": env.ref("agency_billing.mail_template_reminder_overdue").id,
                            "attach_invoices": False,
                            "fee_type": "fixed",
                            "fee_fixed": 10.0,
                            "fee_product_id": env.ref("agency_billing.product_late_fee").id,
                        }
                    )
                ],
            }
        )
        company.agency_reminder_plan_id = plan
        partners = env["res.partner"].create(
            [
                {"name": f"Client {tag} {n}", "is_company": True, "email": f"client{n}@{tag}.example.com"}
                for n in range(clients)
            ]
        )
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": date(2027, 3, 1),
                    "invoice_date_due": date(2027, 3, 1),
                    "invoice_line_ids": [
                        Command.create({"name": "Work", "quantity": 1, "price_unit": 100.0})
                    ],
                }
                for partner in partners
            ]
        )
        moves.action_post()
        env.cr.commit()
        return company.id, moves.ids


def reminder_counts(env, move_ids):
    """{invoice id: (reminder lines, late fees)} of some invoices."""
    env.cr.execute(
        """SELECT m.id,
                  (SELECT count(*) FROM agency_reminder_line l WHERE l.move_id = m.id),
                  (SELECT count(*) FROM agency_billable_item i WHERE i.overdue_move_id = m.id)
             FROM account_move m WHERE m.id = ANY(%s)""",
        [move_ids],
    )
    return {move_id: (lines, fees) for move_id, lines, fees in env.cr.fetchall()}


@freeze_time(RUN_DAY)
def test_a_worker_that_read_stale_data_is_stopped_by_the_database():
    """B plans before A sends and commits, then sends: the unique indexes refuse the copy."""
    registry = scratch_registry()
    with production_mode():
        company_id, move_ids = make_collections_agency(registry, clients=2)
        with cursor_env(registry, company_id) as env_a, cursor_env(registry, company_id) as env_b:
            run_b = env_b["agency.reminder.run"].create({"company_id": company_id, "trigger": "cron"})
            todo_b = run_b._plan()  # B's snapshot starts here
            assert sum(len(pairs) for pairs in todo_b.values()) == 2

            run_a = env_a["agency.reminder.run"].create({"company_id": company_id, "trigger": "cron"})
            run_a._send_batch(run_a._plan())
            assert run_a.reminder_count == 2
            env_a.cr.commit()

            run_b._send_batch(todo_b)
            assert run_b.reminder_count == 0
            assert run_b.error_count == 0
            assert set(run_b.log_ids.mapped("message")) == {
                "Already reminded: someone sent this level at the same time."
            }
            env_b.cr.commit()

        with cursor_env(registry, company_id) as env:
            assert set(reminder_counts(env, move_ids).values()) == {(1, 1)}, "one reminder and one fee each"


@freeze_time(RUN_DAY)
def test_a_run_killed_mid_way_loses_one_batch_and_the_next_run_finishes():
    registry = scratch_registry()
    with production_mode():
        company_id, move_ids = make_collections_agency(registry, clients=5)
        with cursor_env(registry) as env:
            env["ir.config_parameter"].set_param("agency_billing.batch_size", "2")
            env.cr.commit()
        original = AgencyReminder._send_emails
        calls = []

        def dies_on_third_batch(self, **kwargs):
            if self.company_id.id == company_id:
                calls.append(len(self))
                if len(calls) == 3:
                    # the worker dies mid-batch: nothing after the last commit is kept
                    raise SystemExit("killed")
            return original(self, **kwargs)

        try:
            with mock.patch.object(AgencyReminder, "_send_emails", dies_on_third_batch):
                try:
                    with cursor_env(registry) as env:
                        env["agency.reminder.run"]._cron_send_reminders()
                except SystemExit:
                    pass
            with cursor_env(registry, company_id) as env:
                counts = reminder_counts(env, move_ids)
                assert sorted(counts.values()) == [(0, 0)] + [(1, 1)] * 4, "two committed batches of two"
                run = env["agency.reminder.run"].search([("company_id", "=", company_id)])
                assert run.state == "running"
                assert run.client_done == 4

            # the next cron call resumes today's run and sends the rest, once
            with cursor_env(registry) as env:
                env["agency.reminder.run"]._cron_send_reminders()
            with cursor_env(registry, company_id) as env:
                assert set(reminder_counts(env, move_ids).values()) == {(1, 1)}
                run = env["agency.reminder.run"].search([("company_id", "=", company_id)])
                assert len(run) == 1
                assert run.state == "done"
                assert run.client_done == 5
                assert run.reminder_count == 5
        finally:
            with cursor_env(registry) as env:
                env["ir.config_parameter"].set_param("agency_billing.batch_size", "100")
                env.cr.commit()
