#!/usr/bin/env python3
"""`make bench` with BENCH_WORKERS=<clients>: one billing run spread over several workers.

Run through tools/bench.sh, which passes --config (the benchmark's Odoo config,
with OCA queue_job on its addons path) and --template (the addon template).

The data are the billing benchmark's (tools/bench.py "ours": every client has
10 monthly items due today, 10 invoice lines, posted), prepared once and copied
for each mode. Each mode is a real `odoo-bin` server in multi-process mode on
its own copy, started with the daily billing job due:

  1 worker   --max-cron-threads=1: the daily job bills every batch itself
  2 workers  --max-cron-threads=2: the daily job and the billing worker cron,
             in two cron processes, claim the batches
  queue_job  the glue addon agency_billing_queue_job installed, queue_job
             loaded server-wide, channel root.agency_billing:2: each batch is a
             job, run by two HTTP worker processes

One worker is measured again after the others (pairing: the machine's speed
drifts), and the ratios compare each mode with the mean of the two.

A big day (`--big 100000`, or BENCH_WORKERS_BIG=100000 in tools/bench.sh): one
run of that many clients with two workers only, its wall time against the goal
of 45 minutes. Its data are the 10,000 clients above made with the ORM, then
copied in SQL (clients, items and their taxes, each copy a client of its own):
a million items made with the ORM would take longer than the run.

Measured: the run's own wall time, from its creation to its end (the database's
timestamps: server start and registry loading excluded); invoices made and
checked (posted, one per client, billed once); peak RSS of every process of the
server (sampled every 0.2 s), the largest worker shown; and the machine's CPU
while the run worked (/proc/stat, every process: Odoo, PostgreSQL and the rest):
how many cores were busy on average, and the CPU time per invoice. On a machine
of N cores, k workers can be at most N / (cores busy with one worker) times
faster than one, whatever the code.
"""

import argparse
import datetime
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # the billing benchmark: data and database helpers

DB_PREFIX = bench.DB_PREFIX.replace("agency_bench_", "agency_benchw_")
TARGET_TWO_WORKERS = 1.7
MODES = {
    "1 worker": {"cron_threads": 1},
    "2 workers": {"cron_threads": 2},
    "queue_job (2)": {"cron_threads": 1, "queue": True},
}


def log(msg):
    sys.stderr.write(f"[bench workers] {msg}\n")
    sys.stderr.flush()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(config_user, db, query):
    cmd = ["psql", *(["-U", config_user] if config_user else []), "-d", db, "-tAc", query]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def columns(config_user, db, table):
    return psql(
        config_user,
        db,
        f"SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position) "
        f"FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'",
    ).split(",")


def clone_clients(config_user, db, prefix, total):
    """Copy the benchmark's clients (and their items, with their taxes) in SQL until there are ``total``."""
    partner_cols = columns(config_user, db, "res_partner")
    item_cols = columns(config_user, db, "agency_billable_item")
    copied = {
        "id": "m.new_id",
        "name": "p.name || ' / ' || m.copy",
        "complete_name": "p.name || ' / ' || m.copy",
        "commercial_partner_id": "m.new_id",
        "commercial_company_name": "p.name || ' / ' || m.copy",
    }
    partner_select = ", ".join(copied.get(col, f"p.{col}") for col in partner_cols)
    item_select = ", ".join(
        {"id": "im.new_id", "partner_id": "im.partner_id"}.get(col, f"i.{col}") for col in item_cols
    )
    psql(
        config_user,
        db,
        f"""
        BEGIN;
        CREATE TEMP TABLE clone_map AS
            SELECT p.id AS old_id, nextval('res_partner_id_seq') AS new_id, c.n AS copy
              FROM (SELECT id FROM res_partner WHERE name LIKE '{prefix}%' AND is_company ORDER BY id) p
             CROSS JOIN generate_series(2, {total} / (SELECT count(*) FROM res_partner
                                                     WHERE name LIKE '{prefix}%' AND is_company)) c(n)
             ORDER BY c.n, p.id;
        INSERT INTO res_partner ({",".join(partner_cols)})
            SELECT {partner_select} FROM res_partner p JOIN clone_map m ON m.old_id = p.id ORDER BY m.new_id;
        CREATE TEMP TABLE item_map AS
            SELECT i.id AS old_id, nextval('agency_billable_item_id_seq') AS new_id, m.new_id AS partner_id
              FROM agency_billable_item i JOIN clone_map m ON m.old_id = i.partner_id ORDER BY m.new_id, i.id;
        INSERT INTO agency_billable_item ({",".join(item_cols)})
            SELECT {item_select} FROM agency_billable_item i JOIN item_map im ON im.old_id = i.id;
        INSERT INTO account_tax_agency_billable_item_rel (agency_billable_item_id, account_tax_id)
            SELECT im.new_id, r.account_tax_id FROM account_tax_agency_billable_item_rel r
              JOIN item_map im ON im.old_id = r.agency_billable_item_id;
        COMMIT;
        ANALYZE;
        """,
    )
    return int(
        psql(config_user, db, f"SELECT count(*) FROM res_partner WHERE name LIKE '{prefix}%' AND is_company")
    )


def cpu_ticks():
    """(busy, total) jiffies of the whole machine since boot (/proc/stat's first line)."""
    with open("/proc/stat", encoding="utf-8") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def tree_rss_mb(root_pid):
    """{pid: RSS MB} of a process and its children."""
    pids, found = [root_pid], {}
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        found[pid] = int(line.split()[1]) / 1024
            with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as children:
                pids.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


class Bench:
    def __init__(self, args):
        self.args = args
        self.orchestrator = bench.Orchestrator(args)
        self.odoo_bin = os.path.join(os.environ["ODOO_DIR"], "odoo-bin")

    def pg_query(self, db, query):
        return psql(self.orchestrator.pg_user, db, query)

    def prepare(self, clients=None, copied_to=None):
        clients = clients or self.args.clients
        base = f"{DB_PREFIX}_base_{copied_to or clients}"
        o = self.orchestrator
        o.copy(self.args.template, base)
        log(f"data: {clients} clients, 10 items each")
        o.worker("prepare-base", "--db", base, "--clients", str(clients), what="base data")
        o.worker("prepare", "ours", "--db", base, "--clients", str(clients), what="items")
        if copied_to:
            log(f"data: copying them in SQL up to {copied_to} clients")
            made = clone_clients(o.pg_user, base, bench.CLIENT_PREFIX, copied_to)
            assert made == copied_to, f"{made} clients after copying, expected {copied_to}"
        # the benchmark's cron: no other job of the server runs meanwhile
        self.pg_query(
            base,
            "UPDATE ir_cron SET active = false WHERE id NOT IN "
            "(SELECT res_id FROM ir_model_data WHERE model = 'ir.cron' AND module = 'agency_billing')",
        )
        self.batch_size = (
            self.pg_query(
                base, "SELECT value FROM ir_config_parameter WHERE key = 'agency_billing.batch_size'"
            )
            or "100"
        )
        return base

    def install_queue(self, db):
        log(f"installing agency_billing_queue_job (and OCA queue_job) on {db}")
        subprocess.run(
            [
                sys.executable,
                self.odoo_bin,
                "-c",
                self.args.config,
                "-d",
                db,
                "-i",
                "agency_billing_queue_job",
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
            ],
            check=True,
            capture_output=True,
        )

    def measure(self, name, mode, base):
        db = f"{DB_PREFIX}_{name.split()[0].replace('(', '')}_{len(self.results)}"
        self.orchestrator.copy(base, db)
        if mode.get("queue"):
            self.install_queue(db)
        self.pg_query(
            db,
            "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') - interval '1 minute' "
            "WHERE id = (SELECT res_id FROM ir_model_data WHERE module = 'agency_billing' "
            "AND name = 'ir_cron_bill_due_items')",
        )
        logfile = os.path.join(os.path.dirname(self.args.config), f"bench-workers-{len(self.results)}.log")
        env = dict(os.environ)
        cmd = [
            sys.executable,
            self.odoo_bin,
            "-c",
            self.args.config,
            "-d",
            db,
            "--db-filter",
            f"^{db}$",
            "--workers=2",
            f"--max-cron-threads={mode['cron_threads']}",
            f"--http-port={free_port()}",
            "--http-interface=127.0.0.1",
            "--limit-time-real-cron=0",
            "--limit-time-cpu=1200",
            "--limit-time-real=2400",
            "--log-level=warn",
            f"--logfile={logfile}",
        ]
        if mode.get("queue"):
            cmd.append("--load=base,web,queue_job")
            env.update(
                ODOO_QUEUE_JOB_CHANNELS="root:2,root.agency_billing:2", ODOO_QUEUE_JOB_HOST="127.0.0.1"
            )
        log(f"{name}: billing {self.args.clients} clients")
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        peak = {}
        cpu_start = cpu_end = None
        try:
            deadline = time.monotonic() + 4 * 3600
            while True:
                for pid, rss in tree_rss_mb(server.pid).items():
                    peak[pid] = max(peak.get(pid, 0), rss)
                state = self.pg_query(
                    db, "SELECT state FROM agency_billing_run WHERE trigger = 'cron' ORDER BY id DESC LIMIT 1"
                )
                if state and cpu_start is None:
                    cpu_start = cpu_ticks()  # the run exists: the billing has started
                if state in ("done", "failed", "stopped"):
                    cpu_end = cpu_ticks()
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(
                        f"[bench workers] {name}: the server stopped or the run never ended; see {logfile}"
                    )
                time.sleep(0.2)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        row = self.pg_query(
            db,
            """SELECT EXTRACT(EPOCH FROM r.date_finished - r.create_date),
                      (SELECT count(*) FROM account_move m WHERE m.agency_billing_run_id = r.id AND m.state = 'posted'),
                      (SELECT count(DISTINCT m.partner_id) FROM account_move m WHERE m.agency_billing_run_id = r.id),
                      (SELECT count(*) FROM (SELECT 1 FROM account_move_line l WHERE l.agency_item_id IS NOT NULL
                            GROUP BY l.agency_item_id, l.agency_period_key HAVING count(*) > 1) d),
                      (SELECT count(DISTINCT worker) FROM agency_billing_batch b WHERE b.run_id = r.id),
                      (SELECT count(*) FROM agency_billing_batch b WHERE b.run_id = r.id)
                 FROM agency_billing_run r WHERE r.trigger = 'cron' ORDER BY r.id DESC LIMIT 1""",
        ).split("|")
        seconds, invoices, clients, doubles, workers, batches = float(row[0]), *map(int, row[1:])
        result = {
            "name": name,
            "seconds": seconds,
            "invoices": invoices,
            "per_min": invoices / seconds * 60 if seconds else 0,
            "ok": invoices == clients == self.args.clients and not doubles,
            "doubles": doubles,
            "workers": workers,
            "batches": batches,
            "peak_worker_mb": max(peak.values(), default=0),
        }
        busy, total = (end - start for start, end in zip(cpu_start, cpu_end, strict=True))
        ticks = os.sysconf("SC_CLK_TCK")
        result["cores_busy"] = busy / total * os.cpu_count() if total else 0.0
        result["cpu_ms_per_invoice"] = busy / ticks * 1000 / invoices if invoices else 0.0
        log(
            f"{name}: {invoices} posted invoices in {seconds:.1f}s ({result['per_min']:.0f}/min), "
            f"{workers} workers, billed once: {not doubles}"
        )
        if not self.args.keep:
            self.orchestrator.drop(db)
        self.results.append(result)
        return result

    def run(self):
        started = datetime.datetime.now()
        self.results = []
        base = self.prepare()
        for name, mode in MODES.items():
            self.measure(name, mode, base)
        again = self.measure("1 worker", MODES["1 worker"], base)  # pairing
        if not self.args.keep:
            self.orchestrator.drop(base)
        self.report(started, again)
        return 0 if all(r["ok"] for r in self.results) else 1

    def run_big(self):
        """One run of ``--big`` clients with two workers: its wall time against the 45-minute goal."""
        started = datetime.datetime.now()
        self.results = []
        base = self.prepare(clients=min(self.args.clients, self.args.big), copied_to=self.args.big)
        self.args.clients = self.args.big
        result = self.measure("2 workers", MODES["2 workers"], base)
        if not self.args.keep:
            self.orchestrator.drop(base)
        m = bench.machine()
        minutes = result["seconds"] / 60
        text = "\n".join(
            [
                f"## A big billing day: {self.args.big:,} clients, two workers — {started:%Y-%m-%d %H:%M}",
                "",
                f"- 10 lines per invoice, posted; `agency_billing.batch_size` {self.batch_size}; multi-process "
                f"Odoo (`--workers=2 --max-cron-threads=2`); wall time of the run itself",
                f"- machine: {m['nproc']} cores, {m['cpu']}, {m['ram']} RAM; PostgreSQL {m['pg']}; "
                f"load average at the end {m['load']}",
                f"- commit: {bench.git_commit()}",
                "",
                "| invoices | wall time | invoices/min | batches | largest process MB | cores busy | CPU ms/invoice "
                "| billed once |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
                f"| {result['invoices']:,} | {minutes:.1f} min | {result['per_min']:,.0f} | {result['batches']} | "
                f"{result['peak_worker_mb']:.0f} | {result['cores_busy']:.2f} | {result['cpu_ms_per_invoice']:.1f} | "
                f"{'yes' if result['ok'] else 'NO'} |",
                "",
                f"- {self.args.big:,} clients in {minutes:.1f} minutes with two workers (goal: under 45) — "
                f"{'PASS' if minutes < 45 and result['ok'] else 'FAIL'}",
                "",
            ]
        )
        print(text)
        if not self.args.no_save:
            with open(bench.RESULTS_FILE, "a", encoding="utf-8") as results:
                results.write("\n" + text)
        return 0 if result["ok"] and minutes < 45 else 1

    def report(self, started, again):
        one = (self.results[0]["per_min"] + again["per_min"]) / 2
        m = bench.machine()
        lines = [
            f"## Billing with several workers — {started:%Y-%m-%d %H:%M}",
            "",
            f"- {self.args.clients:,} clients, 10 lines per invoice, posted; `agency_billing.batch_size` "
            f"{self.batch_size}; multi-process Odoo (`--workers=2`); wall time of the run itself",
            f"- machine: {m['nproc']} cores, {m['cpu']}, {m['ram']} RAM; PostgreSQL {m['pg']}; "
            f"load average at the end {m['load']}",
            f"- commit: {bench.git_commit()}",
            "",
            "| mode | invoices | wall time | invoices/min | vs 1 worker | workers | batches | largest process MB "
            "| cores busy | CPU ms/invoice | billed once |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in self.results:
            ratio = r["per_min"] / one if one else 0
            lines.append(
                f"| {r['name']} | {r['invoices']:,} | {r['seconds'] / 60:.1f} min | {r['per_min']:,.0f} | "
                f"{ratio:.2f}x | {r['workers']} | {r['batches']} | {r['peak_worker_mb']:.0f} | "
                f"{r['cores_busy']:.2f} | {r['cpu_ms_per_invoice']:.1f} | {'yes' if r['ok'] else 'NO'} |"
            )
        two = self.results[1]["per_min"] / one if one else 0
        queue = self.results[2]["per_min"] / one if one else 0
        # the machine's CPU counts every process: the quieter of the two one-worker runs is the truer
        one_busy = min(self.results[0]["cores_busy"], again["cores_busy"])
        bound = os.cpu_count() / one_busy if one_busy else 0
        lines += [
            "",
            f"- one worker keeps {one_busy:.2f} of the machine's {os.cpu_count()} cores busy (the quieter of its "
            f"two runs; Odoo, PostgreSQL and any other process): at the same CPU per invoice, two workers can be "
            f"at most {bound:.2f}x as fast as one on this machine"
            f"{' — below the 1.7x target whatever the code' if bound < TARGET_TWO_WORKERS else ''}; "
            f"a one-worker run with clearly more cores busy ran beside something else",
            f"- 2 workers: {two:.2f}x one worker (target {TARGET_TWO_WORKERS}x) — "
            f"{'PASS' if two >= TARGET_TWO_WORKERS else 'FAIL'}",
            f"- queue_job, 2 jobs at once: {queue:.2f}x one worker (target {TARGET_TWO_WORKERS}x) — "
            f"{'PASS' if queue >= TARGET_TWO_WORKERS else 'FAIL'}",
            "",
        ]
        text = "\n".join(lines)
        print(text)
        if not self.args.no_save:
            with open(bench.RESULTS_FILE, "a", encoding="utf-8") as results:
                results.write("\n" + text)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--filestore", required=True)
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--big", type=int, help="one run of this many clients with two workers instead")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    if not shutil.which("psql"):
        sys.exit("psql is missing")
    return Bench(args).run_big() if args.big else Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
