#!/usr/bin/env bash
# Real client libraries against stagekv-server:
#   redis-py (Debian's python3-redis, run by /usr/bin/python3, unittest)
#   ioredis  (npm, version pinned in package.json / package-lock.json, node --test)
# Usage: bash tests/clients/run.sh <path-to-stagekv-server>
# Each suite starts and stops its own server (free loopback port, temp dir).
# The last line is "N passed, M failed" over both suites; the exit status is
# non-zero on any failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER=${1:-${STAGEKV_SERVER_BIN:-}}
SUITE_TIMEOUT=${CLIENT_SUITE_TIMEOUT:-300}   # seconds per suite
NPM_TIMEOUT=${CLIENT_NPM_TIMEOUT:-300}       # seconds for npm ci

if [[ -z "$SERVER" ]]; then
    echo "usage: $0 <path-to-stagekv-server>" >&2
    echo "0 passed, 1 failed"
    exit 2
fi
SERVER=$(cd "$(dirname "$SERVER")" 2>/dev/null && pwd)/$(basename "$SERVER")
if [[ ! -x "$SERVER" ]]; then
    echo "FAIL: not an executable: $SERVER" >&2
    echo "0 passed, 1 failed"
    exit 2
fi
export STAGEKV_SERVER_BIN="$SERVER"

TOTAL_PASS=0
TOTAL_FAIL=0
OVERALL_RC=0
LOGDIR=$(mktemp -d /tmp/stagekv-clients-XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT

# field NAME TEXT: the number after "NAME=" in a unittest summary, or 0
field() {
    local v
    v=$(grep -oE "(^|[(, ])$1=[0-9]+" <<<"$2" | grep -oE '[0-9]+$' | head -n1)
    echo "${v:-0}"
}

# ---------------------------------------------------------------- redis-py
run_redis_py() {
    local py=/usr/bin/python3 log="$LOGDIR/redis-py.log" rc
    echo "=== redis-py (unittest, $py)"
    if [[ ! -x $py ]]; then
        echo "FAIL: $py not found (Debian package python3)" >&2
        TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
    fi
    # Debian's interpreter with Debian's redis-py only: no user site, no
    # PYTHONPATH from another Python installation.
    if ! env -u PYTHONPATH -u PYTHONHOME "$py" -s -c \
        'import redis, sys; print("redis-py", redis.__version__, "from", redis.__file__, "on Python", sys.version.split()[0])'; then
        echo "FAIL: redis-py is not importable by $py (Debian package python3-redis)" >&2
        TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
    fi
    env -u PYTHONPATH -u PYTHONHOME timeout -k 10 "$SUITE_TIMEOUT" \
        "$py" -s "$HERE/test_redis_py.py" "$SERVER" -v >"$log" 2>&1
    rc=$?
    cat "$log"
    [[ $rc -eq 124 ]] && echo "FAIL: redis-py suite killed after ${SUITE_TIMEOUT}s" >&2

    local ran status failures errors skipped xfail unexp test_fail pass fail
    ran=$(grep -E '^Ran [0-9]+ tests? in ' "$log" | tail -n1 | awk '{print $2}')
    status=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$log" | tail -n1)
    failures=$(field failures "$status")
    errors=$(field errors "$status")
    skipped=$(field skipped "$status")
    xfail=$(field "expected failures" "$status")
    unexp=$(field "unexpected successes" "$status")
    # Failures of individual tests (module set-up/tear-down errors are not tests).
    test_fail=$(grep -cE '^(FAIL|ERROR): test' "$log")
    pass=$(( ${ran:-0} - test_fail - skipped - xfail ))
    (( pass < 0 )) && pass=0
    fail=$(( failures + errors + unexp ))
    if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
    if [[ -z "$ran" || -z "$status" ]] && [[ $fail -eq 0 ]]; then fail=1; fi
    echo "redis-py: $pass passed, $fail failed (exit $rc)"
    TOTAL_PASS=$((TOTAL_PASS + pass)); TOTAL_FAIL=$((TOTAL_FAIL + fail))
    if [[ $rc -ne 0 || $fail -ne 0 ]]; then OVERALL_RC=1; fi
}

# ---------------------------------------------------------------- ioredis
run_ioredis() {
    local log="$LOGDIR/ioredis.log" rc major
    echo "=== ioredis (node --test)"
    if ! command -v node >/dev/null 2>&1; then
        echo "FAIL: node not found: the ioredis suite needs Node.js >= 18 and npm" \
             "(Debian packages nodejs npm)" >&2
        TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
    fi
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if (( major < 18 )); then
        echo "FAIL: node $(node --version 2>/dev/null) is too old: the suite needs Node.js >= 18" >&2
        TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
    fi
    if [[ ! -d "$HERE/node_modules/ioredis" ]]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "FAIL: npm not found: needed to install ioredis (npm ci --prefix tests/clients)" >&2
            TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
        fi
        echo "installing npm dependencies (npm ci --prefix $HERE)"
        if ! timeout -k 10 "$NPM_TIMEOUT" npm ci --prefix "$HERE" --no-audit --no-fund; then
            echo "FAIL: npm ci --prefix $HERE failed" >&2
            TOTAL_FAIL=$((TOTAL_FAIL + 1)); OVERALL_RC=1; return
        fi
    fi
    echo "node $(node --version), ioredis $(node -p "require('$HERE/node_modules/ioredis/package.json').version")"
    # The file is named explicitly (a directory argument is a Node 20 feature).
    timeout -k 10 "$SUITE_TIMEOUT" node --test --test-reporter=tap "$HERE/ioredis.test.mjs" >"$log" 2>&1
    rc=$?
    cat "$log"
    [[ $rc -eq 124 ]] && echo "FAIL: ioredis suite killed after ${SUITE_TIMEOUT}s" >&2

    local pass fail cancelled
    pass=$(grep -E '^# pass [0-9]+$' "$log" | tail -n1 | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+$' "$log" | tail -n1 | awk '{print $3}')
    cancelled=$(grep -E '^# cancelled [0-9]+$' "$log" | tail -n1 | awk '{print $3}')
    pass=${pass:-0}
    fail=$(( ${fail:-0} + ${cancelled:-0} ))
    if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
    echo "ioredis: $pass passed, $fail failed (exit $rc)"
    TOTAL_PASS=$((TOTAL_PASS + pass)); TOTAL_FAIL=$((TOTAL_FAIL + fail))
    if [[ $rc -ne 0 || $fail -ne 0 ]]; then OVERALL_RC=1; fi
}

START=$(date +%s)
run_redis_py
run_ioredis
echo "client suites took $(( $(date +%s) - START ))s"
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
if [[ $OVERALL_RC -ne 0 || $TOTAL_FAIL -ne 0 ]]; then
    exit 1
fi
exit 0
