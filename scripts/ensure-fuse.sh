#!/usr/bin/env bash
# Makes sure the power-loss test (tests/power_loss.rs) can mount its FUSE filesystem
# (crates/lossyfs): it needs the kernel's /dev/fuse, and root, who mounts with mount(2)
# directly (the fuser crate's pure-Rust mount), so no package is needed: not libfuse, not
# fusermount3. Loads the fuse module if /dev/fuse is missing and modprobe is there. Exits
# non-zero if the test cannot run here.
set -uo pipefail

log() { echo "ensure-fuse: $*" >&2; }

if [ ! -e /dev/fuse ] && command -v modprobe >/dev/null 2>&1; then
  modprobe fuse >/dev/null 2>&1 || true
fi
if [ ! -e /dev/fuse ]; then log "/dev/fuse does not exist (no FUSE in this kernel or container)"; exit 1; fi
if [ "$(id -u)" != 0 ]; then log "the power-loss test mounts as root, and this is not root"; exit 1; fi
