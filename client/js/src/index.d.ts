// @stagekv/client
import type { Redis } from "ioredis";
import type { ClientConfig, DbApi, KvApi, WriteOptions } from "./types.js";

export * from "./errors.js";
export type * from "./types.js";

export declare const DEFAULT_CONFIG: Readonly<{
  host: string;
  port: number;
  db: number;
  connectTimeout: number;
  commandTimeout: number;
  retry: Readonly<{ attempts: number; baseDelayMs: number; maxDelayMs: number }>;
}>;

export declare class StagekvClient {
  constructor(config?: ClientConfig);
  /** The configuration in force (defaults filled in). */
  readonly config: Required<Omit<ClientConfig, "redis" | "onRetry" | "path" | "username" | "password" | "connectionName">> &
    Pick<ClientConfig, "path" | "username" | "password" | "connectionName">;
  /** The ioredis instance (the one you passed, if any). */
  readonly redis: Redis;
  /** false when the ioredis instance was passed in (close() leaves it open). */
  readonly ownsConnection: boolean;
  /** The hosted store's seven functions on this client. */
  readonly kv: KvApi;
  /** The platform's helpers on this client. */
  readonly db: DbApi;
  /** Connects and reads the command table (COMMAND) once. */
  connect(): Promise<this>;
  /** Closes the connection this client opened. */
  close(): Promise<void>;
  /**
   * One command under the retry policy: retried only when the server's
   * command table says it is safe (readonly, retry_safe, or idemp, which
   * gets an IDEMP key appended).
   */
  command(name: string, args?: Array<string | number | bigint | Buffer>, options?: WriteOptions): Promise<any>;
}

export declare function createClient(config?: ClientConfig): StagekvClient;
/** 128 random bits as 32 hex digits. */
export declare function newIdempotencyKey(): string;

/** Connects the default client behind the kv and db modules (config, or the environment's STAGEKV_*). */
export declare function connect(config?: ClientConfig): Promise<StagekvClient>;
/** Closes the default client. */
export declare function close(): Promise<void>;
/** The default client (made from the environment on first use). */
export declare function defaultClient(): StagekvClient;
/** STAGEKV_URL, or STAGEKV_HOST / _PORT / _PATH / _PASSWORD / _DB. */
export declare function configFromEnv(env?: Record<string, string | undefined>): ClientConfig;

/** The seven functions on the default client. */
export declare const kv: KvApi;
/** The helpers on the default client. */
export declare const db: DbApi;
/** The entity namespaces the db module generates its helpers from. */
export declare const ENTITIES: ReadonlyArray<{
  ns: string; one: string; many: string; promoted?: boolean; active?: boolean; cost?: boolean;
}>;
