/* Donations (SPEC §4.4). DONATION.SEND is one batch: both ledger rows with
 * reason "donation" (ledger.c), the record, the artist's figures and the
 * notification (notify.c).
 *
 * Keys:
 *   data CF  donations:{to}:{id}   {"id", "user_id" (the artist), "created_at",
 *                                  "from", "amount", "message" (text or null)}
 *   meta CF  "donstat:" uid -> u64 count | u64 total (big endian, 16 bytes):
 *            the donations received and their coins; absent = 0, 0. It can
 *            be rebuilt from donations:{uid}:.
 *   meta CF  "dsent:" from ":" id -> to (the artist): the donor's sender
 *            index, for DONATION.SENT (newest first by id). An entry whose
 *            artist was deleted since names a record that is gone: the
 *            listing skips it, and the donor's USER.DELETE removes it.
 *   and a notification {"type": "donation", "from", "amount",
 *   "donation_id", "message"}.
 *
 * Invariant: donstat:{uid} = (number, sum of amounts) of donations:{uid}:,
 * written in the batch that writes the record; a record exists iff its
 * coins moved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "donation.h"
#include "encoding.h"
#include "ledger.h"
#include "notify.h"

#define STATS_LEN 16

void donation_key_doc(dkey *k, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "donations:%s:%s", uid, id);
}

void donation_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "donations:%s:", uid);
}

void donation_key_stats(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "donstat:%s", uid);
}

void donation_key_sent(dkey *k, const char *from, const char *id) {
    DOM_ASSERT_ID(from);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "dsent:%s:%s", from, id);
}

void donation_key_sent_index(dkey *k, const char *from) {
    DOM_ASSERT_ID(from);
    dkey_fmt(k, "dsent:%s:", from);
}

json_t *donation_get(struct dom_engine *e, const char *uid, const char *id, int *failed) {
    *failed = 0;
    if (!dom_is_server_id(id, strlen(id))) return NULL; /* never a donation's id */
    dkey k;
    donation_key_doc(&k, uid, id);
    return dom_get_doc(e->ks, &k, failed);
}

/* dsent:{from}:{id} -> to  =>  donations:{to}:{id} */
int donation_sent_resolve(const char *id, size_t il, const char *to, size_t tl, dkey *doc, void *arg) {
    (void)arg;
    char i[DOM_ID_MAX + 1], t[DOM_ID_MAX + 1];
    if (!dom_is_server_id(id, il) || !dom_valid_id(to, tl)) return 0; /* never written by this module */
    memcpy(i, id, il);
    i[il] = 0;
    memcpy(t, to, tl);
    t[tl] = 0;
    donation_key_doc(doc, t, i);
    return 1;
}

int donation_stats(struct dom_engine *e, const char *uid, int64_t *count, int64_t *total) {
    dkey k;
    donation_key_stats(&k, uid);
    store_val v;
    *count = *total = 0;
    int r = meta_get(e->ks, &k, &v);
    if (r <= 0) return r;
    int ok = v.len == STATS_LEN;
    if (ok) {
        *count = (int64_t)enc_get_u64(v.ptr);
        *total = (int64_t)enc_get_u64(v.ptr + 8);
    }
    store_val_free(&v);
    if (!ok) return dom_fail(e, ST_ERR, "corrupt donation figures of '%s'", uid);
    return 0;
}

int donation_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey prefix, stat; /* a uid holds no ':', so these are exactly uid's */
    donation_key_user(&prefix, uid);
    int64_t n = db_delete_prefix(e->ks, 0, prefix.buf, prefix.len);
    if (n < 0) return -1;
    donation_key_stats(&stat, uid);
    meta_del(e->ks, &stat);
    donation_key_sent_index(&stat, uid);
    meta_del_prefix(e->ks, &stat);
    *removed += n;
    return 0;
}

/* The record, the figures and the notification of a donation whose coins
 * have moved. msg: a JSON string or null. */
static int donation_write(struct dom_engine *e, const char *from, const char *to, int64_t amount, json_t *msg,
                          int64_t count, int64_t total, const char *ids, int notify, const char *legacy_id) {
    json_t *doc = json_object(), *note = json_object();
    int rc = -1;
    if (!doc || !note) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    char ts[32];
    uint64_t ms = now_ms(), idv;
    if (dom_server_id_value(ids, strlen(ids), &idv) && dom_id_ms(idv) > ms) ms = dom_id_ms(idv); /* as dom_stamp_new */
    dom_iso_time(ts, ms);
    json_object_set_new(doc, "id", json_string(ids));
    json_object_set_new(doc, "user_id", json_string(to));
    json_object_set_new(doc, "created_at", json_string(ts)); /* a donation never changes: no updated_at */
    json_object_set_new(doc, "from", json_string(from));
    json_object_set_new(doc, "amount", json_integer(amount));
    json_object_set(doc, "message", msg);
    if (legacy_id) json_object_set_new(doc, "legacy_id", json_string(legacy_id));
    dkey k;
    donation_key_doc(&k, to, ids);
    if (dom_put_doc(e->ks, &k, doc, 0) < 0) goto out;
    char fig[STATS_LEN];
    enc_put_u64(fig, (uint64_t)(count + 1));
    enc_put_u64(fig + 8, (uint64_t)(total + amount));
    donation_key_stats(&k, to);
    meta_put(e->ks, &k, fig, sizeof fig);
    donation_key_sent(&k, from, ids);
    meta_put(e->ks, &k, to, strlen(to));
    if (!notify) {
        rc = 0;
        goto out;
    }
    json_object_set_new(note, "type", json_string("donation"));
    json_object_set_new(note, "from", json_string(from));
    json_object_set_new(note, "amount", json_integer(amount));
    json_object_set_new(note, "donation_id", json_string(ids));
    json_object_set(note, "message", msg);
    rc = notify_create(e, to, note, NULL);
out:
    json_decref(doc);
    json_decref(note);
    return rc;
}

int donation_import(struct dom_engine *e, const char *to, const char *from, int64_t amount, json_t *msg,
                    const char *id) {
    if (strcmp(from, to) == 0) return dom_fail(e, ST_INVALID, "a donation to oneself ('%s')", from);
    int64_t count, total;
    if (donation_stats(e, to, &count, &total) < 0) return -1;
    if (total > INT64_MAX - amount)
        return dom_fail(e, ST_INVALID, "donation total of '%s' would pass 9223372036854775807", to);
    char ids[DOM_ID_BUF];
    dkey k;
    if (id && dom_is_server_id(id, strlen(id))) { /* donation keys hold server ids only */
        snprintf(ids, sizeof ids, "%s", id);
        donation_key_doc(&k, to, ids);
        int r = db_exists(e->ks, 0, k.buf, k.len);
        if (r < 0) return -1;
        if (r) return dom_fail(e, ST_CONFLICT, "donation '%s' of '%s' exists", ids, to);
        if (dom_see_id(e, ids) < 0) return -1;
    } else {
        dom_format_id(ids, dom_new_id(e));
    }
    int kept = id && dom_is_server_id(id, strlen(id));
    return donation_write(e, from, to, amount, msg, count, total, ids, 0, kept ? NULL : id);
}

int donation_send(struct dom_engine *e, const char *from, const char *to, int64_t amount, const char *message,
                  char id_out[DOM_ID_HEX + 1]) {
    if (strcmp(from, to) == 0) return dom_fail(e, ST_INVALID, "a donation to oneself ('%s')", from);
    int64_t count, total;
    if (donation_stats(e, to, &count, &total) < 0) return -1;
    if (total > INT64_MAX - amount)
        return dom_fail(e, ST_INVALID, "donation total of '%s' would pass 9223372036854775807", to);
    if (ledger_transfer(e, from, to, amount, "donation", NULL, NULL) < 0) return -1;
    json_t *msg = message ? json_string(message) : json_null();
    if (!msg) return dom_fail(e, ST_NOMEM, "out of memory");
    dom_format_id(id_out, dom_new_id(e));
    int rc = donation_write(e, from, to, amount, msg, count, total, id_out, 1, NULL);
    json_decref(msg);
    return rc;
}
