#!/usr/bin/env bash
# How stagekv scales with the number of keys (issue 13): for each size, a
# fresh server in a temporary directory is loaded with exactly KEYS distinct
# keys of 100 bytes, then measured:
#
#   - RSS of the server (VmRSS) after the load, after the reads, and after a
#     restart, next to the configured cache memory (--block-cache-size, the
#     budget of the block, key and value caches; the memory line of the log
#     has the block cache's own share, rocksdb_block_cache_capacity);
#   - GET latency (p50/p99) and rate at 50 clients, -P 1, random keys over
#     the whole key space (after one unmeasured warm-up pass of the same
#     length; the median of GET_ROUNDS runs), and the GET rate at -P 16;
#   - with REDIS=1, the same GET -P 1 runs against redis-server holding the
#     same keys (AOF everysec, as bench/compare.sh), interleaved with
#     stagekv's (A B, B A, ...): what this machine allows at that size;
#   - SET rates at -P 1 and -P 16 (overwrites of existing keys);
#   - restart: SIGTERM, wait for the exit (shutdown time), start again and
#     poll PING: wall time from the start to the first PONG; then DBSIZE
#     must still be KEYS.
#
# Keys are redis-benchmark's names, key:%012d for 0..KEYS-1, so that
# redis-benchmark -r KEYS draws from exactly the loaded keys. Values are 100
# bytes of base64 taken at scattered offsets of a random pool: LZ4 cannot
# shrink them (redis-benchmark's own values, all 'x', would compress to
# nearly nothing and make the data look smaller than it is). The loader is
# a Python generator piped into `redis-cli --pipe`; DBSIZE must equal KEYS
# afterwards.
#
# Bounded: the whole script stops after TIMEOUT seconds (every step runs
# under `timeout` with what is left); progress (count, rate, ETA during the
# load, one line per step with the load average) goes to stderr; one
# Markdown table row per size goes to stdout as soon as the size is done.
#
#   bench/scale.sh                                  # 1 M keys
#   KEYS="1000000 10000000" nice -n 5 bench/scale.sh
#   KEYS=3000000 BLOCK_CACHE=64mb bench/scale.sh     # 16 + 16 MB key and value caches, 32 MB block cache
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                            [<repo>/build/stagekv-server]
#   KEYS         sizes to measure, space- or comma-separated  [1000000]
#   BLOCK_CACHE  --block-cache-size of the server (all caches) [256mb, the server's default]
#   SERVER_ARGS  more server arguments                       []
#   CLIENTS      redis-benchmark -c                          [50]
#   N_P1         requests per -P 1 run (GET warm-up, GET, SET)  [200000]
#   N_P16        requests per -P 16 run (GET, SET)             [1000000]
#   GET_ROUNDS   measured GET -P 1 runs (medians reported)      [1]
#   REDIS        1: also redis-server, interleaved, for GET -P 1 [0]
#   REDIS_BIN    redis-server binary                          [redis-server]
#   SETTLE       seconds to wait after the load (compactions) [15]
#   TIMEOUT      seconds for the whole script                 [1200]
#   OUT          also append the table rows to this file
#
# See docs/performance.md, "Scale".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: $0 (settings by environment, see --help)" >&2; exit 2 ;;
esac

SERVER_BIN=${SERVER_BIN:-$REPO/build/stagekv-server}
KEYS=${KEYS:-1000000}
BLOCK_CACHE=${BLOCK_CACHE:-256mb}
SERVER_ARGS=${SERVER_ARGS:-}
CLIENTS=${CLIENTS:-50}
N_P1=${N_P1:-200000}
N_P16=${N_P16:-1000000}
SETTLE=${SETTLE:-15}
GET_ROUNDS=${GET_ROUNDS:-1}
REDIS=${REDIS:-0}
REDIS_BIN=${REDIS_BIN:-redis-server}
TIMEOUT=${TIMEOUT:-1200}
OUT=${OUT:-}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

log() { printf '[scale %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

command -v redis-benchmark >/dev/null || die "no redis-benchmark (apt-get install -y redis-tools)"
command -v redis-cli >/dev/null || die "no redis-cli (apt-get install -y redis-tools)"
[ -x "$SERVER_BIN" ] || die "no $SERVER_BIN; build it: make build"
KEYS=${KEYS//,/ }
for k in $KEYS; do [[ $k =~ ^[1-9][0-9]*$ ]] || die "KEYS must be positive integers (got '$k')"; done
[[ $REDIS =~ ^[01]$ ]] || die "REDIS must be 0 or 1 (got '$REDIS')"
[ "$REDIS" = 0 ] || command -v "$REDIS_BIN" >/dev/null || die "no $REDIS_BIN (apt-get install -y redis-server)"
for v in CLIENTS N_P1 N_P16 TIMEOUT GET_ROUNDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ $SETTLE =~ ^[0-9]+$ ]] || die "SETTLE must be a non-negative integer (got '$SETTLE')"

END=$((SECONDS + TIMEOUT))
left() { # seconds left of TIMEOUT; dies when none are
  local l=$((END - SECONDS))
  [ "$l" -gt 0 ] || die "TIMEOUT ($TIMEOUT s) reached"
  echo "$l"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stagekv-scale.XXXXXX")
PID='' MON='' RPID=''
stop_redis() {
  [ -n "$RPID" ] || return 0
  kill -TERM "$RPID" 2>/dev/null || true
  wait "$RPID" 2>/dev/null || true
  RPID=
}
stop_server() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
cleanup() {
  if [ -n "$MON" ]; then kill "$MON" 2>/dev/null || true; wait "$MON" 2>/dev/null || true; fi
  stop_server
  stop_redis
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
RPORT=$(free_port)
[ "$RPORT" != "$PORT" ] || RPORT=$(free_port)
CLI=(redis-cli -h 127.0.0.1 -p "$PORT")
RCLI=(redis-cli -h 127.0.0.1 -p "$RPORT")

now_ms() { echo $(($(date +%s%N) / 1000000)); }
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/${1:-$PID}/status"; } # [pid], stagekv's by default
sst_mb() { find "$WORK/data" -name '*.sst' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / 1048576 }'; }
size_mb() { # 64mb, 1gb, 65536 (bytes) -> MB
  awk -v s="$1" 'BEGIN { s = tolower(s); n = s + 0; u = s; sub(/^[0-9]+/, "", u)
    m = (u ~ /^k/) ? 1024 : (u ~ /^m/) ? 1048576 : (u ~ /^g/) ? 1073741824 : 1
    printf "%.0f", n * m / 1048576 }'
}
dbsize() { "${CLI[@]}" dbsize 2>/dev/null || echo 0; }

# start_server: starts it and waits for the first PONG; sets PID and
# START_MS (start to first reply, ms, polled with no pause between PINGs).
start_server() {
  local t0 deadline
  t0=$(now_ms)
  # shellcheck disable=SC2086 # SERVER_ARGS is a list of words
  "$SERVER_BIN" --port "$PORT" --dir "$WORK/data" --fsync everysec \
    --block-cache-size "$BLOCK_CACHE" $SERVER_ARGS >>"$WORK/server.log" 2>&1 &
  PID=$!
  deadline=$((SECONDS + 120))
  until [ "$("${CLI[@]}" ping 2>/dev/null)" = PONG ]; do
    kill -0 "$PID" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; die "the server exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "no PONG within 120 s"
    [ "$SECONDS" -lt "$END" ] || die "TIMEOUT ($TIMEOUT s) reached"
  done
  START_MS=$(($(now_ms) - t0))
}

# bench NAME ARGS...: one redis-benchmark run (--csv) against stagekv, or
# against redis-server when BPORT=$RPORT; sets RPS, P50, P99 (ms) from its
# CSV line:
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
bench() {
  local name=$1 line
  shift
  log "  $name: redis-benchmark $* (load $(loadavg))"
  line=$(timeout "$(left)" redis-benchmark -h 127.0.0.1 -p "${BPORT:-$PORT}" -c "$CLIENTS" -d 100 --csv "$@" |
    grep -v '^"test"' | tail -n 1) || die "redis-benchmark failed or timed out ($name)"
  IFS=, read -r _ RPS _ _ P50 _ P99 _ <<<"${line//\"/}"
  [ -n "${P99:-}" ] || die "cannot parse redis-benchmark output: $line"
  RPS=${RPS%.*}
  log "  $name: $RPS rps, p50 $P50 ms, p99 $P99 ms; RSS $(rss_mb "$([ "${BPORT:-$PORT}" = "$PORT" ] && echo "$PID" || echo "$RPID")") MB"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# redis-server with the same keys as stagekv: AOF everysec as in
# bench/compare.sh, no RDB saves (they would fork a 2 GB process mid-run).
start_redis() {
  local n=$1 res deadline
  rm -rf "$WORK/redis"
  mkdir -p "$WORK/redis"
  "$REDIS_BIN" --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly yes \
    --appendfsync everysec --logfile "$WORK/redis/log" &
  RPID=$!
  deadline=$((SECONDS + 30))
  until [ "$("${RCLI[@]}" ping 2>/dev/null)" = PONG ]; do
    kill -0 "$RPID" 2>/dev/null || die "redis-server exited: $(tail -n 5 "$WORK/redis/log")"
    [ "$SECONDS" -lt "$deadline" ] || die "redis-server: no PONG within 30 s"
    sleep 0.1
  done
  log "  redis-server: loading the same $n keys (load $(loadavg))"
  # shellcheck disable=SC2016 # the inner shell expands them
  res=$(timeout "$(left)" bash -c '"$1" -c "$2" "$3" | "${@:4}" --pipe' _ "$PY" "$GEN" "$n" "${RCLI[@]}" 2>&1) ||
    die "the redis-server load failed or timed out: $res"
  [ "$("${RCLI[@]}" dbsize)" = "$n" ] || die "redis-server's DBSIZE is not $n after the load"
  log "  redis-server: loaded, RSS $(rss_mb "$RPID") MB"
}

# The loader: exactly n SETs of key:%012d, 0..n-1, as RESP on stdout.
# shellcheck disable=SC2016 # Python source, not shell
GEN='
import base64, os, sys
n = int(sys.argv[1])
pool = base64.b64encode(os.urandom(3 << 20))
span = len(pool) - 100
out = sys.stdout.buffer
step = 10000
for lo in range(0, n, step):
    out.write(b"".join(
        b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n"
        % (i, pool[(i * 1000003) % span:(i * 1000003) % span + 100])
        for i in range(lo, min(n, lo + step))))
'

header='| keys | SST data (MB) | block cache | data / cache | load (s, keys/s) | RSS after load / after reads / max / after restart (MB) | GET -P 1 p50 / p99 (ms) | GET -P 1 rps | redis-server GET -P 1 p50 / p99 (ms), rps | GET -P 16 rps | SET -P 1 rps | SET -P 16 rps | shutdown (ms) | restart to first reply (ms) | load avg |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
echo "$header"
[ -z "$OUT" ] || echo "$header" >>"$OUT"
log "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); sizes: $KEYS; block cache $BLOCK_CACHE; TIMEOUT $TIMEOUT s"

for n in $KEYS; do
  rm -rf "$WORK/data"
  : >"$WORK/server.log"
  load0=$(loadavg)
  log "== $n keys: starting a fresh server (load $load0)"
  start_server
  # progress of the load: DBSIZE every 10 s
  (
    t0=$SECONDS
    while sleep 10; do
      c=$(dbsize)
      el=$((SECONDS - t0))
      rate=$((c / (el > 0 ? el : 1)))
      eta=$(((n - c) / (rate > 0 ? rate : 1)))
      log "  loaded $c / $n keys, $rate keys/s, ETA ${eta} s, RSS $(rss_mb) MB, load $(loadavg)"
    done
  ) &
  MON=$!
  t0=$(now_ms)
  # shellcheck disable=SC2016 # the inner shell expands them
  res=$(timeout "$(left)" bash -c '"$1" -c "$2" "$3" | "${@:4}" --pipe' _ "$PY" "$GEN" "$n" "${CLI[@]}" 2>&1) ||
    die "the load failed or timed out: $res"
  load_ms=$(($(now_ms) - t0))
  kill "$MON" 2>/dev/null || true
  wait "$MON" 2>/dev/null || true
  MON=
  grep -q 'errors: 0, replies: '"$n" <<<"$res" || die "the load reported errors: $res"
  got=$(dbsize)
  [ "$got" = "$n" ] || die "DBSIZE is $got after loading $n distinct keys"
  load_rate=$((n * 1000 / (load_ms > 0 ? load_ms : 1)))
  log "  loaded $n keys in $((load_ms / 1000)) s ($load_rate keys/s); settling $SETTLE s"
  sleep "$SETTLE"
  rss_load=$(rss_mb)
  sst=$(sst_mb)
  log "  RSS $rss_load MB, SST files $sst MB"
  max=$rss_load

  [ "$REDIS" = 0 ] || start_redis "$n"
  bench "GET warm-up" -t get -r "$n" -n "$N_P1"
  [ "$REDIS" = 0 ] || BPORT=$RPORT bench "redis-server GET warm-up" -t get -r "$n" -n "$N_P1"
  s_rps='' s_p50='' s_p99='' r_rps='' r_p50='' r_p99=''
  for ((round = 1; round <= GET_ROUNDS; round++)); do
    order="$PORT $RPORT"
    [ $((round % 2)) = 1 ] || order="$RPORT $PORT"
    for bp in $order; do
      if [ "$bp" = "$PORT" ]; then
        bench "GET -P 1 ($round/$GET_ROUNDS)" -t get -r "$n" -n "$N_P1"
        s_rps+=" $RPS" s_p50+=" $P50" s_p99+=" $P99"
      elif [ "$REDIS" = 1 ]; then
        BPORT=$RPORT bench "redis-server GET -P 1 ($round/$GET_ROUNDS)" -t get -r "$n" -n "$N_P1"
        r_rps+=" $RPS" r_p50+=" $P50" r_p99+=" $P99"
      fi
    done
  done
  get_p1=$(median <<<"$s_rps") get_p50=$(median <<<"$s_p50") get_p99=$(median <<<"$s_p99")
  redis_get='-'
  if [ "$REDIS" = 1 ]; then
    redis_get="$(median <<<"$r_p50") / $(median <<<"$r_p99"), $(median <<<"$r_rps")"
    stop_redis
  fi
  log "  memory: $("${CLI[@]}" info memory | tr -d '\r' | grep -E '^(rocksdb_[a-z_]+):' | tr '\n' ' ')$("${CLI[@]}" info storage | tr -d '\r' | grep -E '^(key_cache_slots|value_cache_bytes):' | tr '\n' ' ')"
  bench "GET -P 16" -t get -r "$n" -n "$N_P16" -P 16
  get_p16=$RPS
  rss_read=$(rss_mb)
  [ "$rss_read" -gt "$max" ] && max=$rss_read
  bench "SET -P 1" -t set -r "$n" -n "$N_P1"
  set_p1=$RPS
  [ "$(rss_mb)" -gt "$max" ] && max=$(rss_mb)
  bench "SET -P 16" -t set -r "$n" -n "$N_P16" -P 16
  set_p16=$RPS
  [ "$(rss_mb)" -gt "$max" ] && max=$(rss_mb)

  log "  restart: SIGTERM (load $(loadavg))"
  t0=$(now_ms)
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
  down_ms=$(($(now_ms) - t0))
  start_server
  restart_ms=$START_MS
  got=$(dbsize)
  [ "$got" = "$n" ] || die "DBSIZE is $got after the restart, expected $n"
  rss_restart=$(rss_mb)
  log "  shutdown $down_ms ms, start to first PONG $restart_ms ms, RSS $rss_restart MB"
  stop_server

  cache_mb=$(size_mb "$BLOCK_CACHE")
  ratio=$(awk -v s="$sst" -v c="${cache_mb:-0}" 'BEGIN { if (c > 0) printf "%.1f", s / c; else print "?" }')
  row="| $n | $sst | $BLOCK_CACHE | $ratio | $((load_ms / 1000)) s, $load_rate | $rss_load / $rss_read / $max / $rss_restart | $get_p50 / $get_p99 | $get_p1 | $redis_get | $get_p16 | $set_p1 | $set_p16 | $down_ms | $restart_ms | $load0 |"
  echo "$row"
  [ -z "$OUT" ] || echo "$row" >>"$OUT"
done
log "done in $SECONDS s"
