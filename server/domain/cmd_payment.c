/* PAYMENT.* (SPEC §4.4): external payments, their dedup, and their credit.
 *
 * Keys:
 *   data CF  payments:{uid}:transactions:{id}   the payment document: the
 *            caller's fields + id, user_id, created_at, updated_at
 *   meta CF  "paydedup:" provider "\0" external_id -> the payment id (16 hex)
 *            Neither part can hold a NUL (documents refuse \u0000), so the
 *            first NUL splits the key unambiguously. Kept forever: payment
 *            providers resend webhooks for days; USER.DELETE leaves them
 *            (they hold no personal data).
 *   (payments:{uid}:method:{id} belongs to PAYMETHOD, not to these commands.)
 *
 * PAYMENT.RECORD is one batch: the document, the dedup record and, with
 * CREDIT, the ledger row and balance (ledger_apply, reason "payment",
 * counterparty "_system"). A (provider, external_id) pair is recorded at
 * most once, whoever the uid: a second record is -CONFLICT and writes
 * nothing. The pair takes part only when both members are present; then
 * both must be strings (provider 1..64 bytes, external_id 1..255 bytes), so
 * a webhook cannot slip past the dedup by sending a number.
 */
#include <string.h>

#include "domain.h"
#include "ledger.h"
#include "server.h"
#include "cmd_payment.h"

#define PROVIDER_MAX 64
#define EXTERNAL_ID_MAX 255

static const char DEDUP_PREFIX[] = "paydedup:";

/* The dedup key of a document: 1 built, 0 the document has no pair, -1
 * replied -INVALID. */
static int dedup_key(client *c, const json_t *doc, dkey *k) {
    const json_t *p = json_object_get(doc, "provider"), *x = json_object_get(doc, "external_id");
    if (!p || !x) return 0;
    size_t pl = json_string_length(p), xl = json_string_length(x);
    if (!json_is_string(p) || !json_is_string(x) || pl < 1 || pl > PROVIDER_MAX || xl < 1 ||
        xl > EXTERNAL_ID_MAX) {
        reply_invalid(c, "\"provider\" and \"external_id\" must be strings of 1 to %d and 1 to %d bytes",
                      PROVIDER_MAX, EXTERNAL_ID_MAX);
        return -1;
    }
    size_t n = sizeof DEDUP_PREFIX - 1;
    memcpy(k->buf, DEDUP_PREFIX, n);
    memcpy(k->buf + n, json_string_value(p), pl);
    n += pl;
    k->buf[n++] = 0;
    memcpy(k->buf + n, json_string_value(x), xl);
    k->len = n + xl;
    return 1;
}

/* PAYMENT.RECORD uid json [CREDIT coins] [IDEMP key]
 * The new payment's id. CREDIT adds coins to uid in the same step. */
static int payment_record(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    char u[DOM_ID_MAX + 1]; /* argv slices are not NUL-terminated */
    memcpy(u, uid->ptr, uid->len);
    u[uid->len] = 0;
    int64_t credit = 0;
    opt_cursor o = {c, 3};
    while (opt_more(&o)) {
        resp_slice v;
        if (!opt_is(&o, "credit")) {
            reply_syntax_error(c);
            return -1;
        }
        if (opt_value(&o, &v) < 0 || dom_amount(c, &v, &credit) < 0) return -1;
    }
    json_t *doc = dom_parse_doc(c, &c->argv[2]);
    if (!doc) return -1;
    int rc = -1;
    dkey dk, k;
    int dedup = dedup_key(c, doc, &dk);
    if (dedup < 0) goto out;
    if (dedup) {
        store_val v;
        int r = meta_get(KS(c), &dk, &v);
        if (r < 0) goto out;
        if (r == 1) {
            const json_t *p = json_object_get(doc, "provider"), *x = json_object_get(doc, "external_id");
            char sp[80], sx[80];
            resp_sanitize(sp, sizeof sp, json_string_value(p), json_string_length(p), 64);
            resp_sanitize(sx, sizeof sx, json_string_value(x), json_string_length(x), 64);
            reply_conflict(c, "payment provider '%s' external_id '%s' is already recorded as %.*s", sp, sx,
                           (int)v.len, v.ptr);
            store_val_free(&v);
            goto out;
        }
    }
    if (credit && ledger_apply(DOM(c), u, credit, "payment", "_system", NULL, NULL) < 0) goto out;
    char ids[17];
    uint64_t id = dom_new_id(c->srv->dom);
    dom_format_id(ids, id);
    dom_stamp_new(doc, id, u);
    dkey_fmt(&k, "payments:%s:transactions:%s", u, ids);
    if (dom_put_doc(KS(c), &k, doc, 0) < 0) goto out;
    if (dedup) meta_put(KS(c), &dk, ids, 16);
    reply_bulk(c, ids, 16);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* PAYMENT.LIST uid [AFTER id] [LIMIT n]
 * The user's payment documents, newest first. */
static int payment_list(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    dkey_fmt(&prefix, "payments:%.*s:transactions:", (int)uid->len, uid->ptr);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

static const cmd_def rows[] = {
    {.name = "payment.record", .proc = payment_record, .arity = -3, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP | CMD_SYNC, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid json [CREDIT coins] [IDEMP key]",
     .summary = "Records an external payment (provider + external_id unique forever); CREDIT adds coins in the same step."},
    {.name = "payment.list", .proc = payment_list, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists a user's payments, newest first."},
    CMD_TABLE_END,
};

const cmd_family payment_family = {.name = "payment", .rows = rows};
