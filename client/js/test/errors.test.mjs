// Typed errors and honest degradation: absent -> null / [], a server error
// reply -> its typed error (never retried), a dead connection ->
// TransportError (never an empty list).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createClient,
  ConflictError,
  InsufficientFundsError,
  InvalidError,
  NotFoundError,
  StagekvError,
  TransportError,
  errorFromReply,
} from "@stagekv/client";
import { HOST, freePort, startServer, withTimeout } from "./server.mjs";

const T = 20000;

describe("errors and degradation", () => {
  let srv;
  let c;
  let db;

  before(async () => {
    srv = await startServer();
    c = createClient({ host: HOST, port: srv.port });
    await withTimeout(c.connect(), T, "connect");
    db = c.db;
  });

  after(async () => {
    await c?.close();
    await srv?.stop();
  });

  it("absent things degrade: null for one document, [] for a list, 0 for a count", async () => {
    assert.equal(await db.getUser("ghost"), null);
    assert.equal(await db.getUserByEmail("ghost@example.com"), null);
    assert.equal(await db.getTrack("ghost", "0123456789abcdef"), null);
    assert.equal(await db.getTicket("0123456789abcdef"), null);
    assert.deepEqual(await db.getUserTracks("ghost"), []);
    assert.deepEqual(await db.getCoinHistory("ghost"), []);
    assert.deepEqual(await db.getNotifications("ghost"), []);
    assert.deepEqual(await db.getConversations("ghost"), []);
    assert.deepEqual(await db.getEmailSubscriptions("ghost"), []);
    assert.equal(await db.getBalance("ghost"), 0);
    assert.equal(await db.getUnreadCount("ghost"), 0);
    assert.equal(await c.kv.get("ghost:key"), null);
  });

  it("InsufficientFundsError names balance and need; nothing changes", async () => {
    await db.addCoins("poor", 10, "topup");
    const e = await db.spendCoins("poor", 25, "boost").then(() => null, (x) => x);
    assert.ok(e instanceof InsufficientFundsError);
    assert.ok(e instanceof StagekvError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "InsufficientFundsError");
    assert.equal(e.code, "INSUFFICIENT_FUNDS");
    assert.equal(e.command, "COINS.SPEND");
    assert.equal(e.balance, 10);
    assert.equal(e.need, 25);
    assert.equal(await db.getBalance("poor"), 10);
    assert.equal((await db.getCoinHistory("poor")).length, 1);
    await assert.rejects(db.createPromotionCampaign("poor", { n: 1 }, { cost: 11 }), InsufficientFundsError);
    assert.equal(await db.countPromotionCampaigns("poor"), 0, "a failed command writes nothing");
  });

  it("InvalidError for bad ids, amounts, dates, sections, documents and LIMIT", async () => {
    const cases = [
      () => db.createTrack("a:b", { t: 1 }),
      () => db.addCoins("u", 0, "zero"),
      () => db.addCoins("u", -5, "neg"),
      () => db.transferCoins("self", "self", 1, "me"),
      () => db.incrementAnalytics("tracks", "t1", "2026-02-30", "plays"),
      () => db.getSettings("u", "colours"),
      () => db.createTrack("u", ["not", "an", "object"]),
      () => db.getUserTracks("u", { limit: 0 }),
      () => db.getUserTracks("u", { limit: 1001 }),
      () => db.getUser("_system"),
    ];
    for (const f of cases) {
      const e = await f().then(() => null, (x) => x);
      assert.ok(e instanceof InvalidError, `${f}: ${e}`);
      assert.equal(e.code, "INVALID");
    }
  });

  it("NotFoundError for a write to something missing", async () => {
    await assert.rejects(db.updateTrack("nf", "0123456789abcdef", { t: 1 }), NotFoundError);
    await assert.rejects(db.replyToTicket("0123456789abcdef", "me", "hello"), NotFoundError);
    await assert.rejects(db.closeTicket("0123456789abcdef"), (e) => e instanceof NotFoundError && e.code === "NOTFOUND");
  });

  it("ConflictError for a taken uid or email and a payment recorded twice", async () => {
    await db.createUser("cu1", { email: "c@example.com", name: "C", role: "fan" });
    await assert.rejects(db.createUser("cu1", { email: "d@example.com", name: "D", role: "fan" }), ConflictError);
    await assert.rejects(db.createUser("cu2", { email: "C@EXAMPLE.com", name: "D", role: "fan" }), ConflictError);
    await db.recordPayment("cu1", { provider: "stripe", external_id: "evt_1" }, { credit: 5 });
    await assert.rejects(db.recordPayment("cu1", { provider: "stripe", external_id: "evt_1" }, { credit: 5 }),
      (e) => e instanceof ConflictError && e.code === "CONFLICT");
    assert.equal(await db.getBalance("cu1"), 5);
  });

  it("InvalidError for a closed ticket's reply", async () => {
    const t = await db.createTicket("tk", { subject: "x" });
    await db.closeTicket(t);
    await assert.rejects(db.replyToTicket(t, "me", "late"), InvalidError);
  });

  it("other error replies are a StagekvError with Redis's code word", async () => {
    const e = await c.command("KV.SET", ["users:x:base", "{}"]).then(() => null, (x) => x);
    assert.ok(e instanceof StagekvError);
    assert.equal(e.constructor, StagekvError);
    assert.equal(e.code, "ERR");
    assert.match(e.message, /owned by the domain engine/);
    const w = await c.command("KV.GET", []).then(() => null, (x) => x);
    assert.match(w.message, /wrong number of arguments/);
  });

  it("an error reply is the answer: never retried", async () => {
    const retries = [];
    const r = createClient({ host: HOST, port: srv.port, onRetry: (i) => retries.push(i) });
    try {
      await assert.rejects(r.db.getUserTracks("u", { limit: 0 }), InvalidError);
      await assert.rejects(r.db.spendCoins("nobody-rich", 1, "x"), InsufficientFundsError);
      assert.deepEqual(retries, []);
    } finally {
      await r.close();
    }
  });

  it("errorFromReply maps code words", () => {
    assert.ok(errorFromReply("INVALID id 'x'") instanceof InvalidError);
    assert.ok(errorFromReply("NOTFOUND x") instanceof NotFoundError);
    assert.ok(errorFromReply("CONFLICT x") instanceof ConflictError);
    assert.ok(errorFromReply("INSUFFICIENT_FUNDS balance 1, need 2") instanceof InsufficientFundsError);
    const e = errorFromReply("NOAUTH Authentication required.");
    assert.equal(e.constructor, StagekvError);
    assert.equal(e.code, "NOAUTH");
    assert.equal(errorFromReply("weird text").code, "ERR");
  });

  it("a server that is not there: a TransportError after 3 attempts, never an empty list", async () => {
    const port = await freePort(); // nothing listens there
    const retries = [];
    const dead = createClient({
      host: HOST, port, connectTimeout: 300, commandTimeout: 1000,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      onRetry: (i) => retries.push(i.command),
    });
    try {
      const e = await withTimeout(dead.db.getUserTracks("u1").then(() => null, (x) => x), T, "dead list");
      assert.ok(e instanceof TransportError, `expected a TransportError, got ${e}`);
      assert.ok(e instanceof StagekvError);
      assert.equal(e.code, "TRANSPORT");
      // The first use reads the command table: that read is what fails here.
      assert.equal(e.attempts, 3);
      assert.equal(e.retrySafe, true);
      assert.deepEqual(retries, ["COMMAND", "COMMAND"]);
      const e2 = await withTimeout(dead.kv.get("k").then(() => null, (x) => x), T, "dead get");
      assert.ok(e2 instanceof TransportError);
    } finally {
      await dead.close();
    }
  });

  it("a server that goes away after the table was read: reads fail with TransportError, not []", async () => {
    const s2 = await startServer();
    const cl = createClient({
      host: HOST, port: s2.port, connectTimeout: 300, commandTimeout: 1000,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    });
    try {
      await cl.connect();
      await cl.db.createTrack("gone", { t: 1 });
      assert.equal((await cl.db.getUserTracks("gone")).length, 1);
      await s2.stop();
      for (const f of [() => cl.db.getUserTracks("gone"), () => cl.db.getUser("gone"), () => cl.kv.getByPrefix("x:"),
        () => cl.db.getNotifications("gone")]) {
        const e = await withTimeout(f().then(() => null, (x) => x), T, "gone");
        assert.ok(e instanceof TransportError, `expected a TransportError, got ${e}`);
        assert.equal(e.attempts, 3);
      }
      // Not safe to repeat: one attempt only.
      const e = await withTimeout(cl.db.incrementAnalytics("tracks", "t", "2026-01-01", "plays").then(() => null, (x) => x), T, "incr");
      assert.ok(e instanceof TransportError);
      assert.equal(e.attempts, 1);
      assert.equal(e.retrySafe, false);
    } finally {
      await cl.close();
    }
  });
});
