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
)

missing=()
for need in "${needs[@]}"; do
  cmd=${need%%:*}
  pkg=${need#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing+=("$pkg")
  fi
done
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

exec cargo test --locked "$@"
