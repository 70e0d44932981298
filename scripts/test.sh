#!/usr/bin/env bash
# Runs every test. Makes sure PostgreSQL is there first (the store's tests run on SQLite and
# on PostgreSQL); without it the PostgreSQL tests say they skipped, except under CI, where a
# missing PostgreSQL is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if url=$(bash scripts/ensure-postgres.sh | tail -n 1) && [ -n "$url" ]; then
  export REDRESS_TEST_POSTGRES_URL="${REDRESS_TEST_POSTGRES_URL:-$url}"
  echo "PostgreSQL for tests: ${REDRESS_TEST_POSTGRES_URL%%@*}@…" | sed 's/:[^:@]*@/:***@/'
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required under CI and could not be started" >&2
  exit 1
else
  echo "PostgreSQL is not available: its tests will say they skipped" >&2
fi

cargo test --workspace "$@"
