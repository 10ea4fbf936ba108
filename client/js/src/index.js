// @stagekv/client: the stagekv client for the platform's TypeScript backend.
//
//   import { connect, close, kv, db } from "@stagekv/client";   // default client
//   import { createClient } from "@stagekv/client";             // clients of your own
//   import * as kv from "@stagekv/client/kv";                   // the hosted module's seven functions
//   import * as db from "@stagekv/client/db";                   // the platform's helpers

export { StagekvClient, createClient, newIdempotencyKey, DEFAULT_CONFIG } from "./client.js";
export { connect, close, defaultClient, configFromEnv } from "./default.js";
export {
  StagekvError,
  InvalidError,
  NotFoundError,
  ConflictError,
  InsufficientFundsError,
  TransportError,
  errorFromReply,
} from "./errors.js";
export { default as kv } from "./kv.js";
export { default as db, ENTITIES } from "./db.js";
