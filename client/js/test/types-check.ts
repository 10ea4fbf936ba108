// Compiled with `tsc --noEmit -p test/tsconfig.json` (never run): the .d.ts
// files of @stagekv/client are valid, and a backend switches from the hosted
// store with one import.

// Before:  import * as kv from "./kv_store";
import * as kv from "@stagekv/client/kv";
import * as db from "@stagekv/client/db";
import {
  close,
  connect,
  createClient,
  ConflictError,
  InsufficientFundsError,
  NotFoundError,
  StagekvError,
  TransportError,
  type Dashboard,
  type Document,
  type User,
} from "@stagekv/client";
import { Redis } from "ioredis";
import type * as Hosted from "./hosted-kv.js";

// The module stands where the hosted one stood: every function is assignable.
const asHosted: typeof Hosted = kv;
void asHosted;

interface Profile {
  bio: string;
}

export async function backend(): Promise<void> {
  await connect({ host: "127.0.0.1", port: 6380, retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 } });

  // The hosted store's calls, unchanged.
  await kv.set("app:profile:u1", { bio: "hi" });
  const p = await kv.get<Profile>("app:profile:u1");
  const bio: string | undefined = p?.bio;
  const many = await kv.mget(["a", "b"]);
  await kv.mset([["a", 1], ["b", { c: 2 }]]);
  await kv.mset({ a: 1, b: 2 });
  await kv.mset(["a", "b"], [1, 2]);
  await kv.del("a");
  await kv.mdel(["a", "b"]);
  const page = await kv.getByPrefix<Profile>("app:profile:", { limit: 10 });
  const firstKey: string | undefined = page[0]?.key;
  const all = await kv.getByPrefix("app:");

  // The helpers.
  const user: User | null = await db.getUser("u1");
  const trackId: string = await db.createTrack("u1", { title: "Intro" });
  const track: Document | null = await db.getTrack("u1", trackId);
  const tracks: Document[] = await db.getUserTracks("u1", { limit: 10 });
  await db.updateTrack("u1", trackId, { title: "Outro" });
  const gone: boolean = await db.deleteTrack("u1", trackId);
  const banners = await db.getActiveBanners();
  const promoted = await db.getPromotedConcerts({ after: "0000000000000000" });
  await db.createPromotionCampaign("u1", { name: "x" }, { cost: 10 });
  const balance: number = await db.spendCoins("u1", 5, "boost", { idempotencyKey: "order-42" });
  const { fromBalance, toBalance } = await db.transferCoins("u1", "u2", 1n, "gift");
  const rows = await db.getCoinHistory("u1");
  const signed: number = rows[0]?.amount ?? 0;
  const unread: number = await db.getUnreadCount("u1");
  const dash: Dashboard = await db.getDashboard("u1");
  await db.updateUser("u1", "profile", { bio: "x" });
  await db.updateUser("u1", { name: "New" });
  await db.getSettings("u1", "privacy");
  await db.incrementAnalytics("tracks", trackId, new Date(), "plays");
  // @ts-expect-error: settings sections are a closed set
  await db.getSettings("u1", "colours");

  try {
    await db.spendCoins("u1", 1000, "boost");
  } catch (e) {
    if (e instanceof InsufficientFundsError) console.log(e.balance, e.need);
    else if (e instanceof TransportError) console.log(e.attempts, e.retrySafe);
    else if (e instanceof NotFoundError || e instanceof ConflictError) console.log(e.code);
    else if (e instanceof StagekvError) console.log(e.command);
  }
  void [bio, many, firstKey, all, user, track, tracks, gone, banners, promoted, balance,
    fromBalance, toBalance, signed, unread, dash];
  await close();

  // A client of its own on a shared ioredis instance.
  const shared = new Redis({ lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false });
  const c = createClient({ redis: shared });
  await c.connect();
  const n: number = await c.db.addCoins("u1", 1, "bonus");
  const v = await c.kv.get("x");
  const raw: unknown = await c.command("KV.COUNT", ["app:"]);
  void [n, v, raw];
  await c.close();
  shared.disconnect();
}
