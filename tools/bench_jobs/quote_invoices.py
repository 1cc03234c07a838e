"""Accepted quotes' invoices billed by the daily billing run, one invoice per client.

N clients each accepted a quote (a deposit of 30 % of a build and a
consulting day, the rest on the next run): acceptance is recorded without
billing, then the measure runs the real scheduled action of the billing run,
which bills every deposit (Odoo's down payment lines, each invoice line
linked to its order line, made the ordinary way and posted).
"""

NAME = "quote_invoices"
UNIT = "quote invoice"
SIZES = (100, 1000)


def prepare(env, size):
    from odoo import Command

    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    company.agency_billing_automation = "post"
    build = env["product.product"].create(
        {"name": "Website build", "type": "service", "list_price": 4000.0, "invoice_policy": "order"}
    )
    day = env["product.product"].create(
        {"name": "Consulting day", "type": "service", "list_price": 900.0, "invoice_policy": "order"}
    )
    clients = env["res.partner"].create(
        [{"name": f"Accepting client {n:05d}", "is_company": True} for n in range(size)]
    )
    for start in range(0, size, 100):
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": client.id,
                    "agency_acceptance_mode": "deposit",
                    "agency_deposit_percent": 30.0,
                    "agency_balance_trigger": "next_run",
                    "order_line": [
                        Command.create({"product_id": build.id}),
                        Command.create({"product_id": day.id, "product_uom_qty": 2}),
                    ],
                }
                for client in clients[start : start + 100]
            ]
        )
        # accepted as a confirmation does it, without billing at once: the run bills
        for order in orders:
            order._agency_accept_one("salesperson")
        orders.write({"state": "sale"})
        env.cr.commit()
    return {"quotes": size}


def measure(env, size):
    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env.ref("agency_billing.ir_cron_bill_due_items").method_direct_trigger()
    env.cr.commit()
    charges = env["agency.quote.charge"].search([("kind", "=", "deposit")])
    invoiced = charges.filtered(lambda charge: charge.state == "done")
    invoices = invoiced.invoice_ids
    linked = all(line.sale_line_ids for line in invoices.invoice_line_ids)
    return {
        "units": len(invoices),
        "check": f"{len(invoiced):,} deposits invoiced in {len(invoices):,} posted invoices, "
        f"every line linked to its order line: {linked}",
        "ok": len(invoiced) == size
        and len(invoices) == size
        and linked
        and set(invoices.mapped("state")) == {"posted"},
    }
