#!/usr/bin/env bash
# Benchmark of `gen build` against issue 2's targets (a benchmark, not a test:
# it never fails on a missed target, it reports it).
#
#   bench/build.sh            # full run: 1,000 players x5 runs, 10,000 x3;
#                             # prints a Markdown table and rewrites the
#                             # "## gen build" section of BENCHMARKS.md
#   bench/build.sh --quick    # 1 run per size, table on stdout only
#   bench/build.sh --keep     # keep the temp dir (rosters, sites) for a look
#   env: GEN=/path/to/gen uses that binary instead of building the release
#        one (in $CARGO_TARGET_DIR, default target/)
#
# For each size it generates a deterministic roster (bench/synth.py, 20
# matches per player) in a temp dir with its own site.toml (out_dir and
# state_dir inside it, same filesystem), builds the release binary if needed,
# and measures, as medians:
#   cold       empty out_dir and state_dir (a fresh folder per run, nothing
#              deleted just before): wall time, peak RSS
#   no-change  rebuild of an up-to-date site: wall, RSS, files written
#              (gen's stdout) and files really modified (find -newer)
#   1 changed  one player's points + 1, alternately applied and reverted:
#              files written vs files whose bytes changed (sha1 before/after)
#              and files modified (find -newer). "top" = the leader (rank
#              unchanged); "mid" = a mid-table player (the tie group they
#              leave re-ranks, possibly over several index pages).
#   cold after rm -rf   (informational, run last) cold build into the folder
#              of a full site just deleted: ext4 then skips recently freed
#              inodes when allocating, which slows creating 20,000 files.
# Wall time is measured around the process (date +%s%N); peak RSS is GNU
# time's %M. Requires /usr/bin/time (Debian package `time`) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
QUICK=0
KEEP=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        -h | --help)
            print_help "$0"
            exit 0
            ;;
        *)
            echo "usage: $0 [--quick] [--keep]" >&2
            exit 2
            ;;
    esac
done

if [[ ! -x /usr/bin/time ]]; then
    echo "bench: /usr/bin/time missing; install the Debian package: apt-get install -y time" >&2
    exit 2
fi

if ((QUICK)); then
    SIZES=("1000:1" "10000:1")
else
    SIZES=("1000:5" "10000:3")
fi
MATCHES=20

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
release_gen
bench_workdir bench

# ---- helpers -----------------------------------------------------------------

# median of the numbers on stdin (one per line)
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_gen DIR [CONFIG]: one `gen --config CONFIG build` in DIR (CONFIG
# defaults to site.toml); prints "wall_s rss_kb written unchanged removed gen_ms"
run_gen() {
    local dir=$1 config=${2:-site.toml} out t0 t1 rss
    t0=$(date +%s%N)
    if ! out=$(cd "$dir" && /usr/bin/time -f '%M' -o "$dir/time.out" \
        "$GEN" --config "$config" build 2>"$dir/stderr.log"); then
        echo "bench: gen build failed in $dir:" >&2
        cat "$dir/stderr.log" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    if [[ -s $dir/stderr.log ]]; then
        echo "bench: gen wrote to stderr (warnings skew the figures):" >&2
        head -5 "$dir/stderr.log" >&2
    fi
    rss=$(tail -n 1 "$dir/time.out")
    # published N players to DIR: W files written, U unchanged, R removed (T ms)
    local line
    line=$(grep -E '^published [0-9]+ players to ' <<<"$out") || {
        echo "bench: unexpected gen output: $out" >&2
        exit 1
    }
    sed -E 's/.*: ([0-9]+) files written, ([0-9]+) unchanged, ([0-9]+) removed \(([0-9]+) ms\).*/\1 \2 \3 \4/' <<<"$line" |
        awk -v w="$(((t1 - t0) / 1000000))" -v r="$rss" '{ printf "%.3f %s %s %s %s %s\n", w / 1000, r, $1, $2, $3, $4 }'
}

# files under DIR modified after the marker file
count_newer() {
    find "$1" -type f -newer "$2" | wc -l
}

# sha1 of every file under DIR, sorted by path
checksums() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha1sum)
}

# files added, removed or with different bytes between two checksum lists
count_changed() {
    # (diff exits 1 when the lists differ: not an error here)
    { diff <(echo "$1") <(echo "$2") || true; } | awk '/^[<>]/ { print $3 }' | sort -u | wc -l
}

# write_config DIR [OUT_DIR STATE_DIR FILE]
write_config() {
    cat >"$1/${4:-site.toml}" <<EOF
# Written by bench/build.sh: same shape as the demo's site.toml.
[site]
title = "Bench"
lang = "en"
out_dir = "${2:-public}"
templates = "$ROOT/site-templates"
state_dir = "${3:-state}"
refresh_secs = 30

[source]
kind = "csv"
[source.files]
Players = "players.csv"
Matches = "matches.csv"
EOF
    cat "$ROOT/bench/roster.toml" >>"$1/${4:-site.toml}"
}

# ---- runs --------------------------------------------------------------------

ROWS=()  # "scenario|players|runs|wall|rss_mb|gen_ms|written|check|target|met"

le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

bench_size() {
    local n=$1 runs=$2 dir="$WORK/$1" i r
    mkdir -p "$dir"
    echo "bench: $n players: generating roster" >&2
    python3 "$ROOT/bench/synth.py" --players "$n" --matches "$MATCHES" --out "$dir" >"$dir/variants.txt"
    cp "$dir/players.csv" "$dir/players.orig.csv"
    write_config "$dir"

    # 1. cold: each run into a fresh folder, deleting nothing (ext4 scans
    # past recently deleted inodes when allocating new ones, which would
    # charge the cleanup of the previous run to this one); the last run
    # builds the site the next scenarios use.
    local cold=() config
    for ((i = 1; i <= runs; i++)); do
        config=site.toml
        if ((i < runs)); then
            config="cold$i.toml"
            write_config "$dir" "cold$i/public" "cold$i/state" "$config"
        fi
        sync
        r=$(run_gen "$dir" "$config")
        echo "bench: $n cold #$i: $r" >&2
        cold+=("$r")
    done
    local wall rss ms written
    wall=$(printf '%s\n' "${cold[@]}" | awk '{ print $1 }' | median)
    rss=$(printf '%s\n' "${cold[@]}" | awk '{ print $2 }' | median)
    ms=$(printf '%s\n' "${cold[@]}" | awk '{ print $6 }' | median)
    written=$(printf '%s\n' "${cold[@]}" | awk '{ print $3 }' | median)
    local target met
    if ((n == 1000)); then
        target="≤ 0.5 s"
        le "$wall" 0.5 && met=yes || met=NO
    else
        target="≤ 4 s, RSS ≤ 200 MB"
        le "$wall" 4 && le "$rss" $((200 * 1024)) && met=yes || met=NO
    fi
    ROWS+=("cold build|$n|$runs|$wall|$(mb "$rss")|$ms|$written|empty out_dir and state_dir|$target|$met")


    # 2. no change (the site from the last cold run is up to date)
    local same=() newer_max=0 newer
    for ((i = 1; i <= runs; i++)); do
        touch "$dir/marker"
        sleep 0.01
        r=$(run_gen "$dir")
        newer=$(count_newer "$dir/public" "$dir/marker")
        ((newer > newer_max)) && newer_max=$newer
        echo "bench: $n no-change #$i: $r, find -newer: $newer" >&2
        same+=("$r")
    done
    wall=$(printf '%s\n' "${same[@]}" | awk '{ print $1 }' | median)
    rss=$(printf '%s\n' "${same[@]}" | awk '{ print $2 }' | median)
    ms=$(printf '%s\n' "${same[@]}" | awk '{ print $6 }' | median)
    local wmax
    wmax=$(printf '%s\n' "${same[@]}" | awk '$3 > m { m = $3 } END { print m + 0 }')
    if ((n == 1000)); then
        target="0 files"
        ((wmax == 0 && newer_max == 0)) && met=yes || met=NO
    else
        target="≤ 1 s, 0 files"
        le "$wall" 1 && ((wmax == 0 && newer_max == 0)) && met=yes || met=NO
    fi
    ROWS+=("no-change rebuild|$n|$runs|$wall|$(mb "$rss")|$ms|$wmax (max)|find -newer: $newer_max (max)|$target|$met")

    # 3. one changed player, applied then reverted alternately
    local label
    for label in top mid; do
        local info pid old new changes=() ok=1 detail=""
        info=$(grep "^$label " "$dir/variants.txt")
        read -r _ pid old new <<<"$info"
        for ((i = 1; i <= runs; i++)); do
            local before after changed
            if ((i % 2)); then
                cp "$dir/players.$label.csv" "$dir/players.csv"
            else
                cp "$dir/players.orig.csv" "$dir/players.csv"
            fi
            before=$(checksums "$dir/public")
            touch "$dir/marker"
            sleep 0.01
            r=$(run_gen "$dir")
            newer=$(count_newer "$dir/public" "$dir/marker")
            after=$(checksums "$dir/public")
            changed=$(count_changed "$before" "$after")
            written=$(awk '{ print $3 }' <<<"$r")
            echo "bench: $n changed-$label #$i: $r, bytes changed: $changed, find -newer: $newer" >&2
            ((written == changed && newer == changed)) || ok=0
            detail="bytes changed: $changed, find -newer: $newer"
            changes+=("$r")
        done
        # leave the site as the original roster describes it
        cp "$dir/players.orig.csv" "$dir/players.csv"
        if ((runs % 2)); then run_gen "$dir" >/dev/null; fi
        wall=$(printf '%s\n' "${changes[@]}" | awk '{ print $1 }' | median)
        rss=$(printf '%s\n' "${changes[@]}" | awk '{ print $2 }' | median)
        ms=$(printf '%s\n' "${changes[@]}" | awk '{ print $6 }' | median)
        written=$(printf '%s\n' "${changes[@]}" | awk '{ print $3 }' | sort -u | paste -sd/)
        if [[ $label == top ]]; then
            target="only changed files (4 expected)"
            ((ok)) && [[ $written == 4 ]] && met=yes || met=NO
            label="1 changed player (leader, $pid points $old↔$new)"
        else
            target="only changed files"
            ((ok)) && met=yes || met=NO
            label="1 changed player (mid-table, $pid points $old↔$new)"
        fi
        ROWS+=("$label|$n|$runs|$wall|$(mb "$rss")|$ms|$written|$detail (each run)|$target|$met")
    done
}

# cold build right after rm -rf of a full site (what a user who wipes public/
# and rebuilds sees); informational. Run after everything else, since ext4
# remembers recently deleted inodes for minutes and the deletions would slow
# the other scenarios' inode allocation.
bench_wipe() {
    local n=$1 runs=$2 dir="$WORK/$1" i r wall rss ms written
    write_config "$dir" "wipe/public" "wipe/state" wipe.toml
    run_gen "$dir" wipe.toml >/dev/null
    local wiped=()
    for ((i = 1; i <= runs; i++)); do
        rm -rf "$dir/wipe/public" "$dir/wipe/state"
        sync
        r=$(run_gen "$dir" wipe.toml)
        echo "bench: $n cold after rm -rf #$i: $r" >&2
        wiped+=("$r")
    done
    wall=$(printf '%s\n' "${wiped[@]}" | awk '{ print $1 }' | median)
    rss=$(printf '%s\n' "${wiped[@]}" | awk '{ print $2 }' | median)
    ms=$(printf '%s\n' "${wiped[@]}" | awk '{ print $6 }' | median)
    written=$(printf '%s\n' "${wiped[@]}" | awk '{ print $3 }' | median)
    ROWS+=("cold build right after rm -rf of the previous site|$n|$runs|$wall|$(mb "$rss")|$ms|$written|same, out_dir just deleted|(informational)|–")
}

for spec in "${SIZES[@]}"; do
    bench_size "${spec%%:*}" "${spec##*:}"
done
for spec in "${SIZES[@]}"; do
    bench_wipe "${spec%%:*}" "${spec##*:}"
done

# ---- report ------------------------------------------------------------------

cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //')
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$ROOT" && git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock site-templates 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes in src/"
fi
cmd="bench/build.sh"
((QUICK)) && cmd="bench/build.sh --quick"

report() {
    echo "## gen build"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- machine: $(nproc) CPUs ($cpu), $mem RAM, load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared, noisy)"
    echo "- rustc: $(rustc --version 2>/dev/null || echo unknown)"
    echo "- roster: bench/synth.py, $MATCHES matches per player, index of 500 per page"
    echo "- command: \`$cmd\`"
    echo
    echo "| scenario | players | runs | wall (median, s) | peak RSS (median, MB) | gen's own ms (median) | files written | check | target | met |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
    local row
    for row in "${ROWS[@]}"; do
        echo "| ${row//|/ | } |"
    done
    echo
    echo "Wall time is around the whole process (start-up included); gen's own ms is"
    echo "the fetch + render + publish time it prints. Files written counts an"
    echo "\`.html\` and its \`.gz\` as two; \"bytes changed\" compares sha1 of every"
    echo "file under out_dir before and after the run."
}

table=$(report)
echo "$table"

if ((QUICK)); then
    echo "bench: --quick: BENCHMARKS.md left as it is" >&2
    exit 0
fi

md="$ROOT/BENCHMARKS.md"
if [[ ! -f $md ]]; then
    cat >"$md" <<'EOF'
# Benchmarks

Figures measured on the project's own machine, one section per benchmark.
Each section says what it measures, on which machine and commit, and the exact
command that reproduces it; rerunning that command rewrites only its own
section. These are benchmarks, not tests: a missed target is reported, not
failed.

EOF
fi
replace_section "$md" "## gen build" "$table"
echo "bench: rewrote the \"## gen build\" section of $md" >&2
