#!/usr/bin/env bash
# `make bench`: our billing run against three peers (Odoo per-client loop, Odoo
# batched create/post, OCA contract 19.0's cron) on the same data, in one run,
# then the time-billing case (50 timesheet lines per client through the same
# cron job). Prints the tables and appends them to bench/RESULTS.md.
#
#   make bench                         1,000 clients
#   BENCH_CLIENTS=10000 make bench     10,000 clients (or: bash tools/bench.sh --clients 10000)
#   BENCH_CLIENTS=50 make bench        a quick smoke run
#   BENCH_PEER_CLIENTS=300             clients for the three peers (default: auto, see tools/bench.py)
#   BENCH_TIME_CLIENTS=200             clients of the time case, 50 timesheet lines each (default: BENCH_CLIENTS)
#   BENCH_ARGS="--only time"           only the time case (BENCH_CLIENTS=10000: 500,000 timesheet lines)
#   BENCH_ARGS="--only ours --profile" more options of tools/bench.py (--help lists them)
#   BENCH_JOBS=none                    skip the batch jobs (tools/bench_jobs/: statements, reminders, ...)
#   BENCH_JOBS=reminders,statements    only these batch jobs;  BENCH_ONLY_JOBS=1: no billing-run cases
#   BENCH_JOB_SIZES=100,1000           the batch jobs at these sizes instead of each job's own
#   BENCH_KEEP=1                       keep the batch jobs' databases (to study them with psql)
#   BENCH_WORKERS=10000                also one run over 1 and 2 workers and queue_job (tools/bench_workers.py)
#   BENCH_WORKERS_BIG=100000           also one run of 100,000 clients with two workers (goal: under 45 minutes)
source "$(dirname "$0")/common.sh"
setup_all

# The template database with the addon installed: the one tools/test.sh
# builds and caches (common.sh), built here when missing.
ensure_templates
addon_tmpl="$ADDON_TMPL"

# OCA contract 19.0 from PyPI (common.sh: ensure_oca_addon), on the benchmark's
# addons path only: the test and demo databases never see the module.
ensure_oca_addon contract
# OCA queue_job: the several-workers benchmark (BENCH_WORKERS) bills with it too
ensure_oca_addon queue_job

# A config of its own: the normal addons path plus the OCA folders.
BENCH_CONF="$STATE_DIR/bench-odoo.conf"
oca_csv="$(IFS=,; echo "${oca_paths[*]}")"
sed -e "s#^addons_path = .*#&,$oca_csv#" -e "s#^log_level = .*#log_level = warn#" "$ODOO_CONF" >"$BENCH_CONF"

cd "$ROOT"
args=(--config "$BENCH_CONF" --template "$addon_tmpl" --filestore "$STATE_DIR/filestore/filestore")
[ -z "${BENCH_CLIENTS:-}" ] || args+=(--clients "$BENCH_CLIENTS")
[ -z "${BENCH_PEER_CLIENTS:-}" ] || args+=(--peer-clients "$BENCH_PEER_CLIENTS")
[ -z "${BENCH_TIME_CLIENTS:-}" ] || args+=(--time-clients "$BENCH_TIME_CLIENTS")
status=0
if [ -z "${BENCH_ONLY_JOBS:-}" ]; then
    # shellcheck disable=SC2086
    "$VENV/bin/python" "$ROOT/tools/bench.py" "${args[@]}" ${BENCH_ARGS:-} "$@" || status=$?
fi
# One billing run spread over several workers (tools/bench_workers.py): BENCH_WORKERS=<clients>.
if [ -n "${BENCH_WORKERS:-}" ]; then
    "$VENV/bin/python" "$ROOT/tools/bench_workers.py" --config "$BENCH_CONF" --template "$addon_tmpl" \
        --filestore "$STATE_DIR/filestore/filestore" --clients "$BENCH_WORKERS" || status=$?
fi
if [ -n "${BENCH_WORKERS_BIG:-}" ]; then
    "$VENV/bin/python" "$ROOT/tools/bench_workers.py" --config "$BENCH_CONF" --template "$addon_tmpl" \
        --filestore "$STATE_DIR/filestore/filestore" --big "$BENCH_WORKERS_BIG" || status=$?
fi
# The other batch jobs, each at two sizes 10x apart (tools/bench_jobs.py).
if [ "${BENCH_JOBS:-}" != none ]; then
    jobs_args=(--config "$BENCH_CONF" --template "$addon_tmpl" --filestore "$STATE_DIR/filestore/filestore")
    [ -z "${BENCH_JOBS:-}" ] || jobs_args+=(--only "$BENCH_JOBS")
    [ -z "${BENCH_JOB_SIZES:-}" ] || jobs_args+=(--sizes "$BENCH_JOB_SIZES")
    [ -z "${BENCH_KEEP:-}" ] || jobs_args+=(--keep)
    "$VENV/bin/python" "$ROOT/tools/bench_jobs.py" "${jobs_args[@]}" || status=$?
fi
exit $status
