/* USER.DELETE (SPEC §4.2): the right to be forgotten, in one command's
 * batch, so a crash leaves the user either whole or gone.
 *
 * The command runs the purge function of every family (dom_purge_fn,
 * domain.h), in the order below, then replies the number of user-visible
 * (data CF) keys removed. Each step finds the user's data from the uid
 * alone, through per-user prefixes and indexes (a uid holds no ':', so
 * "p:{uid}:" is exactly that user's range), never by a scan of the whole
 * keyspace:
 *
 *   ledger      coins:{uid}:  (ledger_purge_user: the balance goes to
 *               _system through a ledger row first, then the range goes)
 *   donations   donations:{uid}:, meta donstat:{uid}
 *   entities    per namespace of the entity table: P:{uid}:S (tracks,
 *               videos, concerts, news, banners, promotion, pitching,
 *               payments:{uid}:method:), meta count:/owner:/feed:, and the
 *               analytics rows analytics:{tracks|concerts}:{id}: of the
 *               user's tracks and concerts (the entity delete hook)
 *   payments    payments:{uid}:  (the transactions; after the payment
 *               methods above). The meta "paydedup:" records survive: they
 *               hold no personal data and must keep refusing resent webhooks
 *   notify      notifications:{uid}:, meta nunread:{uid}:, ncount:{uid}
 *   messages    the messages uid sent (meta msent:{uid}:), uid's meta lists,
 *               pointers and unread counts; conversations keep the other
 *               side's messages (msg_purge_user)
 *   email       email:{uid}:  (subscriptions and history)
 *   settings    settings:{uid}:
 *   tickets     tickets:{ticket}: of every ticket uid opened (meta tk:{uid}:)
 *   user        users:{uid}:  (base, profile, subscription), and the meta
 *               e-mail index entry "email:" lower(base.email) when it names
 *               uid (read from the base before the base goes)
 *   idemp       meta idemp:{uid}:  (the IDEMP records scoped to uid) and
 *               their reclaim entries idempt:{created_ms}{uid}:{key}, each
 *               found from its record (whose first 8 bytes are created_ms)
 *
 * A user with no data at all is :0; there is no -NOTFOUND, since owners
 * need not exist (SPEC §4) and a retry of a deletion must not fail.
 */
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "encoding.h"
#include "entity.h"
#include "donation.h"
#include "json.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "payment.h"
#include "settings.h"
#include "ticket.h"
#include "server.h"
#include "cmd_userdel.h"

#define ID_BUF (DOM_ID_MAX + 1)

static int purge_entities(client *c, const char *uid, int64_t *removed) {
    return entity_purge_user(DOM(c), uid, removed);
}

static int purge_payments(client *c, const char *uid, int64_t *removed) {
    return payment_purge_user(DOM(c), uid, removed);
}

/* The e-mail index entry of a base document, when the base has an address
 * and the entry names uid (the rules of cmd_user.c: "email:" + the address
 * ASCII-lowercased). An entry naming another user is not uid's to delete. */
static int purge_email_index(client *c, const char *uid, const json_t *base) {
    const json_t *e = json_object_get(base, "email");
    size_t n = json_string_length(e), uidl = strlen(uid);
    if (!json_is_string(e) || n < 1 || n > DOM_KEY_MAX - 6) return 0;
    const char *p = json_string_value(e);
    dkey k;
    memcpy(k.buf, "email:", 6);
    for (size_t i = 0; i < n; i++) k.buf[6 + i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
    k.len = 6 + n;
    store_val v;
    int r = meta_get(KS(c), &k, &v);
    if (r <= 0) return r;
    int mine = v.len == uidl && memcmp(v.ptr, uid, uidl) == 0;
    store_val_free(&v);
    if (mine) meta_del(KS(c), &k);
    return 0;
}

/* users:{uid}: (base, profile, subscription) and the e-mail index entry,
 * found through the base, which is read before it goes. */
static int purge_user_docs(client *c, const char *uid, int64_t *removed) {
    dkey bk, p;
    dkey_fmt(&bk, "users:%s:base", uid);
    db_value v;
    int r = dom_get_raw(KS(c), &bk, &v);
    if (r < 0) return -1;
    if (r == 1) {
        char err[128];
        json_t *base = json_parse_any(v.v.payload, v.v.len, err, sizeof err); /* NULL: not JSON, no index */
        db_value_free(&v);
        r = base ? purge_email_index(c, uid, base) : 0;
        json_decref(base);
        if (r < 0) return -1;
    }
    dkey_fmt(&p, "users:%s:", uid);
    int64_t n = db_delete_prefix(KS(c), 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}

/* The steps, in order: the balance moves to _system before anything else
 * (so a refusal there fails early), the payment methods before the rest of
 * payments:{uid}: (their counter and hooks run), and the user documents
 * late, with the IDEMP records last. */
typedef int (*purge_step)(client *c, const char *uid, int64_t *removed);
static int ledger_step(client *c, const char *uid, int64_t *removed) { return ledger_purge_user(DOM(c), uid, removed); }
static int donation_step(client *c, const char *uid, int64_t *removed) { return donation_purge_user(DOM(c), uid, removed); }
static int msg_step(client *c, const char *uid, int64_t *removed) { return msg_purge_user(DOM(c), uid, removed); }
static int notify_step(client *c, const char *uid, int64_t *removed) { return notify_purge_user(DOM(c), uid, removed); }
static const purge_step purge_steps[] = {
    ledger_step, donation_step, purge_entities,    purge_payments,
    notify_step, msg_step,      email_purge_user,  settings_purge_user,
    ticket_purge_user, purge_user_docs,
};

/* USER.DELETE uid
 * :N user-visible keys removed (0 when uid has no data): every document and
 * internal entry of uid in every namespace, in one atomic step. */
static int user_delete(client *c) {
    char uid[ID_BUF];
    const resp_slice *a = &c->argv[1];
    if (dom_check_id(c, a) < 0) return -1;
    memcpy(uid, a->ptr, a->len);
    uid[a->len] = 0;
    int64_t removed = 0;
    for (size_t i = 0; i < sizeof purge_steps / sizeof purge_steps[0]; i++)
        if (purge_steps[i](c, uid, &removed) < 0) return -1;
    if (dom_purge_user(c->srv->dom, uid, &removed) < 0) return -1; /* the registered ones: IDEMP */
    reply_int(c, removed);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "user.delete", .proc = user_delete, .arity = 2, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0 | CMD_SYNC, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid",
     .summary = "Deletes every document and internal entry of a user in one atomic step (its coins go to _system; " "the other side of its conversations and payment dedup records stay); replies the keys removed."},
    CMD_TABLE_END,
};

const cmd_family userdel_family = {.name = "userdel", .rows = rows};
