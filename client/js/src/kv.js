// `@stagekv/client/kv`: the hosted store's seven functions on the default
// client (default.js). Same names, same JS values.

import { lazyClient } from "./default.js";
import { createKv } from "./kv-impl.js";

const kv = createKv(lazyClient);

export const { get, set, del, mget, mset, mdel, getByPrefix } = kv;
export { createKv };
export default kv;
