#!/usr/bin/env bash
# Group commit of coin movements: how many COINS.ADD share one WAL fsync.
#
# Starts stagekv with --fsync always in a temporary directory on a free
# loopback port, then for each client count runs
#   redis-benchmark -c CLIENTS -n N -r KEYSPACE 'COINS.ADD u__rand_int__ 1 r'
# and reads INFO persistence wal_syncs before and after. Every COINS.ADD is
# fsynced before its reply (in every fsync mode); the loop syncs the WAL once
# per iteration for all the commands read in it, so with many clients one
# fsync covers many commands. Afterwards the balances of all KEYSPACE users
# must add up to the coins added, and COINS.VERIFY must hold for a sample.
#
#   bench/coins_sync.sh             clients 50 (the measure) and 1 (the baseline)
#
# Environment (defaults in brackets):
#   SERVER_BIN   stagekv binary                   [<repo>/build/stagekv-server]
#   BENCH_BIN    redis-benchmark binary           [redis-benchmark]
#   N            commands per run                 [20000]
#   CLIENTS      client counts to run, in order   ["50 1"]
#   KEYSPACE     -r: distinct users               [1000]
#
# The table goes to stdout, progress to stderr.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

N=${N:-20000}
CLIENTS=${CLIENTS:-"50 1"}
KEYSPACE=${KEYSPACE:-1000}

NAME=coins-sync
POSITIVE="N KEYSPACE"
bench_checks
for cl in $CLIENTS; do
  [[ $cl =~ ^[1-9][0-9]*$ ]] || die "CLIENTS must be positive integers (got '$cl')"
done
bench_start --fsync always

printf '| clients | commands | wal_syncs | commands per fsync | requests/s |\n|---|---|---|---|---|\n'
total=0
for cl in $CLIENTS; do
  s0=$(bench_info persistence wal_syncs)
  c0=$(bench_info stats total_commands_processed)
  log "redis-benchmark -c $cl -n $N -r $KEYSPACE COINS.ADD u__rand_int__ 1 r"
  out=$("$BENCH_BIN" -h 127.0.0.1 -p "$PORT" -c "$cl" -n "$N" -r "$KEYSPACE" -q \
    COINS.ADD u__rand_int__ 1 r 2>&1 | tr '\r' '\n' | grep -E 'requests per second' | tail -n 1)
  s1=$(bench_info persistence wal_syncs)
  c1=$(bench_info stats total_commands_processed)
  syncs=$((s1 - s0))
  # every command processed during the run: the N COINS.ADD and the two
  # CONFIG GET redis-benchmark sends first (the two INFO calls are taken off)
  cmds=$((c1 - c0 - 2))
  rps=$(printf '%s' "$out" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p')
  # INFO and other reads in always mode sync too (one per loop iteration):
  # the ratio is a lower bound for the movers alone.
  ratio=$(awk -v c="$cmds" -v s="$syncs" 'BEGIN { if (s > 0) printf "%.1f", c / s; else print "inf" }')
  printf '| %s | %s | %s | %s | %s |\n' "$cl" "$cmds" "$syncs" "$ratio" "${rps:-?}"
  total=$((total + N))
done

# No coin lost or invented: the balances add up to the coins added.
sum=$(for i in $(seq 0 $((KEYSPACE - 1))); do printf 'COINS.BALANCE u%012d\n' "$i"; done |
  "${CLI[@]}" | awk '{ s += $1 } END { print s + 0 }')
[ "$sum" = "$total" ] || die "balances add up to $sum, expected $total"
for i in 0 1 $((KEYSPACE - 1)); do
  r=$("${CLI[@]}" COINS.VERIFY "$(printf 'u%012d' "$i")")
  [ "$r" = OK ] || die "COINS.VERIFY u$(printf '%012d' "$i"): $r"
done
log "balances add up to $sum coins; COINS.VERIFY OK"
