// The shape of the platform's hosted store module (its seven functions), as
// the backend's code is typed against it today. types-check.ts proves that
// @stagekv/client/kv can stand where this module stood.
export declare function get(key: string): Promise<any>;
export declare function set(key: string, value: any): Promise<void>;
export declare function del(key: string): Promise<void>;
export declare function mget(keys: string[]): Promise<any[]>;
export declare function mset(keys: string[], values: any[]): Promise<void>;
export declare function mdel(keys: string[]): Promise<void>;
export declare function getByPrefix(
  prefix: string,
  options?: { after?: string; limit?: number },
): Promise<Array<{ key: string; value: any }>>;
