/* Notifications: the functions that create them and mark them read (see
 * notify.h for the keys). The document, its unread-index entry and the
 * unread counter are written in the caller's batch, so the counter always
 * equals the entries of the index, and the index the unread documents.
 */
#include <string.h>

#include "encoding.h"
#include "notify.h"
#include "server.h"
#include "notify.h"

/* Index entries read per iterator by notify_read_all: no write may happen
 * while an iterator of the txn is open, so it collects, closes, writes. */
#define READALL_CHUNK 256

int notify_create(client *c, const char *uid, json_t *doc, uint64_t *id_out) {
    if (!json_is_object(doc)) {
        reply_invalid(c, "document must be a JSON object");
        return -1;
    }
    json_t *n = json_deep_copy(doc);
    if (!n) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    dom_strip_owned(n);
    json_object_del(n, "read"); /* server-owned here: a new notification is unread */
    uint64_t id = dom_new_id(c->srv->dom);
    char ids[17];
    dom_format_id(ids, id);
    dom_stamp_new(n, id, uid);
    json_object_del(n, "updated_at"); /* SPEC §4.5: id, user_id, read, created_at */
    json_object_set_new(n, "read", json_false());
    dkey k;
    dkey_fmt(&k, "notifications:%s:%s", uid, ids);
    int r = dom_put_doc(KS(c), &k, n, 0);
    json_decref(n);
    if (r < 0) return -1;
    dkey u, cnt;
    dkey_fmt(&u, "nunread:%s:%s", uid, ids);
    meta_put(KS(c), &u, "", 0);
    dkey_fmt(&cnt, "ncount:%s", uid);
    if (meta_add_i64(KS(c), &cnt, 1, NULL) < 0) return -1;
    if (id_out) *id_out = id;
    return 0;
}

int notify_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey docs, idx, hi, cnt; /* a uid holds no ':', so these are exactly uid's */
    dkey_fmt(&docs, "notifications:%s:", uid);
    int64_t n = db_delete_prefix(KS(c), 0, docs.buf, docs.len);
    if (n < 0) return -1;
    dkey_fmt(&idx, "nunread:%s:", uid);
    hi.len = enc_prefix_end(hi.buf, idx.buf, idx.len);
    store_del_range(c->srv->ks.tx, STORE_CF_META, idx.buf, idx.len, hi.buf, hi.len);
    dkey_fmt(&cnt, "ncount:%s", uid);
    meta_del(KS(c), &cnt);
    *removed += n;
    return 0;
}

/* Sets read:true on notifications:{uid}:{id}: 1 changed, 0 absent or
 * already read, -1 replied. */
static int doc_set_read(client *c, const char *uid, const char *id) {
    dkey k;
    dkey_fmt(&k, "notifications:%s:%s", uid, id);
    int failed, r = 0;
    json_t *doc = dom_get_doc(KS(c), &k, &failed);
    if (failed) return -1;
    if (!doc) return 0;
    if (json_is_object(doc) && !json_is_true(json_object_get(doc, "read"))) {
        json_object_set_new(doc, "read", json_true());
        r = dom_put_doc(KS(c), &k, doc, 1) < 0 ? -1 : 1;
    }
    json_decref(doc);
    return r;
}

int notify_mark_read(client *c, const char *uid, const char *id) {
    dkey ik, cnt;
    dkey_fmt(&ik, "nunread:%s:%s", uid, id);
    store_val v;
    int indexed = meta_get(KS(c), &ik, &v);
    if (indexed < 0) return -1;
    if (indexed) store_val_free(&v);
    int r = doc_set_read(c, uid, id);
    if (r < 0) return -1;
    if (indexed) {
        meta_del(KS(c), &ik);
        dkey_fmt(&cnt, "ncount:%s", uid);
        if (meta_add_i64(KS(c), &cnt, -1, NULL) < 0) return -1;
    }
    return r;
}

int notify_read_all(client *c, const char *uid, int64_t *changed) {
    char ids[READALL_CHUNK][DOM_ID_MAX + 1], hi[DOM_KEY_MAX];
    dkey lo, cnt;
    dkey_fmt(&lo, "nunread:%s:", uid);
    const size_t pl = lo.len;
    const size_t hl = enc_prefix_end(hi, lo.buf, lo.len);
    int64_t n = 0;
    for (;;) {
        store_iter *it = store_iter_new(c->srv->ks.tx, STORE_CF_META, lo.buf, lo.len, hi, hl);
        if (!it) {
            reply_error(c, "ERR out of memory");
            return -1;
        }
        int got = 0;
        for (; got < READALL_CHUNK && store_iter_valid(it); store_iter_next(it)) {
            size_t kl;
            const char *k = store_iter_key(it, &kl);
            size_t idl = kl - pl; /* kl > pl: the bounds hold the prefix */
            if (idl > DOM_ID_MAX) idl = DOM_ID_MAX; /* never written by this module */
            memcpy(ids[got], k + pl, idl);
            ids[got++][idl] = 0;
        }
        char *err = NULL;
        int bad = store_iter_error(it, &err);
        store_iter_free(it);
        if (bad < 0) {
            reply_storage_error(c, err);
            return -1;
        }
        if (got == 0) break;
        for (int i = 0; i < got; i++) {
            int r = doc_set_read(c, uid, ids[i]);
            if (r < 0) return -1;
            n += r;
            dkey ik;
            dkey_fmt(&ik, "nunread:%s:%s", uid, ids[i]);
            meta_del(KS(c), &ik);
        }
        /* the next chunk starts just past the last entry taken */
        dkey_fmt(&lo, "nunread:%s:%s", uid, ids[got - 1]);
        lo.buf[lo.len++] = 0;
    }
    /* the index is empty now: so is the counter */
    dkey_fmt(&cnt, "ncount:%s", uid);
    meta_del(KS(c), &cnt);
    *changed = n;
    return 0;
}

/* nunread:{uid}:{id} -> notifications:{uid}:{id} */
static int unread_doc(const char *id, size_t il, const char *val, size_t vl, dkey *doc, void *uid) {
    (void)val;
    (void)vl;
    dkey_fmt(doc, "notifications:%s:%.*s", (const char *)uid, (int)il, id);
    return 1;
}

int notify_list_unread(client *c, const char *uid, const dom_page *pg) {
    dkey lo;
    dkey_fmt(&lo, "nunread:%s:", uid);
    return dom_list_index(c, &lo, pg, unread_doc, (void *)uid);
}

int notify_unread_count(client *c, const char *uid, int64_t *out) {
    dkey cnt;
    dkey_fmt(&cnt, "ncount:%s", uid);
    return meta_get_i64(KS(c), &cnt, out);
}
