"""The preview of "Run Billing Now" for a big run.

Data: N clients, each with 10 monthly items (10 service products with a 15%
tax) due today, as in the billing-run benchmark, and a ledger like an
agency's: last month's invoice for every tenth client, the database analysed
as autovacuum keeps it. (On an empty ledger, previews rolled back leave
PostgreSQL's statistics saying the invoice tables are empty until something
is committed, and Odoo's own posting queries then take seconds.) Measured: the preview the
wizard shows (``agency.billing.run._preview``): the first clients billed for
real and rolled back, the others totalled by Odoo's tax engine. Goal: under
10 seconds for 10,000 clients; the total it shows equals what a run bills
(the test suite checks that; here the total is reported).
"""

from dateutil.relativedelta import relativedelta

from odoo import fields

NAME = "preview"
UNIT = "client"
SIZES = (1000, 10000)
ITEMS = 10


def prepare(env, size):
    company = env.ref("base.main_company")
    tax = company.account_sale_tax_id
    products = env["product.product"].create(
        [
            {
                "name": f"Preview service {n}",
                "type": "service",
                "list_price": 10.0 * (n + 1),
                "taxes_id": [(6, 0, tax.ids)],
            }
            for n in range(ITEMS)
        ]
    )
    today = fields.Date.context_today(env["res.users"].browse(env.uid))
    for start in range(0, size, 500):
        partners = env["res.partner"].create(
            [
                {"name": f"Preview client {n:06d}", "is_company": True}
                for n in range(start, min(start + 500, size))
            ]
        )
        env["agency.billable.item"].create(
            [
                {
                    "partner_id": partner.id,
                    "product_id": product.id,
                    "name": product.name,
                    "price_unit": product.list_price,
                    "invoice_action": "recurring",
                    "date_start": today.replace(day=1),
                }
                for partner in partners
                for product in products
            ]
        )
        env.cr.commit()
    invoices = _history(
        env, env["res.partner"].search([("name", "=like", "Preview client %")], order="id")[::10]
    )
    env.cr.execute("ANALYZE")
    return {"clients": size, "items": size * ITEMS, "past invoices": invoices}


def _history(env, partners, batch=100):
    """Last month's invoices of ``partners`` (one-off items billed by a run then)."""
    company = env.ref("base.main_company")
    today = fields.Date.context_today(env["res.users"].browse(env.uid))
    last_month = today - relativedelta(months=1)
    env["agency.billable.item"].create(
        [
            {"partner_id": partner.id, "name": "Set-up", "price_unit": 50.0, "invoice_action": "next_run"}
            for partner in partners
        ]
    )
    run = env["agency.billing.run"].create(
        {"company_id": company.id, "date": last_month, "trigger": "manual"}
    )
    for start in range(0, len(partners), batch):
        run._bill_partners(partners[start : start + batch])
        env.cr.commit()
    run._finish()
    env.cr.commit()
    return len(run.invoice_ids)


def measure(env, size):
    company = env.ref("base.main_company")
    today = fields.Date.context_today(env["res.users"].browse(env.uid))
    lines = env["agency.billing.run"]._preview(company, today)
    billed = [line for line in lines if line["level"] == "billed"]
    estimated = [line for line in lines if line["level"] == "estimated"]
    total = sum(line["amount_total"] for line in lines)
    return {
        "units": len({line["partner_id"] for line in lines}),
        "check": f"{len(billed)} clients previewed in full, {len(estimated)} totalled, total {total:,.2f}",
    }
