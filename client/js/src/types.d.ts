// Types shared by the modules of @stagekv/client.

import type { Redis } from "ioredis";

/** A JSON value as JSON.stringify writes it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A domain document: the server sets id, user_id, created_at, updated_at. */
export interface Document {
  id: string;
  user_id?: string;
  created_at: string;
  updated_at?: string;
  [field: string]: any;
}

/** A document or merge patch as the caller writes it (server-owned fields are ignored). */
export type DocumentInput = Record<string, unknown>;

/** `[AFTER id] [LIMIT n]` of a paged list (LIMIT 1-1000, default 50). */
export interface Page {
  after?: string;
  limit?: number;
}

/** Options of a command that creates something or moves coins. */
export interface WriteOptions {
  /**
   * The IDEMP key (SPEC §4.3). Without one the client makes one per call
   * (128 random bits) and reuses it on its own retries; pass your own to
   * make the caller's retries (e.g. a resent webhook) safe too.
   */
  idempotencyKey?: string;
}

/** An integer amount of coins: a number, a bigint or a string of digits. */
export type Amount = number | bigint | string;

export interface RetryConfig {
  /** Attempts of a command that is safe to repeat (default 3). */
  attempts?: number;
  /** Backoff base: before retry n a random wait in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))) (default 100). */
  baseDelayMs?: number;
  /** Backoff cap (default 2000). */
  maxDelayMs?: number;
}

export interface RetryInfo {
  /** e.g. "COINS.SPEND" */
  command: string;
  /** The attempt about to be made (2 or 3 with the default policy). */
  attempt: number;
  /** The backoff before it. */
  delayMs: number;
  /** Why the previous attempt failed. */
  error: unknown;
}

export interface ClientConfig {
  host?: string;
  port?: number;
  /** A unix socket instead of host and port. */
  path?: string;
  username?: string;
  password?: string;
  /** SELECT n for plain Redis commands (KV.* and the domain commands always use database 0). */
  db?: number;
  /** How long each attempt waits for the connection to be ready, in ms (default 5000). */
  connectTimeout?: number;
  /** How long a command may take before the attempt fails, in ms (default 5000). */
  commandTimeout?: number;
  retry?: RetryConfig;
  connectionName?: string;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: RetryInfo) => void;
  /**
   * A shared ioredis instance to use instead of opening a connection. Give
   * it `maxRetriesPerRequest: 0`, `enableOfflineQueue: false` and
   * `autoResendUnfulfilledCommands: false`, or ioredis resends on its own.
   * close() leaves it open.
   */
  redis?: Redis;
}

export interface KeyValue<T = any> {
  key: string;
  value: T;
}

/** The hosted store's seven functions. */
export interface KvApi {
  /** The value at key, or null. */
  get<T = any>(key: string): Promise<T | null>;
  /** Stores value (JSON-encoded) at key. */
  set(key: string, value: unknown): Promise<void>;
  /** Deletes key (absent or not). */
  del(key: string): Promise<void>;
  /** The values at keys, in order; null for an absent key. */
  mget<T = any>(keys: string[]): Promise<Array<T | null>>;
  /** Stores several values atomically: all or nothing. */
  mset(
    entries:
      | ReadonlyArray<readonly [string, unknown]>
      | ReadonlyArray<KeyValue<unknown>>
      | Record<string, unknown>
      | Map<string, unknown>,
  ): Promise<void>;
  /** The hosted module's form: mset(keys, values). */
  mset(keys: string[], values: unknown[]): Promise<void>;
  /** Deletes several keys atomically. */
  mdel(keys: string[]): Promise<void>;
  /**
   * Pairs under prefix in byte order of keys, after `after` (exclusive).
   * With `limit`: one page of at most limit pairs; without: every page.
   */
  getByPrefix<T = any>(prefix: string, options?: { after?: string; limit?: number }): Promise<Array<KeyValue<T>>>;
}

// ---- db: the eight entity namespaces, one generic shape (SPEC §4.1)

export interface CostOptions extends WriteOptions {
  /** Coins spent in the same atomic step as the creation. */
  cost?: Amount;
}

export type EntityHelpers<One extends string, Many extends string, CreateOptions = WriteOptions> =
  Record<`create${One}`, (uid: string, doc: DocumentInput, options?: CreateOptions) => Promise<string>> &
  Record<`get${One}`, (uid: string, id: string) => Promise<Document | null>> &
  Record<`getUser${Many}`, (uid: string, page?: Page) => Promise<Document[]>> &
  Record<`update${One}`, (uid: string, id: string, patch: DocumentInput) => Promise<Document>> &
  Record<`delete${One}`, (uid: string, id: string) => Promise<boolean>> &
  Record<`count${Many}`, (uid: string) => Promise<number>>;

export type PromotedHelpers<One extends string, Many extends string> =
  Record<`promote${One}` | `unpromote${One}`, (uid: string, id: string) => Promise<boolean>> &
  Record<`getPromoted${Many}`, (page?: Page) => Promise<Document[]>>;

/** NS.FEED: every document of the namespace, all users, newest first. */
export type FeedHelpers<One extends string> = Record<`get${One}Feed`, (page?: Page) => Promise<Document[]>>;

export type EntityDb =
  EntityHelpers<"Track", "Tracks"> & FeedHelpers<"Track"> &
  EntityHelpers<"Video", "Videos"> & FeedHelpers<"Video"> &
  EntityHelpers<"Concert", "Concerts"> & PromotedHelpers<"Concert", "Concerts"> & FeedHelpers<"Concert"> &
  EntityHelpers<"News", "News"> & PromotedHelpers<"News", "News"> & FeedHelpers<"News"> &
  EntityHelpers<"Banner", "Banners"> & { getActiveBanners(page?: Page): Promise<Document[]> } &
  EntityHelpers<"PromotionCampaign", "PromotionCampaigns", CostOptions> &
  EntityHelpers<"PitchingSubmission", "PitchingSubmissions", CostOptions> &
  EntityHelpers<"PaymentMethod", "PaymentMethods">;

export type UserSection = "base" | "profile" | "subscription";
export type SettingsSection = "profile" | "security" | "notifications" | "privacy" | "payment_methods";
export type AnalyticsKind = "tracks" | "concerts";

export interface User {
  id: string;
  base: Document & { email?: string; name?: string; role?: "artist" | "fan" | "admin" };
  profile: Record<string, any>;
  subscription: Record<string, any>;
}

export interface CoinTransaction {
  id: string;
  /** Signed: positive in, negative out. */
  amount: number;
  balance_after: number;
  reason: string;
  created_at: string;
  /** `_system` for ADD and CREDIT, the other user of a transfer, null for SPEND and COST. */
  counterparty: string | null;
}

export interface Donation {
  id: string;
  from: string;
  user_id: string;
  amount: number;
  message: string | null;
  created_at: string;
  [field: string]: any;
}

export interface Message {
  id: string;
  conv: string;
  from: string;
  to: string;
  text: string;
  read: boolean;
  created_at: string;
  [field: string]: any;
}

export interface Conversation {
  conv: string;
  participants: [string, string];
  last_message: { id: string; from: string; text: string; created_at: string };
  created_at: string;
  updated_at: string;
  /** Unread messages of this conversation for the user who listed it. */
  unread: number;
  [field: string]: any;
}

/** MSG.CONVERSATION: one conversation as its participant sees it. */
export interface ConversationView {
  conversation: Omit<Conversation, "unread">;
  /** The newest messages, newest first. */
  messages: Message[];
  /** Unread messages of the conversation for the user who asked. */
  unread: number;
}

export type PaymentStatus = "pending" | "succeeded" | "failed" | "refunded";

export interface Payment extends Document {
  /** Coins CREDIT added (0 without); a refund takes them back. */
  credited: number;
  status?: PaymentStatus;
}

export interface Notification extends Document {
  read: boolean;
}

export interface Ticket extends Document {
  messages: Array<{ id: string; author: string; text: string; created_at: string; [field: string]: any }>;
}

export interface AnalyticsDay {
  date: string;
  [field: string]: number | string;
}

export interface Dashboard {
  tracks: number;
  videos: number;
  concerts: number;
  news: number;
  coins: number;
  donations: { count: number; total: number };
  unread_notifications: number;
  unread_messages: number;
}

export interface DomainDb {
  // users
  getUser(uid: string): Promise<User | null>;
  createUser(uid: string, base: DocumentInput, options?: WriteOptions): Promise<void>;
  updateUser(uid: string, section: UserSection, patch: DocumentInput): Promise<Record<string, any>>;
  updateUser(uid: string, patch: DocumentInput): Promise<Record<string, any>>;
  deleteUser(uid: string): Promise<number>;
  getUidByEmail(email: string): Promise<string | null>;
  getUserByEmail(email: string): Promise<User | null>;
  /** Admin: every user's base document in uid byte order (ascending; page.after is a uid). */
  listUsers(page?: Page): Promise<Document[]>;
  // coins
  getBalance(uid: string): Promise<number>;
  addCoins(uid: string, amount: Amount, reason: string, options?: WriteOptions): Promise<number>;
  spendCoins(uid: string, amount: Amount, reason: string, options?: WriteOptions): Promise<number>;
  transferCoins(
    from: string, to: string, amount: Amount, reason: string, options?: WriteOptions,
  ): Promise<{ fromBalance: number; toBalance: number }>;
  getCoinHistory(uid: string, page?: Page): Promise<CoinTransaction[]>;
  verifyCoins(uid: string): Promise<boolean>;
  // donations and payments
  sendDonation(
    from: string, to: string, amount: Amount, options?: WriteOptions & { message?: string },
  ): Promise<string>;
  getDonations(uid: string, page?: Page): Promise<Donation[]>;
  getDonationTotal(uid: string): Promise<number>;
  recordPayment(uid: string, payment: DocumentInput, options?: WriteOptions & { credit?: Amount }): Promise<string>;
  getPayments(uid: string, page?: Page): Promise<Document[]>;
  getPayment(uid: string, id: string): Promise<Payment | null>;
  /** A refund takes the credited coins back (InsufficientFundsError when spent). */
  updatePaymentStatus(uid: string, id: string, status: PaymentStatus, options?: WriteOptions): Promise<Payment>;
  getDonation(uid: string, id: string): Promise<Donation | null>;
  getSentDonations(uid: string, page?: Page): Promise<Donation[]>;
  // conversations
  sendMessage(conv: string, from: string, to: string, text: string, options?: WriteOptions): Promise<string>;
  getMessages(conv: string, page?: Page): Promise<Message[]>;
  /** The conversation, its newest messages and uid's unread count; null when absent or not uid's. */
  getConversation(conv: string, uid: string, options?: { limit?: number }): Promise<ConversationView | null>;
  deleteMessage(conv: string, uid: string, id: string): Promise<boolean>;
  editMessage(conv: string, uid: string, id: string, text: string): Promise<Message & { edited_at: string }>;
  markAsRead(conv: string, uid: string): Promise<number>;
  getConversations(uid: string, page?: Page): Promise<Conversation[]>;
  getUnreadMessageCount(uid: string): Promise<number>;
  // notifications
  createNotification(uid: string, doc: DocumentInput, options?: WriteOptions): Promise<string>;
  getNotifications(uid: string, options?: Page & { unread?: boolean }): Promise<Notification[]>;
  markNotificationAsRead(uid: string, id: string): Promise<boolean>;
  markAllNotificationsAsRead(uid: string): Promise<number>;
  getUnreadCount(uid: string): Promise<number>;
  deleteNotification(uid: string, id: string): Promise<boolean>;
  // e-mail
  subscribeEmail(uid: string, list: string): Promise<boolean>;
  unsubscribeEmail(uid: string, list: string): Promise<boolean>;
  getEmailSubscriptions(uid: string): Promise<string[]>;
  /** The same as subscribeEmail. */
  subscribe(uid: string, list: string): Promise<boolean>;
  /** The same as unsubscribeEmail. */
  unsubscribe(uid: string, list: string): Promise<boolean>;
  /** The same as getEmailSubscriptions. */
  getSubscriptions(uid: string): Promise<string[]>;
  logEmail(uid: string, doc: DocumentInput, options?: WriteOptions): Promise<string>;
  getEmailHistory(uid: string, page?: Page): Promise<Document[]>;
  // support tickets
  createTicket(uid: string, doc: DocumentInput, options?: WriteOptions): Promise<string>;
  replyToTicket(ticket: string, author: string, text: string, options?: WriteOptions): Promise<string>;
  getTicket(ticket: string): Promise<Ticket | null>;
  getUserTickets(uid: string, page?: Page): Promise<Document[]>;
  closeTicket(ticket: string): Promise<boolean>;
  reopenTicket(ticket: string): Promise<boolean>;
  /** Admin: every open ticket, newest first. */
  getOpenTickets(page?: Page): Promise<Document[]>;
  // settings, analytics, dashboard
  getSettings(uid: string, section: SettingsSection): Promise<Record<string, any>>;
  updateSettings(uid: string, section: SettingsSection, patch: DocumentInput): Promise<Record<string, any>>;
  incrementAnalytics(
    kind: AnalyticsKind, id: string, date: string | Date, field: string, n?: number,
  ): Promise<number>;
  getAnalytics(kind: AnalyticsKind, id: string, from: string | Date, to: string | Date): Promise<AnalyticsDay[]>;
  getDashboard(uid: string): Promise<Dashboard>;
}

/** Every helper of the db module. */
export type DbApi = EntityDb & DomainDb;

/** What createKv/createDb need of a client. */
export interface CommandSender {
  command(name: string, args?: Array<string | number | bigint | Buffer>, options?: WriteOptions): Promise<any>;
}
