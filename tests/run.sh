#!/usr/bin/env bash
# Runs every test: installs what the tests need when it is missing (Debian
# packages, as root), then `cargo test`. A test that needs a missing tool
# fails and names the package; it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite uses, as "command:package" (wrk for
# bench/load.sh, which README points to after the tests; haproxy and varnish
# for tests/integration/scale_out.rs and bench/scale.sh).
needs=(
  "nginx:nginx"
  "chromium:chromium"
  "chromedriver:chromium-driver"
  "shellcheck:shellcheck"
  "wrk:wrk"
  "haproxy:haproxy"
  "varnishd:varnish"
  # The Debian package and HTTPS deploy (tests/integration/debian.rs,
  # https_deploy.rs): Debian's checker, an ACME test server, certbot and
  # its nginx plugin (its module, checked below), openssl for test certs.
  "lintian:lintian"
  "pebble:pebble"
  "certbot:certbot"
  "openssl:openssl"
)

missing=()
for need in "${needs[@]}"; do
  cmd=${need%%:*}
  pkg=${need#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing+=("$pkg")
  fi
done
if [ ! -d /usr/lib/python3/dist-packages/certbot_nginx ]; then
  missing+=("python3-certbot-nginx")
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test dependencies: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages needed by the tests: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
fi

# cargo-deb builds the Debian package (tests/integration/debian.rs). Not a
# Debian package: compiled from crates.io, about 3 minutes on 2 busy cores
# (measured 2 min 50 s), so only when missing.
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb (cargo install cargo-deb --locked)"
  cargo install cargo-deb --locked --quiet
fi

exec cargo test --locked "$@"
