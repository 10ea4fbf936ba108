#!/usr/bin/env bash
# CPU profiles of a loaded stagekv server with perf (Debian linux-perf):
# top symbols by self time, as text.
#
# A fresh server in a temporary directory gets KEYS distinct 100-byte keys
# (the loader of bench/scale.sh), then, for each entry of PROFILES:
#   set, get, mset, incr   perf record -g on the server during
#                          redis-benchmark -t NAME -P 16 -c 50 -r KEYS -n N
#   restart                SIGTERM, then the server started again under
#                          perf record -g until its first PONG
# and prints the TOP symbols by self time (perf report --no-children) of
# each, all threads of the server (event loop and RocksDB's background jobs).
#
#   nice -n 5 bench/profile.sh
#   KEYS=10000000 PROFILES=restart bench/profile.sh
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                [<repo>/build/stagekv-server]
#   KEYS         keys loaded first             [1000000]
#   BLOCK_CACHE  --block-cache-size            [256mb]
#   PROFILES     what to profile               [set mset restart]
#   N            requests per benchmark run    [1000000]
#   TOP          symbols shown per profile     [15]
#   TIMEOUT      seconds for the whole script  [900]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: $0 (settings by environment, see --help)" >&2; exit 2 ;;
esac
NAME=profile # used by lib.sh
SERVER_BIN=${SERVER_BIN:-$REPO/build/stagekv-server}
BENCH_BIN=redis-benchmark
KEYS=${KEYS:-1000000}
BLOCK_CACHE=${BLOCK_CACHE:-256mb}
PROFILES=${PROFILES:-set mset restart}
N=${N:-1000000}
TOP=${TOP:-15}
TIMEOUT=${TIMEOUT:-900}
POSITIVE="KEYS N TOP TIMEOUT"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
bench_checks
command -v perf >/dev/null || die "no perf (apt-get install -y linux-perf)"
END=$((SECONDS + TIMEOUT))
left() {
  local l=$((END - SECONDS))
  [ "$l" -gt 0 ] || die "TIMEOUT ($TIMEOUT s) reached"
  echo "$l"
}

ARGS=(--fsync everysec --block-cache-size "$BLOCK_CACHE")
bench_start "${ARGS[@]}"
PERF=
trap 'if [ -n "$PERF" ]; then kill -INT "$PERF" 2>/dev/null || true; wait "$PERF" 2>/dev/null || true; fi; bench_cleanup' EXIT

# shellcheck disable=SC2016 # Python source, not shell
GEN='
import base64, os, sys
n = int(sys.argv[1])
pool = base64.b64encode(os.urandom(3 << 20))
span = len(pool) - 100
out = sys.stdout.buffer
for lo in range(0, n, 10000):
    out.write(b"".join(
        b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n"
        % (i, pool[(i * 1000003) % span:(i * 1000003) % span + 100])
        for i in range(lo, min(n, lo + 10000))))
'
log "loading $KEYS keys (load average $(cut -d' ' -f1 /proc/loadavg))"
# shellcheck disable=SC2016 # the inner shell expands them
timeout "$(left)" bash -c '"$1" -c "$2" "$3" | "${@:4}" --pipe' _ python3 "$GEN" "$KEYS" "${CLI[@]}" >/dev/null ||
  die "the load failed"
[ "$("${CLI[@]}" dbsize)" = "$KEYS" ] || die "DBSIZE is not $KEYS after the load"
sleep 10

report() { # perf.data title
  echo "### $2"
  echo
  echo '```'
  perf report -i "$1" --no-children --sort dso,sym --stdio -g none --percent-limit 0.1 2>/dev/null |
    grep -v -e '^#' -e '^$' | head -n "$TOP" || true # head closes the pipe early
  echo '```'
  echo
}

for p in $PROFILES; do
  case "$p" in
    set|get|mset|incr)
      log "perf during redis-benchmark -t $p -P 16 -n $N (load average $(cut -d' ' -f1 /proc/loadavg))"
      perf record -q -g -p "$PID" -o "$WORK/$p.data" >/dev/null 2>&1 &
      PERF=$!
      sleep 1
      out=$(timeout "$(left)" "$BENCH_BIN" -h 127.0.0.1 -p "$PORT" -c 50 -d 100 -r "$KEYS" -n "$N" -P 16 \
        -t "$p" --csv | tail -n 1) || die "redis-benchmark failed"
      kill -INT "$PERF"
      wait "$PERF" 2>/dev/null || true
      PERF=
      log "  $out"
      report "$WORK/$p.data" "$p -P 16 ($KEYS keys; $out)"
      ;;
    restart)
      log "restart under perf (load average $(cut -d' ' -f1 /proc/loadavg))"
      kill -TERM "$PID"
      wait "$PID" 2>/dev/null || true
      t0=$(date +%s%N)
      perf record -q -g -o "$WORK/restart.data" -- "$SERVER_BIN" --port "$PORT" --dir "$WORK/data" "${ARGS[@]}" \
        >>"$WORK/server.log" 2>&1 &
      PERF=$!
      until [ "$("${CLI[@]}" ping 2>/dev/null)" = PONG ]; do
        kill -0 "$PERF" 2>/dev/null || die "the server exited"
        [ "$SECONDS" -lt "$END" ] || die "TIMEOUT ($TIMEOUT s) reached"
      done
      ms=$((($(date +%s%N) - t0) / 1000000))
      PID=$(pgrep -P "$PERF" | head -n 1)
      log "  first PONG after $ms ms (under perf)"
      stop_pid=$PID
      PID=
      kill -TERM "$stop_pid"
      wait "$PERF" 2>/dev/null || true
      PERF=
      report "$WORK/restart.data" "start-up to the first PONG ($KEYS keys, $ms ms under perf; the tail after it is the shutdown)"
      wait "$stop_pid" 2>/dev/null || true
      # serve again, in the same directory, for the profiles after this one
      "$SERVER_BIN" --port "$PORT" --dir "$WORK/data" "${ARGS[@]}" >>"$WORK/server.log" 2>&1 &
      PID=$!
      until [ "$("${CLI[@]}" ping 2>/dev/null)" = PONG ]; do
        kill -0 "$PID" 2>/dev/null || die "the server exited"
        [ "$SECONDS" -lt "$END" ] || die "TIMEOUT ($TIMEOUT s) reached"
      done
      ;;
    *) die "unknown profile '$p' (set, get, mset, incr, restart)" ;;
  esac
done
log "done in $SECONDS s"
