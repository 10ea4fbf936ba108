// `@stagekv/client/kv`: the hosted store's seven functions on the default client.
import type { CommandSender, KvApi } from "./types.js";

export declare const get: KvApi["get"];
export declare const set: KvApi["set"];
export declare const del: KvApi["del"];
export declare const mget: KvApi["mget"];
export declare const mset: KvApi["mset"];
export declare const mdel: KvApi["mdel"];
export declare const getByPrefix: KvApi["getByPrefix"];
/** The seven functions on a client of your own. */
export declare function createKv(client: CommandSender): KvApi;
declare const kv: KvApi;
export default kv;
export type { KvApi, KeyValue, Json } from "./types.js";
