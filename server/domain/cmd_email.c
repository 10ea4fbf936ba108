/* EMAIL.* (SPEC §4.5): the handlers over the e-mail model (email.c: keys,
 * the sorted subscriptions document). SUBSCRIBE/UNSUBSCRIBE reply :1 when
 * the membership changed and :0 when it already was so.
 */
#include "domain_args.h"
#include "domain_list.h"
#include "email.h"
#include "server.h"
#include "cmd_email.h"

/* A list name argument: checks argv[i] as a key-safe name
 * (dom_valid_name) and copies it NUL-terminated into out, else
 * "-INVALID name '<x>'" and -1. */
static int list_name_arg(client *c, int i, char out[DOM_NAME_MAX + 1]) {
    const resp_slice *a = &c->argv[i];
    if (!dom_valid_name(a->ptr, a->len, 1)) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
        reply_invalid(c, "name '%s' (1 to %d bytes of UTF-8 without control characters or ':')", shown,
                      DOM_NAME_MAX);
        return -1;
    }
    memcpy(out, a->ptr, a->len);
    out[a->len] = 0;
    return 0;
}

/* SUBSCRIBE (subscribe = 1) and UNSUBSCRIBE (0): argv uid list. A list
 * name is a UTF-8 name (dom_valid_name: "новости" too). Today it lives
 * inside the subscriptions document only, never in a key; it is checked
 * key-safe (no ':') all the same, so a later per-list index cannot be
 * reached into, and the names refused before ("a:b") stay refused. */
static int email_membership(client *c, int subscribe) {
    char uid[DOM_ID_BUF], list[DOM_NAME_MAX + 1];
    if (dom_id_arg(c, 1, uid) < 0 || list_name_arg(c, 2, list) < 0) return -1;
    int r = email_set_subscribed(DOM(c), uid, list, subscribe);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

/* EMAIL.SUBSCRIBE uid list
 * :1 subscribed now, :0 already subscribed. */
static int email_subscribe_cmd(client *c) { return email_membership(c, 1); }

/* EMAIL.UNSUBSCRIBE uid list
 * :1 unsubscribed now, :0 was not subscribed. */
static int email_unsubscribe_cmd(client *c) { return email_membership(c, 0); }

/* EMAIL.SUBSCRIPTIONS uid
 * Array of the user's list names in byte order (empty when none). */
static int email_subscriptions_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    json_t *lists;
    if (email_subscriptions(DOM(c), uid, &lists) < 0) return -1;
    reply_array(c, (int64_t)json_array_size(lists));
    for (size_t i = 0; i < json_array_size(lists); i++) {
        const json_t *s = json_array_get(lists, i);
        reply_bulk(c, json_string_value(s), json_string_length(s));
    }
    json_decref(lists);
    return 0;
}

/* EMAIL.LOG uid json [IDEMP key]
 * Records an e-mail sent to the user; returns its id. The document gets id,
 * user_id, created_at and updated_at. */
static int email_log_cmd(client *c) {
    char uid[DOM_ID_BUF], ids[DOM_ID_HEX + 1];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    json_t *doc = dom_parse_doc(c, &c->argv[2]);
    if (!doc) return -1;
    int r = email_log(DOM(c), uid, doc, ids);
    json_decref(doc);
    if (r < 0) return -1;
    reply_bulk(c, ids, DOM_ID_HEX);
    return 0;
}

/* EMAIL.HISTORY uid [AFTER id] [LIMIT n]
 * The user's logged e-mails, newest first. */
static int email_history_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    email_key_history(&prefix, uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

#define EF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "email.subscribe", .proc = email_subscribe_cmd, .arity = 3, .flags = EF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid list",
     .summary = "Subscribes a user to an e-mail list (a UTF-8 name of 1-64 bytes, no control characters or ':'): 1 if it changed, 0 if already subscribed."},
    {.name = "email.unsubscribe", .proc = email_unsubscribe_cmd, .arity = 3, .flags = EF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid list",
     .summary = "Unsubscribes a user from an e-mail list: 1 if it changed, 0 if not subscribed."},
    {.name = "email.subscriptions", .proc = email_subscriptions_cmd, .arity = 2, .flags = EF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid",
     .summary = "Returns the names of a user's e-mail lists in byte order."},
    {.name = "email.log", .proc = email_log_cmd, .arity = -3, .flags = EF | CMD_WRITE | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid json [IDEMP key]",
     .summary = "Records an e-mail sent to a user and returns its id."},
    {.name = "email.history", .proc = email_history_cmd, .arity = -2, .flags = EF | CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "email", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists the e-mails logged for a user, newest first."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int email_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "email", email_purge_user);
    return 0;
}

const cmd_family email_family = {.name = "email", .rows = rows, .init = email_init};
