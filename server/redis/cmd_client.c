/* CLIENT (one row per subcommand: "client|kill") and RESET. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "cmd_client.h"

static int valid_name(const resp_slice *n) {
    for (size_t i = 0; i < n->len; i++)
        if (n->ptr[i] <= ' ' || n->ptr[i] > '~') return 0;
    return 1;
}

/* Redis's client classes here: "pubsub" while subscribed, else "normal"
 * (a MONITOR client too, as Redis shows it). */
static const char *client_type(const client *t) { return (t->flags & CL_PUBSUB) ? "pubsub" : "normal"; }

/* One CLIENT LIST line, in Redis 7.0's field order. */
static void format_client(const client *c, const client *self, resp_buf *b) {
    char line[1024];
    uint64_t now = now_ms();
    /* the row's full name: "client|list", as Redis names subcommands */
    const char *cmd = c->lastcmd ? c->lastcmd->name : "NULL";
    if (c == self && self->cmd) cmd = self->cmd->name;
    char flags[16];
    int f = 0;
    if (c->flags & CL_MONITOR) flags[f++] = 'O';
    if (c->flags & CL_BLOCKED) flags[f++] = 'b';
    if (c->flags & CL_PUBSUB) flags[f++] = 'P';
    if (c->in_multi) flags[f++] = 'x';
    if (c->flags & CL_CLOSE_AFTER_REPLY) flags[f++] = 'c';
    if (c->flags & CL_CLOSE_ASAP) flags[f++] = 'A';
    if (c->flags & CL_UNIX) flags[f++] = 'U';
    if (!f) flags[f++] = 'N';
    flags[f] = 0;
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=%d sub=%d psub=%d "
                     "ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=0 obl=0 "
                     "oll=0 omem=%zu tot-mem=%zu events=r cmd=%s user=default redir=-1 resp=%d\n",
                     (unsigned long long)c->id, c->addr, c->srv->cfg.bind, (int)(c->id + 7),
                     c->name ? c->name : "", (unsigned long long)((now - c->ctime_ms) / 1000),
                     (unsigned long long)((now - c->last_ms) / 1000), flags, c->db, c->ps_nchans, c->ps_npats,
                     c->in_multi ? c->nqueued : -1, c->inlen, c->incap - c->inlen, c->inlen, c->incap,
                     c->out.len + c->out_inflight, c->incap + c->out.cap + sizeof *c, cmd, c->resp);
    if (n > 0) resp_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int kill_matching(client *c, opt_cursor *o) {
    int64_t id = -1;
    resp_slice addr = {NULL, 0}, laddr = {NULL, 0}, type = {NULL, 0}, user = {NULL, 0};
    int skipme = 1;
    while (opt_more(o)) {
        resp_slice v;
        if (opt_is(o, "id")) {
            if (opt_value(o, &v) < 0) return -1;
            if (resp_parse_ll(v.ptr, v.len, &id) < 0 || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return -1;
            }
        } else if (opt_is(o, "addr")) {
            if (opt_value(o, &addr) < 0) return -1;
        } else if (opt_is(o, "laddr")) {
            if (opt_value(o, &laddr) < 0) return -1;
        } else if (opt_is(o, "type")) {
            if (opt_value(o, &type) < 0) return -1;
            if (!arg_eq(&type, "normal") && !arg_eq(&type, "master") && !arg_eq(&type, "replica") &&
                !arg_eq(&type, "slave") && !arg_eq(&type, "pubsub")) {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)(type.len > 32 ? 32 : type.len), type.ptr);
                return -1;
            }
        } else if (opt_is(o, "user")) {
            if (opt_value(o, &user) < 0) return -1;
        } else if (opt_is(o, "skipme")) {
            if (opt_value(o, &v) < 0) return -1;
            if (arg_eq(&v, "yes")) skipme = 1;
            else if (arg_eq(&v, "no")) skipme = 0;
            else {
                reply_syntax_error(c);
                return -1;
            }
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    int64_t killed = 0;
    for (client *t = c->srv->clients, *next; t; t = next) {
        next = t->next;
        if (id > 0 && t->id != (uint64_t)id) continue;
        if (addr.ptr && (strlen(t->addr) != addr.len || memcmp(t->addr, addr.ptr, addr.len) != 0)) continue;
        if (type.ptr && !arg_eq(&type, client_type(t))) continue;
        if (user.ptr && !arg_eq(&user, "default")) continue;
        if (laddr.ptr) continue; /* local addresses are not tracked per client */
        if (t == c && skipme) continue;
        killed++;
        if (t == c) c->flags |= CL_CLOSE_AFTER_REPLY;
        else client_kill(t);
    }
    reply_int(c, killed);
    return 0;
}

/* CLIENT ID */
static int client_id_command(client *c) {
    reply_int(c, (int64_t)c->id);
    return 0;
}

/* CLIENT UNBLOCK client-id [TIMEOUT|ERROR] */
static int client_unblock_command(client *c) {
    int64_t id;
    int error = 0;
    if (arg_ll_or_reply(c, &c->argv[2], &id) < 0) return -1;
    if (c->argc == 4) {
        if (arg_eq(&c->argv[3], "error")) error = 1;
        else if (!arg_eq(&c->argv[3], "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return -1;
        }
    } else if (c->argc > 4) {
        reply_syntax_error(c);
        return -1;
    }
    reply_int(c, id > 0 && block_unblock_id(c->srv, (uint64_t)id, error));
    return 0;
}

/* CLIENT GETNAME */
static int client_getname_command(client *c) {
    if (c->name) reply_bulkstr(c, c->name);
    else reply_null(c);
    return 0;
}

/* CLIENT SETNAME name ("" removes it) */
static int client_setname_command(client *c) {
    if (!valid_name(&c->argv[2])) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return -1;
    }
    free(c->name);
    c->name = c->argv[2].len ? strndup(c->argv[2].ptr, c->argv[2].len) : NULL;
    reply_ok(c);
    return 0;
}

/* CLIENT LIST [TYPE normal|pubsub] [ID id ...] */
static int client_list_command(client *c) {
    resp_buf b;
    resp_buf_init(&b);
    if (c->argc >= 4 && arg_eq(&c->argv[2], "id")) {
        for (int i = 3; i < c->argc; i++) {
            int64_t id;
            if (resp_parse_ll(c->argv[i].ptr, c->argv[i].len, &id) < 0 || id <= 0) {
                resp_buf_free(&b);
                reply_error(c, "ERR Invalid client ID");
                return -1;
            }
            for (client *t = c->srv->clients; t; t = t->next)
                if (t->id == (uint64_t)id) format_client(t, c, &b);
        }
    } else if (c->argc == 4 && arg_eq(&c->argv[2], "type")) {
        for (client *t = c->srv->clients; t; t = t->next)
            if (arg_eq(&c->argv[3], client_type(t))) format_client(t, c, &b);
    } else if (c->argc == 2) {
        for (client *t = c->srv->clients; t; t = t->next) format_client(t, c, &b);
    } else {
        resp_buf_free(&b);
        reply_syntax_error(c);
        return -1;
    }
    reply_bulk(c, b.data, b.len);
    resp_buf_free(&b);
    return 0;
}

/* CLIENT INFO: this connection's CLIENT LIST line. */
static int client_info_command(client *c) {
    resp_buf b;
    resp_buf_init(&b);
    format_client(c, c, &b);
    reply_bulk(c, b.data, b.len);
    resp_buf_free(&b);
    return 0;
}

/* CLIENT KILL addr:port | CLIENT KILL option value [option value ...] */
static int client_kill_command(client *c) {
    if (c->argc == 3) { /* the old form */
        for (client *t = c->srv->clients; t; t = t->next) {
            if (strlen(t->addr) == c->argv[2].len && memcmp(t->addr, c->argv[2].ptr, c->argv[2].len) == 0) {
                if (t == c) c->flags |= CL_CLOSE_AFTER_REPLY;
                else client_kill(t);
                reply_ok(c);
                return 0;
            }
        }
        reply_error(c, "ERR No such client");
        return -1;
    }
    if (c->argc % 2) { /* an option without its value */
        reply_syntax_error(c);
        return -1;
    }
    opt_cursor o = {c, 2};
    return kill_matching(c, &o);
}

/* CLIENT REPLY ON|OFF|SKIP */
static int client_reply_command(client *c) {
    if (arg_eq(&c->argv[2], "on")) {
        c->reply_mode = 0;
        reply_ok(c);
    } else if (arg_eq(&c->argv[2], "off")) {
        c->reply_mode = 1;
    } else if (arg_eq(&c->argv[2], "skip")) {
        c->reply_mode = 2;
    } else {
        reply_syntax_error(c);
        return -1;
    }
    return 0;
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value: Redis 7.2's library tags, sent
 * by newer clients on connect (accepted, not kept). */
static int client_setinfo_command(client *c) {
    if (!arg_eq(&c->argv[2], "lib-name") && !arg_eq(&c->argv[2], "lib-ver")) {
        reply_errorf(c, "ERR Unrecognized option '%.*s'", (int)(c->argv[2].len > 32 ? 32 : c->argv[2].len),
                     c->argv[2].ptr);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* CLIENT NO-EVICT ON|OFF (nothing is evicted: accepted) */
static int client_no_evict_command(client *c) {
    if (!arg_eq(&c->argv[2], "on") && !arg_eq(&c->argv[2], "off")) {
        reply_syntax_error(c);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* CLIENT HELP */
static int client_help_command(client *c) {
    static const char *lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ID", "GETNAME", "SETNAME <name>", "LIST [TYPE normal|pubsub] [ID id ...]", "INFO",
        "KILL <ip:port> | KILL <option> <value> [...] (ID, ADDR, TYPE, USER, SKIPME)",
        "REPLY (ON|OFF|SKIP)", "NO-EVICT (ON|OFF)"};
    reply_array(c, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    return 0;
}

/* RESET: back to a fresh connection's state. */
static int reset_command(client *c) {
    multi_client_gone(c);
    pubsub_client_gone(c); /* leaves subscribed mode and MONITOR */
    c->db = 0;
    c->resp = 2;
    c->reply_mode = 0;
    free(c->name);
    c->name = NULL;
    acl_client_reset(c); /* the default user, authenticated only if it needs no password */
    reply_status(c, "RESET");
    return 0;
}

static const cmd_def rows[] = {
    {.name = "client", .proc = cmd_subcommand, .arity = -2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "ID|GETNAME|SETNAME name|LIST [TYPE normal|pubsub] [ID id ...]|INFO|KILL ...|REPLY ON|OFF|SKIP|NO-EVICT on|off|HELP",
     .summary = "Manages client connections."},
    {.name = "client|id", .proc = client_id_command, .arity = 2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "",
     .summary = "Returns the connection's id."},
    {.name = "client|unblock", .proc = client_unblock_command, .arity = -3, .flags = CMD_ADMIN,
     .group = "connection", .args = "client-id [TIMEOUT|ERROR]",
     .summary = "Ends a blocked client's wait (a nil, or an UNBLOCKED error)."},
    {.name = "client|getname", .proc = client_getname_command, .arity = 2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "",
     .summary = "Returns the connection's name (nil when none)."},
    {.name = "client|setname", .proc = client_setname_command, .arity = 3, .flags = CMD_NOAUTH,
     .group = "connection", .args = "name",
     .summary = "Names the connection (\"\" removes the name)."},
    {.name = "client|list", .proc = client_list_command, .arity = -2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "[TYPE normal|pubsub] [ID id ...]",
     .summary = "Lists the connections, one line each in Redis 7's format."},
    {.name = "client|info", .proc = client_info_command, .arity = 2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "",
     .summary = "Returns this connection's CLIENT LIST line."},
    {.name = "client|kill", .proc = client_kill_command, .arity = -3, .flags = CMD_NOAUTH,
     .group = "connection", .args = "ip:port | [ID id] [ADDR ip:port] [LADDR ip:port] [TYPE type] [USER name] [SKIPME yes|no]",
     .summary = "Closes connections: by address, or all that match the filters (their count)."},
    {.name = "client|reply", .proc = client_reply_command, .arity = 3, .flags = CMD_NOAUTH,
     .group = "connection", .args = "ON|OFF|SKIP",
     .summary = "Turns the server's replies to this connection on or off, or skips the next one."},
    {.name = "client|setinfo", .proc = client_setinfo_command, .arity = 4, .flags = CMD_NOAUTH,
     .group = "connection", .args = "LIB-NAME name | LIB-VER version",
     .summary = "Accepts the client library's name and version (not kept)."},
    {.name = "client|no-evict", .proc = client_no_evict_command, .arity = 3, .flags = CMD_NOAUTH,
     .group = "connection", .args = "ON|OFF",
     .summary = "Accepted for compatibility (nothing is evicted)."},
    {.name = "client|help", .proc = client_help_command, .arity = 2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "",
     .summary = "Shows the CLIENT subcommands."},
    {.name = "reset", .proc = reset_command, .arity = 1, .flags = CMD_FAST | CMD_NOAUTH | CMD_NO_MULTI | CMD_PUBSUB_OK,
     .group = "connection", .args = "",
     .summary = "Resets the connection: discards MULTI, unwatches, SELECT 0, de-authenticates."},
    CMD_TABLE_END,
};

const cmd_family client_family = {.name = "client", .rows = rows};
