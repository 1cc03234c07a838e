#!/usr/bin/env python3
"""`make bench`, part two: the cost per unit of every batch job but the billing run.

Each job is one module in tools/bench_jobs/ (statements, automatic charging,
reminders, the dashboard, ...). It is measured at two sizes 10x apart, each in
a process of its own, on its own copy of one base database (the addon template
with Odoo's generic chart of accounts), so that the cost per unit can be seen
to stay flat.

A job module defines:

    NAME = "reminders"              # what --only names
    UNIT = "overdue invoice"        # what the figures are per
    SIZES = (1000, 10000)           # default sizes, 10x apart
    def prepare(env, size): ...     # creates the data (commits as it likes), returns a dict
    def measure(env, size): ...     # runs the job the way production does (the real cron job
                                    # when it is one), returns {"units": n, ...}; it may commit

Measured by this script: wall time of measure() (time.perf_counter), SQL
queries of the measuring thread (Odoo's cursor counter), peak RSS of the
measuring process. `measure()` may return "parts": {"name": seconds, ...} to
report sub-steps (e.g. the data part and the PDF part of a statement).
"""

import argparse
import datetime
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS_DIR = os.path.join(ROOT, "tools", "bench_jobs")
RESULTS_FILE = os.path.join(ROOT, "bench", "RESULTS.md")
RESULT_TAG = "BENCH_RESULT "
DB_PREFIX = "agency_bench_job"
# a job whose cost per unit at the larger size is more than this times its cost
# at the smaller one is not flat
FLATNESS_LIMIT = 1.5


def log(msg):
    sys.stderr.write(f"[bench jobs] {msg}\n")
    sys.stderr.flush()


def emit(payload):
    sys.stdout.write(RESULT_TAG + json.dumps(payload) + "\n")
    sys.stdout.flush()


def discover():
    """{name: module} of the job modules in tools/bench_jobs/."""
    jobs = {}
    if not os.path.isdir(JOBS_DIR):
        return jobs
    for filename in sorted(os.listdir(JOBS_DIR)):
        if not filename.endswith(".py") or filename.startswith("_"):
            continue
        path = os.path.join(JOBS_DIR, filename)
        spec = importlib.util.spec_from_file_location(f"bench_jobs_{filename[:-3]}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        jobs[module.NAME] = module
    return jobs


# ----------------------------------------------------------------------------
# Workers (Odoo loaded)
# ----------------------------------------------------------------------------
def open_env(config, db):
    import odoo  # noqa: F401
    from odoo.modules.registry import Registry
    from odoo.tools import config as odoo_config

    odoo_config.parse_config(["-c", config, "-d", db, "--no-http"], setup_logging=True)
    threading.current_thread().dbname = db
    return Registry(db)


def make_env(cr):
    from odoo import SUPERUSER_ID, api

    return api.Environment(
        cr,
        SUPERUSER_ID,
        {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True},
    )


def cmd_base(args):
    registry = open_env(args.config, args.db)
    with registry.cursor() as cr:
        env = make_env(cr)
        company = env.ref("base.main_company")
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        cr.commit()
    emit({"ok": True})


def cmd_prepare(args):
    job = discover()[args.job]
    registry = open_env(args.config, args.db)
    with registry.cursor() as cr:
        env = make_env(cr)
        info = job.prepare(env, args.size) or {}
        cr.commit()
    emit({"ok": True, **info})


def cmd_measure(args):
    job = discover()[args.job]
    registry = open_env(args.config, args.db)
    thread = threading.current_thread()
    with registry.cursor() as cr:
        env = make_env(cr)
        cr.commit()
        thread.query_count = 0
        t0 = time.perf_counter()
        result = job.measure(env, args.size) or {}
        seconds = time.perf_counter() - t0
        queries = thread.query_count
        cr.commit()
    emit(
        {
            **result,
            "seconds": seconds,
            "queries": queries,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


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
            logfile = os.path.join(os.path.dirname(self.args.config), "bench-jobs-error.log")
            with open(logfile, "w", encoding="utf-8") as f:
                f.write(proc.stdout + "\n" + proc.stderr)
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            sys.exit(
                f"[bench jobs] ERROR: {what} failed (exit {proc.returncode}); full log: {logfile}\n{tail}"
            )
        return json.loads(results[-1])

    def run(self, jobs):
        a = self.args
        started = datetime.datetime.now()
        base = f"{DB_PREFIX}_base"
        self.copy(a.template, base)
        self.worker("base", "--db", base, what="base database")
        results = []
        for name, job in jobs.items():
            sizes = [int(s) for s in a.sizes.split(",")] if a.sizes else list(job.SIZES)
            for size in sizes:
                db = f"{DB_PREFIX}_{name}_{size}"
                self.copy(base, db)
                t = time.perf_counter()
                log(f"{name}: preparing {size:,} {job.UNIT}s (not measured)")
                prepared = self.worker("prepare", name, "--db", db, "--size", str(size), what=f"{name} data")
                log(f"{name}: data ready in {time.perf_counter() - t:.0f}s; measuring")
                res = self.worker("measure", name, "--db", db, "--size", str(size), what=f"measuring {name}")
                res.update(job=name, size=size, prepared=prepared)
                units = res.get("units") or 0
                log(
                    f"{name} at {size:,}: {units:,} {job.UNIT}s in {res['seconds']:.1f}s "
                    f"({res['seconds'] / max(units, 1) * 1000:.2f} ms, "
                    f"{res['queries'] / max(units, 1):.2f} queries per {job.UNIT})"
                )
                results.append(res)
                if not a.keep:
                    self.drop(db)
        if not a.keep:
            self.drop(base)
        report = render(jobs, results, started)
        sys.stdout.write(report + "\n")
        if not a.no_save:
            with open(RESULTS_FILE, "a", encoding="utf-8") as f:
                f.write("\n" + report + "\n")
            log(f"appended to {os.path.relpath(RESULTS_FILE, ROOT)}")
        return 0 if all(r.get("ok", True) for r in results) else 1


def render(jobs, results, started):
    lines = [
        f"## Batch jobs — {started:%Y-%m-%d %H:%M}",
        "",
        "| job | size | units | seconds | ms/unit | queries/unit | peak RSS MB | parts |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        units = max(r.get("units") or 0, 1)
        parts = ", ".join(f"{k} {v / units * 1000:.2f} ms/unit" for k, v in (r.get("parts") or {}).items())
        lines.append(
            f"| {r['job']} ({jobs[r['job']].UNIT}) | {r['size']:,} | {r.get('units', 0):,} | "
            f"{r['seconds']:.1f} | {r['seconds'] / units * 1000:.2f} | {r['queries'] / units:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {parts} |"
        )
    lines.append("")
    for name in jobs:
        runs = sorted((r for r in results if r["job"] == name), key=lambda r: r["size"])
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        cost = [r["seconds"] / max(r.get("units") or 0, 1) for r in (small, large)]
        queries = [r["queries"] / max(r.get("units") or 0, 1) for r in (small, large)]
        ratio = cost[1] / cost[0] if cost[0] else float("nan")
        flat = ratio <= FLATNESS_LIMIT and queries[1] <= queries[0] * FLATNESS_LIMIT + 0.5
        lines.append(
            f"- {name}: cost per {jobs[name].UNIT} at {large['size']:,} is {ratio:.2f}× the cost at "
            f"{small['size']:,} ({queries[0]:.2f} → {queries[1]:.2f} queries) — "
            + ("flat (PASS)" if flat else "**not flat (FAIL)**")
        )
        for r in runs:
            r["ok"] = r.get("ok", True) and flat
    for r in results:
        if r.get("check"):
            lines.append(f"- {r['job']} at {r['size']:,}: {r['check']}")
    return "\n".join(lines)


def main():
    jobs = discover()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd")
    p = sub.add_parser("base")
    p.add_argument("--db", required=True)
    p.add_argument("--config", required=True)
    for name in ("prepare", "measure"):
        p = sub.add_parser(name)
        p.add_argument("job", choices=sorted(jobs))
        p.add_argument("--db", required=True)
        p.add_argument("--size", type=int, required=True)
        p.add_argument("--config", required=True)
    parser.add_argument("--config")
    parser.add_argument("--template")
    parser.add_argument("--filestore")
    parser.add_argument("--only", default="", help=f"comma-separated jobs, of {', '.join(sorted(jobs))}")
    parser.add_argument("--sizes", default="", help="comma-separated sizes instead of each job's own")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    if args.cmd == "base":
        return cmd_base(args)
    if args.cmd == "prepare":
        return cmd_prepare(args)
    if args.cmd == "measure":
        return cmd_measure(args)
    selected = {n: j for n, j in jobs.items() if not args.only or n in args.only.split(",")}
    if not selected:
        log("no batch job selected")
        return 0
    return Orchestrator(args).run(selected)


if __name__ == "__main__":
    sys.exit(main())
