"""Two triggers accepting the same quote at the same time, on real transactions (see scratch.py)."""

import threading

from odoo import Command
from odoo.exceptions import UserError
from odoo.service.model import retrying

from .scratch import cursor_env, make_agency, production_mode, scratch_registry


def _make_quote(registry):
    """A sent quote (a deposit of 30 %, the rest on the next run, a monthly plan); committed."""
    company_id, (partner_id,) = make_agency(registry, clients=1, items_per_client=0, automation="post")
    with cursor_env(registry, company_id) as env:
        build = env["product.product"].create(
            {"name": "Build", "type": "service", "list_price": 1000.0, "invoice_policy": "order"}
        )
        plan = env["product.product"].create(
            {
                "name": "Care plan",
                "type": "service",
                "list_price": 50.0,
                "invoice_policy": "order",
                "agency_is_recurring": True,
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": partner_id,
                "company_id": company_id,
                "agency_acceptance_mode": "deposit",
                "agency_deposit_percent": 30.0,
                "agency_balance_trigger": "next_run",
                "order_line": [
                    Command.create({"product_id": build.id, "tax_ids": [Command.clear()]}),
                    Command.create({"product_id": plan.id, "tax_ids": [Command.clear()]}),
                ],
            }
        )
        order.action_quotation_sent()
        env.cr.commit()
        return company_id, order.id


def _run_together(registry, company_id, *starters):
    start = threading.Barrier(len(starters))
    outcomes = [None] * len(starters)

    def worker(index, starter):
        try:
            with cursor_env(registry, company_id) as env:
                starter(env, start)
                env.cr.commit()
            outcomes[index] = "done"
        except UserError as error:
            outcomes[index] = f"refused: {error}"
        except Exception as error:  # reported by the assertion below
            outcomes[index] = f"failed: {error!r}"

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def _assert_accepted_once(registry, company_id, order_id):
    with cursor_env(registry, company_id) as env:
        order = env["sale.order"].browse(order_id)
        assert order.state == "sale"
        assert len(order.agency_acceptance_ids) == 1
        assert sorted(order.agency_quote_charge_ids.mapped("kind")) == ["balance", "deposit"]
        assert len(order.agency_item_ids) == 1, "one care plan item"
        invoices = order.invoice_ids.filtered(lambda m: m.state != "cancel")
        assert len(invoices) == 1, "one deposit invoice"
        assert invoices.amount_total == 300.0


def test_a_salesperson_and_the_client_confirming_together_accept_once():
    registry = scratch_registry()
    with production_mode():
        company_id, order_id = _make_quote(registry)

        def salesperson(env, start):
            order = env["sale.order"].browse(order_id)
            order.read(["state"])
            start.wait()
            retrying(order.action_confirm, env)

        def client_signs(env, start):
            order = env["sale.order"].sudo().browse(order_id)
            order.read(["state"])
            start.wait()
            retrying(order.with_context(agency_acceptance_trigger="portal_signature")._validate_order, env)

        outcomes = _run_together(registry, company_id, salesperson, client_signs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["done", "refused"], outcomes
        _assert_accepted_once(registry, company_id, order_id)


def test_two_acceptances_that_both_saw_the_quote_open_are_stopped_by_the_database():
    """Both read the quote before either commits: the unique index lets one record it."""
    registry = scratch_registry()
    with production_mode():
        company_id, order_id = _make_quote(registry)

        def accept(trigger):
            def starter(env, start):
                order = env["sale.order"].browse(order_id)
                order.read(["state", "agency_acceptance_ids"])  # the snapshot predates the other's commit
                start.wait()
                order._agency_accept(trigger)

            return starter

        outcomes = _run_together(registry, company_id, accept("portal_payment"), accept("salesperson"))
        assert outcomes == ["done", "done"], outcomes
        with cursor_env(registry, company_id) as env:
            env["sale.order"].browse(order_id).state = "sale"
            env.cr.commit()
        _assert_accepted_once(registry, company_id, order_id)
