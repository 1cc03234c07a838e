"""Client statements: N clients' statements made and queued for email by the background job.

Each client has two invoices from the billing run (last month's and this
month's) and a payment of the first: three lines and an open invoice on its
statement. The measure queues one statement
run for every client ("Send Statements") and runs the real scheduled action
until the run is done; "parts" splits the time into the data part (the
figures of each batch, from the journal items) and the PDF part (one
wkhtmltopdf run per client, the attachment and the queued email).
"""

import time
from datetime import timedelta

NAME = "statements"
UNIT = "statement"
SIZES = (100, 1000)


def _today(env):
    from odoo import fields

    return fields.Date.context_today(env["res.partner"])


def prepare(env, size):

    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    today = _today(env)
    month_ago = today - timedelta(days=35)
    product = env["product.product"].create({"name": "Care plan", "type": "service", "list_price": 120.0})
    clients = env["res.partner"].create(
        [
            {
                "name": f"Statement client {n:05d}",
                "is_company": True,
                "customer_rank": 1,
                "email": f"accounts{n}@client.example.com",
            }
            for n in range(size)
        ]
    )
    company.agency_billing_automation = "post"
    env["agency.billable.item"].create(
        [
            {
                "name": "Care plan",
                "partner_id": client.id,
                "company_id": company.id,
                "product_id": product.id,
                "price_unit": 120.0,
                "invoice_action": "recurring",
                "date_start": month_ago,
                "recurring_rule_type": "monthly",
            }
            for client in clients
        ]
    )
    Run = env["agency.billing.run"]
    first = Run._run_now(company, month_ago)
    env.cr.commit()
    Run._run_now(company, today)
    env.cr.commit()
    # each client pays its first invoice (one payment per invoice)
    invoices = first.invoice_ids
    assert len(invoices) == size, first.log_ids.mapped("message")
    for start in range(0, len(invoices), 200):
        batch = invoices[start : start + 200]
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=batch.ids
        ).create({"group_payment": False, "payment_date": month_ago + timedelta(days=10)})._create_payments()
        env.cr.commit()
    env["ir.config_parameter"].set_param("agency_billing.statement_batch_size", "50")
    env.cr.commit()
    return {
        "clients": size,
        "invoices": env["account.move"].search_count([("move_type", "=", "out_invoice")]),
    }


def measure(env, size):
    from odoo.addons.agency_billing.models.agency_statement_run import AgencyStatementRun

    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    today = _today(env)
    clients = env["res.partner"].search([("name", "=like", "Statement client %")])
    mails_before = env["mail.mail"].search_count([])
    timings = {}
    original = AgencyStatementRun._process

    def timed_process(run, partners, timings_arg=None):
        return original(run, partners, timings=timings)

    AgencyStatementRun._process = timed_process
    try:
        run = env["agency.statement.run"]._queue(
            clients, company, today.replace(day=1) - timedelta(days=31), today
        )
        env.cr.commit()
        started = time.perf_counter()
        while run.state != "done":
            env["agency.statement.run"]._cron_send_statements()
            env.cr.commit()
            run.invalidate_recordset()
            if time.perf_counter() - started > 6 * 3600:
                raise RuntimeError("the statement run did not finish")
    finally:
        AgencyStatementRun._process = original
    queued = env["mail.mail"].search_count([]) - mails_before
    return {
        "units": run.sent_count,
        "parts": timings,
        "check": f"{run.sent_count:,} statements sent, {queued:,} emails queued, "
        f"{run.error_count} errors, {run.no_email_count} without email",
        "ok": run.sent_count == size and queued >= size and not run.error_count,
    }
