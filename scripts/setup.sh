#!/usr/bin/env bash
# Installs what stagekv needs to build, test and benchmark, from Debian's
# packages only. Idempotent: skips apt when everything is already there.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libuv1-dev librocksdb-dev libhiredis-dev
      libcriterion-dev libjansson-dev redis-tools redis-server python3 python3-redis valgrind postgresql nettle-dev clang libclang-rt-dev libxxhash-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
# ioredis for the client-library tests (tests/clients/run.sh installs it with npm ci)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y nodejs npm
fi
# redis-server is only a benchmark peer: don't leave Debian's service running.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  ${SUDO:-} systemctl stop redis-server || true
fi
