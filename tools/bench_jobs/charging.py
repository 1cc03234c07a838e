"""Automatic charging: the cron job charges N posted invoices to saved demo cards.

Every client saved a card with Odoo's demo payment provider (which answers at
once, as a real provider's API would) and agreed to automatic payment; each
has one posted invoice due for charging today. Measured: the real cron entry
point, `agency.payment.run._cron_charge_due_invoices`, which creates one Odoo
payment transaction per invoice, charges it by token, and lets Odoo's
post-processing record the payment and reconcile it with the invoice,
committing invoice by invoice. Checked: every invoice is paid, once.
"""

NAME = "charging"
UNIT = "charged invoice"
SIZES = (100, 1000)
CHUNK = 200


def prepare(env, size):
    from odoo import Command  # the orchestrator reads this module without Odoo

    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    provider = env["payment.provider"].search(
        [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
    )
    provider.write({"state": "test", "is_published": True})
    method = env.ref("payment_demo.payment_method_demo")
    product = env["product.product"].create({"name": "Hosting (charging bench)", "type": "service"})
    for start in range(0, size, CHUNK):
        count = min(CHUNK, size - start)
        clients = env["res.partner"].create(
            [
                {"name": f"Charged client {start + n}", "is_company": True, "customer_rank": 1}
                for n in range(count)
            ]
        )
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "partner_id": client.id,
                    "payment_details": "4242",
                    "provider_ref": f"bench-{client.id}",
                    "demo_simulated_state": "done",
                }
                for client in clients
            ]
        )
        for client, token in zip(clients, tokens, strict=True):
            client.write({"agency_autopay": True, "agency_autopay_token_id": token.id})
        invoices = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": client.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product.id, "quantity": 1, "price_unit": 100.0, "tax_ids": []}
                        )
                    ],
                }
                for client in clients
            ]
        )
        invoices.action_post()
        env.cr.commit()
    due = env["account.move"].search_count(
        [("agency_charge_date", "!=", False), ("payment_state", "=", "not_paid")]
    )
    return {"invoices": due}


def measure(env, size):
    env["agency.payment.run"]._cron_charge_due_invoices()
    env.cr.commit()
    attempts = env["agency.payment.attempt"].search([])
    charged = attempts.filtered(lambda a: a.state == "done")
    invoices = charged.move_id
    paid = invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment"))
    twice = len(charged) - len(invoices)
    check = f"{len(paid):,} of {size:,} invoices paid, {twice} charged twice" + (
        " (PASS)" if len(paid) == size and not twice else " (**FAIL**)"
    )
    return {"units": len(charged), "check": check, "ok": len(paid) == size and not twice}
