# shellcheck shell=bash
# Shared helpers for the project's commands (setup, run, test, bench, lint).
# Sourced, never executed. Every failure says what failed and what to do.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON=agency_billing
STATE_DIR="${AGENCY_STATE_DIR:-$ROOT/.state}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/agency_billing"
VENV="$ROOT/.venv"
ODOO_GIT_URL="https://github.com/odoo/odoo.git"
ODOO_BRANCH="19.0"
# Odoo modules the test, benchmark and demo databases have besides the addon:
# Odoo's demo payment provider, to pay and charge cards without a real one.
EXTRA_MODULES="payment_demo"
# Localisations whose invoices the suite makes both ways (one-go and Odoo's ordinary
# creation) in a database of their own.
L10N_MODULES="l10n_ch,l10n_be,l10n_de,l10n_fr_account,l10n_in,l10n_us"
# The release a database upgrades from in tests/test_upgrade.py (a commit of
# this repository's history: 19.0.1.0.0).
PREVIOUS_RELEASE="968f1c1"
APT_PACKAGES=(postgresql postgresql-contrib libpq-dev libldap2-dev libsasl2-dev python3-venv python3-dev
    wkhtmltopdf poppler-utils chromium fonts-dejavu-core fonts-noto-core fonts-liberation2 git)

log() { printf '\033[1m[agency_billing]\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[31m[agency_billing] ERROR:\033[0m %s\n' "$1" >&2
    shift || true
    for line in "$@"; do printf '    %s\n' "$line" >&2; done
    exit 1
}

mkdir -p "$STATE_DIR" "$CACHE_DIR"

# --------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------
ensure_system_packages() {
    local missing=() pkg
    command -v dpkg-query >/dev/null 2>&1 || {
        log "not a Debian/Ubuntu system: make sure PostgreSQL, wkhtmltopdf and Chromium are installed"
        return 0
    }
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing system packages: ${missing[*]}" \
            "run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" \
            "then run this command again."
    fi
    log "installing system packages: ${missing[*]}"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$STATE_DIR/apt.log" 2>&1 ||
        { apt-get update -q >>"$STATE_DIR/apt.log" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$STATE_DIR/apt.log" 2>&1; }; }; then
        die "apt-get could not install: ${missing[*]}" "see $STATE_DIR/apt.log"
    fi
}

# --------------------------------------------------------------------------
# Odoo source tree
# --------------------------------------------------------------------------
is_odoo19_tree() {
    [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] && [ -d "$1/addons/account" ] &&
        grep -Eq "^version_info = \(19, 0," "$1/odoo/release.py"
}

# Sets ODOO_DIR. Order: $ODOO_SRC (directory or git URL), the tree remembered
# by an earlier setup, a shallow clone of the official repository.
resolve_odoo_src() {
    local remembered="$CACHE_DIR/odoo-src" candidate=""
    if [ -n "${ODOO_SRC:-}" ]; then
        if [ -d "$ODOO_SRC" ]; then
            candidate="$(cd "$ODOO_SRC" && pwd)"
            is_odoo19_tree "$candidate" ||
                die "ODOO_SRC=$ODOO_SRC is not an Odoo 19.0 source tree" \
                    "it must hold odoo-bin, odoo/release.py (version 19.0) and addons/account."
        else
            candidate="$CACHE_DIR/odoo-$(printf '%s' "$ODOO_SRC" | sha1sum | cut -c1-10)"
            clone_odoo "$ODOO_SRC" "$candidate"
        fi
    elif [ -f "$remembered" ] && is_odoo19_tree "$(cat "$remembered")"; then
        candidate="$(cat "$remembered")"
    else
        candidate="$CACHE_DIR/odoo-official"
        is_odoo19_tree "$candidate" || clone_odoo "$ODOO_GIT_URL" "$candidate"
    fi
    printf '%s\n' "$candidate" >"$remembered"
    ODOO_DIR="$candidate"
    export ODOO_DIR
}

clone_odoo() {
    local url="$1" dest="$2"
    if is_odoo19_tree "$dest"; then return 0; fi
    log "cloning Odoo $ODOO_BRANCH from $url (shallow, a few minutes)"
    rm -rf "$dest.partial"
    if ! git clone --quiet --depth 1 --branch "$ODOO_BRANCH" "$url" "$dest.partial" 2>"$STATE_DIR/clone.log"; then
        rm -rf "$dest.partial"
        die "could not get Odoo 19.0 from $url (see $STATE_DIR/clone.log)" \
            "set ODOO_SRC to an Odoo 19.0 source tree (a directory) or a git URL, for example:" \
            "  ODOO_SRC=/path/to/odoo-19.0 make test"
    fi
    mv "$dest.partial" "$dest"
    is_odoo19_tree "$dest" || die "$url branch $ODOO_BRANCH is not Odoo 19.0" \
        "set ODOO_SRC to an Odoo 19.0 source tree or git URL."
}

# --------------------------------------------------------------------------
# Python virtualenv
# --------------------------------------------------------------------------
find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local stamp="$VENV/.agency_billing-stamp" want
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ]; then
        want="$( { cat "$ODOO_DIR/requirements.txt" "$ROOT/requirements-dev.txt"; echo "$ODOO_DIR"; "$VENV/bin/python" --version; } | sha1sum | cut -c1-16)"
        [ "$(cat "$stamp")" = "$want" ] && return 0
    fi
    PYTHON_BIN="$(find_python)" ||
        die "no Python 3.10+ found: Odoo 19 needs Python 3.11 or newer" \
            "install it (apt-get install python3.11 python3.11-venv python3.11-dev) or set PYTHON=/path/to/python3"
    log "building the Python virtualenv in .venv (first time: a few minutes)"
    [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV" ||
        die "could not create $VENV" "install the venv module: apt-get install python3-venv"
    want="$( { cat "$ODOO_DIR/requirements.txt" "$ROOT/requirements-dev.txt"; echo "$ODOO_DIR"; "$VENV/bin/python" --version; } | sha1sum | cut -c1-16)"
    {
        "$VENV/bin/pip" install -q --upgrade pip wheel "setuptools<81" &&
            "$VENV/bin/pip" install -q -r "$ODOO_DIR/requirements.txt" -r "$ROOT/requirements-dev.txt"
    } >"$STATE_DIR/pip.log" 2>&1 ||
        die "pip could not install the Python requirements (see $STATE_DIR/pip.log)" \
            "missing C headers are the usual cause: run 'make setup' as root, or install libpq-dev libldap2-dev libsasl2-dev python3-dev"
    # Odoo is used from its source tree, not installed: a .pth file puts it on the path.
    local site
    site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    printf '%s\n' "$ODOO_DIR" >"$site/odoo-src.pth"
    printf '%s\n' "$want" >"$stamp"
}

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------
pg_answers() { pg_isready -q -d postgres >/dev/null 2>&1; }

# Starts a server when none answers: the distribution's cluster when we are
# root, else a private cluster under the state folder.
ensure_postgres() {
    export PGDATABASE=postgres
    if [ -f "$STATE_DIR/pg/PG_VERSION" ] && [ -z "${PGHOST:-}" ]; then
        export PGHOST="$STATE_DIR/pg-run" PGPORT="${PGPORT:-5432}"
    fi
    if ! pg_answers; then
        if [ -n "${PGHOST:-}" ] && [ "${PGHOST#/}" = "$PGHOST" ] && [ "$PGHOST" != localhost ] && [ "$PGHOST" != 127.0.0.1 ]; then
            die "PostgreSQL at PGHOST=$PGHOST does not answer" "start it, or unset PGHOST to use a local server."
        fi
        start_local_postgres
    fi
    ensure_pg_role
}

start_local_postgres() {
    local cluster
    if [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
        cluster="$(pg_lsclusters --no-header 2>/dev/null | awk '{print $1" "$2; exit}')"
        if [ -z "$cluster" ]; then
            log "creating the PostgreSQL cluster"
            pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null ||
                die "pg_createcluster failed" "check the postgresql package installation."
            cluster="$(pg_lsclusters --no-header | awk '{print $1" "$2; exit}')"
        fi
        log "starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start 2>"$STATE_DIR/pg-start.log" || true
        unset PGHOST
    else
        start_private_postgres
    fi
    local i
    for i in $(seq 1 30); do pg_answers && return 0; sleep 1; done
    die "PostgreSQL did not start" "see $STATE_DIR/pg-start.log and the server log"
}

start_private_postgres() {
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$bindir" ] || bindir="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"
    [ -x "$bindir/initdb" ] || die "no PostgreSQL server binaries found" \
        "install PostgreSQL (sudo apt-get install postgresql) or point PGHOST/PGPORT/PGUSER at a server."
    mkdir -p "$STATE_DIR/pg-run"
    if [ ! -f "$STATE_DIR/pg/PG_VERSION" ]; then
        log "creating a private PostgreSQL cluster in $STATE_DIR/pg"
        "$bindir/initdb" -D "$STATE_DIR/pg" -U "$(id -un)" --auth=trust >"$STATE_DIR/pg-start.log" 2>&1 ||
            die "initdb failed" "see $STATE_DIR/pg-start.log"
    fi
    export PGHOST="$STATE_DIR/pg-run" PGPORT="${PGPORT:-5432}"
    log "starting the private PostgreSQL cluster"
    "$bindir/pg_ctl" -D "$STATE_DIR/pg" -l "$STATE_DIR/pg.log" -w \
        -o "-k $STATE_DIR/pg-run -c listen_addresses='' -p $PGPORT" start >>"$STATE_DIR/pg-start.log" 2>&1 ||
        die "the private PostgreSQL cluster did not start" "see $STATE_DIR/pg.log"
}

# Odoo connects as PGUSER (default: the login user), never as 'postgres'.
ensure_pg_role() {
    DB_USER="${PGUSER:-$(id -un)}"
    export DB_USER
    [ "$DB_USER" != postgres ] || die "Odoo refuses to connect as the 'postgres' superuser" \
        "run as another user, or set PGUSER to a role with CREATEDB."
    if psql -U "$DB_USER" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        psql -U "$DB_USER" -d postgres -tAc "select rolcreatedb from pg_roles where rolname = current_user" |
            grep -q t || die "PostgreSQL role $DB_USER cannot create databases" \
            "run as a superuser:  ALTER ROLE \"$DB_USER\" CREATEDB;"
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 && [ -z "${PGHOST:-}" ]; then
        log "creating PostgreSQL role $DB_USER (CREATEDB, not superuser)"
        runuser -u postgres -- createuser --createdb "$DB_USER" 2>/dev/null || true
        psql -U "$DB_USER" -d postgres -tAc 'select 1' >/dev/null 2>&1 && return 0
    fi
    die "cannot connect to PostgreSQL as role $DB_USER" \
        "create it:  sudo -u postgres createuser --createdb $DB_USER" \
        "or set PGHOST, PGPORT, PGUSER and PGPASSWORD for your server."
}

# --------------------------------------------------------------------------
# Odoo configuration and helpers
# --------------------------------------------------------------------------
write_odoo_conf() {
    ODOO_CONF="$STATE_DIR/odoo.conf"
    export ODOO_CONF
    {
        echo "[options]"
        echo "addons_path = $ODOO_DIR/odoo/addons,$ODOO_DIR/addons,$ROOT"
        echo "data_dir = $STATE_DIR/filestore"
        echo "db_user = $DB_USER"
        [ -z "${PGHOST:-}" ] || echo "db_host = $PGHOST"
        [ -z "${PGPORT:-}" ] || echo "db_port = $PGPORT"
        [ -z "${PGPASSWORD:-}" ] || echo "db_password = $PGPASSWORD"
        echo "http_interface = ${ODOO_HTTP_INTERFACE:-127.0.0.1}"
        echo "http_port = ${ODOO_PORT:-8069}"
        echo "admin_passwd = $(master_password)"
        echo "list_db = False"
        echo "logfile ="
        echo "log_level = info"
        echo "max_cron_threads = 1"
    } >"$ODOO_CONF"
}

odoo_bin() { "$VENV/bin/python" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" "$@"; }

db_exists() { psql -U "$DB_USER" -d postgres -tAc "select 1 from pg_database where datname = '$1'" | grep -q 1; }
drop_db() { db_exists "$1" && dropdb -U "$DB_USER" --if-exists "$1" 2>/dev/null; rm -rf "$STATE_DIR/filestore/filestore/$1"; true; }
clone_db() {
    createdb -U "$DB_USER" -T "$1" "$2" || die "could not copy database $1 to $2"
    if [ -d "$STATE_DIR/filestore/filestore/$1" ]; then
        mkdir -p "$STATE_DIR/filestore/filestore"
        cp -a "$STATE_DIR/filestore/filestore/$1" "$STATE_DIR/filestore/filestore/$2"
    fi
}

# The Odoo modules the addon depends on, from its manifest.
addon_depends() {
    "$VENV/bin/python" -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" \
        "$ROOT/$ADDON/__manifest__.py"
}

setup_all() {
    ensure_system_packages
    resolve_odoo_src
    ensure_venv
    ensure_postgres
    write_odoo_conf
}

# The database manager's master password: random, made once, kept in the state folder.
master_password() {
    local f="$STATE_DIR/master-password"
    if [ -n "${ODOO_MASTER_PASSWORD:-}" ]; then printf '%s' "$ODOO_MASTER_PASSWORD"; return; fi
    [ -s "$f" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$f"
    cat "$f"
}

# --------------------------------------------------------------------------
# Template databases (make test, make bench): one with only the addon's
# dependencies, one with the addon installed on top, each keyed on what it
# was built from, so a copy takes seconds. Sets DEPS_TMPL and ADDON_TMPL.
# --------------------------------------------------------------------------
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

ensure_templates() {
    local odoo_key deps deps_key addon_key
    odoo_key="$( { echo "$ODOO_DIR"; cat "$ODOO_DIR/odoo/release.py"; git -C "$ODOO_DIR" rev-parse HEAD 2>/dev/null || true; } | sha1sum | cut -c1-8)"
    deps="$(addon_depends)"
    deps_key="$(printf '%s|%s' "$odoo_key" "$deps" | sha1sum | cut -c1-10)"
    addon_key="$( { echo "$deps_key|$EXTRA_MODULES"; (cd "$ROOT" && find "$ADDON" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
        sort -z | xargs -0 sha1sum); } | sha1sum | cut -c1-10)"
    DEPS_TMPL="agency_tmpl_deps_$deps_key"
    ADDON_TMPL="agency_tmpl_addon_$addon_key"
    export DEPS_TMPL ADDON_TMPL
    db_exists "$DEPS_TMPL" || build_template "$DEPS_TMPL" "" "$deps"
    db_exists "$ADDON_TMPL" || build_template "$ADDON_TMPL" "$DEPS_TMPL" "$ADDON,$EXTRA_MODULES"
    # when each template was last used: several checkouts of the project may
    # share the server, and only templates nobody used for a while are dropped
    mkdir -p "$CACHE_DIR/templates"
    touch "$CACHE_DIR/templates/$DEPS_TMPL" "$CACHE_DIR/templates/$ADDON_TMPL"
}

# The test database's template: the addon template plus the suite's own test
# addons (tests/addons: e.g. a charge source as another addon would add one),
# with a config that has them on its addons path. Sets TEST_TMPL and TEST_CONF.
ensure_test_template() {
    TEST_CONF="$STATE_DIR/odoo-test.conf"
    sed -e "s#^addons_path = .*#&,$ROOT/tests/addons#" "$ODOO_CONF" >"$TEST_CONF"
    local modules key
    modules="$(cd "$ROOT/tests/addons" && ls -d */ | tr -d / | paste -sd, -)"
    key="$( { echo "$ADDON_TMPL|$modules"; (cd "$ROOT/tests/addons" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
        sort -z | xargs -0 sha1sum); } | sha1sum | cut -c1-10)"
    TEST_TMPL="agency_tmpl_test_$key"
    export TEST_TMPL TEST_CONF
    db_exists "$TEST_TMPL" || ODOO_CONF="$TEST_CONF" build_template "$TEST_TMPL" "$ADDON_TMPL" "$modules"
    touch "$CACHE_DIR/templates/$TEST_TMPL"
}

# The addon template plus localisations (tests/test_localisations.py). Sets L10N_TMPL.
ensure_l10n_template() {
    L10N_TMPL="agency_tmpl_l10n_$(printf '%s|%s' "$ADDON_TMPL" "$L10N_MODULES" | sha1sum | cut -c1-10)"
    export L10N_TMPL
    db_exists "$L10N_TMPL" || build_template "$L10N_TMPL" "$ADDON_TMPL" "$L10N_MODULES"
    touch "$CACHE_DIR/templates/$L10N_TMPL"
}

# A database with the previous release of the addon installed and data made
# with it (tests/upgrade/populate.py), for the upgrade test. Sets UPGRADE_TMPL.
ensure_upgrade_template() {
    local dir="$CACHE_DIR/releases/$PREVIOUS_RELEASE" conf="$STATE_DIR/odoo-release.conf" key tmp
    key="$(printf '%s|%s|%s' "$DEPS_TMPL" "$PREVIOUS_RELEASE" "$(sha1sum <"$ROOT/tests/upgrade/populate.py")" |
        sha1sum | cut -c1-10)"
    UPGRADE_TMPL="agency_tmpl_upgrade_$key"
    export UPGRADE_TMPL
    touch "$CACHE_DIR/templates/$UPGRADE_TMPL"
    db_exists "$UPGRADE_TMPL" && return 0
    if [ ! -f "$dir/$ADDON/__manifest__.py" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        git -C "$ROOT" archive "$PREVIOUS_RELEASE" "$ADDON" | tar -x -C "$dir" ||
            die "could not take release $PREVIOUS_RELEASE out of the git history" "is this a full clone?"
    fi
    sed -e "s#^addons_path = .*#addons_path = $ODOO_DIR/odoo/addons,$ODOO_DIR/addons,$dir#" "$ODOO_CONF" >"$conf"
    tmp="${UPGRADE_TMPL}_building"
    drop_db "$tmp"
    clone_db "$DEPS_TMPL" "$tmp"
    log "building template database $UPGRADE_TMPL (release $PREVIOUS_RELEASE and its data; once)"
    if ! "$VENV/bin/python" "$ODOO_DIR/odoo-bin" -c "$conf" -d "$tmp" -i "$ADDON" --stop-after-init --no-http \
        --log-level=warn >"$STATE_DIR/$UPGRADE_TMPL.log" 2>&1 ||
        ! "$VENV/bin/python" "$ODOO_DIR/odoo-bin" shell -c "$conf" -d "$tmp" --no-http --log-level=warn \
            <"$ROOT/tests/upgrade/populate.py" >>"$STATE_DIR/$UPGRADE_TMPL.log" 2>&1 ||
        ! grep -q "^populated" "$STATE_DIR/$UPGRADE_TMPL.log"; then
        drop_db "$tmp"
        die "building the database of release $PREVIOUS_RELEASE failed" "see $STATE_DIR/$UPGRADE_TMPL.log"
    fi
    psql -U "$DB_USER" -q -c "ALTER DATABASE \"$tmp\" RENAME TO \"$UPGRADE_TMPL\"" || die "could not rename $tmp"
    [ ! -d "$STATE_DIR/filestore/filestore/$tmp" ] ||
        mv "$STATE_DIR/filestore/filestore/$tmp" "$STATE_DIR/filestore/filestore/$UPGRADE_TMPL"
}

# --------------------------------------------------------------------------
# OCA addons from PyPI (odoo-addon-<name> 19.0), --no-deps (never Odoo itself),
# with the OCA addons they depend on. Each package goes to its own folder under
# .venv/oca/; oca_paths lists the folders to add to an addons path. The Python
# libraries a module declares are installed into .venv when missing.
# --------------------------------------------------------------------------
OCA_DIR="$VENV/oca"
oca_paths=()
ensure_oca_addon() { # module name
    local module="$1" dest="$OCA_DIR/$1" dep lib
    if [ -f "$ODOO_DIR/addons/$module/__manifest__.py" ] || [ -f "$ODOO_DIR/odoo/addons/$module/__manifest__.py" ]; then
        return 0 # an Odoo module
    fi
    case " ${oca_paths[*]:-} " in *" $dest/odoo/addons "*) return 0 ;; esac
    if [ ! -f "$dest/odoo/addons/$module/__manifest__.py" ]; then
        log "installing OCA module $module 19.0 from PyPI into .venv/oca (--no-deps)"
        rm -rf "$dest"
        "$VENV/bin/pip" install -q --no-deps --target "$dest" "odoo-addon-$module>=19.0,<19.1" \
            >"$STATE_DIR/oca-pip.log" 2>&1 ||
            die "pip could not install odoo-addon-$module 19.0 (see $STATE_DIR/oca-pip.log)" \
                "PyPI (or a mirror configured for pip) must be reachable for OCA's $module."
        [ -f "$dest/odoo/addons/$module/__manifest__.py" ] ||
            die "odoo-addon-$module did not install the module $module" "see $STATE_DIR/oca-pip.log"
    fi
    for lib in $("$VENV/bin/python" -c "import ast,sys; print(' '.join(ast.literal_eval(open(sys.argv[1]).read()).get('external_dependencies', {}).get('python', [])))" \
        "$dest/odoo/addons/$module/__manifest__.py"); do
        "$VENV/bin/python" -c "import $lib" 2>/dev/null && continue
        log "installing $lib into .venv (OCA's $module needs it)"
        "$VENV/bin/pip" install -q "$lib" >"$STATE_DIR/oca-pip.log" 2>&1 ||
            die "pip could not install $lib (see $STATE_DIR/oca-pip.log)" "OCA's $module needs it"
    done
    oca_paths+=("$dest/odoo/addons")
    for dep in $("$VENV/bin/python" -c "import ast,sys; print(' '.join(ast.literal_eval(open(sys.argv[1]).read()).get('depends', [])))" \
        "$dest/odoo/addons/$module/__manifest__.py"); do
        ensure_oca_addon "$dep"
    done
}

# The addon template plus OCA queue_job and the glue addon agency_billing_queue_job
# (billing batches as jobs), for tests/test_queue_job.py. Sets QUEUE_TMPL, and
# QUEUE_CONF: the test config with queue_job's folder on its addons path.
ensure_queue_template() {
    ensure_oca_addon queue_job
    QUEUE_CONF="$STATE_DIR/odoo-queue.conf"
    local oca_csv key
    oca_csv="$(IFS=,; echo "${oca_paths[*]}")"
    sed -e "s#^addons_path = .*#&,$oca_csv#" "$ODOO_CONF" >"$QUEUE_CONF"
    # keyed on what is installed (not on where this checkout keeps queue_job): every clone shares it
    key="$( { echo "$ADDON_TMPL"; cat "$OCA_DIR/queue_job/odoo/addons/queue_job/__manifest__.py";
        (cd "$ROOT" && find agency_billing_queue_job -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
            sort -z | xargs -0 sha1sum); } | sha1sum | cut -c1-10)"
    QUEUE_TMPL="agency_tmpl_queue_$key"
    export QUEUE_TMPL QUEUE_CONF
    db_exists "$QUEUE_TMPL" || ODOO_CONF="$QUEUE_CONF" build_template "$QUEUE_TMPL" "$ADDON_TMPL" agency_billing_queue_job
    touch "$CACHE_DIR/templates/$QUEUE_TMPL"
}

# Drops the template databases no checkout has used for six hours.
drop_stale_templates() {
    local old marker
    for old in $(psql -U "$DB_USER" -tAc "select datname from pg_database where datname like 'agency\_tmpl\_%'"); do
        [ "${old%_building}" = "$old" ] || continue
        marker="$CACHE_DIR/templates/$old"
        if [ ! -f "$marker" ] || [ -n "$(find "$marker" -mmin +360)" ]; then
            drop_db "$old"
            rm -f "$marker"
        fi
    done
}
