#!/usr/bin/env bash
# Tests of @stagekv/client against a real stagekv-server, and the type check.
# Usage: client/js/run-tests.sh <path-to-stagekv-server>
#   (or STAGEKV_SERVER_BIN=...; default ../../build/stagekv-server)
# Runs `npm ci` when node_modules is missing, then `node --test` over
# test/*.test.mjs (each file starts its own server on a free loopback port
# with a temp dir) and `tsc --noEmit` over test/types-check.ts. Every step
# is bounded by a timeout. The last line is "N passed, M failed"; the exit
# status is non-zero on any failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER=${1:-${STAGEKV_SERVER_BIN:-$HERE/../../build/stagekv-server}}
TEST_TIMEOUT=${CLIENT_JS_TEST_TIMEOUT:-300}  # seconds for the node test run
NPM_TIMEOUT=${CLIENT_JS_NPM_TIMEOUT:-300}    # seconds for npm ci
TSC_TIMEOUT=${CLIENT_JS_TSC_TIMEOUT:-120}    # seconds for the type check

fail() {
    echo "FAIL: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[[ -f "$SERVER" && -x "$SERVER" ]] || fail "not an executable file: $SERVER (build the server first, or pass its path)"
SERVER=$(cd "$(dirname "$SERVER")" && pwd)/$(basename "$SERVER")
export STAGEKV_SERVER_BIN="$SERVER"

command -v node >/dev/null 2>&1 || fail "node not found: @stagekv/client needs Node.js >= 18 and npm"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
(( major >= 18 )) || fail "node $(node --version 2>/dev/null) is too old: Node.js >= 18 is needed"

cd "$HERE" || fail "cannot cd to $HERE"
if [[ ! -d node_modules/ioredis || ! -d node_modules/typescript ]]; then
    command -v npm >/dev/null 2>&1 || fail "npm not found: needed for npm ci"
    echo "installing npm dependencies (npm ci in $HERE)"
    timeout -k 10 "$NPM_TIMEOUT" npm ci --no-audit --no-fund || fail "npm ci failed"
fi
echo "node $(node --version), ioredis $(node -p 'require("./node_modules/ioredis/package.json").version'), typescript $(node -p 'require("./node_modules/typescript/package.json").version'), server $SERVER"

LOG=$(mktemp /tmp/stagekv-client-js-XXXXXX.log)
trap 'rm -f "$LOG"' EXIT

# Test files named one by one (a directory argument runs helpers as tests too).
timeout -k 10 "$TEST_TIMEOUT" node --test --test-reporter=tap test/*.test.mjs >"$LOG" 2>&1
rc=$?
cat "$LOG"
[[ $rc -eq 124 ]] && echo "FAIL: node --test killed after ${TEST_TIMEOUT}s" >&2
pass=$(grep -E '^# pass [0-9]+$' "$LOG" | tail -n1 | awk '{print $3}')
failed=$(grep -E '^# fail [0-9]+$' "$LOG" | tail -n1 | awk '{print $3}')
cancelled=$(grep -E '^# cancelled [0-9]+$' "$LOG" | tail -n1 | awk '{print $3}')
pass=${pass:-0}
failed=$(( ${failed:-0} + ${cancelled:-0} ))
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi

echo "=== type check: tsc --noEmit -p test/tsconfig.json"
if timeout -k 10 "$TSC_TIMEOUT" node node_modules/typescript/bin/tsc --noEmit -p test/tsconfig.json; then
    echo "ok - types-check.ts"
    pass=$((pass + 1))
else
    echo "not ok - types-check.ts" >&2
    failed=$((failed + 1))
fi

echo "$pass passed, $failed failed"
[[ $failed -eq 0 ]]
