#!/usr/bin/env bash
# deploy.sh — installs sheetgen on a Debian/Ubuntu server with nginx and
# systemd. Not written yet: the deploy issue builds it (user, directories,
# systemd unit, `gen nginx` site, health check). Until then, see README.md
# for running `gen build` by hand.
set -euo pipefail
echo "deploy.sh is not implemented yet; see README.md" >&2
exit 1
