# Shared by the bench scripts (source it first): checks the
# tools, starts one stagekv server on a free loopback port in a temporary
# directory, and stops it on exit. Expects NAME and the positive-integer
# variables listed in POSITIVE to be set; SERVER_BIN and BENCH_BIN default
# below.

# The build's server and redis-benchmark, unless the caller set them.
BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER_BIN=${SERVER_BIN:-$BENCH_REPO/build/stagekv-server}
BENCH_BIN=${BENCH_BIN:-redis-benchmark}

# bench_args "$@": --help prints the script's header comment (down to its
# `set -euo`); settings come from the environment, so no other argument.
bench_args() {
  case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 (settings by environment, see --help)" >&2; exit 2 ;;
  esac
}

# bench_cpu_ticks [loop]: CPU clock ticks (utime + stime; BENCH_TICK a
# second) the server has used so far, all its threads or, with "loop", only
# its main thread, the event loop. The rest are RocksDB's flushes and
# compactions. Needs bench_start's PID.
BENCH_TICK=$(getconf CLK_TCK)
bench_cpu_ticks() {
  local f="/proc/$PID/stat"
  [ "${1:-}" = loop ] && f="/proc/$PID/task/$PID/stat"
  awk '{ print $14 + $15 }' "$f"
}

# bench_machine_ticks: "busy idle" clock ticks of the whole machine so far
# (/proc/stat; idle and iowait count as idle). A run that left no idle
# time was bound by the machine, not by the server's loop thread.
bench_machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat; }

# bench_info SECTION FIELD: one field of the server's INFO.
bench_info() { "${CLI[@]}" info "$1" | tr -d '\r' | sed -n "s/^$2://p"; }

log() { printf '[%s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_checks() {
  command -v "$BENCH_BIN" >/dev/null || die "no $BENCH_BIN (apt-get install -y redis-tools)"
  command -v redis-cli >/dev/null || die "no redis-cli (apt-get install -y redis-tools)"
  [ -x "$SERVER_BIN" ] || die "no $SERVER_BIN; build it: cmake -S . -B build && cmake --build build -j2 --target stagekv-server"
  local v
  for v in $POSITIVE; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
  done
}

# bench_start [extra server args...]: sets WORK, PID, PORT and CLI.
bench_start() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/stagekv-$NAME.XXXXXX")
  PID=
  trap bench_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$SERVER_BIN" --port "$PORT" --dir "$WORK/data" "$@" >"$WORK/server.log" 2>&1 &
  PID=$!
  CLI=(redis-cli -h 127.0.0.1 -p "$PORT")
  for _ in $(seq 300); do
    [ "$("${CLI[@]}" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  tail -n 20 "$WORK/server.log" >&2
  die "the server did not start"
}

bench_cleanup() {
  if [ -n "${PID:-}" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "${WORK:-/nonexistent}"
}
