/* MSG.* (SPEC §4.5): the handlers over the conversation model (msg.c:
 * keys, the conversation list, unread counts and their invariants). Text
 * is 1..65536 bytes of UTF-8 without NUL, checked here and put into
 * documents by the JSON encoder.
 */
#include <stdlib.h>
#include <string.h>

#include "domain_args.h"
#include "domain_list.h"
#include "msg.h"
#include "server.h"
#include "cmd_msg.h"

/* The text of a message as a JSON string (new reference), or -INVALID. */
static json_t *text_arg(client *c, const resp_slice *a) {
    if (!dom_valid_text(a->ptr, a->len, 1, MSG_TEXT_MAX)) {
        reply_invalid(c, "text must be 1 to %d bytes of UTF-8 without NUL", MSG_TEXT_MAX);
        return NULL;
    }
    return json_stringn(a->ptr, a->len);
}

/* MSG.SEND conv from to text [IDEMP key]
 * The new message's id. The first message of conv fixes its participants;
 * one batch writes the message, the details, both users' list entries and
 * the recipient's unread entry and counters. */
static int msg_send_cmd(client *c) {
    char conv[DOM_ID_BUF], from[DOM_ID_BUF], to[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, from) < 0 || dom_id_arg(c, 3, to) < 0) return -1;
    if (dom_no_options(c, 5) < 0) return -1;
    if (strcmp(from, to) == 0) {
        reply_invalid(c, "a message to oneself ('%s')", from);
        return -1;
    }
    json_t *text = text_arg(c, &c->argv[4]);
    if (!text) return -1;
    char ids[DOM_ID_HEX + 1];
    int r = msg_send(DOM(c), conv, from, to, text, ids);
    json_decref(text);
    if (r < 0) return -1;
    reply_bulk(c, ids, DOM_ID_HEX);
    return 0;
}

/* MSG.HISTORY conv [AFTER id] [LIMIT n]
 * The messages of conv, newest first ([] for an unknown conv). */
static int msg_history_cmd(client *c) {
    char conv[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    msg_key_messages(&prefix, conv);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* MSG.READ conv uid
 * :N messages of conv addressed to uid marked read (found through uid's
 * unread index; :0 when none, or uid is not a participant). */
static int msg_read_cmd(client *c) {
    char conv[DOM_ID_BUF], uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, uid) < 0) return -1;
    int64_t n;
    if (msg_read(DOM(c), conv, uid, &n) < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* MSG.CONVERSATIONS uid [AFTER conv] [LIMIT n]
 * The details of uid's conversations, latest activity first, each with
 * "unread": uid's unread count in it. AFTER continues after conv in this
 * order ([] when conv is not in uid's list). */
static int msg_conversations_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    msg_page p;
    if (msg_conversations(DOM(c), uid, &pg, &p) < 0) return -1;
    reply_array(c, p.n);
    for (int64_t i = 0; i < p.n; i++) reply_bulk(c, p.docs[i], p.lens[i]);
    msg_page_free(&p);
    return 0;
}

/* MSG.UNREAD uid
 * :N unread messages addressed to uid, over all its conversations (O(1)). */
static int msg_unread_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t n;
    if (msg_unread_total(DOM(c), uid, &n) < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* MSG.DELETE conv uid id
 * :1 when uid's own message was deleted (unread counts, the details' last
 * message and the conversation lists follow); :0 when it is missing or
 * another's. */
static int msg_delete_cmd(client *c) {
    char conv[DOM_ID_BUF], uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, uid) < 0 || dom_id_arg(c, 3, id) < 0) return -1;
    int r = msg_delete(DOM(c), conv, uid, id);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

/* MSG.EDIT conv uid id text
 * The edited message document (with "edited_at"); -NOTFOUND when the
 * message is missing or another's. */
static int msg_edit_cmd(client *c) {
    char conv[DOM_ID_BUF], uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, uid) < 0 || dom_id_arg(c, 3, id) < 0) return -1;
    json_t *text = text_arg(c, &c->argv[4]), *doc;
    if (!text) return -1;
    int r = msg_edit(DOM(c), conv, uid, id, text, &doc);
    json_decref(text);
    if (r < 0) return -1;
    r = dom_reply_doc(c, doc);
    json_decref(doc);
    return r;
}

/* MSG.CONVERSATION conv uid [LIMIT n]
 * {"conversation": details, "messages": [the newest n, newest first],
 * "unread": uid's unread count in conv}, or nil when conv does not exist
 * or uid is not one of its participants. */
static int msg_conversation_cmd(client *c) {
    char conv[DOM_ID_BUF], uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 3, &pg, 0) < 0) return -1;
    if (pg.after) {
        reply_syntax_error(c);
        return -1;
    }
    json_t *doc;
    if (msg_conversation(DOM(c), conv, uid, pg.limit, &doc) < 0) return -1;
    if (!doc) {
        reply_null(c);
        return 0;
    }
    int r = dom_reply_doc(c, doc);
    json_decref(doc);
    return r;
}

static const cmd_def rows[] = {
    {.name = "msg.send", .proc = msg_send_cmd, .arity = -5, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv from to text [IDEMP key]",
     .summary = "Sends a message (the first one fixes the conversation's two participants; to oneself: -INVALID) and " "updates the details, both users' conversation lists and the recipient's unread counts in one step; " "returns its id."},
    {.name = "msg.history", .proc = msg_history_cmd, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv [AFTER id] [LIMIT n]",
     .summary = "Lists a conversation's messages, newest first."},
    {.name = "msg.read", .proc = msg_read_cmd, .arity = 3, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv uid",
     .summary = "Marks the messages of a conversation addressed to uid read; returns how many changed."},
    {.name = "msg.conversations", .proc = msg_conversations_cmd, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "uid [AFTER conv] [LIMIT n]",
     .summary = "Lists a user's conversation details, latest activity first, each with the user's unread count."},
    {.name = "msg.unread", .proc = msg_unread_cmd, .arity = 2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "uid",
     .summary = "Returns the number of unread messages addressed to a user (O(1))."},
    {.name = "msg.delete", .proc = msg_delete_cmd, .arity = 4, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv uid id",
     .summary = "Deletes uid's own message (unread counts, the last message and the conversation lists follow): 1 if deleted, 0 if missing or another's."},
    {.name = "msg.edit", .proc = msg_edit_cmd, .arity = 5, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv uid id text",
     .summary = "Replaces the text of uid's own message and returns it with edited_at; -NOTFOUND if missing or another's."},
    {.name = "msg.conversation", .proc = msg_conversation_cmd, .arity = -3, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv uid [LIMIT n]",
     .summary = "One conversation for uid: {conversation, messages (newest n, default 50), unread}, or nil when absent or not uid's."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int msg_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "msg", msg_purge_user);
    return 0;
}

const cmd_family msg_family = {.name = "msg", .rows = rows, .init = msg_init};
