#!/usr/bin/env python3
"""`make bench`: the billing run against three peers, on the same data.

Run through tools/bench.sh (which prepares .venv, PostgreSQL, the template
database and OCA contract); it calls this script with --config/--template.

Contenders, each measured in a process of its own (peak RSS is per contender)
on its own copy of one base database (same clients, products and taxes):

  ours     agency_billing's daily cron job (agency_billing.ir_cron_bill_due_items)
           run through Odoo's cron machinery (ir.cron.method_direct_trigger, the
           same _process_job/_run_job path as a cron worker), repeated until the
           day's run is done: one worker, committed batches of
           agency_billing.batch_size clients.
  naive    Odoo, one account.move.create + action_post per client, commit per client.
  batched  Odoo, account.move.create of 100 invoices per call, then _post of the
           batch, commit per batch.
  oca      OCA contract 19.0: its cron job (contract.contract_cron_for_invoice,
           cron_recurring_create_invoice) through the same cron machinery, then
           action_post of the drafts it made, 100 per call, commit per batch.

Every client has 10 monthly items / contract lines / invoice lines (10 service
products with a 15% sale tax), all due on the run date (today).

Pairing: the speed of these shared 2-core machines drifts by tens of percent
from one minute to the next, and the peers take several minutes each. So ours
is measured again, on a fresh copy, right after each peer (--no-pairing turns
this off), and each ratio compares a peer with the mean of the two
measurements of ours made just before and just after it.

Time billing (case "time", --only time), also in a process and a database copy
of its own: --time-clients clients (default: --clients), each with one project
(its client as partner) and 50 billable timesheet lines (account.analytic.line,
10 employees, 0.25 to 4 h, dated over the 30 days before the run date), billed
at the company's time product "Consulting hour" (95.00, 15% tax; no agency.rate
rules), project grouping: one invoice with one line per client. The timesheet
lines are created through the ORM (create() of 5,000 lines per call, tracking
off), not measured. Measured: the same cron job as "ours", through the same
cron machinery (or --ours-mode direct), until the day's run is done; reported
per billed timesheet line (a row in agency.timesheet.billing, the line's
agency_billing_state "billed"). The company has no billable item: the cron
visits it for its unbilled time alone.

Measured: wall time (time.perf_counter) of the billing only (not the data
set-up, not the registry loading); SQL queries counted by Odoo's cursor counter
for every cursor of the measuring thread (threading.current_thread().query_count,
which odoo.sql_db increments on every execute); peak RSS of the measuring
process (resource.getrusage ru_maxrss, registry loading included), with the RSS
just before the billing started shown too.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_FILE = os.path.join(ROOT, "bench", "RESULTS.md")
RESULT_TAG = "BENCH_RESULT "
LINES = 10
# per checkout: several checkouts of the project may share the PostgreSQL server
DB_PREFIX = "agency_bench_" + hashlib.sha1(ROOT.encode()).hexdigest()[:6]
CONTENDERS = ("ours", "naive", "batched", "oca")
PAIRED = "ours_paired"  # ours measured again after each peer (see Orchestrator.run)
LABELS = {
    "ours": "agency_billing cron (1 worker)",
    "naive": "Odoo: create+post per client",
    "batched": "Odoo: create/_post per 100",
    "oca": "OCA contract 19.0 cron + post",
}
# targets from DESIGN.md "Performance budget"
TARGET_PER_MIN = 600
TARGET_VS_OCA = 3.0
TARGET_VS_NAIVE = 4.0
TARGET_QUERIES = 25
CLIENT_PREFIX = "Bench client "
# the time-billing case
TIME = "time"
CASES = (*CONTENDERS, TIME)
TIME_LINES = 50  # timesheet lines per client
TIME_EMPLOYEES = 10
TIME_DAYS = 30  # lines dated over the 30 days before the run date
TIME_HOURS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
TIME_RATE = 95.0
TIME_CREATE_BATCH = 5000
TIME_PRODUCT_CODE = "BENCHTIME-HOUR"  # not BENCH-%: bench_products() must not see it
LABELS[TIME] = "agency_billing cron, time (1 worker)"


def log(msg):
    sys.stderr.write(f"[bench] {msg}\n")
    sys.stderr.flush()


def emit(payload):
    """The worker's answer to the orchestrator: one tagged JSON line on stdout."""
    sys.stdout.write(RESULT_TAG + json.dumps(payload) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------
# Odoo helpers (only in the worker processes)
# ----------------------------------------------------------------------------
def open_registry(config, db):
    import odoo  # noqa: F401
    from odoo.modules.registry import Registry
    from odoo.tools import config as odoo_config

    odoo_config.parse_config(["-c", config, "-d", db, "--no-http"], setup_logging=True)
    threading.current_thread().dbname = db
    return Registry(db)


def make_env(cr, context=None):
    from odoo import SUPERUSER_ID, api

    return api.Environment(cr, SUPERUSER_ID, context or {})


QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


def today(env):
    from odoo import fields

    return fields.Date.context_today(env["res.users"].browse(env.uid))


def bench_partners(env, limit=None):
    return env["res.partner"].search(
        [("name", "=like", CLIENT_PREFIX + "%"), ("is_company", "=", True)], order="id", limit=limit
    )


def bench_products(env):
    return env["product.product"].search([("default_code", "=like", "BENCH-%")], order="default_code")


def line_vals(product, index, date):
    """The invoice line every contender bills for product `index` (same values everywhere)."""
    from odoo import Command

    return {
        "name": f"{product.name} — {date:%d %b %Y}",
        "product_id": product.id,
        "product_uom_id": product.uom_id.id,
        "quantity": 1 + index % 3,
        "price_unit": product.list_price,
        "tax_ids": [Command.set(product.taxes_id.ids)],
    }


def check_invoices(env, since_id):
    """Posted customer invoices made by the measured step, and their shape."""
    env.cr.execute(
        """SELECT count(*), count(*) FILTER (WHERE state = 'posted'),
                  COALESCE(sum(amount_total), 0)
             FROM account_move WHERE move_type = 'out_invoice' AND id > %s""",
        [since_id],
    )
    total, posted, amount = env.cr.fetchone()
    env.cr.execute(
        """SELECT count(*) FROM account_move_line l JOIN account_move m ON m.id = l.move_id
            WHERE m.move_type = 'out_invoice' AND m.id > %s AND l.display_type = 'product'""",
        [since_id],
    )
    (lines,) = env.cr.fetchone()
    return {"moves": total, "posted": posted, "product_lines": lines, "amount_total": float(amount)}


def max_move_id(env):
    env.cr.execute("SELECT COALESCE(max(id), 0) FROM account_move")
    return env.cr.fetchone()[0]


def rss_now_mb():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ----------------------------------------------------------------------------
# Worker: base data
# ----------------------------------------------------------------------------
def cmd_prepare_base(args):
    registry = open_registry(args.config, args.db)
    with registry.cursor() as cr:
        env = make_env(cr, QUIET)
        company = env.ref("base.main_company")
        if not company.chart_template:
            log("loading Odoo's generic chart of accounts (generic_coa)")
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
            env.invalidate_all()
            company = env.ref("base.main_company")
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        tax = company.account_sale_tax_id
        assert journal and tax, "the chart of accounts made no sales journal or sale tax"
        company.agency_billing_automation = "post"
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench service {i + 1}",
                    "default_code": f"BENCH-{i + 1:02d}",
                    "type": "service",
                    "list_price": 10.0 * (i + 1) + 0.5,
                    "taxes_id": [(6, 0, tax.ids)],
                    "sale_ok": True,
                }
                for i in range(LINES)
            ]
        )
        log(f"creating {args.clients} clients")
        for start in range(0, args.clients, 1000):
            env["res.partner"].create(
                [
                    {"name": f"{CLIENT_PREFIX}{n:06d}", "is_company": True, "billing_automation": "post"}
                    for n in range(start + 1, min(start + 1000, args.clients) + 1)
                ]
            )
            cr.commit()
        env.cr.commit()
        info = {
            "company": company.name,
            "currency": company.currency_id.name,
            "tax": f"{tax.name} ({tax.amount:g}%)",
            "products": len(products),
            "batch_size": env["agency.billing.run"]._get_batch_size(),
        }
    emit(info)


# ----------------------------------------------------------------------------
# Worker: per-contender data (not measured)
# ----------------------------------------------------------------------------
def prepare_time(env, args):
    """Clients with one project each and TIME_LINES unbilled billable timesheet lines."""
    cr = env.cr
    date = today(env)
    company = env.company
    partners = bench_partners(env, limit=args.clients)
    assert len(partners) == args.clients, f"{len(partners)} clients in the base, expected {args.clients}"
    tax = company.account_sale_tax_id
    product = env["product.product"].create(
        {
            "name": "Consulting hour",
            "default_code": TIME_PRODUCT_CODE,
            "type": "service",
            "list_price": TIME_RATE,
            "taxes_id": [(6, 0, tax.ids)],
            "sale_ok": True,
        }
    )
    company.agency_time_product_id = product
    # time logged before the addon was installed is not billed unless the agency says so:
    # the benchmark's time is logged over the TIME_DAYS before the run date
    company.agency_time_bill_from = date - datetime.timedelta(days=TIME_DAYS + 1)
    employees = env["hr.employee"].create(
        [{"name": f"Bench consultant {i + 1:02d}", "company_id": company.id} for i in range(TIME_EMPLOYEES)]
    )
    cr.commit()
    Project = env["project.project"]
    AAL = env["account.analytic.line"]
    projects_per_call = max(TIME_CREATE_BATCH // TIME_LINES, 1)
    started = time.perf_counter()
    made = 0
    for start in range(0, len(partners), projects_per_call):
        chunk = partners[start : start + projects_per_call]
        projects = Project.create(
            [
                {"name": f"Website {partner.name}", "partner_id": partner.id, "allow_timesheets": True}
                for partner in chunk
            ]
        )
        vals = []
        for c, project in enumerate(projects):
            n = start + c
            for i in range(TIME_LINES):
                vals.append(
                    {
                        "name": f"Work {i + 1}",
                        "project_id": project.id,
                        "employee_id": employees[(n + i) % TIME_EMPLOYEES].id,
                        "unit_amount": TIME_HOURS[(n + i) % len(TIME_HOURS)],
                        "date": date - datetime.timedelta(days=1 + i % TIME_DAYS),
                    }
                )
        AAL.create(vals)
        cr.commit()
        env.invalidate_all()
        made += len(vals)
        if start // projects_per_call % 10 == 9:
            log(f"time: {made:,} timesheet lines created ({made / (time.perf_counter() - started):.0f}/s)")
    cr.execute(
        """SELECT count(*), COALESCE(sum(agency_quantity), 0), count(DISTINCT partner_id)
             FROM account_analytic_line
            WHERE agency_billing_state = 'to_bill' AND agency_rate_expected = %s""",
        [TIME_RATE],
    )
    count, hours, clients = cr.fetchone()
    expected = args.clients * TIME_LINES
    assert count == expected and clients == args.clients, (
        f"{count} timesheet lines to bill at {TIME_RATE} for {clients} clients, expected {expected} "
        f"for {args.clients} (are they billable, with a partner and a rate?)"
    )
    return {"timesheets": count, "hours": float(hours), "create_seconds": time.perf_counter() - started}


def cmd_prepare(args):
    registry = open_registry(args.config, args.db)
    with registry.cursor() as cr:
        env = make_env(cr, QUIET)
        date = today(env)
        if args.contender == TIME:
            info = prepare_time(env, args)
            cron = env.ref("agency_billing.ir_cron_bill_due_items")
            cron.write({"active": True, "nextcall": datetime.datetime.now() - datetime.timedelta(minutes=1)})
            cr.commit()
            emit({"ok": True, **info})
            return
        partners = bench_partners(env, limit=args.clients)
        products = bench_products(env)
        assert len(partners) == args.clients and len(products) == LINES
        if args.contender == "ours":
            Item = env["agency.billable.item"]
            for start in range(0, len(partners), 200):
                Item.create(
                    [
                        {
                            "partner_id": partner.id,
                            "product_id": product.id,
                            "name": product.name,
                            "quantity": 1 + i % 3,
                            "price_unit": product.list_price,
                            "invoice_action": "recurring",
                            "date_start": date,
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                        }
                        for partner in partners[start : start + 200]
                        for i, product in enumerate(products)
                    ]
                )
                cr.commit()
                env.invalidate_all()
            # the cron job runs now, whatever its schedule
            cron = env.ref("agency_billing.ir_cron_bill_due_items")
            cron.write({"active": True, "nextcall": datetime.datetime.now() - datetime.timedelta(minutes=1)})
        elif args.contender == "oca":
            journal = env["account.journal"].search(
                [("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1
            )
            Contract = env["contract.contract"]
            for start in range(0, len(partners), 100):
                Contract.create(
                    [
                        {
                            "name": f"Contract {partner.name}",
                            "partner_id": partner.id,
                            "contract_type": "sale",
                            "journal_id": journal.id,
                            "line_recurrence": True,
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                            "date_start": date,
                            "contract_line_ids": [
                                (
                                    0,
                                    0,
                                    {
                                        "product_id": product.id,
                                        "name": f"{product.name} — #START# to #END#",
                                        "quantity": 1 + i % 3,
                                        "uom_id": product.uom_id.id,
                                        "automatic_price": False,
                                        "price_unit": product.list_price,
                                        "recurring_rule_type": "monthly",
                                        "recurring_interval": 1,
                                        "recurring_invoicing_type": "pre-paid",
                                        "date_start": date,
                                        "recurring_next_date": date,
                                    },
                                )
                                for i, product in enumerate(products)
                            ],
                        }
                        for partner in partners[start : start + 100]
                    ]
                )
                cr.commit()
                env.invalidate_all()
            env.cr.execute("SELECT count(*) FROM contract_contract WHERE recurring_next_date <= %s", [date])
            due = env.cr.fetchone()[0]
            assert due == len(partners), f"{due} contracts due, expected {len(partners)}"
            cron = env.ref("contract.contract_cron_for_invoice")
            cron.write({"active": True, "nextcall": datetime.datetime.now() - datetime.timedelta(minutes=1)})
        # other cron jobs must not run in the measuring process: it runs one job by hand
        cr.commit()
    emit({"ok": True})


# ----------------------------------------------------------------------------
# Worker: measure one contender
# ----------------------------------------------------------------------------
def run_cron_until(env, cron, done):
    """Run a cron job the way one cron worker does, again and again until done()."""
    rounds = 0
    while True:
        rounds += 1
        cron.method_direct_trigger()
        env.cr.commit()
        env.invalidate_all()
        if done():
            return rounds
        if rounds > 100000:
            raise RuntimeError("the cron job never finished")


def measure_ours(env, args, marks):
    cron = env.ref("agency_billing.ir_cron_bill_due_items")
    date = today(env)
    Run = env["agency.billing.run"]

    def done():
        run = Run.search([("trigger", "=", "cron"), ("date", "=", date)], limit=1)
        return bool(run) and run.state != "running"

    # Per-batch marks, to see whether the cost per invoice drifts during the run:
    # the cron calls ir.cron._commit_progress(len(batch), ...) after each batch.
    IrCron = env.registry["ir.cron"]
    original = IrCron._commit_progress
    batches = marks["batches"] = []

    def commit_progress(self, processed=0, **kwargs):
        if processed:
            batches.append((processed, time.perf_counter(), threading.current_thread().query_count))
        return original(self, processed, **kwargs)

    IrCron._commit_progress = commit_progress
    if args.ours_mode == "direct":
        # _cron_bill_due_items in a fresh cursor: outside a cron job,
        # _commit_progress commits after every batch.
        with env.registry.cursor() as cr:
            make_env(cr)["agency.billing.run"]._cron_bill_due_items()
        rounds = 1
    else:
        rounds = run_cron_until(env, cron, done)
    IrCron._commit_progress = original
    run = Run.search([("trigger", "=", "cron"), ("date", "=", date)], limit=1)
    marks["rounds"] = rounds
    marks["run"] = {
        "name": run.name,
        "state": run.state,
        "invoice_count": run.invoice_count,
        "skipped": run.skipped_count,
        "errors": run.error_count,
    }


def measure_naive(env, args, marks):
    date = today(env)
    products = bench_products(env)
    partners = bench_partners(env, limit=args.clients)
    Move = env["account.move"]
    for partner in partners:
        move = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "invoice_line_ids": [(0, 0, line_vals(p, i, date)) for i, p in enumerate(products)],
            }
        )
        move.action_post()
        env.cr.commit()


def measure_batched(env, args, marks):
    date = today(env)
    products = bench_products(env)
    partners = bench_partners(env, limit=args.clients)
    Move = env["account.move"]
    for start in range(0, len(partners), 100):
        moves = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": date,
                    "invoice_line_ids": [(0, 0, line_vals(p, i, date)) for i, p in enumerate(products)],
                }
                for partner in partners[start : start + 100]
            ]
        )
        moves._post()
        env.cr.commit()
        env.invalidate_all()


def measure_oca(env, args, marks):
    cron = env.ref("contract.contract_cron_for_invoice")
    since = marks["since_id"]
    run_cron_until(env, cron, lambda: True)
    t_created = time.perf_counter()
    q_created = threading.current_thread().query_count
    drafts = env["account.move"].search(
        [("move_type", "=", "out_invoice"), ("state", "=", "draft"), ("id", ">", since)], order="id"
    )
    marks["drafts"] = len(drafts)
    for start in range(0, len(drafts), 100):
        drafts[start : start + 100].action_post()
        env.cr.commit()
        env.invalidate_all()
    marks["create_seconds"] = t_created - marks["t0"]
    marks["create_queries"] = q_created - marks["q0"]


MEASURES = {
    "ours": measure_ours,
    "naive": measure_naive,
    "batched": measure_batched,
    "oca": measure_oca,
    TIME: measure_ours,  # the same cron job; the time database has only time to bill
}


def check_time(env, since_id):
    """What the time run billed: timesheet lines, and the invoice lines that bill them."""
    env.cr.execute(
        """SELECT count(*), count(DISTINCT b.move_line_id), COALESCE(sum(b.quantity), 0)
             FROM agency_timesheet_billing b JOIN account_move m ON m.id = b.move_id
            WHERE m.id > %s AND m.state = 'posted'""",
        [since_id],
    )
    rows, move_lines, hours = env.cr.fetchone()
    env.cr.execute(
        """SELECT count(*) FILTER (WHERE agency_billing_state = 'billed'),
                  count(*) FILTER (WHERE agency_billing_state = 'to_bill')
             FROM account_analytic_line WHERE project_id IS NOT NULL"""
    )
    billed, to_bill = env.cr.fetchone()
    return {
        "timesheets_billed": rows,
        "timesheet_invoice_lines": move_lines,
        "timesheet_hours": float(hours),
        "timesheets_state_billed": billed,
        "timesheets_left": to_bill,
    }


def cmd_measure(args):
    registry = open_registry(args.config, args.db)
    thread = threading.current_thread()
    with registry.cursor() as cr:
        env = make_env(cr)
        since = max_move_id(env)
        cr.commit()
        rss_before = rss_now_mb()
        marks = {"since_id": since}
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        thread.query_count = 0
        marks["q0"] = 0
        marks["t0"] = t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        MEASURES[args.contender](env, args, marks)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - t0
        queries = thread.query_count
        env.invalidate_all()
        check = check_invoices(env, since)
        if args.contender == TIME:
            check.update(check_time(env, since))
        cr.commit()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "contender": args.contender,
        "clients": args.clients,
        "seconds": seconds,
        "queries": queries,
        "invoices": check["posted"],
        "moves": check["moves"],
        "product_lines": check["product_lines"],
        "amount_total": check["amount_total"],
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss,
        **{k: v for k, v in check.items() if k.startswith("timesheet")},
        **{k: v for k, v in marks.items() if k not in ("t0", "q0", "since_id")},
    }
    if profiler:
        import io
        import pstats

        profiler.dump_stats(args.profile)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile_top)
        with open(args.profile + ".txt", "w", encoding="utf-8") as text:
            text.write(out.getvalue())
        result["profile"] = args.profile + ".txt"
    emit(result)


# ----------------------------------------------------------------------------
# Orchestrator
# ----------------------------------------------------------------------------
class Orchestrator:
    def __init__(self, args):
        self.args = args
        self.pg_user = None
        with open(args.config, encoding="utf-8") as conf:
            for line in conf:
                if line.startswith("db_user"):
                    self.pg_user = line.split("=", 1)[1].strip()

    def pg(self, *cmd):
        full = [cmd[0], *(["-U", self.pg_user] if self.pg_user else []), *cmd[1:]]
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, env=env)

    def list_bench_dbs(self):
        out = subprocess.run(
            [
                "psql",
                *(["-U", self.pg_user] if self.pg_user else []),
                "-d",
                "postgres",
                "-tAc",
                f"SELECT datname FROM pg_database WHERE datname LIKE '{DB_PREFIX}\\_%'",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        return out

    def drop(self, db):
        self.pg("dropdb", "--if-exists", db)
        shutil.rmtree(os.path.join(self.args.filestore, db), ignore_errors=True)

    def copy(self, src, dst):
        self.drop(dst)
        self.pg("createdb", "-T", src, dst)
        if os.path.isdir(os.path.join(self.args.filestore, src)):
            shutil.copytree(os.path.join(self.args.filestore, src), os.path.join(self.args.filestore, dst))

    def worker(self, *cmd, what):
        full = [sys.executable, os.path.abspath(__file__), *cmd, "--config", self.args.config]
        proc = subprocess.run(full, capture_output=True, text=True, check=False)
        results = [ln[len(RESULT_TAG) :] for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
        if proc.returncode or not results:
            logfile = os.path.join(os.path.dirname(self.args.config), "bench-error.log")
            with open(logfile, "w", encoding="utf-8") as f:
                f.write(proc.stdout + "\n" + proc.stderr)
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            sys.exit(f"[bench] ERROR: {what} failed (exit {proc.returncode}); full log: {logfile}\n{tail}")
        return json.loads(results[-1])

    def install_contract(self, db):
        odoo_bin = os.path.join(os.environ.get("ODOO_DIR", ""), "odoo-bin")
        log(f"installing OCA contract in {db} (only there)")
        logfile = os.path.join(os.path.dirname(self.args.config), "bench-contract-install.log")
        with open(logfile, "w", encoding="utf-8") as out:
            proc = subprocess.run(
                [
                    sys.executable,
                    odoo_bin,
                    "-c",
                    self.args.config,
                    "-d",
                    db,
                    "-i",
                    "contract",
                    "--stop-after-init",
                    "--no-http",
                    "--log-level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        with open(logfile, encoding="utf-8") as f:
            errors = [ln for ln in f if " ERROR " in ln or " CRITICAL " in ln]
        if proc.returncode or errors:
            sys.exit(f"[bench] ERROR: installing contract failed, see {logfile}\n{''.join(errors[:5])}")

    def run(self):
        a = self.args
        started = datetime.datetime.now()
        only = a.only.split(",")
        contenders = [c for c in CONTENDERS if c in only]
        run_time = TIME in only
        for db in self.list_bench_dbs():
            self.drop(db)
        base = f"{DB_PREFIX}_base"
        base_clients = max(a.clients if contenders else 0, a.time_clients if run_time else 0)
        log(
            f"base database {base}: copy of {a.template}, generic chart, {base_clients} clients, {LINES} products"
        )
        self.copy(a.template, base)
        t = time.perf_counter()
        info = self.worker("prepare-base", "--db", base, "--clients", str(base_clients), what="base data")
        log(f"base data ready in {time.perf_counter() - t:.0f}s")
        results = {}
        peers = [c for c in contenders if c != "ours"]
        pair = "ours" in contenders and peers and not a.no_pairing
        cases = []
        for contender in contenders:
            cases.append(contender)
            if pair and contender != "ours":
                # ours again right after each peer: on this shared machine the
                # speed drifts over minutes, so each peer is compared with the
                # two measurements of ours made next to it
                cases.append(PAIRED)
        cases += [TIME] if run_time else []
        results[PAIRED] = []
        for case in cases:
            paired = case == PAIRED
            contender = "ours" if paired else case
            clients = {"ours": a.clients, TIME: a.time_clients}.get(contender, a.peer_clients)
            clients = a.peer_clients if paired else clients
            db = f"{DB_PREFIX}_{contender}"
            self.copy(base, db)
            if contender == "oca":
                self.install_contract(db)
            t = time.perf_counter()
            if contender == TIME:
                log(
                    f"time: creating {clients:,} projects and {clients * TIME_LINES:,} timesheet lines (not measured)"
                )
            prepared = self.worker(
                "prepare", contender, "--db", db, "--clients", str(clients), what=f"{contender} data"
            )
            log(f"{contender}: data for {clients} clients ready in {time.perf_counter() - t:.0f}s; measuring")
            cmd = ["measure", contender, "--db", db, "--clients", str(clients), "--ours-mode", a.ours_mode]
            if a.profile and contender in ("ours", TIME):
                cmd += ["--profile", os.path.join(os.path.dirname(a.config), f"bench-{contender}.prof")]
            res = self.worker(*cmd, what=f"measuring {contender}")
            res["prepare_seconds"] = time.perf_counter() - t - res["seconds"]
            res["prepared"] = prepared
            if paired:
                results[PAIRED].append(res)
            else:
                results[contender] = res
            if contender == TIME:
                log(
                    f"time: {res['timesheets_billed']:,} timesheet lines billed on {res['invoices']} posted "
                    f"invoices in {res['seconds']:.1f}s ({per_line(res, 'seconds') * 1000:.2f} ms and "
                    f"{per_line(res, 'queries'):.2f} queries per line)"
                )
            else:
                log(
                    f"{contender}: {res['invoices']} posted invoices in {res['seconds']:.1f}s "
                    f"({per_min(res):.0f}/min, {per_inv(res, 'queries'):.1f} queries/invoice)"
                )
            if not a.keep:
                self.drop(db)
        if not a.keep:
            self.drop(base)
        report = render(a, info, results, started)
        sys.stdout.write(report + "\n")
        for case in ("ours", TIME):
            if a.profile and case in results and results[case].get("profile"):
                with open(results[case]["profile"], encoding="utf-8") as prof:
                    sys.stdout.write(
                        f"\ncProfile of {case} (cumulative; timings inflated by the profiler):\n\n"
                    )
                    sys.stdout.write(prof.read() + "\n")
        if not a.no_save:
            os.makedirs(os.path.dirname(RESULTS_FILE), exist_ok=True)
            new = not os.path.exists(RESULTS_FILE)
            with open(RESULTS_FILE, "a", encoding="utf-8") as f:
                if new:
                    f.write(RESULTS_HEADER)
                f.write("\n" + report + "\n")
            log(f"appended to {os.path.relpath(RESULTS_FILE, ROOT)}")
        return 0 if all_ok(results, cases) else 1


RESULTS_HEADER = """# Benchmark results

Appended by `make bench` (tools/bench.sh, tools/bench.py): one section per run,
newest last. Each contender bills clients with 10 monthly lines each (10 service
products, 15% tax) due today, in its own process on its own copy of the same
base database. The time case bills 50 timesheet lines per client (one project
each) through the same cron job, also in a process and a database of its own.
See tools/bench.py for exactly what is measured.
"""


def per_min(r):
    return r["invoices"] / r["seconds"] * 60 if r["seconds"] else 0.0


def per_inv(r, key):
    return r[key] / r["invoices"] if r["invoices"] else float("nan")


def per_line(r, key):
    """Cost per billed timesheet line (the time case)."""
    return r[key] / r["timesheets_billed"] if r.get("timesheets_billed") else float("nan")


def time_ok(r):
    expected = r["clients"] * TIME_LINES
    return (
        r["invoices"] == r["clients"]
        and r["product_lines"] == r["clients"]
        and r["timesheets_billed"] == expected
        and r["timesheets_state_billed"] == expected
        and r["timesheets_left"] == 0
    )


def all_ok(results, contenders):
    for c in contenders:
        if c == PAIRED:
            continue
        r = results.get(c)
        if not r:
            return False
        if c == TIME:
            if not time_ok(r):
                return False
        elif r["invoices"] != r["clients"] or r["product_lines"] != r["clients"] * LINES:
            return False
    return True


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    ram = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal")))
            ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        pg = (
            subprocess.run(
                [
                    "psql",
                    "-tAc",
                    "SHOW server_version",
                    "-d",
                    "postgres",
                    *(["-U", os.environ["DB_USER"]] if os.environ.get("DB_USER") else []),
                ],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            or "?"
        )
    except OSError:
        pg = "?"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "pg": pg,
        "load": load,
    }


def git_commit():
    try:
        sha = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "agency_billing"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return sha + (" (agency_billing has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def oca_version():
    try:
        import glob

        paths = glob.glob(os.path.join(ROOT, ".venv", "oca", "contract", "odoo_addon_contract-*.dist-info"))
        return os.path.basename(paths[0]).removesuffix(".dist-info").split("-")[1] if paths else "?"
    except OSError:
        return "?"


def render(a, info, results, started):
    m = machine()
    invoice_cases = [c for c in CONTENDERS if c in results]
    if invoice_cases:
        title = f"{a.clients:,} clients"
        if TIME in results:
            title += f"; time billing {a.time_clients:,} clients × {TIME_LINES} timesheet lines"
    else:
        title = f"time billing, {a.time_clients:,} clients × {TIME_LINES} timesheet lines"
    lines = [
        f"## {started:%Y-%m-%d %H:%M} — {title}",
        "",
        f"- machine: {m['nproc']} cores (`nproc`), {m['cpu']}, {m['ram']} RAM; "
        f"Python {m['python']}, PostgreSQL {m['pg']} (local); load average at the end {m['load']}",
        f"- commit: {git_commit()}; OCA contract {oca_version()}; "
        f"agency_billing.batch_size = {info.get('batch_size')}",
    ]
    if invoice_cases:
        lines += render_invoices(a, info, results)
    if TIME in results:
        lines += render_time(a, info, results[TIME])
    lines.append(
        f"- total wall time of the bench: {(datetime.datetime.now() - started).total_seconds() / 60:.1f} min"
    )
    return "\n".join(lines)


def batch_halves(batches, unit):
    """Cost per client of the first and second half of a cron run's batches (batch 1 excluded)."""
    prev_t, prev_q = 0.0, 0
    rows = []
    for processed, t, q in batches:
        rows.append((processed, t - prev_t if prev_t else None, q - prev_q))
        prev_t, prev_q = t, q
    rows = [r for r in rows[1:] if r[1] is not None]  # the first batch's start is unknown here
    if len(rows) < 2:
        return None
    half = len(rows) // 2
    parts = []
    for name, part in (("first half", rows[:half]), ("second half", rows[half:])):
        n = sum(r[0] for r in part) * unit
        parts.append(
            f"{name} {sum(r[1] for r in part) / n * 1000:.{0 if unit == 1 else 2}f} ms and "
            f"{sum(r[2] for r in part) / n:.{1 if unit == 1 else 2}f} queries per "
            + ("client" if unit == 1 else "timesheet line")
        )
    return f"batches 2..{len(batches)}", "; ".join(parts)


def render_time(a, info, r):
    billed = r.get("timesheets_billed", 0)
    prepared = r.get("prepared", {})
    lines = [
        "",
        f"### Time billing — {a.time_clients:,} clients × {TIME_LINES} timesheet lines",
        "",
        f"- data: {a.time_clients:,} clients, one project each, {TIME_LINES} billable timesheet lines per client "
        f"({TIME_EMPLOYEES} employees, {min(TIME_HOURS):g} to {max(TIME_HOURS):g} h, dated over the "
        f"{TIME_DAYS} days before today), {prepared.get('hours', 0):,.2f} h in all, rate from the time product "
        f"({TIME_RATE:.2f}, tax {info.get('tax')}), project grouping: 1 invoice and 1 line per client; "
        f"created in {prepared.get('create_seconds', 0):.0f} s (ORM, not measured)",
        f"- measured: the agency_billing cron job ({a.ours_mode} mode), 1 worker, batches of "
        f"{info.get('batch_size')} clients (the company has no billable item: time alone)",
        "",
        "| case | billed timesheet lines | invoices | seconds | ms/billed line | lines/min | queries/billed line | "
        "RSS before MB | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {TIME}: {LABELS[TIME]} | {billed:,} | {r['invoices']:,} | {r['seconds']:.1f} | "
        f"{per_line(r, 'seconds') * 1000:.2f} | {billed / r['seconds'] * 60 if r['seconds'] else 0:,.0f} | "
        f"{per_line(r, 'queries'):.2f} | {r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} |",
        "",
    ]
    expected = r["clients"] * TIME_LINES
    lines.append(
        f"- check: {r['invoices']}/{r['clients']} invoices posted, {r['product_lines']} invoice lines, "
        f"{billed:,}/{expected:,} timesheet lines billed ({r['timesheets_state_billed']:,} in state billed, "
        f"{r['timesheets_left']:,} left to bill), {r['timesheet_hours']:,.2f} h billed, "
        f"avg total {r['amount_total'] / r['moves'] if r['moves'] else 0:.2f}"
        + ("" if time_ok(r) else " **MISMATCH**")
    )
    if "run" in r:
        lines.append(
            f"- {r['rounds']} cron job executions; run {r['run']['name']} {r['run']['state']}, "
            f"{r['run']['invoice_count']} invoices, {r['run']['skipped']} skipped, {r['run']['errors']} errors"
        )
    halves = batch_halves(r.get("batches") or [], TIME_LINES)
    if halves:
        lines.append(f"- per batch ({halves[0]}): {halves[1]}")
    lines.append(
        f"- cost per billed timesheet line at {billed:,} lines: {per_line(r, 'seconds') * 1000:.2f} ms, "
        f"{per_line(r, 'queries'):.2f} queries (compare with the other sizes in this file for flatness: "
        '`BENCH_CLIENTS=10000 BENCH_ARGS="--only time" make bench` is 10×)'
    )
    return lines


def paired_rates(results):
    """{peer: (ours/min measured just before it, ours/min measured just after it)}."""
    pairs = results.get(PAIRED) or []
    order = [c for c in CONTENDERS if c in results and c != "ours"]
    if "ours" not in results or len(pairs) != len(order):
        return {}
    rates = [per_min(results["ours"]), *(per_min(r) for r in pairs)]
    return {peer: (rates[i], rates[i + 1]) for i, peer in enumerate(order)}


def render_invoices(a, info, results):
    lines = [
        f"- data: {a.clients:,} clients × {LINES} monthly lines due today, {info.get('products')} service "
        f"products, tax {info.get('tax')}, {info.get('currency')}",
        f"- ours: {a.clients:,} clients through the real cron job ({a.ours_mode} mode); "
        + (
            f"peers: {a.peer_clients:,} clients (a sample, to keep the run short)"
            if a.peer_clients != a.clients
            else "peers: the same clients"
        ),
        "",
        "| contender | invoices | seconds | invoices/min | s/invoice | queries/invoice | "
        "RSS before MB | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [(f"{c}: {LABELS[c]}", results[c]) for c in CONTENDERS if results.get(c)]
    peers = [c for c in CONTENDERS if c in results and c != "ours"]
    rows += [
        (f"ours again, after {peer}", r) for peer, r in zip(peers, results.get(PAIRED) or [], strict=False)
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['invoices']:,} | {r['seconds']:.1f} | {per_min(r):.0f} | "
            f"{r['seconds'] / r['invoices'] if r['invoices'] else float('nan'):.4f} | "
            f"{per_inv(r, 'queries'):.1f} | {r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append("")
    checks = []
    for c in CONTENDERS:
        r = results.get(c)
        if not r:
            continue
        shape_ok = r["invoices"] == r["clients"] and r["product_lines"] == r["clients"] * LINES
        avg = r["amount_total"] / r["moves"] if r["moves"] else 0
        checks.append(
            f"{c} {r['invoices']}/{r['clients']} posted, {r['product_lines']} lines, "
            f"avg total {avg:.2f}{'' if shape_ok else ' **MISMATCH**'}"
        )
    lines.append("- check: " + "; ".join(checks))
    if "oca" in results and "create_seconds" in results["oca"]:
        o = results["oca"]
        lines.append(
            f"- oca split: cron (drafts) {o['create_seconds']:.1f}s, {o['create_queries']:,} queries; "
            f"posting {o['seconds'] - o['create_seconds']:.1f}s, {o['queries'] - o['create_queries']:,} queries"
        )
    if "ours" in results and "rounds" in results["ours"]:
        o = results["ours"]
        lines.append(
            f"- ours: {o['rounds']} cron job executions; run {o['run']['name']} {o['run']['state']}, "
            f"{o['run']['invoice_count']} invoices, {o['run']['skipped']} skipped, {o['run']['errors']} errors"
        )
    ours = results.get("ours")
    halves = batch_halves(ours.get("batches") or [], 1) if ours else None
    if halves:
        # cost per invoice of the first and the second half of the batches
        # (batch clients ~ invoices here; the first half includes the cold start)
        lines.append(f"- ours per batch ({halves[0]}): {halves[1]}")
    if ours:
        lines += ["", "Targets (DESIGN.md, performance budget):", ""]

        def mark(ok):
            return "PASS" if ok else "FAIL"

        rate = per_min(ours)
        lines.append(
            f"- ours >= {TARGET_PER_MIN} posted invoices/min: {rate:.0f} — {mark(rate >= TARGET_PER_MIN)}"
        )
        neighbours = paired_rates(results)
        for peer, target in (("oca", TARGET_VS_OCA), ("naive", TARGET_VS_NAIVE), ("batched", None)):
            if peer not in results or not per_min(results[peer]):
                continue
            peer_rate = per_min(results[peer])
            if peer in neighbours:
                before, after = neighbours[peer]
                ours_rate = (before + after) / 2
                how = f"ours {before:.0f} before and {after:.0f} after it, mean {ours_rate:.0f}/min"
            else:
                ours_rate, how = rate, f"ours {rate:.0f}/min"
            ratio = ours_rate / peer_rate
            text = f"{ratio:.2f}× ({how}; {peer} {peer_rate:.0f}/min)"
            if target is None:
                lines.append(f"- (info) ours vs {peer}: {text}")
            else:
                lines.append(f"- ours >= {target:g}× {peer}: {text} — {mark(ratio >= target)}")
        qpi = per_inv(ours, "queries")
        lines.append(f"- ours <= {TARGET_QUERIES} queries/invoice: {qpi:.1f} — {mark(qpi <= TARGET_QUERIES)}")
        lines.append(
            f"- cost per invoice at {a.clients:,} clients: {ours['seconds'] / max(ours['invoices'], 1) * 1000:.0f} ms, "
            f"{qpi:.1f} queries (compare with the other client counts in this file for flatness)"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd")
    p = sub.add_parser("prepare-base")
    p.add_argument("--db", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--config", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("contender", choices=CASES)
    p.add_argument("--db", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--config", required=True)
    p = sub.add_parser("measure")
    p.add_argument("contender", choices=CASES)
    p.add_argument("--db", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--ours-mode", choices=("cron", "direct"), default="cron")
    p.add_argument("--profile", default=None)
    p.add_argument("--profile-top", type=int, default=40)
    # orchestrator options (no sub-command)
    parser.add_argument("--config", help="Odoo config (tools/bench.sh writes .state/bench-odoo.conf)")
    parser.add_argument("--template", help="database to start from (the addon template of tools/test.sh)")
    parser.add_argument("--filestore", help="Odoo's filestore folder")
    parser.add_argument("--clients", type=int, default=1000, help="clients billed by ours (default 1000)")
    parser.add_argument(
        "--peer-clients",
        type=int,
        default=None,
        help="clients billed by each peer (default: all of them up to 1,000 clients, else a sample of 300)",
    )
    parser.add_argument(
        "--only",
        default=",".join(CASES),
        help=f"comma-separated cases to run, of {', '.join(CASES)} (default: all); "
        "time is the time-billing case",
    )
    parser.add_argument(
        "--time-clients",
        type=int,
        default=None,
        help=f"clients of the time case, {TIME_LINES} timesheet lines each (default: --clients)",
    )
    parser.add_argument(
        "--ours-mode",
        choices=("cron", "direct"),
        default="cron",
        help="cron: the real cron job through ir.cron (default); direct: _cron_bill_due_items() in a fresh cursor",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the ours and time runs (slower; prints the top functions; implies --no-save)",
    )
    parser.add_argument(
        "--no-pairing",
        action="store_true",
        help="do not measure ours again after each peer (the ratios then use the first measurement)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the agency_bench_* databases")
    parser.add_argument("--no-save", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if args.cmd == "prepare-base":
        return cmd_prepare_base(args)
    if args.cmd == "prepare":
        return cmd_prepare(args)
    if args.cmd == "measure":
        return cmd_measure(args)
    if not (args.config and args.template and args.filestore):
        parser.error(
            "run it through tools/bench.sh (make bench), which passes --config, --template, --filestore"
        )
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    unknown = set(args.only.split(",")) - set(CASES)
    if unknown:
        parser.error(f"--only: unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(CASES)}")
    if args.time_clients is None:
        args.time_clients = args.clients
    if args.time_clients < 1:
        parser.error("--time-clients must be at least 1")
    if args.peer_clients is None:
        args.peer_clients = args.clients if args.clients <= 1000 else 300
    args.peer_clients = min(args.peer_clients, args.clients)
    if args.profile:
        args.no_save = True
    return Orchestrator(args).run()


if __name__ == "__main__":
    sys.exit(main())
