# shellcheck shell=bash
# What bench/build.sh, bench/load.sh and bench/memory.sh share. Sourced (not
# run) right after `set -euo pipefail`, with ROOT set to the repository:
#   print_help SCRIPT     the script's header comment (usage, what it measures)
#   release_gen           GEN: $GEN if set, else the release binary, built
#   bench_workdir NAME    WORK: a temp dir for the run, and the exit trap that
#                         stops the processes in PIDS, removes CLEAN_DIRS,
#                         and removes WORK unless KEEP=1
#   free_port, wait_for, mb, replace_section (below)

PIDS=()       # processes to stop at exit
CLEAN_DIRS=() # removed at exit, even with --keep

# print_help SCRIPT: its comment from line 2 down to `set -euo`.
print_help() {
    sed -n '2,/^set -euo/p' "$1" | sed '$d; s/^# \{0,1\}//'
}

# release_gen: GEN is $GEN when set; else `cargo build --release` and the
# binary in $CARGO_TARGET_DIR (default target/).
release_gen() {
    if [[ -n ${GEN:-} ]]; then
        echo "bench: using GEN=$GEN" >&2
    else
        echo "bench: cargo build --release" >&2
        (cd "$ROOT" && cargo build --release --quiet)
        GEN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gen"
    fi
    [[ -x $GEN ]] || {
        echo "bench: no gen binary at $GEN" >&2
        exit 2
    }
}

# bench_workdir NAME: WORK=/tmp/sheetgen-NAME.XXXXXX, cleaned up at exit.
bench_workdir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sheetgen-$1.XXXXXX")
    trap bench_cleanup EXIT
}

# SIGTERM to PIDS, up to 5 s each to stop, then SIGKILL; then the folders.
bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "${CLEAN_DIRS[@]}"
    if ((KEEP)); then
        echo "bench: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # wait_for SECONDS CMD…: polls CMD every 0.2 s
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; } # kB → MB

# replace_section FILE HEADING TEXT: replaces the section that starts with
# the line HEADING ("## …") up to the next "## " heading by TEXT, or
# appends TEXT when there is none.
replace_section() {
    local tmp
    tmp=$(mktemp "$1.XXXXXX")
    awk -v head="$2" -v table="$3" '
        /^## / { if (skip) skip = 0 }
        $0 == head { print table; print ""; skip = 1; done = 1; next }
        !skip { print }
        END { if (!done) { print ""; print table } }
    ' "$1" >"$tmp"
    # No blank line doubled at the end.
    cat -s "$tmp" >"$1"
    rm -f "$tmp"
}
