#!/usr/bin/env bash
# Real PostgreSQL for the tests, the benchmarks and the demo.
#
# Throwaway PostgreSQL 15 clusters with PoWA 4 (Debian 12 packages),
# PoWA 5.0 (Debian 13's powa-archivist source, built with PGXS into a relocated
# copy of the PostgreSQL tree so that it does not replace PoWA 4's powa.so) and
# PoWA 5.3 (a copy of that tree whose powa SQL and control files are those of
# Debian sid's postgresql-18-powa binary package: 5.3 declares no C function
# that 5.0.2's powa.so lacks, which the install checks).
# Everything runs as root on a bare Debian 12 machine; the clusters run as the
# `postgres` system user because initdb and postgres refuse root.
#
# Usage:
#   pg-env.sh install                        apt packages + cached PoWA 5.0 and 5.3 trees (idempotent)
#   pg-env.sh install-powa-web               cached virtual environments with powa-web 5.3.1 and 4.1.4
#   pg-env.sh up DIR                         six clusters in DIR, writes DIR/env.sh
#   pg-env.sh create-cluster DIR KIND NAME   one more cluster, prints its port
#   pg-env.sh ctl DIR NAME start|stop|restart|kill
#   pg-env.sh port DIR NAME                  prints a cluster's port
#   pg-env.sh down DIR                       stops every cluster of DIR, removes DIR
#
# KIND is one of powa4-repo, powa4-remote, powa5-repo, powa5-remote,
# powa53-repo, powa53-remote.
#
# Environment (all optional):
#   POWA_ENV_CACHE   where the PoWA 5 trees and their sources are cached
#                    (default /var/cache/powa-collector-swift)
#   POWA_ENV_DEBIAN_MIRROR  Debian mirror URI for the trixie source and the sid
#                    package downloads
#                    (default: the one apt already uses, read from its sources)
set -euo pipefail

readonly SELF="$(readlink -f "${BASH_SOURCE[0]}")"
readonly PG_MAJOR=15
readonly SYSTEM_BINDIR="/usr/lib/postgresql/$PG_MAJOR/bin"
readonly CACHE_DIR="${POWA_ENV_CACHE:-/var/cache/powa-collector-swift}"
readonly POWA5_ROOT="$CACHE_DIR/pg$PG_MAJOR-powa5"
readonly POWA5_BINDIR="$POWA5_ROOT/usr/lib/postgresql/$PG_MAJOR/bin"
# Bump when the way the PoWA 5 tree is built changes, so caches are rebuilt.
readonly POWA5_RECIPE=1
readonly POWA53_ROOT="$CACHE_DIR/pg$PG_MAJOR-powa53"
readonly POWA53_BINDIR="$POWA53_ROOT/usr/lib/postgresql/$PG_MAJOR/bin"
# PoWA 5.3's SQL comes from this exact Debian sid binary package. Pinned: when
# sid moves on, the download fails with a message saying to update the pin.
readonly POWA53_DEB_PACKAGE=postgresql-18-powa
readonly POWA53_DEB_VERSION=5.3.0-1
readonly POWA53_DEB_PG_MAJOR=18
readonly POWA53_RECIPE=1
# powa-web, the UI, for the tests that drive it over HTTP: one virtual
# environment per version, each with the versions of its dependencies tested
# here. 5.3.1 declares `psycopg2`, which would build from source: its
# dependencies are named one by one and powa-web is installed --no-deps.
readonly POWA_WEB_PYTHON=/usr/bin/python3
readonly POWA_WEB53_VENV="$CACHE_DIR/powa-web-5.3.1"
readonly POWA_WEB53_PACKAGES=(psycopg2-binary==2.9.13 tornado==6.6.1)
readonly POWA_WEB41_VENV="$CACHE_DIR/powa-web-4.1.4"
readonly POWA_WEB41_PACKAGES=(psycopg2-binary==2.9.13 tornado==6.6.1 sqlalchemy==1.3.24)

readonly APT_PACKAGES=(
    # python3-venv: the virtual environments of install-powa-web.
    python3 python3-venv
    postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR libpq-dev pkg-config
    postgresql-$PG_MAJOR-powa postgresql-$PG_MAJOR-pg-qualstats
    postgresql-$PG_MAJOR-pg-stat-kcache postgresql-$PG_MAJOR-hypopg
    postgresql-$PG_MAJOR-pg-wait-sampling postgresql-$PG_MAJOR-pg-track-settings
    postgresql-server-dev-$PG_MAJOR make gcc tar gzip util-linux
    # Real counterparts of the operator interfaces' tests: a Prometheus
    # server and promtool, and systemd-analyze for the unit file.
    prometheus systemd
)
# Packages whose versions end up inside the relocated PoWA 5 tree.
readonly POWA5_INPUT_PACKAGES=(
    postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
    postgresql-$PG_MAJOR-powa postgresql-$PG_MAJOR-pg-qualstats
    postgresql-$PG_MAJOR-pg-stat-kcache postgresql-$PG_MAJOR-hypopg
    postgresql-$PG_MAJOR-pg-wait-sampling postgresql-$PG_MAJOR-pg-track-settings
)

# What the tests read from DIR/env.sh.
readonly TEST_HOST=127.0.0.1
readonly SUPERUSER=postgres
readonly PASSWORD_ROLE=powa_pw_user
# Awkward on purpose: blank, both quotes, backslash, @ (URI userinfo).
readonly PASSWORD='p@ss w'\''rd"\'
readonly UNPRIVILEGED_ROLE=powa_nobody
readonly POWA_DB=powa
readonly REPO_TEMPLATE=powa_repo_template
# A remote cluster listens on 127.0.0.1..127.0.0.N so that one cluster can be
# registered as N distinct servers (PostgreSQL accepts at most 64 sockets).
readonly REMOTE_ADDRESS_COUNT=40
readonly STANDARD_CLUSTERS=(powa4-repo powa4-remote powa5-repo powa5-remote powa53-repo powa53-remote)
readonly MARKER=.pg-env

unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE \
      PGSERVICE PGSERVICEFILE PGOPTIONS PGDATA PGSSLMODE 2>/dev/null || true

log() { printf 'pg-env: %s\n' "$*" >&2 || true; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '/^# Usage:/,/^# KIND/p' "$SELF" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- install --

missing_packages() {
    local pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ $status == installed ]] || printf '%s\n' "$pkg"
    done
}

# True when apt's lists know a candidate for every named package.
apt_knows() {
    local pkg
    for pkg in "$@"; do
        [[ $(apt-cache policy "$pkg" 2>/dev/null) == *"Candidate: "[!\(]* ]] || return 1
    done
}

apt_quiet() {
    local logfile="$CACHE_DIR/apt.log"
    if ! DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 \
            -o DPkg::Lock::Timeout=600 "$@" >"$logfile" 2>&1; then
        tail -n 30 "$logfile" >&2
        return 1
    fi
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) && return 0
    log "installing ${#missing[@]} missing package(s): ${missing[*]}"
    if pgrep -u postgres -x postgres >/dev/null 2>&1; then
        log "warning: PostgreSQL servers are running; a server upgrade underneath them breaks their new backends"
    fi
    if ! apt_knows "${missing[@]}"; then
        log "apt-get update"
        apt_quiet update
    fi
    # Name every package, installed or not, so apt keeps the server, the
    # headers and the extensions at one consistent version.
    if ! apt_quiet install --no-install-recommends "${APT_PACKAGES[@]}"; then
        log "install failed, retrying after apt-get update"
        apt_quiet update
        apt_quiet install --no-install-recommends "${APT_PACKAGES[@]}"
    fi
}

# The Debian archive URI that apt already uses for this release, from the
# one-line and deb822 source files.
debian_mirror_uri() {
    if [[ -n ${POWA_ENV_DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "$POWA_ENV_DEBIAN_MIRROR"
        return
    fi
    local codename uri
    codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || die "cannot tell the Debian release from /etc/os-release"
    local files=()
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]})) || die "no apt source files found"
    uri=$(awk -v cn="$codename" '
        function flush() {
            if (uris != "" && enabled != "no" && types ~ /(^| )deb(-src)?( |$)/ &&
                (" " suites " ") ~ (" " cn " ")) {
                split(uris, u, " "); if (found == "") found = u[1]
            }
            types = ""; uris = ""; suites = ""; enabled = ""
        }
        FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
        /^[ \t]*#/ { next }
        deb822 && /^[ \t]*$/ { flush(); next }
        deb822 {
            key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
            if (key == "types") types = $0
            else if (key == "uris") uris = $0
            else if (key == "suites") suites = $0
            else if (key == "enabled") enabled = tolower($0)
            next
        }
        !deb822 && ($1 == "deb" || $1 == "deb-src") {
            i = 2
            if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) == cn && found == "") found = $i
        }
        END { flush(); print found }
    ' "${files[@]}")
    [[ -n $uri ]] || die "no apt source names the Debian '$codename' archive; set POWA_ENV_DEBIAN_MIRROR"
    printf '%s\n' "${uri%/}"
}

# powa-archivist's upstream tarball from Debian 13 (trixie), through a private
# apt state so that the machine's own apt configuration is left alone.
fetch_powa5_source() {
    local srcdir="$CACHE_DIR/src"
    local tarball
    tarball=$(ls -1 "$srcdir"/powa-archivist_5.*.orig.tar.* 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $tarball ]]; then
        printf '%s\n' "$tarball"
        return
    fi
    local state="$CACHE_DIR/apt-trixie" mirror
    mirror=$(debian_mirror_uri)
    mkdir -p "$state/lists/partial" "$srcdir"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
        "$mirror" >"$state/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
                -o "Dir::State::Lists=$state/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
    log "downloading powa-archivist source from Debian 13"
    apt_quiet "${opts[@]}" update
    # Only the upstream tarball: apt checks it against the signed index, and
    # the build needs nothing from the Debian packaging.
    local dl
    dl=$(mktemp -d "$CACHE_DIR/download.XXXXXX")
    chmod 755 "$dl"
    id _apt >/dev/null 2>&1 && chown _apt "$dl"
    (cd "$dl" && apt_quiet "${opts[@]}" source --download-only --tar-only powa-archivist)
    tarball=$(ls -1 "$dl"/powa-archivist_*.orig.tar.* 2>/dev/null | head -n 1 || true)
    [[ -n $tarball ]] || die "apt downloaded no powa-archivist tarball"
    [[ $(basename "$tarball") == powa-archivist_5.* ]] || die "Debian 13 has $(basename "$tarball"), not PoWA 5"
    mv "$tarball" "$srcdir/"
    # The tarball is what is kept; the 20 MB source index is not needed again.
    rm -rf "$dl" "$state"
    printf '%s\n' "$srcdir/$(basename "$tarball")"
}

powa5_wanted_stamp() {
    printf 'recipe=%s\n' "$POWA5_RECIPE"
    dpkg-query -W -f='${Package}=${Version}\n' "${POWA5_INPUT_PACKAGES[@]}"
}

control_default_version() {
    sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$1" 2>/dev/null
}

powa5_tree_ok() {
    local version
    version=$(control_default_version "$POWA5_ROOT/usr/share/postgresql/$PG_MAJOR/extension/powa.control")
    [[ $version == 5.* && -x $POWA5_BINDIR/postgres && -f $POWA5_ROOT/.stamp ]] &&
        [[ $(cat "$POWA5_ROOT/.stamp") == "$(powa5_wanted_stamp)" ]]
}

build_powa5_tree() {
    local tarball work root
    tarball=$(fetch_powa5_source)
    work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
    root="$work/root"
    log "building $(basename "$tarball") into a relocated PostgreSQL $PG_MAJOR tree"
    mkdir -p "$work/src" "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
    tar -xf "$tarball" -C "$work/src"
    local src
    src=$(find "$work/src" -mindepth 2 -maxdepth 2 -name powa.control -printf '%h\n' | head -n 1)
    [[ -n $src ]] || die "no powa.control in $(basename "$tarball")"
    # PostgreSQL finds its lib and share directories relative to the
    # binary, so this copy loads its own powa.so and powa.control.
    cp -a "/usr/lib/postgresql/$PG_MAJOR" "$root/usr/lib/postgresql/"
    cp -a "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/"
    ln -s /usr/include "$root/usr/include"
    if ! make -C "$src" -j"$(nproc)" PG_CONFIG="$root/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" \
            install >"$work/build.log" 2>&1; then
        tail -n 40 "$work/build.log" >&2
        die "PoWA 5 build failed (log: $work/build.log)"
    fi
    local version
    version=$(control_default_version "$root/usr/share/postgresql/$PG_MAJOR/extension/powa.control")
    [[ $version == 5.* ]] || die "built tree offers powa '$version', not 5.x"
    powa5_wanted_stamp >"$root/.stamp"
    chmod 755 "$work"
    rm -rf "$POWA5_ROOT"
    mv "$root" "$POWA5_ROOT"
    rm -rf "$work"
    log "PoWA $version ready in $POWA5_ROOT"
}

# Debian sid's postgresql-18-powa .deb at the pinned version, cached: its
# SQL and control files are PoWA 5.3's. Fetched through a private apt state
# (sources, lists and cache of its own) so the machine's apt is left alone.
fetch_powa53_deb() {
    local srcdir="$CACHE_DIR/src"
    local deb="$srcdir/${POWA53_DEB_PACKAGE}_${POWA53_DEB_VERSION}_amd64.deb"
    if [[ -s $deb ]]; then
        printf '%s\n' "$deb"
        return
    fi
    local state="$CACHE_DIR/apt-sid" mirror
    mirror=$(debian_mirror_uri)
    rm -rf "$state"
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$srcdir"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
        "$mirror" >"$state/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
                -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
                -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
                -o APT::Architecture=amd64 -o APT::Architectures::=amd64)
    log "downloading $POWA53_DEB_PACKAGE $POWA53_DEB_VERSION (PoWA 5.3 SQL) from Debian sid"
    apt_quiet "${opts[@]}" update || die "apt-get update of Debian sid ($mirror) failed"
    local dl
    dl=$(mktemp -d "$CACHE_DIR/download.XXXXXX")
    chmod 755 "$dl"
    id _apt >/dev/null 2>&1 && chown _apt "$dl"
    if ! (cd "$dl" && apt_quiet "${opts[@]}" download "$POWA53_DEB_PACKAGE=$POWA53_DEB_VERSION"); then
        local offered
        offered=$(apt-cache "${opts[@]}" madison "$POWA53_DEB_PACKAGE" 2>/dev/null |
            awk -F'|' '{gsub(/ /, "", $2); print $2}' | paste -sd, - || true)
        rm -rf "$dl" "$state"
        die "Debian sid no longer offers $POWA53_DEB_PACKAGE=$POWA53_DEB_VERSION (it offers: ${offered:-nothing});" \
            "update POWA53_DEB_VERSION in $SELF after checking that the new PoWA SQL declares no C function" \
            "missing from 5.0.2's powa.so"
    fi
    local got
    got=$(ls -1 "$dl"/*.deb 2>/dev/null | head -n 1 || true)
    [[ -n $got ]] || die "apt downloaded no $POWA53_DEB_PACKAGE package"
    mv "$got" "$deb"
    # The .deb is what is kept; the sid package index is not needed again.
    rm -rf "$dl" "$state"
    printf '%s\n' "$deb"
}

powa53_wanted_stamp() {
    printf 'recipe53=%s\ndeb=%s=%s\n' "$POWA53_RECIPE" "$POWA53_DEB_PACKAGE" "$POWA53_DEB_VERSION"
    powa5_wanted_stamp
}

powa53_tree_ok() {
    local version
    version=$(control_default_version "$POWA53_ROOT/usr/share/postgresql/$PG_MAJOR/extension/powa.control")
    [[ $version == 5.3.* && -x $POWA53_BINDIR/postgres && -f $POWA53_ROOT/.stamp ]] &&
        [[ $(cat "$POWA53_ROOT/.stamp") == "$(powa53_wanted_stamp)" ]]
}

# PoWA 5.3 = the built PoWA 5.0 tree (its powa.so) with 5.3.0's SQL and
# control files. Refuses SQL that declares a C function powa.so lacks.
build_powa53_tree() {
    local deb work root
    deb=$(fetch_powa53_deb)
    work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
    root="$work/root"
    log "making the PoWA 5.3 tree from $(basename "$deb") and the PoWA 5.0 tree"
    mkdir -p "$work/deb"
    dpkg-deb -x "$deb" "$work/deb" || die "cannot unpack $deb"
    local sqldir="$work/deb/usr/share/postgresql/$POWA53_DEB_PG_MAJOR/extension"
    local version
    version=$(control_default_version "$sqldir/powa.control")
    [[ $version == 5.3.* ]] || die "$(basename "$deb") offers powa '$version', not 5.3.x"
    cp -a "$POWA5_ROOT" "$root"
    local extdir="$root/usr/share/postgresql/$PG_MAJOR/extension"
    local so="$root/usr/lib/postgresql/$PG_MAJOR/lib/powa.so"
    local symbol missing=()
    while read -r symbol; do
        nm -D --defined-only "$so" | awk '{print $3}' | grep -qx "$symbol" || missing+=("$symbol")
    done < <(sed -n "s/.*AS '\$libdir\/powa', '\([A-Za-z0-9_]*\)'.*/\1/p" "$sqldir/powa--$version.sql" | sort -u)
    ((${#missing[@]} == 0)) || die "powa $version's SQL needs C functions that 5.0.2's powa.so lacks: ${missing[*]}"
    rm -f "$extdir"/powa--*.sql "$extdir/powa.control"
    cp "$sqldir"/powa--*.sql "$sqldir/powa.control" "$extdir/"
    powa53_wanted_stamp >"$root/.stamp"
    chmod 755 "$work"
    rm -rf "$POWA53_ROOT"
    mv "$root" "$POWA53_ROOT"
    rm -rf "$work"
    log "PoWA $version ready in $POWA53_ROOT"
}

cmd_install() {
    (($# == 0)) || usage
    [[ $(id -u) == 0 ]] || die "install must run as root"
    mkdir -p "$CACHE_DIR"
    chmod 755 "$CACHE_DIR"
    # One install at a time: concurrent test runs share the cache.
    exec 9>"$CACHE_DIR/.lock"
    flock 9
    install_packages
    if ! powa5_tree_ok; then
        # Left over by an interrupted run; nobody else uses them under the lock.
        rm -rf "$CACHE_DIR"/build.* "$CACHE_DIR"/download.*
        build_powa5_tree
    fi
    if ! powa53_tree_ok; then
        rm -rf "$CACHE_DIR"/build.* "$CACHE_DIR"/download.*
        build_powa53_tree
    fi
    exec 9>&-
}

# One virtual environment at VENV with PACKAGES and then powa-web==VERSION
# (--no-deps), unless a complete one is there already.
install_powa_web_venv() {
    local venv=$1 version=$2
    shift 2
    local wanted
    wanted=$(printf '%s\n' "$@" "powa-web==$version")
    if [[ -x $venv/bin/powa-web && -f $venv/.complete && $(cat "$venv/.complete") == "$wanted" ]]; then
        return 0
    fi
    log "installing powa-web $version in $venv"
    rm -rf "$venv"
    local logfile="$CACHE_DIR/pip.log"
    if ! { "$POWA_WEB_PYTHON" -m venv "$venv" &&
           "$venv/bin/pip" install -q --disable-pip-version-check "$@" &&
           "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "powa-web==$version"; } >"$logfile" 2>&1; then
        tail -n 30 "$logfile" >&2
        rm -rf "$venv"
        die "installing powa-web $version failed (log: $logfile)"
    fi
    printf '%s\n' "$wanted" >"$venv/.complete"
}

cmd_install_powa_web() {
    (($# == 0)) || usage
    [[ $(id -u) == 0 ]] || die "install-powa-web must run as root"
    mkdir -p "$CACHE_DIR"
    chmod 755 "$CACHE_DIR"
    exec 9>"$CACHE_DIR/.lock"
    flock 9
    [[ -x $POWA_WEB_PYTHON ]] || die "no $POWA_WEB_PYTHON (run: $SELF install)"
    install_powa_web_venv "$POWA_WEB53_VENV" 5.3.1 "${POWA_WEB53_PACKAGES[@]}"
    install_powa_web_venv "$POWA_WEB41_VENV" 4.1.4 "${POWA_WEB41_PACKAGES[@]}"
    exec 9>&-
}

# --------------------------------------------------------------- clusters --

as_postgres() {
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
}

bindir_for_kind() {
    case $1 in
        powa4-*) printf '%s\n' "$SYSTEM_BINDIR" ;;
        powa5-*) printf '%s\n' "$POWA5_BINDIR" ;;
        powa53-*) printf '%s\n' "$POWA53_BINDIR" ;;
    esac
}

valid_kind() {
    case $1 in powa4-repo | powa4-remote | powa5-repo | powa5-remote | powa53-repo | powa53-remote) return 0 ;; esac
    return 1
}

# psql as the superuser through the private socket directory.
cluster_psql() {
    local dir=$1 name=$2
    shift 2
    "$SYSTEM_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$(cat "$dir/$name/port")" \
        -U "$SUPERUSER" "$@"
}

sql_literal() {
    printf "'%s'" "${1//\'/\'\'}"
}

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Htan "( sport = :$port )" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

pick_port() {
    local dir=$1 port i
    for ((i = 0; i < 200; i++)); do
        # Below Linux's ephemeral range, so clients do not take it meanwhile.
        port=$((20000 + RANDOM % 12000))
        [[ -e $dir/sock/.s.PGSQL.$port ]] && continue
        port_in_use "$port" && continue
        printf '%s\n' "$port"
        return
    done
    die "no free port found"
}

listen_addresses_for() {
    local kind=$1 i list=$TEST_HOST
    if [[ $kind == *-remote ]]; then
        for ((i = 2; i <= REMOTE_ADDRESS_COUNT; i++)); do list+=",127.0.0.$i"; done
    fi
    printf '%s\n' "$list"
}

write_cluster_config() {
    local dir=$1 kind=$2 name=$3
    local data="$dir/$name/data"
    cat >"$data/pg-env.conf" <<EOF
# Written by pg-env.sh: a throwaway test cluster ($kind).
include_if_exists = 'pg-env-port.conf'
listen_addresses = '$(listen_addresses_for "$kind")'
unix_socket_directories = '$dir/sock'
max_connections = 200
shared_buffers = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
    if [[ $kind == *-remote ]]; then
        cat >>"$data/pg-env.conf" <<'EOF'
shared_preload_libraries = 'pg_stat_statements,pg_qualstats,pg_stat_kcache,pg_wait_sampling'
pg_qualstats.sample_rate = 1
pg_stat_statements.max = 10000
track_io_timing = on
EOF
    fi
    printf "include = 'pg-env.conf'\n" >>"$data/postgresql.conf"
    cat >"$data/pg_hba.conf" <<EOF
# Written by pg-env.sh: trust for everyone but the password role.
local all $PASSWORD_ROLE scram-sha-256
host  all $PASSWORD_ROLE 127.0.0.0/8 scram-sha-256
local all all trust
host  all all 127.0.0.0/8 trust
EOF
    chown postgres: "$data/pg-env.conf" "$data/pg_hba.conf"
}

pg_ctl_as_postgres() {
    local dir=$1 name=$2
    shift 2
    local cdir="$dir/$name"
    (cd "$cdir" && as_postgres "$(cat "$cdir/bindir")/pg_ctl" -D "$cdir/data" "$@")
}

# Starts a new cluster on a free port, trying another port when the chosen
# one turns out to be taken on any of its addresses.
start_new_cluster() {
    local dir=$1 name=$2
    local cdir="$dir/$name" attempt port offset
    for ((attempt = 1; attempt <= 10; attempt++)); do
        port=$(pick_port "$dir")
        printf "port = %s\n" "$port" >"$cdir/data/pg-env-port.conf"
        chown postgres: "$cdir/data/pg-env-port.conf"
        offset=$(stat -c %s "$cdir/postgres.log" 2>/dev/null || echo 0)
        if pg_ctl_as_postgres "$dir" "$name" -l "$cdir/postgres.log" -w -t 120 -s start >/dev/null 2>&1; then
            if tail -c +"$((offset + 1))" "$cdir/postgres.log" | grep 'could not bind' >/dev/null; then
                pg_ctl_as_postgres "$dir" "$name" -m immediate -w -s stop >/dev/null 2>&1 || true
            else
                printf '%s\n' "$port" >"$cdir/port"
                return 0
            fi
        elif ! tail -c +"$((offset + 1))" "$cdir/postgres.log" |
                grep -E 'could not (bind|create any TCP/IP sockets|create lock file)|already in use' >/dev/null; then
            tail -n 20 "$cdir/postgres.log" >&2
            die "$name did not start (log: $cdir/postgres.log)"
        fi
        log "$name: port $port is taken, trying another"
    done
    die "$name: no port could be bound"
}

# SQL that creates the roles and the powa database of a cluster of KIND.
cluster_setup_sql() {
    local kind=$1
    cat <<EOF
SET client_min_messages = warning;
CREATE ROLE $PASSWORD_ROLE LOGIN SUPERUSER PASSWORD $(sql_literal "$PASSWORD");
CREATE ROLE $UNPRIVILEGED_ROLE LOGIN;
CREATE DATABASE $POWA_DB;
\\connect $POWA_DB
SET client_min_messages = warning;
CREATE EXTENSION powa CASCADE;
EOF
    if [[ $kind == *-remote ]]; then
        printf 'CREATE EXTENSION %s;\n' pg_qualstats pg_stat_kcache hypopg pg_wait_sampling pg_track_settings
        # A database or role setting that is never dropped. pg_track_settings
        # 2.1.0's snapshot of pg_db_role_setting takes its timestamp from the
        # rows it reads: once a test database's settings are dropped and none
        # is left, every later snapshot of this remote, in every repository
        # that saw them, fails in pg_track_settings_snapshot_rds ("null value
        # in column ts", SQLSTATE 23502). Real servers rarely have none.
        printf 'ALTER ROLE %s SET work_mem = %s;\n' "$UNPRIVILEGED_ROLE" "'4MB'"
    else
        printf 'CREATE EXTENSION pg_track_settings;\n'
        # A copy of the powa database, so that each test gets its own
        # repository (and NOTIFY channels) with one cheap CREATE DATABASE.
        # Copying rather than creating the extension again matters on PoWA 5:
        # its default roles are set up only in the first database of a cluster.
        # No connections allowed: a session on a template blocks copies of it.
        cat <<EOF
\\connect postgres
CREATE DATABASE $REPO_TEMPLATE TEMPLATE $POWA_DB IS_TEMPLATE true ALLOW_CONNECTIONS false;
EOF
    fi
}

# Creates, starts and sets up one cluster. Runs as its own process group so
# that an interrupted `up` can stop it whole.
create_cluster() {
    local dir=$1 kind=$2 name=$3
    local cdir="$dir/$name" bindir
    bindir=$(bindir_for_kind "$kind")
    [[ -x $bindir/postgres ]] || die "no PostgreSQL binaries in $bindir (run: $SELF install)"
    mkdir "$cdir" 2>/dev/null || die "cluster $name already exists in $dir"
    printf '%s\n' "$kind" >"$cdir/kind"
    printf '%s\n' "$bindir" >"$cdir/bindir"
    chown postgres: "$cdir"
    if ! (cd "$cdir" && as_postgres "$bindir/initdb" -D "$cdir/data" -U "$SUPERUSER" --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions) >"$cdir/initdb.log" 2>&1; then
        tail -n 20 "$cdir/initdb.log" >&2
        die "initdb failed for $name"
    fi
    write_cluster_config "$dir" "$kind" "$name"
    start_new_cluster "$dir" "$name"
    if ! cluster_setup_sql "$kind" | cluster_psql "$dir" "$name" -d postgres -f - >"$cdir/setup.log" 2>&1; then
        cat "$cdir/setup.log" >&2
        die "setting up $name failed"
    fi
    local version
    version=$(cluster_psql "$dir" "$name" -d "$POWA_DB" -At \
        -c "SELECT extversion FROM pg_extension WHERE extname = 'powa'")
    printf '%s\n' "$version" >"$cdir/powa_version"
    case $kind in
        powa4-*) [[ $version == 4.* ]] || die "$name has powa '$version', expected 4.x" ;;
        powa5-*) [[ $version == 5.0.* ]] || die "$name has powa '$version', expected 5.0.x" ;;
        powa53-*) [[ $version == 5.3.* ]] || die "$name has powa '$version', expected 5.3.x" ;;
    esac
    log "$name ($kind) up on port $(cat "$cdir/port"), powa $version"
}

# Makes DIR ours: owned by postgres (which must reach it), with a marker that
# `down` checks before it removes anything.
prepare_dir() {
    local dir=$1
    # The path goes into postgresql.conf as a quoted, comma-separated list.
    [[ $dir != *[\',[:space:]]* ]] || die "$dir: quotes, commas and blanks are not supported"
    # Unix socket paths are limited to 107 bytes.
    ((${#dir} + 20 < 107)) || die "$dir is too long for unix sockets; use a shorter path"
    if [[ -e $dir && ! -e $dir/$MARKER ]]; then
        [[ -d $dir ]] || die "$dir is not a directory"
        [[ -z $(ls -A "$dir") ]] || die "$dir is not empty and is not a pg-env directory"
    fi
    mkdir -p "$dir/sock"
    touch "$dir/$MARKER"
    chown postgres: "$dir" "$dir/sock"
    chmod 755 "$dir"
    as_postgres test -w "$dir" ||
        die "the postgres user cannot reach $dir (every parent must be searchable)"
}

absolute_dir() {
    [[ -n $1 ]] || usage
    if [[ -d $1 ]]; then
        (cd "$1" && pwd -P)
    else
        printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd -P)" "$(basename "$1")"
    fi
}

shell_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

write_env_file() {
    local dir=$1
    local env="$dir/env.sh" tmp="$dir/env.sh.tmp"
    {
        printf '# Written by pg-env.sh up; source it before running the tests.\n'
        printf 'export POWA_TEST_ENV_DIR=%s\n' "$(shell_quote "$dir")"
        printf 'export POWA_TEST_PG_ENV=%s\n' "$(shell_quote "$SELF")"
        printf 'export POWA_TEST_HOST=%s\n' "$TEST_HOST"
        printf 'export POWA_TEST_SOCKET_DIR=%s\n' "$(shell_quote "$dir/sock")"
        printf 'export POWA_TEST_SUPERUSER=%s\n' "$SUPERUSER"
        printf 'export POWA_TEST_PASSWORD_ROLE=%s\n' "$PASSWORD_ROLE"
        printf 'export POWA_TEST_PASSWORD=%s\n' "$(shell_quote "$PASSWORD")"
        printf 'export POWA_TEST_UNPRIVILEGED_ROLE=%s\n' "$UNPRIVILEGED_ROLE"
        printf 'export POWA_TEST_REMOTE_ADDRESS_COUNT=%s\n' "$REMOTE_ADDRESS_COUNT"
        printf 'export POWA_TEST_POWA_DB=%s\n' "$POWA_DB"
        printf 'export POWA_TEST_REPO_TEMPLATE=%s\n' "$REPO_TEMPLATE"
        printf 'export POWA_TEST_PSQL=%s\n' "$(shell_quote "$SYSTEM_BINDIR/psql")"
        printf 'export POWA4_BINDIR=%s\n' "$(shell_quote "$SYSTEM_BINDIR")"
        printf 'export POWA5_BINDIR=%s\n' "$(shell_quote "$POWA5_BINDIR")"
        printf 'export POWA4_REPO_PORT=%s\n' "$(cat "$dir/powa4-repo/port")"
        printf 'export POWA4_REMOTE_PORT=%s\n' "$(cat "$dir/powa4-remote/port")"
        printf 'export POWA5_REPO_PORT=%s\n' "$(cat "$dir/powa5-repo/port")"
        printf 'export POWA5_REMOTE_PORT=%s\n' "$(cat "$dir/powa5-remote/port")"
        printf 'export POWA4_VERSION=%s\n' "$(cat "$dir/powa4-repo/powa_version")"
        printf 'export POWA5_VERSION=%s\n' "$(cat "$dir/powa5-repo/powa_version")"
        printf 'export POWA53_BINDIR=%s\n' "$(shell_quote "$POWA53_BINDIR")"
        printf 'export POWA53_REPO_PORT=%s\n' "$(cat "$dir/powa53-repo/port")"
        printf 'export POWA53_REMOTE_PORT=%s\n' "$(cat "$dir/powa53-remote/port")"
        printf 'export POWA53_VERSION=%s\n' "$(cat "$dir/powa53-repo/powa_version")"
        # Only once `install-powa-web` made them: the tests that need them
        # are skipped otherwise.
        if [[ -f $POWA_WEB53_VENV/.complete ]]; then
            printf 'export POWA_TEST_POWA_WEB53=%s\n' "$(shell_quote "$POWA_WEB53_VENV")"
        fi
        if [[ -f $POWA_WEB41_VENV/.complete ]]; then
            printf 'export POWA_TEST_POWA_WEB41=%s\n' "$(shell_quote "$POWA_WEB41_VENV")"
        fi
    } >"$tmp"
    mv "$tmp" "$env"
}

# TERM to each process group, then KILL to whatever is left after 5 s, so
# that nothing writes into DIR once `up` has returned.
stop_process_groups() {
    local p i alive
    for p in "$@"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for p in "$@"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
        ((alive)) || return 0
        sleep 0.1
    done
    for p in "$@"; do kill -KILL -- "-$p" 2>/dev/null || true; done
}

cmd_up() {
    (($# == 1)) || usage
    [[ $(id -u) == 0 ]] || die "up must run as root"
    local dir
    dir=$(absolute_dir "$1")
    if [[ -e $dir/$MARKER ]]; then
        local name
        for name in "${STANDARD_CLUSTERS[@]}"; do
            [[ ! -e $dir/$name ]] || die "$dir already has clusters; run down first"
        done
    fi
    prepare_dir "$dir"
    local started=$SECONDS pids=() name
    # Each cluster in its own process group (setsid), so an interrupt here
    # stops initdb/psql too; the postmasters detach themselves and are
    # stopped by `down`.
    trap 'stop_process_groups "${pids[@]}"; exit 130' INT TERM HUP
    for name in "${STANDARD_CLUSTERS[@]}"; do
        setsid "$SELF" __create-cluster "$dir" "$name" "$name" &
        pids+=($!)
    done
    local failed=0 pid
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
    trap - INT TERM HUP
    ((failed == 0)) || die "up failed; clean up with: $SELF down $dir"
    write_env_file "$dir"
    log "environment up in $((SECONDS - started)) s: source $dir/env.sh"
}

cmd_create_cluster() {
    (($# == 3)) || usage
    [[ $(id -u) == 0 ]] || die "create-cluster must run as root"
    local dir kind=$2 name=$3
    dir=$(absolute_dir "$1")
    valid_kind "$kind" || die "unknown kind '$kind'"
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ && $name != sock ]] || die "bad cluster name '$name'"
    prepare_dir "$dir"
    create_cluster "$dir" "$kind" "$name"
    cat "$dir/$name/port"
}

existing_cluster() {
    local dir=$1 name=$2
    [[ -f $dir/$MARKER && -f $dir/$name/kind && -d $dir/$name/data ]] ||
        die "no cluster '$name' in $dir"
}

cmd_ctl() {
    (($# == 3)) || usage
    local dir name=$2 action=$3
    dir=$(absolute_dir "$1")
    existing_cluster "$dir" "$name"
    local cdir="$dir/$name"
    case $action in
        start) pg_ctl_as_postgres "$dir" "$name" -l "$cdir/postgres.log" -w -t 120 -s start ;;
        stop) pg_ctl_as_postgres "$dir" "$name" -m fast -w -t 120 -s stop ;;
        restart) pg_ctl_as_postgres "$dir" "$name" -l "$cdir/postgres.log" -m fast -w -t 120 -s restart ;;
        kill) pg_ctl_as_postgres "$dir" "$name" -m immediate -w -t 120 -s stop ;;
        *) usage ;;
    esac
}

cmd_port() {
    (($# == 2)) || usage
    local dir
    dir=$(absolute_dir "$1")
    existing_cluster "$dir" "$2"
    cat "$dir/$2/port"
}

# Stops one cluster however far its creation went.
stop_cluster_dir() {
    local dir=$1 name=$2
    local data="$dir/$name/data"
    [[ -f $data/postmaster.pid && -f $dir/$name/bindir ]] || return 0
    pg_ctl_as_postgres "$dir" "$name" -m immediate -w -t 60 -s stop >/dev/null 2>&1 && return 0
    # pg_ctl failed: kill the postmaster named in its pid file, if that
    # process is really the postmaster of this data directory.
    local pid
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$data" >/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

cmd_down() {
    (($# == 1)) || usage
    local dir
    dir=$(absolute_dir "$1")
    [[ -e $dir ]] || return 0
    if [[ ! -e $dir/$MARKER ]]; then
        [[ -d $dir && -z $(ls -A "$dir") ]] || die "$dir is not a pg-env directory; not removing it"
        rmdir "$dir"
        return 0
    fi
    local started=$SECONDS pids=() cdir
    for cdir in "$dir"/*/; do
        [[ -f $cdir/kind ]] || continue
        stop_cluster_dir "$dir" "$(basename "$cdir")" &
        pids+=($!)
    done
    local pid
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    rm -rf "$dir"
    log "environment down in $((SECONDS - started)) s"
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
        install) cmd_install "$@" ;;
        install-powa-web) cmd_install_powa_web "$@" ;;
        up) cmd_up "$@" ;;
        create-cluster) cmd_create_cluster "$@" ;;
        ctl) cmd_ctl "$@" ;;
        port) cmd_port "$@" ;;
        down) cmd_down "$@" ;;
        __create-cluster) create_cluster "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
