#!/usr/bin/env bash
# Makes sure the browser tests can run: Debian's Chromium and Node.js with npm, then the test
# packages (playwright-core, axe-core) from e2e/package-lock.json. Exits non-zero if it cannot.
set -uo pipefail
log() { echo "ensure-browser: $*" >&2; }
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "missing ${missing[*]} and this is not root"; exit 1; fi
  log "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2 || { log "apt-get install failed"; exit 1; }
fi
cd "$(dirname "$0")/../e2e" || exit 1
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund >&2 || { log "npm ci failed"; exit 1; }
fi
