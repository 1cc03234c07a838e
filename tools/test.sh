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

# Template databases: one with only the addon's dependencies, one with the
# addon installed on top. Each is keyed on what it was built from.
odoo_key="$( { echo "$ODOO_DIR"; cat "$ODOO_DIR/odoo/release.py"; git -C "$ODOO_DIR" rev-parse HEAD 2>/dev/null || true; } | sha1sum | cut -c1-8)"
deps="$(addon_depends)"
deps_key="$(printf '%s|%s' "$odoo_key" "$deps" | sha1sum | cut -c1-10)"
addon_key="$( { echo "$deps_key"; (cd "$ROOT" && find "$ADDON" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
    sort -z | xargs -0 sha1sum); } | sha1sum | cut -c1-10)"
deps_tmpl="agency_tmpl_deps_$deps_key"
addon_tmpl="agency_tmpl_addon_$addon_key"

build_template() { # name, source-template-or-empty, modules
    local name="$1" from="$2" modules="$3" tmp="$1_building"
    drop_db "$tmp"
    if [ -n "$from" ]; then clone_db "$from" "$tmp"; fi
    log "building template database $name (installs $modules; once per change)"
    if ! odoo_bin -d "$tmp" -i "$modules" --stop-after-init --no-http --log-level=warn \
        >"$STATE_DIR/$name.log" 2>&1; then
        drop_db "$tmp"
        die "installing $modules failed" "see $STATE_DIR/$name.log"
    fi
    if grep -E " (ERROR|CRITICAL) " "$STATE_DIR/$name.log" >/dev/null; then
        grep -E " (ERROR|CRITICAL) " "$STATE_DIR/$name.log" | head -5 >&2
        drop_db "$tmp"
        die "installing $modules logged errors" "see $STATE_DIR/$name.log"
    fi
    psql -U "$DB_USER" -q -c "ALTER DATABASE \"$tmp\" RENAME TO \"$name\"" ||
        die "could not rename $tmp"
    if [ -d "$STATE_DIR/filestore/filestore/$tmp" ]; then
        mv "$STATE_DIR/filestore/filestore/$tmp" "$STATE_DIR/filestore/filestore/$name"
    fi
}

db_exists "$deps_tmpl" || build_template "$deps_tmpl" "" "$deps"
db_exists "$addon_tmpl" || build_template "$addon_tmpl" "$deps_tmpl" "$ADDON"

# Old templates of earlier versions of the addon are dropped.
for old in $(psql -U "$DB_USER" -tAc "select datname from pg_database where datname like 'agency\_tmpl\_%'"); do
    [ "$old" = "$deps_tmpl" ] || [ "$old" = "$addon_tmpl" ] || drop_db "$old"
done

run_id="$$"
TEST_DB="agency_test_$run_id"
DEPS_DB="agency_test_deps_$run_id"
# Tests of concurrent runs and crashes need real, committed transactions: they
# get a database of their own.
SCRATCH_DB="agency_test_scratch_$run_id"
cleanup() { drop_db "$TEST_DB"; drop_db "$DEPS_DB"; drop_db "$SCRATCH_DB"; }
trap cleanup EXIT
clone_db "$addon_tmpl" "$TEST_DB"
clone_db "$deps_tmpl" "$DEPS_DB"
clone_db "$addon_tmpl" "$SCRATCH_DB"

export AGENCY_BILLING_DEPS_DB="$DEPS_DB" AGENCY_BILLING_SCRATCH_DB="$SCRATCH_DB"
log "running the test suite on $TEST_DB"
cd "$ROOT"
set +e
[ $# -gt 0 ] || set -- tests
"$VENV/bin/python" -m pytest \
    --odoo-config="$ODOO_CONF" --odoo-database="$TEST_DB" --odoo-http \
    --odoo-log-level="${ODOO_TEST_LOG_LEVEL:-warn}" "$@"
status=$?
set -e
exit $status
