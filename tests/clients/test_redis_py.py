#!/usr/bin/python3
"""redis-py (Debian's python3-redis 4.3.4) end to end against stagekv-server.

Run with Debian's interpreter and the stdlib unittest module:

    /usr/bin/python3 tests/clients/test_redis_py.py <path-to-stagekv-server> [-v]

The server binary may also come from the environment (STAGEKV_SERVER_BIN).
The module starts its own server on a free loopback port with a temporary
dir, and stops it at the end with SIGTERM, asserting exit status 0.
Every wait is bounded; all traffic goes to 127.0.0.1.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import redis
from redis.exceptions import ResponseError, WatchError

HOST = "127.0.0.1"
SOCKET_TIMEOUT = 10  # seconds: no reply may take longer than this
START_TIMEOUT = 15   # seconds to wait for the server to answer PING
STOP_TIMEOUT = 20    # seconds to wait for exit after SIGTERM

SERVER_BIN = os.environ.get("STAGEKV_SERVER_BIN")
SERVER = None  # the running server: dict with proc, port, dir, log


def _take_server_arg():
    """argv[1] (the server binary) is ours; leave the rest to unittest."""
    global SERVER_BIN
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        SERVER_BIN = sys.argv.pop(1)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _log_tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def setUpModule():
    global SERVER
    if not SERVER_BIN:
        raise RuntimeError(
            "stagekv-server path missing: pass it as argv[1] or set STAGEKV_SERVER_BIN")
    if not os.access(SERVER_BIN, os.X_OK):
        raise RuntimeError("not an executable: %r" % SERVER_BIN)
    tmp = tempfile.mkdtemp(prefix="stagekv-redispy-")
    log_path = os.path.join(tmp, "server.log")
    last_error = None
    # The port is free when probed; another process may still take it before
    # the server binds, so retry with a new port a few times.
    for _attempt in range(5):
        port = _free_port()
        data_dir = os.path.join(tmp, "data-%d" % port)
        log = open(log_path, "ab")
        proc = subprocess.Popen(
            [SERVER_BIN, "--port", str(port), "--bind", HOST, "--dir", data_dir],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = "server exited with %s" % proc.returncode
                break
            try:
                c = redis.Redis(host=HOST, port=port, socket_timeout=1,
                                socket_connect_timeout=1)
                ok = c.ping()
                c.close()
                if ok:
                    SERVER = {"proc": proc, "port": port, "dir": tmp, "log": log_path}
                    return
            except redis.exceptions.ConnectionError as e:
                last_error = str(e)
            time.sleep(0.05)
        else:
            last_error = "no PONG within %ds" % START_TIMEOUT
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    raise RuntimeError("could not start %s: %s\n%s" % (SERVER_BIN, last_error, _log_tail(log_path)))


def tearDownModule():
    global SERVER
    if SERVER is None:
        return
    proc = SERVER["proc"]
    try:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
            raise AssertionError("server did not exit within %ds of SIGTERM\n%s"
                                 % (STOP_TIMEOUT, _log_tail(SERVER["log"])))
        if rc != 0:
            raise AssertionError("server exit status after SIGTERM: %s (expected 0)\n%s"
                                 % (rc, _log_tail(SERVER["log"])))
        shutil.rmtree(SERVER["dir"], ignore_errors=True)
    finally:
        SERVER = None


def client(**kw):
    """A redis-py client on the test server (decoded str replies by default)."""
    kw.setdefault("decode_responses", True)
    kw.setdefault("socket_timeout", SOCKET_TIMEOUT)
    kw.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
    return redis.Redis(host=HOST, port=SERVER["port"], **kw)


class StagekvTestCase(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self._extra = []

    def tearDown(self):
        for c in self._extra:
            c.close()
        self.r.close()

    def other(self, **kw):
        c = client(**kw)
        self._extra.append(c)
        return c


class TestConnection(StagekvTestCase):
    def test_ping(self):
        self.assertIs(self.r.ping(), True)
        self.assertEqual(self.r.echo("hello"), "hello")

    def test_binary_safe_values(self):
        raw = self.other(decode_responses=False)
        value = bytes(range(256)) + b"\r\n\x00end"
        self.assertTrue(raw.set(b"pyt:bin:\x00\xff", value))
        self.assertEqual(raw.get(b"pyt:bin:\x00\xff"), value)

    def test_info_parses(self):
        info = self.r.info()
        self.assertIsInstance(info, dict)
        self.assertIn("redis_version", info)
        self.assertIn("connected_clients", self.r.info("clients"))


class TestStringsAndKeys(StagekvTestCase):
    def test_set_get(self):
        self.assertIs(self.r.set("pyt:s:a", "alpha"), True)
        self.assertEqual(self.r.get("pyt:s:a"), "alpha")
        self.assertIsNone(self.r.get("pyt:s:missing"))
        self.assertIsNone(self.r.set("pyt:s:a", "beta", nx=True))
        self.assertEqual(self.r.get("pyt:s:a"), "alpha")
        self.assertIs(self.r.set("pyt:s:a", "beta", xx=True), True)
        self.assertEqual(self.r.get("pyt:s:a"), "beta")

    def test_incr(self):
        self.r.delete("pyt:s:n")
        self.assertEqual(self.r.incr("pyt:s:n"), 1)
        self.assertEqual(self.r.incr("pyt:s:n", 41), 42)
        self.assertEqual(self.r.decr("pyt:s:n"), 41)
        self.assertEqual(self.r.incrbyfloat("pyt:s:n", 0.5), 41.5)

    def test_mset_mget(self):
        self.assertIs(self.r.mset({"pyt:m:1": "one", "pyt:m:2": "two", "pyt:m:3": "3"}), True)
        self.assertEqual(self.r.mget("pyt:m:1", "pyt:m:missing", "pyt:m:2", "pyt:m:3"),
                         ["one", None, "two", "3"])
        self.assertEqual(self.r.mget(["pyt:m:3", "pyt:m:1"]), ["3", "one"])

    def test_set_options_get_keepttl_getex_type(self):
        self.r.set("pyt:so:a", "old", ex=100)
        self.assertEqual(self.r.set("pyt:so:a", "new", get=True, keepttl=True), "old")
        self.assertTrue(99 <= self.r.ttl("pyt:so:a") <= 100)
        self.assertEqual(self.r.getex("pyt:so:a", persist=True), "new")
        self.assertEqual(self.r.ttl("pyt:so:a"), -1)
        self.assertEqual(self.r.type("pyt:so:a"), "string")
        self.assertEqual(self.r.type("pyt:so:missing"), "none")
        self.assertEqual(self.r.getdel("pyt:so:a"), "new")
        self.assertIsNone(self.r.get("pyt:so:a"))

    def test_del_exists(self):
        self.r.mset({"pyt:d:1": "x", "pyt:d:2": "y"})
        self.assertEqual(self.r.exists("pyt:d:1", "pyt:d:2", "pyt:d:missing"), 2)
        self.assertEqual(self.r.exists("pyt:d:1", "pyt:d:1"), 2)  # counted per argument
        self.assertEqual(self.r.delete("pyt:d:1", "pyt:d:2", "pyt:d:missing"), 2)
        self.assertEqual(self.r.exists("pyt:d:1"), 0)
        self.assertEqual(self.r.delete("pyt:d:1"), 0)


class TestPipelines(StagekvTestCase):
    def test_pipeline_1000_without_transaction(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("pyt:p:%d" % i, str(i))
        results = pipe.execute()
        self.assertEqual(len(results), 1000)
        self.assertTrue(all(x is True for x in results))

        pipe = self.r.pipeline(transaction=False)
        for i in range(500):
            pipe.get("pyt:p:%d" % i)
            pipe.incr("pyt:p:%d" % (500 + i))
        results = pipe.execute()
        self.assertEqual(len(results), 1000)
        self.assertEqual(results[0::2], [str(i) for i in range(500)])
        self.assertEqual(results[1::2], [501 + i for i in range(500)])

    def test_pipeline_error_in_the_middle(self):
        pipe = self.r.pipeline(transaction=False)
        pipe.set("pyt:pe:a", "not-a-number").incr("pyt:pe:a").get("pyt:pe:a")
        res = pipe.execute(raise_on_error=False)
        self.assertIs(res[0], True)
        self.assertIsInstance(res[1], ResponseError)
        self.assertEqual(res[2], "not-a-number")

    def test_pipeline_transaction_default(self):
        with self.r.pipeline() as pipe:  # transaction=True: MULTI ... EXEC
            pipe.set("pyt:t:a", "1").incr("pyt:t:a").get("pyt:t:a").delete("pyt:t:b")
            self.assertEqual(pipe.execute(), [True, 2, "2", 0])
        with self.r.pipeline(transaction=True) as pipe:
            for i in range(1000):
                pipe.incr("pyt:t:big")
            res = pipe.execute()
        self.assertEqual(res, list(range(1, 1001)))

    def test_transaction_runtime_error_keeps_other_commands(self):
        # Redis: an error while executing one queued command does not roll
        # back the others.
        self.r.delete("pyt:tr:a", "pyt:tr:b")
        with self.r.pipeline() as pipe:
            pipe.set("pyt:tr:a", "text").incr("pyt:tr:a").set("pyt:tr:b", "after")
            res = pipe.execute(raise_on_error=False)
        self.assertIs(res[0], True)
        self.assertIsInstance(res[1], ResponseError)
        self.assertIs(res[2], True)
        self.assertEqual(self.r.mget("pyt:tr:a", "pyt:tr:b"), ["text", "after"])

    def test_transaction_queue_error_aborts_all(self):
        # Redis: an error while queueing (unknown command) makes EXEC fail
        # with EXECABORT and nothing is applied.
        self.r.delete("pyt:tq:a")
        with self.r.pipeline() as pipe:
            pipe.set("pyt:tq:a", "1")
            pipe.execute_command("NO.SUCH.COMMAND", "x")
            with self.assertRaises(ResponseError):
                pipe.execute()
        self.assertIsNone(self.r.get("pyt:tq:a"))


class TestWatch(StagekvTestCase):
    def test_watch_succeeds(self):
        self.r.set("pyt:w:ok", "10")
        with self.r.pipeline() as pipe:
            pipe.watch("pyt:w:ok")
            value = int(pipe.get("pyt:w:ok"))  # immediate mode after WATCH
            pipe.multi()
            pipe.set("pyt:w:ok", value + 5)
            pipe.get("pyt:w:ok")
            self.assertEqual(pipe.execute(), [True, "15"])
        self.assertEqual(self.r.get("pyt:w:ok"), "15")

    def test_watch_fails_when_another_connection_writes(self):
        self.r.set("pyt:w:bad", "1")
        other = self.other()
        with self.r.pipeline() as pipe:
            pipe.watch("pyt:w:bad")
            self.assertEqual(pipe.get("pyt:w:bad"), "1")
            self.assertIs(other.set("pyt:w:bad", "changed"), True)
            pipe.multi()
            pipe.set("pyt:w:bad", "mine")
            with self.assertRaises(WatchError):
                pipe.execute()
        self.assertEqual(self.r.get("pyt:w:bad"), "changed")

    def test_watch_fails_on_delete_by_another_connection(self):
        self.r.set("pyt:w:del", "1")
        other = self.other()
        with self.r.pipeline() as pipe:
            pipe.watch("pyt:w:del")
            other.delete("pyt:w:del")
            pipe.multi()
            pipe.set("pyt:w:del", "mine")
            with self.assertRaises(WatchError):
                pipe.execute()
        self.assertIsNone(self.r.get("pyt:w:del"))

    def test_transaction_helper_retries_after_watch_error(self):
        self.r.set("pyt:w:helper", "100")
        other = self.other()
        calls = []

        def add_one(pipe):
            calls.append(1)
            current = int(pipe.get("pyt:w:helper"))
            if len(calls) == 1:
                other.incrby("pyt:w:helper", 1000)  # makes the first EXEC fail
            pipe.multi()
            pipe.set("pyt:w:helper", current + 1)

        res = self.r.transaction(add_one, "pyt:w:helper")
        self.assertEqual(res, [True])
        self.assertEqual(len(calls), 2)
        self.assertEqual(self.r.get("pyt:w:helper"), "1101")

    def test_transaction_helper_value_from_callable(self):
        self.r.set("pyt:w:cb", "7")

        def double(pipe):
            v = int(pipe.get("pyt:w:cb"))
            pipe.multi()
            pipe.set("pyt:w:cb", v * 2)
            return v * 2

        self.assertEqual(self.r.transaction(double, "pyt:w:cb", value_from_callable=True), 14)
        self.assertEqual(self.r.get("pyt:w:cb"), "14")


class TestScan(StagekvTestCase):
    def test_scan_iter_match_count(self):
        expected = {"pyt:scan:%03d" % i for i in range(500)}
        pipe = self.r.pipeline(transaction=False)
        for k in expected:
            pipe.set(k, "v")
        for i in range(50):
            pipe.set("pyt:noscan:%d" % i, "v")  # must not match
        pipe.execute()
        for count in (7, 100, 1000):
            seen = list(self.r.scan_iter(match="pyt:scan:*", count=count))
            self.assertEqual(len(seen), 500, "count=%d: %d keys returned" % (count, len(seen)))
            self.assertEqual(set(seen), expected, "count=%d" % count)
        typed = list(self.r.scan_iter(match="pyt:scan:*", count=50, _type="string"))
        self.assertEqual(sorted(typed), sorted(expected))
        self.assertEqual(list(self.r.scan_iter(match="pyt:scan:*", count=50, _type="hash")), [])

    def test_scan_cursor_by_hand(self):
        for i in range(30):
            self.r.set("pyt:scanh:%d" % i, i)
        cursor, seen, rounds = 0, [], 0
        while True:
            cursor, keys = self.r.scan(cursor=cursor, match="pyt:scanh:*", count=4)
            seen.extend(keys)
            rounds += 1
            self.assertLess(rounds, 10000)
            if cursor == 0:
                break
        self.assertEqual(sorted(seen), sorted("pyt:scanh:%d" % i for i in range(30)))


class TestExpiry(StagekvTestCase):
    def test_set_ex_px_ttl_pttl(self):
        self.assertIs(self.r.set("pyt:e:ex", "v", ex=100), True)
        self.assertTrue(99 <= self.r.ttl("pyt:e:ex") <= 100)
        self.assertIs(self.r.set("pyt:e:px", "v", px=50000), True)
        pttl = self.r.pttl("pyt:e:px")
        self.assertTrue(49000 < pttl <= 50000, pttl)
        self.r.set("pyt:e:none", "v")
        self.assertEqual(self.r.ttl("pyt:e:none"), -1)
        self.assertEqual(self.r.pttl("pyt:e:none"), -1)
        self.assertEqual(self.r.ttl("pyt:e:missing"), -2)
        self.assertEqual(self.r.pttl("pyt:e:missing"), -2)

    def test_expire_persist(self):
        self.r.set("pyt:e:k", "v")
        self.assertIs(self.r.expire("pyt:e:k", 50), True)
        self.assertTrue(49 <= self.r.ttl("pyt:e:k") <= 50)
        self.assertIs(self.r.persist("pyt:e:k"), True)
        self.assertEqual(self.r.ttl("pyt:e:k"), -1)
        self.assertIs(self.r.persist("pyt:e:k"), False)
        self.assertIs(self.r.expire("pyt:e:missing", 50), False)
        self.assertIs(self.r.pexpire("pyt:e:k", 20000), True)
        self.assertTrue(19000 < self.r.pttl("pyt:e:k") <= 20000)

    def test_px_100_gone_after_300ms(self):
        self.assertIs(self.r.set("pyt:e:short", "v", px=100), True)
        self.assertEqual(self.r.get("pyt:e:short"), "v")
        time.sleep(0.3)
        self.assertIsNone(self.r.get("pyt:e:short"))
        self.assertEqual(self.r.exists("pyt:e:short"), 0)
        self.assertEqual(self.r.ttl("pyt:e:short"), -2)


class TestKV(StagekvTestCase):
    def test_kv_set_get(self):
        doc = '{"name": "Ada", "tags": ["a", "b"], "n": 12345678901234567}'
        self.assertEqual(self.r.execute_command("KV.SET", "pyt:kv:a", doc), "OK")
        self.assertEqual(self.r.execute_command("KV.GET", "pyt:kv:a"), doc)  # exact bytes
        self.assertIsNone(self.r.execute_command("KV.GET", "pyt:kv:missing"))
        self.assertEqual(self.r.get("pyt:kv:a"), doc)  # one keyspace
        self.assertEqual(json.loads(self.r.execute_command("KV.GET", "pyt:kv:a"))["n"],
                         12345678901234567)

    def test_kv_getbyprefix_after_limit(self):
        for i in range(1, 6):
            self.r.execute_command("KV.SET", "pyt:kvp:%d" % i, '{"i":%d}' % i)
        self.r.execute_command("KV.SET", "pyt:kvq:1", '{"other":true}')
        everything = self.r.execute_command("KV.GETBYPREFIX", "pyt:kvp:")
        self.assertEqual(everything, sum((["pyt:kvp:%d" % i, '{"i":%d}' % i]
                                          for i in range(1, 6)), []))
        page = self.r.execute_command("KV.GETBYPREFIX", "pyt:kvp:", "AFTER", "pyt:kvp:2",
                                      "LIMIT", 2)
        self.assertEqual(page, ["pyt:kvp:3", '{"i":3}', "pyt:kvp:4", '{"i":4}'])
        tail = self.r.execute_command("KV.GETBYPREFIX", "pyt:kvp:", "AFTER", "pyt:kvp:4",
                                      "LIMIT", 10)
        self.assertEqual(tail, ["pyt:kvp:5", '{"i":5}'])
        self.assertEqual(self.r.execute_command("KV.GETBYPREFIX", "pyt:kvp:",
                                                "AFTER", "pyt:kvp:5"), [])

    def test_kv_nx_xx_mget_count_del(self):
        self.r.delete("pyt:kvn:a", "pyt:kvn:b")
        self.assertIsNone(self.r.execute_command("KV.SET", "pyt:kvn:a", "1", "XX"))
        self.assertEqual(self.r.execute_command("KV.SET", "pyt:kvn:a", "1", "NX"), "OK")
        self.assertIsNone(self.r.execute_command("KV.SET", "pyt:kvn:a", "2", "NX"))
        self.assertEqual(self.r.execute_command("KV.SET", "pyt:kvn:b", '"two"', "XX"), None)
        self.assertEqual(self.r.execute_command("KV.MSET", "pyt:kvn:b", '"two"', "pyt:kvn:c",
                                                "[3]"), "OK")
        self.assertEqual(self.r.execute_command("KV.MGET", "pyt:kvn:a", "pyt:kvn:x", "pyt:kvn:b"),
                         ["1", None, '"two"'])
        self.assertEqual(self.r.execute_command("KV.COUNT", "pyt:kvn:"), 3)
        self.assertEqual(self.r.execute_command("KV.DEL", "pyt:kvn:a"), 1)
        self.assertEqual(self.r.execute_command("KV.DEL", "pyt:kvn:a"), 0)
        self.assertEqual(self.r.execute_command("KV.COUNT", "pyt:kvn:"), 2)

    def test_kv_in_a_transaction(self):
        with self.r.pipeline() as pipe:
            pipe.execute_command("KV.SET", "pyt:kvt:a", '{"v":1}')
            pipe.execute_command("KV.PATCH", "pyt:kvt:a", '{"w":2}')
            pipe.execute_command("KV.GET", "pyt:kvt:a")
            res = pipe.execute()
        self.assertEqual(res[0], "OK")
        self.assertEqual(json.loads(res[1]), {"v": 1, "w": 2})
        self.assertEqual(json.loads(res[2]), {"v": 1, "w": 2})

    def test_kv_invalid_json_is_a_response_error(self):
        with self.assertRaisesRegex(ResponseError, "invalid JSON"):
            self.r.execute_command("KV.SET", "pyt:kv:bad", '{"unterminated": ')
        self.assertIsNone(self.r.execute_command("KV.GET", "pyt:kv:bad"))


class TestErrors(StagekvTestCase):
    def test_incr_non_integer(self):
        self.r.set("pyt:err:s", "abc")
        with self.assertRaisesRegex(ResponseError, "not an integer"):
            self.r.incr("pyt:err:s")
        self.assertEqual(self.r.get("pyt:err:s"), "abc")

    def test_domain_write_guard(self):
        with self.assertRaisesRegex(ResponseError, "owned by the domain engine"):
            self.r.set("users:pyt-guard:base", "{}")
        with self.assertRaisesRegex(ResponseError, "owned by the domain engine"):
            self.r.execute_command("KV.SET", "coins:pyt-guard:balance", "1000000")
        self.assertIsNone(self.r.get("coins:pyt-guard:balance"))

    def test_unknown_command(self):
        with self.assertRaisesRegex(ResponseError, "unknown command"):
            self.r.execute_command("NO.SUCH.COMMAND")
        self.assertIs(self.r.ping(), True)  # the connection is still usable

    def test_wrong_arity(self):
        with self.assertRaisesRegex(ResponseError, "wrong number of arguments"):
            self.r.execute_command("GET")


class TestClientCommands(StagekvTestCase):
    def test_setname_getname_id_list(self):
        c = self.other(single_connection_client=True)
        self.assertIsNone(c.client_getname())
        self.assertIs(c.client_setname("pyt-conn"), True)
        self.assertEqual(c.client_getname(), "pyt-conn")
        cid = c.client_id()
        self.assertIsInstance(cid, int)
        listed = c.client_list()
        self.assertIsInstance(listed, list)
        mine = [e for e in listed if e.get("id") == str(cid)]
        self.assertEqual(len(mine), 1, listed)
        self.assertEqual(mine[0]["name"], "pyt-conn")
        self.assertEqual(mine[0]["db"], "0")
        self.assertNotEqual(self.r.client_id(), cid)

    def test_client_name_option_on_connect(self):
        c = self.other(client_name="pyt-auto")  # redis-py sends CLIENT SETNAME on connect
        self.assertEqual(c.client_getname(), "pyt-auto")
        names = [e.get("name") for e in self.r.client_list()]
        self.assertIn("pyt-auto", names)


class TestSelect(StagekvTestCase):
    def test_select_and_db_option_isolation(self):
        self.r.set("pyt:sel:k", "zero")
        self.r.delete("pyt:sel:only3")
        c3 = self.other(single_connection_client=True)
        self.assertIs(c3.select(3), True)
        c3.set("pyt:sel:k", "three")
        c3.set("pyt:sel:only3", "x")
        self.assertEqual(c3.get("pyt:sel:k"), "three")

        fresh3 = self.other(db=3)  # a new connection: redis-py sends SELECT 3
        self.assertEqual(fresh3.get("pyt:sel:k"), "three")
        self.assertEqual(fresh3.get("pyt:sel:only3"), "x")
        fresh3_single = self.other(db=3, single_connection_client=True)
        cid3 = str(fresh3_single.client_id())
        self.assertEqual([e["db"] for e in fresh3_single.client_list() if e["id"] == cid3],
                         ["3"])

        fresh0 = self.other(db=0)
        self.assertEqual(fresh0.get("pyt:sel:k"), "zero")
        self.assertIsNone(fresh0.get("pyt:sel:only3"))
        self.assertEqual(fresh0.exists("pyt:sel:only3"), 0)
        self.assertEqual(self.r.get("pyt:sel:k"), "zero")

        self.assertIs(fresh3.flushdb(), True)  # flushes db 3 only
        self.assertEqual(fresh3.dbsize(), 0)
        self.assertEqual(fresh0.get("pyt:sel:k"), "zero")

    def test_select_out_of_range(self):
        c = self.other(single_connection_client=True)
        with self.assertRaises(ResponseError):
            c.select(16)
        self.assertIs(c.ping(), True)


class TestConnectionPool(unittest.TestCase):
    def test_20_threads_incr(self):
        threads_n, per_thread = 20, 250
        pool = redis.ConnectionPool(host=HOST, port=SERVER["port"], max_connections=20,
                                    socket_timeout=SOCKET_TIMEOUT,
                                    socket_connect_timeout=SOCKET_TIMEOUT)
        r = redis.Redis(connection_pool=pool)
        r.delete("pyt:pool:n")
        values, errors = [], []
        lock = threading.Lock()
        barrier = threading.Barrier(threads_n, timeout=30)

        def work():
            try:
                barrier.wait()
                got = [r.incr("pyt:pool:n") for _ in range(per_thread)]
                with lock:
                    values.extend(got)
            except Exception as e:  # reported below
                with lock:
                    errors.append(repr(e))

        threads = [threading.Thread(target=work) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertFalse(any(t.is_alive() for t in threads), "threads still running after 60 s")
        self.assertEqual(errors, [])
        total = threads_n * per_thread
        self.assertEqual(int(r.get("pyt:pool:n")), total)
        # Every INCR got its own value: no lost or repeated increments.
        self.assertEqual(sorted(values), list(range(1, total + 1)))
        self.assertGreater(len(pool._available_connections) + len(pool._in_use_connections), 1)
        pool.disconnect()


if __name__ == "__main__":
    _take_server_arg()
    unittest.main()
