// The retry policy against a real server, through a fault-injecting proxy
// that lets the server execute a command and reply, then cuts the client's
// connection before the reply arrives (a lost reply).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Redis from "ioredis";
import { createClient, ConflictError, TransportError } from "@stagekv/client";
import { HOST, startServer, withTimeout } from "./server.mjs";
import { startFaultProxy } from "./fault-proxy.mjs";

const T = 20000; // bound of every awaited step

describe("retry policy", () => {
  let srv;
  let proxy;
  let client; // through the proxy
  let direct; // straight to the server, to check the state
  const retries = [];

  before(async () => {
    srv = await startServer();
    proxy = await startFaultProxy(srv.port);
    client = createClient({
      host: HOST,
      port: proxy.port,
      connectTimeout: 3000,
      commandTimeout: 5000,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
      onRetry: (info) => retries.push(info),
    });
    await withTimeout(client.connect(), T, "connect through the proxy");
    direct = createClient({ host: HOST, port: srv.port });
    await withTimeout(direct.connect(), T, "connect");
  });

  after(async () => {
    await client?.close();
    await direct?.close();
    await proxy?.close();
    await srv?.stop();
  });

  it("reads the server's command table: flags decide what is retried", async () => {
    assert.deepEqual(await client._commandInfo("COINS.SPEND"), { safe: false, idemp: true });
    assert.deepEqual(await client._commandInfo("KV.GET"), { safe: true, idemp: false });
    assert.deepEqual(await client._commandInfo("TRACK.UPDATE"), { safe: true, idemp: false });
    assert.deepEqual(await client._commandInfo("ANALYTICS.INCR"), { safe: false, idemp: false });
    assert.deepEqual(await client._commandInfo("NO.SUCH"), { safe: false, idemp: false });
    // COMMAND was sent once, at first use.
    assert.equal(proxy.count("COMMAND"), 1);
  });

  it("(a) spendCoins whose reply is lost is retried with the same IDEMP key and moves the coins once", async () => {
    await direct.db.addCoins("ra", 100, "topup");
    retries.length = 0;
    proxy.dropReplyTo("COINS.SPEND", 1);
    const balance = await withTimeout(client.db.spendCoins("ra", 30, "boost"), T, "spendCoins");
    assert.equal(balance, 70); // the first reply, replayed by the server
    assert.deepEqual(proxy.dropped, ["COINS.SPEND"]);
    assert.equal(proxy.count("COINS.SPEND"), 2, "sent twice: the lost one and the retry");
    assert.equal(retries.length, 1);
    assert.equal(retries[0].command, "COINS.SPEND");
    assert.equal(retries[0].attempt, 2);

    const history = await direct.db.getCoinHistory("ra");
    const spends = history.filter((r) => r.reason === "boost");
    assert.equal(spends.length, 1, JSON.stringify(history));
    assert.equal(spends[0].amount, -30);
    assert.equal(spends[0].balance_after, 70);
    assert.equal(await direct.db.getBalance("ra"), 70);
    assert.equal(await direct.db.verifyCoins("ra"), true);
  });

  it("the hazard is real: a blind resend without IDEMP through the same proxy spends twice", async () => {
    await direct.db.addCoins("rblind", 100, "topup");
    const raw = new Redis({ host: HOST, port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0,
      enableOfflineQueue: false, autoResendUnfulfilledCommands: false, retryStrategy: () => 50 });
    raw.on("error", () => {});
    try {
      await raw.connect();
      proxy.dropReplyTo("COINS.SPEND", 1);
      await assert.rejects(raw.call("COINS.SPEND", "rblind", "30", "boost"));
      await withTimeout(new Promise((r) => raw.once("ready", r)), T, "raw reconnect");
      assert.equal(await raw.call("COINS.SPEND", "rblind", "30", "boost"), 40);
    } finally {
      raw.disconnect();
    }
    assert.equal((await direct.db.getCoinHistory("rblind")).filter((r) => r.reason === "boost").length, 2);
  });

  it("(a') every idemp helper is made safe the same way: createTrack, sendDonation, sendMessage", async () => {
    proxy.dropReplyTo("TRACK.CREATE", 1);
    const id = await withTimeout(client.db.createTrack("rt", { title: "once" }), T, "createTrack");
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(await direct.db.countTracks("rt"), 1);
    assert.deepEqual((await direct.db.getUserTracks("rt")).map((t) => t.id), [id]);

    await direct.db.addCoins("rfan", 50, "topup");
    proxy.dropReplyTo("DONATION.SEND", 1);
    const did = await withTimeout(client.db.sendDonation("rfan", "rart", 20, { message: "bravo" }), T, "donation");
    assert.equal(await direct.db.getDonationTotal("rart"), 20);
    assert.deepEqual((await direct.db.getDonations("rart")).map((d) => d.id), [did]);
    assert.equal(await direct.db.getBalance("rfan"), 30);

    proxy.dropReplyTo("MSG.SEND", 1);
    await withTimeout(client.db.sendMessage("rconv", "rfan", "rart", "hello"), T, "sendMessage");
    assert.equal((await direct.db.getMessages("rconv")).length, 1);
    assert.equal(await direct.db.getUnreadMessageCount("rart"), 1);
  });

  it("retry_safe and readonly commands are retried as they are", async () => {
    const id = await direct.db.createTrack("rs", { title: "a", plays: 1 });
    retries.length = 0;
    proxy.dropReplyTo("TRACK.UPDATE", 1);
    const doc = await withTimeout(client.db.updateTrack("rs", id, { title: "b" }), T, "updateTrack");
    assert.equal(doc.title, "b");
    proxy.dropReplyTo("TRACK.LIST", 1);
    const list = await withTimeout(client.db.getUserTracks("rs"), T, "getUserTracks");
    assert.equal(list[0].title, "b");
    assert.deepEqual(retries.map((r) => r.command), ["TRACK.UPDATE", "TRACK.LIST"]);
  });

  it("(b) a command that is not retry-safe is sent once: TransportError, and the counter moved once", async () => {
    const before = proxy.count("ANALYTICS.INCR");
    retries.length = 0;
    proxy.dropReplyTo("ANALYTICS.INCR", 1);
    const err = await withTimeout(
      client.db.incrementAnalytics("tracks", "rtr1", "2026-03-01", "plays").then(() => null, (e) => e),
      T, "incrementAnalytics");
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${err}`);
    assert.equal(err.code, "TRANSPORT");
    assert.equal(err.command, "ANALYTICS.INCR");
    assert.equal(err.attempts, 1);
    assert.equal(err.retrySafe, false);
    assert.equal(retries.length, 0);
    assert.equal(proxy.count("ANALYTICS.INCR") - before, 1);
    assert.deepEqual(await direct.db.getAnalytics("tracks", "rtr1", "2026-03-01", "2026-03-01"),
      [{ date: "2026-03-01", plays: 1 }]);
    // The client is usable again afterwards.
    assert.equal(await withTimeout(client.db.incrementAnalytics("tracks", "rtr1", "2026-03-01", "plays"), T, "incr"), 2);
  });

  it("gives up after 3 attempts with a TransportError, never an empty result", async () => {
    proxy.dropReplyTo("TRACK.LIST", 3);
    retries.length = 0;
    const err = await withTimeout(client.db.getUserTracks("rs").then(() => null, (e) => e), T, "list");
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${err}`);
    assert.equal(err.attempts, 3);
    assert.equal(err.retrySafe, true);
    assert.equal(retries.length, 2);
  });

  it("the caller's idempotencyKey: a repeated call replays, another request with it is a ConflictError", async () => {
    await direct.db.addCoins("rk", 10, "topup");
    const key = "order-4711";
    assert.equal(await client.db.spendCoins("rk", 4, "shop", { idempotencyKey: key }), 6);
    assert.equal(await client.db.spendCoins("rk", 4, "shop", { idempotencyKey: key }), 6);
    assert.equal(await direct.db.getBalance("rk"), 6);
    await assert.rejects(client.db.spendCoins("rk", 5, "shop", { idempotencyKey: key }), ConflictError);
    // A key is 32 hex digits when the client makes it.
    const sent = [];
    const spy = createClient({ redis: client.redis });
    spy.redis = new Proxy(client.redis, {
      get(target, prop) {
        if (prop === "call") return (...a) => { sent.push(a); return target.call(...a); };
        const v = target[prop];
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await spy.db.addCoins("rk", 1, "x");
    const add = sent.find((a) => a[0] === "COINS.ADD");
    assert.equal(add[add.length - 2], "IDEMP");
    assert.match(add[add.length - 1], /^[0-9a-f]{32}$/);
  });

  it("(c) a server down for 2 s inside the retry window is ridden through", async () => {
    const seen = [];
    const c = createClient({
      onRetry: (info) => seen.push(info.command),
      host: HOST,
      port: srv.port,
      connectTimeout: 1800, // < 2 s: the first attempt fails; 3 attempts cover 5.4 s
      commandTimeout: 5000,
      retry: { attempts: 3, baseDelayMs: 500, maxDelayMs: 2000 },
    });
    try {
      await c.connect();
      await c.db.addCoins("rdown", 100, "topup");
      await srv.stop({ keepDir: true });
      const restarted = (async () => {
        await new Promise((r) => setTimeout(r, 2000));
        await srv.restart();
      })();
      const started = Date.now();
      const [balance, history] = await withTimeout(
        Promise.all([c.db.spendCoins("rdown", 25, "down"), c.db.getCoinHistory("rdown")]), T, "ride through");
      assert.ok(Date.now() - started >= 1900, "the calls were made while the server was down");
      await restarted;
      assert.equal(balance, 75);
      assert.ok(Array.isArray(history));
      const rows = (await c.db.getCoinHistory("rdown")).filter((r) => r.reason === "down");
      assert.equal(rows.length, 1);
      assert.equal(await c.db.getBalance("rdown"), 75);
      // 2 s > connectTimeout: the first attempts failed and were retried.
      assert.ok(seen.includes("COINS.SPEND") && seen.includes("COINS.HISTORY"), JSON.stringify(seen));
      assert.equal(await c.db.verifyCoins("rdown"), true);
    } finally {
      await c.close();
    }
  });
});
