#!/usr/bin/env bash
# Runs a real stagekv-server under valgrind memcheck through a mix of
# commands (strings, KV.*, domain, lists, sets, hashes, sorted sets, a
# served BLPOP, pub/sub, MULTI, expiry, SCAN, BGSAVE, a short
# redis-benchmark) and a clean SHUTDOWN: no memory error, no definite leak.
# A sanitizer build cannot run under valgrind: exit 77 (ctest: skipped).
set -uo pipefail
BIN=${1:?usage: $0 stagekv-server}
# (grep on the file itself: `nm | grep -q` under pipefail fails when grep
# exits early and nm gets SIGPIPE)
if grep -qa __asan_init "$BIN"; then
  echo "sanitizer build: valgrind does not apply"; exit 77
fi
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 1; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
DIR=$(mktemp -d /tmp/stagekv-vg-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
  "$BIN" --port "$PORT" --dir "$DIR/data" >"$DIR/vg.log" 2>&1 &
VPID=$!
for _ in $(seq 300); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
R="redis-cli -p $PORT"
fail=0
check() { local want=$1; shift; local got; got=$("$@" 2>&1); [ "$got" = "$want" ] || { echo "FAIL: $* -> $got (want $want)"; fail=1; }; }
check OK $R set a 1
check 2 $R incr a
check OK $R kv.set k '{"a":1}'
check '{"a":1,"b":2}' $R kv.patch k '{"b":2}'
id=$($R track.create u1 '{"t":"x"}'); [ ${#id} -eq 16 ] || { echo "FAIL: track.create -> $id"; fail=1; }
check 1 $R track.count u1
check 100 $R coins.add u1 100 r idemp k1
check 100 $R coins.add u1 100 r idemp k1
$R donation.send u1 u2 10 message hi >/dev/null
$R msg.send c1 u1 u2 hello >/dev/null
$R notify.list u2 >/dev/null
# the operations of issue 9 part 3
pid=$($R payment.record u1 '{"status":"succeeded"}' credit 5)
$R payment.get u1 "$pid" >/dev/null; $R payment.status u1 "$pid" refunded idemp r1 >/dev/null
$R payment.status u1 "$pid" pending >/dev/null
$R donation.sent u1 >/dev/null
mid=$($R msg.send c1 u1 u2 again); $R msg.edit c1 u1 "$mid" 'новое' >/dev/null
$R msg.conversation c1 u2 limit 5 >/dev/null; $R msg.delete c1 u1 "$mid" >/dev/null
nid=$($R notify.create u2 '{}'); $R notify.delete u2 "$nid" >/dev/null
tid=$($R ticket.open u1 '{}'); $R ticket.close "$tid" >/dev/null; $R ticket.reopen "$tid" >/dev/null
$R ticket.open.list >/dev/null; $R user.create u3 '{"email":"u3@x.io","role":"fan"}' >/dev/null
$R user.list >/dev/null; $R track.feed limit 2 >/dev/null; $R email.subscribe u1 'новости' >/dev/null
$R user.delete u1 >/dev/null
printf 'MULTI\nSET x 1\nINCR x\nEXEC\n' | $R >/dev/null
# pipelined domain writes (counters reread from the loop iteration's own
# writes) and newest-first pages read forwards and backwards
timeout 120 redis-benchmark -p "$PORT" -c 4 -n 400 -P 8 -q msg.send c9 u5 u6 hi >/dev/null 2>&1 || { echo "FAIL: msg.send burst"; fail=1; }
check 400 $R msg.unread u6
for i in $(seq 45); do echo "track.create u7 {}"; done | $R >/dev/null
check 3 bash -c "$R track.list u7 limit 3 | grep -c '\"id\"'"
check 45 bash -c "$R track.list u7 limit 100 | grep -c '\"id\"'"
$R set e 1 px 50 >/dev/null; sleep 0.3
$R scan 0 >/dev/null; $R keys '*' >/dev/null; $R info >/dev/null
# collections, blocking and pub/sub
check 3 $R rpush l a b c; check b $R lindex l 1; $R lrange l 0 -1 >/dev/null; $R lpop l 2 >/dev/null
check 2 $R sadd s a b; $R sinter s s >/dev/null; $R srandmember s 5 >/dev/null; $R sscan s 0 >/dev/null
check 2 $R hset h f 1 g 2; check 3 $R hincrby h f 2; $R hgetall h >/dev/null
check 2 $R zadd z 1 a 2.5 b; $R zrangebyscore z -inf +inf withscores >/dev/null; $R zpopmin z >/dev/null
$R expire h 100 >/dev/null; $R rename s s2 >/dev/null; $R copy z z2 >/dev/null; $R del z2 h >/dev/null
( $R blpop bl 5 >/dev/null ) & BPID=$!; sleep 0.5; $R rpush bl x >/dev/null; wait $BPID
$R blpop none 0.1 >/dev/null
$R config set notify-keyspace-events KEA >/dev/null
( timeout 5 $R subscribe ch >/dev/null 2>&1 ) & SPID=$!; sleep 0.5
$R publish ch hello >/dev/null; $R pubsub numsub ch >/dev/null; $R set ks 1 >/dev/null; wait $SPID
$R bgsave >/dev/null; sleep 1
timeout 120 redis-benchmark -p "$PORT" -c 10 -n 2000 -t set,get,incr,mset -q >/dev/null 2>&1 || { echo "FAIL: redis-benchmark"; fail=1; }
timeout 10 $R shutdown >/dev/null 2>&1
( sleep 60; kill -9 $VPID 2>/dev/null ) & WATCHDOG=$!
wait $VPID; code=$?
kill $WATCHDOG 2>/dev/null
grep -E "ERROR SUMMARY|definitely lost" "$DIR/vg.log"
if [ $code -ne 0 ]; then echo "FAIL: valgrind/server exit status $code"; sed -n '1,80p' "$DIR/vg.log"; fail=1; fi
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
