# Shared by scripts/bench and scripts/soak (sourced, not run).
# Expects ROOT, PG_ENV, CACHE_DIR, VENV and log() from the caller.

# PostgreSQL, PoWA, and a virtual environment with the reference collector
# and psycopg2 (the tools' PostgreSQL driver).
bench_install_tools() {
    "$PG_ENV" install
    if [[ ! -x $VENV/bin/powa-collector.py || ! -x $VENV/bin/python ]]; then
        log "installing powa-collector 1.3.2 and psycopg2 in $VENV"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q powa-collector==1.3.2 psycopg2-binary
    fi
}

# Our executables in release mode, in their own scratch path so that the
# debug build of the tests is not disturbed. Sets bin_dir.
bench_build_release() {
    if [[ -n ${BENCH_BIN_DIR:-} ]]; then
        bin_dir=$BENCH_BIN_DIR
    else
        log "building powa-collector (release, .build/bench)"
        swift build -c release --scratch-path "$ROOT/.build/bench" >&2
        bin_dir=$(swift build -c release --scratch-path "$ROOT/.build/bench" --show-bin-path)
    fi
    [[ -x $bin_dir/powa-collector && -x $bin_dir/powa-collector-worker ]] ||
        { log "error: no powa-collector in $bin_dir"; exit 1; }
}

# A repository and a remote cluster: BENCH_ENV_DIR's when given (kept),
# otherwise new ones removed on exit. Sets env_dir.
bench_environment() {
    local prefix=$1
    if [[ -n ${BENCH_ENV_DIR:-} ]]; then
        env_dir=$BENCH_ENV_DIR
        return
    fi
    env_dir=$(mktemp -d "${TMPDIR:-/tmp}/powa-$prefix-env.XXXXXX")
    trap 'bench_tear_down' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    "$PG_ENV" create-cluster "$env_dir" powa4-repo repository >/dev/null
    "$PG_ENV" create-cluster "$env_dir" powa4-remote remote >/dev/null
}

bench_tear_down() {
    local status=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE
    "$PG_ENV" down "$env_dir" || log "warning: tear-down of $env_dir failed"
    exit "$status"
}
