// The process-wide default client behind the `kv` and `db` modules, so that
// `import * as kv from "@stagekv/client/kv"` replaces the hosted module's
// import and nothing else. Configure it with connect(config) at start-up, or
// let the first call connect with the environment:
//   STAGEKV_URL=redis://[:password@]host:port[/db]  or
//   STAGEKV_HOST, STAGEKV_PORT, STAGEKV_PATH (unix socket), STAGEKV_PASSWORD, STAGEKV_DB

import { StagekvClient } from "./client.js";

let current = null;

/** The client configuration from the environment. */
export function configFromEnv(env = process.env) {
  const cfg = {};
  if (env.STAGEKV_URL) {
    const u = new URL(env.STAGEKV_URL);
    if (u.hostname) cfg.host = u.hostname;
    if (u.port) cfg.port = Number(u.port);
    if (u.username) cfg.username = decodeURIComponent(u.username);
    if (u.password) cfg.password = decodeURIComponent(u.password);
    if (u.pathname && u.pathname.length > 1) cfg.db = Number(u.pathname.slice(1));
  }
  if (env.STAGEKV_HOST) cfg.host = env.STAGEKV_HOST;
  if (env.STAGEKV_PORT) cfg.port = Number(env.STAGEKV_PORT);
  if (env.STAGEKV_PATH) cfg.path = env.STAGEKV_PATH;
  if (env.STAGEKV_PASSWORD) cfg.password = env.STAGEKV_PASSWORD;
  if (env.STAGEKV_DB) cfg.db = Number(env.STAGEKV_DB);
  return cfg;
}

/** Connects the default client (config, or the environment's). */
export async function connect(config) {
  if (current) await current.close();
  current = new StagekvClient(config ?? configFromEnv());
  await current.connect();
  return current;
}

/** Closes the default client; a later call makes a new one from the environment (or call connect again). */
export async function close() {
  const c = current;
  current = null;
  if (c) await c.close();
}

/** The default client, made from the environment on first use. */
export function defaultClient() {
  current ??= new StagekvClient(configFromEnv());
  return current;
}

// Stands in for the default client inside the kv and db modules: each call
// goes to whichever client is the default at that moment.
export const lazyClient = {
  command: (name, args, opts) => defaultClient().command(name, args, opts),
};
