"""Automatic charging on real transactions: two jobs at once, and a job killed mid-way."""

import uuid
from datetime import date
from unittest import mock

from odoo import Command
from odoo.tests import freeze_time

from odoo.addons.agency_billing.models.agency_payment_run import AgencyPaymentRun

from .scratch import cursor_env, production_mode, scratch_registry


def make_autopay_agency(registry, clients=3):
    """A company with the demo provider, clients on automatic payment, one posted invoice each; committed."""
    tag = uuid.uuid4().hex[:6]
    with cursor_env(registry) as env:
        company = env["res.company"].create(
            {"name": f"Charging {tag}", "currency_id": env.ref("base.USD").id}
        )
        env.user.company_ids = [Command.link(company.id)]
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        company_env = env(context={"allowed_company_ids": [company.id]})
        provider = company_env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)]
        )
        provider.write({"state": "test", "is_published": True})
        method = company_env.ref("payment_demo.payment_method_demo")
        partners = company_env["res.partner"].create(
            [{"name": f"Client {tag} {n}", "is_company": True, "customer_rank": 1} for n in range(clients)]
        )
        invoices = company_env["account.move"]
        for partner in partners:
            token = company_env["payment.token"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "partner_id": partner.id,
                    "payment_details": "4242",
                    "provider_ref": f"demo-{partner.id}",
                    "demo_simulated_state": "done",
                }
            )
            partner.write({"agency_autopay": True, "agency_autopay_token_id": token.id})
            invoices |= company_env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": date(2027, 3, 10),
                    "invoice_line_ids": [
                        Command.create({"name": "Hosting", "price_unit": 100.0, "tax_ids": []})
                    ],
                }
            )
        invoices.action_post()
        company_env.cr.commit()
        return company.id, invoices.ids


def charges_per_invoice(env, invoice_ids):
    """{invoice id: (successful attempts, confirmed transactions)}."""
    env.cr.execute(
        """SELECT m.id,
                  (SELECT count(*) FROM agency_payment_attempt a WHERE a.move_id = m.id AND a.state = 'done'),
                  (SELECT count(*) FROM account_invoice_transaction_rel r
                     JOIN payment_transaction t ON t.id = r.transaction_id
                    WHERE r.invoice_id = m.id AND t.state = 'done')
             FROM account_move m WHERE m.id IN %s""",
        [tuple(invoice_ids)],
    )
    return {row[0]: (row[1], row[2]) for row in env.cr.fetchall()}


@freeze_time("2027-03-10")
def test_two_charging_jobs_at_once_charge_each_invoice_once():
    """Another job holds an invoice (a "Charge Now" under way): the scheduled job leaves it alone."""
    registry = scratch_registry()
    with production_mode():
        company_id, invoice_ids = make_autopay_agency(registry, clients=3)
        with cursor_env(registry, company_id) as env_a, cursor_env(registry, company_id) as env_b:
            # A holds the first invoice (it would post its payment next; one
            # thread drives both here, so A stops at the lock)
            first = env_a["account.move"].browse(invoice_ids[0])
            assert first.try_lock_for_update(allow_referencing=True) == first

            env_b["agency.payment.run"]._cron_charge_due_invoices()  # commits as it goes
            run_b = env_b["agency.payment.run"].search(
                [("trigger", "=", "cron"), ("company_id", "=", company_id)]
            )
            assert set(run_b.attempt_ids.move_id.ids) == set(invoice_ids[1:])
            assert run_b.state == "done"
            env_a.cr.rollback()

        with cursor_env(registry, company_id) as env:
            counts = charges_per_invoice(env, invoice_ids)
            assert counts == {invoice_ids[0]: (0, 0), invoice_ids[1]: (1, 1), invoice_ids[2]: (1, 1)}
        # the first invoice is charged by the next run, once; a third run charges nothing
        for _run in range(2):
            with cursor_env(registry) as env:
                env["agency.payment.run"]._cron_charge_due_invoices()
        with cursor_env(registry, company_id) as env:
            assert charges_per_invoice(env, invoice_ids) == dict.fromkeys(invoice_ids, (1, 1))


@freeze_time("2027-03-10")
def test_a_job_killed_while_the_provider_answers_never_charges_twice():
    registry = scratch_registry()
    with production_mode():
        company_id, invoice_ids = make_autopay_agency(registry, clients=3)
        original = AgencyPaymentRun._charge_attempt
        calls = []

        def dies_on_second_charge(self, attempt):
            calls.append(attempt.move_id.id)
            if len(calls) == 2:
                # the provider charged the card, then the worker died before committing
                attempt.transaction_id._charge_with_token()
                raise SystemExit("killed")
            return original(self, attempt)

        with mock.patch.object(AgencyPaymentRun, "_charge_attempt", dies_on_second_charge):
            try:
                with cursor_env(registry) as env:
                    env["agency.payment.run"]._cron_charge_due_invoices()
            except SystemExit:
                pass
        with cursor_env(registry, company_id) as env:
            counts = charges_per_invoice(env, invoice_ids)
            assert counts[invoice_ids[0]] == (1, 1), "the first invoice was charged and committed"
            assert counts[invoice_ids[1]] == (0, 0), "the answer was lost with the worker"
            interrupted = env["agency.payment.attempt"].search([("move_id", "=", invoice_ids[1])])
            assert interrupted.state == "processing", "the attempt holds the invoice"

        # the next run charges the third invoice, and not the second one again
        with cursor_env(registry) as env:
            env["agency.payment.run"]._cron_charge_due_invoices()
        with cursor_env(registry, company_id) as env:
            counts = charges_per_invoice(env, invoice_ids)
            assert counts[invoice_ids[2]] == (1, 1)
            assert counts[invoice_ids[1]] == (0, 0)
            second = env["account.move"].browse(invoice_ids[1])
            assert second.payment_state == "not_paid"
            assert not second.agency_charge_date, "left for someone to check, not retried blindly"
            assert (
                "already charged, or being charged"
                in second.agency_payment_attempt_ids.sorted("id")[-1].message
            )

            # someone checks with the provider that nothing was charged, and releases it
            interrupted = second.agency_payment_attempt_ids.filtered(lambda a: a.state == "processing")
            interrupted.action_release()
            env.cr.commit()
        with cursor_env(registry) as env:
            env["agency.payment.run"]._cron_charge_due_invoices()
        with cursor_env(registry, company_id) as env:
            assert charges_per_invoice(env, invoice_ids) == dict.fromkeys(invoice_ids, (1, 1))
