#!/usr/bin/env bash
# `make lint`: the pre-commit hooks (ruff lint and format, pylint-odoo, basic file checks).
source "$(dirname "$0")/common.sh"
resolve_odoo_src
ensure_venv
cd "$ROOT"
PRE_COMMIT_HOME="$CACHE_DIR/pre-commit" "$VENV/bin/pre-commit" run --all-files --show-diff-on-failure
