"""Quote expiry reminders: N sent quotes expiring in two days, each client emailed once.

Every quote is sent and expires within the reminder window (three days); the
measure runs the real scheduled action, which renders the reminder email
(Odoo's mail template, queued in the mail queue) and marks each quote,
committing batch by batch.
"""

from datetime import timedelta

NAME = "quote_reminders"
UNIT = "reminder"
SIZES = (100, 1000)


def prepare(env, size):
    from odoo import Command, fields

    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    company.agency_quote_reminder_days = 3
    expires = fields.Date.context_today(env["res.partner"]) + timedelta(days=2)
    product = env["product.product"].create(
        {"name": "Website build", "type": "service", "list_price": 4000.0, "invoice_policy": "order"}
    )
    clients = env["res.partner"].create(
        [
            {"name": f"Quote client {n:05d}", "is_company": True, "email": f"owner{n}@client.example.com"}
            for n in range(size)
        ]
    )
    for start in range(0, size, 200):
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": client.id,
                    "validity_date": expires,
                    "agency_acceptance_mode": "invoice",
                    "order_line": [Command.create({"product_id": product.id})],
                }
                for client in clients[start : start + 200]
            ]
        )
        orders.action_quotation_sent()
        env.cr.commit()
    return {"quotes": size}


def measure(env, size):
    orders = env["sale.order"].search([("partner_id.name", "=like", "Quote client %")])
    mails_before = env["mail.mail"].search_count([])
    env.ref("agency_billing.ir_cron_quote_expiry_reminder").method_direct_trigger()
    env.cr.commit()
    orders.invalidate_recordset()
    reminded = len(orders.filtered("agency_expiry_reminder_sent_on"))
    queued = env["mail.mail"].search_count([]) - mails_before
    return {
        "units": reminded,
        "check": f"{reminded:,} quotes reminded, {queued:,} emails queued",
        "ok": reminded == size and queued >= size,
    }
