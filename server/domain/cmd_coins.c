/* COINS.* and DONATION.* (SPEC §4.3-4.4): the commands over the ledger.
 *
 * Every coin movement goes through ledger.c (ledger_apply, ledger_transfer),
 * which keeps the invariants and the keys coins:{uid}:balance and
 * coins:{uid}:transactions:{id} (see ledger.h). Movers are IDEMP-capable
 * (dispatch strips and records `IDEMP key`, scoped to the first uid) and
 * synced before their reply in every fsync mode.
 *
 * Donations (DONATION.SEND is one batch: both ledger rows with reason
 * "donation", the record, the artist's figures, the notification):
 *   data CF  donations:{to}:{id}   {"id", "user_id" (the artist), "created_at",
 *                                  "from", "amount", "message" (text or null)}
 *   meta CF  "donstat:" uid -> u64 count | u64 total (big endian, 16 bytes):
 *            the donations received and their coins; absent = 0, 0. It can
 *            be rebuilt from donations:{uid}:.
 *   and a notification (notify_create) {"type": "donation", "from",
 *   "amount", "donation_id", "message"}.
 *
 * Reasons and messages are arguments, hence text: UTF-8 without NUL,
 * checked here and put into documents by the JSON encoder only.
 *
 * "_system" is readable (COINS.BALANCE, HISTORY, VERIFY) but no command
 * names it as a mover: it only receives what the engine puts there.
 */
#include <string.h>

#include "encoding.h"
#include "ledger.h"
#include "notify.h"
#include "server.h"
#include "cmd_coins.h"

#define REASON_MAX 1024
#define MESSAGE_MAX 4096

static const char SYSTEM_UID[] = LEDGER_SYSTEM_UID;

/* ---- arguments ------------------------------------------------------------------ */

/* argv[i] as a NUL-terminated uid: a valid id, or "_system" when system_ok. */
static int uid_arg(client *c, int i, int system_ok, char out[DOM_ID_MAX + 1]) {
    const resp_slice *a = &c->argv[i];
    int is_system = a->len == sizeof SYSTEM_UID - 1 && memcmp(a->ptr, SYSTEM_UID, a->len) == 0;
    if (!(system_ok && is_system) && dom_check_id(c, a) < 0) return -1;
    memcpy(out, a->ptr, a->len);
    out[a->len] = 0;
    return 0;
}

/* A text argument (reason, message): min..max bytes of UTF-8 without NUL,
 * copied NUL-terminated into out (max + 1 bytes). */
static int text_arg(client *c, const char *what, const resp_slice *a, size_t min, size_t max, char *out) {
    if (!dom_valid_text(a->ptr, a->len, min, max)) {
        reply_invalid(c, "%s must be %zu to %zu bytes of UTF-8 text without NUL", what, min, max);
        return -1;
    }
    memcpy(out, a->ptr, a->len);
    out[a->len] = 0;
    return 0;
}

/* ---- coins ----------------------------------------------------------------------- */

typedef struct coin_move {
    int64_t sign;
    const char *counterparty; /* of the row; NULL = JSON null */
} coin_move;

static const coin_move MOVE_ADD = {1, SYSTEM_UID}, MOVE_SPEND = {-1, NULL};

/* COINS.ADD uid amount reason [IDEMP key]   -> :new_balance (row counterparty "_system")
 * COINS.SPEND uid amount reason [IDEMP key] -> :new_balance, or
 *     "-INSUFFICIENT_FUNDS balance N, need M" and nothing changes
 * One handler: the row's data says which way the coins go. */
static int coins_move(client *c) {
    const coin_move *m = c->cmd->data;
    char uid[DOM_ID_MAX + 1], reason[REASON_MAX + 1];
    int64_t amount, balance;
    if (uid_arg(c, 1, 0, uid) < 0 || dom_amount(c, &c->argv[2], &amount) < 0 ||
        text_arg(c, "reason", &c->argv[3], 1, REASON_MAX, reason) < 0 || dom_no_options(c, 4) < 0)
        return -1;
    if (ledger_apply(c, uid, m->sign * amount, reason, m->counterparty, &balance, NULL) < 0) return -1;
    reply_int(c, balance);
    return 0;
}

/* COINS.TRANSFER from to amount reason [IDEMP key] -> [from_balance, to_balance]
 * A row on each side naming the other; to oneself is -INVALID. */
static int coins_transfer(client *c) {
    char from[DOM_ID_MAX + 1], to[DOM_ID_MAX + 1], reason[REASON_MAX + 1];
    int64_t amount, fb, tb;
    if (uid_arg(c, 1, 0, from) < 0 || uid_arg(c, 2, 0, to) < 0 || dom_amount(c, &c->argv[3], &amount) < 0 ||
        text_arg(c, "reason", &c->argv[4], 1, REASON_MAX, reason) < 0 || dom_no_options(c, 5) < 0)
        return -1;
    if (ledger_transfer(c, from, to, amount, reason, &fb, &tb) < 0) return -1;
    reply_array(c, 2);
    reply_int(c, fb);
    reply_int(c, tb);
    return 0;
}

/* COINS.BALANCE uid -> :N (0 for a user without coins; "_system" allowed) */
static int coins_balance(client *c) {
    char uid[DOM_ID_MAX + 1];
    int64_t b;
    if (uid_arg(c, 1, 1, uid) < 0 || ledger_balance(c, uid, &b) < 0) return -1;
    reply_int(c, b);
    return 0;
}

/* COINS.HISTORY uid [AFTER id] [LIMIT n] -> the ledger rows, newest first */
static int coins_history(client *c) {
    char uid[DOM_ID_MAX + 1];
    dom_page pg;
    if (uid_arg(c, 1, 1, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    dkey_fmt(&prefix, "coins:%s:transactions:", uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* COINS.VERIFY uid -> +OK, or -ERR naming the broken invariant. Reads every
 * row of the user: an operator's check, not a hot path. */
static int coins_verify(client *c) {
    char uid[DOM_ID_MAX + 1], why[400];
    if (uid_arg(c, 1, 1, uid) < 0) return -1;
    int r = ledger_verify(c, uid, why, sizeof why);
    if (r < 0) return -1;
    if (r == 0) {
        reply_errorf(c, "ERR ledger of '%s' is broken: %s", uid, why);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* ---- donations ------------------------------------------------------------------- */

static int donstat_read(client *c, const char *uid, dkey *k, int64_t *count, int64_t *total) {
    dkey_fmt(k, "donstat:%s", uid);
    store_val v;
    *count = *total = 0;
    int r = meta_get(KS(c), k, &v);
    if (r <= 0) return r;
    int ok = v.len == 16;
    if (ok) {
        *count = (int64_t)enc_get_u64(v.ptr);
        *total = (int64_t)enc_get_u64(v.ptr + 8);
    }
    store_val_free(&v);
    if (!ok) {
        reply_errorf(c, "ERR corrupt donation figures of '%s'", uid);
        return -1;
    }
    return 0;
}

int donation_stats(client *c, const char *uid, int64_t *count, int64_t *total) {
    dkey k;
    return donstat_read(c, uid, &k, count, total);
}

int donation_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey prefix, stat; /* a uid holds no ':', so these are exactly uid's */
    dkey_fmt(&prefix, "donations:%s:", uid);
    int64_t n = db_delete_prefix(KS(c), 0, prefix.buf, prefix.len);
    if (n < 0) return -1;
    dkey_fmt(&stat, "donstat:%s", uid);
    meta_del(KS(c), &stat);
    *removed += n;
    return 0;
}

/* The record, the figures and the notification of a donation whose coins
 * have moved. msg: a JSON string or null. */
static int donation_write(client *c, const char *from, const char *to, int64_t amount, json_t *msg,
                          const dkey *statkey, int64_t count, int64_t total, char ids[17]) {
    uint64_t id = dom_new_id(c->srv->dom);
    dom_format_id(ids, id);
    json_t *doc = json_object(), *note = json_object();
    int rc = -1;
    if (!doc || !note) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    dom_stamp_new(doc, id, to);
    json_object_del(doc, "updated_at"); /* a donation never changes */
    json_object_set_new(doc, "from", json_string(from));
    json_object_set_new(doc, "amount", json_integer(amount));
    json_object_set(doc, "message", msg);
    dkey k;
    dkey_fmt(&k, "donations:%s:%s", to, ids);
    if (dom_put_doc(KS(c), &k, doc, 0) < 0) goto out;
    char fig[16];
    enc_put_u64(fig, (uint64_t)(count + 1));
    enc_put_u64(fig + 8, (uint64_t)(total + amount));
    meta_put(KS(c), statkey, fig, sizeof fig);
    json_object_set_new(note, "type", json_string("donation"));
    json_object_set_new(note, "from", json_string(from));
    json_object_set_new(note, "amount", json_integer(amount));
    json_object_set_new(note, "donation_id", json_string(ids));
    json_object_set(note, "message", msg);
    rc = notify_create(c, to, note, NULL);
out:
    json_decref(doc);
    json_decref(note);
    return rc;
}

/* DONATION.SEND from to amount [MESSAGE text] [IDEMP key] -> the donation id
 * One step: the coins move as COINS.TRANSFER does (reason "donation" on
 * both rows), the record donations:{to}:{id}, the artist's count and
 * total, and a notification for the artist. To oneself is -INVALID. */
static int donation_send(client *c) {
    char from[DOM_ID_MAX + 1], to[DOM_ID_MAX + 1], message[MESSAGE_MAX + 1];
    int has_message = 0;
    int64_t amount;
    if (uid_arg(c, 1, 0, from) < 0 || uid_arg(c, 2, 0, to) < 0 || dom_amount(c, &c->argv[3], &amount) < 0)
        return -1;
    opt_cursor o = {c, 4};
    while (opt_more(&o)) {
        resp_slice v;
        if (!opt_is(&o, "message")) {
            reply_syntax_error(c);
            return -1;
        }
        if (opt_value(&o, &v) < 0 || text_arg(c, "MESSAGE", &v, 0, MESSAGE_MAX, message) < 0) return -1;
        has_message = 1;
    }
    if (strcmp(from, to) == 0) {
        reply_invalid(c, "a donation to oneself ('%s')", from);
        return -1;
    }
    dkey statkey;
    int64_t count, total;
    if (donstat_read(c, to, &statkey, &count, &total) < 0) return -1;
    if (total > INT64_MAX - amount) {
        reply_invalid(c, "donation total of '%s' would pass 9223372036854775807", to);
        return -1;
    }
    if (ledger_transfer(c, from, to, amount, "donation", NULL, NULL) < 0) return -1;
    json_t *msg = has_message ? json_string(message) : json_null();
    if (!msg) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    char ids[17];
    int rc = donation_write(c, from, to, amount, msg, &statkey, count, total, ids);
    json_decref(msg);
    if (rc < 0) return -1;
    reply_bulk(c, ids, 16);
    return 0;
}

/* DONATION.LIST uid [AFTER id] [LIMIT n] -> the donations received, newest first */
static int donation_list(client *c) {
    char uid[DOM_ID_MAX + 1];
    dom_page pg;
    if (uid_arg(c, 1, 0, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    dkey_fmt(&prefix, "donations:%s:", uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* DONATION.TOTAL uid -> :N coins received in donations (O(1)) */
static int donation_total(client *c) {
    char uid[DOM_ID_MAX + 1];
    int64_t count, total;
    if (uid_arg(c, 1, 0, uid) < 0 || donation_stats(c, uid, &count, &total) < 0) return -1;
    reply_int(c, total);
    return 0;
}

#define MOVER (CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP | CMD_SYNC)
#define READER (CMD_READONLY | CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "coins.balance", .proc = coins_balance, .arity = 2, .flags = READER | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid",
     .summary = "A user's coin balance (0 when none; `_system` allowed)."},
    {.name = "coins.add", .proc = coins_move, .arity = -4, .flags = MOVER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid amount reason [IDEMP key]",
     .summary = "Adds coins (a ledger row with counterparty `_system`); replies the new balance.", .data = &MOVE_ADD},
    {.name = "coins.spend", .proc = coins_move, .arity = -4, .flags = MOVER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid amount reason [IDEMP key]",
     .summary = "Spends coins; replies the new balance, or -INSUFFICIENT_FUNDS and nothing changes.", .data = &MOVE_SPEND},
    {.name = "coins.transfer", .proc = coins_transfer, .arity = -5, .flags = MOVER, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "coins", .args = "from to amount reason [IDEMP key]",
     .summary = "Moves coins between two users (a row on each side); replies [from_balance, to_balance]."},
    {.name = "coins.history", .proc = coins_history, .arity = -2, .flags = READER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "A user's ledger rows, newest first (`_system` allowed)."},
    {.name = "coins.verify", .proc = coins_verify, .arity = 2, .flags = READER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid",
     .summary = "Operator's check of a user's ledger: +OK, or -ERR naming the broken invariant (reads every row)."},
    {.name = "donation.send", .proc = donation_send, .arity = -4, .flags = MOVER, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "coins", .args = "from to amount [MESSAGE text] [IDEMP key]",
     .summary = "Donates coins to an artist in one step: both ledger rows, the record, the artist's total, a " "notification; replies the donation id."},
    {.name = "donation.list", .proc = donation_list, .arity = -2, .flags = READER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Donations a user received, newest first."},
    {.name = "donation.total", .proc = donation_total, .arity = 2, .flags = READER | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid",
     .summary = "Coins a user received in donations."},
    CMD_TABLE_END,
};

const cmd_family coins_family = {.name = "coins", .rows = rows};
