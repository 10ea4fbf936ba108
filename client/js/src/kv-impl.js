// The hosted store's seven functions over KV.* (SPEC §3).
//
// Values are JS values, JSON-encoded on the wire; KV.SET refuses text that
// is not JSON, so what comes back is always parsed. A key written by a plain
// SET with a value that is not JSON comes back as its raw string.

const PAGE = 1000; // the largest LIMIT getByPrefix asks for when it pages

function encode(value, key) {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`stagekv kv: the value of '${key}' cannot be JSON-encoded (${typeof value})`);
  }
  return text;
}

export function decode(text) {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// mset's argument in any of the shapes a caller of a JSON store writes:
// [[key, value], ...], [{key, value}, ...], {key: value, ...}, or the hosted
// module's (keys, values).
function entriesOf(entries, values) {
  if (Array.isArray(values)) {
    if (!Array.isArray(entries) || entries.length !== values.length) {
      throw new TypeError("stagekv kv.mset(keys, values): two arrays of the same length");
    }
    return entries.map((k, i) => [k, values[i]]);
  }
  if (entries instanceof Map) return [...entries];
  if (Array.isArray(entries)) {
    return entries.map((e) => (Array.isArray(e) ? [e[0], e[1]] : [e.key, e.value]));
  }
  if (entries && typeof entries === "object") return Object.entries(entries);
  throw new TypeError("stagekv kv.mset: entries must be an array of [key, value] or {key, value}, or an object");
}

/** The seven functions bound to a client (anything with `command`). */
export function createKv(client) {
  const cmd = (name, args) => client.command(name, args);

  return {
    /** The value at key, or null. */
    async get(key) {
      return decode(await cmd("KV.GET", [key]));
    },
    /** Stores value (JSON-encoded) at key. */
    async set(key, value) {
      await cmd("KV.SET", [key, encode(value, key)]);
    },
    /** Deletes key (absent or not: the hosted store's del resolves nothing). */
    async del(key) {
      await cmd("KV.DEL", [key]);
    },
    /** The values at keys, in order, null for absent ones. */
    async mget(keys) {
      if (keys.length === 0) return [];
      return (await cmd("KV.MGET", keys)).map(decode);
    },
    /** Stores several values atomically: all or nothing. */
    async mset(entries, values) {
      const list = entriesOf(entries, values);
      if (list.length === 0) return;
      await cmd("KV.MSET", list.flatMap(([k, v]) => [k, encode(v, k)]));
    },
    /** Deletes several keys atomically. */
    async mdel(keys) {
      if (keys.length === 0) return;
      await cmd("KV.MDEL", keys);
    },
    /**
     * [{key, value}] under prefix, in byte order of keys, after `after`
     * (exclusive). With `limit`, one page of at most limit pairs; without,
     * every page.
     */
    async getByPrefix(prefix, { after, limit } = {}) {
      const out = [];
      let cursor = after;
      for (;;) {
        const want = limit ?? PAGE;
        const args = [prefix];
        if (cursor !== undefined && cursor !== null) args.push("AFTER", cursor);
        args.push("LIMIT", want);
        const flat = await cmd("KV.GETBYPREFIX", args);
        for (let i = 0; i + 1 < flat.length; i += 2) {
          out.push({ key: flat[i], value: decode(flat[i + 1]) });
        }
        if (limit !== undefined && limit !== null) return out;
        if (flat.length < 2 * want) return out;
        cursor = flat[flat.length - 2];
      }
    },
  };
}
