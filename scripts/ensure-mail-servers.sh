#!/usr/bin/env bash
# Makes sure the mail servers the test suite starts are installed: Debian's Dovecot (IMAP), which
# tests/inbound.rs runs as its own instance (a generated configuration in a temporary folder, on a
# free loopback port), so no system service needs to run; and the openssl command, which makes
# the certificates of its imaps:// test; and poppler-utils, whose pdftotext the letter tests
# read the PDFs with. Installs them from Debian's packages if they are missing
# (needs root). Exits non-zero if it cannot.
set -uo pipefail

log() { echo "ensure-mail-servers: $*" >&2; }

missing=()
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Not a server, but the letter tests read the PDFs they make with pdftotext.
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "missing ${missing[*]} and this is not root"; exit 1; fi
  log "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2 || { log "apt-get install ${missing[*]} failed"; exit 1; }
fi
if [ ! -x /usr/sbin/dovecot ]; then log "/usr/sbin/dovecot is still missing"; exit 1; fi
# The test instance runs its mail and login processes as Dovecot's own users.
for user in dovecot dovenull; do
  id "$user" >/dev/null 2>&1 || { log "the system user $user is missing (reinstall dovecot-core)"; exit 1; }
done
if [ "$(id -u)" != 0 ]; then log "the IMAP tests start Dovecot as root; they will say they skipped"; exit 1; fi
/usr/sbin/dovecot --version >&2
