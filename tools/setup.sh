#!/usr/bin/env bash
# Prepares the machine: system packages, Odoo 19 source, .venv, PostgreSQL.
# Idempotent; a second run only checks.
source "$(dirname "$0")/common.sh"
setup_all
log "ready: Odoo $ODOO_DIR, Python $VENV, PostgreSQL role $DB_USER, config $ODOO_CONF"
