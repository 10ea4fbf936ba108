#!/usr/bin/env bash
# Runs Redis's own Tcl test suite (redis/redis tag 7.0.15, its tests/ folder
# exported next to its `runtest`) in external mode against a stagekv server
# started here, and prints a per-file table of passed/failed tests.
#
#   scripts/redis-suite.sh /path/to/redis-7.0.15-tests [unit/type/string unit/keyspace ...]
#
# The suite is not ours: take it from the public redis/redis repository,
# run it locally, never commit it. Needs tclsh (Debian: tcl).
set -uo pipefail
SUITE=${1:?usage: $0 /path/to/exported/redis/tests-root [units...]}
shift
UNITS=("$@")
[ ${#UNITS[@]} -eq 0 ] && UNITS=(unit/type/string unit/keyspace unit/type/incr unit/expire unit/multi
                                 unit/protocol unit/scan unit/quit unit/info-command)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SERVER_BIN:-$ROOT/build/stagekv-server}
PORT=${PORT:-$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')}
DIR=$(mktemp -d /tmp/stagekv-suite-XXXXXX)
LOGDIR=${LOGDIR:-$DIR/logs}
mkdir -p "$LOGDIR"
# as Redis's own test config does: the suite changes protected configs and may run DEBUG
"$BIN" --port "$PORT" --dir "$DIR/data" --enable-protected-configs yes --enable-debug-command yes >"$LOGDIR/server.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; rm -rf "$DIR/data"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

TAGS="-needs:debug -needs:repl -needs:save -needs:config-maxmemory -needs:pfdebug -needs:local-process -resp3"
printf '| file | passed | failed | aborted |\n|---|---|---|---|\n'
for u in "${UNITS[@]}"; do
  log="$LOGDIR/$(echo "$u" | tr / _).log"
  (cd "$SUITE" && timeout 900 ./runtest --host 127.0.0.1 --port "$PORT" --durable --ignore-encoding \
      --ignore-digest --tags "$TAGS" --single "$u" --clients 1 >"$log" 2>&1)
  ok=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -c '^\[ok\]')
  err=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -c '^\[err\]')
  exc=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -c '^\[exception\]')
  printf '| %s | %d | %d | %s |\n' "$u" "$ok" "$err" "$([ "$exc" -gt 0 ] && echo yes || echo no)"
  if ! kill -0 $SPID 2>/dev/null; then echo "stagekv died during $u (see $LOGDIR/server.log)"; exit 1; fi
done
echo "logs: $LOGDIR" >&2
