#!/usr/bin/env bash
# `make run`: Odoo 19 with agency_billing on a demo database, kept between runs.
source "$(dirname "$0")/common.sh"
setup_all

DB="${AGENCY_DB:-agency_billing_demo}"
PORT="${ODOO_PORT:-8069}"
HOST="${ODOO_HTTP_INTERFACE:-127.0.0.1}"
addon_key="$(cd "$ROOT" && find "$ADDON" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
    sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)"
stamp="$STATE_DIR/run-$DB.addon"

if ! db_exists "$DB"; then
    log "creating the demo database $DB (first run: a few minutes)"
    odoo_bin -d "$DB" -i "$ADDON,$EXTRA_MODULES" --with-demo --stop-after-init --no-http --log-level=warn \
        >"$STATE_DIR/run-$DB-init.log" 2>&1 || {
        drop_db "$DB"
        die "could not create the demo database $DB" "see $STATE_DIR/run-$DB-init.log"
    }
    echo "$addon_key" >"$stamp"
elif [ "$(cat "$stamp" 2>/dev/null)" != "$addon_key" ]; then
    log "the addon changed since the last run: updating it in $DB (data is kept)"
    odoo_bin -d "$DB" -u "$ADDON" --stop-after-init --no-http --log-level=warn \
        >"$STATE_DIR/run-$DB-update.log" 2>&1 ||
        die "updating the addon in $DB failed" "see $STATE_DIR/run-$DB-update.log"
    echo "$addon_key" >"$stamp"
fi

if command -v wkhtmltopdf >/dev/null && ! wkhtmltopdf --version 2>/dev/null | grep -q "with patched qt"; then
    log "note: this wkhtmltopdf is built without its patched Qt: Odoo's own PDFs get no page header or footer"
    log "      (logo, address) and several documents never share one PDF. This addon's invoice layouts and"
    log "      statements are complete with it; for production install the patched build (see the README)."
fi
log "Odoo is starting: http://$HOST:$PORT/odoo  (database $DB, login admin, password admin)"
log "stop it with Ctrl+C; the data stays for the next 'make run'"
exec "$VENV/bin/python" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$" \
    --http-interface="$HOST" --http-port="$PORT" ${ODOO_RUN_ARGS:-}
