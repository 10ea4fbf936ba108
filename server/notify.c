/* Notifications: the one function that creates them (see notify.h for the
 * keys). The document, its unread-index entry and the unread counter are
 * written in the caller's batch, so the counter always equals the entries
 * of the index, and the index the unread documents.
 */
#include "encoding.h"
#include "notify.h"

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
    uint64_t id = dom_new_id(c);
    char ids[17];
    dom_format_id(ids, id);
    dom_stamp_new(n, id, uid);
    json_object_del(n, "updated_at"); /* SPEC §4.5: id, user_id, read, created_at */
    json_object_set_new(n, "read", json_false());
    dkey k;
    dkey_fmt(&k, "notifications:%s:%s", uid, ids);
    int r = dom_put_doc(c, &k, n, 0);
    json_decref(n);
    if (r < 0) return -1;
    dkey u, cnt;
    dkey_fmt(&u, "nunread:%s:%s", uid, ids);
    meta_put(c, &u, "", 0);
    dkey_fmt(&cnt, "ncount:%s", uid);
    if (meta_add_i64(c, &cnt, 1, NULL) < 0) return -1;
    if (id_out) *id_out = id;
    return 0;
}

int notify_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey docs, idx, hi, cnt; /* a uid holds no ':', so these are exactly uid's */
    dkey_fmt(&docs, "notifications:%s:", uid);
    int64_t n = db_delete_prefix(c, 0, docs.buf, docs.len);
    if (n < 0) return -1;
    dkey_fmt(&idx, "nunread:%s:", uid);
    hi.len = enc_prefix_end(hi.buf, idx.buf, idx.len);
    store_del_range(c->srv->tx, STORE_CF_META, idx.buf, idx.len, hi.buf, hi.len);
    dkey_fmt(&cnt, "ncount:%s", uid);
    meta_del(c, &cnt);
    *removed += n;
    return 0;
}
