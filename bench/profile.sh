#!/usr/bin/env bash
# CPU profiles of a loaded stagekv server with perf (Debian linux-perf):
# top symbols by self time, as text, and with FLAME set, flame graphs.
#
# A fresh server in a temporary directory gets KEYS distinct 100-byte keys
# (the loader of bench/scale.sh), then, for each entry of PROFILES:
#   set, get, mset, incr   perf record on the server during
#                          redis-benchmark -t NAME -P 16 -c 50 -r KEYS -n N,
#                          after the same run unrecorded (a warm-up)
#   msg.send, track.create the domain command of bench/domain.sh, -P 16,
#                          N / 10 requests (random conversations or owners)
#   restart                SIGTERM, then the server started again under
#                          perf record until its first PONG
# and prints the TOP symbols by self time (perf report --no-children) of
# each, all threads of the server (event loop and RocksDB's background jobs).
#
# Call graphs are unwound from DWARF by default: Debian's librocksdb is
# built without frame pointers, so `-g` (frame pointers) loses the callers
# of every RocksDB frame and a flame graph would show them as roots.
#
# With FLAME=DIR each profile also leaves DIR/NAME.folded (folded stacks,
# perf's stackcollapse), DIR/NAME.svg (bench/flamegraph.py) and
# DIR/NAME.txt (the shares by owner: stagekv, RocksDB, kernel, libraries).
#
#   nice -n 5 bench/profile.sh
#   KEYS=10000000 PROFILES=restart bench/profile.sh
#   FLAME=/tmp/flame PROFILES="set get mset msg.send" bench/profile.sh
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                [<repo>/build/stagekv-server]
#   KEYS         keys loaded first             [1000000]
#   BLOCK_CACHE  --block-cache-size            [256mb]
#   PROFILES     what to profile               [set mset restart]
#   N            requests per benchmark run    [1000000]
#   TOP          symbols shown per profile     [15]
#   TIMEOUT      seconds for the whole script  [900]
#   CALLGRAPH    perf --call-graph: dwarf or fp [dwarf]
#   FREQ         samples a second (perf -F)    [499]
#   SECONDS_REC  longest recording, seconds    [10]
#   FLAME        directory for flame graphs    [none]
#   LABEL        added to each profile's title  [none]
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
CALLGRAPH=${CALLGRAPH:-dwarf}
FREQ=${FREQ:-499}
SECONDS_REC=${SECONDS_REC:-10}
FLAME=${FLAME:-}
POSITIVE="KEYS N TOP TIMEOUT FREQ SECONDS_REC"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
bench_checks
command -v perf >/dev/null || die "no perf (apt-get install -y linux-perf)"
case "$CALLGRAPH" in
  dwarf) CG=(--call-graph "dwarf,65528") ;; # RocksDB's MultiGet keeps big arrays on the stack
  fp) CG=(-g) ;;
  *) die "CALLGRAPH must be dwarf or fp (got '$CALLGRAPH')" ;;
esac
if [ -n "$FLAME" ]; then
  COLLAPSE=
  for c in /usr/lib/perf-core/scripts/python/stackcollapse.py /usr/libexec/perf-core/scripts/python/stackcollapse.py; do
    [ -f "$c" ] && COLLAPSE=$c && break
  done
  [ -n "$COLLAPSE" ] || die "no perf stackcollapse.py (apt-get install -y linux-perf)"
  mkdir -p "$FLAME" || die "cannot create $FLAME"
  FLAME=$(cd "$FLAME" && pwd)
fi
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
  [ -n "$FLAME" ] || return 0
  local name
  name=$(basename "$1" .data)
  # stackcollapse: root first, kernel frames marked _[k]; the comm (the
  # thread's name) is the root, so the loop thread and RocksDB's jobs part
  perf script -i "$1" -s "$COLLAPSE" -- --kernel >"$FLAME/$name.folded" 2>"$WORK/collapse.err" ||
    die "perf script stackcollapse failed for $name"
  python3 "$HERE/flamegraph.py" --title "$2" "$FLAME/$name.folded" >"$FLAME/$name.svg" ||
    die "flamegraph.py failed for $name"
  python3 "$HERE/flamegraph.py" --summary "$FLAME/$name.folded" >"$FLAME/$name.txt"
  echo "flame graph: $FLAME/$name.svg"
  echo
  echo '```'
  cat "$FLAME/$name.txt"
  echo '```'
  echo
}

# profile NAME REQUESTS redis-benchmark-args...: perf on the server meanwhile
profile() {
  local name=$1 n=$2 out
  shift 2
  local run=("$BENCH_BIN" -h 127.0.0.1 -p "$PORT" -c 50 -d 100 -r "$KEYS" -n "$n" -P 16)
  # the same run first, unrecorded: caches filled, their pages touched
  log "warm-up: $name -P 16 -n $n"
  timeout "$(left)" "${run[@]}" -q "$@" >/dev/null || die "redis-benchmark failed"
  log "perf during $name -P 16 -n $n (load average $(cut -d' ' -f1 /proc/loadavg))"
  # at most SECONDS_REC seconds of samples (DWARF stacks are 64 KB each)
  perf record -q -F "$FREQ" "${CG[@]}" -p "$PID" -o "$WORK/$name.data" -- sleep "$SECONDS_REC" >/dev/null 2>&1 &
  PERF=$!
  sleep 1
  out=$(timeout "$(left)" "${run[@]}" --csv "$@" | tail -n 1) || die "redis-benchmark failed"
  kill -INT "$PERF" 2>/dev/null || true
  wait "$PERF" 2>/dev/null || true
  PERF=
  log "  $out"
  local rps p50 p99
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"${out//\"/}"
  report "$WORK/$name.data" "$name -P 16, $KEYS keys: ${rps%.*} rps, p50 $p50 ms, p99 $p99 ms${LABEL:+; $LABEL}"
}

for p in $PROFILES; do
  case "$p" in
    set|get|mset|incr) profile "$p" "$N" -t "$p" ;;
    msg.send) profile "$p" $((N / 10)) MSG.SEND c__rand_int__ alice bob 'see you at the show' ;;
    track.create)
      profile "$p" $((N / 10)) TRACK.CREATE u__rand_int__ '{"title":"Song","genre":"pop","duration":215}' ;;
    restart)
      log "restart under perf (load average $(cut -d' ' -f1 /proc/loadavg))"
      kill -TERM "$PID"
      wait "$PID" 2>/dev/null || true
      t0=$(date +%s%N)
      perf record -q -F "$FREQ" "${CG[@]}" -o "$WORK/restart.data" -- "$SERVER_BIN" --port "$PORT" --dir "$WORK/data" "${ARGS[@]}" \
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
    *) die "unknown profile '$p' (set, get, mset, incr, msg.send, track.create, restart)" ;;
  esac
done
log "done in $SECONDS s"
