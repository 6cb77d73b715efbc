#!/usr/bin/env bash
# Memory of `gen watch` against issue 15's targets (a benchmark, not a test:
# a missed target is reported, never failed).
#
#   bench/memory.sh            # 10,000 and 1,000 players from CSV files, and
#                              # 1,000 and 10,000 from a fake Sheets API;
#                              # prints a Markdown table (stdout only)
#   bench/memory.sh --write    # the same, and rewrites the "## Memory
#                              # (issue 15)" section of BENCHMARKS.md
#   bench/memory.sh --quick    # the 1,000-player scenarios only
#   options: --keep (keep the temp dir: rosters, sites, gen's logs)
#   env:     IDLE=seconds after each cycle before reading idle RSS (20);
#            GEN=/path/to/gen uses that binary instead of building the
#            release one (in $CARGO_TARGET_DIR, default target/)
#
# Each scenario, in a temp dir of its own: a deterministic roster
# (bench/synth.py, 20 matches per player), a site.toml of the bench's usual
# shape (bench/roster.toml) with refresh_secs = 30, and `gen watch` with an
# empty out_dir and state_dir, so its first cycle renders and writes the
# whole site. The Google source is bench/loadkit.py fakegoogle: a python
# http.server on 127.0.0.1 answering values:batchGet with the roster.
# Every 0.1 s until the end, VmRSS and VmHWM of gen (/proc/PID/status) are
# read:
#   peak      VmHWM when the first cycle's "cycle ok" is logged: the most
#             the process ever had resident, start-up and first cycle
#   idle 1    VmRSS IDLE seconds (20) after the first cycle
#   idle 2    VmRSS IDLE seconds after the second cycle (30 s after the
#             first, same data: nothing rendered or written)
#   end peak  VmHWM at the end: the second cycle included
# The idle target is checked against the larger of idle 1 and idle 2, the
# peak target against the first cycle's peak.
# Requires python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
WRITE=0
QUICK=0
KEEP=0
for arg in "$@"; do
    case $arg in
        --write) WRITE=1 ;;
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        -h | --help)
            print_help "$0"
            exit 0
            ;;
        *)
            echo "usage: $0 [--write] [--quick] [--keep]" >&2
            exit 2
            ;;
    esac
done

MATCHES=20
REFRESH=30
IDLE=${IDLE:-20}
# source:players:idle target MB:peak target MB (0: no target, informational)
if ((QUICK)); then
    SCENARIOS=("csv:1000:30:0" "google:1000:30:0")
else
    SCENARIOS=("csv:10000:64:128" "csv:1000:30:0" "google:1000:30:0" "google:10000:0:0")
fi

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
release_gen
bench_workdir memory

# status_kb PID FIELD: a kB field of /proc/PID/status (0 once gone)
status_kb() {
    awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' \
        "/proc/$1/status" 2>/dev/null || echo 0
}

cycles_ok() { grep -c 'cycle ok' "$1" 2>/dev/null || true; }

# write_site DIR SOURCE API_PORT [FAKE_PORT]
write_site() {
    local dir=$1 source=$2 port=$3 fake=${4:-}
    {
        cat <<EOF
# Written by bench/memory.sh.
[site]
title = "Memory"
lang = "en"
out_dir = "public"
templates = "$ROOT/site-templates"
state_dir = "state"
refresh_secs = $REFRESH

EOF
        if [[ $source == csv ]]; then
            cat <<EOF
[source]
kind = "csv"
[source.files]
Players = "players.csv"
Matches = "matches.csv"
EOF
        else
            cat <<EOF
[source]
kind = "google"
spreadsheet_id = "bench"
api_base = "http://127.0.0.1:$fake"
EOF
        fi
        cat "$ROOT/bench/roster.toml"
        cat <<EOF

[api]
listen = "127.0.0.1:$port"
EOF
    } >"$dir/site.toml"
}

ROWS=()
# scenario SOURCE PLAYERS IDLE_TARGET_MB PEAK_TARGET_MB
scenario() {
    local source=$1 players=$2 idle_target=$3 peak_target=$4
    local dir="$WORK/$source-$players" fake="" pid
    mkdir -p "$dir"
    python3 "$ROOT/bench/synth.py" --players "$players" --matches "$MATCHES" --out "$dir" >/dev/null
    if [[ $source == google ]]; then
        python3 "$ROOT/bench/loadkit.py" fakegoogle --players "$dir/players.csv" \
            --matches "$dir/matches.csv" --port-file "$dir/fake.port" --count-file "$dir/fake.count" &
        PIDS+=("$!")
        wait_for 10 test -s "$dir/fake.port" || {
            echo "bench: the fake Sheets API did not start" >&2
            return 1
        }
        fake=$(cat "$dir/fake.port")
    fi
    write_site "$dir" "$source" "$(free_port)" "$fake"
    echo "bench: $source, $players players: gen watch in $dir" >&2
    (cd "$dir" && exec env GEN_GOOGLE_API_KEY=bench-key \
        "$GEN" --config site.toml watch) 2>"$dir/gen.log" >/dev/null &
    pid=$!
    PIDS+=("$pid")

    local t0=$SECONDS rss hwm peak=0 first_ms=0 idle1=0 idle2=0 max_idle=0 hwm_end=0
    local phase=first mark=0 n
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench: gen exited:" >&2
            tail -5 "$dir/gen.log" >&2
            return 1
        fi
        rss=$(status_kb "$pid" VmRSS)
        hwm=$(status_kb "$pid" VmHWM)
        n=$(cycles_ok "$dir/gen.log")
        case $phase in
            first)
                if ((n >= 1)); then
                    peak=$hwm
                    first_ms=$(grep -m1 'cycle ok' "$dir/gen.log" |
                        sed -nE 's/.*render_ms=([0-9]+) publish_ms=([0-9]+).*/\1 \2/p' |
                        awk '{ print $1 + $2 }')
                    mark=$(date +%s%N)
                    phase=idle1
                elif ((SECONDS - t0 > 180)); then
                    echo "bench: no cycle within 180 s:" >&2
                    tail -5 "$dir/gen.log" >&2
                    return 1
                fi
                ;;
            idle1)
                if (($(date +%s%N) - mark >= IDLE * 1000000000)); then
                    idle1=$rss
                    phase=second
                fi
                ;;
            second)
                if ((n >= 2)); then
                    mark=$(date +%s%N)
                    phase=idle2
                elif ((SECONDS - t0 > 300)); then
                    echo "bench: no second cycle:" >&2
                    tail -5 "$dir/gen.log" >&2
                    return 1
                fi
                ;;
            idle2)
                if (($(date +%s%N) - mark >= IDLE * 1000000000)); then
                    idle2=$rss
                    max_idle=$((idle1 > idle2 ? idle1 : idle2))
                    hwm_end=$hwm
                    break
                fi
                ;;
        esac
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    if grep -q 'cycle failed' "$dir/gen.log"; then
        echo "bench: a cycle failed:" >&2
        grep -m3 'cycle failed' "$dir/gen.log" >&2
    fi

    local met_idle="–" met_peak="–" target="–"
    if ((idle_target > 0)); then
        met_idle=$( ((max_idle <= idle_target * 1024)) && echo yes || echo NO)
        target="idle ≤ $idle_target MB"
    fi
    if ((peak_target > 0)); then
        met_peak=$( ((peak <= peak_target * 1024)) && echo yes || echo NO)
        target="$target, peak ≤ $peak_target MB"
    fi
    local met
    if [[ $met_idle == NO || $met_peak == NO ]]; then
        met=NO
    elif [[ $met_idle == yes || $met_peak == yes ]]; then
        met=yes
    else
        met="–"
    fi
    ROWS+=("| $source | $players | $(mb "$peak") | $(mb "$idle1") | $(mb "$idle2") | $(mb "$hwm_end") | ${first_ms:-?} | $target | $met |")
}

for s in "${SCENARIOS[@]}"; do
    IFS=: read -r source players idle_target peak_target <<<"$s"
    scenario "$source" "$players" "$idle_target" "$peak_target" ||
        ROWS+=("| $source | $players | failed: see the log | | | | | | NO |")
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$ROOT" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes in src/"
fi
cmd="bench/memory.sh"
((WRITE)) && cmd="bench/memory.sh --write"
((QUICK)) && cmd="$cmd --quick"
report() {
    echo "## Memory (issue 15)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, load average $LOAD_START at the start, $LOAD_END at the end (shared, noisy)"
    echo "- rustc: $(rustc --version 2>/dev/null || echo unknown)"
    echo "- setup: \`gen watch\` with an empty out_dir and state_dir (its first cycle renders and writes the whole site), refresh_secs = $REFRESH; roster: bench/synth.py, $MATCHES matches per player, bench/roster.toml; google = bench/loadkit.py fakegoogle (one batchGet body, on 127.0.0.1)"
    echo "- command: \`$cmd\`"
    echo
    echo "| source | players | peak MB (VmHWM, first cycle) | idle 1 MB ($IDLE s after it) | idle 2 MB ($IDLE s after an unchanged cycle) | VmHWM at the end MB (cycle 2 included) | first cycle render + publish ms | target | met |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "RSS is gen's VmRSS and VmHWM, read every 0.1 s from /proc; the idle"
    echo "target is checked against the larger of idle 1 and idle 2, the peak"
    echo "target against VmHWM after the first cycle."
}
table=$(report)
echo "$table"

if ((!WRITE)); then
    exit 0
fi
md="$ROOT/BENCHMARKS.md"
replace_section "$md" "## Memory (issue 15)" "$table"
echo "bench: rewrote the \"## Memory (issue 15)\" section of $md" >&2
