#!/usr/bin/env bash
# Scale-out benchmark of issue 18: two origins (gen watch + the nginx of
# `gen nginx`, one GEN_SESSION_KEY) behind HAProxy, Varnish with its stock
# VCL in front, all on 127.0.0.1, measured with wrk. A benchmark, not a
# test: nothing here fails on a figure (tests/integration/scale_out.rs
# asserts the behaviour).
#
#   bench/scale.sh             # full run (~2 min): 15 s per wrk run, 100 and
#                              # 1,000 connections; prints a Markdown section
#                              # and rewrites "## Scaling out (issue 18)" of
#                              # BENCHMARKS.md
#   bench/scale.sh --quick     # ≤ 1 min: 5 s per run, 100 connections;
#                              # stdout only
#   options: --duration S  --keep
#   env:     GEN=/path/to/gen uses that binary instead of building the
#            release one (in $CARGO_TARGET_DIR, default target/)
#
# Setup: a synthetic roster of 200 players (bench/synth.py), read by both
# origins from the same CSV files (as both read the same sheet), each with
# its own out_dir and state_dir; each origin's nginx has one worker, the
# file `gen nginx --behind 127.0.0.1` prints and access_log off. HAProxy: roundrobin,
# `option redispatch`, `retries 2`, `retry-on conn-failure empty-response
# response-timeout`, health checks `HEAD /healthz` through each origin's
# nginx every 500 ms, down after 2 failures (the README's config). Varnish:
# `varnishd -b <haproxy>` (the builtin VCL), 64 MB of malloc storage.
# Measures (wrk -t2 --latency, Accept-Encoding: gzip, wrk's 2 s timeout):
#   public pages  `/` from one origin's nginx alone, then through Varnish
#                 (HAProxy and both origins behind it), one after the
#                 other in the same run: req/s, p50, p99, and the ratio;
#                 Varnish's hit ratio over its run (varnishstat)
#   failover      wrk through HAProxy on one player's page with their
#                 cookie (-c 50); after 3 s origin 1 is SIGKILLed (gen,
#                 nginx master and workers); the gap is the time until
#                 HAProxy marks it DOWN (its stats socket, polled every
#                 50 ms), the failed requests are wrk's non-2xx/3xx and
#                 socket errors over the whole run
# Requires wrk, nginx, haproxy, varnish (Debian packages of those names),
# python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
QUICK=0
KEEP=0
DURATION=""
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        --duration) DURATION=$2; shift ;;
        -h | --help)
            print_help "$0"
            exit 0
            ;;
        *)
            echo "usage: $0 [--quick] [--duration S] [--keep]" >&2
            exit 2
            ;;
    esac
    shift
done
if ((QUICK)); then
    DURATION=${DURATION:-5}
    LEVELS=(100)
else
    DURATION=${DURATION:-15}
    LEVELS=(100 1000)
fi
FAILOVER_SECS=$((DURATION < 8 ? 8 : DURATION))
PLAYERS=200

# sbin tools are looked for in /usr/sbin too (not always on a user's PATH).
find_tool() { # find_tool COMMAND PACKAGE: its path, or exit 2 naming the package
    local path
    path=$(command -v "$1" || true)
    [[ -z $path && -x /usr/sbin/$1 ]] && path=/usr/sbin/$1
    [[ -n $path ]] || {
        echo "bench: $1 missing (Debian package \`$2\`)" >&2
        exit 2
    }
    echo "$path"
}
WRK=$(find_tool wrk wrk)
NGINX=$(find_tool nginx nginx)
HAPROXY=$(find_tool haproxy haproxy)
VARNISHD=$(find_tool varnishd varnish)
VARNISHSTAT=$(find_tool varnishstat varnish)
find_tool python3 python3 >/dev/null

release_gen

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
bench_workdir scale
chmod 755 "$WORK"
trap 'exit 130' INT TERM
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- the data, read by both origins ----------------------------------------------

DATA="$WORK/data"
mkdir -p "$DATA"
chmod 755 "$DATA"
python3 "$ROOT/bench/synth.py" --players "$PLAYERS" --matches 20 --out "$DATA" >/dev/null
SESSION_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
# The first player, who logs in for the failover run.
IFS=, read -r SLUG NAME PIN _ < <(sed -n 2p "$DATA/players.csv")

# ---- origins ----------------------------------------------------------------------

# start_origin N: gen watch and its nginx in $WORK/oN; sets ORIGIN_PORT[N]
# (its nginx), GEN_PIDS[N] and NGX_PIDS[N] (nginx's master).
declare -A ORIGIN_PORT GEN_PIDS NGX_PIDS
start_origin() {
    local n=$1 dir="$WORK/o$1" api_port
    mkdir -p "$dir"/nginx/tmp/{body,proxy,fastcgi,uwsgi,scgi}
    chmod 755 "$dir" "$dir/nginx"
    api_port=$(free_port)
    ORIGIN_PORT[$n]=$(free_port)
    cat - "$ROOT/bench/roster.toml" >"$dir/site.toml" <<EOF
# Written by bench/scale.sh.
[site]
title = "Bench"
lang = "en"
out_dir = "$dir/public"
templates = "$ROOT/site-templates"
state_dir = "$dir/state"
refresh_secs = 3600

[source]
kind = "csv"
[source.files]
Players = "$DATA/players.csv"
Matches = "$DATA/matches.csv"

[api]
listen = "127.0.0.1:$api_port"
EOF
    (cd "$dir" && GEN_SESSION_KEY=$SESSION_KEY exec "$GEN" --config site.toml watch) \
        2>"$dir/gen.log" >/dev/null &
    GEN_PIDS[$n]=$!
    PIDS+=("$!")
    disown "$!" # killed on purpose below: no "Killed" notice from bash
    wait_for 60 grep -q 'cycle ok' "$dir/gen.log" || {
        echo "bench: origin $n: gen watch never completed a cycle:" >&2
        tail -20 "$dir/gen.log" >&2
        exit 1
    }
    chmod 755 "$dir/public"
    "$GEN" --config "$dir/site.toml" nginx --listen "127.0.0.1:${ORIGIN_PORT[$n]}" \
        --server-name localhost --cache-dir "$dir/nginx/cache" --behind 127.0.0.1 \
        >"$dir/nginx/sheetgen.conf"
    local mime=""
    [[ -f /etc/nginx/mime.types ]] && mime="include /etc/nginx/mime.types;"
    cat >"$dir/nginx/nginx.conf" <<EOF
# Written by bench/scale.sh.
daemon off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events {
    worker_connections 4096;
    multi_accept on;
}
http {
    $mime
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    include $dir/nginx/sheetgen.conf;
}
EOF
    "$NGINX" -p "$dir/nginx/" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" \
        </dev/null >/dev/null 2>&1 &
    NGX_PIDS[$n]=$!
    PIDS+=("$!")
    disown "$!"
    wait_for 10 port_open "${ORIGIN_PORT[$n]}" || {
        echo "bench: origin $n: nginx did not start:" >&2
        cat "$dir/nginx/error.log" >&2
        exit 1
    }
}
start_origin 1
start_origin 2
echo "bench: origins on 127.0.0.1:${ORIGIN_PORT[1]} and 127.0.0.1:${ORIGIN_PORT[2]}" >&2

# ---- HAProxy and Varnish ------------------------------------------------------------

LB_PORT=$(free_port)
cat >"$WORK/haproxy.cfg" <<EOF
# Written by bench/scale.sh (the config of README "Scaling out").
global
    maxconn 8192
    stats socket $WORK/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout check 1s
    option redispatch
    retries 2
    retry-on conn-failure empty-response response-timeout

frontend site
    bind 127.0.0.1:$LB_PORT
    option forwardfor
    default_backend origins

backend origins
    balance roundrobin
    option httpchk
    http-check send meth HEAD uri /healthz ver HTTP/1.1 hdr Host localhost
    http-check expect rstatus ^(200|503)\$
    default-server inter 500ms fall 2 rise 2
    use-server o1 if { path /api/refresh } { url_param(origin) -m str o1 }
    use-server o2 if { path /api/refresh } { url_param(origin) -m str o2 }
    server o1 127.0.0.1:${ORIGIN_PORT[1]} check
    server o2 127.0.0.1:${ORIGIN_PORT[2]} check
EOF
"$HAPROXY" -db -f "$WORK/haproxy.cfg" </dev/null >"$WORK/haproxy.log" 2>&1 &
PIDS+=("$!")
wait_for 10 port_open "$LB_PORT" || {
    echo "bench: haproxy did not start:" >&2
    cat "$WORK/haproxy.log" >&2
    exit 1
}

# lb_status SERVER: its status in HAProxy's `show stat` (UP, DOWN, …).
lb_status() {
    python3 - "$WORK/haproxy.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
lines = data.decode().splitlines()
header = lines[0].lstrip("# ").split(",")
at = header.index("status")
for line in lines[1:]:
    f = line.split(",")
    if f[:2] == ["origins", sys.argv[2]]:
        print(f[at])
EOF
}
wait_for 10 test "$(lb_status o1)" = UP
wait_for 10 test "$(lb_status o2)" = UP

EDGE_PORT=$(free_port)
mkdir -p "$WORK/varnish"
chmod 755 "$WORK/varnish"
"$VARNISHD" -F -a "127.0.0.1:$EDGE_PORT" -b "127.0.0.1:$LB_PORT" -s malloc,64m \
    -n "$WORK/varnish/n" </dev/null >"$WORK/varnish.log" 2>&1 &
PIDS+=("$!")
wait_for 20 port_open "$EDGE_PORT" || {
    echo "bench: varnishd did not start:" >&2
    cat "$WORK/varnish.log" >&2
    exit 1
}
vstat() { "$VARNISHSTAT" -n "$WORK/varnish/n" -1 -f "$1" | awk -v f="$1" '$1 == f { print $2 }'; }
echo "bench: HAProxy on 127.0.0.1:$LB_PORT, Varnish on 127.0.0.1:$EDGE_PORT" >&2

# ---- wrk --------------------------------------------------------------------------

# run_wrk NAME CONNS URL [ARGS…]: wrk's output in $WORK/wrk-NAME.txt.
run_wrk() {
    local name=$1 conns=$2 url=$3
    shift 3
    "$WRK" -t2 -c"$conns" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$@" "$url" \
        >"$WORK/wrk-$name.txt"
}
rps() { awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$WORK/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' "$WORK/wrk-$1.txt"; }
errors() { # non-2xx/3xx + socket errors of wrk run NAME
    awk '/Non-2xx or 3xx/ { n += $NF }
         /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
         END { print n + 0 }' "$WORK/wrk-$1.txt"
}

# Warm the edge.
curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$EDGE_PORT/"
ROWS=""
for conns in "${LEVELS[@]}"; do
    echo "bench: public / at $conns connections: nginx alone, then through Varnish" >&2
    run_wrk "nginx-$conns" "$conns" "http://127.0.0.1:${ORIGIN_PORT[1]}/"
    hits0=$(vstat MAIN.cache_hit)
    misses0=$(vstat MAIN.cache_miss)
    run_wrk "varnish-$conns" "$conns" "http://127.0.0.1:$EDGE_PORT/"
    hits=$(($(vstat MAIN.cache_hit) - hits0))
    misses=$(($(vstat MAIN.cache_miss) - misses0))
    a=$(rps "nginx-$conns")
    b=$(rps "varnish-$conns")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    hit_ratio=$(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.2f %%", (h + m > 0 ? 100 * h / (h + m) : 0) }')
    ROWS+="| $conns | $a | $(pct "nginx-$conns" 50%) / $(pct "nginx-$conns" 99%) | $(errors "nginx-$conns") | $b | $(pct "varnish-$conns" 50%) / $(pct "varnish-$conns" 99%) | $(errors "varnish-$conns") | $ratio | $hit_ratio ($hits hits, $misses misses) |"$'\n'
done

# ---- failover -----------------------------------------------------------------------

COOKIE=$(curl -s -o /dev/null -D - --data-urlencode "name=$NAME" --data-urlencode "pin=$PIN" \
    "http://127.0.0.1:$LB_PORT/api/login" | sed -n 's/^Set-Cookie: \(__Host-gen_session=[^;]*\).*/\1/Ip')
[[ -n $COOKIE ]] || {
    echo "bench: the login of $NAME through HAProxy failed" >&2
    exit 1
}
check=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "http://127.0.0.1:$LB_PORT/p/$SLUG/")
[[ $check == 200 ]] || {
    echo "bench: /p/$SLUG/ through HAProxy answered $check" >&2
    exit 1
}
echo "bench: failover: wrk on /p/$SLUG/ through HAProxy for ${FAILOVER_SECS} s, origin 1 killed after 3 s" >&2
"$WRK" -t2 -c50 -d"${FAILOVER_SECS}s" --latency -H 'Accept-Encoding: gzip' -H "Cookie: $COOKIE" \
    "http://127.0.0.1:$LB_PORT/p/$SLUG/" >"$WORK/wrk-failover.txt" &
WRK_PID=$!
sleep 3
# The machine going down: gen, nginx's master and its workers at once.
mapfile -t workers < <(ps -o pid= --ppid "${NGX_PIDS[1]}" | tr -d ' ')
T0=$(date +%s.%N)
kill -KILL "${GEN_PIDS[1]}" "${NGX_PIDS[1]}" "${workers[@]}"
until [[ $(lb_status o1) == DOWN* ]]; do
    sleep 0.05
done
T1=$(date +%s.%N)
wait "$WRK_PID"
GAP=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }')
FAILED=$(errors failover)
TOTAL=$(awk '/requests in/ { print $1 }' "$WORK/wrk-failover.txt")

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
# Not `$( ((QUICK)) && echo …)` inside SECTION: a false (( )) made the
# whole assignment fail under `set -e` in a full run.
MODE=""
if ((QUICK)); then MODE=" --quick"; fi
SECTION="## Scaling out (issue 18)

- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- commit: $(cd "$ROOT" && git rev-parse --short HEAD)
- machine: $(nproc) CPUs ($CPU), load average $LOAD_START at the start, $LOAD_END at the end (shared, noisy)
- versions: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $("$HAPROXY" -v | head -1 | awk '{ print "HAProxy " $3 }'), $("$VARNISHD" -V 2>&1 | head -1 | sed 's/^varnishd (\(varnish-[0-9.]*\).*/\1/'), $({ "$WRK" -v 2>&1 || true; } | head -1 | awk '{ print $1, $2 }')
- gen: $GEN ($(basename "$(dirname "$GEN")") build; it only answers nginx's cached auth subrequests here)
- setup: two origins (gen watch + \`gen nginx --behind 127.0.0.1\`'s file, one nginx worker each) behind HAProxy (roundrobin, checks \`HEAD /healthz\` inter 500ms fall 2, redispatch, retries 2, retry-on conn-failure empty-response response-timeout), Varnish 64 MB with the builtin VCL in front; $PLAYERS players (bench/synth.py); wrk -t2, ${DURATION} s per run, Accept-Encoding: gzip, all on 127.0.0.1
- command: \`bench/scale.sh$MODE\`

Public page \`/\` (the roster), nginx alone vs through Varnish, one after the other:

| connections | nginx alone req/s | p50 / p99 | errors | Varnish req/s | p50 / p99 | errors | Varnish / nginx | Varnish hits |
| ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | --- |
${ROWS}
Failover: wrk -c50 on one player's page (their cookie) through HAProxy
for ${FAILOVER_SECS} s; origin 1 (gen, nginx master and workers) SIGKILLed
after 3 s:

| HAProxy marks it DOWN after | requests | failed (non-2xx/3xx + socket errors) |
| ---: | ---: | ---: |
| ${GAP} s | ${TOTAL} | ${FAILED} |"

echo "$SECTION"
if ((!QUICK)); then
    replace_section "$ROOT/BENCHMARKS.md" "## Scaling out (issue 18)" "$SECTION"
    echo "bench: wrote the section \"## Scaling out (issue 18)\" of BENCHMARKS.md" >&2
fi
