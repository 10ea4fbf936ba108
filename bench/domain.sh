#!/usr/bin/env bash
# Domain commands next to plain SET on the same server.
#
# Starts stagekv in a temporary directory on a free loopback port and runs
#   redis-benchmark -c 50 -P 1 -n N -r KEYSPACE <command>
# for SET (the baseline, run first and again last: the table uses their
# mean) and for COINS.ADD, COINS.SPEND, TRACK.CREATE, TRACK.LIST,
# KV.GETBYPREFIX, MSG.SEND, NOTIFY.CREATE, ANALYTICS.INCR and DASHBOARD.GET,
# then prints per command the requests per second, its ratio to SET's, and
# the server-side time per call (INFO commandstats usec_per_call: the
# command's own work; with batch-commits on, the RocksDB commit of a loop
# iteration's batch is outside it; steadier than the throughput on a busy
# host) with its ratio to SET's, and the CPU time of the server's loop
# thread per request (utime + stime of its main thread in /proc, read
# before and after the run: the command, the commit of its batch, the
# socket calls; what bounds a -P 1 command on one loop thread) with its
# ratio to SET's; then the server's CPU per request over all its threads
# (the loop's plus RocksDB's flushes and compactions) and the share of the
# machine's CPU time left idle during the run. The last two tell what bound
# a run: with little idle time left, the cores are shared out between the
# loop, the background threads, redis-benchmark and the kernel, and a
# thread taking work off the loop would not raise the rate (issue 13, tenth
# round). Last, the machine's busy CPU per request (all processes: the
# server, redis-benchmark, the kernel's loopback) and the ceiling it puts
# on the command: its rate with every core busy and the same work per
# request, as a ratio to SET's measured rate. No change of threading lifts
# a command past it; only less work per request does (issue 13, fourteenth
# round). The /proc clock ticks every 10 ms, so a run shorter than a
# second or so reads the CPU columns coarsely: raise N for them.
# COINS.ADD and COINS.SPEND are synced before their reply (every fsync
# mode), so they wait for the WAL fsync of their loop iteration.
# The users are funded first, so every COINS.SPEND succeeds; the reads run
# after the writes, so TRACK.LIST, KV.GETBYPREFIX and DASHBOARD.GET see
# data. Each run is bounded by TIMEOUT seconds.
#
#   bench/domain.sh
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                   [<repo>/build/stagekv-server]
#   BENCH_BIN    redis-benchmark binary           [redis-benchmark]
#   N            requests per command             [20000]
#   KEYSPACE     -r: distinct users / ids         [1000]
#   TIMEOUT      seconds per redis-benchmark run  [120]
#   LIST_LIMIT   LIMIT of TRACK.LIST and KV.GETBYPREFIX [20, the issue's;
#                the tables before its eighth round used 10]
#
# The table goes to stdout, progress to stderr.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

N=${N:-20000}
KEYSPACE=${KEYSPACE:-1000}
TIMEOUT=${TIMEOUT:-120}
LIST_LIMIT=${LIST_LIMIT:-20}

NAME=domain
POSITIVE="N KEYSPACE TIMEOUT LIST_LIMIT"
bench_checks
bench_start 

# Every user redis-benchmark will name (u + 12 digits) gets enough coins
# for all the COINS.SPEND runs.
log "funding $KEYSPACE users"
for i in $(seq 0 $((KEYSPACE - 1))); do printf 'COINS.ADD u%012d %d seed\n' "$i" "$N"; done |
  "${CLI[@]}" >"$WORK/fund.out"
[ "$(grep -c '^[0-9]' "$WORK/fund.out")" = "$KEYSPACE" ] || die "funding failed: $(grep -v '^[0-9]' "$WORK/fund.out" | head -n 1)"

# bench NAME ARGS...: "rps usec_per_call loop_usec_per_request
# server_usec_per_request machine_idle_percent machine_usec_per_request" of
# one run; fails on error
# replies.
bench() {
  local name=$1 lc out rps us calls failed stats t0 t1 a0 a1 m0 m1
  shift
  lc=$(printf '%s' "$name" | tr 'A-Z' 'a-z')
  "${CLI[@]}" config resetstat >/dev/null
  m0=$(bench_machine_ticks)
  a0=$(bench_cpu_ticks)
  t0=$(bench_cpu_ticks loop)
  out=$(timeout "$TIMEOUT" "$BENCH_BIN" -h 127.0.0.1 -p "$PORT" -c 50 -P 1 -n "$N" -r "$KEYSPACE" -q "$@" 2>&1 |
    tr '\r' '\n' | grep -E 'requests per second' | tail -n 1) || die "$name: redis-benchmark failed or passed ${TIMEOUT}s"
  t1=$(bench_cpu_ticks loop)
  a1=$(bench_cpu_ticks)
  m1=$(bench_machine_ticks)
  rps=$(printf '%s' "$out" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p')
  stats=$("${CLI[@]}" info commandstats | tr -d '\r' | grep "^cmdstat_$lc:") || die "$name: no commandstats"
  us=$(printf '%s' "$stats" | sed -n 's/.*usec_per_call=\([0-9.]*\).*/\1/p')
  calls=$(printf '%s' "$stats" | sed -n 's/.*[:,]calls=\([0-9]*\).*/\1/p')
  failed=$(printf '%s' "$stats" | sed -n 's/.*failed_calls=\([0-9]*\).*/\1/p')
  [ "${failed:-0}" = 0 ] || die "$name: $failed of $calls calls failed"
  [ -n "$rps" ] && [ -n "$us" ] || die "$name: no figures ($out)"
  awk -v r="$rps" -v u="$us" -v t=$((t1 - t0)) -v a=$((a1 - a0)) -v m0="$m0" -v m1="$m1" -v hz="$BENCH_TICK" -v n="$N" '
    BEGIN { split(m0, x, " "); split(m1, y, " "); b = y[1] - x[1]; i = y[2] - x[2]
            printf "%s %s %.1f %.1f %.0f %.1f\n", r, u, t / hz / n * 1e6, a / hz / n * 1e6,
              (b + i > 0 ? 100 * i / (b + i) : 0), b / hz / n * 1e6 }'
}

declare -a NAMES=() RPS=() US=() LOOP=() ALL=() IDLE=() MACH=()
run() { # label command...
  local label=$1 r rps us loop all idle mach
  shift
  log "$label"
  r=$(bench "$1" "$@")
  NAMES+=("$label")
  read -r rps us loop all idle mach <<<"$r"
  RPS+=("$rps")
  US+=("$us")
  LOOP+=("$loop")
  ALL+=("$all")
  IDLE+=("$idle")
  MACH+=("$mach")
}

run SET SET k__rand_int__ v
run COINS.ADD COINS.ADD u__rand_int__ 1 r
run COINS.SPEND COINS.SPEND u__rand_int__ 1 r
run TRACK.CREATE TRACK.CREATE u__rand_int__ '{"title":"Song","genre":"pop","duration":215}'
run "TRACK.LIST LIMIT $LIST_LIMIT" TRACK.LIST u__rand_int__ LIMIT "$LIST_LIMIT"
run "KV.GETBYPREFIX LIMIT $LIST_LIMIT" KV.GETBYPREFIX tracks:u__rand_int__: LIMIT "$LIST_LIMIT"
run MSG.SEND MSG.SEND c__rand_int__ alice bob 'see you at the show'
run NOTIFY.CREATE NOTIFY.CREATE u__rand_int__ '{"type":"system","text":"hello"}'
run ANALYTICS.INCR ANALYTICS.INCR tracks t__rand_int__ 2026-11-25 plays
run DASHBOARD.GET DASHBOARD.GET u__rand_int__
run "SET (again)" SET k__rand_int__ v

last=$((${#NAMES[@]} - 1))
base_rps=$(awk -v a="${RPS[0]}" -v b="${RPS[$last]}" 'BEGIN { printf "%.2f", (a + b) / 2 }')
base_us=$(awk -v a="${US[0]}" -v b="${US[$last]}" 'BEGIN { printf "%.2f", (a + b) / 2 }')
base_loop=$(awk -v a="${LOOP[0]}" -v b="${LOOP[$last]}" 'BEGIN { printf "%.2f", (a + b) / 2 }')
CPUS=$(nproc)
printf '| command | requests/s | ratio to SET | usec/call (server) | ratio to SET | loop usec/request | ratio to SET | server CPU usec/request | machine idle %% | machine CPU usec/request | ceiling, ratio to SET |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for i in "${!NAMES[@]}"; do
  awk -v n="${NAMES[$i]}" -v r="${RPS[$i]}" -v u="${US[$i]}" -v l="${LOOP[$i]}" -v a="${ALL[$i]}" -v id="${IDLE[$i]}" \
    -v m="${MACH[$i]}" -v cpus="$CPUS" -v br="$base_rps" -v bu="$base_us" -v bl="$base_loop" \
    'BEGIN { printf "| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %.2f | %.1f | %.0f | %.1f | %.2f |\n", n, r, r / br, u, u / bu,
             l, (bl > 0 ? l / bl : 0), a, id, m, (m > 0 ? cpus * 1e6 / m / br : 0) }'
done
log "SET baseline: $base_rps requests/s, $base_us usec/call, $base_loop loop usec/request (mean of the first and last run)"
