/* Payments (SPEC §4.4): external payments, their dedup, and their credit.
 *
 * Keys:
 *   data CF  payments:{uid}:transactions:{id}   the payment document: the
 *            caller's fields + id, user_id, created_at, updated_at and
 *            "credited" (the coins CREDIT added, 0 without; server-owned)
 *   meta CF  "paydedup:" provider "\0" external_id -> the payment id (16 hex)
 *            Neither part can hold a NUL (documents refuse \u0000), so the
 *            first NUL splits the key unambiguously. Kept forever: payment
 *            providers resend webhooks for days; USER.DELETE leaves them
 *            (they hold no personal data).
 *   (payments:{uid}:method:{id} belongs to PAYMETHOD, the entity model.)
 *
 * PAYMENT.RECORD is one batch: the document, the dedup record and, with
 * CREDIT, the ledger row and balance (ledger_apply, reason "payment",
 * counterparty "_system"). A (provider, external_id) pair is recorded at
 * most once, whoever the uid: a second record is -CONFLICT and writes
 * nothing. The pair takes part only when both members are present; then
 * both must be strings (provider 1..64 bytes, external_id 1..255 bytes), so
 * a webhook cannot slip past the dedup by sending a number.
 *
 * PAYMENT.STATUS moves "status" (absent = pending) along pending ->
 * succeeded | failed and succeeded -> refunded. A refund of a payment that
 * credited coins takes them back in the same batch (ledger row "refund",
 * -credited, counterparty "_system"); a balance below the credited amount
 * refuses the refund (INSUFFICIENT_FUNDS, nothing changes: a refund never
 * pushes a balance below zero, the operator resolves it). A document
 * written before "credited" existed counts as having credited nothing.
 */
#include <string.h>

#include "ledger.h"
#include "payment.h"

static const char DEDUP_PREFIX[] = "paydedup:";
#define DEDUP_PREFIX_LEN (sizeof DEDUP_PREFIX - 1)

void payment_key_doc(dkey *k, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "payments:%s:transactions:%s", uid, id);
}

void payment_key_list(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "payments:%s:transactions:", uid);
}

void payment_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "payments:%s:", uid);
}

void payment_key_dedup(dkey *k, const char *provider, size_t pl, const char *external_id, size_t xl) {
    assert(pl >= 1 && pl <= PAYMENT_PROVIDER_MAX && xl >= 1 && xl <= PAYMENT_EXTERNAL_ID_MAX);
    k->len = 0;
    dkey_append(k, DEDUP_PREFIX, DEDUP_PREFIX_LEN);
    dkey_append(k, provider, pl);
    dkey_append(k, "", 1); /* the NUL that splits the pair */
    dkey_append(k, external_id, xl);
}

/* The dedup key of a document: 1 built, 0 the document has no pair, -1
 * INVALID. */
static int dedup_key(struct dom_engine *e, const json_t *doc, dkey *k) {
    const json_t *p = json_object_get(doc, "provider"), *x = json_object_get(doc, "external_id");
    if (!p || !x) return 0;
    size_t pl = json_string_length(p), xl = json_string_length(x);
    if (!json_is_string(p) || !json_is_string(x) || pl < 1 || pl > PAYMENT_PROVIDER_MAX || xl < 1 ||
        xl > PAYMENT_EXTERNAL_ID_MAX)
        return dom_fail(e, ST_INVALID, "\"provider\" and \"external_id\" must be strings of 1 to %d and 1 to %d bytes",
                        PAYMENT_PROVIDER_MAX, PAYMENT_EXTERNAL_ID_MAX);
    payment_key_dedup(k, json_string_value(p), pl, json_string_value(x), xl);
    return 1;
}

int payment_record(struct dom_engine *e, const char *uid, json_t *doc, int64_t credit,
                   char id_out[DOM_ID_HEX + 1]) {
    dkey dk, k;
    int dedup = dedup_key(e, doc, &dk);
    if (dedup < 0) return -1;
    if (dedup) {
        store_val v;
        int r = meta_get(e->ks, &dk, &v);
        if (r < 0) return -1;
        if (r == 1) {
            const json_t *p = json_object_get(doc, "provider"), *x = json_object_get(doc, "external_id");
            char sp[80], sx[80];
            resp_sanitize(sp, sizeof sp, json_string_value(p), json_string_length(p), 64);
            resp_sanitize(sx, sizeof sx, json_string_value(x), json_string_length(x), 64);
            dom_fail(e, ST_CONFLICT, "payment provider '%s' external_id '%s' is already recorded as %.*s", sp, sx,
                     (int)v.len, v.ptr);
            store_val_free(&v);
            return -1;
        }
    }
    if (credit && ledger_apply(e, uid, credit, "payment", LEDGER_SYSTEM_UID, NULL, NULL) < 0) return -1;
    uint64_t id = dom_new_id(e);
    dom_format_id(id_out, id);
    dom_stamp_new(doc, id, uid);
    json_object_set_new(doc, "credited", json_integer(credit));
    payment_key_doc(&k, uid, id_out);
    if (dom_put_doc(e->ks, &k, doc, 0) < 0) return -1;
    if (dedup) meta_put(e->ks, &dk, id_out, DOM_ID_HEX);
    return 0;
}

int payment_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey p; /* a uid holds no ':', so this is exactly uid's */
    payment_key_user(&p, uid);
    int64_t n = db_delete_prefix(e->ks, 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}

json_t *payment_get(struct dom_engine *e, const char *uid, const char *id, int *failed) {
    *failed = 0;
    if (!dom_is_server_id(id, strlen(id))) return NULL; /* never a payment's id */
    dkey k;
    payment_key_doc(&k, uid, id);
    return dom_get_doc(e->ks, &k, failed);
}

static const char *const statuses[] = {"pending", "succeeded", "failed", "refunded", NULL};

static int known_status(const char *s) {
    for (size_t i = 0; statuses[i]; i++)
        if (strcmp(statuses[i], s) == 0) return 1;
    return 0;
}

/* The allowed moves: pending -> succeeded | failed, succeeded -> refunded. */
static int allowed_move(const char *from, const char *to) {
    if (strcmp(from, "pending") == 0) return strcmp(to, "succeeded") == 0 || strcmp(to, "failed") == 0;
    if (strcmp(from, "succeeded") == 0) return strcmp(to, "refunded") == 0;
    return 0;
}

int payment_set_status(struct dom_engine *e, const char *uid, const char *id, const char *status, json_t **doc_out) {
    *doc_out = NULL;
    if (!known_status(status))
        return dom_fail(e, ST_INVALID, "status must be pending, succeeded, failed or refunded");
    int failed;
    json_t *doc = payment_get(e, uid, id, &failed);
    if (failed) return -1;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return dom_fail(e, ST_NOTFOUND, "no payment '%s' of '%s'", id, uid);
    }
    const json_t *cur = json_object_get(doc, "status");
    const char *from = !cur ? PAYMENT_STATUS_PENDING : json_is_string(cur) ? json_string_value(cur) : NULL;
    if (from && strcmp(from, status) == 0) { /* the same status again: unchanged */
        *doc_out = doc;
        return 0;
    }
    if (!from || !known_status(from) || !allowed_move(from, status)) {
        char cs[80];
        resp_sanitize(cs, sizeof cs, from ? from : "?", from ? strlen(from) : 1, 64);
        json_decref(doc);
        return dom_fail(e, ST_INVALID, "payment '%s' cannot move from %s to %s", id, cs, status);
    }
    if (strcmp(status, "refunded") == 0) {
        const json_t *cr = json_object_get(doc, "credited");
        json_int_t credited = json_is_integer(cr) ? json_integer_value(cr) : 0;
        if (credited > 0 && ledger_apply(e, uid, -(int64_t)credited, "refund", LEDGER_SYSTEM_UID, NULL, NULL) < 0) {
            json_decref(doc);
            return -1;
        }
    }
    json_object_set_new(doc, "status", json_string(status));
    dom_stamp_update(doc);
    dkey k;
    payment_key_doc(&k, uid, id);
    if (dom_put_doc(e->ks, &k, doc, 1) < 0) {
        json_decref(doc);
        return -1;
    }
    *doc_out = doc;
    return 0;
}
