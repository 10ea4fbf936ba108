#!/usr/bin/env bash
# stagekv → SQL → PostgreSQL: a generated platform data set (every
# namespace, 200 users) is exported with stagekv-dump --sql and loaded with
# psql -f docs/schema.sql && psql -f DIR/load.sql into a throwaway
# PostgreSQL 15 cluster (scripts/pg-cluster.sh). Checks: rows per table =
# stagekv's documents, Σ coins_transactions.amount per user =
# coins_balance.balance = COINS.BALANCE, the derived tables, a trigger and
# a helper on migrated rows, triggers on again after the bulk load, the
# bulk path = the row triggers' path (row for row), a wrong ledger row
# refused, RLS (as user A, B's messages and balance are invisible), and a
# document that violates the schema is reported (exit 3, report.txt),
# never dropped silently.
# Usage: bash tests/e2e/domain/sql_migration.sh <path-to-stagekv-server>
set -u

SERVER=${1:-}
if [[ -z "$SERVER" || ! -x "$SERVER" ]]; then
    echo "usage: $0 <path-to-stagekv-server> (got '${SERVER}')" >&2
    exit 2
fi
BIN=$(dirname "$SERVER")
DUMP=$BIN/stagekv-dump
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
PY=/usr/bin/python3
USERS=${SQL_TEST_USERS:-200}
for tool in redis-cli timeout psql createdb "$DUMP" "$PY"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not found" >&2; exit 2; }
done

PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/stagekv-sqlmig-XXXXXX)
chmod 755 "$WORK"
PID=""
CLUSTER_DIR=""
cleanup() {
    [[ -n "$PID" ]] && { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
    [[ -n "$CLUSTER_DIR" ]] && "$ROOT/scripts/pg-cluster.sh" stop "$CLUSTER_DIR" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1" >&2; }
check() { if [[ "$3" == "$2" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
finish() {
    echo "$PASS passed, $FAIL failed"
    [[ $FAIL -eq 0 ]] && exit 0
    tail -20 "$WORK/server.log" >&2
    exit 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_in_use "$PORT" && continue
    # the write guard is off (a protected config, fixed at start) so that the
    # last part can write documents the schema refuses, around the engine
    "$SERVER" --port "$PORT" --dir "$WORK/data" --domain-write-guard no >>"$WORK/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        [[ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    [[ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] && break
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=""
done
[[ -n "$PID" ]] || { bad "server did not start"; finish; }
cli() { timeout 20 redis-cli -p "$PORT" "$@" 2>&1; }

"$PY" "$ROOT/scripts/gen-platform.py" --port "$PORT" --users "$USERS" >/dev/null || bad "gen-platform.py failed"
# a title with what the dump line escapes (quote, backslash, control
# characters) and what it keeps (UTF-8): the export reads the lines itself
TRICKY_ID=$(cli TRACK.CREATE u00005 '{"title":"q\"b\\x\t\n\u00fc\ud83d\ude00\u0001/"}')
check "stagekv is consistent" "OK" "$(cli DOMAIN.CHECK)"

# ---- export ---------------------------------------------------------------------------
"$DUMP" -p "$PORT" --sql "$WORK/sql" 2>"$WORK/sql.err"
check "stagekv-dump --sql exits 0" "0" "$?"
check "no violation reported" "-- 0 documents violate the schema (listed above, not in the COPY files)" \
    "$(tail -1 "$WORK/sql/report.txt")"
"$DUMP" -p "$PORT" -o "$WORK/d.jsonl" || bad "plain dump failed"
chmod -R a+rX "$WORK/sql"

# stagekv's own figures per table, from the dump's documents
"$PY" - "$WORK/d.jsonl" >"$WORK/want.txt" <<'EOF'
import base64, json, re, sys
count = {}
def add(t, n=1): count[t] = count.get(t, 0) + n
ent = {"tracks": "tracks", "videos": "videos", "concerts": "concerts", "news": "news", "banners": "banner_ads",
       "promotion": "promotion_campaigns", "pitching": "pitching_submissions"}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "t" not in r: continue
    k = r["k"] if "k" in r else base64.b64decode(r["k64"]).decode("latin-1")
    if r["t"] == "meta":
        if k.startswith("paydedup:"): add("payment_dedup")
        if k.startswith("idemp:"): add("idempotency_keys")
        continue
    if r["db"] != 0: continue
    s = k.split(":")
    if s[0] == "users": add({"base": "users", "profile": "profiles", "subscription": "subscriptions"}[s[2]])
    elif s[0] == "settings": add("user_settings")
    elif s[0] == "coins" and len(s) == 4: add("coins_transactions")
    elif s[0] in ent: add(ent[s[0]])
    elif s[0] == "payments": add("payment_methods" if s[2] == "method" else "payment_transactions")
    elif s[0] == "analytics": add("track_analytics" if s[1] == "tracks" else "concert_analytics")
    elif s[0] == "donations": add("donations")
    elif s[0] == "notifications": add("notifications")
    elif s[0] == "conversations": add("conversations")
    elif s[0] == "messages": add("messages")
    elif s[0] == "email" and s[2] == "subscriptions": add("email_subscriptions", len(json.loads(r["v"])["lists"]))
    elif s[0] == "email": add("email_history")
    elif s[0] == "tickets": add("tickets" if s[2] == "details" else "ticket_messages")
for t in sorted(count): print(t, count[t])
EOF
check "every table has rows in stagekv" "26" "$(wc -l <"$WORK/want.txt")"

# ---- PostgreSQL ---------------------------------------------------------------------------
env_lines=$("$ROOT/scripts/pg-cluster.sh" start 2>"$WORK/pg.err") || { bad "cannot start PostgreSQL: $(cat "$WORK/pg.err")"; finish; }
eval "$env_lines"
CLUSTER_DIR=$STAGEKV_PG_DIR
PSQL=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d mig)
createdb mig || { bad "createdb"; finish; }
"${PSQL[@]}" -f "$ROOT/docs/schema.sql" >"$WORK/schema.log" 2>&1 || bad "schema.sql: $(tail -3 "$WORK/schema.log")"
"${PSQL[@]}" -f "$WORK/sql/load.sql" >"$WORK/load.log" 2>&1
check "load.sql loads in one transaction" "0" "$?"
grep -q "ERROR" "$WORK/load.log" && bad "load: $(grep ERROR "$WORK/load.log" | head -3)"
q() { psql -X -At --no-psqlrc -d mig -c "$1" 2>&1; }
rows_of() { # every table's rows, sorted; the load's transaction time (sk_now) as NOW
    local now
    now=$(psql -X -At --no-psqlrc -d "$1" -c "SELECT created_at::text FROM accounts WHERE id <> '_system' ORDER BY 1 DESC LIMIT 1")
    for t in $(psql -X -At --no-psqlrc -d "$1" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
        echo "== $t"
        psql -X -At --no-psqlrc -d "$1" -c "SELECT x::text FROM $t x ORDER BY 1" | sed "s/$now/NOW/g"
    done | grep -v '^(_system,'
}
rows_of mig >"$WORK/rows_bulk.txt" # before the checks below write

while read -r table n; do
    check "rows of $table" "$n" "$(q "SELECT count(*) FROM $table")"
done <"$WORK/want.txt"

# Σ amount = coins_balance = COINS.BALANCE, per user
q "SELECT b.user_id, b.balance, (SELECT coalesce(sum(amount), 0) FROM coins_transactions t WHERE t.user_id = b.user_id)
     FROM coins_balance b WHERE b.user_id <> '_system' ORDER BY b.user_id" >"$WORK/balances.txt"
cut -d'|' -f1 "$WORK/balances.txt" | sed 's/^/COINS.BALANCE /' | timeout 60 redis-cli -p "$PORT" >"$WORK/kv_bal.txt"
mismatch=$(paste -d'|' "$WORK/balances.txt" "$WORK/kv_bal.txt" | awk -F'|' '$2 != $3 || $2 != $4' | head -3)
check "users with a balance" "$USERS" "$(wc -l <"$WORK/balances.txt")"
check "Σ amount = coins_balance = COINS.BALANCE for every user" "" "$mismatch"
check "every ledger verifies" "$((USERS + 0))" "$(q "SELECT verify_all_coins()" | tr -d ' ')"

# derived tables and the engine's counters agree
check "dashboard counts = TRACK.COUNT" "$(cli TRACK.COUNT u00001)" "$(q "SELECT dashboard('u00001') ->> 'tracks'")"
check "unread notifications = NOTIFY.UNREAD" "$(cli NOTIFY.UNREAD u00002)" "$(q "SELECT unread_count('u00002')")"
check "unread messages = MSG.UNREAD" "$(cli MSG.UNREAD u00004)" "$(q "SELECT dashboard('u00004') ->> 'unread_messages'")"
check "promoted feed = CONCERT.PROMOTED" "$(cli CONCERT.PROMOTED LIMIT 1000 | wc -l)" "$(q "SELECT count(*) FROM promoted_concerts(NULL, 1000)")"
check "e-mail index" "u00007" "$(q "SELECT user_by_email('USER7@example.com')")"
check "new ids above the migrated ones" "t" "$(q "SELECT new_id() > (SELECT max(id) FROM coins_transactions)")"
# a trigger and a helper on migrated rows: spend_coins keeps balance = Σ amount
before=$(q "SELECT balance FROM coins_balance WHERE user_id = 'u00003'")
q "SET app.current_user_id = 'u00003'; SELECT spend_coins('u00003', 5, 'after migration', NULL)" >/dev/null
check "spend_coins on a migrated ledger" "$((before - 5))" "$(q "SELECT balance FROM coins_balance WHERE user_id = 'u00003'")"
check "the ledger still verifies" "t" "$(q "SELECT (SELECT sum(amount) FROM coins_transactions WHERE user_id = 'u00003') = balance FROM coins_balance WHERE user_id = 'u00003'")"

check "an escaped title arrives as stored" "t" \
    "$(q "SELECT data ->> 'title' = E'q\"b\\\\x\\t\\n\u00fc\U0001F600\\x01/' FROM tracks WHERE id = '$TRICKY_ID'")"

# the row triggers are on again after the bulk load: a new document is counted, a message kept
tracks_before=$(q "SELECT dashboard('u00001') ->> 'tracks'")
q "SELECT entity_create('track', 'u00001', '{\"title\": \"after\"}')" >/dev/null
check "a track after the load is counted" "$((tracks_before + 1))" "$(q "SELECT dashboard('u00001') ->> 'tracks'")"
check "its data holds its id" "t" "$(q "SELECT bool_and(data ->> 'id' = id) FROM tracks WHERE user_id = 'u00001'")"
unread_before=$(q "SELECT unread_messages('u00009')")
q "SELECT send_message('c-after', 'u00008', 'u00009', 'hi')" >/dev/null
check "a message after the load is counted" "$((unread_before + 1))" "$(q "SELECT unread_messages('u00009')")"

# the bulk path gives what the row triggers give, row for row: load.sql
# without its bulk steps (the triggers on during the COPYs) into a second
# database, then every table compared (the load's own time normalized)
sed '/^SET LOCAL session_replication_role = replica;/d; /^-- ---- the derived rows/,/^SET LOCAL session_replication_role = origin;/d' \
    "$WORK/sql/load.sql" >"$WORK/trig.sql"
chmod a+r "$WORK/trig.sql"
check "the trigger path has no bulk step" "0" "$(grep -c 'session_replication_role\|INSERT INTO coins_balance' "$WORK/trig.sql")"
createdb trig || bad "createdb trig"
psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d trig -f "$ROOT/docs/schema.sql" >/dev/null 2>&1 || bad "schema.sql into trig"
psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d trig -f "$WORK/trig.sql" >"$WORK/trig.log" 2>&1
check "the trigger path loads" "0" "$?"
rows_of trig >"$WORK/rows_trig.txt"
check "both paths hold rows" "t" "$([[ $(wc -l <"$WORK/rows_trig.txt") -gt 5000 ]] && echo t)"
check "bulk path = trigger path, row for row" "" "$(diff "$WORK/rows_trig.txt" "$WORK/rows_bulk.txt" | head -5)"

# a ledger row that disagrees with the running sum is refused by the bulk
# checks (the COPY itself accepts it), and nothing is loaded
mkdir "$WORK/sqlbad"
cp "$WORK/sql/"*.copy "$WORK/sqlbad/"
awk -F'\t' -v OFS='\t' 'NR == 2 { $4 = $4 + 1 } 1' "$WORK/sql/coins_transactions.copy" >"$WORK/sqlbad/coins_transactions.copy"
sed "s#$WORK/sql/#$WORK/sqlbad/#" "$WORK/sql/load.sql" >"$WORK/sqlbad/load.sql"
chmod -R a+rX "$WORK/sqlbad"
createdb bad || bad "createdb bad"
psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d bad -f "$ROOT/docs/schema.sql" >/dev/null 2>&1 || bad "schema.sql into bad"
psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d bad -f "$WORK/sqlbad/load.sql" >"$WORK/bad.log" 2>&1
check "a wrong balance_after fails the load" "3" "$?"
grep -q "INVALID ledger row .*balance_after" "$WORK/bad.log" && ok "with the ledger's error" || bad "error: $(grep ERROR "$WORK/bad.log")"
check "and loads nothing" "0" "$(psql -X -At --no-psqlrc -d bad -c "SELECT count(*) FROM users")"

# RLS: as u00001, u00002's messages and balance are invisible
asA() { psql -X -At --no-psqlrc -d mig -c "BEGIN; SET LOCAL ROLE stagekv_app; SET LOCAL app.current_user_id = 'u00001'; $1; COMMIT" 2>&1 | grep -v '^BEGIN\|^SET\|^COMMIT'; }
check "A sees own balance" "1" "$(asA "SELECT count(*) FROM coins_balance WHERE user_id = 'u00001'")"
check "A does not see B's balance" "0" "$(asA "SELECT count(*) FROM coins_balance WHERE user_id = 'u00002'")"
check "B has messages A is not part of" "t" "$(q "SELECT count(*) > 0 FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE 'u00002' IN (c.participant_a, c.participant_b) AND 'u00001' NOT IN (c.participant_a, c.participant_b)")"
check "A does not see them" "0" "$(asA "SELECT count(*) FROM messages m WHERE m.sender_id = 'u00002' AND m.recipient_id <> 'u00001'")"
check "A sees its own conversation's messages" "t" "$(asA "SELECT count(*) > 0 FROM messages")"

# ---- a document that violates the schema is reported, not dropped silently ------------------
cli SET tickets:0000000000000bad:details '{"id":"0000000000000bad","user_id":"u00001","status":"open","created_at":"2026-01-01T00:00:00.000Z"}' >/dev/null
cli SET coins:u00001:transactions:0000000000000bad '{"id":"0000000000000bad","amount":0,"balance_after":1,"reason":"x","created_at":"2026-01-01T00:00:00.000Z"}' >/dev/null
"$DUMP" -p "$PORT" --sql "$WORK/sql2" 2>"$WORK/sql2.err"
check "violations: exit 3" "3" "$?"
grep -q "tickets: key 'tickets:0000000000000bad:details'" "$WORK/sql2/report.txt" && ok "ticket without subject reported" || bad "ticket not reported: $(head -3 "$WORK/sql2/report.txt")"
grep -q "coins_transactions: key 'coins:u00001:transactions:0000000000000bad'" "$WORK/sql2/report.txt" && ok "zero amount reported" || bad "ledger row not reported"
grep -q "0000000000000bad" "$WORK/sql2.err" && ok "reported on stderr too" || bad "stderr: $(cat "$WORK/sql2.err")"
check "violations counted" "-- 2 documents violate the schema (listed above, not in the COPY files)" "$(tail -1 "$WORK/sql2/report.txt")"

finish
