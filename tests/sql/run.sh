#!/usr/bin/env bash
# tests/sql: docs/schema.sql against a throwaway PostgreSQL cluster.
#
#   tests/sql/run.sh [PATTERN]      (PATTERN: run only test files matching *PATTERN*)
#
# Starts a cluster with scripts/pg-cluster.sh (stopped and removed on any
# exit), then:
#   - schema-loads-twice: docs/schema.sql into two fresh databases, each
#     with psql -v ON_ERROR_STOP=1 (the cluster roles already exist the
#     second time)
#   - asserts-can-fail: a false assertion makes psql exit non-zero (so a
#     test that fails cannot pass unnoticed)
#   - every tests/sql/[0-9]*.sql in a fresh copy of a template database
#     that holds the schema and tests/sql/lib/assert.sql
# Prints one line per test, then "N passed, M failed"; exits 1 when any
# failed (2 when the cluster or the template could not be set up).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCHEMA=$ROOT/docs/schema.sql
PATTERN=${1:-}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc)
T0=$(date +%s%N)

CLUSTER_DIR=""
cleanup() {
    if [[ -n $CLUSTER_DIR ]]; then
        "$ROOT/scripts/pg-cluster.sh" stop "$CLUSTER_DIR" || echo "run.sh: could not stop the cluster in $CLUSTER_DIR" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env_lines=$("$ROOT/scripts/pg-cluster.sh" start) || { echo "run.sh: cannot start PostgreSQL" >&2; exit 2; }
eval "$env_lines"
CLUSTER_DIR=$STAGEKV_PG_DIR
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/stagekv-sqltests.XXXXXX")

passed=0
failed=0
failures=()

# result NAME RC LOGFILE
result() {
    if [[ $2 -eq 0 ]]; then
        passed=$((passed + 1))
        printf 'PASS  %s\n' "$1"
    else
        failed=$((failed + 1))
        failures+=("$1")
        printf 'FAIL  %s\n' "$1"
        sed 's/^/      /' "$3" | tail -n 15
    fi
}

# 1. the schema loads into an empty database, twice
log=$LOGDIR/schema.log
rc=0
for db in schema_load_1 schema_load_2; do
    createdb "$db" >>"$log" 2>&1 && "${PSQL[@]}" -d "$db" -f "$SCHEMA" >>"$log" 2>&1 || rc=1
done
result schema-loads-twice $rc "$log"

# 2. the template every test file starts from
if ! { createdb stagekv_template && "${PSQL[@]}" -d stagekv_template -f "$SCHEMA" &&
    "${PSQL[@]}" -d stagekv_template -f "$HERE/lib/assert.sql"; } >"$LOGDIR/template.log" 2>&1; then
    cat "$LOGDIR/template.log" >&2
    echo "run.sh: cannot build the template database" >&2
    exit 2
fi

# 3. the header of schema.sql (what stagekv-dump --sql follows) matches the
# tables: every table is listed in the load order, every COPY column list
# is the table's non-generated columns in order (trailing ones with defaults may be left out)
log=$LOGDIR/header.log
rc=0
{
    tables=$(psql -X -At -d stagekv_template -c \
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    listed=$(sed -n '1,/^BEGIN;/ s/^-- *[0-9][0-9]* \([a-z_]*\) .*/\1/p' "$SCHEMA" | sort)
    if [[ $tables != "$listed" ]]; then
        echo "tables vs the header's load order:"
        diff <(echo "$tables") <(echo "$listed")
        rc=1
    fi
    entity_cols=$(sed -n 's/^-- *each: COPY <table> (\(.*\))$/\1/p' "$SCHEMA")
    while read -r t cols; do
        [[ -z $t ]] && continue
        actual=$(psql -X -At -d stagekv_template -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position)
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$t' AND is_generated = 'NEVER'")
        # the list is the table's columns in order; trailing columns it
        # leaves out must have a default (e.g. updated_at of analytics rows)
        if [[ $actual != "$cols" ]]; then
            rest=${actual#"$cols, "}
            bad=1
            if [[ $rest != "$actual" ]]; then
                bad=$(psql -X -At -d stagekv_template -c "SELECT count(*) FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = '$t' AND column_default IS NULL
                      AND column_name = ANY (string_to_array('$rest', ', '))")
            fi
            if [[ $bad != 0 ]]; then
                echo "COPY $t ($cols): the table has ($actual)"
                rc=1
            fi
        fi
    done < <(sed -n '1,/^BEGIN;/ s/^-- *COPY \([a-z_]*\) (\(.*\))$/\1 \2/p' "$SCHEMA"
             for t in tracks videos concerts news banner_ads promotion_campaigns pitching_submissions payment_methods; do
                 echo "$t $entity_cols"
             done)
} >"$log" 2>&1
result schema-header-matches-tables $rc "$log"

# 4. a false assertion must fail the run (the harness can see failures)
log=$LOGDIR/canfail.log
createdb -T stagekv_template t_canfail >"$log" 2>&1
rc=0
"${PSQL[@]}" -d t_canfail -c "SELECT test.eq(1, 2, 'deliberate')" >>"$log" 2>&1 && rc=1
"${PSQL[@]}" -d t_canfail -c "DO \$\$ BEGIN ASSERT false, 'deliberate'; END \$\$" >>"$log" 2>&1 && rc=1
"${PSQL[@]}" -d t_canfail -c "SELECT test.raises('SELECT 1', 'INVALID', 'deliberate')" >>"$log" 2>&1 && rc=1
dropdb t_canfail >>"$log" 2>&1
result asserts-can-fail $rc "$log"

# 5. concurrency: the hosted store's lost update. 20 sessions spend 10
# coins each from a balance of 100 at once: exactly 10 succeed, the others
# get INSUFFICIENT_FUNDS, the balance ends at 0 and the ledger verifies;
# 20 sessions transfer both ways between two users at once: no deadlock,
# no coin created or lost. (new_id() locks the id counter row until commit,
# so these transactions also queue there; the ledger trigger's FOR UPDATE
# is what protects rows inserted with explicit ids, e.g. a load.)
if [[ -z $PATTERN || concurrency == *"$PATTERN"* ]]; then
    log=$LOGDIR/concurrency.log
    rc=0
    {
        createdb -T stagekv_template t_concurrency &&
            "${PSQL[@]}" -d t_concurrency -c "SELECT add_coins('c', 100, 'w'), add_coins('x', 50, 'w'), add_coins('y', 50, 'w')"
    } >"$log" 2>&1 || rc=1
    pids=()
    for i in $(seq 1 20); do
        "${PSQL[@]}" -d t_concurrency -c "SELECT spend_coins('c', 10, 'race $i')" >"$LOGDIR/spend.$i" 2>&1 &
        pids+=($!)
    done
    ok=0
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then ok=$((ok + 1)); elif ! grep -q INSUFFICIENT_FUNDS "$LOGDIR/spend.$((i + 1))"; then
            cat "$LOGDIR/spend.$((i + 1))" >>"$log"
            rc=1
        fi
    done
    [[ $ok -eq 10 ]] || { echo "$ok of 20 concurrent spends succeeded, want 10" >>"$log"; rc=1; }
    pids=()
    for i in $(seq 1 20); do
        if ((i % 2)); then from=x to=y; else from=y to=x; fi
        "${PSQL[@]}" -d t_concurrency -c "SELECT transfer_coins('$from', '$to', 3, 'swap $i')" >"$LOGDIR/swap.$i" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}" && ! grep -q INSUFFICIENT_FUNDS "$LOGDIR/swap.$((i + 1))"; then
            cat "$LOGDIR/swap.$((i + 1))" >>"$log"   # a deadlock or another error
            rc=1
        fi
    done
    "${PSQL[@]}" -d t_concurrency >>"$log" 2>&1 <<'EOF' || rc=1
SELECT test.eq(get_balance('c'), 0::bigint, 'the balance after the race');
SELECT test.eq((SELECT count(*) FROM coins_transactions WHERE user_id = 'c'), 11::bigint, 'one row per successful spend');
SELECT test.eq(get_balance('x') + get_balance('y'), 100::bigint, 'transfers create and lose nothing');
SELECT test.ledger_consistent('after the races');
EOF
    dropdb --if-exists t_concurrency >>"$log" 2>&1
    result concurrency $rc "$log"
fi

# 6. the test files
for f in "$HERE"/[0-9]*.sql; do
    name=$(basename "$f" .sql)
    [[ -n $PATTERN && $name != *"$PATTERN"* ]] && continue
    db=t_${name//[^A-Za-z0-9_]/_}
    log=$LOGDIR/$name.log
    rc=0
    createdb -T stagekv_template "$db" >"$log" 2>&1 || rc=1
    if [[ $rc -eq 0 ]]; then
        "${PSQL[@]}" -d "$db" -o /dev/null -f "$f" >>"$log" 2>&1 || rc=1
    fi
    dropdb --if-exists "$db" >>"$log" 2>&1
    result "$name" $rc "$log"
done

ms=$((($(date +%s%N) - T0) / 1000000))
echo
printf '%d passed, %d failed (%d.%03d s)\n' "$passed" "$failed" $((ms / 1000)) $((ms % 1000))
[[ $failed -eq 0 ]] && rm -rf "$LOGDIR" || echo "logs: $LOGDIR"
[[ $failed -eq 0 ]]
