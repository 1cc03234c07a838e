"""The Billing Overview at 1,000 and 10,000 clients.

Data per client: a monthly plan (billed by a real billing run 40 days ago, so
each client has a posted invoice, a third of them paid and a third overdue), a
weekly plan started in the last two weeks and a yearly plan starting in the
next four months (the forecast holds every one of their periods for 12
months), a one-off item due in 20 days, and time to bill on the client's
project. Start dates are spread over 28, 14 and 120 days, as clients sign up
on different days: 162 distinct schedules.

Measured: what opening the Overview costs a billing manager, as the web client
asks for it: the figures (``agency.billing.overview.get_overview_data``), the
forecast graph (by month) and the invoiced-and-collected graph (by month and
kind); then the first page of the per-client list sorted by balance, reported
as a part of its own. Goal: the Overview under one second at 10,000 clients,
with the same number of queries at both sizes.
"""

import time
from datetime import timedelta

NAME = "overview"
UNIT = "client"
SIZES = (1000, 10000)
CHUNK = 500


def _today(env):
    from odoo import fields

    return fields.Date.context_today(env["res.partner"])


def prepare(env, size):
    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    today = _today(env)
    month_ago = today - timedelta(days=40)
    Product = env["product.product"]
    care = Product.create({"name": "Care plan", "type": "service", "list_price": 120.0})
    support = Product.create({"name": "Support", "type": "service", "list_price": 35.0})
    domain_name = Product.create({"name": "Domain name", "type": "service", "list_price": 15.0})
    setup = Product.create({"name": "Setup", "type": "service", "list_price": 400.0})
    hour = Product.create(
        {
            "name": "Development hour",
            "type": "service",
            "list_price": 90.0,
            "uom_id": env.ref("uom.product_uom_hour").id,
        }
    )
    company.agency_time_product_id = hour
    company.agency_time_bill_from = today - timedelta(days=60)
    company.agency_billing_automation = "post"
    employee = env["hr.employee"].create({"name": "Bench developer", "company_id": company.id})
    Item = env["agency.billable.item"]
    for start in range(0, size, CHUNK):
        clients = env["res.partner"].create(
            [
                {"name": f"Overview client {n:05d}", "is_company": True, "customer_rank": 1}
                for n in range(start, min(start + CHUNK, size))
            ]
        )
        Item.create(
            [
                {
                    "name": "Care plan",
                    "partner_id": client.id,
                    "product_id": care.id,
                    "price_unit": 120.0,
                    "invoice_action": "recurring",
                    # clients signed up on different days: as many schedules as start dates
                    "date_start": month_ago - timedelta(days=n % 28),
                }
                for n, client in enumerate(clients, start)
            ]
        )
        env.cr.commit()
    # the invoices: one real billing run a month ago, in committed batches
    run = env["agency.billing.run"]._run_now(company, month_ago)
    env.cr.commit()
    # more than one batch: billed by the billing workers' job (outside a cron it commits each batch)
    env["agency.billing.batch"]._work(run=run)
    env.cr.commit()
    run.invalidate_recordset()
    assert run.state not in ("queued", "running"), run.state
    invoices = env["account.move"].search([("move_type", "=", "out_invoice"), ("state", "=", "posted")])
    # a third paid, a third overdue (due ten days ago), a third not due yet
    for start in range(0, len(invoices), 3 * CHUNK):
        batch = invoices[start : start + 3 * CHUNK]
        paid, overdue = batch[0::3], batch[1::3]
        env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {"group_payment": False, "payment_date": today - timedelta(days=5)}
        )._create_payments()
        overdue.line_ids.filtered(lambda line: line.account_type == "asset_receivable").write(
            {"date_maturity": today - timedelta(days=10)}
        )
        env.cr.commit()
    clients = env["res.partner"].search([("name", "=like", "Overview client %")], order="id")
    for start in range(0, len(clients), CHUNK):
        batch = clients[start : start + CHUNK]
        Item.create(
            [
                values
                for n, client in enumerate(batch, start)
                for values in (
                    {
                        "name": "Support",
                        "partner_id": client.id,
                        "product_id": support.id,
                        "price_unit": 35.0,
                        "invoice_action": "recurring",
                        "recurring_rule_type": "weekly",
                        "date_start": today - timedelta(days=n % 14),
                    },
                    {
                        "name": "Domain name",
                        "partner_id": client.id,
                        "product_id": domain_name.id,
                        "price_unit": 15.0,
                        "invoice_action": "recurring",
                        "recurring_rule_type": "yearly",
                        "date_start": today + timedelta(days=n % 120),
                    },
                    {
                        "name": "Setup",
                        "partner_id": client.id,
                        "product_id": setup.id,
                        "price_unit": 400.0,
                        "invoice_action": "on_date",
                        "date_due": today + timedelta(days=20),
                    },
                )
            ]
        )
        projects = env["project.project"].create(
            [{"name": f"Website of {client.name}", "partner_id": client.id} for client in batch]
        )
        env["account.analytic.line"].create(
            [
                {
                    "name": "Maintenance",
                    "project_id": project.id,
                    "employee_id": employee.id,
                    "unit_amount": 1.5,
                    "date": today - timedelta(days=2),
                }
                for project in projects
            ]
        )
        env.cr.commit()
    return {
        "clients": size,
        "invoices": len(invoices),
        "items": Item.search_count([]),
        "timesheets": env["account.analytic.line"].search_count([("project_id", "!=", False)]),
    }


def _open_overview(env, today):
    """The calls the web client makes to show the Overview."""
    data = env["agency.billing.overview"].get_overview_data()
    company = [("company_id", "=", data["company_id"])]
    env["agency.billing.forecast.total"].formatted_read_group(company, ["date:month"], ["amount_company:sum"])
    env["agency.billing.trend"].formatted_read_group(
        [*company, ("date", ">=", today.replace(day=1) - timedelta(days=335))],
        ["date:month", "kind"],
        ["amount:sum"],
    )
    return data


def measure(env, size):
    from odoo import api

    company = env.ref("base.main_company")
    admin = env.ref("base.user_admin")
    env = api.Environment(env.cr, admin.id, dict(env.context, allowed_company_ids=[company.id]))
    today = _today(env)
    parts = {}
    queries = env.cr.sql_log_count
    started = time.perf_counter()
    data = _open_overview(env, today)
    parts["overview"] = time.perf_counter() - started
    overview_queries = env.cr.sql_log_count - queries
    env.invalidate_all()
    started = time.perf_counter()
    clients = env["agency.billing.client.summary"].web_search_read(
        [("company_id", "=", company.id)],
        {
            "partner_id": {"fields": {"display_name": {}}},
            "balance": {},
            "unbilled_amount": {},
            "overdue_amount": {},
        },
        limit=80,
        order="balance desc",
    )
    parts["client list"] = time.perf_counter() - started
    return {
        "units": size,
        "parts": parts,
        "check": f"Overview loaded in {parts['overview']:.3f} s with {overview_queries} queries, "
        f"client list page {parts['client list']:.3f} s; "
        f"open {data['open']['amount']:,.2f} in {data['open']['count']:,} documents, "
        f"overdue {data['overdue']['amount']:,.2f}, unbilled {data['unbilled']['amount']:,.2f}, "
        f"MRR {data['mrr']['amount']:,.2f}, next 90 days {data['upcoming'][1]['amount']:,.2f} "
        f"({data['upcoming'][1]['count']:,} charges), {clients['length']:,} clients listed",
        "ok": data["open"]["count"] > 0 and parts["overview"] < 1.0,
    }
