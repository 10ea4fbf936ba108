// ioredis end to end against stagekv-server, with Node's built-in test runner:
//
//   STAGEKV_SERVER_BIN=build/stagekv-server node --test tests/clients/
//
// The file starts its own server on a free loopback port with a temporary
// dir and stops it at the end (SIGTERM; the exit code must be 0). Every
// wait is bounded; all traffic goes to 127.0.0.1. The ioredis version is
// pinned in tests/clients/package.json (npm ci --prefix tests/clients).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Redis, { ReplyError } from "ioredis";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 20000;
const COMMAND_TIMEOUT_MS = 10000;

const SERVER_BIN = process.env.STAGEKV_SERVER_BIN;

let server = null; // { proc, port, dir, log, exit: Promise<{code, signal}> }
const clients = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One raw PING; resolves true on +PONG, false on anything else (bounded).
function pingOnce(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port });
    let buf = "";
    const done = (ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
    sock.on("error", () => done(false));
  });
}

function logTail(file, n = 40) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

async function startServer() {
  if (!SERVER_BIN) {
    throw new Error(
      "STAGEKV_SERVER_BIN is not set: point it at the stagekv-server binary " +
        "(e.g. STAGEKV_SERVER_BIN=build/stagekv-server node --test tests/clients/)",
    );
  }
  fs.accessSync(SERVER_BIN, fs.constants.X_OK);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagekv-ioredis-"));
  const log = path.join(dir, "server.log");
  let lastError = "";
  // The probed port may be taken before the server binds it: retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const fd = fs.openSync(log, "a");
    const proc = spawn(
      SERVER_BIN,
      ["--port", String(port), "--bind", HOST, "--dir", path.join(dir, `data-${port}`)],
      { stdio: ["ignore", fd, fd] },
    );
    fs.closeSync(fd);
    let exited = null;
    const exit = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        exited = { code, signal };
        resolve(exited);
      });
      proc.on("error", (err) => {
        exited = { code: null, signal: null, err };
        resolve(exited);
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && !exited) {
      if (await pingOnce(port)) {
        server = { proc, port, dir, log, exit };
        return;
      }
      await sleep(50);
    }
    lastError = exited
      ? `server exited (code ${exited.code}, signal ${exited.signal}${exited.err ? ", " + exited.err.message : ""})`
      : `no PONG within ${START_TIMEOUT_MS} ms`;
    if (!exited) {
      proc.kill("SIGKILL");
      await exit;
    }
  }
  throw new Error(`could not start ${SERVER_BIN}: ${lastError}\n${logTail(log)}`);
}

async function stopServer() {
  if (!server) return;
  const { proc, exit, dir, log } = server;
  server = null;
  proc.kill("SIGTERM");
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
  });
  const result = await Promise.race([exit, timeout]);
  clearTimeout(timer);
  if (result === null) {
    proc.kill("SIGKILL");
    await exit;
    assert.fail(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${logTail(log)}`);
  }
  assert.deepEqual(
    { code: result.code, signal: result.signal },
    { code: 0, signal: null },
    `server exit status after SIGTERM\n${logTail(log)}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

// An ioredis client on the test server; every one is closed in after().
// No reconnect loops beyond a few attempts, and every command is bounded.
function client(opts = {}) {
  const c = new Redis({
    host: HOST,
    port: server.port,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 20 ? null : Math.min(times * 50, 500)),
    ...opts,
  });
  c.on("error", () => {}); // surfaced through rejected commands instead
  clients.push(c);
  return c;
}

async function closeClients() {
  const all = clients.splice(0);
  await withTimeout(Promise.allSettled(all.map((c) => c.quit())), COMMAND_TIMEOUT_MS,
    "QUIT of the clients").catch(() => {});
  for (const c of all) c.disconnect();
}

// Resolves like promise, or rejects after ms; never leaves a timer behind.
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function waitReady(c) {
  if (c.status === "ready") return Promise.resolve();
  return withTimeout(new Promise((resolve) => c.once("ready", resolve)), START_TIMEOUT_MS,
    `client not ready (status ${c.status})`);
}

// Fields of this connection's line in CLIENT LIST.
async function myClientEntry(c) {
  const id = String(await c.client("ID"));
  const list = await c.client("LIST");
  const line = list.split("\n").find((l) => l.startsWith(`id=${id} `));
  assert.ok(line, `id=${id} not in CLIENT LIST:\n${list}`);
  return Object.fromEntries(line.trim().split(" ").map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  }));
}

describe("ioredis against stagekv", () => {
  let r;

  before(async () => {
    await startServer();
    r = client();
    await waitReady(r);
  });

  // Normally the last test has stopped the server already; this is for runs
  // that end early (a failed before(), a filtered run).
  after(async () => {
    await closeClients();
    await stopServer();
  });

  it("connects and answers PING / ECHO", async () => {
    assert.equal(r.status, "ready");
    assert.equal(await r.ping(), "PONG");
    assert.equal(await r.ping("hi"), "hi");
    assert.equal(await r.echo("hello"), "hello");
  });

  it("starts up with connectionName and db: 2 (CLIENT SETNAME, SELECT, INFO ready check)", async () => {
    const c = client({ connectionName: "ioredis-test", db: 2 });
    await waitReady(c);
    assert.equal(await c.client("GETNAME"), "ioredis-test");
    const me = await myClientEntry(c);
    assert.equal(me.name, "ioredis-test");
    assert.equal(me.db, "2");

    await r.del("io:db:k");
    assert.equal(await c.set("io:db:k", "in-db-2"), "OK");
    assert.equal(await c.get("io:db:k"), "in-db-2");
    assert.equal(await r.get("io:db:k"), null, "db 0 must not see db 2's key");
    const c2 = client({ db: 2 });
    assert.equal(await c2.get("io:db:k"), "in-db-2");
  });

  it("re-applies db and connection name after the server kills the connection", async () => {
    const c = client({ connectionName: "ioredis-reconnect", db: 2 });
    await waitReady(c);
    await c.set("io:re:k", "db2");
    const oldId = await c.client("ID");
    const reconnected = new Promise((resolve) => c.once("ready", resolve));
    assert.equal(await r.client("KILL", "ID", String(oldId)), 1);
    await withTimeout(reconnected, START_TIMEOUT_MS, "no reconnect after CLIENT KILL");
    assert.notEqual(await c.client("ID"), oldId);
    assert.equal(await c.get("io:re:k"), "db2");
    assert.equal(await c.client("GETNAME"), "ioredis-reconnect");
  });

  it("works without the INFO ready check and with lazyConnect", async () => {
    const c = client({ enableReadyCheck: false, lazyConnect: true });
    await c.connect();
    assert.equal(await c.ping(), "PONG");
  });

  it("SET / GET / INCR / MSET / MGET / DEL / EXISTS", async () => {
    assert.equal(await r.set("io:s:a", "alpha"), "OK");
    assert.equal(await r.get("io:s:a"), "alpha");
    assert.equal(await r.get("io:s:missing"), null);
    assert.equal(await r.set("io:s:a", "beta", "NX"), null);
    await r.del("io:s:n");
    assert.equal(await r.incr("io:s:n"), 1);
    assert.equal(await r.incrby("io:s:n", 41), 42);
    assert.equal(await r.mset({ "io:s:m1": "one", "io:s:m2": "two" }), "OK");
    assert.deepEqual(await r.mget("io:s:m1", "io:s:nope", "io:s:m2"), ["one", null, "two"]);
    assert.equal(await r.exists("io:s:m1", "io:s:m2", "io:s:nope"), 2);
    assert.equal(await r.del("io:s:m1", "io:s:m2", "io:s:nope"), 2);
    assert.equal(await r.exists("io:s:m1"), 0);
  });

  it("binary-safe values (Buffer in, getBuffer out)", async () => {
    const value = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from("\r\n\0end")]);
    assert.equal(await r.set(Buffer.from("io:bin:\0\xff", "latin1"), value), "OK");
    assert.ok((await r.getBuffer(Buffer.from("io:bin:\0\xff", "latin1"))).equals(value));
  });

  it("pipeline of 1000 commands", async () => {
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`io:p:${i}`, String(i));
    const res = await p.exec();
    assert.equal(res.length, 1000);
    assert.ok(res.every(([err, v]) => err === null && v === "OK"));

    const q = r.pipeline();
    for (let i = 0; i < 500; i++) {
      q.get(`io:p:${i}`);
      q.incr(`io:p:${500 + i}`);
    }
    const out = await q.exec();
    assert.equal(out.length, 1000);
    for (let i = 0; i < 500; i++) {
      assert.deepEqual(out[2 * i], [null, String(i)]);
      assert.deepEqual(out[2 * i + 1], [null, 501 + i]);
    }
  });

  it("pipeline with an error in the middle", async () => {
    const res = await r.pipeline().set("io:pe:a", "text").incr("io:pe:a").get("io:pe:a").exec();
    assert.deepEqual(res[0], [null, "OK"]);
    assert.ok(res[1][0] instanceof ReplyError, String(res[1][0]));
    assert.match(res[1][0].message, /not an integer/);
    assert.deepEqual(res[2], [null, "text"]);
  });

  it("multi / exec", async () => {
    await r.del("io:t:a");
    const res = await r.multi().set("io:t:a", "1").incr("io:t:a").get("io:t:a").del("io:t:none").exec();
    assert.deepEqual(res, [[null, "OK"], [null, 2], [null, "2"], [null, 0]]);

    await r.del("io:t:big");
    const m = r.multi();
    for (let i = 0; i < 1000; i++) m.incr("io:t:big");
    const big = await m.exec();
    assert.equal(big.length, 1000);
    assert.deepEqual(big.map(([, v]) => v), Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it("multi / exec: a runtime error does not roll back the other commands", async () => {
    await r.del("io:tr:a", "io:tr:b");
    const res = await r.multi().set("io:tr:a", "text").incr("io:tr:a").set("io:tr:b", "after").exec();
    assert.deepEqual(res[0], [null, "OK"]);
    assert.ok(res[1][0] instanceof ReplyError);
    assert.deepEqual(res[2], [null, "OK"]);
    assert.deepEqual(await r.mget("io:tr:a", "io:tr:b"), ["text", "after"]);
  });

  it("multi / exec: a queueing error aborts everything (EXECABORT)", async () => {
    await r.del("io:tq:a");
    await assert.rejects(
      r.multi().set("io:tq:a", "1").call("NO.SUCH.COMMAND", "x").exec(),
      (err) => err instanceof ReplyError && /EXECABORT/.test(err.message),
    );
    assert.equal(await r.get("io:tq:a"), null);
  });

  it("watch + multi succeeds when nobody touches the key", async () => {
    const a = client();
    await a.set("io:w:ok", "10");
    assert.equal(await a.watch("io:w:ok"), "OK");
    const v = Number(await a.get("io:w:ok"));
    const res = await a.multi().set("io:w:ok", String(v + 5)).get("io:w:ok").exec();
    assert.deepEqual(res, [[null, "OK"], [null, "15"]]);
  });

  it("watch + multi fails (exec resolves to null) when another client changes the key", async () => {
    const a = client();
    const b = client();
    await a.set("io:w:bad", "1");
    assert.equal(await a.watch("io:w:bad"), "OK");
    assert.equal(await a.get("io:w:bad"), "1");
    assert.equal(await b.set("io:w:bad", "changed"), "OK");
    const res = await a.multi().set("io:w:bad", "mine").exec();
    assert.equal(res, null);
    assert.equal(await a.get("io:w:bad"), "changed");
    // The failed EXEC also ended the WATCH: the next transaction goes through.
    assert.deepEqual(await a.multi().set("io:w:bad", "mine").exec(), [[null, "OK"]]);
  });

  it("scanStream over 500 keys with match and count: every key exactly once", async () => {
    const expected = new Set();
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) {
      const k = `io:scan:${String(i).padStart(3, "0")}`;
      expected.add(k);
      p.set(k, "v");
    }
    for (let i = 0; i < 50; i++) p.set(`io:noscan:${i}`, "v");
    await p.exec();
    for (const count of [7, 100, 1000]) {
      const seen = [];
      const stream = r.scanStream({ match: "io:scan:*", count });
      await withTimeout(new Promise((resolve, reject) => {
        stream.on("data", (keys) => seen.push(...keys));
        stream.on("end", resolve);
        stream.on("error", reject);
      }), 30000, "scanStream did not end");
      assert.equal(seen.length, 500, `count=${count}: ${seen.length} keys`);
      assert.deepEqual(new Set(seen), expected, `count=${count}`);
    }
  });

  it("expiry: EX / PX, TTL / PTTL, EXPIRE / PERSIST, PX 100 gone after 300 ms", async () => {
    assert.equal(await r.set("io:e:ex", "v", "EX", 100), "OK");
    const ttl = await r.ttl("io:e:ex");
    assert.ok(ttl >= 99 && ttl <= 100, `ttl ${ttl}`);
    assert.equal(await r.set("io:e:px", "v", "PX", 50000), "OK");
    const pttl = await r.pttl("io:e:px");
    assert.ok(pttl > 49000 && pttl <= 50000, `pttl ${pttl}`);
    await r.set("io:e:k", "v");
    assert.equal(await r.ttl("io:e:k"), -1);
    assert.equal(await r.ttl("io:e:missing"), -2);
    assert.equal(await r.expire("io:e:k", 50), 1);
    const t2 = await r.ttl("io:e:k");
    assert.ok(t2 >= 49 && t2 <= 50, `ttl ${t2}`);
    assert.equal(await r.persist("io:e:k"), 1);
    assert.equal(await r.ttl("io:e:k"), -1);
    assert.equal(await r.persist("io:e:k"), 0);

    assert.equal(await r.set("io:e:short", "v", "PX", 100), "OK");
    assert.equal(await r.get("io:e:short"), "v");
    await sleep(300);
    assert.equal(await r.get("io:e:short"), null);
    assert.equal(await r.exists("io:e:short"), 0);
  });

  it("KV.* through redis.call", async () => {
    const doc = '{"name": "Ada", "n": 12345678901234567, "tags": ["a"]}';
    assert.equal(await r.call("KV.SET", "io:kv:a", doc), "OK");
    assert.equal(await r.call("KV.GET", "io:kv:a"), doc);
    assert.equal(await r.call("KV.GET", "io:kv:missing"), null);
    assert.equal(await r.get("io:kv:a"), doc);
    for (let i = 1; i <= 4; i++) await r.call("KV.SET", `io:kvp:${i}`, `{"i":${i}}`);
    assert.deepEqual(
      await r.call("KV.GETBYPREFIX", "io:kvp:", "AFTER", "io:kvp:1", "LIMIT", "2"),
      ["io:kvp:2", '{"i":2}', "io:kvp:3", '{"i":3}'],
    );
    await assert.rejects(r.call("KV.SET", "io:kv:bad", "{nope"), (err) => err instanceof ReplyError && /invalid JSON/.test(err.message));
    assert.equal(await r.call("KV.GET", "io:kv:bad"), null);
  });

  it("errors: a rejected promise with a ReplyError", async () => {
    await assert.rejects(r.call("NO.SUCH.COMMAND", "a"), (err) => err instanceof ReplyError && /unknown command/.test(err.message));
    await r.set("io:err:s", "abc");
    await assert.rejects(r.incr("io:err:s"), (err) => err instanceof ReplyError && /not an integer/.test(err.message));
    await assert.rejects(r.call("GET"), (err) => err instanceof ReplyError && /wrong number of arguments/.test(err.message));
    assert.equal(await r.ping(), "PONG"); // still usable
  });

  it("20 clients x 250 INCR concurrently: exact count", async () => {
    await r.del("io:conc:n");
    const cs = Array.from({ length: 20 }, () => client());
    const values = (await Promise.all(cs.map(async (c) => {
      const got = [];
      for (let i = 0; i < 250; i++) got.push(await c.incr("io:conc:n"));
      return got;
    }))).flat();
    assert.equal(await r.get("io:conc:n"), "5000");
    assert.deepEqual(values.sort((x, y) => x - y), Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  // Last: a clean shutdown is part of the contract (SPEC §1), so it is a test.
  it("stops on SIGTERM with exit code 0", async () => {
    assert.ok(server, "server not running");
    await closeClients();
    await stopServer();
  });
});
