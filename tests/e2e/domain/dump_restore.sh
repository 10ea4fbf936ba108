#!/usr/bin/env bash
# stagekv-dump / stagekv-restore against real servers: a generated platform
# data set (every namespace) plus plain keys with TTLs, binary values and
# other databases is dumped while writes go on, restored into an empty
# server (derived data rebuilt), dumped again: byte-identical; COINS.VERIFY
# passes for every user, DOMAIN.CHECK is clean, IDEMP and payment dedup
# records survive. A truncated file, a damaged line and a lost line are
# refused with the line's number, having written nothing.
# Usage: bash tests/e2e/domain/dump_restore.sh <path-to-stagekv-server>
set -u

SERVER=${1:-}
if [[ -z "$SERVER" || ! -x "$SERVER" ]]; then
    echo "usage: $0 <path-to-stagekv-server> (got '${SERVER}')" >&2
    exit 2
fi
BIN=$(dirname "$SERVER")
DUMP=$BIN/stagekv-dump
RESTORE=$BIN/stagekv-restore
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
PY=/usr/bin/python3
for tool in redis-cli timeout "$DUMP" "$RESTORE" "$PY"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found" >&2
        exit 2
    fi
done

PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/stagekv-dump-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1" >&2; }
check() { if [[ "$3" == "$2" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
finish() {
    echo "$PASS passed, $FAIL failed"
    if [[ $FAIL -ne 0 ]]; then
        for l in "$WORK"/*.log; do echo "== $l" >&2; tail -20 "$l" >&2; done
        trap - EXIT
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        echo "kept $WORK" >&2
        exit 1
    fi
    exit 0
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME: a server on a free port; sets PORT_<NAME>
start() {
    local name=$1 port pid
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        "$SERVER" --port "$port" --dir "$WORK/$name" >>"$WORK/$name.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 200); do
            [[ "$(timeout 2 redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if [[ "$(timeout 2 redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]]; then
            PIDS+=("$pid")
            printf -v "PORT_$name" '%s' "$port"
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    bad "server $name did not start"
    finish
}

start A
start B
start C
cliA() { timeout 20 redis-cli -p "$PORT_A" "$@" 2>&1; }
cliB() { timeout 20 redis-cli -p "$PORT_B" "$@" 2>&1; }
cliC() { timeout 20 redis-cli -p "$PORT_C" "$@" 2>&1; }

# ---- the data set -------------------------------------------------------------
"$PY" "$ROOT/scripts/gen-platform.py" --port "$PORT_A" --users 60 >/dev/null || bad "gen-platform.py failed"
cliA SET plain:ttl "lives a while" EX 100000 >/dev/null
cliA SET plain:nottl "forever" >/dev/null
printf 'bin\x00\xff\x01' | timeout 10 redis-cli -p "$PORT_A" -x SET plain:binary >/dev/null
cliA -n 3 SET other:db "in db 3" >/dev/null
cliA SET "plain:ключ" "значение" >/dev/null
check "source is consistent" "OK" "$(cliA DOMAIN.CHECK)"

# ---- a dump while writes go on ----------------------------------------------------
( for i in $(seq 1 400); do
      echo "COINS.ADD u00001 1 live"
      echo "SET live:$i x"
  done | timeout 60 redis-cli -p "$PORT_A" >/dev/null 2>&1 ) &
WRITER=$!
"$DUMP" -p "$PORT_A" -o "$WORK/d1.jsonl" --batch 50 2>"$WORK/dump.err"
check "stagekv-dump exits 0" "0" "$?"
wait "$WRITER"
check "no progress on a non-terminal stderr" "" "$(cat "$WORK/dump.err")"
check "header line" '{"format":"stagekv-dump","version":1,"prefix":null}' "$(head -1 "$WORK/d1.jsonl")"
records=$(($(wc -l <"$WORK/d1.jsonl") - 2))
check "trailer counts the records" "{\"end\":true,\"records\":$records}" "$(tail -1 "$WORK/d1.jsonl")"
grep -q '"k":"plain:ttl","v":"lives a while","exp":' "$WORK/d1.jsonl" && ok "TTL carried as absolute expiry" || bad "no exp for plain:ttl"
grep -q '"k":"plain:binary","v64":"YmluAP8B"' "$WORK/d1.jsonl" && ok "binary value in base64" || bad "binary value: $(grep plain:binary "$WORK/d1.jsonl")"
grep -q '"db":3,"k":"other:db"' "$WORK/d1.jsonl" && ok "database 3 dumped" || bad "db 3 missing"
for kind in '"k":"hwm"' '"k":"idemp:' '"k64":"aWRlbXB0' '"k":"paydedup:' ; do
    grep -q "$kind" "$WORK/d1.jsonl" && ok "meta record $kind" || bad "no meta record $kind"
done
if grep -q '"k":"ulist:\|"k":"count:' "$WORK/d1.jsonl"; then bad "derived entries in the dump"; else ok "no derived entries"; fi

# ---- damaged files are refused, nothing written ---------------------------------------
total=$(wc -l <"$WORK/d1.jsonl")
head -c $(($(stat -c %s "$WORK/d1.jsonl") - 30)) "$WORK/d1.jsonl" >"$WORK/trunc.jsonl"
out=$("$RESTORE" -p "$PORT_C" "$WORK/trunc.jsonl" 2>&1)
check "truncated file: exit 1" "1" "$?"
# the cut falls inside the last record (the trailer is shorter than 30 bytes)
[[ "$out" == *"line $((total - 1)): truncated"* ]] && ok "truncated file: names line $((total - 1))" || bad "truncated: '$out'"
head -n $((total - 1)) "$WORK/d1.jsonl" >"$WORK/notrailer.jsonl"
out=$("$RESTORE" -p "$PORT_C" <"$WORK/notrailer.jsonl" 2>&1)
[[ "$out" == *"line $((total - 1)): truncated (no trailer"* ]] && ok "file cut at a line end: refused" || bad "no trailer: '$out'"
# one character of line 7's value changed: JSON still valid, the checksum not
awk 'NR==7 { sub(/"v":"./, "\"v\":\"#") } { print }' "$WORK/d1.jsonl" >"$WORK/bad.jsonl"
out=$("$RESTORE" -p "$PORT_C" "$WORK/bad.jsonl" 2>&1)
check "damaged line: exit 1" "1" "$?"
[[ "$out" == *"line 7: checksum mismatch"* ]] && ok "damaged line: names line 7" || bad "damaged: '$out'"
sed '5d' "$WORK/d1.jsonl" >"$WORK/lost.jsonl"
out=$("$RESTORE" -p "$PORT_C" "$WORK/lost.jsonl" 2>&1)
[[ "$out" == *"trailer does not match"* ]] && ok "lost line: refused" || bad "lost line: '$out'"
check "nothing written into C" "0" "$(cliC DBSIZE)"

# ---- restore, then dump again ---------------------------------------------------------
"$RESTORE" -p "$PORT_B" "$WORK/d1.jsonl" 2>"$WORK/restore.err"
check "stagekv-restore exits 0" "0" "$?"
check "restore quiet on a non-terminal" "" "$(cat "$WORK/restore.err")"
check "rebuild done" "done" "$(cliB DOMAIN.REBUILD STATUS | sed -n 2p)"
"$DUMP" -p "$PORT_B" -o "$WORK/d2.jsonl"
if cmp -s "$WORK/d1.jsonl" "$WORK/d2.jsonl"; then ok "dump -> restore -> dump is byte-identical"
else bad "dumps differ: $(diff "$WORK/d1.jsonl" "$WORK/d2.jsonl" | head -5)"; fi
check "restored server is consistent" "OK" "$(cliB DOMAIN.CHECK)"
verified=0
for u in $(grep -o '"k":"coins:[^:]*:balance"' "$WORK/d1.jsonl" | cut -d: -f3 | sort -u); do
    r=$(cliB COINS.VERIFY "$u")
    if [[ "$r" == "OK" ]]; then verified=$((verified + 1)); else bad "COINS.VERIFY $u: $r"; fi
done
[[ $verified -ge 60 ]] && ok "COINS.VERIFY passes for all $verified users" || bad "only $verified users verified"
check "balances equal" "$(grep -o '"k":"coins:u00001:balance","v":"[0-9]*"' "$WORK/d1.jsonl" | grep -o '[0-9]*"$' | tr -d '"')" "$(cliB COINS.BALANCE u00001)"
check "DBSIZE of db 0 equal" "$(grep -c '"db":0,' "$WORK/d1.jsonl")" "$(cliB DBSIZE)"
check "TTL kept" "1" "$(t=$(cliB TTL plain:ttl); [[ $t -gt 90000 && $t -le 100000 ]] && echo 1 || echo "$t")"
check "IDEMP record replays (no second credit)" "$(cliB COINS.BALANCE u00002)" "$(cliB COINS.ADD u00002 1002 topup IDEMP topup-2 >/dev/null; cliB COINS.BALANCE u00002)"
check "payment dedup survives" "CONFLICT" "$(cliB PAYMENT.RECORD u00009 '{"provider":"stripe","external_id":"ch_3","amount":1}' | cut -d' ' -f1)"
hwm=$(grep -o '"k":"hwm","v64":"[^"]*"' "$WORK/d1.jsonl" | cut -d'"' -f8 | base64 -d | od -An -tx1 | tr -d ' \n')
newid=$(cliB TRACK.CREATE u00001 '{"t":"after"}')
[[ "$newid" > "$hwm" ]] && ok "new ids above the restored high-water mark" || bad "id $newid <= hwm $hwm"
check "user lists rebuilt" "$(cliA USER.LIST LIMIT 1000 | wc -l)" "$(cliB USER.LIST LIMIT 1000 | wc -l)"
check "feeds rebuilt" "$(cliA CONCERT.PROMOTED LIMIT 1000 | wc -l)" "$(cliB CONCERT.PROMOTED LIMIT 1000 | wc -l)"
check "conversations rebuilt" "$(cliA MSG.CONVERSATIONS u00005 | wc -l)" "$(cliB MSG.CONVERSATIONS u00005 | wc -l)"
check "unread messages rebuilt" "$(cliA MSG.UNREAD u00005)" "$(cliB MSG.UNREAD u00005)"
out=$("$RESTORE" -p "$PORT_B" "$WORK/d1.jsonl" 2>&1)
[[ "$out" == *"not empty"* || "$out" == *"holds keys"* ]] && ok "restore into a non-empty server refused" || bad "non-empty: '$out'"

# ---- record lines in another shape than the server's ------------------------------------
# The tool and the server read the server's own line shape without a JSON
# parser; any other line goes through jansson: valid ones restore, invalid
# ones (with a right checksum) are refused by the tool's check (nothing
# written) and by DUMP.RESTORE itself.
"$PY" - "$WORK" <<'PYEOF'
import sys
w = sys.argv[1]
def fnv(b):
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h
def rec(body):
    b = body.encode("latin-1")
    return b + (',"c":"%08x"}' % fnv(b)).encode()
head = b'{"format":"stagekv-dump","version":1,"prefix":null}\n'
good = [
    '{"t":"kv","db":0,"k":"shape:spaces", "v":"a b"',
    '{"db":1,"t":"kv","v":"x","k":"shape:order"',
    '{"t":"kv","db":0,"k":"shape:uni","v":"\\u00e9\\ud83d\\ude00"',
    '{"t":"kv","db":0,"k":"shape:esc","v":"q\\"b\\\\\\/\\n\\u0001"',
    '{"t":"kv","db":0,"k":"shape:exp","v":"e","exp":4102444800000',
]
with open(w + "/shapes.jsonl", "wb") as f:
    f.write(head + b"".join(rec(g) + b"\n" for g in good) + b'{"end":true,"records":%d}\n' % len(good))
bad = {
    "ctl": '{"t":"kv","db":0,"k":"shape:ctl","v":"a\tb"',
    "utf8": '{"t":"kv","db":0,"k":"shape:utf8","v":"\xff"',
    "db16": '{"t":"kv","db":16,"k":"shape:db16","v":"x"',
    "db01": '{"t":"kv","db":01,"k":"shape:db01","v":"x"',
    "exp0": '{"t":"kv","db":0,"k":"shape:exp0","v":"x","exp":0',
    "esc": '{"t":"kv","db":0,"k":"shape:esc2","v":"\\x"',
    "b64": '{"t":"kv","db":0,"k":"shape:b64","v64":"abc"',
}
for name, body in bad.items():
    with open("%s/bad-%s.line" % (w, name), "wb") as f:
        f.write(rec(body) + b"\n")
    with open("%s/bad-%s.jsonl" % (w, name), "wb") as f:
        f.write(head + rec(body) + b'\n{"end":true,"records":1}\n')
PYEOF
for b in ctl utf8 db16 db01 exp0 esc b64; do
    out=$("$RESTORE" -p "$PORT_C" "$WORK/bad-$b.jsonl" 2>&1)
    [[ $? == 1 && "$out" == *"line 2: "*"nothing was written"* ]] && ok "tool refuses a bad line ($b)" || bad "tool, $b: '$out'"
done
check "nothing written into C by a bad shape" "0" "$(cliC DBSIZE)"
"$RESTORE" -p "$PORT_C" "$WORK/shapes.jsonl" 2>"$WORK/shapes.err"
check "lines in other shapes restore" "0" "$?"
check "spaces" "a b" "$(cliC GET shape:spaces)"
check "another field order, db 1" "x" "$(cliC -n 1 GET shape:order)"
check "non-ASCII escapes" "$(printf '\xc3\xa9\xf0\x9f\x98\x80')" "$(cliC GET shape:uni)"
check "escapes of the server's shape" "$(printf 'q"b\\/\n\x01\n' | od -An -tx1)" "$(cliC GET shape:esc | od -An -tx1)"
check "an expiry" "1" "$(t=$(cliC TTL shape:exp); [[ $t -gt 1000000 ]] && echo 1 || echo "$t")"
for b in ctl utf8 db16 db01 exp0 esc b64; do
    out=$(timeout 20 redis-cli -p "$PORT_C" -x DUMP.RESTORE <"$WORK/bad-$b.line" 2>&1)
    [[ "$out" == "INVALID record 1: INVALID dump record"* ]] && ok "DUMP.RESTORE refuses a bad line ($b)" || bad "server, $b: '$out'"
done
check "and writes none of them" "" "$(cliC KEYS 'shape:[cudeb]*[0-9l2]' | grep -v '^shape:uni$')"

# ---- a prefix dump ------------------------------------------------------------------------
"$DUMP" -p "$PORT_A" --prefix tracks: -o "$WORK/p.jsonl"
check "prefix header" '{"format":"stagekv-dump","version":1,"prefix":"tracks:"}' "$(head -1 "$WORK/p.jsonl")"
check "prefix dump holds only its keys" "0" "$(sed '1d;$d' "$WORK/p.jsonl" | grep -vc '"k":"tracks:')"
check "prefix dump has every track" "$(cliA KV.COUNT tracks:)" "$(($(wc -l <"$WORK/p.jsonl") - 2))"
"$DUMP" -p 1 -o "$WORK/x.jsonl" 2>/dev/null
check "unreachable server: exit 1" "1" "$?"
[[ ! -e "$WORK/x.jsonl" ]] && ok "no partial file left" || bad "partial file left"

finish
