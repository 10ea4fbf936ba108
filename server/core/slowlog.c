/* SLOWLOG: a ring of the slowest commands (over slowlog-log-slower-than
 * µs), filled by dispatch through slowlog_push. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"


#define SLOWLOG_ARGS 32
#define SLOWLOG_ARGLEN 128

typedef struct slow_entry {
    uint64_t id, when, usec;
    int argc;
    char *args[SLOWLOG_ARGS];
    size_t lens[SLOWLOG_ARGS];
    char addr[64], name[64];
} slow_entry;

struct slowlog {
    slow_entry *ring;
    int cap, len, head; /* head = next write position */
    uint64_t next_id;
};

static void entry_free(slow_entry *e) {
    for (int i = 0; i < e->argc; i++) free(e->args[i]);
    e->argc = 0;
}

void slowlog_free(server *s) {
    if (!s->slowlog) return;
    for (int i = 0; i < s->slowlog->cap; i++) entry_free(&s->slowlog->ring[i]);
    free(s->slowlog->ring);
    free(s->slowlog);
    s->slowlog = NULL;
}

void slowlog_push(client *c, uint64_t usec) {
    server *s = c->srv;
    if (s->cfg.slowlog_slower_than < 0 || (long long)usec < s->cfg.slowlog_slower_than) return;
    if (s->cfg.slowlog_max_len <= 0) return;
    struct slowlog *l = s->slowlog;
    if (!l || l->cap != s->cfg.slowlog_max_len) {
        uint64_t next = l ? l->next_id : 0;
        slowlog_free(s);
        if (!(l = calloc(1, sizeof *l)) || !(l->ring = calloc((size_t)s->cfg.slowlog_max_len, sizeof *l->ring))) {
            free(l);
            return;
        }
        l->cap = s->cfg.slowlog_max_len;
        l->next_id = next;
        s->slowlog = l;
    }
    slow_entry *e = &l->ring[l->head];
    entry_free(e);
    e->id = l->next_id++;
    e->when = now_ms() / 1000;
    e->usec = usec;
    int n = c->argc < SLOWLOG_ARGS ? c->argc : SLOWLOG_ARGS;
    for (int i = 0; i < n; i++) {
        char buf[SLOWLOG_ARGLEN + 40];
        size_t len = c->argv[i].len;
        if (i == SLOWLOG_ARGS - 1 && c->argc > SLOWLOG_ARGS) {
            len = (size_t)snprintf(buf, sizeof buf, "... (%d more arguments)", c->argc - SLOWLOG_ARGS + 1);
        } else if (len > SLOWLOG_ARGLEN) {
            len = (size_t)snprintf(buf, sizeof buf, "%.*s... (%zu more bytes)", SLOWLOG_ARGLEN, c->argv[i].ptr,
                                   c->argv[i].len - SLOWLOG_ARGLEN);
        } else {
            memcpy(buf, c->argv[i].ptr, len);
        }
        e->args[i] = malloc(len ? len : 1);
        if (!e->args[i]) break;
        memcpy(e->args[i], buf, len);
        e->lens[i] = len;
        e->argc = i + 1;
    }
    snprintf(e->addr, sizeof e->addr, "%s", c->addr);
    snprintf(e->name, sizeof e->name, "%s", c->name ? c->name : "");
    l->head = (l->head + 1) % l->cap;
    if (l->len < l->cap) l->len++;
}

/* SLOWLOG LEN */
int slowlog_len_command(client *c) {
    struct slowlog *l = c->srv->slowlog;
    reply_int(c, l ? l->len : 0);
    return 0;
}

/* SLOWLOG RESET */
int slowlog_reset_command(client *c) {
    struct slowlog *l = c->srv->slowlog;
    if (l) {
        for (int i = 0; i < l->cap; i++) entry_free(&l->ring[i]);
        l->len = l->head = 0;
    }
    reply_ok(c);
    return 0;
}

/* SLOWLOG GET [count]: newest first; count -1 = all. */
int slowlog_get_command(client *c) {
    struct slowlog *l = c->srv->slowlog;
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    int64_t count = 10;
    if (c->argc == 3 && (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < -1)) {
        reply_error(c, "ERR count should be greater than or equal to -1");
        return -1;
    }
    int n = l ? l->len : 0;
    if (count >= 0 && count < n) n = (int)count;
    reply_array(c, n);
    for (int i = 0; i < n; i++) {
        slow_entry *e = &l->ring[(l->head - 1 - i + l->cap * 2) % l->cap];
        reply_array(c, 6);
        reply_int(c, (int64_t)e->id);
        reply_int(c, (int64_t)e->when);
        reply_int(c, (int64_t)e->usec);
        reply_array(c, e->argc);
        for (int a = 0; a < e->argc; a++) reply_bulk(c, e->args[a], e->lens[a]);
        reply_bulkstr(c, e->addr);
        reply_bulkstr(c, e->name);
    }
    return 0;
}

/* SLOWLOG HELP */
int slowlog_help_command(client *c) {
    reply_array(c, 4);
    reply_status(c, "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    reply_status(c, "GET [<count>]");
    reply_status(c, "LEN");
    reply_status(c, "RESET");
    return 0;
}
