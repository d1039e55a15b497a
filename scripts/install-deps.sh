#!/usr/bin/env bash
# Installs the Debian packages hakmem's tests and benchmarks use: the peer
# allocators it is compared against, and the real programs it is tested with
# (gcc, and CPython's own standard-library tests for /usr/bin/python3).
# Safe to run again: packages already present are skipped.
set -euo pipefail
packages=(libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 sqlite3 git python3 redis-server redis-tools valgrind
          gcc libpython3.11-testsuite)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
