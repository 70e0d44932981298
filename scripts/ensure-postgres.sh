#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the test suite: starts it if it
# is installed, installs it from Debian's packages if not (needs root), and sets the password
# the tests use. Prints the URL to use on its last line. Exits non-zero if it cannot.
set -uo pipefail

log() { echo "ensure-postgres: $*" >&2; }

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su -s /bin/sh postgres -c "$(printf '%q ' "$@")"; fi
}

if ! ready; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then log "PostgreSQL is not installed and this is not root"; exit 1; fi
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2 || { log "apt-get install postgresql failed"; exit 1; }
  fi
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then log "no PostgreSQL cluster is configured"; exit 1; fi
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 || service postgresql start >&2 2>&1 || true
  for _ in $(seq 1 60); do ready && break; sleep 1; done
fi
if ! ready; then log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; fi

# The tests connect over TCP as postgres/postgres; set that password where we can (it is
# harmless where the server trusts local connections).
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  as_postgres psql -qAt -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
fi
echo "postgres://postgres:postgres@127.0.0.1:5432/postgres"
