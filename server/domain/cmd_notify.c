/* NOTIFY.* (SPEC §4.5): the handlers over the notification model
 * (notify.c: keys and the unread invariant). They parse, call the model,
 * reply.
 */
#include <string.h>

#include "domain_args.h"
#include "domain_list.h"
#include "notify.h"
#include "server.h"
#include "cmd_notify.h"

/* NOTIFY.CREATE uid json [IDEMP key]
 * The new notification's id; the document gets id, user_id, read:false and
 * created_at (client values for them are ignored). */
static int notify_create_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    json_t *doc = dom_parse_doc(c, &c->argv[2]);
    if (!doc) return -1;
    uint64_t id;
    int r = notify_create(DOM(c), uid, doc, &id);
    json_decref(doc);
    if (r < 0) return -1;
    char ids[DOM_ID_HEX + 1];
    dom_format_id(ids, id);
    reply_bulk(c, ids, DOM_ID_HEX);
    return 0;
}

/* NOTIFY.LIST uid [AFTER id] [LIMIT n] [UNREAD]
 * The user's notifications, newest first; UNREAD: only the unread ones
 * (through the unread index). */
static int notify_list_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 1) < 0) return -1;
    dkey prefix;
    if (pg.unread) {
        notify_key_unread_index(&prefix, uid);
        return dom_list_index(c, &prefix, &pg, notify_unread_resolve, uid);
    }
    notify_key_user(&prefix, uid);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* NOTIFY.READ uid id
 * :1 when the notification became read; :0 when it already was, or is
 * missing, or belongs to another user (nothing changes then). */
static int notify_read_cmd(client *c) {
    char uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0 || dom_id_arg(c, 2, id) < 0) return -1;
    int r = notify_mark_read(DOM(c), uid, id);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

/* NOTIFY.READALL uid
 * :N notifications marked read. */
static int notify_readall_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t n;
    if (notify_read_all(DOM(c), uid, &n) < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* NOTIFY.UNREAD uid
 * :N unread notifications, from the maintained counter (O(1)). */
static int notify_unread_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t n;
    if (notify_unread_count(DOM(c), uid, &n) < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* NOTIFY.DELETE uid id
 * :1 when the notification was deleted (an unread one leaves the unread
 * count), :0 when it is missing or another user's. */
static int notify_delete_cmd(client *c) {
    char uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0 || dom_id_arg(c, 2, id) < 0) return -1;
    int r = notify_delete(DOM(c), uid, id);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

#define NF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "notify.create", .proc = notify_create_cmd, .arity = -3, .flags = NF | CMD_WRITE | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid json [IDEMP key]",
     .summary = "Creates a notification (unread) and returns its id."},
    {.name = "notify.list", .proc = notify_list_cmd, .arity = -2, .flags = NF | CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid [AFTER id] [LIMIT n] [UNREAD]",
     .summary = "Lists a user's notifications, newest first; UNREAD: only unread ones."},
    {.name = "notify.read", .proc = notify_read_cmd, .arity = 3, .flags = NF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid id",
     .summary = "Marks one notification read: 1 if it changed, 0 if already read, missing or another user's."},
    {.name = "notify.readall", .proc = notify_readall_cmd, .arity = 2, .flags = NF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid",
     .summary = "Marks all of a user's unread notifications read; returns how many changed."},
    {.name = "notify.unread", .proc = notify_unread_cmd, .arity = 2, .flags = NF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid",
     .summary = "Returns the number of unread notifications (a maintained counter)."},
    {.name = "notify.delete", .proc = notify_delete_cmd, .arity = 3, .flags = NF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "notifications", .args = "uid id",
     .summary = "Deletes one notification (the unread count follows): 1 if deleted, 0 if missing or another user's."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int notify_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "notify", notify_purge_user);
    return 0;
}

const cmd_family notify_family = {.name = "notify", .rows = rows, .init = notify_init};
