/* COINS.* and DONATION.* (SPEC §4.3-4.4): the handlers over the ledger
 * model (ledger.c) and the donation model (donation.c), which own the keys
 * and the invariants. Movers are IDEMP-capable (dispatch strips and records
 * `IDEMP key`, scoped to the first uid) and synced before their reply in
 * every fsync mode.
 *
 * Reasons and messages are arguments, hence text: UTF-8 without NUL,
 * checked here and put into documents by the JSON encoder only.
 *
 * "_system" is readable (COINS.BALANCE, HISTORY, VERIFY) but no command
 * names it as a mover: it only receives what the engine puts there.
 */
#include <string.h>

#include "domain_args.h"
#include "domain_list.h"
#include "donation.h"
#include "ledger.h"
#include "server.h"
#include "cmd_coins.h"

#define REASON_MAX 1024
#define MESSAGE_MAX DONATION_MESSAGE_MAX

static const char SYSTEM_UID[] = LEDGER_SYSTEM_UID;

/* ---- arguments ------------------------------------------------------------------ */

/* argv[i] as a NUL-terminated uid: a valid id, or "_system" when system_ok. */
static int uid_arg(client *c, int i, int system_ok, char out[DOM_ID_BUF]) {
    const resp_slice *a = &c->argv[i];
    int is_system = ledger_valid_uid(a->ptr, a->len) && !dom_valid_id(a->ptr, a->len);
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
    char uid[DOM_ID_BUF], reason[REASON_MAX + 1];
    int64_t amount, balance;
    if (uid_arg(c, 1, 0, uid) < 0 || dom_amount(c, &c->argv[2], &amount) < 0 ||
        text_arg(c, "reason", &c->argv[3], 1, REASON_MAX, reason) < 0 || dom_no_options(c, 4) < 0)
        return -1;
    if (ledger_apply(DOM(c), uid, m->sign * amount, reason, m->counterparty, &balance, NULL) < 0) return -1;
    reply_int(c, balance);
    return 0;
}

/* COINS.TRANSFER from to amount reason [IDEMP key] -> [from_balance, to_balance]
 * A row on each side naming the other; to oneself is -INVALID. */
static int coins_transfer(client *c) {
    char from[DOM_ID_BUF], to[DOM_ID_BUF], reason[REASON_MAX + 1];
    int64_t amount, fb, tb;
    if (uid_arg(c, 1, 0, from) < 0 || uid_arg(c, 2, 0, to) < 0 || dom_amount(c, &c->argv[3], &amount) < 0 ||
        text_arg(c, "reason", &c->argv[4], 1, REASON_MAX, reason) < 0 || dom_no_options(c, 5) < 0)
        return -1;
    if (ledger_transfer(DOM(c), from, to, amount, reason, &fb, &tb) < 0) return -1;
    reply_array(c, 2);
    reply_int(c, fb);
    reply_int(c, tb);
    return 0;
}

/* COINS.BALANCE uid -> :N (0 for a user without coins; "_system" allowed) */
static int coins_balance(client *c) {
    char uid[DOM_ID_BUF];
    int64_t b;
    if (uid_arg(c, 1, 1, uid) < 0 || ledger_balance(DOM(c), uid, &b) < 0) return -1;
    reply_int(c, b);
    return 0;
}

/* COINS.HISTORY uid [AFTER id] [LIMIT n] -> the ledger rows, newest first */
static int coins_history(client *c) {
    char uid[DOM_ID_BUF];
    dom_page pg;
    if (uid_arg(c, 1, 1, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    ledger_key_rows(&prefix, uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* COINS.VERIFY uid -> +OK, or -ERR naming the broken invariant. Reads every
 * row of the user: an operator's check, not a hot path. */
static int coins_verify(client *c) {
    char uid[DOM_ID_BUF], why[400];
    if (uid_arg(c, 1, 1, uid) < 0) return -1;
    int r = ledger_verify(DOM(c), uid, why, sizeof why);
    if (r < 0) return -1;
    if (r == 0) {
        reply_errorf(c, "ERR ledger of '%s' is broken: %s", uid, why);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* ---- donations ------------------------------------------------------------------- */

/* DONATION.SEND from to amount [MESSAGE text] [IDEMP key] -> the donation id
 * One step: the coins move as COINS.TRANSFER does (reason "donation" on
 * both rows), the record donations:{to}:{id}, the artist's count and
 * total, and a notification for the artist. To oneself is -INVALID. */
static int donation_send_cmd(client *c) {
    char from[DOM_ID_BUF], to[DOM_ID_BUF], message[MESSAGE_MAX + 1];
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
    char ids[DOM_ID_HEX + 1];
    if (donation_send(DOM(c), from, to, amount, has_message ? message : NULL, ids) < 0) return -1;
    reply_bulk(c, ids, DOM_ID_HEX);
    return 0;
}

/* DONATION.LIST uid [AFTER id] [LIMIT n] -> the donations received, newest first */
static int donation_list_cmd(client *c) {
    char uid[DOM_ID_BUF];
    dom_page pg;
    if (uid_arg(c, 1, 0, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    donation_key_user(&prefix, uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* DONATION.TOTAL uid -> :N coins received in donations (O(1)) */
static int donation_total_cmd(client *c) {
    char uid[DOM_ID_BUF];
    int64_t count, total;
    if (uid_arg(c, 1, 0, uid) < 0 || donation_stats(DOM(c), uid, &count, &total) < 0) return -1;
    reply_int(c, total);
    return 0;
}

/* DONATION.GET uid id -> the donation uid received, or nil */
static int donation_get_cmd(client *c) {
    char uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0 || dom_id_arg(c, 2, id) < 0) return -1;
    int failed;
    json_t *doc = donation_get(DOM(c), uid, id, &failed);
    if (failed) return -1;
    if (!doc) {
        reply_null(c);
        return 0;
    }
    int rc = dom_reply_doc(c, doc);
    json_decref(doc);
    return rc;
}

/* DONATION.SENT uid [AFTER id] [LIMIT n] -> the donations uid sent (the
 * artists' records), newest first, through the sender index */
static int donation_sent_cmd(client *c) {
    char uid[DOM_ID_BUF];
    dom_page pg;
    if (uid_arg(c, 1, 0, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    donation_key_sent_index(&prefix, uid);
    return dom_list_index(c, &prefix, &pg, donation_sent_resolve, NULL);
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
    {.name = "donation.send", .proc = donation_send_cmd, .arity = -4, .flags = MOVER, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "coins", .args = "from to amount [MESSAGE text] [IDEMP key]",
     .summary = "Donates coins to an artist in one step: both ledger rows, the record, the artist's total, a " "notification; replies the donation id."},
    {.name = "donation.list", .proc = donation_list_cmd, .arity = -2, .flags = READER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Donations a user received, newest first."},
    {.name = "donation.total", .proc = donation_total_cmd, .arity = 2, .flags = READER | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid",
     .summary = "Coins a user received in donations."},
    {.name = "donation.get", .proc = donation_get_cmd, .arity = 3, .flags = READER | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid id",
     .summary = "A donation the artist uid received, or nil."},
    {.name = "donation.sent", .proc = donation_sent_cmd, .arity = -2, .flags = READER, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "coins", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Donations a user sent (the artists' records), newest first, through the sender index."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int coins_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "ledger", ledger_purge_user);
    dom_register_purge(s->dom, "donation", donation_purge_user);
    return 0;
}

const cmd_family coins_family = {.name = "coins", .rows = rows, .init = coins_init};
