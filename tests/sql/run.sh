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
    listed=$(sed -n 's/^-- *[0-9][0-9]* \([a-z_]*\) .*/\1/p' "$SCHEMA" | sort)
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
    done < <(sed -n 's/^-- *COPY \([a-z_]*\) (\(.*\))$/\1 \2/p' "$SCHEMA"
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

# 5. the test files
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
