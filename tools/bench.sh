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
source "$(dirname "$0")/common.sh"
setup_all

# --------------------------------------------------------------------------
# Template database with the addon installed: the one tools/test.sh builds
# and caches (same keys), built here when missing.
# --------------------------------------------------------------------------
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
        >"$STATE_DIR/$name.log" 2>&1 || grep -qE " (ERROR|CRITICAL) " "$STATE_DIR/$name.log"; then
        grep -E " (ERROR|CRITICAL) " "$STATE_DIR/$name.log" | head -5 >&2 || true
        drop_db "$tmp"
        die "installing $modules failed" "see $STATE_DIR/$name.log"
    fi
    psql -U "$DB_USER" -q -c "ALTER DATABASE \"$tmp\" RENAME TO \"$name\"" || die "could not rename $tmp"
    if [ -d "$STATE_DIR/filestore/filestore/$tmp" ]; then
        mv "$STATE_DIR/filestore/filestore/$tmp" "$STATE_DIR/filestore/filestore/$name"
    fi
}
db_exists "$deps_tmpl" || build_template "$deps_tmpl" "" "$deps"
db_exists "$addon_tmpl" || build_template "$addon_tmpl" "$deps_tmpl" "$ADDON"

# --------------------------------------------------------------------------
# OCA contract 19.0 from PyPI, --no-deps (never Odoo itself), and the OCA
# addons it depends on. Each package goes to its own folder under .venv/oca/,
# which only the benchmark puts on its addons path: the test and demo
# databases never see the module.
# --------------------------------------------------------------------------
OCA_DIR="$VENV/oca"
oca_paths=()
ensure_oca_addon() { # module name
    local module="$1" dest="$OCA_DIR/$1" dep
    if [ -f "$ODOO_DIR/addons/$module/__manifest__.py" ] || [ -f "$ODOO_DIR/odoo/addons/$module/__manifest__.py" ]; then
        return 0 # an Odoo module
    fi
    case " ${oca_paths[*]:-} " in *" $dest/odoo/addons "*) return 0 ;; esac
    if [ ! -f "$dest/odoo/addons/$module/__manifest__.py" ]; then
        log "installing OCA module $module 19.0 from PyPI into .venv/oca (--no-deps)"
        rm -rf "$dest"
        "$VENV/bin/pip" install -q --no-deps --target "$dest" "odoo-addon-$module>=19.0,<19.1" \
            >"$STATE_DIR/bench-pip.log" 2>&1 ||
            die "pip could not install odoo-addon-$module 19.0 (see $STATE_DIR/bench-pip.log)" \
                "the benchmark needs PyPI (or a mirror configured for pip) for the OCA peer."
        [ -f "$dest/odoo/addons/$module/__manifest__.py" ] ||
            die "odoo-addon-$module did not install the module $module" "see $STATE_DIR/bench-pip.log"
    fi
    oca_paths+=("$dest/odoo/addons")
    for dep in $("$VENV/bin/python" -c "import ast,sys; print(' '.join(ast.literal_eval(open(sys.argv[1]).read()).get('depends', [])))" \
        "$dest/odoo/addons/$module/__manifest__.py"); do
        ensure_oca_addon "$dep"
    done
}
ensure_oca_addon contract

# A config of its own: the normal addons path plus the OCA folders.
BENCH_CONF="$STATE_DIR/bench-odoo.conf"
oca_csv="$(IFS=,; echo "${oca_paths[*]}")"
sed -e "s#^addons_path = .*#&,$oca_csv#" -e "s#^log_level = .*#log_level = warn#" "$ODOO_CONF" >"$BENCH_CONF"

cd "$ROOT"
args=(--config "$BENCH_CONF" --template "$addon_tmpl" --filestore "$STATE_DIR/filestore/filestore")
[ -z "${BENCH_CLIENTS:-}" ] || args+=(--clients "$BENCH_CLIENTS")
[ -z "${BENCH_PEER_CLIENTS:-}" ] || args+=(--peer-clients "$BENCH_PEER_CLIENTS")
[ -z "${BENCH_TIME_CLIENTS:-}" ] || args+=(--time-clients "$BENCH_TIME_CLIENTS")
# shellcheck disable=SC2086
exec "$VENV/bin/python" "$ROOT/tools/bench.py" "${args[@]}" ${BENCH_ARGS:-} "$@"
