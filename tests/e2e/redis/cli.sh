#!/usr/bin/env bash
# redis-cli and redis-benchmark against a real stagekv-server.
# Usage: bash tests/e2e/redis/cli.sh <path-to-stagekv-server>
set -u

SERVER=${1:-}
if [[ -z "$SERVER" || ! -x "$SERVER" ]]; then
    echo "usage: $0 <path-to-stagekv-server> (got '${SERVER}')" >&2
    exit 2
fi
for tool in redis-cli redis-benchmark timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found (Debian package redis-tools)" >&2
        exit 2
    fi
done

PASS=0
FAIL=0
DIR=$(mktemp -d /tmp/stagekv-cli-XXXXXX)
LOG="$DIR.log"
PID=""

cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1" >&2; }

# check NAME EXPECTED ACTUAL
check() {
    if [[ "$3" == "$2" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    if [[ $FAIL -ne 0 ]]; then
        echo "server log: $LOG" >&2
        exit 1
    fi
    rm -f "$LOG"
    exit 0
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start on a free port (retry if another process takes it first).
started=0
for attempt in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_in_use "$PORT" && continue
    "$SERVER" --port "$PORT" --dir "$DIR" >>"$LOG" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        if [[ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]]; then
            started=1
            break
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    [[ $started -eq 1 ]] && break
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=""
done
if [[ $started -ne 1 ]]; then
    bad "server did not start (log: $LOG)"
    cat "$LOG" >&2
    finish
fi
echo "server pid $PID on port $PORT, dir $DIR"

cli() { timeout 10 redis-cli -p "$PORT" "$@" 2>&1; }

check "ping" "PONG" "$(cli ping)"
check "set" "OK" "$(cli set greeting 'hello world')"
check "get" "hello world" "$(cli get greeting)"
check "get missing (raw output is empty)" "" "$(cli get nosuchkey)"
check "get missing --no-raw" "(nil)" "$(cli --no-raw get nosuchkey)"
check "kv.set" "OK" "$(cli kv.set k '{"a":1}')"
check "kv.get" '{"a":1}' "$(cli kv.get k)"
check "kv.set invalid JSON is an error" "ERR invalid JSON" \
    "$(cli kv.set bad '{"a":' | grep -o 'ERR invalid JSON')"
check "inline commands from stdin" $'OK\n1' "$(printf 'SET a 1\nGET a\n' | timeout 10 redis-cli -p "$PORT" 2>&1)"
check "quoted inline from stdin" $'OK\nx y' \
    "$(printf 'SET q "x y"\nGET q\n' | timeout 10 redis-cli -p "$PORT" 2>&1)"
check "incr --no-raw" "(integer) 1" "$(cli --no-raw incr x)"
check "incr again" "2" "$(cli incr x)"
check "unknown command error" "(error) ERR unknown command 'nosuchcmd', with args beginning with: 'a' " \
    "$(cli --no-raw nosuchcmd a)"
check "dbsize" "5" "$(cli dbsize)"

# redis-benchmark: every test completes without an error line and reports a rate
BENCH=$(timeout 120 redis-benchmark -p "$PORT" -t set,get,incr,mset -n 20000 -c 20 -q 2>&1)
brc=$?
BENCH=$(printf '%s\n' "$BENCH" | tr '\r' '\n' | grep -v '^[[:space:]]*$' | grep -v 'rps=')
echo "$BENCH" | sed 's/^/    bench: /'
check "redis-benchmark exit status" "0" "$brc"
errs=$(printf '%s\n' "$BENCH" | grep -iE 'err|error|fail|invalid|unknown' || true)
check "redis-benchmark has no error lines" "" "$errs"
for t in SET GET INCR "MSET (10 keys)"; do
    line=$(printf '%s\n' "$BENCH" | grep -F "$t: " | grep -E 'requests per second' | head -1)
    if [[ "$line" =~ ^"$t: "[0-9]+(\.[0-9]+)?" requests per second" ]]; then
        ok "redis-benchmark $t reports requests per second"
    else
        bad "redis-benchmark $t: no 'requests per second' line (got '$line')"
    fi
done
check "server answers after the benchmark" "PONG" "$(cli ping)"

# SIGTERM: clean exit with status 0
kill -TERM "$PID"
rc=0
for _ in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
    bad "server still running 10 s after SIGTERM"
    kill -KILL "$PID" 2>/dev/null
fi
wait "$PID"
rc=$?
PID=""
check "exit status after SIGTERM" "0" "$rc"

finish
