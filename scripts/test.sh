#!/usr/bin/env bash
# Runs every test: the Rust suites (on SQLite and PostgreSQL, the IMAP poller against its own
# Dovecot, email out against an aiosmtpd SMTP server, power cuts on a FUSE filesystem), then the
# browser tests of the web pages in headless Chromium with axe-core. Installs and starts what
# they need first. Without PostgreSQL, Dovecot, aiosmtpd, FUSE or a browser the affected tests
# say they skipped, except under CI, where a missing one is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
in_ci() { [ "${CI:-}" = "true" ]; }

if url=$(bash scripts/ensure-postgres.sh | tail -n 1) && [ -n "$url" ]; then
  export REDRESS_TEST_POSTGRES_URL="${REDRESS_TEST_POSTGRES_URL:-$url}"
elif in_ci; then
  echo "PostgreSQL is required under CI and could not be started" >&2
  exit 1
else
  echo "PostgreSQL is not available: its tests will say they skipped" >&2
fi

if bash scripts/ensure-mail-servers.sh; then
  :
elif in_ci; then
  echo "Dovecot (for the IMAP tests) is required under CI and could not be set up" >&2
  exit 1
else
  echo "Dovecot is not available: the IMAP tests will say they skipped" >&2
fi

# The sending tests (tests/sending.rs) run a real SMTP server: aiosmtpd, from PyPI.
if python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet aiosmtpd; then
  :
elif in_ci; then
  echo "aiosmtpd is required under CI and could not be installed (pip install aiosmtpd)" >&2
  exit 1
else
  echo "aiosmtpd is not available: the SMTP tests will say they skipped" >&2
fi

# The power-loss test mounts a FUSE filesystem of its own (crates/lossyfs).
if bash scripts/ensure-fuse.sh; then
  :
elif in_ci; then
  echo "the power-loss test needs /dev/fuse and root under CI" >&2
  exit 1
else
  echo "FUSE is not available: the power-loss test will say it skipped" >&2
fi

cargo test --workspace "$@"

if bash scripts/ensure-browser.sh; then
  cargo build --quiet --bin redress
  (cd e2e && npm test --silent)
elif in_ci; then
  echo "the browser tests are required under CI and could not be set up" >&2
  exit 1
else
  echo "Chromium or Node.js is not available: the browser tests skipped" >&2
fi
