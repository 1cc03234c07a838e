"""The daily reminder run on N overdue invoices of N/2 clients (issue #13).

Data (not measured): the main company gets a reminder plan of three levels
(3 days before the due date; 7 days after, with a fixed late fee; 21 days
after, with a percentage late fee between a minimum and a maximum and a call
activity for the client's salesperson), no PDF attached (rendering PDFs is
wkhtmltopdf's time, not the run's). Each client (with an email address and a
salesperson) has two posted invoices made by the billing run, one due 25 days
ago (it gets the 21-day level) and one due 10 days ago (the 7-day level).

Measured: the reminder cron job (agency_billing.ir_cron_agency_send_reminders)
through Odoo's cron machinery (ir.cron.method_direct_trigger, as one cron
worker), again and again until the day's run is done: for every client two
emails (one per level), each invoice's reminder line, note and late fee.
"""

import datetime

NAME = "reminders"
UNIT = "overdue invoice"
SIZES = (1000, 10000)

CHUNK = 250  # clients per billing run and commit while preparing


def _today(env):
    from odoo import fields

    return fields.Date.context_today(env["res.users"].browse(env.uid))


def prepare(env, size):
    from odoo import Command

    company = env.company
    today = _today(env)
    company.email = "accounts@bench-agency.example.com"
    template = env.ref("agency_billing.mail_template_reminder_overdue")
    fee_product = env.ref("agency_billing.product_late_fee")
    plan = env["agency.reminder.plan"].create(
        {
            "name": "Bench reminders",
            "company_id": company.id,
            "level_ids": [
                Command.create(
                    {
                        "name": "Payment reminder",
                        "days": -3,
                        "mail_template_id": env.ref("agency_billing.mail_template_reminder_before_due").id,
                        "attach_invoices": False,
                    }
                ),
                Command.create(
                    {
                        "name": "First reminder",
                        "days": 7,
                        "mail_template_id": template.id,
                        "attach_invoices": False,
                        "fee_type": "fixed",
                        "fee_fixed": 10.0,
                        "fee_product_id": fee_product.id,
                    }
                ),
                Command.create(
                    {
                        "name": "Final notice",
                        "days": 21,
                        "mail_template_id": env.ref("agency_billing.mail_template_reminder_final").id,
                        "attach_invoices": False,
                        "fee_type": "percent",
                        "fee_percent": 5.0,
                        "fee_min": 5.0,
                        "fee_max": 100.0,
                        "fee_product_id": fee_product.id,
                        "activity_type_id": env.ref("mail.mail_activity_data_call").id,
                    }
                ),
            ],
        }
    )
    company.agency_reminder_plan_id = plan
    company.agency_billing_automation = "post"
    product = env["product.product"].create(
        {"name": "Bench retainer", "type": "service", "list_price": 120.0, "taxes_id": [Command.clear()]}
    )
    salesperson = env.ref("base.user_admin")
    # due on the invoice date (without payment terms Odoo makes an invoice due the day it is created)
    immediate = env.ref("account.account_payment_term_immediate")
    clients = size // 2
    Partner = env["res.partner"]
    Item = env["agency.billable.item"]
    Run = env["agency.billing.run"]
    for start in range(0, clients, CHUNK):
        partners = Partner.create(
            [
                {
                    "name": f"Bench client {n:05d}",
                    "is_company": True,
                    "customer_rank": 1,
                    "email": f"client{n:05d}@bench.example.com",
                    "user_id": salesperson.id,
                    "property_payment_term_id": immediate.id,
                }
                for n in range(start, min(start + CHUNK, clients))
            ]
        )
        # two invoices each, made by the billing run on two past days: due
        # at once, so 25 and 10 days overdue today
        for days_ago in (25, 10):
            Item.create(
                [
                    {
                        "partner_id": partner.id,
                        "product_id": product.id,
                        "name": f"Retainer, {days_ago} days ago",
                        "price_unit": 120.0 + partner.id % 7,
                        "invoice_action": "next_run",
                    }
                    for partner in partners
                ]
            )
            Run._run_now(company, today - datetime.timedelta(days=days_ago), partners=partners)
        env.cr.commit()
        env.invalidate_all()
    env.cr.execute(
        """SELECT count(*) FROM account_move
            WHERE company_id = %s AND move_type = 'out_invoice' AND state = 'posted'
              AND payment_state = 'not_paid' AND invoice_date_due < %s""",
        [company.id, today],
    )
    overdue = env.cr.fetchone()[0]
    if overdue != 2 * clients:
        runs = Run.search([], limit=4)
        details = [(r.name, r.state, r.invoice_count, r.log_ids.mapped("message")[:3]) for r in runs]
        moves = env["account.move"].search([("move_type", "=", "out_invoice")], limit=3)
        details += [(m.name, m.state, m.payment_state, m.invoice_date_due, m.company_id.name) for m in moves]
        raise AssertionError(f"{overdue} overdue invoices, expected {2 * clients}: {details}")
    return {"clients": clients, "overdue_invoices": overdue}


def measure(env, size):
    cron = env.ref("agency_billing.ir_cron_agency_send_reminders")
    Run = env["agency.reminder.run"]
    today = _today(env)
    company = env.company

    def run():
        return Run.search([("company_id", "=", company.id), ("trigger", "=", "cron"), ("date", "=", today)])

    rounds = 0
    while True:
        rounds += 1
        cron.method_direct_trigger()
        env.cr.commit()
        env.invalidate_all()
        if run() and run().state != "running":
            break
        if rounds > 10000:
            raise RuntimeError("the reminder cron never finished")
    done = run()
    env.cr.execute(
        """SELECT count(*) FROM agency_billable_item
            WHERE company_id = %s AND source = 'late_fee'""",
        [company.id],
    )
    fees = env.cr.fetchone()[0]
    clients = size // 2
    ok = (
        done.invoice_count == 2 * clients
        and done.reminder_count == 2 * clients
        and fees == 2 * clients
        and not done.error_count
    )
    return {
        "units": done.invoice_count,
        "rounds": rounds,
        "ok": ok,
        "check": (
            f"{done.reminder_count:,} emails, {done.invoice_count:,} invoices reminded, {fees:,} late fees, "
            f"{done.error_count} errors, {rounds} cron calls — " + ("as expected" if ok else "**WRONG**")
        ),
    }
