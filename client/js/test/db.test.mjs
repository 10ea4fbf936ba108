// Every db helper against a real server, with its reply shape. A recorder
// wraps the helpers and the client: at the end every helper must have been
// called, and every domain command of the server's table (SPEC §4) must
// have been sent by some helper.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createClient, ENTITIES } from "@stagekv/client";
import * as dbModule from "@stagekv/client/db";
import { createDb } from "@stagekv/client/db";
import { HOST, startServer, withTimeout } from "./server.mjs";

const ID = /^[0-9a-f]{16}$/;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DOMAIN_FAMILIES = /^(track|video|concert|news|banner|promo|pitch|paymethod|user|coins|donation|payment|msg|notify|email|ticket|settings|analytics|dashboard)\./;

describe("db helpers", () => {
  let srv;
  let client;
  let db; // the helpers, recorded
  const called = new Set();
  const sent = new Set();

  before(async () => {
    srv = await startServer();
    client = createClient({ host: HOST, port: srv.port });
    await withTimeout(client.connect(), 20000, "connect");
    const recorder = {
      command: (name, args, opts) => {
        sent.add(name.toLowerCase());
        return client.command(name, args, opts);
      },
    };
    const raw = createDb(recorder);
    db = Object.fromEntries(Object.entries(raw).map(([k, f]) => [k, (...a) => { called.add(k); return f(...a); }]));
  });

  after(async () => {
    await client?.close();
    await srv?.stop();
  });

  function checkDoc(doc, uid) {
    assert.match(doc.id, ID);
    if (uid) assert.equal(doc.user_id, uid);
    assert.match(doc.created_at, TS);
  }

  for (const e of ENTITIES) {
    const { one: One, many: Many } = e;
    it(`${e.ns}: create${One} get${One} getUser${Many} update${One} delete${One} count${Many}`, async () => {
      const uid = `ent-${e.ns.toLowerCase()}`;
      const a = await db[`create${One}`](uid, { title: "first", status: "draft", id: "ignored" });
      const b = await db[`create${One}`](uid, { title: "second", n: 2 });
      assert.match(a, ID);
      assert.ok(b > a, "ids increase");
      const doc = await db[`get${One}`](uid, a);
      checkDoc(doc, uid);
      assert.equal(doc.id, a);
      assert.equal(doc.title, "first");
      assert.equal(await db[`get${One}`](uid, "0000000000000000"), null);
      const list = await db[`getUser${Many}`](uid);
      assert.deepEqual(list.map((d) => d.id), [b, a], "newest first");
      assert.deepEqual((await db[`getUser${Many}`](uid, { limit: 1 })).map((d) => d.id), [b]);
      assert.deepEqual((await db[`getUser${Many}`](uid, { after: b })).map((d) => d.id), [a]);
      assert.deepEqual(await db[`getUser${Many}`]("nobody-here"), []);
      const up = await db[`update${One}`](uid, a, { title: "renamed", status: null });
      assert.equal(up.title, "renamed");
      assert.equal("status" in up, false, "merge patch: null removes");
      assert.match(up.updated_at, TS);
      assert.equal(await db[`count${Many}`](uid), 2);
      assert.equal(await db[`delete${One}`](uid, a), true);
      assert.equal(await db[`delete${One}`](uid, a), false);
      assert.equal(await db[`count${Many}`](uid), 1);
      assert.equal(await db[`count${Many}`]("nobody-here"), 0);
    });
  }

  it("CONCERT and NEWS: promote, unpromote, getPromoted (public feed, newest first)", async () => {
    for (const [One, Many] of [["Concert", "Concerts"], ["News", "News"]]) {
      const c1 = await db[`create${One}`]("pa", { title: "one" });
      const c2 = await db[`create${One}`]("pb", { title: "two" });
      assert.equal(await db[`promote${One}`]("pa", c1), true);
      assert.equal(await db[`promote${One}`]("pa", c1), false);
      assert.equal(await db[`promote${One}`]("pa", c2), false, "not pa's");
      assert.equal(await db[`promote${One}`]("pb", c2), true);
      const feed = await db[`getPromoted${Many}`]();
      assert.deepEqual(feed.map((d) => d.id), [c2, c1]);
      assert.equal(feed[0].title, "two");
      assert.deepEqual((await db[`getPromoted${Many}`]({ limit: 1 })).map((d) => d.id), [c2]);
      assert.equal(await db[`unpromote${One}`]("pb", c2), true);
      assert.equal(await db[`unpromote${One}`]("pb", c2), false);
      assert.deepEqual((await db[`getPromoted${Many}`]()).map((d) => d.id), [c1]);
    }
  });

  it("getActiveBanners follows status", async () => {
    const b1 = await db.createBanner("ban", { status: "active", image: "a.png" });
    const b2 = await db.createBanner("ban", { status: "paused" });
    assert.deepEqual((await db.getActiveBanners()).map((b) => b.id), [b1]);
    await db.updateBanner("ban", b2, { status: "active" });
    assert.deepEqual((await db.getActiveBanners()).map((b) => b.id), [b2, b1]);
    await db.deleteBanner("ban", b1);
    assert.deepEqual((await db.getActiveBanners({ limit: 5 })).map((b) => b.id), [b2]);
  });

  it("PROMO and PITCH creation with a cost spends coins in the same step", async () => {
    await db.addCoins("costly", 100, "topup");
    const p = await db.createPromotionCampaign("costly", { name: "spring" }, { cost: 30 });
    const q = await db.createPitchingSubmission("costly", { playlist: "x" }, { cost: 20 });
    assert.match(p, ID);
    assert.match(q, ID);
    assert.equal(await db.getBalance("costly"), 50);
    const reasons = (await db.getCoinHistory("costly")).map((r) => r.reason);
    assert.deepEqual(reasons, ["cost:PITCH", "cost:PROMO", "topup"]);
  });

  it("users: createUser getUser getUserByEmail getUidByEmail updateUser deleteUser", async () => {
    assert.equal(await db.createUser("ua", { email: "Ada@Example.com", name: "Ada", role: "artist" }), undefined);
    const u = await db.getUser("ua");
    assert.equal(u.id, "ua");
    assert.equal(u.base.email, "Ada@Example.com");
    assert.equal(u.base.name, "Ada");
    assert.match(u.base.created_at, TS);
    assert.deepEqual(u.profile, {});
    assert.deepEqual(u.subscription, {});
    assert.equal(await db.getUidByEmail("ada@example.com"), "ua");
    assert.equal((await db.getUserByEmail("ADA@example.com")).id, "ua");
    assert.equal(await db.getUserByEmail("nobody@example.com"), null);
    assert.equal(await db.getUidByEmail("nobody@example.com"), null);
    const profile = await db.updateUser("ua", "profile", { bio: "hi" });
    assert.equal(profile.bio, "hi");
    assert.match(profile.updated_at, TS);
    const base = await db.updateUser("ua", { name: "Ada L." });
    assert.equal(base.name, "Ada L.");
    assert.equal((await db.getUser("ua")).profile.bio, "hi");
    await assert.rejects(db.updateUser("ua", "nope", {}), TypeError);
    await db.createTrack("ua", { title: "t" });
    await db.addCoins("ua", 7, "gift");
    const removed = await db.deleteUser("ua");
    assert.ok(Number.isInteger(removed) && removed >= 3, `removed ${removed}`);
    assert.equal(await db.getUser("ua"), null);
    assert.equal(await db.getUidByEmail("ada@example.com"), null);
    assert.equal(await db.getBalance("_system") >= 7, true, "coins went to _system");
  });

  it("coins: getBalance addCoins spendCoins transferCoins getCoinHistory verifyCoins", async () => {
    assert.equal(await db.getBalance("cx"), 0);
    assert.equal(await db.addCoins("cx", 100, "topup"), 100);
    assert.equal(await db.spendCoins("cx", 30n, "boost"), 70);
    assert.deepEqual(await db.transferCoins("cx", "cy", "20", "gift"), { fromBalance: 50, toBalance: 20 });
    const h = await db.getCoinHistory("cx");
    assert.deepEqual(h.map((r) => [r.amount, r.balance_after, r.reason, r.counterparty]),
      [[-20, 50, "gift", "cy"], [-30, 70, "boost", null], [100, 100, "topup", "_system"]]);
    for (const r of h) {
      assert.match(r.id, ID);
      assert.match(r.created_at, TS);
    }
    assert.equal((await db.getCoinHistory("cx", { limit: 1 })).length, 1);
    assert.deepEqual(await db.getCoinHistory("nobody-here"), []);
    assert.equal(await db.verifyCoins("cx"), true);
    assert.equal(await db.verifyCoins("cy"), true);
  });

  it("donations: sendDonation getDonations getDonationTotal (and the artist's notification)", async () => {
    await db.addCoins("fan1", 50, "topup");
    const id = await db.sendDonation("fan1", "art1", 15, { message: "love it" });
    await db.sendDonation("fan1", "art1", 5);
    assert.match(id, ID);
    const list = await db.getDonations("art1");
    assert.equal(list.length, 2);
    assert.equal(list[1].id, id);
    assert.equal(list[1].from, "fan1");
    assert.equal(list[1].user_id, "art1");
    assert.equal(list[1].amount, 15);
    assert.equal(list[1].message, "love it");
    assert.equal(await db.getDonationTotal("art1"), 20);
    assert.equal(await db.getDonationTotal("nobody-here"), 0);
    assert.equal(await db.getBalance("fan1"), 30);
    assert.equal(await db.getUnreadCount("art1"), 2);
  });

  it("payments: recordPayment (with credit) getPayments", async () => {
    const id = await db.recordPayment("pay1", { provider: "stripe", external_id: "pi_1", eur: 5 }, { credit: 500 });
    assert.match(id, ID);
    assert.equal(await db.getBalance("pay1"), 500);
    const list = await db.getPayments("pay1");
    assert.equal(list.length, 1);
    checkDoc(list[0], "pay1");
    assert.equal(list[0].external_id, "pi_1");
    assert.deepEqual(await db.getPayments("nobody-here"), []);
  });

  it("messages: sendMessage getMessages markAsRead getConversations getUnreadMessageCount", async () => {
    const m1 = await db.sendMessage("conv1", "ma", "mb", "hello");
    const m2 = await db.sendMessage("conv1", "mb", "ma", "hi back");
    const m3 = await db.sendMessage("conv1", "ma", "mb", "how are you?");
    assert.match(m1, ID);
    const msgs = await db.getMessages("conv1");
    assert.deepEqual(msgs.map((m) => m.id), [m3, m2, m1]);
    assert.deepEqual(Object.keys(msgs[0]).sort(), ["conv", "created_at", "from", "id", "read", "text", "to"]);
    assert.equal(msgs[0].read, false);
    assert.deepEqual((await db.getMessages("conv1", { limit: 1 })).map((m) => m.id), [m3]);
    assert.equal(await db.getUnreadMessageCount("mb"), 2);
    const convs = await db.getConversations("mb");
    assert.equal(convs.length, 1);
    assert.equal(convs[0].conv, "conv1");
    assert.deepEqual(convs[0].participants.slice().sort(), ["ma", "mb"]);
    assert.equal(convs[0].last_message.text, "how are you?");
    assert.equal(convs[0].unread, 2);
    assert.equal(await db.markAsRead("conv1", "mb"), 2);
    assert.equal(await db.markAsRead("conv1", "mb"), 0);
    assert.equal(await db.getUnreadMessageCount("mb"), 0);
    assert.deepEqual(await db.getConversations("nobody-here"), []);
    assert.deepEqual(await db.getMessages("noconv"), []);
  });

  it("notifications: createNotification getNotifications markNotificationAsRead markAllNotificationsAsRead getUnreadCount", async () => {
    const n1 = await db.createNotification("nu", { type: "like", text: "someone liked" });
    const n2 = await db.createNotification("nu", { type: "follow" });
    const n3 = await db.createNotification("nu", { type: "comment" });
    const list = await db.getNotifications("nu");
    assert.deepEqual(list.map((n) => n.id), [n3, n2, n1]);
    checkDoc(list[0], "nu");
    assert.equal(list[0].read, false);
    assert.equal(await db.getUnreadCount("nu"), 3);
    assert.equal(await db.markNotificationAsRead("nu", n1), true);
    assert.equal(await db.markNotificationAsRead("nu", n1), false);
    assert.equal(await db.markNotificationAsRead("other", n2), false, "not the caller's");
    assert.deepEqual((await db.getNotifications("nu", { unread: true })).map((n) => n.id), [n3, n2]);
    assert.deepEqual((await db.getNotifications("nu", { unread: true, limit: 1 })).map((n) => n.id), [n3]);
    assert.equal(await db.markAllNotificationsAsRead("nu"), 2);
    assert.equal(await db.getUnreadCount("nu"), 0);
    assert.deepEqual(await db.getNotifications("nobody-here"), []);
  });

  it("e-mail: subscribeEmail unsubscribeEmail getEmailSubscriptions (and their aliases) logEmail getEmailHistory", async () => {
    assert.equal(await db.subscribeEmail("eu", "weekly"), true);
    assert.equal(await db.subscribeEmail("eu", "weekly"), false);
    assert.equal(await db.subscribe("eu", "alerts"), true);
    assert.deepEqual(await db.getEmailSubscriptions("eu"), ["alerts", "weekly"]);
    assert.equal(await db.unsubscribeEmail("eu", "weekly"), true);
    assert.equal(await db.unsubscribe("eu", "weekly"), false);
    assert.deepEqual(await db.getSubscriptions("eu"), ["alerts"]);
    assert.deepEqual(await db.getEmailSubscriptions("nobody-here"), []);
    const id = await db.logEmail("eu", { template: "welcome", to: "e@example.com" });
    assert.match(id, ID);
    const h = await db.getEmailHistory("eu");
    assert.equal(h.length, 1);
    checkDoc(h[0], "eu");
    assert.equal(h[0].template, "welcome");
  });

  it("tickets: createTicket replyToTicket getTicket getUserTickets closeTicket", async () => {
    const t = await db.createTicket("tu", { subject: "refund", body: "please" });
    assert.match(t, ID);
    const r = await db.replyToTicket(t, "support1", "on it");
    assert.match(r, ID);
    const ticket = await db.getTicket(t);
    assert.equal(ticket.id, t);
    assert.equal(ticket.subject, "refund");
    assert.equal(ticket.messages.length, 1);
    assert.equal(ticket.messages[0].author, "support1");
    assert.equal(ticket.messages[0].text, "on it");
    assert.equal(await db.getTicket("0000000000000000"), null);
    assert.deepEqual((await db.getUserTickets("tu")).map((x) => x.id), [t]);
    assert.equal(await db.closeTicket(t), true);
    assert.equal(await db.closeTicket(t), false);
  });

  it("payments: getPayment updatePaymentStatus (a refund takes the credit back)", async () => {
    const id = await db.recordPayment("rp", { status: "pending" }, { credit: 40 });
    const p = await db.getPayment("rp", id);
    assert.equal(p.credited, 40);
    assert.equal(await db.getPayment("other", id), null);
    assert.equal((await db.updatePaymentStatus("rp", id, "succeeded")).status, "succeeded");
    await assert.rejects(db.updatePaymentStatus("rp", id, "pending"), { name: "InvalidError" });
    await db.spendCoins("rp", 1, "shop");
    await assert.rejects(db.updatePaymentStatus("rp", id, "refunded"), { name: "InsufficientFundsError" });
    await db.addCoins("rp", 1, "topup");
    assert.equal((await db.updatePaymentStatus("rp", id, "refunded", { idempotencyKey: "refund-1" })).status,
      "refunded");
    assert.equal(await db.getBalance("rp"), 0);
  });

  it("donations: getDonation getSentDonations", async () => {
    await db.addCoins("sd", 30, "topup");
    const d1 = await db.sendDonation("sd", "art-a", 10, { message: "спасибо" });
    const d2 = await db.sendDonation("sd", "art-b", 5);
    assert.equal((await db.getDonation("art-a", d1)).message, "спасибо");
    assert.equal(await db.getDonation("art-b", d1), null);
    assert.deepEqual((await db.getSentDonations("sd")).map((d) => d.id), [d2, d1]);
    assert.deepEqual((await db.getSentDonations("sd", { after: d2 })).map((d) => d.user_id), ["art-a"]);
    assert.deepEqual(await db.getSentDonations("nobody-here"), []);
  });

  it("messages and notifications: deleteMessage editMessage getConversation deleteNotification", async () => {
    const m1 = await db.sendMessage("conv9", "xa", "xb", "hello");
    const m2 = await db.sendMessage("conv9", "xa", "xb", "tpyo");
    const edited = await db.editMessage("conv9", "xa", m2, "typo");
    assert.equal(edited.text, "typo");
    assert.match(edited.edited_at, TS);
    await assert.rejects(db.editMessage("conv9", "xb", m2, "mine now"), { name: "NotFoundError" });
    assert.equal(await db.deleteMessage("conv9", "xb", m1), false);
    assert.equal(await db.deleteMessage("conv9", "xa", m1), true);
    const view = await db.getConversation("conv9", "xb");
    assert.equal(view.conversation.conv, "conv9");
    assert.equal(view.conversation.last_message.text, "typo");
    assert.deepEqual(view.messages.map((m) => m.id), [m2]);
    assert.equal(view.unread, 1);
    assert.equal((await db.getConversation("conv9", "xa", { limit: 1 })).unread, 0);
    assert.equal(await db.getConversation("conv9", "stranger"), null);
    assert.equal(await db.getConversation("noconv", "xa"), null);
    const n = await db.createNotification("dn", { type: "x" });
    assert.equal(await db.deleteNotification("dn", n), true);
    assert.equal(await db.deleteNotification("dn", n), false);
    assert.equal(await db.getUnreadCount("dn"), 0);
  });

  it("admin lists and feeds: reopenTicket getOpenTickets listUsers get<Ns>Feed", async () => {
    const t = await db.createTicket("rt", { subject: "again" });
    assert.equal(await db.closeTicket(t), true);
    assert.ok(!(await db.getOpenTickets({ limit: 1000 })).some((x) => x.id === t));
    assert.equal(await db.reopenTicket(t), true);
    assert.equal(await db.reopenTicket(t), false);
    assert.equal((await db.getOpenTickets({ limit: 1 }))[0].id, t);
    await db.createUser("zz-list-2", { email: "l2@example.com", role: "fan" });
    await db.createUser("zz-list-1", { email: "l1@example.com", role: "fan" });
    assert.deepEqual((await db.listUsers({ after: "zz-list-0" })).map((u) => u.id), ["zz-list-1", "zz-list-2"]);
    for (const { one: One, feed } of ENTITIES) {
      if (!feed) continue;
      const id = await db[`create${One}`]("feed-u", { n: 1 });
      assert.equal((await db[`get${One}Feed`]({ limit: 1 }))[0].id, id);
    }
  });

  it("settings: getSettings updateSettings", async () => {
    const noStamp = ({ updated_at, ...rest }) => {
      assert.match(updated_at, TS);
      return rest;
    };
    assert.deepEqual(await db.getSettings("su", "privacy"), {});
    assert.deepEqual(noStamp(await db.updateSettings("su", "privacy", { public: false, x: { y: 1 } })),
      { public: false, x: { y: 1 } });
    assert.deepEqual(noStamp(await db.updateSettings("su", "privacy", { x: null })), { public: false });
    assert.deepEqual(noStamp(await db.getSettings("su", "privacy")), { public: false });
  });

  it("analytics and dashboard: incrementAnalytics getAnalytics getDashboard", async () => {
    assert.equal(await db.incrementAnalytics("tracks", "tr9", "2026-02-01", "plays"), 1);
    assert.equal(await db.incrementAnalytics("tracks", "tr9", "2026-02-01", "plays", 4), 5);
    assert.equal(await db.incrementAnalytics("tracks", "tr9", new Date("2026-02-03T12:00:00Z"), "likes"), 1);
    assert.deepEqual(await db.getAnalytics("tracks", "tr9", "2026-02-01", "2026-02-28"),
      [{ date: "2026-02-01", plays: 5 }, { date: "2026-02-03", likes: 1 }]);
    assert.deepEqual(await db.getAnalytics("concerts", "nothing", "2026-02-01", "2026-02-28"), []);
    await db.createTrack("du", { title: "x" });
    await db.createVideo("du", { title: "y" });
    await db.addCoins("du", 9, "topup");
    assert.deepEqual(await db.getDashboard("du"), {
      tracks: 1, videos: 1, concerts: 0, news: 0, coins: 9,
      donations: { count: 0, total: 0 }, unread_notifications: 0, unread_messages: 0,
    });
  });

  it("every helper was called, and every domain command of the server's table was sent", async () => {
    const helpers = Object.keys(createDb({ command() {} }));
    assert.deepEqual(helpers.filter((h) => !called.has(h)), []);
    const table = await client.command("COMMAND");
    const domain = table.map((e) => e[0]).filter((n) => DOMAIN_FAMILIES.test(n));
    assert.ok(domain.length > 80, `domain commands: ${domain.length}`);
    assert.deepEqual(domain.filter((n) => !sent.has(n)).sort(), []);
  });

  it("the db module exports exactly createDb()'s helpers, and db.d.ts declares each of them", () => {
    const helpers = Object.keys(createDb({ command() {} })).sort();
    const exported = Object.keys(dbModule).filter((k) => !["default", "createDb", "ENTITIES"].includes(k)).sort();
    assert.deepEqual(exported, helpers);
    const dts = fs.readFileSync(new URL("../src/db.d.ts", import.meta.url), "utf8");
    const declared = [...dts.matchAll(/^export declare const (\w+): DbApi\["(\w+)"\];$/gm)].map((m) => {
      assert.equal(m[1], m[2]);
      return m[1];
    }).sort();
    assert.deepEqual(declared, helpers);
  });
});
