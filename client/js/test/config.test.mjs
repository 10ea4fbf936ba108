// Connection configuration: unix socket, password, database, a shared
// ioredis instance, the default client (connect/close, environment).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Redis from "ioredis";
import {
  close,
  configFromEnv,
  connect,
  createClient,
  defaultClient,
  StagekvError,
  TransportError,
} from "@stagekv/client";
import * as kv from "@stagekv/client/kv";
import * as db from "@stagekv/client/db";
import { HOST, startServer, withTimeout } from "./server.mjs";

const T = 20000;
const PASSWORD = "s3cret-pw";

describe("connection config", () => {
  let srv;
  let sock;
  let sockDir;

  before(async () => {
    // A unix socket next to the data (the path must stay short).
    sockDir = fs.mkdtempSync("/tmp/skv-js-");
    sock = path.join(sockDir, "s.sock");
    srv = await startServer({ args: ["--unixsocket", sock, "--requirepass", PASSWORD] });
  });

  after(async () => {
    await close();
    await srv?.stop();
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  });

  it("path (unix socket) and password", async () => {
    const c = createClient({ path: sock, password: PASSWORD });
    try {
      await withTimeout(c.connect(), T, "connect by unix socket");
      assert.equal(await c.db.addCoins("unixu", 3, "x"), 3);
      const info = await c.command("CLIENT", ["INFO"]);
      assert.match(info, /addr=\/|addr=.*sock|laddr=/);
    } finally {
      await c.close();
    }
  });

  it("host, port and password; a wrong password is an error, never a result", async () => {
    const c = createClient({ host: HOST, port: srv.port, password: PASSWORD });
    try {
      await c.connect();
      assert.equal(await c.db.getBalance("unixu"), 3);
    } finally {
      await c.close();
    }
    const bad = createClient({ host: HOST, port: srv.port, password: "wrong", connectTimeout: 500,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    try {
      const e = await withTimeout(bad.db.getBalance("unixu").then(() => null, (x) => x), T, "wrong password");
      assert.ok(e instanceof StagekvError, `expected an error, got ${e}`);
    } finally {
      await bad.close();
    }
  });

  it("db selects the database of plain commands; KV.* and domain commands stay on 0", async () => {
    const c = createClient({ host: HOST, port: srv.port, password: PASSWORD, db: 3 });
    try {
      await c.connect();
      await c.command("SET", ["plain:db3", "x"]);
      assert.equal(await c.command("GET", ["plain:db3"]), "x");
      await c.kv.set("kvdb:1", { db: 0 });
      const zero = createClient({ host: HOST, port: srv.port, password: PASSWORD });
      try {
        assert.equal(await zero.command("GET", ["plain:db3"]), null);
        assert.deepEqual(await zero.kv.get("kvdb:1"), { db: 0 });
      } finally {
        await zero.close();
      }
    } finally {
      await c.close();
    }
  });

  it("a shared ioredis instance: used as is, left open by close()", async () => {
    const shared = new Redis({ host: HOST, port: srv.port, password: PASSWORD, lazyConnect: true,
      maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
    shared.on("error", () => {});
    try {
      const c = createClient({ redis: shared });
      assert.equal(c.ownsConnection, false);
      assert.equal(c.redis, shared);
      await c.connect();
      await c.kv.set("shared:1", [1]);
      assert.deepEqual(await c.kv.get("shared:1"), [1]);
      await c.close();
      assert.equal(shared.status, "ready");
      assert.equal(await shared.call("KV.GET", "shared:1"), "[1]");
    } finally {
      shared.disconnect();
    }
  });

  it("the default client: connect(config), the kv and db modules, close()", async () => {
    const client = await connect({ host: HOST, port: srv.port, password: PASSWORD });
    assert.equal(defaultClient(), client);
    await kv.set("def:1", { hello: "world" });
    assert.deepEqual(await kv.get("def:1"), { hello: "world" });
    const id = await db.createTrack("defu", { title: "t" });
    assert.equal((await db.getTrack("defu", id)).title, "t");
    await close();
    assert.equal(client.redis.status, "end");
  });

  it("the default client from the environment (STAGEKV_URL, STAGEKV_*)", async () => {
    assert.deepEqual(configFromEnv({ STAGEKV_URL: "redis://:p%40ss@10.1.2.3:7000/2" }),
      { host: "10.1.2.3", port: 7000, password: "p@ss", db: 2 });
    assert.deepEqual(configFromEnv({ STAGEKV_HOST: "h", STAGEKV_PORT: "1", STAGEKV_PATH: "/s", STAGEKV_PASSWORD: "p", STAGEKV_DB: "4" }),
      { host: "h", port: 1, path: "/s", password: "p", db: 4 });
    const saved = { ...process.env };
    process.env.STAGEKV_HOST = HOST;
    process.env.STAGEKV_PORT = String(srv.port);
    process.env.STAGEKV_PASSWORD = PASSWORD;
    try {
      await close();
      // First use connects by itself.
      assert.equal(await withTimeout(db.getBalance("unixu"), T, "env default"), 3);
    } finally {
      await close();
      for (const k of ["STAGEKV_HOST", "STAGEKV_PORT", "STAGEKV_PASSWORD"]) {
        if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
      }
    }
  });

  it("a closed client refuses further commands with a TransportError", async () => {
    const c = createClient({ host: HOST, port: srv.port, password: PASSWORD, connectTimeout: 5000,
      retry: { attempts: 1 } });
    await c.connect();
    await c.close();
    await assert.rejects(c.db.getBalance("x"), TransportError);
  });

  it("bad retry settings are refused", () => {
    assert.throws(() => createClient({ retry: { attempts: 0 } }), TypeError);
  });
});
