/* E-mail (SPEC §4.5): a user's list subscriptions and the log of e-mails
 * sent to them.
 *
 * Keys (data CF, database 0; no engine-internal entries):
 *   email:{uid}:subscriptions    {"user_id": uid, "lists": [names...],
 *                                 "updated_at"}: one document (SPEC §5), the
 *                                 list names (UTF-8 names, dom_valid_name
 *                                 key-safe: 1..64 bytes, no control
 *                                 characters, no ':'; never part of a key
 *                                 today) sorted in byte order, no
 *                                 duplicates, at most EMAIL_LISTS_MAX; absent
 *                                 when the user has no subscription (the last
 *                                 EMAIL.UNSUBSCRIBE deletes it)
 *   email:{uid}:history:{id}     one logged e-mail: the caller's fields + id,
 *                                 user_id, created_at, updated_at
 * Everything of a user is under the prefix "email:{uid}:" (a uid holds no
 * ':'), which is how USER.DELETE finds it. The meta CF's "email:" entries
 * are USER's e-mail address index, another column family: no collision.
 *
 * Invariant: "lists" is strictly increasing in byte order (so
 * EMAIL.SUBSCRIPTIONS is a plain read and membership a binary search),
 * every member a valid name, never empty (the document is deleted with its
 * last list). A change of membership is written only when it changes.
 */
#include <string.h>

#include "email.h"

void email_key_subscriptions(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "email:%s:subscriptions", uid);
}

void email_key_log(dkey *k, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "email:%s:history:%s", uid, id);
}

void email_key_history(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "email:%s:history:", uid);
}

void email_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "email:%s:", uid);
}

/* Reads the subscriptions document at k: *doc a new reference (a fresh
 * {"user_id", "lists": []} when absent) and *lists its array (borrowed).
 * Returns 1 stored, 0 absent, -1. */
static int load_subs(struct dom_engine *e, const char *uid, const dkey *k, json_t **doc, json_t **lists) {
    int failed;
    *doc = dom_get_doc(e->ks, k, &failed);
    if (failed) return -1;
    if (!*doc) {
        *doc = json_object();
        *lists = json_array();
        if (!*doc || !*lists || json_object_set_new(*doc, "user_id", json_string(uid)) < 0 ||
            json_object_set(*doc, "lists", *lists) < 0) {
            json_decref(*doc);
            json_decref(*lists);
            return dom_fail(e, ST_NOMEM, "out of memory");
        }
        json_decref(*lists); /* *doc holds it */
        return 0;
    }
    *lists = json_object_get(*doc, "lists");
    int ok = json_is_array(*lists);
    for (size_t i = 0; ok && i < json_array_size(*lists); i++) ok = json_is_string(json_array_get(*lists, i));
    if (!ok) { /* only a write around the engine (domain-write-guard no) gets here */
        json_decref(*doc);
        return dom_fail(e, ST_ERR, "stored document at '%.*s' is not a subscriptions document", (int)k->len,
                        k->buf);
    }
    return 1;
}

/* Binary search for name in the sorted lists: its position, or where it
 * would go; *found says which. */
static size_t find_list(const json_t *lists, const char *name, size_t nl, int *found) {
    size_t lo = 0, hi = json_array_size(lists);
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const json_t *s = json_array_get(lists, mid);
        size_t sl = json_string_length(s), m = sl < nl ? sl : nl;
        int cmp = memcmp(json_string_value(s), name, m);
        if (cmp == 0) cmp = (sl > nl) - (sl < nl);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int email_set_subscribed(struct dom_engine *e, const char *uid, const char *list, int on) {
    dkey k;
    email_key_subscriptions(&k, uid);
    json_t *doc, *lists;
    int existed = load_subs(e, uid, &k, &doc, &lists);
    if (existed < 0) return -1;
    int found, rc = -1;
    size_t pos = find_list(lists, list, strlen(list), &found);
    if (found == on) { /* already so: no write */
        rc = 0;
        goto out;
    }
    if (on) {
        if (json_array_size(lists) >= EMAIL_LISTS_MAX) {
            dom_fail(e, ST_INVALID, "too many e-mail lists (max %d)", EMAIL_LISTS_MAX);
            goto out;
        }
        if (json_array_insert_new(lists, pos, json_string(list)) < 0) {
            dom_fail(e, ST_NOMEM, "out of memory");
            goto out;
        }
    } else {
        json_array_remove(lists, pos);
    }
    if (json_array_size(lists) == 0) {
        if (dom_del(e->ks, &k) < 0) goto out;
    } else {
        dom_stamp_update(doc);
        if (dom_put_doc(e->ks, &k, doc, existed) < 0) goto out;
    }
    rc = 1;
out:
    json_decref(doc);
    return rc;
}

int email_subscriptions(struct dom_engine *e, const char *uid, json_t **lists) {
    dkey k;
    email_key_subscriptions(&k, uid);
    json_t *doc;
    if (load_subs(e, uid, &k, &doc, lists) < 0) return -1;
    json_incref(*lists);
    json_decref(doc);
    return 0;
}

int email_log(struct dom_engine *e, const char *uid, json_t *doc, char id_out[DOM_ID_HEX + 1]) {
    uint64_t id = dom_new_id(e);
    dom_format_id(id_out, id);
    dom_stamp_new(doc, id, uid);
    dkey k;
    email_key_log(&k, uid, id_out);
    return dom_put_doc(e->ks, &k, doc, 0);
}

int email_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey p; /* a uid holds no ':', so this is exactly uid's */
    email_key_user(&p, uid);
    int64_t n = db_delete_prefix(e->ks, 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}
