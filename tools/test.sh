#!/usr/bin/env bash
# `make test`: a fresh database (copied from a template cached on the addon's
# content), the whole suite with pytest-odoo and Chromium, then drop it.
source "$(dirname "$0")/common.sh"
setup_all

# Browser tests are part of the suite: their tools missing is a failure, never a skip.
chrome="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chrome" ] || die "Chromium is not installed: the browser tests need it" "run: sudo apt-get install chromium"
command -v wkhtmltopdf >/dev/null || die "wkhtmltopdf is not installed: PDF reports need it" \
    "run: sudo apt-get install wkhtmltopdf"
"$VENV/bin/python" -c "import websocket" 2>/dev/null ||
    die "the Python package websocket-client is missing from .venv" "run: make setup"

ensure_templates
ensure_test_template
ensure_l10n_template
ensure_upgrade_template
ensure_queue_template
# the suite opens the queue_job database too: queue_job's folder on its addons path
sed -i -e "s#^addons_path = .*#&,$(IFS=,; echo "${oca_paths[*]}")#" "$TEST_CONF"
deps_tmpl="$DEPS_TMPL"
addon_tmpl="$ADDON_TMPL"
# Templates of earlier versions of the addon are dropped once unused for a while.
drop_stale_templates

run_id="$$"
TEST_DB="agency_test_$run_id"
DEPS_DB="agency_test_deps_$run_id"
# Tests of concurrent runs and crashes need real, committed transactions: they
# get a database of their own.
SCRATCH_DB="agency_test_scratch_$run_id"
# Invoices of localised companies are compared in a database with the localisations.
L10N_DB="agency_test_l10n_$run_id"
# A database of the previous release, upgraded by the suite.
UPGRADE_DB="agency_test_upgrade_$run_id"
# Billing batches as OCA queue_job jobs, run by queue_job's own job runner.
QUEUE_DB="agency_test_queue_$run_id"
cleanup() {
    drop_db "$TEST_DB"; drop_db "$DEPS_DB"; drop_db "$SCRATCH_DB"; drop_db "$L10N_DB"; drop_db "$UPGRADE_DB"; drop_db "$QUEUE_DB"
}
trap cleanup EXIT
clone_db "$TEST_TMPL" "$TEST_DB"
clone_db "$deps_tmpl" "$DEPS_DB"
clone_db "$addon_tmpl" "$SCRATCH_DB"
clone_db "$L10N_TMPL" "$L10N_DB"
clone_db "$UPGRADE_TMPL" "$UPGRADE_DB"
clone_db "$QUEUE_TMPL" "$QUEUE_DB"

export AGENCY_BILLING_DEPS_DB="$DEPS_DB" AGENCY_BILLING_SCRATCH_DB="$SCRATCH_DB" AGENCY_BILLING_L10N_DB="$L10N_DB" \
    AGENCY_BILLING_UPGRADE_DB="$UPGRADE_DB" AGENCY_BILLING_QUEUE_DB="$QUEUE_DB" AGENCY_BILLING_QUEUE_CONF="$QUEUE_CONF" AGENCY_BILLING_ODOO_CONF="$TEST_CONF"
log "running the test suite on $TEST_DB"
cd "$ROOT"
set +e
[ $# -gt 0 ] || set -- tests
"$VENV/bin/python" -m pytest \
    --odoo-config="$TEST_CONF" --odoo-database="$TEST_DB" --odoo-http \
    --odoo-log-level="${ODOO_TEST_LOG_LEVEL:-warn}" "$@"
status=$?
set -e
exit $status
