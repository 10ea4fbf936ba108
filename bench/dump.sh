#!/usr/bin/env bash
# Dump, restore and PostgreSQL migration rates on a generated data set.
#
# Starts stagekv in a temporary directory, fills it with
# scripts/gen-platform.py (every namespace; USERS users, PER documents per
# user and namespace), then times
#   stagekv-dump -o FILE                     (records/s, MB/s)
#   stagekv-restore FILE into a second, empty server, its DOMAIN.REBUILD (FRESH) included
#   stagekv-dump --sql DIR                   (the export)
#   psql -f docs/schema.sql; psql -f DIR/load.sql   (COPY, then the bulk path's derived tables and checks)
# on a throwaway PostgreSQL cluster (scripts/pg-cluster.sh), and prints one
# line per step: records (documents and meta records of the dump), seconds,
# records per second. Progress goes to stderr; every step is bounded by
# TIMEOUT seconds.
#
#   bench/dump.sh
#
# Environment (defaults in brackets):
#   BUILD    build directory with stagekv-server, stagekv-dump, stagekv-restore [<repo>/build]
#   USERS    generated users                                  [1000]
#   PER      documents per user and namespace (gen-platform)  [20]
#   TIMEOUT  seconds per step                                 [900]
#   SQL      1: also the PostgreSQL migration                 [1]
set -euo pipefail
NAME=dump
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SERVER_BIN=$BUILD/stagekv-server
BENCH_BIN=redis-cli
USERS=${USERS:-1000}
PER=${PER:-20}
TIMEOUT=${TIMEOUT:-900}
SQL=${SQL:-1}
POSITIVE="USERS PER TIMEOUT"
. "$ROOT/bench/lib.sh"
bench_checks
for t in stagekv-dump stagekv-restore; do [ -x "$BUILD/$t" ] || die "no $BUILD/$t (make build)"; done

bench_start
A_PORT=$PORT
A_PID=$PID
# a second server for the restore
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SERVER_BIN" --port "$PORT" --dir "$WORK/restored" >"$WORK/restored.log" 2>&1 &
B_PID=$!
B_PORT=$PORT
CLUSTER_DIR=
cleanup_all() {
  kill -TERM "$B_PID" 2>/dev/null || true
  wait "$B_PID" 2>/dev/null || true
  [ -n "$CLUSTER_DIR" ] && "$ROOT/scripts/pg-cluster.sh" stop "$CLUSTER_DIR" 2>/dev/null || true
  PID=$A_PID
  bench_cleanup
}
trap cleanup_all EXIT
for _ in $(seq 300); do [ "$(redis-cli -p "$B_PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print('%10d records %8.2f s %10.0f records/s' % (n, s, n / s if s > 0 else 0))" "$1" "$2"; }

log "generating: $USERS users, $PER per namespace"
t0=$(now)
timeout "$TIMEOUT" /usr/bin/python3 "$ROOT/scripts/gen-platform.py" --port "$A_PORT" --users "$USERS" --per "$PER" >/dev/null
t1=$(now)
docs=$(redis-cli -p "$A_PORT" DBSIZE)
log "generated $docs documents in $(python3 -c "print(round($t1 - $t0, 1))") s"

log "dump"
t0=$(now)
timeout "$TIMEOUT" "$BUILD/stagekv-dump" -p "$A_PORT" -o "$WORK/d.jsonl"
t1=$(now)
records=$(($(wc -l <"$WORK/d.jsonl") - 2))
size=$(stat -c %s "$WORK/d.jsonl")
echo "documents: $docs, dump records: $records, dump size: $((size / 1000000)) MB"
printf 'dump                '; rate "$records" "$(python3 -c "print($t1 - $t0)")"

log "restore (with DOMAIN.REBUILD)"
t0=$(now)
timeout "$TIMEOUT" "$BUILD/stagekv-restore" -p "$B_PORT" "$WORK/d.jsonl"
t1=$(now)
printf 'restore+rebuild     '; rate "$records" "$(python3 -c "print($t1 - $t0)")"
rb=$(redis-cli -p "$B_PORT" DOMAIN.REBUILD STATUS | sed -n 14p)
printf '  of which rebuild  %10s ms\n' "$rb"

[ "$SQL" = 1 ] || exit 0
log "export --sql"
t0=$(now)
timeout "$TIMEOUT" "$BUILD/stagekv-dump" -p "$A_PORT" --sql "$WORK/sql"
t1=$(now)
chmod -R a+rX "$WORK"
printf 'sql export          '; rate "$records" "$(python3 -c "print($t1 - $t0)")"
eval "$("$ROOT/scripts/pg-cluster.sh" start)"
CLUSTER_DIR=$STAGEKV_PG_DIR
createdb mig
t2=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d mig -f "$ROOT/docs/schema.sql" >/dev/null
log "psql load.sql"
t3=$(now)
timeout "$TIMEOUT" psql -X -q -v ON_ERROR_STOP=1 -d mig -f "$WORK/sql/load.sql" >/dev/null
t4=$(now)
rows=$(grep '^-- rows' "$WORK/sql/report.txt" | awk '{s += $4} END {print s}')
printf 'psql load.sql       '; rate "$rows" "$(python3 -c "print($t4 - $t3)")"
printf 'whole migration     '; rate "$docs" "$(python3 -c "print(($t1 - $t0) + ($t4 - $t2))")"
