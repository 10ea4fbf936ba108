/* TICKET.* (SPEC §4.5): the handlers over the ticket model (ticket.c:
 * keys, the owner's index, the reply cap, closing).
 */
#include <stdlib.h>

#include "domain_args.h"
#include "domain_list.h"
#include "server.h"
#include "ticket.h"
#include "cmd_ticket.h"

/* TICKET.OPEN uid json [IDEMP key]
 * Opens a ticket for uid from the client's fields ("subject", when given, a
 * string of 1..256 bytes); the server owns id, user_id, status, created_at,
 * updated_at, closed_at and messages. Replies the ticket id. */
static int ticket_open_cmd(client *c) {
    char uid[DOM_ID_BUF], t[DOM_ID_HEX + 1];
    if (dom_id_arg(c, 1, uid) < 0 || dom_no_options(c, 3) < 0) return -1;
    json_t *fields = dom_parse_doc(c, &c->argv[2]);
    if (!fields) return -1;
    int r = ticket_open(DOM(c), uid, fields, t);
    json_decref(fields);
    if (r < 0) return -1;
    reply_bulk(c, t, DOM_ID_HEX);
    return 0;
}

/* TICKET.REPLY ticket author text [IDEMP key]
 * Adds a reply (text: 1..16384 bytes of UTF-8) by author to an open ticket;
 * replies its id. -NOTFOUND for a missing ticket, -INVALID for a closed one
 * or one that already has 1000 replies. IDEMP is scoped to the ticket. */
static int ticket_reply_cmd(client *c) {
    char t[DOM_ID_BUF], author[DOM_ID_BUF], mid[DOM_ID_HEX + 1];
    if (dom_id_arg(c, 1, t) < 0 || dom_id_arg(c, 2, author) < 0 || dom_no_options(c, 4) < 0) return -1;
    const resp_slice *text = &c->argv[3];
    if (!dom_valid_text(text->ptr, text->len, 1, TICKET_TEXT_MAX)) {
        reply_invalid(c, "text must be 1 to %d bytes of UTF-8 text without NUL", TICKET_TEXT_MAX);
        return -1;
    }
    if (ticket_reply(DOM(c), t, author, text->ptr, text->len, mid) < 0) return -1;
    reply_bulk(c, mid, DOM_ID_HEX);
    return 0;
}

/* TICKET.GET ticket
 * The details with a "messages" array of the replies, oldest first; nil
 * when there is no such ticket. */
static int ticket_get_cmd(client *c) {
    char t[DOM_ID_BUF];
    if (dom_id_arg(c, 1, t) < 0) return -1;
    char *text;
    size_t n;
    int r = ticket_get(DOM(c), t, &text, &n);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, text, n);
    free(text);
    return 0;
}

/* TICKET.CLOSE ticket
 * :1 closed now, :0 it already was; -NOTFOUND for a missing ticket. */
static int ticket_close_cmd(client *c) {
    char t[DOM_ID_BUF];
    if (dom_id_arg(c, 1, t) < 0) return -1;
    int r = ticket_close(DOM(c), t);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

/* TICKET.LIST uid [AFTER id] [LIMIT n]
 * The details of uid's tickets, newest first: a reverse walk of the
 * owner's index (ticket ids grow with time), bounded by LIMIT. */
static int ticket_list_cmd(client *c) {
    char uid[DOM_ID_BUF];
    dom_page pg;
    if (dom_id_arg(c, 1, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey lo;
    ticket_key_index(&lo, uid);
    return dom_list_index(c, &lo, &pg, ticket_index_resolve, NULL);
}

/* TICKET.REOPEN ticket
 * :1 reopened now, :0 it already was open; -NOTFOUND for a missing ticket. */
static int ticket_reopen_cmd(client *c) {
    char t[DOM_ID_BUF];
    if (dom_id_arg(c, 1, t) < 0) return -1;
    int r = ticket_reopen(DOM(c), t);
    if (r < 0) return -1;
    reply_int(c, r);
    return 0;
}

/* TICKET.OPEN.LIST [AFTER id] [LIMIT n]
 * An admin's list: the details of every open ticket, newest first (a
 * reverse walk of the open index). */
static int ticket_open_list_cmd(client *c) {
    dom_page pg;
    if (dom_parse_page(c, 1, &pg, 0) < 0) return -1;
    dkey lo;
    ticket_key_open_index(&lo);
    return dom_list_index(c, &lo, &pg, ticket_open_resolve, NULL);
}

/* ---- the command rows ------------------------------------------------------------------ */

#define TK_W (CMD_WRITE | CMD_DOMAIN | CMD_DB0)
#define TK_R (CMD_READONLY | CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "ticket.open", .proc = ticket_open_cmd, .arity = -3, .flags = TK_W | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "uid json [IDEMP key]",
     .summary = "Opens a support ticket for uid from a JSON object (subject, body, ...); replies the ticket id."},
    {.name = "ticket.reply", .proc = ticket_reply_cmd, .arity = -4, .flags = TK_W | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket author text [IDEMP key]",
     .summary = "Adds a reply to an open ticket; replies its id (-NOTFOUND missing, -INVALID closed)."},
    {.name = "ticket.get", .proc = ticket_get_cmd, .arity = 2, .flags = TK_R, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket",
     .summary = "Returns the ticket's JSON with a \"messages\" array of its replies, oldest first; nil if absent."},
    {.name = "ticket.list", .proc = ticket_list_cmd, .arity = -2, .flags = TK_R, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists the tickets uid opened, newest first."},
    {.name = "ticket.close", .proc = ticket_close_cmd, .arity = 2, .flags = TK_W | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket",
     .summary = "Closes a ticket: 1 closed now, 0 already closed (-NOTFOUND missing)."},
    {.name = "ticket.reopen", .proc = ticket_reopen_cmd, .arity = 2, .flags = TK_W | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket",
     .summary = "Reopens a closed ticket: 1 reopened now, 0 already open (-NOTFOUND missing)."},
    {.name = "ticket.open.list", .proc = ticket_open_list_cmd, .arity = -1, .flags = TK_R | CMD_ADMIN,
     .group = "tickets", .args = "[AFTER id] [LIMIT n]",
     .summary = "Admin: every open ticket (all users), newest first, through the open-ticket index."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int ticket_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "ticket", ticket_purge_user);
    return 0;
}

const cmd_family ticket_family = {.name = "ticket", .rows = rows, .init = ticket_init};
