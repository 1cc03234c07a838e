#!/usr/bin/env bash
# `make clean`: drop the cached template, leftover test and benchmark databases, and the state folder.
source "$(dirname "$0")/common.sh"
resolve_odoo_src
ensure_venv
ensure_postgres
for db in $(psql -U "$DB_USER" -tAc "select datname from pg_database where datname like 'agency\_tmpl\_%' or datname like 'agency\_test\_%' or datname like 'agency\_bench%'"); do
    log "dropping $db"
    drop_db "$db"
done
log "the demo database is kept: dropdb ${AGENCY_DB:-agency_billing_demo} to start it over"
