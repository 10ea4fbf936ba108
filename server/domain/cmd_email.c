/* EMAIL.* (SPEC §4.5): list subscriptions and the e-mail log of a user.
 * Keys and the subscriptions document: see email.h.
 *
 * Invariant: "lists" of email:{uid}:subscriptions is strictly increasing in
 * byte order (so EMAIL.SUBSCRIPTIONS is a plain read and membership a
 * binary search), every member a valid id, never empty (the document is
 * deleted with its last list). SUBSCRIBE/UNSUBSCRIBE reply :1 when the
 * membership changed and :0 when it already was so (no write then).
 */
#include <string.h>

#include "email.h"
#include "server.h"
#include "cmd_email.h"

static void subs_key(dkey *k, const resp_slice *uid) {
    dkey_fmt(k, "email:%.*s:subscriptions", (int)uid->len, uid->ptr);
}

/* Reads the subscriptions document at k: *doc a new reference (a fresh
 * {"user_id", "lists": []} when absent) and *lists its array (borrowed).
 * Returns 1 stored, 0 absent, -1 replied. */
static int load_subs(client *c, const resp_slice *uid, const dkey *k, json_t **doc, json_t **lists) {
    int failed;
    *doc = dom_get_doc(KS(c), k, &failed);
    if (failed) return -1;
    if (!*doc) {
        *doc = json_object();
        *lists = json_array();
        if (!*doc || !*lists || json_object_set_new(*doc, "user_id", json_stringn(uid->ptr, uid->len)) < 0 ||
            json_object_set(*doc, "lists", *lists) < 0) {
            json_decref(*doc);
            json_decref(*lists);
            reply_error(c, "ERR out of memory");
            return -1;
        }
        json_decref(*lists); /* *doc holds it */
        return 0;
    }
    *lists = json_object_get(*doc, "lists");
    int ok = json_is_array(*lists);
    for (size_t i = 0; ok && i < json_array_size(*lists); i++) ok = json_is_string(json_array_get(*lists, i));
    if (!ok) { /* only a write around the engine (domain-write-guard no) gets here */
        reply_errorf(c, "ERR stored document at '%.*s' is not a subscriptions document", (int)k->len, k->buf);
        json_decref(*doc);
        return -1;
    }
    return 1;
}

/* Binary search for name in the sorted lists: its position, or where it
 * would go; *found says which. */
static size_t find_list(const json_t *lists, const resp_slice *name, int *found) {
    size_t lo = 0, hi = json_array_size(lists);
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const json_t *s = json_array_get(lists, mid);
        size_t sl = json_string_length(s), m = sl < name->len ? sl : name->len;
        int cmp = memcmp(json_string_value(s), name->ptr, m);
        if (cmp == 0) cmp = (sl > name->len) - (sl < name->len);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* SUBSCRIBE (subscribe = 1) and UNSUBSCRIBE (0): argv uid list. */
static int email_membership(client *c, int subscribe) {
    const resp_slice *uid = &c->argv[1], *name = &c->argv[2];
    if (dom_check_id(c, uid) < 0 || dom_check_id(c, name) < 0) return -1;
    dkey k;
    subs_key(&k, uid);
    json_t *doc, *lists;
    int existed = load_subs(c, uid, &k, &doc, &lists);
    if (existed < 0) return -1;
    int found, rc = -1;
    size_t pos = find_list(lists, name, &found);
    if (found == subscribe) { /* already so: no write */
        reply_int(c, 0);
        rc = 0;
        goto out;
    }
    if (subscribe) {
        if (json_array_size(lists) >= EMAIL_LISTS_MAX) {
            reply_invalid(c, "too many e-mail lists (max %d)", EMAIL_LISTS_MAX);
            goto out;
        }
        if (json_array_insert_new(lists, pos, json_stringn(name->ptr, name->len)) < 0) {
            reply_error(c, "ERR out of memory");
            goto out;
        }
    } else {
        json_array_remove(lists, pos);
    }
    if (json_array_size(lists) == 0) {
        if (dom_del(KS(c), &k) < 0) goto out;
    } else {
        dom_stamp_update(doc);
        if (dom_put_doc(KS(c), &k, doc, existed) < 0) goto out;
    }
    reply_int(c, 1);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* EMAIL.SUBSCRIBE uid list
 * :1 subscribed now, :0 already subscribed. */
static int email_subscribe(client *c) { return email_membership(c, 1); }

/* EMAIL.UNSUBSCRIBE uid list
 * :1 unsubscribed now, :0 was not subscribed. */
static int email_unsubscribe(client *c) { return email_membership(c, 0); }

/* EMAIL.SUBSCRIPTIONS uid
 * Array of the user's list names in byte order (empty when none). */
static int email_subscriptions(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    dkey k;
    subs_key(&k, uid);
    json_t *doc, *lists;
    if (load_subs(c, uid, &k, &doc, &lists) < 0) return -1;
    reply_array(c, (int64_t)json_array_size(lists));
    for (size_t i = 0; i < json_array_size(lists); i++) {
        const json_t *s = json_array_get(lists, i);
        reply_bulk(c, json_string_value(s), json_string_length(s));
    }
    json_decref(doc);
    return 0;
}

/* EMAIL.LOG uid json [IDEMP key]
 * Records an e-mail sent to the user; returns its id. The document gets id,
 * user_id, created_at and updated_at. */
static int email_log(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    json_t *doc = dom_parse_doc(c, &c->argv[2]);
    if (!doc) return -1;
    char u[DOM_ID_MAX + 1], ids[17];
    memcpy(u, uid->ptr, uid->len);
    u[uid->len] = 0;
    uint64_t id = dom_new_id(c->srv->dom);
    dom_format_id(ids, id);
    dom_stamp_new(doc, id, u);
    dkey k;
    dkey_fmt(&k, "email:%s:history:%s", u, ids);
    int r = dom_put_doc(KS(c), &k, doc, 0);
    json_decref(doc);
    if (r < 0) return -1;
    reply_bulk(c, ids, 16);
    return 0;
}

/* EMAIL.HISTORY uid [AFTER id] [LIMIT n]
 * The user's logged e-mails, newest first. */
static int email_history(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    dkey_fmt(&prefix, "email:%.*s:history:", (int)uid->len, uid->ptr);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

int email_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey p; /* a uid holds no ':', so this is exactly uid's */
    dkey_fmt(&p, "email:%s:", uid);
    int64_t n = db_delete_prefix(KS(c), 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}

#define EF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "email.subscribe", .proc = email_subscribe, .arity = 3, .flags = EF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid list",
     .summary = "Subscribes a user to an e-mail list: 1 if it changed, 0 if already subscribed."},
    {.name = "email.unsubscribe", .proc = email_unsubscribe, .arity = 3, .flags = EF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid list",
     .summary = "Unsubscribes a user from an e-mail list: 1 if it changed, 0 if not subscribed."},
    {.name = "email.subscriptions", .proc = email_subscriptions, .arity = 2, .flags = EF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid",
     .summary = "Returns the names of a user's e-mail lists in byte order."},
    {.name = "email.log", .proc = email_log, .arity = -3, .flags = EF | CMD_WRITE | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid json [IDEMP key]",
     .summary = "Records an e-mail sent to a user and returns its id."},
    {.name = "email.history", .proc = email_history, .arity = -2, .flags = EF | CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists the e-mails logged for a user, newest first."},
    CMD_TABLE_END,
};

const cmd_family email_family = {.name = "email", .rows = rows};
