/* Connection commands: PING ECHO QUIT SELECT HELLO AUTH. */
#include <string.h>
#include <stdlib.h>

#include "server.h"
#include "cmd_conn.h"

/* PING [message] */
static int ping_command(client *c) {
    if (c->argc > 2) {
        reply_arity_error(c, "ping");
        return -1;
    }
    if ((c->flags & CL_PUBSUB) && c->resp == 2) {
        /* RESP2 subscribed mode: a message-shaped reply, as Redis */
        reply_array(c, 2);
        reply_bulkstr(c, "pong");
        reply_bulk(c, c->argc == 2 ? c->argv[1].ptr : "", c->argc == 2 ? c->argv[1].len : 0);
    } else if (c->argc == 2) reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
    else reply_status(c, "PONG");
    return 0;
}

/* ECHO message */
static int echo_command(client *c) {
    reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
    return 0;
}

/* QUIT */
static int quit_command(client *c) {
    reply_ok(c);
    c->flags |= CL_CLOSE_AFTER_REPLY;
    return 0;
}

/* SELECT index */
static int select_command(client *c) {
    int64_t db;
    if (arg_ll_or_reply(c, &c->argv[1], &db) < 0) return -1;
    if (db < 0 || db >= DB_COUNT) {
        reply_error(c, "ERR DB index is out of range");
        return -1;
    }
    c->db = (int)db;
    reply_ok(c);
    return 0;
}

/* Authenticates as user ("default" when NULL) through the ACL (hashed
 * passwords, compared in constant time); replies on failure. */
static int check_password(client *c, const resp_slice *user, const resp_slice *pass) {
    if (acl_authenticate(c, user ? user->ptr : "default", user ? user->len : 7, pass->ptr, pass->len) == 0) return 0;
    reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
    return -1;
}

/* AUTH [username] password */
static int auth_command(client *c) {
    if (c->argc > 3) {
        reply_syntax_error(c);
        return -1;
    }
    if (c->argc == 2 && acl_find(c->srv, "default", 7)->nopass) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
        return -1;
    }
    if (check_password(c, c->argc == 3 ? &c->argv[1] : NULL, &c->argv[c->argc - 1]) < 0) return -1;
    reply_ok(c);
    return 0;
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
static int hello_command(client *c) {
    int64_t ver = c->resp;
    if (c->argc >= 2) {
        if (resp_parse_ll(c->argv[1].ptr, c->argv[1].len, &ver) < 0) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return -1;
        }
        if (ver != 2 && ver != 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return -1;
        }
    }
    opt_cursor o = {c, 2};
    resp_slice name = {NULL, 0};
    int has_name = 0;
    while (opt_more(&o)) {
        const resp_slice *opt = &c->argv[o.i];
        if (opt_is(&o, "auth")) {
            if (o.i + 2 > c->argc) goto bad_option;
            const resp_slice *u = &c->argv[o.i], *p = &c->argv[o.i + 1];
            o.i += 2;
            if (check_password(c, u, p) < 0) return -1;
        } else if (opt_is(&o, "setname")) {
            if (o.i >= c->argc) goto bad_option;
            name = c->argv[o.i++];
            has_name = 1;
        } else {
            goto bad_option;
        }
        continue;
    bad_option:
        reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)(opt->len > 64 ? 64 : opt->len), opt->ptr);
        return -1;
    }
    if (!c->authenticated) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise "
                       "the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the "
                       "client and select the RESP protocol version at the same time");
        return -1;
    }
    if (has_name) {
        for (size_t i = 0; i < name.len; i++)
            if (name.ptr[i] <= ' ' || name.ptr[i] > '~') {
                reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return -1;
            }
        free(c->name);
        c->name = name.len ? strndup(name.ptr, name.len) : NULL;
    }
    c->resp = (int)ver;
    reply_map(c, 7);
    reply_bulkstr(c, "server");
    reply_bulkstr(c, "redis");
    reply_bulkstr(c, "version");
    reply_bulkstr(c, REDIS_COMPAT_VERSION);
    reply_bulkstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulkstr(c, "id");
    reply_int(c, (int64_t)c->id);
    reply_bulkstr(c, "mode");
    reply_bulkstr(c, "standalone");
    reply_bulkstr(c, "role");
    reply_bulkstr(c, "master");
    reply_bulkstr(c, "modules");
    reply_array(c, 0);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "ping", .proc = ping_command, .arity = -1, .flags = CMD_FAST | CMD_PUBSUB_OK,
     .group = "connection", .args = "[message]",
     .summary = "Returns the server's liveliness response."},
    {.name = "echo", .proc = echo_command, .arity = 2, .flags = CMD_FAST,
     .group = "connection", .args = "message",
     .summary = "Returns the given string."},
    {.name = "quit", .proc = quit_command, .arity = -1, .flags = CMD_FAST | CMD_NOAUTH | CMD_PUBSUB_OK,
     .group = "connection", .args = "",
     .summary = "Closes the connection."},
    {.name = "select", .proc = select_command, .arity = 2, .flags = CMD_FAST,
     .group = "connection", .args = "index",
     .summary = "Changes the selected database (0-15)."},
    {.name = "auth", .proc = auth_command, .arity = -2, .flags = CMD_FAST | CMD_NOAUTH,
     .group = "connection", .args = "[username] password",
     .summary = "Authenticates the connection."},
    {.name = "hello", .proc = hello_command, .arity = -1, .flags = CMD_FAST | CMD_NOAUTH,
     .group = "connection", .args = "[protover [AUTH username password] [SETNAME clientname]]",
     .summary = "Handshakes with the server."},
    CMD_TABLE_END,
};

const cmd_family conn_family = {.name = "conn", .rows = rows};
