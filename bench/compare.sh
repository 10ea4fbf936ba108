#!/usr/bin/env bash
# stagekv vs Redis with redis-benchmark, interleaved so that drift and noise
# of a shared machine hit both servers alike.
#
#   bench/compare.sh          stagekv vs Debian's redis-server
#   bench/compare.sh self     redis-server vs a second, identical redis-server:
#                             the noise floor of this method on this machine
#   bench/compare.sh before OLD_BIN
#                             stagekv vs an older stagekv binary (before/after a
#                             change, measured side by side in the same rounds)
#
# Both servers run at the same time on free loopback ports, in temporary
# directories, and are stopped on exit. Every round runs redis-benchmark
# against both, one after the other, in the order A B, then B A in the next
# round (A B B A A B ...), at -P 1 and at -P 16. The table shows, per test
# and pipeline depth, the median rps of each server over the rounds, the
# ratio of the medians, and the range of the per-round ratios; then the
# geometric mean of the ratios. See docs/performance.md.
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                 [<repo>/build/stagekv-server]
#   SERVER_ARGS  more arguments for SERVER_BIN (not OLD_BIN), e.g.
#                "--writer-thread no"           []
#   REDIS_BIN    redis-server binary            [redis-server]
#   BENCH_BIN    redis-benchmark binary         [redis-benchmark]
#   ROUNDS       rounds (runs per server)       [6]
#   N_P1         requests per test at -P 1      [100000]
#   N_P16        requests per test at -P 16     [1000000]
#   TESTS        redis-benchmark -t list        [set,get,incr,mset,lpush,lpop,sadd,hset,zadd,lrange_100]
#   CLIENTS      -c                             [50]
#   DATASIZE     -d                             [100]
#   KEYSPACE     -r                             [1000000]
#   WARMUP       1: fill both keyspaces first   [1]
#                (SET -P 16, N_P16 requests, not measured)
#   RUN_TIMEOUT  seconds allowed per redis-benchmark run   [900]
#   PIN          1: servers on CPU 0, redis-benchmark on CPU 1 (taskset)  [0]
#   OUT          also write the table as Markdown to this file
#   RAW          keep the raw per-run results (TSV) in this file
#
# Progress goes to stderr, the table to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
MODE=${1:-stagekv}
OLD_BIN=${2:-}
case "$MODE" in
  stagekv|self) ;;
  before) [ -x "$OLD_BIN" ] || { echo "usage: $0 before OLD_STAGEKV_BIN" >&2; exit 2; } ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [self | before OLD_BIN]" >&2; exit 2 ;;
esac

SERVER_BIN=${SERVER_BIN:-$REPO/build/stagekv-server}
SERVER_ARGS=${SERVER_ARGS:-}
REDIS_BIN=${REDIS_BIN:-redis-server}
BENCH_BIN=${BENCH_BIN:-redis-benchmark}
ROUNDS=${ROUNDS:-6}
N_P1=${N_P1:-100000}
N_P16=${N_P16:-1000000}
TESTS=${TESTS:-set,get,incr,mset,lpush,lpop,sadd,hset,zadd,lrange_100}
CLIENTS=${CLIENTS:-50}
DATASIZE=${DATASIZE:-100}
KEYSPACE=${KEYSPACE:-1000000}
WARMUP=${WARMUP:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
PIN=${PIN:-0}
OUT=${OUT:-}
RAW=${RAW:-}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
STATS="$HERE/compare_stats.py"

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v "$REDIS_BIN" >/dev/null || die "no $REDIS_BIN (apt-get install -y redis-server)"
command -v "$BENCH_BIN" >/dev/null || die "no $BENCH_BIN (apt-get install -y redis-tools)"
command -v redis-cli >/dev/null || die "no redis-cli (apt-get install -y redis-tools)"
if [ "$MODE" != self ]; then
  [ -x "$SERVER_BIN" ] || die "no $SERVER_BIN; build it: cmake -S . -B build && cmake --build build -j2 --target stagekv-server"
fi
for v in ROUNDS N_P1 N_P16 CLIENTS DATASIZE KEYSPACE RUN_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stagekv-compare.XXXXXX")
PIDS=()
cleanup() {
  local pid
  if [ -n "${BENCH_PID:-}" ]; then kill -TERM "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Two distinct free loopback ports (both held while choosing).
read -r PORT_A PORT_B < <("$PY" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
EOF
)

SERVER_CPU=() BENCH_CPU=()
if [ "$PIN" = 1 ]; then SERVER_CPU=(taskset -c 0); BENCH_CPU=(taskset -c 1); fi

start_redis() { # port dir log
  mkdir -p "$2"
  "${SERVER_CPU[@]}" "$REDIS_BIN" --port "$1" --bind 127.0.0.1 --save '' --appendonly yes \
    --appendfsync everysec --dir "$2" --daemonize no >"$3" 2>&1 &
  PIDS+=("$!")
}

start_stagekv() { # port dir log [binary]
  local extra=()
  # shellcheck disable=SC2206 # SERVER_ARGS is a list of words
  [ -z "${4:-}" ] && extra=($SERVER_ARGS)
  "${SERVER_CPU[@]}" "${4:-$SERVER_BIN}" --port "$1" --dir "$2" --fsync everysec "${extra[@]}" >"$3" 2>&1 &
  PIDS+=("$!")
}

wait_ready() { # port log name
  for _ in $(seq 300); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; then return 0; fi
    sleep 0.1
  done
  tail -n 20 "$2" >&2 || true
  die "$3 did not answer PING on port $1 within 30 s"
}

if [ "$MODE" = self ]; then
  LABEL_A=redis-A LABEL_B=redis-B
  start_redis "$PORT_A" "$WORK/redis-a" "$WORK/redis-a.log"
  start_redis "$PORT_B" "$WORK/redis-b" "$WORK/redis-b.log"
elif [ "$MODE" = before ]; then
  LABEL_A=stagekv LABEL_B=stagekv-old
  start_stagekv "$PORT_A" "$WORK/stagekv" "$WORK/stagekv.log"
  start_stagekv "$PORT_B" "$WORK/stagekv-old" "$WORK/stagekv-old.log" "$OLD_BIN"
else
  LABEL_A=stagekv LABEL_B=redis
  start_stagekv "$PORT_A" "$WORK/stagekv" "$WORK/stagekv.log"
  start_redis "$PORT_B" "$WORK/redis" "$WORK/redis.log"
fi
PID_A=${PIDS[0]} PID_B=${PIDS[1]}
wait_ready "$PORT_A" "$WORK/$LABEL_A.log" "$LABEL_A"
wait_ready "$PORT_B" "$WORK/$LABEL_B.log" "$LABEL_B"
log "mode $MODE: $LABEL_A on 127.0.0.1:$PORT_A, $LABEL_B on 127.0.0.1:$PORT_B"
log "rounds $ROUNDS, tests $TESTS, -c $CLIENTS -d $DATASIZE -r $KEYSPACE, -P 1 x $N_P1, -P 16 x $N_P16"

port_of() { if [ "$1" = A ]; then echo "$PORT_A"; else echo "$PORT_B"; fi; }
pid_of() { if [ "$1" = A ]; then echo "$PID_A"; else echo "$PID_B"; fi; }
label_of() { if [ "$1" = A ]; then echo "$LABEL_A"; else echo "$LABEL_B"; fi; }

# bench WHO PIPELINE REQUESTS TESTS -> redis-benchmark's CSV in $WORK/run.csv.
# Runs in the background and waits, so that a signal is handled at once
# (bash defers traps while a foreground child runs).
BENCH_PID=
bench() {
  local who=$1 port pid rc=0
  port=$(port_of "$who") pid=$(pid_of "$who")
  kill -0 "$pid" 2>/dev/null || die "$(label_of "$who") (pid $pid) is not running"
  timeout --kill-after=10 "$RUN_TIMEOUT" "${BENCH_CPU[@]}" "$BENCH_BIN" -h 127.0.0.1 -p "$port" \
    -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" -q --csv -P "$2" -n "$3" -t "$4" \
    </dev/null >"$WORK/run.csv" 2>"$WORK/run.err" &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=
  return "$rc"
}

START=$SECONDS
if [ "$WARMUP" = 1 ]; then
  for who in A B; do
    log "warm-up: SET -P 16 x $N_P16 on $(label_of "$who") (not measured)"
    bench "$who" 16 "$N_P16" set || die "warm-up on $(label_of "$who") failed: $(tail -n 3 "$WORK/run.err")"
  done
fi

RAWFILE=${RAW:-$WORK/raw.tsv}
: >"$RAWFILE"
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for pipeline in 1 16; do
    if [ "$pipeline" = 1 ]; then n=$N_P1; else n=$N_P16; fi
    for who in $order; do
      label=$(label_of "$who")
      load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
      echo "$load" >>"$WORK/load.txt"
      log "round $round/$ROUNDS: $label -P $pipeline -n $n ($((SECONDS - START)) s elapsed, load $load)"
      if ! bench "$who" "$pipeline" "$n" "$TESTS"; then
        log "warning: redis-benchmark on $label -P $pipeline failed or timed out; round skipped for it"
        continue
      fi
      rows=$("$PY" "$STATS" parse "$round" "$label" "$pipeline" <"$WORK/run.csv")
      [ -n "$rows" ] || log "warning: no results parsed from: $(cat "$WORK/run.csv" "$WORK/run.err")"
      [ -z "$rows" ] || printf '%s\n' "$rows" >>"$RAWFILE"
      printf '%s\n' "$rows" | awk -F'\t' '{printf "    %-5s %12.0f rps\n", $4, $5}' >&2
    done
  done
done
log "done in $((SECONDS - START)) s"

# Other work on the machine shows in the 1-minute load average taken before
# each run. The run itself accounts for about 2 (a busy server and a busy
# redis-benchmark); clearly more means other processes were competing.
LOADS=$(sort -n "$WORK/load.txt" | awk '{v[NR]=$1} END {if (NR) printf "min %s, median %s, max %s", v[1], v[int((NR+1)/2)], v[NR]}')
NOTE="$ROUNDS rounds, order A B / B A alternating; redis-benchmark -c $CLIENTS -d $DATASIZE -r $KEYSPACE; -P 1: $N_P1 requests per test, -P 16: $N_P16; $(nproc) CPUs, 1-min load average before the runs: $LOADS"

{
  if [ "$MODE" = self ]; then
    echo "# redis-server $("$REDIS_BIN" --version | sed 's/.*v=\([^ ]*\).*/\1/') vs itself (noise floor)"
  elif [ "$MODE" = before ]; then
    echo "# stagekv ($SERVER_BIN $SERVER_ARGS) vs an older stagekv ($OLD_BIN), both --fsync everysec"
  else
    echo "# stagekv ($SERVER_BIN, --fsync everysec) vs redis-server $("$REDIS_BIN" --version | sed 's/.*v=\([^ ]*\).*/\1/') (appendonly, appendfsync everysec)"
  fi
  echo "# $NOTE"
}
"$PY" "$STATS" table "$RAWFILE" "$LABEL_A" "$LABEL_B" ${OUT:+"$OUT"}
if [ -n "$OUT" ]; then printf '\n%s.\n' "$NOTE" >>"$OUT"; fi
