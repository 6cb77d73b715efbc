#!/usr/bin/env bash
# Load benchmark of issues 5 and 7 (and issue 4's idle figures): real nginx
# with `gen nginx`'s output in front of `gen watch`, measured with wrk.
# A benchmark, not a test: a missed target is reported, never failed.
#
#   bench/load.sh             # full run (~25 min): 10,000 players, 15 s per
#                             # scenario, 10 min soak, the idle minute; prints
#                             # a Markdown table and rewrites the "## Load
#                             # (issue 5 and 7)" and "## gen watch idle"
#                             # sections of BENCHMARKS.md
#   bench/load.sh --quick     # ≤ 3 min: 2,000 players, 5 s per scenario,
#                             # one run each, no "no gzip" rows, 15 s soak,
#                             # no idle minute; stdout only
#   options: --players N  --duration S  --runs N  --soak-min M  --skip-idle
#            --keep
#   env:     GEN=/path/to/gen uses that binary instead of building the
#            release one (in $CARGO_TARGET_DIR, default target/)
#
# Setup (all on 127.0.0.1, every process started here is stopped by pid at
# exit, every run is bounded by wrk's -d):
#   - a synthetic roster (bench/synth.py, 20 matches per player) and variant
#     B with every player's points + 1 (bench/loadkit.py variant): every
#     player page and index page differs between A and B;
#   - a site with [api] login_failures_per_address = 0: gen's per-address
#     login limit is LIFTED for the benchmark (one client address sends
#     every login); refresh_secs = 3600 for the static scenarios, rewritten
#     to 1 (gen reloads its config) for the republish scenarios;
#   - gen watch; nginx (own prefix, worker_processes auto, epoll, and
#     nginx.conf's values as deploy.sh sets them, from `gen nginx
#     --main-values`: multi_accept, worker_connections (at most the raised
#     limit), worker_rlimit_nofile = the raised limit)
#     whose http { } includes `gen nginx --login-rate 0` verbatim:
#     nginx's per-address limit_req on /api/login is LIFTED too (the default,
#     30/min, would 429 the login scenario); plus a second "bare" server
#     block on another port serving the same out_dir with no auth, the
#     baseline. access_log is off in both (the benchmark is about serving);
#   - `ulimit -n` raised to `gen nginx --main-values`'s nofile (65536; or
#     the hard limit) for wrk and nginx;
#   - nginx's auth cache on a tmpfs (/dev/shm), as deploy.sh mounts one;
#   - session cookies: every player (at most 10,000) logs in once through
#     gen's API with the PIN from the roster CSV (bench/loadkit.py cookies).
# Scenarios (wrk -t2 -c<conns> -d<dur> --latency -s bench/load.lua, wrk's
# default 2 s timeout):
#   bare public / public  the index pages and /login/, on the bare port and
#                         through gen's server block
#   bare private / private  /p/<slug>/ of every logged-in player; "private"
#                         sends each player's own cookie (auth_request,
#                         cached 30 s by nginx, on)
#   private, stale start  before each private run: once every cached auth
#                         answer is stale (32 s after the last refresh of them all),
#                         4 s in which nginx refreshes all of them at once;
#                         the private run that follows measures serving
#     ... at 100, 1,000 and 10,000 connections, with Accept-Encoding: gzip
#     as every browser sends it (nginx serves the .gz twins), plus public
#     pages without it at 10,000 connections. This machine is shared and
#     noisy: each of these runs --runs times (3; bare then ours, one level
#     after the other) and the table gives the median req/s, p50 and p99,
#     the median of the per-run ratios to bare, the worst max, and the
#     errors of all runs summed
#   logins                POST /api/login through nginx at 100 connections,
#                         half valid, half invalid (unknown names, wrong PINs)
#   republish public/private  the same while gen republishes: players.csv
#                         alternates between A and B every second (temp file
#                         + rename); wrk checks every 200 body ends with
#                         </html> (no Accept-Encoding: plain HTML), and
#                         bench/loadkit.py check requests the same pages,
#                         half with Accept-Encoding: gzip, gunzips and
#                         requires the bytes of version A or B
#   soak                  mixed private/public at 1,000 connections with
#                         republishing and both checks; RSS and threads of
#                         gen and nginx (master + workers) every 10 s
# Requires wrk (Debian package `wrk`), nginx, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
QUICK=0
KEEP=0
SKIP_IDLE=0
PLAYERS=""
DURATION=""
RUNS=""
SOAK_MIN=""
ARGS=("$@")
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        --skip-idle) SKIP_IDLE=1 ;;
        --players) PLAYERS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --soak-min) SOAK_MIN=$2; shift ;;
        -h | --help)
            print_help "$0"
            exit 0
            ;;
        *)
            echo "usage: $0 [--quick] [--players N] [--duration S] [--runs N] [--soak-min M] [--skip-idle] [--keep]" >&2
            exit 2
            ;;
    esac
    shift
done
if ((QUICK)); then
    PLAYERS=${PLAYERS:-2000}
    DURATION=${DURATION:-5}
    RUNS=${RUNS:-1}
    SOAK_SECS=$(awk -v m="${SOAK_MIN:-0.25}" 'BEGIN { printf "%d", m * 60 }')
    SKIP_IDLE=1
    LEVELS=(100 1000 10000)
    REPUBLISH_LEVELS=(1000)
else
    PLAYERS=${PLAYERS:-10000}
    DURATION=${DURATION:-15}
    RUNS=${RUNS:-3}
    SOAK_SECS=$(awk -v m="${SOAK_MIN:-10}" 'BEGIN { printf "%d", m * 60 }')
    LEVELS=(100 1000 10000)
    REPUBLISH_LEVELS=(1000 10000)
fi
MATCHES=20
MAX_COOKIES=10000
LOGIN_CONNS=100

for tool in wrk python3; do
    command -v "$tool" >/dev/null || {
        echo "bench: $tool missing (Debian package \`$tool\`)" >&2
        exit 2
    }
done
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || {
    echo "bench: nginx missing (Debian package \`nginx\`)" >&2
    exit 2
}

release_gen

# nginx.conf's capacity values as deploy.sh sets them, from their one source
# (`gen nginx --main-values`): multi_accept, worker_connections, nofile.
declare -A MAIN
while IFS='=' read -r name value; do
    MAIN[$name]=$value
done < <("$GEN" nginx --main-values)
for name in multi_accept worker_connections nofile; do
    [[ -n ${MAIN[$name]:-} ]] || {
        echo "bench: \`$GEN nginx --main-values\` gave no $name" >&2
        exit 2
    }
done

# Open files: 10,000 wrk connections, and as many (plus upstream ones) in
# nginx: the descriptors deploy.sh gives nginx.
WANT_NOFILE=${MAIN[nofile]}
HARD=$(ulimit -Hn)
if [[ $HARD != unlimited ]] && ((HARD < WANT_NOFILE)); then
    ulimit -Hn "$WANT_NOFILE" 2>/dev/null || WANT_NOFILE=$HARD
fi
ulimit -n "$WANT_NOFILE"
NOFILE=$(ulimit -n)
echo "bench: raised the open-file limit (ulimit -n) to $NOFILE for wrk and nginx" >&2

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

bench_workdir load
chmod 755 "$WORK"
trap 'exit 130' INT TERM

KIT="$ROOT/bench/loadkit.py"
LUA="$ROOT/bench/load.lua"

# ---- the site ------------------------------------------------------------------

SITE="$WORK/site"
mkdir -p "$SITE"
chmod 755 "$SITE"
echo "bench: $PLAYERS players: generating the roster" >&2
python3 "$ROOT/bench/synth.py" --players "$PLAYERS" --matches "$MATCHES" --out "$SITE" >/dev/null
cp "$SITE/players.csv" "$WORK/players.A.csv"
python3 "$KIT" variant "$WORK/players.A.csv" "$WORK/players.B.csv"
API_PORT=$(free_port)

write_config() { # write_config DIR OUT_DIR STATE_DIR REFRESH PLAYERS_CSV [FILE]
    cat >"$1/${6:-site.toml}.tmp" <<EOF
# Written by bench/load.sh.
[site]
title = "Bench"
lang = "en"
out_dir = "$2"
templates = "$ROOT/site-templates"
state_dir = "$3"
refresh_secs = $4

[source]
kind = "csv"
[source.files]
Players = "$5"
Matches = "matches.csv"
EOF
    cat "$ROOT/bench/roster.toml" - >>"$1/${6:-site.toml}.tmp" <<EOF

[api]
listen = "127.0.0.1:$API_PORT"
# Lifted for the benchmark: every login comes from one address.
login_failures_per_address = 0
EOF
    mv -f "$1/${6:-site.toml}.tmp" "$1/${6:-site.toml}"
}

# The two known versions of every page, for the body checker.
echo "bench: building the two known versions (A and B)" >&2
cp "$WORK/players.B.csv" "$SITE/players.B.csv"
write_config "$SITE" "$WORK/known-a" "$WORK/known-a-state" 3600 players.csv known-a.toml
write_config "$SITE" "$WORK/known-b" "$WORK/known-b-state" 3600 players.B.csv known-b.toml
(cd "$SITE" && "$GEN" --config known-a.toml build >/dev/null 2>"$WORK/known.log" &&
    "$GEN" --config known-b.toml build >/dev/null 2>>"$WORK/known.log") || {
    cat "$WORK/known.log" >&2
    exit 1
}
rm -f "$SITE/players.B.csv"

write_config "$SITE" public state 3600 players.csv
(cd "$SITE" && "$GEN" --config site.toml build >/dev/null 2>"$WORK/build.log") || {
    cat "$WORK/build.log" >&2
    exit 1
}
chmod 755 "$SITE/public"

echo "bench: starting gen watch on 127.0.0.1:$API_PORT" >&2
(cd "$SITE" && exec "$GEN" --config site.toml watch) 2>"$WORK/gen.log" >/dev/null &
GEN_PID=$!
PIDS+=("$GEN_PID")
wait_for 60 grep -q 'cycle ok' "$WORK/gen.log" || {
    echo "bench: gen watch never completed a cycle:" >&2
    tail -20 "$WORK/gen.log" >&2
    exit 1
}

# ---- nginx -------------------------------------------------------------------------

NGX="$WORK/nginx"
mkdir -p "$NGX"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$NGX"
NGX_PORT=$(free_port)
BARE_PORT=$(free_port)
# nginx's auth cache on a tmpfs, as deploy.sh mounts it (/dev/shm here).
AUTH_CACHE="$NGX/cache"
AUTH_CACHE_FS=disk
if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
    AUTH_CACHE=$(mktemp -d /dev/shm/sheetgen-load-auth.XXXXXX)
    AUTH_CACHE_FS="tmpfs ($AUTH_CACHE)"
    CLEAN_DIRS+=("$AUTH_CACHE")
else
    echo "bench: /dev/shm is not a tmpfs: nginx's auth cache stays on disk (deploy.sh puts it on a tmpfs)" >&2
fi
# --login-rate 0: no limit_req at nginx for the benchmark (every login
# comes from 127.0.0.1); gen's own failure limit is lifted in site.toml.
LOGIN_RATE=0
(cd "$SITE" && "$GEN" --config site.toml nginx --listen "127.0.0.1:$NGX_PORT" \
    --server-name localhost --cache-dir "$AUTH_CACHE" --login-rate "$LOGIN_RATE") >"$NGX/sheetgen.conf"
WANT_CONNECTIONS=${MAIN[worker_connections]}
WORKER_CONNECTIONS=$((NOFILE < WANT_CONNECTIONS ? NOFILE : WANT_CONNECTIONS))
MIME=""
[[ -f /etc/nginx/mime.types ]] && MIME="include /etc/nginx/mime.types;"
cat >"$NGX/nginx.conf" <<EOF
# Written by bench/load.sh.
daemon off;
worker_processes auto;
worker_rlimit_nofile $NOFILE;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events {
    use epoll;
    worker_connections $WORKER_CONNECTIONS;
    # As deploy.sh sets it: without it a busy worker accepts one connection
    # per pass of its event loop, and 1,000 new connections waited up to
    # 3.7 s in the kernel's accept queue (p99 over 1 s, timeouts).
    multi_accept ${MAIN[multi_accept]};
}
http {
    $MIME
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;

    # gen nginx's output, verbatim.
    include $NGX/sheetgen.conf;

    # The baseline: the same files, no auth, nothing else.
    server {
        # The same kernel queue as gen nginx's listen: 10,000 connections
        # arrive at once.
        listen 127.0.0.1:$BARE_PORT backlog=4096;
        root $SITE/public;
        open_file_cache off;
        gzip_static on;
        location / {
            try_files \${uri}index.html \$uri =404;
        }
    }
}
EOF
"$NGINX" -t -q -p "$NGX/" -e "$NGX/error.log" -c "$NGX/nginx.conf"
"$NGINX" -p "$NGX/" -e "$NGX/error.log" -c "$NGX/nginx.conf" </dev/null >/dev/null 2>&1 &
NGX_PID=$!
PIDS+=("$NGX_PID")
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! { wait_for 10 port_open "$NGX_PORT" && wait_for 10 port_open "$BARE_PORT"; }; then
    echo "bench: nginx did not start:" >&2
    cat "$NGX/error.log" >&2
    exit 1
fi
echo "bench: nginx on 127.0.0.1:$NGX_PORT (gen nginx) and 127.0.0.1:$BARE_PORT (bare)" >&2

# ---- cookies and request lists ------------------------------------------------------

python3 "$KIT" cookies --api "127.0.0.1:$API_PORT" --players "$SITE/players.csv" \
    --out "$WORK/cookies.tsv" --limit "$MAX_COOKIES"
REQ="$WORK/req"
python3 "$KIT" reqfiles --players "$SITE/players.csv" --cookies "$WORK/cookies.tsv" \
    --site "$SITE/public" --dir "$REQ"
# Sanity: one private page through nginx with its cookie.
first=$(head -1 "$REQ/private.txt")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${first#*$'\t'}" \
    "http://127.0.0.1:$NGX_PORT${first%%$'\t'*}")
[[ $code == 200 ]] || {
    echo "bench: a private page with its cookie answered $code, not 200" >&2
    exit 1
}

# ---- sampling ----------------------------------------------------------------------

# One line: epoch gen_rss_kb gen_threads nginx_rss_kb nginx_threads
# (nginx = master + its children: workers, cache manager/loader).
sample() {
    local g_rss g_thr n_rss=0 n_thr=0 pid r t
    read -r g_rss g_thr < <(awk '/^VmRSS/ { r = $2 } /^Threads/ { t = $2 } END { print r + 0, t + 0 }' "/proc/$GEN_PID/status" 2>/dev/null || echo "0 0")
    for pid in "$NGX_PID" $(pgrep -P "$NGX_PID" 2>/dev/null || true); do
        read -r r t < <(awk '/^VmRSS/ { r = $2 } /^Threads/ { t = $2 } END { print r + 0, t + 0 }' "/proc/$pid/status" 2>/dev/null || echo "0 0")
        n_rss=$((n_rss + r))
        n_thr=$((n_thr + t))
    done
    echo "$(date +%s) $g_rss $g_thr $n_rss $n_thr"
}
SAMPLER_PID=""
start_sampler() { # start_sampler INTERVAL FILE
    (while :; do sample; sleep "$1"; done) >"$2" &
    SAMPLER_PID=$!
    PIDS+=("$SAMPLER_PID")
}
stop_sampler() {
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    sample >>"$1"
}

# ---- republishing ------------------------------------------------------------------

REPUBLISH_PID=""
start_republish() {
    (
        k=0
        while :; do
            if ((k % 2)); then src=A; else src=B; fi
            cp "$WORK/players.$src.csv" "$SITE/.players.csv.next"
            mv -f "$SITE/.players.csv.next" "$SITE/players.csv"
            k=$((k + 1))
            sleep 1
        done
    ) &
    REPUBLISH_PID=$!
    PIDS+=("$REPUBLISH_PID")
}
stop_republish() {
    kill "$REPUBLISH_PID" 2>/dev/null || true
    wait "$REPUBLISH_PID" 2>/dev/null || true
}
cycles_changed() { grep 'cycle ok' "$WORK/gen.log" | grep -c 'changed=true' || true; }
cycles_failed() { grep -c 'cycle failed' "$WORK/gen.log" || true; }

# ---- wrk ---------------------------------------------------------------------------

ROWS=()   # scenario|conns|rps|p50|p99|max|non2xx|sockerr|rss|threads|vs bare|checks
declare -A RPS P99 ERRS RATIO
fmt_ms() { awk -v u="$1" 'BEGIN { if (u < 10000) printf "%.2f", u / 1000; else printf "%.0f", u / 1000 }'; }

# Extra wrk arguments (headers) of the next run_wrk.
WRK_ARGS=()
GZIP=(-H "Accept-Encoding: gzip")

# run_wrk NAME PORT CONNS SECONDS MODE FILE [check] → sets R_* from RESULT
# (R_* are assigned by printf -v, which shellcheck does not follow)
# shellcheck disable=SC2154
run_wrk() {
    local name=$1 port=$2 conns=$3 secs=$4 mode=$5 file=$6 check=${7:-} out line kv
    echo "bench: $name, $conns connections, ${secs}s${WRK_ARGS[*]:+ (${WRK_ARGS[*]})}" >&2
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${WRK_ARGS[@]}" -s "$LUA" "http://127.0.0.1:$port" \
        -- "$mode" "$file" ${check:+"$check"} 2>&1) || true
    echo "$out" >>"$WORK/wrk.${name//[^a-zA-Z0-9]/_}.$conns.txt"
    line=$(grep '^RESULT ' <<<"$out" | tail -1) || {
        echo "bench: wrk gave no result:" >&2
        echo "$out" >&2
        exit 1
    }
    for kv in ${line#RESULT }; do
        printf -v "R_${kv%%=*}" '%s' "${kv#*=}"
    done
}

# sampled_wrk NAME PORT CONNS SECONDS MODE FILE [check]: run_wrk with gen and
# nginx sampled every second → R_* and the peaks p_ngx, p_gen (RSS KB), p_thr.
sampled_wrk() {
    local samples="$WORK/samples.${1//[^a-zA-Z0-9]/_}.$3"
    start_sampler 1 "$samples"
    run_wrk "$@"
    stop_sampler "$samples"
    read -r p_ngx p_gen p_thr < <(awk '{ if ($4 > n) n = $4; if ($2 > g) g = $2; if ($3 > t) t = $3 } END { print n, g, t }' "$samples")
}

# scenario NAME PORT CONNS SECONDS MODE FILE [check] [BARE_NAME] [EXTRA_CHECKS]
# shellcheck disable=SC2154
scenario() {
    local name=$1 port=$2 conns=$3 secs=$4 mode=$5 file=$6 check=${7:-} bare=${8:-} extra=${9:-}
    local sockerr ratio="–" checks=""
    sampled_wrk "$name" "$port" "$conns" "$secs" "$mode" "$file" "$check"
    sockerr=$((R_connect + R_read + R_write + R_timeout))
    RPS[$name.$conns]=$R_rps
    P99[$name.$conns]=$R_p99_us
    ERRS[$name.$conns]=$((sockerr + R_status))
    if [[ -n $bare && -n ${RPS[$bare.$conns]:-} ]]; then
        ratio=$(awk -v a="$R_rps" -v b="${RPS[$bare.$conns]}" 'BEGIN { printf "%.2f×", a / b }')
    fi
    [[ -n $check ]] && checks="wrk: $R_torn torn of $R_checked bodies"
    [[ $mode == login ]] && checks="$R_logins_ok ok, $R_logins_failed refused (303 to /login/)"
    [[ -n $extra ]] && checks="${checks:+$checks; }$extra"
    kill -0 "$GEN_PID" 2>/dev/null || checks="${checks:+$checks; }GEN HAS EXITED: $(grep -m1 -E 'ERROR|error:' "$WORK/gen.log" | cut -c1-160)"
    ROWS+=("$name|$conns|$(printf '%.0f' "$R_rps")|$(fmt_ms "$R_p50_us")|$(fmt_ms "$R_p99_us")|$(fmt_ms "$R_max_us")|$R_status|$sockerr (c $R_connect, r $R_read, w $R_write, t $R_timeout)|$(mb "$p_ngx") / $(mb "$p_gen")|$p_thr|$ratio|${checks:-–}")
}

# The static scenarios run RUNS times; each run adds to these (key =
# "NAME.CONNS"): space-separated lists for medians, sums, maxima.
declare -A L_RPS L_P50 L_P99 L_RATIO S_STATUS S_C S_R S_W S_T M_MAX M_NGX M_GEN M_THR
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max_of() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }

# measure NAME PORT CONNS FILE [BARE_NAME] [SECONDS]: one run of a static
# scenario.
# shellcheck disable=SC2154
measure() {
    local name=$1 port=$2 conns=$3 file=$4 bare=${5:-} secs=${6:-$DURATION} key="$1.$3"
    sampled_wrk "$name" "$port" "$conns" "$secs" get "$file"
    L_RPS[$key]+=" $R_rps"
    L_P50[$key]+=" $R_p50_us"
    L_P99[$key]+=" $R_p99_us"
    [[ -n $bare ]] && L_RATIO[$key]+=" $(awk -v a="$R_rps" -v b="$LAST_BARE_RPS" 'BEGIN { print a / b }')"
    [[ $name == bare* ]] && LAST_BARE_RPS=$R_rps
    S_STATUS[$key]=$((${S_STATUS[$key]:-0} + R_status))
    S_C[$key]=$((${S_C[$key]:-0} + R_connect))
    S_R[$key]=$((${S_R[$key]:-0} + R_read))
    S_W[$key]=$((${S_W[$key]:-0} + R_write))
    S_T[$key]=$((${S_T[$key]:-0} + R_timeout))
    M_MAX[$key]=$(max_of "${M_MAX[$key]:-0}" "$R_max_us")
    M_NGX[$key]=$(max_of "${M_NGX[$key]:-0}" "$p_ngx")
    M_GEN[$key]=$(max_of "${M_GEN[$key]:-0}" "$p_gen")
    M_THR[$key]=$(max_of "${M_THR[$key]:-0}" "$p_thr")
}

# static_row NAME CONNS: the table row of a static scenario, from its runs.
static_row() {
    local name=$1 conns=$2 key="$1.$2" rps p50 p99 sockerr ratio="–"
    rps=$(median "${L_RPS[$key]}")
    p50=$(median "${L_P50[$key]}")
    p99=$(median "${L_P99[$key]}")
    sockerr=$((S_C[$key] + S_R[$key] + S_W[$key] + S_T[$key]))
    RPS[$key]=$rps
    P99[$key]=$p99
    ERRS[$key]=$((sockerr + S_STATUS[$key]))
    if [[ -n ${L_RATIO[$key]:-} ]]; then
        RATIO[$key]=$(median "${L_RATIO[$key]}")
        ratio=$(printf '%.2f×' "${RATIO[$key]}")
    fi
    ROWS+=("$name|$conns|$(printf '%.0f' "$rps")|$(fmt_ms "$p50")|$(fmt_ms "$p99")|$(fmt_ms "${M_MAX[$key]}")|${S_STATUS[$key]}|$sockerr (c ${S_C[$key]}, r ${S_R[$key]}, w ${S_W[$key]}, t ${S_T[$key]})|$(mb "${M_NGX[$key]}") / $(mb "${M_GEN[$key]}")|${M_THR[$key]}|$ratio|$(wc -w <<<"${L_P99[$key]}") runs: p99 ${L_P99[$key]# } µs")
}

# ---- scenarios ---------------------------------------------------------------------

# Warm the auth cache and the page cache once (not measured).
wrk -t2 -c100 -d3s -s "$LUA" "http://127.0.0.1:$NGX_PORT" -- get "$REQ/private.txt" >/dev/null 2>&1 || true
LAST_REFRESH=$SECONDS # when nginx last refreshed every cached auth answer

# nginx keeps gen's answer for each player's cookie 20–30 s (gen's
# Cache-Control max-age). A private run that starts after a longer pause
# finds every answer expired: nginx then asks gen again for all players at
# once, and each player's request waits for its own answer (an expired one
# is never served while gen is up, issue 23). That start is measured on
# its own: stale_start waits until every cached answer is stale (32 s after
# the last run that refreshed them all), then runs STALE_SECS at CONNS as
# the "private, stale start" row (refreshing every answer), and the measured
# private run follows at once, on answers at most STALE_SECS old, so none
# expires within it (STALE_SECS + DURATION < 20).
STALE_SECS=4
((QUICK)) && STALE_SECS=3 # 2,000 players: refreshed within a second
stale_start() { # stale_start CONNS
    local wait=$((LAST_REFRESH + 32 - SECONDS))
    if ((wait > 0)); then
        echo "bench: ${wait}s until every cached auth answer is stale" >&2
        sleep "$wait"
    fi
    local saved=("${WRK_ARGS[@]}")
    WRK_ARGS=("${GZIP[@]}")
    measure "private, stale start" "$NGX_PORT" "$1" "$REQ/private.txt" "" "$STALE_SECS"
    LAST_REFRESH=$SECONDS
    WRK_ARGS=("${saved[@]}")
}

TOP=${LEVELS[-1]}
for ((run = 1; run <= RUNS; run++)); do
    echo "bench: static scenarios, run $run of $RUNS" >&2
    for c in "${LEVELS[@]}"; do
        WRK_ARGS=("${GZIP[@]}")
        measure "bare public" "$BARE_PORT" "$c" "$REQ/public.txt"
        measure "public" "$NGX_PORT" "$c" "$REQ/public.txt" "bare public"
        measure "bare private" "$BARE_PORT" "$c" "$REQ/bare_private.txt"
        stale_start "$c"
        measure "private" "$NGX_PORT" "$c" "$REQ/private.txt" "bare private"
    done
    # What a client without gzip costs: 6 times the bytes.
    if ((!QUICK)); then
        WRK_ARGS=()
        measure "bare public, no gzip" "$BARE_PORT" "$TOP" "$REQ/public.txt"
        measure "public, no gzip" "$NGX_PORT" "$TOP" "$REQ/public.txt" "bare public, no gzip"
    fi
done
for c in "${LEVELS[@]}"; do
    for name in "bare public" "public" "bare private" "private"; do
        static_row "$name" "$c"
    done
done
if ((!QUICK)); then
    static_row "bare public, no gzip" "$TOP"
    static_row "public, no gzip" "$TOP"
fi
WRK_ARGS=()
scenario "logins" "$NGX_PORT" "$LOGIN_CONNS" "$DURATION" login "$REQ/logins.txt"

# Republishing: refresh_secs 1 (gen reloads the config), players.csv
# alternating A/B every second.
write_config "$SITE" public state 1 players.csv
wait_for 15 grep -q 'config reloaded' "$WORK/gen.log" || echo "bench: gen did not report the config reload" >&2
start_republish
sleep 2

# What the body checker saw over every republish row and the soak.
CHECK_TORN=0
CHECK_NEITHER=0
CHECK_BODIES=0

# republish_scenario NAME CONNS SECONDS FILE: wrk + the gzip/plain checker.
republish_scenario() {
    local name=$1 conns=$2 secs=$3 file=$4 c0 f0 c1 f1 chk
    c0=$(cycles_changed)
    f0=$(cycles_failed)
    python3 "$KIT" check --addr "127.0.0.1:$NGX_PORT" --urls "$REQ/check.txt" \
        --known-a "$WORK/known-a" --known-b "$WORK/known-b" --seconds "$secs" \
        --threads 2 >"$WORK/check.${name//[^a-zA-Z0-9]/_}.$conns.json" &
    local chk_pid=$!
    PIDS+=("$chk_pid")
    scenario "$name" "$NGX_PORT" "$conns" "$secs" get "$file" check "" "__EXTRA__"
    wait "$chk_pid" || true
    c1=$(cycles_changed)
    f1=$(cycles_failed)
    chk=$(python3 "$KIT" checksummary "$WORK/check.${name//[^a-zA-Z0-9]/_}.$conns.json")
    # For the target table: a torn body, or one of neither version, is a NO.
    local torn neither bodies
    read -r torn neither bodies < <(python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["torn"], s["unknown_version"], s["requests"])' \
        "$WORK/check.${name//[^a-zA-Z0-9]/_}.$conns.json")
    CHECK_TORN=$((CHECK_TORN + torn))
    CHECK_NEITHER=$((CHECK_NEITHER + neither))
    CHECK_BODIES=$((CHECK_BODIES + bodies))
    local last=${ROWS[-1]}
    ROWS[-1]=${last/__EXTRA__/$chk; $((c1 - c0)) republishing cycles, $((f1 - f0)) failed}
}

for c in "${REPUBLISH_LEVELS[@]}"; do
    republish_scenario "republish public" "$c" "$DURATION" "$REQ/public.txt"
    stale_start "$c"
    republish_scenario "republish private" "$c" "$DURATION" "$REQ/private.txt"
done

# Soak: 1,000 connections, mixed, republishing, sampled every 10 s.
SOAK_SAMPLES="$WORK/soak.samples"
start_sampler 10 "$SOAK_SAMPLES"
SOAK_SAMPLER=$SAMPLER_PID
republish_scenario "soak (mixed private/public)" 1000 "$SOAK_SECS" "$REQ/mixed.txt"
SAMPLER_PID=$SOAK_SAMPLER
stop_sampler "$SOAK_SAMPLES"
stop_republish
for c in "${LEVELS[@]}"; do
    [[ -n ${L_P99[private, stale start.$c]:-} ]] && static_row "private, stale start" "$c"
done
SOAK_SUMMARY=$(awk '
    NR == 1 { for (i = 2; i <= 5; i++) first[i] = $i }
    { for (i = 2; i <= 5; i++) { last[i] = $i; if ($i > max[i]) max[i] = $i } }
    END {
        printf "gen RSS %.0f / %.0f / %.0f MB, gen threads %d / %d / %d, nginx RSS %.0f / %.0f / %.0f MB, nginx threads %d / %d / %d (first / last / max, %d samples)\n",
            first[2] / 1024, last[2] / 1024, max[2] / 1024, first[3], last[3], max[3],
            first[4] / 1024, last[4] / 1024, max[4] / 1024, first[5], last[5], max[5], NR
    }' "$SOAK_SAMPLES")
# Flat = no growth: the median of the last third of the samples against the
# median of the first third, for gen's RSS (KB) and threads.
thirds() { # thirds COLUMN → "FIRST LAST"
    local all n
    mapfile -t all < <(awk -v c="$1" '{ print $c }' "$SOAK_SAMPLES")
    n=$((${#all[@]} / 3))
    ((n >= 1)) || n=1
    echo "$(median "${all[*]:0:n}") $(median "${all[*]: -n}")"
}
read -r SOAK_RSS_A SOAK_RSS_B < <(thirds 2)
read -r SOAK_THR_A SOAK_THR_B < <(thirds 3)

NGX_ERRORS=$(grep -c '\[error\]\|\[crit\]\|\[alert\]\|\[emerg\]' "$NGX/error.log" || true)
NGX_ERROR_KINDS=$(grep '\[error\]\|\[crit\]\|\[alert\]\|\[emerg\]' "$NGX/error.log" |
    sed -E 's/^[0-9/: ]+//; s/\*[0-9]+ //; s/, client:.*//; s/[0-9]+#[0-9]+: //; s/"[^"]*"/"…"/g' | sort | uniq -c | sort -rn | head -5 || true)
GEN_ALIVE=yes
kill -0 "$GEN_PID" 2>/dev/null || GEN_ALIVE="NO (exited)"

# ---- issue 4: gen watch idle, Google source = a fake ------------------------------

IDLE_LINES=()
idle_minute() {
    local dir="$WORK/idle" fport gport pid i t0 t1 c0 c1 ticks0 ticks1 hz rss first=0 last=0 max=0
    mkdir -p "$dir"
    python3 "$ROOT/bench/synth.py" --players 1000 --matches "$MATCHES" --out "$dir" >/dev/null
    python3 "$KIT" fakegoogle --players "$dir/players.csv" --matches "$dir/matches.csv" \
        --port-file "$dir/port" --count-file "$dir/count" &
    PIDS+=("$!")
    wait_for 10 test -s "$dir/port" || { echo "bench: the fake Google did not start" >&2; return 1; }
    fport=$(cat "$dir/port")
    gport=$(free_port)
    cat >"$dir/site.toml" <<EOF
# Written by bench/load.sh: the idle minute of issue 4.
[site]
title = "Idle"
lang = "en"
out_dir = "public"
templates = "$ROOT/site-templates"
state_dir = "state"
refresh_secs = 30

[source]
kind = "google"
spreadsheet_id = "bench"
api_base = "http://127.0.0.1:$fport"
EOF
    cat "$ROOT/bench/roster.toml" - >>"$dir/site.toml" <<EOF

[api]
listen = "127.0.0.1:$gport"
EOF
    echo "bench: idle: gen watch, 1,000 players, refresh_secs 30, fake Google on 127.0.0.1:$fport" >&2
    (cd "$dir" && GEN_GOOGLE_API_KEY=bench-key exec "$GEN" --config site.toml watch) 2>"$dir/gen.log" >/dev/null &
    pid=$!
    PIDS+=("$pid")
    wait_for 60 grep -q 'cycle ok' "$dir/gen.log" || {
        echo "bench: idle gen never completed a cycle:" >&2
        tail -5 "$dir/gen.log" >&2
        return 1
    }
    sleep 5
    hz=$(getconf CLK_TCK)
    c0=$(cat "$dir/count")
    ticks0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    t0=$(date +%s%N)
    for i in $(seq 0 12); do
        rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
        ((i == 0)) && first=$rss
        last=$rss
        ((rss > max)) && max=$rss
        ((i < 12)) && sleep 5
    done
    t1=$(date +%s%N)
    ticks1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    c1=$(cat "$dir/count")
    local secs cpu threads
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
    threads=$(awk '/^Threads/ { print $2 }' "/proc/$pid/status")
    local cycles failed
    cycles=$(grep -c 'cycle ok' "$dir/gen.log" || true)
    failed=$(grep -c 'cycle failed' "$dir/gen.log" || true)
    kill -TERM "$pid" 2>/dev/null || true
    local met_rss met_cpu met_req
    met_rss=$( ((max < 30 * 1024)) && echo yes || echo NO)
    met_cpu=$(awk -v c="$cpu" 'BEGIN { print (c < 1) ? "yes" : "NO" }')
    met_req=$( (($((c1 - c0)) == 2)) && echo yes || echo NO)
    IDLE_LINES+=("| RSS over the minute (first / last / max) | $(mb "$first") / $(mb "$last") / $(mb "$max") MB | < 30 MB | $met_rss |")
    IDLE_LINES+=("| CPU over the minute (utime + stime, /proc/<pid>/stat) | $cpu % of one core ($((ticks1 - ticks0)) ticks in $secs s, 2 cycles included) | well under 1 % | $met_cpu |")
    IDLE_LINES+=("| Google requests (batchGet) in the minute | $((c1 - c0)) | 2 | $met_req |")
    IDLE_LINES+=("| threads at the end / cycles ok / failed since start | $threads / $cycles / $failed | – | – |")
}
if ((!SKIP_IDLE)); then
    idle_minute || IDLE_LINES+=("| the idle minute | failed: see the log | | NO |")
fi

# ---- report --------------------------------------------------------------------------

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: //')
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n ${GEN_COMMIT:-} ]]; then
    commit=$GEN_COMMIT
elif [[ -n $(cd "$ROOT" && git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock site-templates 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes in src/"
fi
cmd="bench/load.sh${ARGS[*]:+ ${ARGS[*]}}"
machine="$(nproc) CPUs ($cpu_model), $mem RAM"

verdict() { # target lines for issues 5 and 7
    local c
    tgt() { echo "| $1 | $2 | $3 | $4 |"; }
    yes_no() { awk "BEGIN { print ($1) ? \"yes\" : \"NO\" }"; }
    # shellcheck disable=SC2043 # one level today; more may be added
    for c in 1000; do
        [[ -n ${RPS[public.$c]:-} ]] || continue
        tgt "issue 5: public ≥ 0.9× bare ($c conns)" "$(printf '%.2f×' "${RATIO[public.$c]}")" "≥ 0.9×" \
            "$(yes_no "${RATIO[public.$c]} >= 0.9")"
        tgt "issue 5: private ≥ 0.5× bare, p99 ≤ 100 ms ($c conns)" "$(printf '%.2f×' "${RATIO[private.$c]}"), p99 $(fmt_ms "${P99[private.$c]}") ms" "≥ 0.5×, ≤ 100 ms" \
            "$(yes_no "${RATIO[private.$c]} >= 0.5 && ${P99[private.$c]} <= 100000")"
    done
    tgt "issue 5: logins ≥ 5,000/s at $LOGIN_CONNS conns" "$(printf '%.0f' "${RPS[logins.$LOGIN_CONNS]}")/s" "≥ 5,000/s" "$(yes_no "${RPS[logins.$LOGIN_CONNS]} >= 5000")"
    # Errors = non-2xx/3xx + socket errors. Issue 5's scenarios run at 100
    # and 1,000 connections; issue 7's at every level, republishing too.
    local errs=0 errs5=0 stale=0 bare=0 k
    for k in "${!ERRS[@]}"; do
        case $k in
            "private, stale start."*) stale=$((stale + ERRS[$k])) ;;
            bare*) bare=$((bare + ERRS[$k])) ;;
            *)
                errs=$((errs + ERRS[$k]))
                [[ $k == *.10000 ]] || errs5=$((errs5 + ERRS[$k]))
                ;;
        esac
    done
    tgt "issue 5: 0 errors (our rows at 100 and 1,000 connections, stale starts apart)" "$errs5" "0" "$(yes_no "$errs5 == 0")"
    tgt "issue 7: 0 errors (our rows at every level, stale starts apart)" "$errs" "0" "$(yes_no "$errs == 0")"
    tgt "issue 28: the checker's bodies (republish rows and soak): 0 torn, 0 of neither version" \
        "$CHECK_TORN torn, $CHECK_NEITHER of neither, of $CHECK_BODIES" "0, 0" \
        "$(yes_no "$CHECK_TORN == 0 && $CHECK_NEITHER == 0 && $CHECK_BODIES > 0")"
    tgt "(not a target) errors in the stale starts: every player's cached answer refreshed at once" "$stale" "–" "–"
    tgt "(not a target) errors of bare nginx, the reference" "$bare" "–" "–"
    c=10000
    if [[ -n ${RPS[public.$c]:-} ]]; then
        tgt "issue 7: public at $c conns: 0 errors, p99 ≤ 250 ms" "${ERRS[public.$c]} errors, p99 $(fmt_ms "${P99[public.$c]}") ms" "0, ≤ 250 ms" \
            "$(yes_no "${ERRS[public.$c]} == 0 && ${P99[public.$c]} <= 250000")"
        tgt "issue 7: private ≥ 0.5× bare at $c conns" "$(printf '%.2f×' "${RATIO[private.$c]}")" "≥ 0.5×" \
            "$(yes_no "${RATIO[private.$c]} >= 0.5")"
    fi
    tgt "issue 7: gen flat over the soak (median of the last third of the samples ≤ 1.25 × the first third's)" \
        "RSS $(mb "$SOAK_RSS_A") → $(mb "$SOAK_RSS_B") MB, threads $SOAK_THR_A → $SOAK_THR_B" "≤ 1.25×" \
        "$(yes_no "$SOAK_RSS_B <= 1.25 * $SOAK_RSS_A && $SOAK_THR_B <= 1.25 * $SOAK_THR_A")"
    if [[ -n ${RPS[public, no gzip.$c]:-} ]]; then
        tgt "(for comparison) public at $c conns without Accept-Encoding: gzip" "${ERRS[public, no gzip.$c]} errors, p99 $(fmt_ms "${P99[public, no gzip.$c]}") ms; bare nginx p99 $(fmt_ms "${P99[bare public, no gzip.$c]}") ms" "–" "–"
    fi
}

size_kb() { awk -v b="$(stat -c %s "$1" 2>/dev/null || echo 0)" 'BEGIN { printf "%.0f", b / 1024 }'; }

report() {
    echo "## Load (issue 5 and 7)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- machine: $machine, load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; wrk, nginx, gen and the checker share the machine"
    echo "- software: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'), rustc $(rustc --version 2>/dev/null | awk '{ print $2 }')"
    echo "- roster: bench/synth.py, $PLAYERS players, $MATCHES matches each; $(wc -l <"$WORK/cookies.tsv") players logged in (one session cookie each)"
    echo "- command: \`$cmd\` (open files raised to $NOFILE with ulimit -n)"
    echo "- limits lifted for the benchmark: \`[api] login_failures_per_address = 0\` in gen; \`gen nginx --login-rate 0\` (no limit_req at nginx); gen nginx's output verbatim; access_log off"
    echo "- nginx's auth cache: on $AUTH_CACHE_FS, as deploy.sh mounts a tmpfs there"
    echo "- private rows: measured on cached auth answers. Each follows a ${STALE_SECS} s \"private, stale start\" run, made after every cached answer went stale (32 s after the last refresh of them all), in which nginx refreshes them all at once; those runs are their own rows"
    echo "- wrk: \`wrk -t2 -c<conns> -d${DURATION}s --latency -H 'Accept-Encoding: gzip' -s bench/load.lua\` (default 2 s timeout) for the public and private rows, median of $RUNS runs (bare, then ours, level by level; the last column lists each run's p99); without the header for the \"no gzip\" rows, the logins, the republish rows (wrk reads the plain HTML to check it) and the ${SOAK_SECS} s soak"
    echo
    echo "| scenario | connections | req/s | p50 ms | p99 ms | max ms | non-2xx/3xx | socket errors | peak RSS nginx / gen MB | gen threads (max) | vs bare | checks |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |"
    local row
    for row in "${ROWS[@]}"; do
        echo "| ${row//|/ | } |"
    done
    echo
    echo "Soak, sampled every 10 s: $SOAK_SUMMARY."
    echo "gen still running at the end: $GEN_ALIVE; nginx error.log: $NGX_ERRORS error lines${NGX_ERROR_KINDS:+, most frequent:}"
    if [[ -n $NGX_ERROR_KINDS ]]; then
        echo
        echo '```'
        echo "$NGX_ERROR_KINDS"
        echo '```'
    fi
    echo
    echo "| target | measured | wanted | met |"
    echo "| --- | --- | --- | --- |"
    verdict
    echo
    echo "Scenarios: \"public\" = the index pages and /login/ (the first index page:"
    echo "$(size_kb "$SITE/public/index.html") KB, $(size_kb "$SITE/public/index.html.gz") KB gzipped); \"private\" = /p/<slug>/ with"
    echo "that player's own session cookie (auth_request to gen, answers cached 30 s by"
    echo "nginx); \"bare\" = the same URLs on a server block with no auth. Republish rows:"
    echo "players.csv alternates every second between two versions in which every page"
    echo "differs, refresh_secs = 1; wrk checks that each 200 body ends with </html>,"
    echo "the checker (bench/loadkit.py check, half gzip) that it is byte-identical to"
    echo "version A or B. RSS of nginx is the sum over master and children."
}

idle_report() {
    echo "## gen watch idle"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- machine: $machine"
    echo "- setup: \`gen watch\`, 1,000 players (bench/synth.py, $MATCHES matches each), refresh_secs = 30, source kind = google against a fake Sheets API (bench/loadkit.py fakegoogle: python http.server replaying one batchGet body, counting requests); measured for 60 s starting 5 s after the first cycle, no other load"
    echo "- command: \`$cmd\` (the idle minute runs after the load scenarios)"
    echo
    echo "| measure | value | target (issue 4) | met |"
    echo "| --- | --- | --- | --- |"
    printf '%s\n' "${IDLE_LINES[@]}"
}

table=$(report)
echo "$table"
if ((!SKIP_IDLE)); then
    idle_table=$(idle_report)
    echo
    echo "$idle_table"
fi

if ((QUICK)); then
    echo "bench: --quick: BENCHMARKS.md left as it is" >&2
    exit 0
fi

md="$ROOT/BENCHMARKS.md"
replace_section "$md" "## Load (issue 5 and 7)" "$table"
echo "bench: rewrote the \"## Load (issue 5 and 7)\" section of $md" >&2
if ((!SKIP_IDLE)); then
    replace_section "$md" "## gen watch idle" "$idle_table"
    echo "bench: rewrote the \"## gen watch idle\" section of $md" >&2
fi
