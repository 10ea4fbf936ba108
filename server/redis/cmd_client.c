/* CLIENT subcommands and RESET. */
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

/* One CLIENT LIST line, in Redis 7.0's field order. */
static void format_client(const client *c, const client *self, resp_buf *b) {
    char line[1024];
    uint64_t now = now_ms();
    const char *cmd = c->lastcmd ? c->lastcmd->name : "NULL";
    if (c == self && self->cmd) cmd = self->cmd->name;
    char flags[8];
    int f = 0;
    if (c->in_multi) flags[f++] = 'x';
    if (c->flags & CL_CLOSE_AFTER_REPLY) flags[f++] = 'c';
    if (c->flags & CL_UNIX) flags[f++] = 'U';
    if (!f) flags[f++] = 'N';
    flags[f] = 0;
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=%d sub=0 psub=0 "
                     "ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=0 obl=0 "
                     "oll=0 omem=%zu tot-mem=%zu events=r cmd=%s%s user=default redir=-1 resp=%d\n",
                     (unsigned long long)c->id, c->addr, c->srv->cfg.bind, (int)(c->id + 7),
                     c->name ? c->name : "", (unsigned long long)((now - c->ctime_ms) / 1000),
                     (unsigned long long)((now - c->last_ms) / 1000), flags, c->db,
                     c->in_multi ? c->nqueued : -1, c->inlen, c->incap - c->inlen, c->inlen, c->incap,
                     c->out.len + c->out_inflight, c->incap + c->out.cap + sizeof *c, cmd,
                     strcmp(cmd, "client") == 0 && c == self && self->argc > 1 ? "|list" : "", c->resp);
    if (c == self && self->cmd && strcmp(self->cmd->name, "client") == 0 && self->argc > 1 &&
        n > 0 && (size_t)n < sizeof line) {
        /* cmd=client|<sub>, as Redis names container subcommands */
        char sub[32];
        size_t sl = self->argv[1].len < sizeof sub - 1 ? self->argv[1].len : sizeof sub - 1;
        for (size_t i = 0; i < sl; i++) sub[i] = (char)(self->argv[1].ptr[i] | 0x20);
        sub[sl] = 0;
        char *p = strstr(line, "cmd=client|list");
        if (p) {
            char rest[512];
            snprintf(rest, sizeof rest, "%s", p + strlen("cmd=client|list"));
            snprintf(p, sizeof line - (size_t)(p - line), "cmd=client|%s%s", sub, rest);
            n = (int)strlen(line);
        }
    }
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
        if (type.ptr && !arg_eq(&type, "normal")) continue;
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

/* CLIENT ID|GETNAME|SETNAME name|LIST|INFO|KILL ...|REPLY ON|OFF|SKIP|NO-EVICT on|off|HELP */
static int client_command(client *c) {
    const resp_slice *sub = &c->argv[1];
    if (arg_eq(sub, "id") && c->argc == 2) {
        reply_int(c, (int64_t)c->id);
    } else if (arg_eq(sub, "getname") && c->argc == 2) {
        if (c->name) reply_bulkstr(c, c->name);
        else reply_null(c);
    } else if (arg_eq(sub, "setname") && c->argc == 3) {
        if (!valid_name(&c->argv[2])) {
            reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
            return -1;
        }
        free(c->name);
        c->name = c->argv[2].len ? strndup(c->argv[2].ptr, c->argv[2].len) : NULL;
        reply_ok(c);
    } else if ((arg_eq(sub, "list") && (c->argc == 2 || c->argc >= 4)) || (arg_eq(sub, "info") && c->argc == 2)) {
        resp_buf b;
        resp_buf_init(&b);
        if (arg_eq(sub, "info")) {
            format_client(c, c, &b);
        } else if (c->argc >= 4 && arg_eq(&c->argv[2], "id")) {
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
            if (arg_eq(&c->argv[3], "normal"))
                for (client *t = c->srv->clients; t; t = t->next) format_client(t, c, &b);
        } else if (c->argc == 2) {
            for (client *t = c->srv->clients; t; t = t->next) format_client(t, c, &b);
        } else {
            resp_buf_free(&b);
            reply_syntax_error(c);
            return -1;
        }
        reply_bulk(c, b.data, b.len);
        resp_buf_free(&b);
    } else if (arg_eq(sub, "kill") && c->argc == 3) {
        /* old form: CLIENT KILL addr:port */
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
    } else if (arg_eq(sub, "kill") && c->argc >= 4 && c->argc % 2 == 0) {
        opt_cursor o = {c, 2};
        return kill_matching(c, &o);
    } else if (arg_eq(sub, "reply") && c->argc == 3) {
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
    } else if (arg_eq(sub, "setinfo") && c->argc == 4) {
        /* Redis 7.2's library tags, sent by newer clients on connect */
        if (!arg_eq(&c->argv[2], "lib-name") && !arg_eq(&c->argv[2], "lib-ver")) {
            reply_errorf(c, "ERR Unrecognized option '%.*s'", (int)(c->argv[2].len > 32 ? 32 : c->argv[2].len),
                         c->argv[2].ptr);
            return -1;
        }
        reply_ok(c);
    } else if (arg_eq(sub, "no-evict") && c->argc == 3) {
        if (!arg_eq(&c->argv[2], "on") && !arg_eq(&c->argv[2], "off")) {
            reply_syntax_error(c);
            return -1;
        }
        reply_ok(c);
    } else if (arg_eq(sub, "help") && c->argc == 2) {
        static const char *lines[] = {
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ID", "GETNAME", "SETNAME <name>", "LIST [TYPE normal] [ID id ...]", "INFO",
            "KILL <ip:port> | KILL <option> <value> [...] (ID, ADDR, TYPE, USER, SKIPME)",
            "REPLY (ON|OFF|SKIP)", "NO-EVICT (ON|OFF)"};
        reply_array(c, sizeof lines / sizeof lines[0]);
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    } else {
        char shown[80];
        resp_sanitize(shown, sizeof shown, sub->ptr, sub->len, 64);
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%s'. Try CLIENT HELP.", shown);
        return -1;
    }
    return 0;
}

/* RESET: back to a fresh connection's state. */
static int reset_command(client *c) {
    multi_client_gone(c);
    c->db = 0;
    c->resp = 2;
    c->reply_mode = 0;
    free(c->name);
    c->name = NULL;
    if (c->srv->cfg.requirepass) {
        c->authenticated = 0;
        client_auth_changed(c);
    }
    reply_status(c, "RESET");
    return 0;
}

static const cmd_def rows[] = {
    {.name = "client", .proc = client_command, .arity = -2, .flags = CMD_NOAUTH,
     .group = "connection", .args = "ID|GETNAME|SETNAME name|LIST [TYPE normal] [ID id ...]|INFO|KILL ...|REPLY ON|OFF|SKIP|NO-EVICT on|off",
     .summary = "Manages client connections."},
    {.name = "reset", .proc = reset_command, .arity = 1, .flags = CMD_FAST | CMD_NOAUTH | CMD_NO_MULTI,
     .group = "connection", .args = "",
     .summary = "Resets the connection: discards MULTI, unwatches, SELECT 0, de-authenticates."},
    CMD_TABLE_END,
};

const cmd_family client_family = {.name = "client", .rows = rows};
