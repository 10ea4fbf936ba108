// The kv module's seven functions against a real server: the hosted
// store's JS shapes, on a client of its own and on the default client
// (`import * as kv from "@stagekv/client/kv"`).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { close, connect, createClient, InvalidError, StagekvError } from "@stagekv/client";
import * as kv from "@stagekv/client/kv";
import { HOST, startServer, withTimeout } from "./server.mjs";

describe("kv", () => {
  let srv;
  let c;

  before(async () => {
    srv = await startServer();
    c = createClient({ host: HOST, port: srv.port });
    await withTimeout(c.connect(), 20000, "connect");
    // The default client behind the module, as a backend sets it up.
    await withTimeout(connect({ host: HOST, port: srv.port }), 20000, "connect default");
  });

  after(async () => {
    await close();
    await c?.close();
    await srv?.stop();
  });

  it("set then get round-trips JS values; an absent key is null", async () => {
    const values = {
      "app:obj": { name: "Ada", tags: ["a", "b"], nested: { n: 1.5, t: true, z: null } },
      "app:arr": [1, "two", { three: 3 }],
      "app:str": "plain text with \"quotes\" and \u00e9",
      "app:num": 42,
      "app:neg": -0.25,
      "app:bool": false,
      "app:null": null,
    };
    for (const [k, v] of Object.entries(values)) await kv.set(k, v);
    for (const [k, v] of Object.entries(values)) assert.deepEqual(await kv.get(k), v, k);
    assert.equal(await kv.get("app:absent"), null);
    // The value is stored as JSON text on the wire.
    assert.equal(await c.redis.call("KV.GET", "app:obj"), JSON.stringify(values["app:obj"]));
  });

  it("set of a value JSON cannot encode is refused before sending", async () => {
    await assert.rejects(kv.set("app:u", undefined), TypeError);
    await assert.rejects(kv.set("app:f", () => 1), TypeError);
  });

  it("del removes a key and resolves nothing, absent or not", async () => {
    await kv.set("app:d", 1);
    assert.equal(await kv.del("app:d"), undefined);
    assert.equal(await kv.get("app:d"), null);
    assert.equal(await kv.del("app:d"), undefined);
  });

  it("mget: values in the order of the keys, null for absent ones; [] for no keys", async () => {
    await kv.set("m:a", { a: 1 });
    await kv.set("m:c", [3]);
    assert.deepEqual(await kv.mget(["m:c", "m:b", "m:a"]), [[3], null, { a: 1 }]);
    assert.deepEqual(await kv.mget([]), []);
  });

  it("mset takes [key, value] pairs, {key, value} items, an object, a Map, or (keys, values)", async () => {
    await kv.mset([["s:1", 1], ["s:2", { two: 2 }]]);
    await kv.mset([{ key: "s:3", value: "three" }]);
    await kv.mset({ "s:4": [4], "s:5": null });
    await kv.mset(new Map([["s:6", 6]]));
    await kv.mset(["s:7", "s:8"], [7, { eight: 8 }]);
    await kv.mset([]);
    assert.deepEqual(await kv.mget(["s:1", "s:2", "s:3", "s:4", "s:5", "s:6", "s:7", "s:8"]),
      [1, { two: 2 }, "three", [4], null, 6, 7, { eight: 8 }]);
    await assert.rejects(kv.mset(["a"], [1, 2]), TypeError);
  });

  it("mset is all or nothing: a value the server refuses writes nothing", async () => {
    // A string that is not JSON can only come through the raw client; the
    // module always sends JSON. Through the command: the server's refusal.
    await assert.rejects(c.command("KV.MSET", ["s:x", "1", "s:y", "{bad"]), InvalidOrErr);
    assert.deepEqual(await kv.mget(["s:x", "s:y"]), [null, null]);
  });

  it("mdel deletes several keys atomically and resolves nothing", async () => {
    await kv.mset({ "md:1": 1, "md:2": 2, "md:3": 3 });
    assert.equal(await kv.mdel(["md:1", "md:3", "md:absent"]), undefined);
    assert.deepEqual(await kv.mget(["md:1", "md:2", "md:3"]), [null, 2, null]);
    assert.equal(await kv.mdel([]), undefined);
  });

  it("getByPrefix: [{key, value}] in byte order of keys, only under the prefix", async () => {
    await kv.mset({ "p:b": 2, "p:a": 1, "p:c": { c: 3 }, "pz": "outside", "o:a": 0 });
    assert.deepEqual(await kv.getByPrefix("p:"), [
      { key: "p:a", value: 1 },
      { key: "p:b", value: 2 },
      { key: "p:c", value: { c: 3 } },
    ]);
    assert.deepEqual(await kv.getByPrefix("nothing:here:"), []);
  });

  it("getByPrefix with limit is one page; after continues exclusively", async () => {
    assert.deepEqual(await kv.getByPrefix("p:", { limit: 2 }), [
      { key: "p:a", value: 1 },
      { key: "p:b", value: 2 },
    ]);
    assert.deepEqual(await kv.getByPrefix("p:", { after: "p:b", limit: 2 }), [{ key: "p:c", value: { c: 3 } }]);
    assert.deepEqual(await kv.getByPrefix("p:", { after: "p:a" }), [
      { key: "p:b", value: 2 },
      { key: "p:c", value: { c: 3 } },
    ]);
  });

  it("getByPrefix without limit pages through every page (2,500 keys)", async () => {
    const entries = [];
    for (let i = 0; i < 2500; i++) entries.push([`big:${String(i).padStart(5, "0")}`, { i }]);
    await kv.mset(entries);
    const sent = [];
    const spy = createClient({ redis: c.redis });
    const orig = spy.command.bind(spy);
    spy.command = (name, args, opts) => { sent.push(name); return orig(name, args, opts); };
    const { createKv } = await import("@stagekv/client/kv");
    const all = await createKv(spy).getByPrefix("big:");
    assert.equal(all.length, 2500);
    assert.deepEqual(all[0], { key: "big:00000", value: { i: 0 } });
    assert.deepEqual(all[2499], { key: "big:02499", value: { i: 2499 } });
    assert.ok(all.every((e, i) => e.value.i === i));
    assert.equal(sent.filter((n) => n === "KV.GETBYPREFIX").length, 3, "pages of 1000");
    assert.equal((await kv.getByPrefix("big:", { limit: 10, after: "big:02495" })).length, 4);
  });

  it("a key written by plain SET with a value that is not JSON comes back as its string", async () => {
    await c.redis.set("plain:1", "not json");
    await c.redis.set("plain:2", "17");
    assert.equal(await kv.get("plain:1"), "not json");
    assert.equal(await kv.get("plain:2"), 17);
  });

  it("the empty prefix is the server's error, not a silent empty list", async () => {
    await assert.rejects(kv.getByPrefix(""), (e) => e instanceof StagekvError && /empty prefix/.test(e.message));
  });

  it("a plain kv.set under a domain prefix is refused by the write guard", async () => {
    await assert.rejects(kv.set("coins:u1:balance", 1000000),
      (e) => e instanceof StagekvError && e.code === "ERR" && /owned by the domain engine/.test(e.message));
    assert.equal(await kv.get("coins:u1:balance"), null);
  });

  it("the module's functions and a client's kv are the same seven", async () => {
    assert.deepEqual(Object.keys(c.kv).sort(),
      ["del", "get", "getByPrefix", "mdel", "mget", "mset", "set"]);
    assert.deepEqual(Object.keys(kv).filter((k) => k !== "default" && k !== "createKv").sort(),
      Object.keys(c.kv).sort());
  });
});

// -INVALID from domain commands, -ERR invalid JSON from KV.*.
function InvalidOrErr(e) {
  return (e instanceof InvalidError || e instanceof StagekvError) && /invalid JSON/i.test(e.message);
}
