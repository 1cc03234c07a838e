"""Real transactions on a database of their own.

Concurrency and crash tests need what a TransactionCase forbids: several
cursors, commits, rollbacks. They run on the scratch database that
`make test` prepares, each on a company of its own.
"""

import os
import threading
import uuid
from contextlib import contextmanager
from datetime import date
from unittest import mock

import pytest

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry


def scratch_registry():
    dbname = os.environ.get("AGENCY_BILLING_SCRATCH_DB")
    if not dbname:
        pytest.fail("AGENCY_BILLING_SCRATCH_DB is not set: run the suite with `make test`.")
    with production_mode():
        return Registry(dbname)


@contextmanager
def production_mode():
    """Outside a test case: commits are real, as in a cron worker."""
    thread = threading.current_thread()
    testing = getattr(thread, "testing", False)
    thread.testing = False
    try:
        with mock.patch.dict(odoo.tools.config.options, {"test_enable": False}):
            yield
    finally:
        thread.testing = testing


@contextmanager
def cursor_env(registry, company_id=None):
    with registry.cursor() as cr:
        context = {"allowed_company_ids": [company_id]} if company_id else {}
        yield api.Environment(cr, SUPERUSER_ID, context)


@contextmanager
def batch_size(registry, size):
    """The billing run's batch size (a system parameter) for the time of a test."""
    with cursor_env(registry) as env:
        env["ir.config_parameter"].set_param("agency_billing.batch_size", str(size))
        env.cr.commit()
    try:
        yield
    finally:
        with cursor_env(registry) as env:
            env["ir.config_parameter"].set_param("agency_billing.batch_size", "100")
            env.cr.commit()


def make_agency(registry, clients=3, items_per_client=1, automation="post", action="recurring"):
    """A company with a chart of accounts, clients and due items; committed.

    ``action``: "recurring" (monthly from 1 January 2027: three periods due on
    10 March) or "next_run" (one charge each, on the next run).
    """
    tag = uuid.uuid4().hex[:6]
    with cursor_env(registry) as env:
        company = env["res.company"].create({"name": f"Agency {tag}", "currency_id": env.ref("base.USD").id})
        env.user.company_ids = [Command.link(company.id)]
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        company_env = env(context={"allowed_company_ids": [company.id]})
        company.agency_billing_automation = automation
        partners = company_env["res.partner"].create(
            [{"name": f"Client {tag} {n}", "is_company": True, "customer_rank": 1} for n in range(clients)]
        )
        product = env["product.product"].create(
            {"name": f"Hosting {tag}", "type": "service", "list_price": 10.0}
        )
        env["agency.billable.item"].create(
            [
                {
                    "name": f"Hosting {n}",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "product_id": product.id,
                    "price_unit": 10.0,
                    "invoice_action": action,
                    **({"date_start": date(2027, 1, 1)} if action == "recurring" else {}),
                }
                for partner in partners
                for n in range(items_per_client)
            ]
        )
        env.cr.commit()
        return company.id, partners.ids


def invoice_lines_per_period(env, company_id):
    """{(item, period key): number of invoices not cancelled holding it}."""
    env.cr.execute(
        """SELECT l.agency_item_id, l.agency_period_key, count(*)
             FROM account_move_line l JOIN account_move m ON m.id = l.move_id
            WHERE m.company_id = %s AND l.agency_item_id IS NOT NULL AND m.state != 'cancel'
            GROUP BY 1, 2""",
        [company_id],
    )
    return {(item, key): count for item, key, count in env.cr.fetchall()}
