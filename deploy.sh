#!/usr/bin/env bash
# deploy.sh — installs sheetgen on a Debian/Ubuntu server with nginx and
# systemd, or under a fake root for tests. Run it again at any time: it is
# idempotent, never overwrites /etc/sheetgen/site.toml nor /etc/sheetgen/env,
# and on failure says which step failed and puts the previous install back.
#
#   bash deploy.sh [--binary PATH] [--server-name NAME] [--listen LISTEN]
#                  [--domain NAME --email ADDRESS] [--root DIR] [--dry-run]
#                  [--regenerate-nginx]
#
# It runs from a checkout, or from the Debian package (`cargo deb`), which
# installs it as /usr/share/sheetgen/deploy.sh with the files it needs beside
# it, the guides in /usr/share/doc/sheetgen, and the command sheetgen-deploy,
# a symlink to it. See `bash deploy.sh --help` and docs/deploying.md.
set -Eeuo pipefail
umask 022

# The folder of the script itself (sheetgen-deploy is a symlink to it).
SRC_DIR=$(cd "$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
# A checkout has the sources and builds gen; the package ships gen in
# ../../bin (/usr/bin/gen) and the guides in ../doc/sheetgen.
if [[ -f $SRC_DIR/Cargo.toml && -d $SRC_DIR/src ]]; then
  CHECKOUT=1
  DOC_DIR=$SRC_DIR
else
  CHECKOUT=0
  DOC_DIR=$(realpath -m -- "$SRC_DIR/../doc/sheetgen")
fi

usage() {
  cat <<'EOF'
Usage: bash deploy.sh [options]   (as root, on Debian/Ubuntu with systemd)

Installs gen to /usr/local/bin, the sheetgen system user, /etc/sheetgen
(site.toml from the demo on first install, then never overwritten; env with
the secrets, 0600, never overwritten), /var/lib/sheetgen (state, 0700),
/var/www/sheetgen (the site, 2750: readable by nginx's group only), the
theme in /usr/local/share/sheetgen, a 128 MB tmpfs for nginx's auth cache
(/var/cache/nginx/sheetgen), the hardened sheetgen.service,
/etc/nginx/conf.d/sheetgen.conf from `gen nginx`, and nginx's capacity
for thousands of players as `gen nginx --main-values` gives it (LimitNOFILE
in a systemd drop-in; multi_accept and worker_connections at least that in
the events block of /etc/nginx/nginx.conf, the only lines of it that change);
checks `nginx -t`, reloads nginx (restarts it when its limit changed), then
waits for /healthz.

Options:
  --binary PATH        install this gen binary (default: in a checkout, cargo
                       build --release --locked and take target/release/gen;
                       from the Debian package, its /usr/bin/gen)
  --server-name NAME   nginx server_name (default: the --domain, else _ , any
                       host name; the stock Debian default site is then
                       disabled)
  --listen LISTEN      nginx listen parameters (default: 80)
  --domain NAME        HTTPS for NAME (needs --email): installs Debian's certbot
                       and python3-certbot-nginx when missing, gets a Let's
                       Encrypt certificate through certbot's nginx plugin, and
                       redirects http:// to https://. Later runs keep it (certbot's
                       timer renews it); no new certificate is asked for.
                       SHEETGEN_ACME_SERVER=URL: another ACME server (tests);
                       REQUESTS_CA_BUNDLE=FILE: the CA certbot trusts for it
  --email ADDRESS      the certificate's contact (expiry notices), with --domain
  --https-port PORT    the port certbot has nginx listen on for HTTPS (default:
                       443; tests)
  --behind ADDRESS     a load balancer or CDN in front of this server (an
                       address or CIDR range; repeat for several): nginx reads
                       the client's address and HTTPS from its headers
                       (docs/scaling-out.md)
  --root DIR           install everything under DIR (a fake root, for tests):
                       paths written into the installed files point under DIR;
                       no systemctl, no useradd, no chown (the intended owners
                       are written to DIR/deploy-intent.txt), no nginx reload,
                       no health check. With --domain, certbot works on
                       DIR/etc/nginx/nginx.conf (an nginx the caller runs, which
                       certbot reloads) and keeps its state in DIR/etc/letsencrypt
  --dry-run            print every step and what it would change; change nothing
  --regenerate-nginx   replace sheetgen.conf even if certbot has edited it
                       (with --domain, certbot then puts its certificate back in;
                       without, run `certbot --nginx -d NAME --reinstall`)
  -h, --help           this help

Logs: journalctl -u sheetgen -f     Health: curl http://127.0.0.1:8787/healthz
EOF
}

# ---- options ------------------------------------------------------------------

BINARY=""
ROOT=""
ROOT_MODE=0
DRY_RUN=0
SERVER_NAME="_"
LISTEN="80"
REGENERATE_NGINX=0
BEHIND=() # `gen nginx --behind` arguments
SERVER_NAME_SET=0
DOMAIN=""
EMAIL=""
HTTPS_PORT=443

die_usage() {
  echo "deploy.sh: $*" >&2
  echo "Try: bash deploy.sh --help" >&2
  exit 2
}

need_value() {
  [[ $# -ge 2 && -n $2 ]] || die_usage "$1 needs a value"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --binary) need_value "$@"; BINARY=$2; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    --root) need_value "$@"; ROOT=$2; ROOT_MODE=1; shift 2 ;;
    --root=*) ROOT=${1#*=}; ROOT_MODE=1; shift ;;
    --server-name) need_value "$@"; SERVER_NAME=$2; SERVER_NAME_SET=1; shift 2 ;;
    --server-name=*) SERVER_NAME=${1#*=}; SERVER_NAME_SET=1; shift ;;
    --domain) need_value "$@"; DOMAIN=$2; shift 2 ;;
    --domain=*) DOMAIN=${1#*=}; shift ;;
    --email) need_value "$@"; EMAIL=$2; shift 2 ;;
    --email=*) EMAIL=${1#*=}; shift ;;
    --https-port) need_value "$@"; HTTPS_PORT=$2; shift 2 ;;
    --https-port=*) HTTPS_PORT=${1#*=}; shift ;;
    --listen) need_value "$@"; LISTEN=$2; shift 2 ;;
    --listen=*) LISTEN=${1#*=}; shift ;;
    --behind) need_value "$@"; BEHIND+=(--behind "$2"); shift 2 ;;
    --behind=*) BEHIND+=(--behind "${1#*=}"); shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --regenerate-nginx) REGENERATE_NGINX=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown option: $1" ;;
  esac
done

# HTTPS: one domain name (certbot's -d), a contact address, a port.
if [[ -n $DOMAIN || -n $EMAIL ]]; then
  domain_re='^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$'
  [[ -n $DOMAIN ]] || die_usage "--email goes with --domain NAME"
  [[ $DOMAIN =~ $domain_re ]] ||
    die_usage "--domain \"$DOMAIN\": expected a host name such as club.example.org"
  [[ -n $EMAIL ]] || die_usage "--domain needs --email ADDRESS (Let's Encrypt's expiry notices)"
  [[ $EMAIL =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]] ||
    die_usage "--email \"$EMAIL\": expected an address such as organiser@club.example.org"
  if ((SERVER_NAME_SET)); then
    [[ " $SERVER_NAME " == *" $DOMAIN "* ]] ||
      die_usage "--server-name \"$SERVER_NAME\" must include the --domain $DOMAIN"
  else
    SERVER_NAME=$DOMAIN
  fi
fi
if [[ ! $HTTPS_PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((HTTPS_PORT > 65535)); then
  die_usage "--https-port \"$HTTPS_PORT\": expected a port number"
fi

# The values end up in nginx and systemd files: keep them to plain characters.
name_re='^[A-Za-z0-9._* -]+$'
listen_re='^[][A-Za-z0-9.:_= -]+$'
[[ $SERVER_NAME =~ $name_re ]] ||
  die_usage "--server-name \"$SERVER_NAME\": only letters, digits, . - _ * and spaces"
[[ $LISTEN =~ $listen_re ]] ||
  die_usage "--listen \"$LISTEN\": expected something like 80, 127.0.0.1:8080 or \"443 ssl\""
behind_re='^[0-9A-Fa-f.:/]+$'
for ((i = 1; i < ${#BEHIND[@]}; i += 2)); do
  [[ ${BEHIND[i]} =~ $behind_re ]] ||
    die_usage "--behind \"${BEHIND[i]}\": expected an address or a CIDR range such as 10.0.0.5 or 10.0.0.0/24"
done
if ((ROOT_MODE)); then
  [[ -n $ROOT ]] || die_usage "--root needs a directory"
  ROOT=$(realpath -m -- "$ROOT")
  [[ $ROOT != / ]] || die_usage "--root /: for a real install, leave --root out"
  [[ $ROOT =~ ^[A-Za-z0-9/._+-]+$ ]] ||
    die_usage "--root \"$ROOT\": only letters, digits and / . _ + - (the path goes into systemd and nginx files)"
fi
if [[ -n $BINARY ]]; then
  BINARY=$(realpath -m -- "$BINARY")
fi

# Every installed path is $R/…: "" for a real install, the fake root otherwise.
R=$ROOT
BIN=$R/usr/local/bin/gen
ETC=$R/etc/sheetgen
CONFIG=$ETC/site.toml
ENV_FILE=$ETC/env
DATA=$ETC/data
SHARE=$R/usr/local/share/sheetgen
THEME=$SHARE/site-templates
THEME_MANIFEST=$SHARE/site-templates.sha256
STATE=$R/var/lib/sheetgen
WWW=$R/var/www/sheetgen
CACHE=$R/var/cache/nginx/sheetgen
CACHE_SIZE=128m # the tmpfs under nginx's auth cache (gen nginx: max_size=100m)
UNIT=$R/etc/systemd/system/sheetgen.service
NGINX_CONF=$R/etc/nginx/conf.d/sheetgen.conf
NGINX_CONF_GENERATED=$ETC/sheetgen.conf.generated
STOCK_DEFAULT_SITE=$R/etc/nginx/sites-enabled/default
NGINX_MAIN=$R/etc/nginx/nginx.conf
NGINX_LIMITS=$R/etc/systemd/system/nginx.service.d/sheetgen-limits.conf
INTENT=$R/deploy-intent.txt
USER_NAME=sheetgen
# certbot's own folders (Debian's defaults in a real install).
LE_CONFIG=$R/etc/letsencrypt
LE_WORK=$R/var/lib/letsencrypt
LE_LOGS=$R/var/log/letsencrypt
TOTAL_STEPS=8
[[ -z $DOMAIN ]] || TOTAL_STEPS=9 # step 8: HTTPS

# ---- output, failure and rollback ----------------------------------------------

CURRENT_STEP="start"
STAGE=""          # private temp folder: generated files, backups
JOURNAL=()        # what this run replaced, to put back on failure
CLEANUP=()        # staged files next to their destination, removed at exit
DROP_ON_SUCCESS=() # old copies kept until the run succeeds
SERVICE_TOUCHED=0 # this run (re)started sheetgen.service
NGINX_TOUCHED=0   # this run reloaded nginx

step() {
  CURRENT_STEP="$1/$TOTAL_STEPS: $2"
  printf '==> step %s\n' "$CURRENT_STEP"
}
say() { printf '    %s\n' "$*"; }
warn() { printf '    WARNING: %s\n' "$*" >&2; }

# Runs a command that changes the system; in --dry-run only prints it.
run() {
  if ((DRY_RUN)); then
    say "would run: $(printf '%q ' "$@")"
  else
    "$@"
  fi
}

rollback() {
  local i entry kind dest saved unit_restored=0 nginx_restored=0 bin_restored=0 units_changed=0
  ((${#JOURNAL[@]})) || return 0
  echo "==> rolling back this run's changes" >&2
  # A unit this run installed for the first time: stop it before removing it.
  if ((!ROOT_MODE)) && [[ " ${JOURNAL[*]} " == *" new|$UNIT| "* ]]; then
    systemctl disable --now --quiet sheetgen.service
  fi
  if ((!ROOT_MODE)) && [[ -n ${CACHE_UNIT:-} && " ${JOURNAL[*]} " == *" new|$CACHE_UNIT| "* ]]; then
    systemctl disable --now --quiet "$CACHE_MOUNT" || true
  fi
  for ((i = ${#JOURNAL[@]} - 1; i >= 0; i--)); do
    entry=${JOURNAL[i]}
    kind=${entry%%|*}
    entry=${entry#*|}
    dest=${entry%%|*}
    saved=${entry#*|}
    case $kind in
      file) cp -p -- "$saved" "$dest.sheetgen-restore" && mv -f -- "$dest.sheetgen-restore" "$dest" ;;
      new) rm -f -- "$dest" ;;
      dir) rm -rf -- "$dest" && mv -- "$saved" "$dest" ;;
      newdir) rm -rf -- "$dest" ;;
      link) ln -sfn -- "$saved" "$dest" ;;
    esac
    echo "    restored $dest" >&2
    case $dest in
      "$UNIT") unit_restored=1 ;;
      "$BIN") bin_restored=1 ;;
      "$NGINX_CONF" | "$STOCK_DEFAULT_SITE" | "$NGINX_MAIN") nginx_restored=1 ;;
    esac
    [[ $dest != "$R"/etc/systemd/system/* ]] || units_changed=1
  done
  JOURNAL=()
  DROP_ON_SUCCESS=()
  ((ROOT_MODE)) && return 0
  if ((units_changed)); then
    systemctl daemon-reload
  fi
  if ((SERVICE_TOUCHED || bin_restored || unit_restored)); then
    if [[ -f $UNIT ]]; then
      systemctl restart sheetgen.service && echo "    restarted sheetgen.service (previous version)" >&2
    fi
  fi
  if ((nginx_restored && NGINX_TOUCHED)); then
    if nginx -t -q; then
      systemctl reload nginx && echo "    reloaded nginx (previous site config)" >&2
    fi
  fi
}

fail() {
  trap - ERR
  set +e
  echo "deploy.sh: FAILED at step $CURRENT_STEP: $*" >&2
  rollback
  echo "deploy.sh: stopped; the previous install (if any) is as it was." >&2
  exit 1
}

on_err() {
  local status=$1 line=$2 command=$3
  # In a subshell (a command substitution): let the parent decide.
  ((BASH_SUBSHELL == 0)) || exit "$status"
  fail "command \`$command\` exited with status $status (deploy.sh line $line)"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

cleanup() {
  local f
  for f in "${CLEANUP[@]}"; do
    rm -rf -- "$f"
  done
  [[ -z $STAGE ]] || rm -rf -- "$STAGE"
}
trap cleanup EXIT

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sheetgen-deploy.XXXXXX")
mkdir "$STAGE/backup"

# ---- file helpers ---------------------------------------------------------------

# chown in a real install; with --root the owners a real install sets are
# listed in $INTENT instead (see the end of this script).
own() {
  local owner=$1 path=$2
  if ((!ROOT_MODE && !DRY_RUN)); then
    chown "$owner" -- "$path"
  fi
}

# ensure_dir PATH MODE OWNER: creates it, then keeps mode and owner right.
ensure_dir() {
  local path=$1 mode=$2 owner=$3 current
  if [[ ! -d $path ]]; then
    if ((DRY_RUN)); then
      say "would create $path ($mode, $owner)"
      return 0
    fi
    mkdir -p -- "$path"
    say "created $path"
  else
    say "exists: $path"
  fi
  current=$(stat -c '%a' -- "$path")
  if [[ $current != "${mode#0}" ]]; then
    run chmod "$mode" -- "$path"
  fi
  own "$owner" "$path"
}

# install_file SRC DEST MODE OWNER [executable]: DEST gets SRC's bytes, staged
# next to it (checked to run, for an executable) and renamed into place, only
# when they differ. The replaced version is kept for rollback unless
# NO_JOURNAL=1. Sets CHANGED=1 when DEST changed.
CHANGED=0
NO_JOURNAL=0
install_file() {
  local src=$1 dest=$2 mode=$3 owner=$4 check=${5:-} tmp backup
  CHANGED=0
  if [[ -f $dest ]] && cmp -s -- "$src" "$dest"; then
    if [[ $(stat -c '%a' -- "$dest") != "${mode#0}" ]]; then
      run chmod "$mode" -- "$dest"
    fi
    own "$owner" "$dest"
    say "unchanged: $dest"
    return 0
  fi
  CHANGED=1
  if ((DRY_RUN)); then
    if [[ -e $dest ]]; then say "would replace $dest ($mode, $owner)"; else say "would create $dest ($mode, $owner)"; fi
    return 0
  fi
  mkdir -p -- "$(dirname -- "$dest")"
  tmp="$dest.sheetgen-new"
  CLEANUP+=("$tmp")
  cp -- "$src" "$tmp"
  chmod "$mode" -- "$tmp"
  own "$owner" "$tmp"
  if [[ $check == executable ]]; then
    "$tmp" --version >/dev/null || fail "the staged binary $tmp does not run"
  fi
  if [[ -e $dest ]]; then
    if ((!NO_JOURNAL)); then
      backup=$(mktemp "$STAGE/backup/file.XXXXXX")
      cp -p -- "$dest" "$backup"
      JOURNAL+=("file|$dest|$backup")
    fi
    mv -f -- "$tmp" "$dest"
    say "updated $dest"
  else
    ((NO_JOURNAL)) || JOURNAL+=("new|$dest|")
    mv -f -- "$tmp" "$dest"
    say "created $dest"
  fi
}

# install_unit SRC DEST: a systemd unit file (install_file, 0644 root), then
# daemon-reload when it changed (not with --root). Sets CHANGED.
install_unit() {
  install_file "$1" "$2" 0644 root:root
  if ((CHANGED && !ROOT_MODE)); then
    run systemctl daemon-reload
  fi
}

# A sorted list of "sha256  ./path" for every file under DIR.
tree_manifest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# Whether certbot's nginx plugin (Debian: python3-certbot-nginx) is there,
# for the Python certbot itself runs on (its #! line).
certbot_nginx_installed() {
  local certbot python
  certbot=$(command -v certbot) || return 1
  python=$(head -n 1 -- "$certbot")
  python=${python#\#!}
  [[ $python == /* && -x ${python%% *} ]] || return 1
  ${python} -c 'import certbot_nginx' >/dev/null 2>&1
}

random_hex() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 32
  else
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
    echo
  fi
}

# ---- step 0: preflight ----------------------------------------------------------

CURRENT_STEP="0/$TOTAL_STEPS: preflight"
if ((DRY_RUN)); then
  echo "==> dry run: nothing will be changed"
fi
if ((ROOT_MODE)); then
  echo "==> installing under $ROOT (--root): no systemctl, no useradd, no chown, no nginx reload"
elif ((!DRY_RUN)); then
  [[ $(id -u) -eq 0 ]] || die_usage "run as root (or try --dry-run, or --root DIR)"
  [[ -d /run/systemd/system ]] ||
    fail "systemd is not running on this machine (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown)); use --root DIR for a staged install"
  missing=()
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [[ -n $DOMAIN ]]; then
    command -v certbot >/dev/null 2>&1 || missing+=(certbot)
    certbot_nginx_installed || missing+=(python3-certbot-nginx)
  fi
  if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || fail "missing: ${missing[*]} (install the Debian packages ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
if [[ -n $DOMAIN ]] && ((ROOT_MODE || DRY_RUN)); then
  # A staged install does not install Debian packages: it needs them there.
  missing=()
  command -v certbot >/dev/null 2>&1 || missing+=(certbot)
  certbot_nginx_installed || missing+=(python3-certbot-nginx)
  if ((${#missing[@]})); then
    if ((DRY_RUN && !ROOT_MODE)); then
      say "would install Debian packages: ${missing[*]}"
    else
      fail "--domain needs certbot's nginx plugin: apt-get install ${missing[*]}"
    fi
  fi
  if ((ROOT_MODE)) && [[ ! -f $R/etc/nginx/nginx.conf ]]; then
    fail "--domain with --root needs $R/etc/nginx/nginx.conf: the main config of an nginx you run, including $R/etc/nginx/conf.d/*.conf (certbot edits the site there and reloads that nginx)"
  fi
fi
for f in "$SRC_DIR/site.toml" "$SRC_DIR/site-templates/base.html"; do
  [[ -f $f ]] || fail "$f is missing: run deploy.sh from a sheetgen checkout or the sheetgen package"
done

# nginx's worker user owns its cache; its group alone may read the site.
NGINX_USER=www-data
if [[ -f $R/etc/nginx/nginx.conf ]]; then
  u=$(sed -n 's/^[[:space:]]*user[[:space:]]\+\([^[:space:];]\+\).*/\1/p' "$R/etc/nginx/nginx.conf" | head -n1)
  [[ -z $u ]] || NGINX_USER=$u
fi
NGINX_GROUP=$(id -gn "$NGINX_USER" 2>/dev/null) || NGINX_GROUP=$NGINX_USER

# ---- step 1: the binary -----------------------------------------------------------

step 1 "the gen binary → ${BIN}"
BIN_CHANGED=0
if [[ -n $BINARY ]]; then
  src_bin=$BINARY
  [[ -f $src_bin && -x $src_bin ]] || fail "--binary $src_bin is not an executable file"
elif ((!CHECKOUT)); then
  # The package's gen, next to this script (/usr/share/sheetgen/../../bin),
  # else the first gen on PATH that is not the one this script installs.
  src_bin=$(realpath -m -- "$SRC_DIR/../../bin/gen")
  if [[ ! -x $src_bin ]]; then
    src_bin=""
    while IFS= read -r candidate; do
      [[ $(realpath -m -- "$candidate") != "$(realpath -m -- "$BIN")" ]] || continue
      src_bin=$candidate
      break
    done < <(type -P -a gen || true)
    [[ -n $src_bin ]] ||
      fail "no gen next to $SRC_DIR (../../bin/gen) nor on PATH: install the sheetgen package, or pass --binary PATH"
  fi
else
  src_bin=$SRC_DIR/target/release/gen
  if ((DRY_RUN)); then
    say "would run: cargo build --release --locked (in $SRC_DIR)"
  else
    command -v cargo >/dev/null 2>&1 ||
      fail "cargo not found: install Rust (https://rustup.rs), or build elsewhere and pass --binary PATH"
    (cd "$SRC_DIR" && cargo build --release --locked)
  fi
fi
if [[ -x $src_bin ]]; then
  version=$("$src_bin" --version 2>&1) || fail "$src_bin does not run on this machine: $version"
  [[ $version == gen\ * ]] || fail "$src_bin is not sheetgen's gen (it says: $version)"
  say "$version ($src_bin)"
  if [[ -f $CONFIG ]]; then
    # An upgrade must still accept the organiser's config: check before installing.
    if ! config_check=$("$src_bin" nginx --config "$CONFIG" 2>&1 >/dev/null); then
      printf '%s\n' "$config_check" | sed 's/^/    gen: /' >&2
      fail "this gen does not accept $CONFIG (fix it, then run deploy.sh again)"
    fi
    say "this gen accepts $CONFIG"
  fi
  if [[ -f $BIN ]] && cmp -s -- "$src_bin" "$BIN"; then
    say "unchanged: $BIN"
  elif ((DRY_RUN)); then
    if [[ -f $BIN ]]; then
      say "would install $BIN (0755), keeping the current one as $BIN.previous"
    else
      say "would install $BIN (0755)"
    fi
    BIN_CHANGED=1
  else
    if [[ -f $BIN ]]; then
      install_file "$BIN" "$BIN.previous" 0755 root:root
      say "kept the current binary as $BIN.previous"
    fi
    install_file "$src_bin" "$BIN" 0755 root:root executable
    BIN_CHANGED=1
  fi
else
  say "no binary to inspect yet (dry run without --binary)"
fi
GEN=$BIN
if ((DRY_RUN)) && [[ -x $src_bin ]]; then
  GEN=$src_bin
fi

# nginx.conf's capacity for thousands of players, from its one source in gen
# (src/nginx.rs): multi_accept, worker_connections at least (Debian: 768),
# and nginx's descriptors (its workers inherit the limit).
NGINX_MULTI_ACCEPT=""
NGINX_CONNECTIONS=""
NGINX_NOFILE=""
if [[ -x $GEN ]] && main_values=$("$GEN" nginx --main-values); then
  while IFS='=' read -r name value; do
    case $name in
      multi_accept) NGINX_MULTI_ACCEPT=$value ;;
      worker_connections) NGINX_CONNECTIONS=$value ;;
      nofile) NGINX_NOFILE=$value ;;
    esac
  done <<<"$main_values"
fi
HAVE_MAIN_VALUES=0
if [[ $NGINX_MULTI_ACCEPT =~ ^(on|off)$ && $NGINX_CONNECTIONS =~ ^[0-9]+$ && $NGINX_NOFILE =~ ^[0-9]+$ ]]; then
  HAVE_MAIN_VALUES=1
elif ((!DRY_RUN)); then
  fail "\`$GEN nginx --main-values\` did not give nginx's capacity values (multi_accept, worker_connections, nofile)"
fi

# ---- step 2: the system user -------------------------------------------------------

step 2 "system user $USER_NAME"
if ((ROOT_MODE)); then
  say "skipped (--root): useradd (recorded in $INTENT)"
elif getent passwd "$USER_NAME" >/dev/null; then
  say "exists: $USER_NAME"
else
  run useradd --system --user-group --home-dir /var/lib/sheetgen --no-create-home \
    --shell /usr/sbin/nologin --comment "sheetgen site generator" "$USER_NAME"
  ((DRY_RUN)) || say "created user $USER_NAME"
fi
if ((!ROOT_MODE && !DRY_RUN)); then
  getent passwd "$NGINX_USER" >/dev/null || fail "nginx's user \"$NGINX_USER\" does not exist (is nginx installed?)"
fi

# ---- step 3: config and theme ---------------------------------------------------------

step 3 "config $CONFIG and theme $THEME"
ensure_dir "$ETC" 0755 root:root
if [[ -e $CONFIG ]]; then
  say "kept (never overwritten): $CONFIG"
else
  # The demo with its paths made absolute, its CSV files in /etc/sheetgen/data.
  staged=$STAGE/site.toml
  {
    echo "# $CONFIG: written by deploy.sh on the first install, from the demo."
    echo "# deploy.sh never changes this file again: edit it (every key is in"
    echo "# docs/organiser.md); gen watch picks up changes by itself. After changing"
    echo "# [api] listen, out_dir or [site] visibility, run deploy.sh again (it"
    echo "# regenerates nginx's site)."
    echo "# Secrets (API key, service account, refresh token) go in $ENV_FILE."
    echo
    sed -e "s#^out_dir[[:space:]]*=.*#out_dir = \"$WWW\"#" \
      -e "s#^templates[[:space:]]*=.*#templates = \"$THEME\"#" \
      -e "s#^state_dir[[:space:]]*=.*#state_dir = \"$STATE\"#" \
      -e "s#\"examples/demo/\([^\"/]*\)\"#\"$DATA/\1\"#" \
      "$SRC_DIR/site.toml" | awk 'body || !/^(#|[[:space:]]*$)/ { body = 1; print }'
  } >"$staged"
  for want in "out_dir = \"$WWW\"" "templates = \"$THEME\"" "state_dir = \"$STATE\""; do
    grep -qF -- "$want" "$staged" || fail "the demo site.toml changed shape: could not set $want"
  done
  if grep -q '"examples/' "$staged"; then
    fail "the demo site.toml names files outside examples/demo/: $(grep '"examples/' "$staged")"
  fi
  ensure_dir "$DATA" 0750 "root:$USER_NAME"
  for csv in "$SRC_DIR"/examples/demo/*.csv; do
    install_file "$csv" "$DATA/$(basename -- "$csv")" 0640 "root:$USER_NAME"
  done
  install_file "$staged" "$CONFIG" 0640 "root:$USER_NAME"
fi

# The shipped theme is the package's, like /usr/share: refreshed on every
# deploy. To customise it, copy it elsewhere (e.g. /etc/sheetgen/site-templates)
# and point `templates` there; deploy.sh never touches that copy. Edits made
# in place are saved aside before the refresh, never lost.
ensure_dir "$SHARE" 0755 root:root
staged_theme=$STAGE/site-templates
cp -R -- "$SRC_DIR/site-templates" "$staged_theme"
find "$staged_theme" -type d -exec chmod 0755 {} +
find "$staged_theme" -type f -exec chmod 0644 {} +
tree_manifest "$staged_theme" >"$STAGE/theme.sha256"
if [[ -d $THEME ]] && [[ $(tree_manifest "$THEME") == "$(cat "$STAGE/theme.sha256")" ]]; then
  say "unchanged: $THEME"
elif ((DRY_RUN)); then
  say "would install the shipped theme to $THEME"
else
  new_theme=$SHARE/.site-templates.new
  rm -rf -- "$new_theme"
  CLEANUP+=("$new_theme")
  cp -R -p -- "$staged_theme" "$new_theme"
  if [[ -d $THEME ]]; then
    if [[ -f $THEME_MANIFEST ]] && [[ $(tree_manifest "$THEME") == "$(cat "$THEME_MANIFEST")" ]]; then
      old_theme=$SHARE/.site-templates.old
      rm -rf -- "$old_theme"
      DROP_ON_SUCCESS+=("$old_theme")
    else
      old_theme=$ETC/site-templates.edited-$(date +%Y%m%d-%H%M%S)
      warn "$THEME was edited in place: saved as $old_theme (keep a custom theme outside $SHARE and point \`templates\` at it)"
    fi
    mv -- "$THEME" "$old_theme"
    JOURNAL+=("dir|$THEME|$old_theme")
  else
    JOURNAL+=("newdir|$THEME|")
  fi
  mv -- "$new_theme" "$THEME"
  say "installed the shipped theme to $THEME"
fi
install_file "$STAGE/theme.sha256" "$THEME_MANIFEST" 0644 root:root
if [[ -f $CONFIG ]]; then
  # gen resolves the path (and its default) itself: no second reading of
  # site.toml here.
  templates=$("$GEN" --config "$CONFIG" config get site.templates 2>/dev/null) || templates=
  if [[ -n $templates && $templates != "$THEME" ]]; then
    say "your site.toml uses templates = \"$templates\": not touched (compare with $THEME after upgrades)"
  fi
fi

# ---- step 4: directories ---------------------------------------------------------------

step 4 "state, site and cache directories"
ensure_dir "$STATE" 0700 "$USER_NAME:$USER_NAME"
# The site holds every player's page: readable by nginx's group only, not
# by every local account (issue 14). setgid: the folders gen creates inside
# take the group too; gen's files stay 0644, behind this folder's 0750.
ensure_dir "$WWW" 2750 "$USER_NAME:$NGINX_GROUP"
ensure_dir "$CACHE" 0700 "$NGINX_USER:$NGINX_USER"

# nginx's cache of gen's auth answers lives in memory: each answer is a
# small file rewritten every 20–30 s per active player, and a disk adds
# writes and inode churn for nothing (the cache is worth 30 s; losing it at
# a reboot costs one request to gen per player). When bench/load.sh had
# 10,000 players' answers refreshed at once, perf showed nginx spending most
# of its time in ext4's inode allocation; on tmpfs that cost is gone.
# Bounded: nginx keeps it under max_size=100m.
command -v systemd-escape >/dev/null 2>&1 || fail "systemd-escape is missing (Debian package systemd)"
CACHE_MOUNT=$(systemd-escape --path --suffix=mount -- "$CACHE")
CACHE_UNIT=$R/etc/systemd/system/$CACHE_MOUNT
cache_owner=""
if uid=$(id -u "$NGINX_USER" 2>/dev/null) && gid=$(id -g "$NGINX_USER" 2>/dev/null); then
  cache_owner=",uid=$uid,gid=$gid"
fi
cat >"$STAGE/cache.mount" <<EOF
# Installed by deploy.sh; rewritten on every deploy.
[Unit]
Description=sheetgen: nginx's cache of auth answers, in memory
Before=nginx.service

[Mount]
What=tmpfs
Where=$CACHE
Type=tmpfs
Options=mode=0700$cache_owner,size=$CACHE_SIZE,nosuid,nodev,noexec

[Install]
WantedBy=multi-user.target
EOF
install_unit "$STAGE/cache.mount" "$CACHE_UNIT"
if ((ROOT_MODE)); then
  say "skipped (--root): systemctl enable --now $CACHE_MOUNT"
else
  run systemctl enable --quiet "$CACHE_MOUNT"
  if ((DRY_RUN)); then
    say "would mount a $CACHE_SIZE tmpfs on $CACHE ($CACHE_MOUNT)"
  elif ! mountpoint -q -- "$CACHE"; then
    # The answers nginx cached on disk before: a cache, dropped.
    find "$CACHE" -mindepth 1 -delete
    systemctl start "$CACHE_MOUNT"
    say "mounted a $CACHE_SIZE tmpfs on $CACHE"
  elif ((CHANGED)); then
    systemctl reload "$CACHE_MOUNT" # a remount: nginx keeps its files
    say "remounted $CACHE with the new options ($CACHE_MOUNT changed)"
  else
    say "mounted: $CACHE"
  fi
  own "$NGINX_USER:$NGINX_USER" "$CACHE"
fi

# ---- step 5: secrets -------------------------------------------------------------------

step 5 "secrets $ENV_FILE"
if [[ -e $ENV_FILE ]]; then
  say "kept (never overwritten): $ENV_FILE"
  if [[ $(stat -c '%a' -- "$ENV_FILE") != 600 ]]; then
    run chmod 0600 -- "$ENV_FILE"
  fi
  own root:root "$ENV_FILE"
elif ((DRY_RUN)); then
  say "would create $ENV_FILE (0600, root) with a new random GEN_REFRESH_TOKEN"
else
  token=$(random_hex)
  [[ $token =~ ^[0-9a-f]{64}$ ]] || fail "could not generate a random token (got \"$token\")"
  cat >"$STAGE/env" <<EOF
# $ENV_FILE: secrets for sheetgen.service (a systemd EnvironmentFile:
# KEY=value lines, no quotes needed). Created once by deploy.sh, never
# overwritten; root-only (0600). After editing: systemctl restart sheetgen

# Google Sheets, private mode (recommended): a service-account key file, with
# the sheet shared to the account's e-mail only. The file must be readable by
# the sheetgen user: chown root:sheetgen KEY.json && chmod 0640 KEY.json
#GOOGLE_APPLICATION_CREDENTIALS=$ETC/service-account.json

# Google Sheets with an API key instead (the sheet, PINs included, must then
# be readable by anyone with its link):
#GEN_GOOGLE_API_KEY=

# Push refresh (the Apps Script trigger): POST https://<site>/api/refresh with
# the header "Authorization: Bearer <this token>". Generated at install.
GEN_REFRESH_TOKEN=$token

# Only when several gen replicas must accept each other's sessions (one
# server: leave unset, gen keeps its key in $STATE). 32+ characters:
# openssl rand -hex 32
#GEN_SESSION_KEY=
EOF
  # A new secret is not "rolled back": a rerun would only make another one.
  NO_JOURNAL=1
  install_file "$STAGE/env" "$ENV_FILE" 0600 root:root
  NO_JOURNAL=0
fi

# ---- step 6: systemd unit ----------------------------------------------------------------

step 6 "systemd unit $UNIT"
# The unit is a file of the repository (examples/deploy/), paths filled in.
unit_template=$SRC_DIR/examples/deploy/sheetgen.service
[[ -f $unit_template ]] || fail "$unit_template is missing: deploy.sh needs the files shipped beside it"
sed -e "s|@SHARE@|$SHARE|g" -e "s|@BIN@|$BIN|g" -e "s|@CONFIG@|$CONFIG|g" \
  -e "s|@USER_NAME@|$USER_NAME|g" -e "s|@ENV_FILE@|$ENV_FILE|g" \
  -e "s|@STATE@|$STATE|g" -e "s|@WWW@|$WWW|g" "$unit_template" >"$STAGE/sheetgen.service"
if grep -q '@[A-Z_]*@' "$STAGE/sheetgen.service"; then
  fail "$unit_template has a placeholder deploy.sh does not fill: $(grep -o '@[A-Z_]*@' "$STAGE/sheetgen.service" | head -1)"
fi
install_unit "$STAGE/sheetgen.service" "$UNIT"
UNIT_CHANGED=$CHANGED
# The unit's Documentation=, and the guides README.md links to, beside it
# (the package's are in /usr/share/doc/sheetgen).
if [[ -f $DOC_DIR/README.md ]]; then
  install_file "$DOC_DIR/README.md" "$SHARE/README.md" 0644 root:root
  ensure_dir "$SHARE/docs" 0755 root:root
  for doc in "$DOC_DIR"/docs/*.md; do
    install_file "$doc" "$SHARE/docs/${doc##*/}" 0644 root:root
  done
else
  # Minimal Debian images tell dpkg to leave /usr/share/doc out.
  warn "$DOC_DIR/README.md is missing (dpkg path-exclude?): the guides are not installed in $SHARE"
fi
if ((ROOT_MODE)); then
  say "skipped (--root): systemctl enable --now sheetgen"
else
  run systemctl enable --quiet sheetgen.service
  if ((DRY_RUN)); then
    say "would start sheetgen.service, or restart it if the binary or the unit changed"
  elif ! systemctl is-active --quiet sheetgen.service; then
    SERVICE_TOUCHED=1
    systemctl start sheetgen.service
    say "started sheetgen.service"
  elif ((BIN_CHANGED || UNIT_CHANGED)); then
    SERVICE_TOUCHED=1
    systemctl restart sheetgen.service
    say "restarted sheetgen.service (new binary or unit)"
  else
    say "sheetgen.service is running; binary and unit unchanged: not restarted"
  fi
fi

# ---- step 7: nginx ------------------------------------------------------------------------

step 7 "nginx site $NGINX_CONF"

# Capacity for thousands of players at once (bench/load.sh, issue 7).
# - Descriptors: a player holds a connection, and while nginx refreshes their
#   cached auth answer, an upstream socket and two cache files. nginx's
#   workers inherit the master's limit, which systemd sets.
# - events { multi_accept on; }: without it a busy worker accepts one new
#   connection per pass of its event loop; at 1,000 new connections some
#   waited 3.7 s in the kernel's accept queue.
# - worker_connections: Debian's 768 caps a worker at a few hundred players.
# nginx.conf is the administrator's file: only those two lines of its events
# block change, and only upwards; the previous file is put back on failure.
# tune_events FILE: FILE with multi_accept set and worker_connections raised
# to NGINX_CONNECTIONS in its events block; fails when that block is not
# written one directive a line.
tune_events() {
  awk -v want="$NGINX_CONNECTIONS" -v multi_value="$NGINX_MULTI_ACCEPT" '
    BEGIN { commented = "^[[:space:]]*#[[:space:]]*multi_accept[[:space:]]+" multi_value "[[:space:]]*;" }
    /^[[:space:]]*events[[:space:]]*\{[[:space:]]*$/ { blocks++; inside = 1; print; next }
    /^[[:space:]]*events[[:space:]]*\{/ { odd = 1 }
    inside && /^[[:space:]]*worker_connections[[:space:]]+[0-9]+[[:space:]]*;/ {
      if ($2 + 0 < want) sub(/[0-9]+/, want)
      print; next
    }
    inside && /^[[:space:]]*multi_accept[[:space:]]/ { multi = 1; print; next }
    inside && $0 ~ commented && !multi {
      sub(/#[[:space:]]*/, ""); multi = 1; print; next
    }
    inside && /\}/ {
      if (!multi) print "\tmulti_accept " multi_value ";"
      inside = 0
    }
    { print }
    END { exit (blocks == 1 && !odd && !inside) ? 0 : 1 }' "$1"
}
NGINX_RESTART=0
if ((!HAVE_MAIN_VALUES)); then
  say "would set nginx's capacity (LimitNOFILE, events block) from \`gen nginx --main-values\`: no gen binary to ask yet"
else
  cat >"$STAGE/nginx-limits.conf" <<EOF
# Installed by deploy.sh (sheetgen): descriptors for thousands of players.
# nginx's workers inherit this limit unless nginx.conf sets
# worker_rlimit_nofile.
[Service]
LimitNOFILE=$NGINX_NOFILE
EOF
  install_unit "$STAGE/nginx-limits.conf" "$NGINX_LIMITS"
  NGINX_RESTART=$CHANGED # a new limit takes effect when nginx starts again
fi
if ((HAVE_MAIN_VALUES)) && [[ -f $NGINX_MAIN ]]; then
  if tune_events "$NGINX_MAIN" >"$STAGE/nginx.conf"; then
    install_file "$STAGE/nginx.conf" "$NGINX_MAIN" "$(stat -c '%a' -- "$NGINX_MAIN")" root:root
    ((CHANGED)) && say "nginx.conf, events block: multi_accept $NGINX_MULTI_ACCEPT; worker_connections at least $NGINX_CONNECTIONS"
    if [[ $NGINX_MULTI_ACCEPT == on ]] && grep -Eq '^[[:space:]]*multi_accept[[:space:]]+off' "$NGINX_MAIN"; then
      warn "$NGINX_MAIN has multi_accept off: new connections can wait seconds under load"
    fi
  else
    warn "$NGINX_MAIN: no plain events { } block found; set there by hand: multi_accept $NGINX_MULTI_ACCEPT; worker_connections $NGINX_CONNECTIONS;"
  fi
fi
generated=$STAGE/sheetgen.conf
if [[ -f $CONFIG ]]; then
  nginx_config=$CONFIG
else
  nginx_config=$STAGE/site.toml # a dry run of a first install
fi
if [[ ! -x $GEN ]]; then
  say "would run: gen nginx --config $CONFIG --listen \"$LISTEN\" --server-name \"$SERVER_NAME\" --cache-dir $CACHE${BEHIND[*]:+ ${BEHIND[*]}}"
else
  {
    echo "# Installed by deploy.sh (--listen \"$LISTEN\" --server-name \"$SERVER_NAME\"${BEHIND[*]:+ ${BEHIND[*]}})"
    echo "# and rewritten on every deploy: change site.toml or deploy.sh's options."
    echo "# Capacity: deploy.sh also sets LimitNOFILE=$NGINX_NOFILE for nginx (systemd"
    echo "# drop-in nginx.service.d/sheetgen-limits.conf) and, in nginx.conf's events"
    echo "# block, multi_accept $NGINX_MULTI_ACCEPT and worker_connections >= $NGINX_CONNECTIONS."
    echo
    "$GEN" nginx --config "$nginx_config" --listen "$LISTEN" --server-name "$SERVER_NAME" --cache-dir "$CACHE" "${BEHIND[@]}"
  } >"$generated"
  # What deploy.sh last generated, kept to tell a certbot-edited site when
  # the generated part changed.
  install_file "$generated" "$NGINX_CONF_GENERATED" 0644 root:root
  if [[ -f $NGINX_CONF ]] && grep -q 'managed by Certbot' "$NGINX_CONF" && ((!REGENERATE_NGINX)); then
    say "kept: $NGINX_CONF has certbot's TLS lines"
    if ((CHANGED)) && [[ -n $DOMAIN ]]; then
      warn "the generated nginx site changed: compare $NGINX_CONF_GENERATED with $NGINX_CONF, or rerun with --regenerate-nginx (certbot then puts its certificate back in)"
    elif ((CHANGED)); then
      warn "the generated nginx site changed: compare $NGINX_CONF_GENERATED with $NGINX_CONF, or rerun with --regenerate-nginx and then: certbot --nginx -d <name> --reinstall --redirect"
    fi
  else
    install_file "$generated" "$NGINX_CONF" 0644 root:root
  fi
fi
# Debian's stock default site also claims port 80 as default_server: with
# server_name _ it would win over this site for every request.
if [[ $SERVER_NAME == "_" && -L $STOCK_DEFAULT_SITE ]]; then
  target=$(readlink -- "$STOCK_DEFAULT_SITE")
  if [[ $target == /etc/nginx/sites-available/default || $target == ../sites-available/default ]]; then
    if ((DRY_RUN)); then
      say "would disable Debian's stock default site ($STOCK_DEFAULT_SITE): it would answer instead of sheetgen"
    else
      rm -f -- "$STOCK_DEFAULT_SITE"
      JOURNAL+=("link|$STOCK_DEFAULT_SITE|$target")
      say "disabled Debian's stock default site (the file stays in sites-available)"
    fi
  fi
fi
nginx_verb=reload
((NGINX_RESTART)) && nginx_verb=restart # LimitNOFILE changed
if ((ROOT_MODE)); then
  say "skipped (--root): nginx -t; systemctl $nginx_verb nginx"
elif ((DRY_RUN)); then
  say "would run: nginx -t; systemctl $nginx_verb nginx"
else
  if ! nginx_test=$(nginx -t 2>&1); then
    printf '%s\n' "$nginx_test" | sed 's/^/    nginx: /' >&2
    fail "nginx -t rejected the configuration"
  fi
  say "nginx -t: ok"
  NGINX_TOUCHED=1
  if systemctl is-active --quiet nginx; then
    systemctl "$nginx_verb" nginx
    say "${nginx_verb}ed nginx"
  else
    systemctl enable --quiet --now nginx
    say "started nginx"
  fi
fi

# ---- step 8 (with --domain): HTTPS ---------------------------------------------------------

if [[ -n $DOMAIN ]]; then
  step 8 "HTTPS for $DOMAIN (certbot)"
  lineage=$LE_CONFIG/live/$DOMAIN
  # certbot's nginx plugin marks every line it adds; its certificate in the
  # site and its files on disk mean HTTPS is in place: nothing to ask for
  # (certbot's timer renews it; a renewal reloads nginx itself).
  if [[ -f $lineage/fullchain.pem && -f $NGINX_CONF ]] &&
    grep -qF -- "ssl_certificate $lineage/fullchain.pem; # managed by Certbot" "$NGINX_CONF"; then
    say "in place: $NGINX_CONF uses certbot's certificate $lineage/fullchain.pem (renewed by certbot's timer)"
  else
    certbot_args=(--nginx -d "$DOMAIN" -m "$EMAIL" --agree-tos -n --redirect
      # A valid certificate for the name is put back in, never asked for again.
      --keep-until-expiring)
    [[ -z ${SHEETGEN_ACME_SERVER:-} ]] || certbot_args+=(--server "$SHEETGEN_ACME_SERVER")
    ((HTTPS_PORT == 443)) || certbot_args+=(--https-port "$HTTPS_PORT")
    if ((ROOT_MODE)); then
      certbot_args+=(--nginx-server-root "$R/etc/nginx" --config-dir "$LE_CONFIG"
        --work-dir "$LE_WORK" --logs-dir "$LE_LOGS")
    fi
    if ((DRY_RUN)); then
      say "would run: certbot $(printf '%q ' "${certbot_args[@]}")"
    else
      # certbot edits the site: the version before it is put back if this
      # run fails later (certbot undoes its own edits when it fails).
      if [[ -f $NGINX_CONF ]]; then
        backup=$(mktemp "$STAGE/backup/file.XXXXXX")
        cp -p -- "$NGINX_CONF" "$backup"
        JOURNAL+=("file|$NGINX_CONF|$backup")
      fi
      say "running: certbot $(printf '%q ' "${certbot_args[@]}")"
      if ! certbot_out=$(certbot "${certbot_args[@]}" 2>&1); then
        printf '%s\n' "$certbot_out" | sed 's/^/    certbot: /' >&2
        fail "certbot could not get or install a certificate for $DOMAIN (its log: $LE_LOGS/letsencrypt.log; does $DOMAIN point to this server, is port 80 open?)"
      fi
      printf '%s\n' "$certbot_out" | grep -E '^(Successfully|Certificate is saved|This certificate expires|Congratulations)' | sed 's/^/    certbot: /' || true
      grep -qF -- "ssl_certificate $lineage/fullchain.pem; # managed by Certbot" "$NGINX_CONF" ||
        fail "certbot ran but $NGINX_CONF does not use $lineage/fullchain.pem"
      NGINX_TOUCHED=1 # certbot reloaded nginx
      say "HTTPS on: https://$DOMAIN/ ; http:// redirects there"
    fi
  fi
fi

# ---- step 8 (9 with --domain): health check ------------------------------------------------

step "$TOTAL_STEPS" "health check"
if ((ROOT_MODE)); then
  say "skipped (--root)"
elif ((DRY_RUN)); then
  say "would poll /healthz of gen's [api] listen for up to 20 s"
else
  # gen says where its API listens, default included (issue 24).
  listen_api=$("$GEN" --config "$CONFIG" config get api.listen) ||
    fail "\`$GEN --config $CONFIG config get api.listen\` failed: see its message above"
  curl_args=(-sS --max-time 2 -o "$STAGE/health.json" -w '%{http_code}')
  if [[ $listen_api == unix:* ]]; then
    curl_args+=(--unix-socket "${listen_api#unix:}" http://localhost/healthz)
    health_url="/healthz on ${listen_api}"
  else
    curl_args+=("http://$listen_api/healthz")
    health_url="http://$listen_api/healthz"
  fi
  code=000
  deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    code=$(curl "${curl_args[@]}" 2>/dev/null) || code=000
    [[ $code != 200 ]] || break
    sleep 1
  done
  case $code in
    200)
      say "healthy: $health_url → $(head -c 400 "$STAGE/health.json")"
      ;;
    503)
      warn "gen runs but its data is stale: $health_url → $(head -c 400 "$STAGE/health.json")"
      warn "the last good site is still served; look at the errors: journalctl -u sheetgen -e"
      ;;
    *)
      journalctl -u sheetgen.service -n 20 --no-pager >&2 || true
      fail "gen did not answer $health_url within 20 s (last status: $code)"
      ;;
  esac
  if [[ -n $DOMAIN ]]; then
    https_url=https://$DOMAIN/
    ((HTTPS_PORT == 443)) || https_url=https://$DOMAIN:$HTTPS_PORT/
    site_code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" "$https_url" 2>/dev/null) || site_code=000
    if [[ $site_code == 200 ]]; then
      say "the site answers over HTTPS: $https_url"
    else
      warn "$https_url (on 127.0.0.1) answered $site_code through nginx"
    fi
  elif [[ ! $LISTEN =~ ssl ]]; then
    port=${LISTEN%% *}
    port=${port##*:}
    host=$SERVER_NAME
    [[ $host == "_" ]] && host=localhost
    site_code=$(curl -sS --max-time 3 -o /dev/null -w '%{http_code}' -H "Host: ${host%% *}" "http://127.0.0.1:$port/" 2>/dev/null) || site_code=000
    if [[ $site_code == 200 ]]; then
      say "the site answers through nginx: http://${host%% *}:$port/"
    else
      warn "http://127.0.0.1:$port/ (Host: ${host%% *}) answered $site_code through nginx"
    fi
  fi
fi

# ---- done ----------------------------------------------------------------------------------

CURRENT_STEP="finish"
for old in "${DROP_ON_SUCCESS[@]}"; do
  ((DRY_RUN)) || rm -rf -- "$old"
done
if ((ROOT_MODE)); then
  cat >"$STAGE/intent" <<EOF
# What a real install does that --root does not: the user and the owners.
useradd --system --user-group --home-dir /var/lib/sheetgen --no-create-home --shell /usr/sbin/nologin $USER_NAME
chown root:$USER_NAME /etc/sheetgen/site.toml /etc/sheetgen/data /etc/sheetgen/data/*   # first install only
chown $USER_NAME:$USER_NAME /var/lib/sheetgen
chown $USER_NAME:$NGINX_GROUP /var/www/sheetgen   # mode 2750: players' pages readable by nginx's group only
chown $NGINX_USER:$NGINX_USER /var/cache/nginx/sheetgen
systemctl daemon-reload; systemctl enable --now var-cache-nginx-sheetgen.mount   # the auth cache in memory (tmpfs)
systemctl enable --now sheetgen; nginx -t; systemctl restart nginx   # not reload: nginx takes LimitNOFILE when it starts
EOF
  install_file "$STAGE/intent" "$INTENT" 0644 root:root
fi
JOURNAL=()
if ((DRY_RUN)); then
  echo "==> dry run done: nothing was changed"
elif ((ROOT_MODE)); then
  echo "==> installed under $ROOT"
else
  echo "==> done. Site: /etc/nginx/conf.d/sheetgen.conf → $WWW; config: $CONFIG; secrets: $ENV_FILE"
  echo "    logs:   journalctl -u sheetgen -f"
  echo "    health: curl ${health_url:-http://127.0.0.1:8787/healthz}"
  if [[ -n $DOMAIN ]]; then
    echo "    site:   https://$DOMAIN/ (certificate renewed by certbot's timer)"
  elif [[ $LISTEN != *ssl* ]]; then
    echo "    logins need HTTPS: run this again with --domain <your domain> --email <your address>"
  fi
fi
