#!/usr/bin/env bash
# Installs what the dashboard browser test needs: Debian's chromium (driven by playwright-core,
# which cannot download browsers here). Idempotent: nothing to do when /usr/bin/chromium exists.
# Called by .ci/run before the tests; needs root (or sudo) on a fresh machine.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "installing chromium (Debian package) for the dashboard browser test" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
