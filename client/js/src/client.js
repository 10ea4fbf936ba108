// StagekvClient: one ioredis connection and the retry policy.
//
// The policy (the same as libstagekv's, SPEC §6):
//   - up to `retry.attempts` (3) attempts of a command, with exponential
//     backoff and full jitter between them (a random wait in
//     [0, min(maxDelayMs, baseDelayMs * 2^(n-1))) before retry n), and a
//     reconnect: each attempt first waits (at most connectTimeout) until the
//     connection is ready again;
//   - only commands that are safe to repeat are retried. The server says
//     which: at first use the client runs COMMAND once and reads each
//     command's flags. `readonly` and `retry_safe` are safe as they are;
//     `idemp` commands accept `IDEMP key` (SPEC §4.3), so the client appends
//     one (128 random bits, or the caller's `idempotencyKey`) and sends the
//     same key on every attempt: the server applies the command once and
//     replays its first reply to a retry. Every other command is sent once;
//     a transport failure is a TransportError at once;
//   - an error reply from the server is the answer, never retried: it
//     becomes a typed error (errors.js).
// ioredis's own resending is switched off (maxRetriesPerRequest 0, no
// offline queue, autoResendUnfulfilledCommands false) so that this policy
// is the only one that repeats a command.

import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import Redis, { ReplyError } from "ioredis";
import { TransportError, errorFromReply } from "./errors.js";
import { createKv } from "./kv-impl.js";
import { createDb } from "./db-impl.js";

export const DEFAULT_CONFIG = Object.freeze({
  host: "127.0.0.1",
  port: 6380,
  db: 0,
  connectTimeout: 5000,
  commandTimeout: 5000,
  retry: Object.freeze({ attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }),
});

/** A fresh idempotency key: 128 random bits as 32 lowercase hex digits. */
export function newIdempotencyKey() {
  return randomBytes(16).toString("hex");
}

// ioredis options that leave retrying to this client.
function ioredisOptions(cfg) {
  const o = {
    host: cfg.host,
    port: cfg.port,
    db: cfg.db,
    connectTimeout: cfg.connectTimeout,
    commandTimeout: cfg.commandTimeout,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Reconnect in the background (bounded delays); commands wait for it.
    retryStrategy: (times) => Math.min(50 * times, 500),
    // Reconnect on READONLY etc. is a cluster/replica matter: never resend.
    reconnectOnError: null,
  };
  if (cfg.path) o.path = cfg.path;
  if (cfg.password !== undefined) o.password = cfg.password;
  if (cfg.username !== undefined) o.username = cfg.username;
  if (cfg.connectionName !== undefined) o.connectionName = cfg.connectionName;
  return o;
}

function isReplyError(e) {
  return e instanceof ReplyError || (e && e.name === "ReplyError");
}

// A command's arguments on the wire: strings, numbers and bigints as text.
function wireArg(a) {
  if (typeof a === "string" || Buffer.isBuffer(a)) return a;
  if (typeof a === "number" || typeof a === "bigint") return String(a);
  throw new TypeError(`stagekv: argument ${String(a)} is not a string or a number`);
}

export class StagekvClient {
  /**
   * @param {object} [config] host, port, path, username, password, db,
   *   connectTimeout, commandTimeout, retry {attempts, baseDelayMs,
   *   maxDelayMs}, redis (a shared ioredis instance), onRetry (called
   *   before each retry with {command, attempt, delayMs, error})
   */
  constructor(config = {}) {
    const retry = { ...DEFAULT_CONFIG.retry, ...(config.retry ?? {}) };
    if (!(Number.isInteger(retry.attempts) && retry.attempts >= 1)) {
      throw new TypeError("stagekv: retry.attempts must be an integer >= 1");
    }
    this.config = { ...DEFAULT_CONFIG, ...config, retry };
    delete this.config.redis;
    delete this.config.onRetry;
    this._onRetry = config.onRetry;
    this.ownsConnection = !config.redis;
    /** The ioredis instance (yours if you passed `redis`). */
    this.redis = config.redis ?? new Redis(ioredisOptions(this.config));
    if (this.ownsConnection) {
      // Failures reach callers through rejected commands and TransportError.
      this.redis.on("error", () => {});
    } else {
      const o = this.redis.options ?? {};
      if (o.maxRetriesPerRequest !== 0 || o.enableOfflineQueue !== false || o.autoResendUnfulfilledCommands !== false) {
        process.emitWarning(
          "the shared ioredis instance may resend commands on its own (set maxRetriesPerRequest: 0, " +
            "enableOfflineQueue: false, autoResendUnfulfilledCommands: false): a command that is not safe " +
            "to repeat could be applied twice",
          { type: "StagekvWarning", code: "STAGEKV_SHARED_RESENDS" },
        );
      }
    }
    this._table = null; // Map lower-case name -> {safe, idemp}
    this._tableLoading = null;
    this._closed = false;
    /** The hosted store's seven functions on this client. */
    this.kv = createKv(this);
    /** The platform's domain helpers on this client. */
    this.db = createDb(this);
  }

  /** Connects (waiting at most connectTimeout) and reads the command table. */
  async connect() {
    this._closed = false;
    await this._commandInfo("command");
    return this;
  }

  /** Closes the connection this client opened; a shared instance is left open. */
  async close() {
    this._closed = true;
    if (!this.ownsConnection) return;
    const r = this.redis;
    if (r.status === "end") return;
    let timer;
    const bounded = (p) => Promise.race([
      p,
      new Promise((resolve) => { timer = setTimeout(resolve, this.config.commandTimeout); }),
    ]).finally(() => clearTimeout(timer));
    const ended = new Promise((resolve) => r.once("end", resolve));
    if (r.status === "ready") await bounded(r.quit().catch(() => {}));
    if (r.status !== "end") {
      // Between connections (reconnecting) there is no socket to wait for.
      const live = ["connecting", "connect", "ready"].includes(r.status);
      r.disconnect(false);
      if (live) await bounded(ended);
    }
  }

  /**
   * Sends one command under the retry policy and resolves with its reply.
   * @param {string} name e.g. "COINS.SPEND"
   * @param {Array<string|number|bigint|Buffer>} [args]
   * @param {{idempotencyKey?: string}} [opts]
   */
  async command(name, args = [], opts = {}) {
    if (this._closed && this.ownsConnection) {
      throw new TransportError(`${name.toUpperCase()}: the client is closed`, {
        command: name.toUpperCase(), attempts: 0, retrySafe: false,
      });
    }
    let info;
    try {
      info = await this._commandInfo(name);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      // Nothing of this command was sent: the table could not be read.
      throw new TransportError(`${name.toUpperCase()}: could not read the command table: ${e.message}`, {
        command: name.toUpperCase(), cause: e, attempts: e.attempts, retrySafe: e.retrySafe,
      });
    }
    const wire = args.map(wireArg);
    if (info.idemp) {
      wire.push("IDEMP", opts.idempotencyKey ?? newIdempotencyKey());
    } else if (opts.idempotencyKey !== undefined) {
      throw new TypeError(`stagekv: ${name} does not accept an idempotency key`);
    }
    return this._send(name, wire, info.safe || info.idemp);
  }

  // Whether a command may be repeated ({safe, idemp}); the table is read from
  // the server once (COMMAND), itself under the retry policy as a read.
  async _commandInfo(name) {
    if (!this._table) {
      this._tableLoading ??= this._loadTable().finally(() => { this._tableLoading = null; });
      await this._tableLoading;
    }
    return this._table.get(name.toLowerCase()) ?? { safe: false, idemp: false };
  }

  async _loadTable() {
    const reply = await this._send("COMMAND", [], true);
    const table = new Map();
    for (const entry of reply) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
      const flags = Array.isArray(entry[2]) ? entry[2].map((f) => String(f).toLowerCase()) : [];
      table.set(entry[0].toLowerCase(), {
        safe: flags.includes("readonly") || flags.includes("retry_safe"),
        idemp: flags.includes("idemp"),
      });
    }
    this._table = table;
  }

  // The attempt loop.
  async _send(name, wire, safe) {
    const { attempts, baseDelayMs, maxDelayMs } = this.config.retry;
    const max = safe ? attempts : 1;
    let last;
    let tried = 0;
    for (let n = 0; n < max; n++) {
      if (n > 0) {
        const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
        const delayMs = Math.floor(Math.random() * cap); // full jitter
        this._onRetry?.({ command: name.toUpperCase(), attempt: n + 1, delayMs, error: last });
        await sleep(delayMs);
      }
      tried = n + 1;
      try {
        await this._ready();
      } catch (e) {
        last = e; // never sent: the next attempt waits for the connection again
        continue;
      }
      try {
        return await this.redis.call(name, ...wire);
      } catch (e) {
        if (isReplyError(e)) throw errorFromReply(e.message, name.toUpperCase(), e);
        last = e;
        if (/timed out/i.test(String(e && e.message))) {
          // A reply may still come on this connection: start a fresh one.
          this.redis.disconnect(true);
        }
      }
    }
    const why = safe
      ? `gave up after ${tried} attempt(s)`
      : "not retried: the command is not safe to repeat, it may or may not have been applied";
    // ioredis reports a connection lost under a command as "max retries
    // reached" (maxRetriesPerRequest is 0 here): say what happened.
    const what = last?.name === "MaxRetriesPerRequestError"
      ? "the connection closed before the reply arrived"
      : last?.message ?? "connection failed";
    throw new TransportError(`${name.toUpperCase()}: ${what} (${why})`, {
      command: name.toUpperCase(),
      cause: last,
      attempts: tried,
      retrySafe: safe,
    });
  }

  // Resolves when the connection is ready, (re)connecting if needed; rejects
  // after connectTimeout.
  _ready() {
    const r = this.redis;
    if (r.status === "ready") return Promise.resolve();
    if (this._closed && this.ownsConnection) {
      // close() ran while a command was between attempts: do not reopen.
      return Promise.reject(new Error("the client is closed"));
    }
    if (r.status === "wait" || r.status === "end") r.connect().catch(() => {});
    return new Promise((resolve, reject) => {
      const done = (err) => {
        clearTimeout(timer);
        r.off("ready", onReady);
        if (err) reject(err); else resolve();
      };
      const onReady = () => done();
      const timer = setTimeout(
        () => done(new Error(`not connected within ${this.config.connectTimeout} ms (status ${r.status})`)),
        this.config.connectTimeout,
      );
      r.on("ready", onReady);
      if (r.status === "ready") done();
    });
  }
}

/** A client from a config (see StagekvClient). Nothing is sent before first use. */
export function createClient(config) {
  return new StagekvClient(config);
}
