#!/usr/bin/env bash
# What the element column family's compaction filter costs: redis-benchmark
# fills a set, a hash and a sorted set as bench/compare.sh's rounds do, the
# server is left to compact, and the script prints the CPU time of the
# server's background threads (flushes and compactions: the process's CPU
# minus the loop thread's, from /proc) with INFO storage's
# elem_filter_records (element records the filter judged) and
# elem_filter_reads (the metadata reads it made for them).
#
#   bench/collgc.sh
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                           [<repo>/build/stagekv-server]
#   BENCH_BIN    redis-benchmark binary                   [redis-benchmark]
#   N            requests per test (-P 16)                [1200000]
#   KEYSPACE     -r: distinct members                     [1000000]
#   SETTLE       seconds to wait for compactions after    [40]
#
# Two builds: run it once with each SERVER_BIN, alternating, and compare
# the background CPU. The table goes to stdout, progress to stderr.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

N=${N:-1200000}
KEYSPACE=${KEYSPACE:-1000000}
SETTLE=${SETTLE:-40}

NAME=collgc
POSITIVE="N KEYSPACE SETTLE"
bench_checks
[ -r "/proc/$$/stat" ] || die "needs /proc"
bench_start

log "redis-benchmark -c 50 -P 16 -n $N -r $KEYSPACE -d 100 -t sadd,hset,zadd"
t0=$(date +%s)
rates=$("$BENCH_BIN" -h 127.0.0.1 -p "$PORT" -c 50 -P 16 -n "$N" -r "$KEYSPACE" -d 100 -q -t sadd,hset,zadd 2>&1 |
  tr '\r' '\n' | grep -E 'requests per second' | awk '{ printf "%s %s ", $1, $2 }')
log "filled in $(( $(date +%s) - t0 )) s; waiting ${SETTLE} s for compactions"
for i in $(seq "$SETTLE"); do
  sleep 1
  [ $((i % 10)) = 0 ] && log "${i}/${SETTLE} s, pending compaction bytes $(bench_info storage rocksdb_pending_compaction_bytes)"
done
all=$(bench_cpu_ticks)
loop=$(bench_cpu_ticks loop)
secs() { awk -v t="$1" -v k="$BENCH_TICK" 'BEGIN { printf "%.1f", t / k }'; }

printf '| fill (requests/s) | loop CPU (s) | background CPU (s) | elem_filter_records | elem_filter_reads |\n'
printf '|---|---|---|---|---|\n'
printf '| %s| %s | %s | %s | %s |\n' "$rates" "$(secs "$loop")" "$(secs $((all - loop)))" \
  "$(bench_info storage elem_filter_records)" "$(bench_info storage elem_filter_reads)"
