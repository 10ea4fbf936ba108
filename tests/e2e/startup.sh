#!/usr/bin/env bash
# Process-level behaviour of stagekv-server (SPEC §1): --help/--version,
# config file + flags, protected mode, bad options, the unix socket,
# SIGINT/SIGTERM exit 0, and the data dir created when missing.
set -uo pipefail
BIN=${1:?usage: $0 stagekv-server}
T=$(mktemp -d /tmp/stagekv-start-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL: $*"; fail=$((fail+1)); }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 200); do redis-cli "$@" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

grep -q "fsync" <<<"$("$BIN" --help)" && ok || bad "--help lists options"
grep -q "stagekv-server" <<<"$("$BIN" --version)" && ok || bad "--version"

# protected mode: a non-loopback bind without requirepass is refused at start
out=$("$BIN" --bind 0.0.0.0 --port "$(free_port)" --dir "$T/p" 2>&1); code=$?
[ $code -ne 0 ] && echo "$out" | grep -q "protected mode" && ok || bad "protected mode: exit $code: $out"
[ ! -e "$T/p/CURRENT" ] && ok || bad "protected mode opened the database"

# unknown option and bad value: clear message, exit 1
out=$("$BIN" --no-such-option 1 2>&1); [ $? -eq 1 ] && echo "$out" | grep -q "unknown option" && ok || bad "unknown option: $out"
out=$("$BIN" --fsync sometimes 2>&1); [ $? -eq 1 ] && echo "$out" | grep -q "invalid" && ok || bad "bad fsync value: $out"

# block-cache-size bounds the key and value caches too: caches that leave the
# block cache less than a quarter of it are refused before the database opens
# (an auto size only takes what set ones leave, so both are set here)
out=$("$BIN" --port "$(free_port)" --dir "$T/bc" --block-cache-size 64mb --key-cache-size 40mb --value-cache-size 16mb 2>&1); code=$?
[ $code -ne 0 ] && echo "$out" | grep -q "quarter of block-cache-size" && ok || bad "caches over the budget: exit $code: $out"
[ ! -e "$T/bc/CURRENT" ] && ok || bad "caches over the budget opened the database"
# left at auto, the key and value caches scale down with a small budget: a
# quarter and a half, so the block cache keeps a quarter
P=$(free_port)
"$BIN" --port "$P" --dir "$T/bc2" --block-cache-size 32mb >"$T/logbc" 2>&1 &
SPID=$!
if wait_up -p "$P"; then
  cap=$(redis-cli -p "$P" info memory | tr -d '\r' | sed -n 's/^rocksdb_block_cache_capacity://p')
  [ "$cap" = 8388608 ] && ok || bad "block cache of a 32mb budget: '$cap'"
  [ "$(redis-cli -p "$P" config get key-cache-size | tail -1)" = 8388608 ] && ok || bad "auto key cache of a 32mb budget"
  [ "$(redis-cli -p "$P" config get value-cache-size | tail -1)" = 16777216 ] && ok || bad "auto value cache of a 32mb budget"
  kill -TERM $SPID; wait $SPID
else
  bad "a small block-cache-size alone did not start: $(cat "$T/logbc")"
fi

# config file (redis.conf syntax) + a flag that overrides it, and a missing dir created
P=$(free_port)
cat >"$T/stagekv.conf" <<CONF
# comment
port 1
dir "$T/fromconf/data"
fsync always
maxclients 77
CONF
"$BIN" "$T/stagekv.conf" --port "$P" --unixsocket "$T/s.sock" >"$T/log1" 2>&1 &
SPID=$!
if wait_up -p "$P"; then
  ok
  [ "$(redis-cli -p "$P" config get maxclients | tail -1)" = 77 ] && ok || bad "config file maxclients"
  [ "$(redis-cli -p "$P" config get fsync | tail -1)" = always ] && ok || bad "config file fsync"
  [ -d "$T/fromconf/data" ] && ok || bad "dir created"
  [ "$(redis-cli -s "$T/s.sock" set via unix)" = OK ] && ok || bad "unix socket set"
  [ "$(redis-cli -p "$P" get via)" = unix ] && ok || bad "unix socket and tcp see the same data"
  grep -q "immutable" <<<"$(redis-cli -p "$P" config set dir /tmp 2>&1)" && ok || bad "CONFIG SET dir refused"
  kill -INT $SPID; wait $SPID; code=$?
  [ $code -eq 0 ] && ok || bad "SIGINT exit status $code"
  grep -q "WAL synced" "$T/log1" && ok || bad "shutdown log line"
else
  bad "server with config file did not start: $(cat "$T/log1")"
fi

# a second server on the same dir while the first runs: refused (RocksDB lock)
P2=$(free_port)
"$BIN" --port "$P2" --dir "$T/d" >"$T/log2" 2>&1 &
SPID=$!
wait_up -p "$P2" && ok || bad "server 2 start"
out=$("$BIN" --port "$(free_port)" --dir "$T/d" 2>&1); [ $? -ne 0 ] && ok || bad "second server on a locked dir started: $out"
kill -TERM $SPID; wait $SPID; code=$?
[ $code -eq 0 ] && ok || bad "SIGTERM exit status $code"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
