// The platform's domain helpers over the domain commands (SPEC §4).
//
// Degradation: a read of something absent is null (one document) or []
// (a list); a write that cannot be done throws a typed error; a connection
// failure throws TransportError. Helpers that create something accept
// `{ idempotencyKey }` (otherwise the client makes one per call).

import { decode } from "./kv-impl.js";

// The eight entity namespaces of SPEC §4.1: one table, one generator.
//   ns: the command prefix; one/many: the names in the helpers
//   promoted: has NS.PROMOTE/UNPROMOTE/PROMOTED; active: has BANNER.ACTIVE;
//   cost: NS.CREATE takes [COST coins]; feed: has NS.FEED (every document)
export const ENTITIES = Object.freeze([
  { ns: "TRACK", one: "Track", many: "Tracks", feed: true },
  { ns: "VIDEO", one: "Video", many: "Videos", feed: true },
  { ns: "CONCERT", one: "Concert", many: "Concerts", promoted: true, feed: true },
  { ns: "NEWS", one: "News", many: "News", promoted: true, feed: true },
  { ns: "BANNER", one: "Banner", many: "Banners", active: true },
  { ns: "PROMO", one: "PromotionCampaign", many: "PromotionCampaigns", cost: true },
  { ns: "PITCH", one: "PitchingSubmission", many: "PitchingSubmissions", cost: true },
  { ns: "PAYMETHOD", one: "PaymentMethod", many: "PaymentMethods" },
]);

const USER_SECTIONS = new Set(["base", "profile", "subscription"]);

// [AFTER id] [LIMIT n] from {after, limit}.
function pageArgs(page = {}) {
  const a = [];
  if (page.after !== undefined && page.after !== null) a.push("AFTER", page.after);
  if (page.limit !== undefined && page.limit !== null) a.push("LIMIT", page.limit);
  return a;
}

function json(value, what) {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`stagekv: ${what} cannot be JSON-encoded`);
  return text;
}

const one = decode; // bulk JSON or nil -> object or null
const many = (arr) => arr.map(decode); // array of bulk JSON -> objects
const flag = (n) => n === 1; // :1 / :0 -> boolean
const ymd = (d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d);

// The helpers of one entity namespace.
function entityHelpers(c, e) {
  const { ns, one: One, many: Many } = e;
  const h = {
    /** Creates a document owned by uid; resolves its id. */
    [`create${One}`]: (uid, doc, opts = {}) => {
      const args = [uid, json(doc, `${One} document`)];
      if (e.cost && opts.cost !== undefined && opts.cost !== null) args.push("COST", opts.cost);
      return c.command(`${ns}.CREATE`, args, opts);
    },
    /** The document, or null. */
    [`get${One}`]: async (uid, id) => one(await c.command(`${ns}.GET`, [uid, id])),
    /** uid's documents, newest first ([] when none). */
    [`getUser${Many}`]: async (uid, page) => many(await c.command(`${ns}.LIST`, [uid, ...pageArgs(page)])),
    /** Merge-patches the document; resolves the new one (NotFoundError if absent). */
    [`update${One}`]: async (uid, id, patch) =>
      one(await c.command(`${ns}.UPDATE`, [uid, id, json(patch, "patch")])),
    /** Deletes the document; true if it existed. */
    [`delete${One}`]: async (uid, id) => flag(await c.command(`${ns}.DELETE`, [uid, id])),
    /** How many documents uid has (a maintained counter). */
    [`count${Many}`]: (uid) => c.command(`${ns}.COUNT`, [uid]),
  };
  if (e.promoted) {
    h[`promote${One}`] = async (uid, id) => flag(await c.command(`${ns}.PROMOTE`, [uid, id]));
    h[`unpromote${One}`] = async (uid, id) => flag(await c.command(`${ns}.UNPROMOTE`, [uid, id]));
    h[`getPromoted${Many}`] = async (page) => many(await c.command(`${ns}.PROMOTED`, pageArgs(page)));
  }
  if (e.feed) {
    /** Every document of the namespace, all users, newest first (a public feed). */
    h[`get${One}Feed`] = async (page) => many(await c.command(`${ns}.FEED`, pageArgs(page)));
  }
  if (e.active) {
    h[`getActive${Many}`] = async (page) => many(await c.command(`${ns}.ACTIVE`, pageArgs(page)));
  }
  return h;
}

/** Every helper, bound to a client (anything with `command(name, args, opts)`). */
export function createDb(c) {
  const db = {};
  for (const e of ENTITIES) Object.assign(db, entityHelpers(c, e));

  Object.assign(db, {
    // ---- users (SPEC §4.2)
    /** {id, base, profile, subscription}, or null. */
    getUser: async (uid) => one(await c.command("USER.GET", [uid])),
    /** Creates a user from its base fields (email, name, role); ConflictError if taken. */
    createUser: async (uid, base, opts = {}) => {
      await c.command("USER.CREATE", [uid, json(base, "user")], opts);
    },
    /**
     * Merge-patches one section (base | profile | subscription) and resolves
     * its new JSON; updateUser(uid, patch) patches base.
     */
    updateUser: async (uid, section, patch) => {
      if (typeof section !== "string") [section, patch] = ["base", section];
      if (!USER_SECTIONS.has(section)) {
        throw new TypeError(`stagekv updateUser: section must be base, profile or subscription, not '${section}'`);
      }
      return one(await c.command("USER.UPDATE", [uid, section, json(patch, "patch")]));
    },
    /** Deletes everything of a user; resolves the number of keys removed. */
    deleteUser: (uid) => c.command("USER.DELETE", [uid]),
    /** The uid of an email address (ASCII case-insensitive), or null. */
    getUidByEmail: (email) => c.command("USER.BYEMAIL", [email]),
    /** The user of an email address, or null. */
    getUserByEmail: async (email) => {
      const uid = await c.command("USER.BYEMAIL", [email]);
      return uid === null ? null : one(await c.command("USER.GET", [uid]));
    },
    /** Admin: every user's base document in uid byte order (ascending; page.after is a uid). */
    listUsers: async (page) => many(await c.command("USER.LIST", pageArgs(page))),

    // ---- coins (SPEC §4.3); amounts are integers (number, bigint or digits)
    getBalance: (uid) => c.command("COINS.BALANCE", [uid]),
    /** Resolves the new balance. */
    addCoins: (uid, amount, reason, opts = {}) => c.command("COINS.ADD", [uid, amount, reason], opts),
    /** Resolves the new balance; InsufficientFundsError and nothing changes. */
    spendCoins: (uid, amount, reason, opts = {}) => c.command("COINS.SPEND", [uid, amount, reason], opts),
    /** Resolves {fromBalance, toBalance}. */
    transferCoins: async (from, to, amount, reason, opts = {}) => {
      const [fromBalance, toBalance] = await c.command("COINS.TRANSFER", [from, to, amount, reason], opts);
      return { fromBalance, toBalance };
    },
    /** Ledger rows {id, amount, balance_after, reason, created_at, counterparty}, newest first. */
    getCoinHistory: async (uid, page) => many(await c.command("COINS.HISTORY", [uid, ...pageArgs(page)])),
    /** true when the ledger of uid is consistent; StagekvError naming the broken invariant otherwise. */
    verifyCoins: async (uid) => (await c.command("COINS.VERIFY", [uid])) === "OK",

    // ---- donations and payments (SPEC §4.4)
    /** Resolves the donation id; opts.message is the donor's text. */
    sendDonation: (from, to, amount, opts = {}) => {
      const args = [from, to, amount];
      if (opts.message !== undefined && opts.message !== null) args.push("MESSAGE", opts.message);
      return c.command("DONATION.SEND", args, opts);
    },
    getDonations: async (uid, page) => many(await c.command("DONATION.LIST", [uid, ...pageArgs(page)])),
    getDonationTotal: (uid) => c.command("DONATION.TOTAL", [uid]),
    /** Resolves the payment id; opts.credit adds that many coins in the same step. */
    recordPayment: (uid, payment, opts = {}) => {
      const args = [uid, json(payment, "payment")];
      if (opts.credit !== undefined && opts.credit !== null) args.push("CREDIT", opts.credit);
      return c.command("PAYMENT.RECORD", args, opts);
    },
    getPayments: async (uid, page) => many(await c.command("PAYMENT.LIST", [uid, ...pageArgs(page)])),
    /** The payment document, or null. */
    getPayment: async (uid, id) => one(await c.command("PAYMENT.GET", [uid, id])),
    /**
     * Moves a payment to status (pending -> succeeded | failed, succeeded ->
     * refunded); resolves the new document. A refund takes the credited coins
     * back (InsufficientFundsError when they were spent); InvalidError for a
     * move that is not allowed.
     */
    updatePaymentStatus: async (uid, id, status, opts = {}) =>
      one(await c.command("PAYMENT.STATUS", [uid, id, status], opts)),
    /** The donation the artist uid received, or null. */
    getDonation: async (uid, id) => one(await c.command("DONATION.GET", [uid, id])),
    /** The donations uid sent (the artists' records), newest first. */
    getSentDonations: async (uid, page) => many(await c.command("DONATION.SENT", [uid, ...pageArgs(page)])),

    // ---- conversations (SPEC §4.5)
    /** Resolves the message id. */
    sendMessage: (conv, from, to, text, opts = {}) => c.command("MSG.SEND", [conv, from, to, text], opts),
    /** A conversation's messages, newest first. */
    getMessages: async (conv, page) => many(await c.command("MSG.HISTORY", [conv, ...pageArgs(page)])),
    /** Marks the messages of conv addressed to uid read; resolves how many changed. */
    markAsRead: (conv, uid) => c.command("MSG.READ", [conv, uid]),
    /** uid's conversations, latest activity first, each with its `unread` count. */
    getConversations: async (uid, page) =>
      many(await c.command("MSG.CONVERSATIONS", [uid, ...pageArgs(page)])),
    getUnreadMessageCount: (uid) => c.command("MSG.UNREAD", [uid]),
    /** Deletes uid's own message; true if deleted (false: missing or another's). */
    deleteMessage: async (conv, uid, id) => flag(await c.command("MSG.DELETE", [conv, uid, id])),
    /** Edits uid's own message; resolves it with `edited_at` (NotFoundError: missing or another's). */
    editMessage: async (conv, uid, id, text) => one(await c.command("MSG.EDIT", [conv, uid, id, text])),
    /**
     * {conversation, messages (newest first, options.limit, default 50), unread
     * (uid's)} in one call, or null when conv is absent or not uid's.
     */
    getConversation: async (conv, uid, options = {}) => {
      const args = [conv, uid];
      if (options.limit !== undefined && options.limit !== null) args.push("LIMIT", options.limit);
      return one(await c.command("MSG.CONVERSATION", args));
    },

    // ---- notifications
    /** Resolves the notification id. */
    createNotification: (uid, doc, opts = {}) =>
      c.command("NOTIFY.CREATE", [uid, json(doc, "notification")], opts),
    /** Newest first; {unread: true} for the unread ones only. */
    getNotifications: async (uid, page = {}) => {
      const args = [uid, ...pageArgs(page)];
      if (page.unread) args.push("UNREAD");
      return many(await c.command("NOTIFY.LIST", args));
    },
    /** true if it changed (false: already read, missing or another user's). */
    markNotificationAsRead: async (uid, id) => flag(await c.command("NOTIFY.READ", [uid, id])),
    markAllNotificationsAsRead: (uid) => c.command("NOTIFY.READALL", [uid]),
    getUnreadCount: (uid) => c.command("NOTIFY.UNREAD", [uid]),
    /** true if deleted (false: missing or another user's). */
    deleteNotification: async (uid, id) => flag(await c.command("NOTIFY.DELETE", [uid, id])),

    // ---- e-mail
    /** true if it changed. */
    subscribeEmail: async (uid, list) => flag(await c.command("EMAIL.SUBSCRIBE", [uid, list])),
    unsubscribeEmail: async (uid, list) => flag(await c.command("EMAIL.UNSUBSCRIBE", [uid, list])),
    /** List names in byte order. */
    getEmailSubscriptions: (uid) => c.command("EMAIL.SUBSCRIPTIONS", [uid]),
    /** Resolves the log entry's id. */
    logEmail: (uid, doc, opts = {}) => c.command("EMAIL.LOG", [uid, json(doc, "e-mail")], opts),
    getEmailHistory: async (uid, page) => many(await c.command("EMAIL.HISTORY", [uid, ...pageArgs(page)])),

    // ---- support tickets
    /** Resolves the ticket id. */
    createTicket: (uid, doc, opts = {}) => c.command("TICKET.OPEN", [uid, json(doc, "ticket")], opts),
    /** Resolves the reply's id (NotFoundError missing, InvalidError closed). */
    replyToTicket: (ticket, author, text, opts = {}) =>
      c.command("TICKET.REPLY", [ticket, author, text], opts),
    /** The ticket with its `messages`, or null. */
    getTicket: async (ticket) => one(await c.command("TICKET.GET", [ticket])),
    getUserTickets: async (uid, page) => many(await c.command("TICKET.LIST", [uid, ...pageArgs(page)])),
    /** true if closed now, false if already closed (NotFoundError missing). */
    closeTicket: async (ticket) => flag(await c.command("TICKET.CLOSE", [ticket])),
    /** true if reopened now, false if already open (NotFoundError missing). */
    reopenTicket: async (ticket) => flag(await c.command("TICKET.REOPEN", [ticket])),
    /** Admin: every open ticket of all users, newest first. */
    getOpenTickets: async (page) => many(await c.command("TICKET.OPEN.LIST", pageArgs(page))),

    // ---- settings, analytics, dashboard (SPEC §4.6)
    /** One section ({} if never set). */
    getSettings: async (uid, section) => one(await c.command("SETTINGS.GET", [uid, section])),
    updateSettings: async (uid, section, patch) =>
      one(await c.command("SETTINGS.SET", [uid, section, json(patch, "patch")])),
    /** Adds n (default 1) to a per-day counter; resolves the new value. date: 'YYYY-MM-DD' or a Date (UTC). */
    incrementAnalytics: (kind, id, date, field, n = 1) =>
      c.command("ANALYTICS.INCR", [kind, id, ymd(date), field, n]),
    /** [{date, ...fields}] per day with data, ascending. */
    getAnalytics: async (kind, id, from, to) =>
      many(await c.command("ANALYTICS.RANGE", [kind, id, ymd(from), ymd(to)])),
    /** {tracks, videos, concerts, news, coins, donations: {count, total}, unread_notifications, unread_messages}. */
    getDashboard: async (uid) => one(await c.command("DASHBOARD.GET", [uid])),
  });

  // The platform's other names for the same helpers.
  db.subscribe = db.subscribeEmail;
  db.unsubscribe = db.unsubscribeEmail;
  db.getSubscriptions = db.getEmailSubscriptions;
  return db;
}
