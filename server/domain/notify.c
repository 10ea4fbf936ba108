/* Notifications: the functions that create them and mark them read.
 *
 * Keys:
 *   data CF  notifications:{uid}:{id}        the document: the caller's fields +
 *                                           id, user_id, read:false, created_at
 *                                           (read becomes true; nothing else changes)
 *   meta CF  "nunread:" uid ":" id  -> ""    unread index (one entry per unread doc)
 *   meta CF  "ncount:" uid          -> i64   unread counter (= entries of the index)
 *
 * Invariant (the document, its unread-index entry and the counter are
 * written in the caller's batch, so it holds across crashes too): an index
 * entry exists iff its document exists with read:false, and the counter
 * equals the number of index entries. NOTIFY.LIST ... UNREAD and
 * NOTIFY.READALL walk the index, never the read documents.
 */
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "notify.h"

/* Index entries read per iterator by notify_read_all: no write may happen
 * while an iterator of the txn is open, so it collects, closes, writes. */
#define READALL_CHUNK 256

void notify_key_doc(dkey *k, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "notifications:%s:%s", uid, id);
}

void notify_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "notifications:%s:", uid);
}

void notify_key_unread(dkey *k, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "nunread:%s:%s", uid, id);
}

void notify_key_unread_index(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "nunread:%s:", uid);
}

void notify_key_count(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "ncount:%s", uid);
}

int notify_create(struct dom_engine *e, const char *uid, json_t *doc, uint64_t *id_out) {
    if (!json_is_object(doc)) return dom_fail(e, ST_INVALID, "document must be a JSON object");
    json_t *n = json_incref(doc); /* stamped in place: both callers drop it after (notify.h) */
    dom_strip_owned(n);
    json_object_del(n, "read"); /* server-owned here: a new notification is unread */
    uint64_t id = dom_new_id(e);
    char ids[DOM_ID_HEX + 1];
    dom_format_id(ids, id);
    dom_stamp_new(n, id, uid);
    json_object_del(n, "updated_at"); /* SPEC §4.5: id, user_id, read, created_at */
    json_object_set_new(n, "read", json_false());
    dkey k;
    notify_key_doc(&k, uid, ids);
    int r = dom_put_doc(e->ks, &k, n, 0);
    if (r == 0) {
        char ch[DOM_KEY_MAX];
        snprintf(ch, sizeof ch, "notifications:%s", uid);
        dom_publish(e, ch, "notification.created", n);
    }
    json_decref(n);
    if (r < 0) return -1;
    dkey u, cnt;
    notify_key_unread(&u, uid, ids);
    meta_put(e->ks, &u, "", 0);
    notify_key_count(&cnt, uid);
    if (meta_add_i64(e->ks, &cnt, 1, NULL) < 0) return -1;
    if (id_out) *id_out = id;
    return 0;
}

int notify_import(struct dom_engine *e, const char *uid, json_t *doc, const char *id, int read) {
    if (!json_is_object(doc)) return dom_fail(e, ST_INVALID, "document must be a JSON object");
    char ids[DOM_ID_BUF], ts[32];
    dkey k;
    if (id) {
        snprintf(ids, sizeof ids, "%s", id);
        notify_key_doc(&k, uid, ids);
        int r = db_exists(e->ks, 0, k.buf, k.len);
        if (r < 0) return -1;
        if (r) return dom_fail(e, ST_CONFLICT, "notification '%s' of '%s' exists", ids, uid);
        if (dom_see_id(e, ids) < 0) return -1;
    } else {
        dom_format_id(ids, dom_new_id(e));
        notify_key_doc(&k, uid, ids);
    }
    json_t *n = json_deep_copy(doc); /* doc belongs to the import's plan */
    if (!n) return dom_fail(e, ST_NOMEM, "out of memory");
    dom_strip_owned(n);
    dom_iso_time(ts, now_ms());
    json_object_set_new(n, "id", json_string(ids));
    json_object_set_new(n, "user_id", json_string(uid));
    json_object_set_new(n, "read", json_boolean(read));
    json_object_set_new(n, "created_at", json_string(ts));
    int r = dom_put_doc(e->ks, &k, n, 0);
    json_decref(n);
    if (r < 0 || read) return r < 0 ? -1 : 0;
    dkey u, cnt;
    notify_key_unread(&u, uid, ids);
    meta_put(e->ks, &u, "", 0);
    notify_key_count(&cnt, uid);
    return meta_add_i64(e->ks, &cnt, 1, NULL) < 0 ? -1 : 0;
}

int notify_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey docs, idx, cnt; /* a uid holds no ':', so these are exactly uid's */
    notify_key_user(&docs, uid);
    int64_t n = db_delete_prefix(e->ks, 0, docs.buf, docs.len);
    if (n < 0) return -1;
    notify_key_unread_index(&idx, uid);
    meta_del_prefix(e->ks, &idx);
    notify_key_count(&cnt, uid);
    meta_del(e->ks, &cnt);
    *removed += n;
    return 0;
}

/* Sets read:true on notifications:{uid}:{id}: 1 changed, 0 absent or
 * already read, -1. */
static int doc_set_read(struct dom_engine *e, const char *uid, const char *id) {
    dkey k;
    notify_key_doc(&k, uid, id);
    int failed, r = 0;
    json_t *doc = dom_get_doc(e->ks, &k, &failed);
    if (failed) return -1;
    if (!doc) return 0;
    if (json_is_object(doc) && !json_is_true(json_object_get(doc, "read"))) {
        json_object_set_new(doc, "read", json_true());
        r = dom_put_doc(e->ks, &k, doc, 1) < 0 ? -1 : 1;
    }
    json_decref(doc);
    return r;
}

int notify_mark_read(struct dom_engine *e, const char *uid, const char *id) {
    dkey ik, cnt;
    notify_key_unread(&ik, uid, id);
    store_val v;
    int indexed = meta_get(e->ks, &ik, &v);
    if (indexed < 0) return -1;
    if (indexed) store_val_free(&v);
    int r = doc_set_read(e, uid, id);
    if (r < 0) return -1;
    if (indexed) {
        meta_del(e->ks, &ik);
        notify_key_count(&cnt, uid);
        if (meta_add_i64(e->ks, &cnt, -1, NULL) < 0) return -1;
    }
    return r;
}

typedef struct chunk {
    char ids[READALL_CHUNK][DOM_ID_MAX + 1];
    int n;
    const char *after; /* the last id of the previous round, or NULL */
} chunk;

static int take_id(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    (void)val;
    (void)vl;
    chunk *ch = arg;
    if (!dom_valid_id(rest, rl)) return 0; /* never written by this module */
    /* entries up to the last round's were taken (and deleted) already */
    if (ch->after && enc_bytes_cmp(rest, rl, ch->after, strlen(ch->after)) <= 0) return 0;
    memcpy(ch->ids[ch->n], rest, rl);
    ch->ids[ch->n++][rl] = 0;
    return ch->n == READALL_CHUNK;
}

int notify_read_all(struct dom_engine *e, const char *uid, int64_t *changed) {
    chunk ch;
    char last[DOM_ID_MAX + 1];
    dkey idx, cnt;
    notify_key_unread_index(&idx, uid);
    int64_t n = 0;
    ch.after = NULL;
    for (;;) {
        ch.n = 0;
        if (meta_scan(e->ks, &idx, take_id, &ch) < 0) return -1;
        if (ch.n == 0) break;
        for (int i = 0; i < ch.n; i++) {
            int r = doc_set_read(e, uid, ch.ids[i]);
            if (r < 0) return -1;
            n += r;
            dkey ik;
            notify_key_unread(&ik, uid, ch.ids[i]);
            meta_del(e->ks, &ik);
        }
        /* the next round starts past the last entry taken */
        memcpy(last, ch.ids[ch.n - 1], sizeof last);
        ch.after = last;
    }
    /* the index is empty now: so is the counter */
    notify_key_count(&cnt, uid);
    meta_del(e->ks, &cnt);
    *changed = n;
    return 0;
}

/* nunread:{uid}:{id} -> notifications:{uid}:{id} */
int notify_unread_resolve(const char *id, size_t il, const char *val, size_t vl, dkey *doc, void *uid) {
    (void)val;
    (void)vl;
    char ids[DOM_ID_MAX + 1];
    if (!dom_valid_id(id, il)) return 0;
    memcpy(ids, id, il);
    ids[il] = 0;
    notify_key_doc(doc, (const char *)uid, ids);
    return 1;
}

int notify_unread_count(struct dom_engine *e, const char *uid, int64_t *out) {
    dkey cnt;
    notify_key_count(&cnt, uid);
    return meta_get_i64(e->ks, &cnt, out);
}

int notify_delete(struct dom_engine *e, const char *uid, const char *id) {
    dkey k, ik, cnt;
    notify_key_unread(&ik, uid, id);
    store_val v;
    int indexed = meta_get(e->ks, &ik, &v);
    if (indexed < 0) return -1;
    if (indexed) store_val_free(&v);
    notify_key_doc(&k, uid, id);
    int r = dom_del(e->ks, &k);
    if (r < 0) return -1;
    if (indexed) { /* an entry without its document cannot be, but never leave one */
        meta_del(e->ks, &ik);
        notify_key_count(&cnt, uid);
        if (meta_add_i64(e->ks, &cnt, -1, NULL) < 0) return -1;
    }
    return r;
}
