/* Pub/sub registries, delivery, after-commit events, keyspace
 * notifications and MONITOR. See pubsub.h and docs/pubsub.md.
 *
 * Registries: two chained hash tables (channels, patterns) of entries
 * name -> array of subscribed clients. A client lists its own entries, so
 * leaving is O(its subscriptions x subscribers of each) and a publish is
 * O(subscribers of the channel + patterns). A pattern is matched with the
 * glob of util.c (Redis's rules).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "pubsub.h"
#include "server.h"

typedef struct ps_entry {
    struct ps_entry *next; /* bucket chain */
    char *name;
    size_t len;
    client **subs;
    int nsubs, cap;
} ps_entry;

typedef struct ps_table {
    ps_entry **b;
    size_t nb, n;
} ps_table;

/* An event waiting for its write to reach the WAL: channel and message
 * in one allocation. */
typedef struct ps_event {
    char *buf;
    size_t chl, ml;
} ps_event;

struct pubsub {
    ps_table chans, pats;
    ps_event *pending;
    size_t npending, cap;
};

/* ---- the tables ------------------------------------------------------------ */

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

static ps_entry *table_find(const ps_table *t, const char *name, size_t n) {
    if (!t->nb) return NULL;
    for (ps_entry *e = t->b[hash_bytes(name, n) & (t->nb - 1)]; e; e = e->next)
        if (e->len == n && memcmp(e->name, name, n) == 0) return e;
    return NULL;
}

/* Doubles the bucket array when entries outnumber buckets. */
static int table_grow(ps_table *t) {
    size_t nb = t->nb ? t->nb * 2 : 16;
    ps_entry **b = calloc(nb, sizeof *b);
    if (!b) return -1;
    for (size_t i = 0; i < t->nb; i++)
        for (ps_entry *e = t->b[i], *next; e; e = next) {
            next = e->next;
            size_t k = hash_bytes(e->name, e->len) & (nb - 1);
            e->next = b[k];
            b[k] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

static ps_entry *table_add(ps_table *t, const char *name, size_t n) {
    if (t->n >= t->nb && table_grow(t) < 0) return NULL;
    ps_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->name = malloc(n ? n : 1))) {
        free(e);
        return NULL;
    }
    memcpy(e->name, name, n);
    e->len = n;
    size_t k = hash_bytes(name, n) & (t->nb - 1);
    e->next = t->b[k];
    t->b[k] = e;
    t->n++;
    return e;
}

static void entry_free(ps_entry *e) {
    free(e->name);
    free(e->subs);
    free(e);
}

static void table_remove(ps_table *t, ps_entry *e) {
    for (ps_entry **pp = &t->b[hash_bytes(e->name, e->len) & (t->nb - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            t->n--;
            entry_free(e);
            return;
        }
    assert(!"entry not in its table");
}

static void table_free(ps_table *t) {
    for (size_t i = 0; i < t->nb; i++)
        for (ps_entry *e = t->b[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    free(t->b);
    memset(t, 0, sizeof *t);
}

/* ---- life cycle ---------------------------------------------------------------- */

static void keyspace_event(void *ctx, int what, int phys_db, const char *k, size_t kl);

int pubsub_init(server *s) {
    if (!s->ps && !(s->ps = calloc(1, sizeof *s->ps))) return -1;
    s->ks.on_event = keyspace_event;
    s->ks.event_ctx = s;
    return 0;
}

void pubsub_free(server *s) {
    if (!s->ps) return;
    /* Clients still open lose their (borrowed) entries first. */
    for (client *c = s->clients; c; c = c->next) {
        free(c->ps_chans);
        free(c->ps_pats);
        c->ps_chans = c->ps_pats = NULL;
        c->ps_nchans = c->ps_npats = c->ps_chcap = c->ps_patcap = 0;
        c->flags &= ~(CL_PUBSUB | CL_MONITOR);
    }
    s->monitors = NULL;
    pubsub_drop_pending(s);
    free(s->ps->pending);
    table_free(&s->ps->chans);
    table_free(&s->ps->pats);
    free(s->ps);
    s->ps = NULL;
}

/* ---- output to a subscriber -------------------------------------------------- */

/* Where a push to c goes: while c runs a command whose replies CLIENT REPLY
 * drops, pushes wait aside and join the output after the drop. */
static resp_buf *push_buf(client *c) { return (c->flags & CL_REPLY_SUPPRESSED) ? &c->ps_held : &c->out; }

static int push_header(client *c, resp_buf *b, int n) {
    return c->resp == 3 ? resp_add_push(b, n) : resp_add_array(b, n);
}

/* The pubsub class of client-output-buffer-limit, Redis's rule: over the
 * hard limit, or over the soft one for longer than its seconds, the client
 * is closed (at the end of the iteration) instead of slowing the server. */
static void check_limit(client *c) {
    const config *cfg = &c->srv->cfg;
    size_t used = client_backlog(c) + c->ps_held.len;
    if (cfg->pubsub_hard_limit > 0 && (long long)used >= cfg->pubsub_hard_limit) {
        server_log(LL_WARNING, "client %llu closed: %zu bytes of pub/sub output over the hard limit %lld",
                   (unsigned long long)c->id, used, cfg->pubsub_hard_limit);
        client_close_async(c);
        return;
    }
    if (cfg->pubsub_soft_limit > 0 && (long long)used >= cfg->pubsub_soft_limit) {
        uint64_t now = now_ms();
        if (!c->obuf_soft_since) c->obuf_soft_since = now;
        else if (now - c->obuf_soft_since > (uint64_t)cfg->pubsub_soft_seconds * 1000u) {
            server_log(LL_WARNING, "client %llu closed: pub/sub output over the soft limit %lld for %d s",
                       (unsigned long long)c->id, cfg->pubsub_soft_limit, cfg->pubsub_soft_seconds);
            client_close_async(c);
        }
        return;
    }
    c->obuf_soft_since = 0;
}

static void out_done(client *c, int failed) {
    if (failed) {
        server_log(LL_WARNING, "client %llu closed: out of memory for its pub/sub output", (unsigned long long)c->id);
        client_close_async(c);
        return;
    }
    client_output_added(c);
    check_limit(c);
}

/* message: [message, channel, payload]; pmessage: [pmessage, pattern,
 * channel, payload]. */
static void deliver(client *c, const ps_entry *pat, const char *ch, size_t chl, const char *msg, size_t ml) {
    if (c->flags & (CL_CLOSING | CL_CLOSE_ASAP)) return;
    resp_buf *b = push_buf(c);
    int bad = push_header(c, b, pat ? 4 : 3) < 0;
    if (pat) bad |= resp_add_bulk(b, "pmessage", 8) < 0 || resp_add_bulk(b, pat->name, pat->len) < 0;
    else bad |= resp_add_bulk(b, "message", 7) < 0;
    bad |= resp_add_bulk(b, ch, chl) < 0 || resp_add_bulk(b, msg, ml) < 0;
    out_done(c, bad);
}

/* [kind, name or nil, subscription count] */
static void confirm(client *c, const char *kind, const char *name, size_t n) {
    resp_buf *b = push_buf(c);
    int bad = push_header(c, b, 3) < 0 || resp_add_bulk(b, kind, strlen(kind)) < 0;
    if (name) bad |= resp_add_bulk(b, name, n) < 0;
    else bad |= c->resp == 3 ? resp_buf_append(b, "_\r\n", 3) < 0 : resp_add_null(b) < 0;
    bad |= resp_add_int(b, pubsub_client_count(c)) < 0;
    if (bad) c->flags |= CL_CLOSE_AFTER_REPLY; /* a half reply: the connection cannot go on */
}

void pubsub_release_held(client *c) {
    if (!c->ps_held.len) return;
    if (resp_buf_append(&c->out, c->ps_held.data, c->ps_held.len) < 0) c->flags |= CL_CLOSE_AFTER_REPLY;
    resp_buf_clear(&c->ps_held);
}

/* ---- subscriptions ------------------------------------------------------------- */

int pubsub_client_count(const client *c) { return c->ps_nchans + c->ps_npats; }

static void update_mode(client *c) {
    if (pubsub_client_count(c)) c->flags |= CL_PUBSUB;
    else c->flags &= ~CL_PUBSUB;
}

static int arr_push(void *arrp, int *n, int *cap, size_t elem, const void *item) {
    char **arr = arrp;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 4;
        char *p = realloc(*arr, (size_t)nc * elem);
        if (!p) return -1;
        *arr = p;
        *cap = nc;
    }
    memcpy(*arr + (size_t)*n * elem, item, elem);
    (*n)++;
    return 0;
}

/* Adds c to the entry of name in t (created on first use). 1 added, 0
 * already there, -1 out of memory. */
static int join(ps_table *t, client *c, struct ps_entry ***mine, int *nmine, int *capmine, const char *name,
                size_t n) {
    ps_entry *e = table_find(t, name, n);
    if (e) {
        for (int i = 0; i < *nmine; i++)
            if ((*mine)[i] == e) return 0;
    } else if (!(e = table_add(t, name, n))) {
        return -1;
    }
    if (arr_push(&e->subs, &e->nsubs, &e->cap, sizeof c, &c) < 0) goto oom;
    if (arr_push(mine, nmine, capmine, sizeof e, &e) < 0) {
        e->nsubs--;
        goto oom;
    }
    return 1;
oom:
    if (e->nsubs == 0) table_remove(t, e);
    return -1;
}

/* Removes c from entry i of its own list. */
static void leave_at(ps_table *t, client *c, struct ps_entry **mine, int *nmine, int i) {
    ps_entry *e = mine[i];
    mine[i] = mine[--*nmine]; /* order of a client's subscriptions does not matter */
    for (int k = 0; k < e->nsubs; k++)
        if (e->subs[k] == c) {
            memmove(&e->subs[k], &e->subs[k + 1], (size_t)(e->nsubs - k - 1) * sizeof c);
            e->nsubs--;
            break;
        }
    if (e->nsubs == 0) table_remove(t, e);
}

static int leave(ps_table *t, client *c, struct ps_entry **mine, int *nmine, const char *name, size_t n) {
    for (int i = 0; i < *nmine; i++)
        if (mine[i]->len == n && memcmp(mine[i]->name, name, n) == 0) {
            leave_at(t, c, mine, nmine, i);
            return 1;
        }
    return 0;
}

void pubsub_subscribe(client *c, const char *ch, size_t n) {
    struct pubsub *ps = c->srv->ps;
    if (join(&ps->chans, c, &c->ps_chans, &c->ps_nchans, &c->ps_chcap, ch, n) < 0) {
        reply_error(c, "ERR out of memory");
        return;
    }
    update_mode(c);
    confirm(c, "subscribe", ch, n);
}

void pubsub_psubscribe(client *c, const char *pat, size_t n) {
    struct pubsub *ps = c->srv->ps;
    if (join(&ps->pats, c, &c->ps_pats, &c->ps_npats, &c->ps_patcap, pat, n) < 0) {
        reply_error(c, "ERR out of memory");
        return;
    }
    update_mode(c);
    confirm(c, "psubscribe", pat, n);
}

void pubsub_unsubscribe(client *c, const char *ch, size_t n) {
    leave(&c->srv->ps->chans, c, c->ps_chans, &c->ps_nchans, ch, n);
    update_mode(c);
    confirm(c, "unsubscribe", ch, n);
}

void pubsub_punsubscribe(client *c, const char *pat, size_t n) {
    leave(&c->srv->ps->pats, c, c->ps_pats, &c->ps_npats, pat, n);
    update_mode(c);
    confirm(c, "punsubscribe", pat, n);
}

/* Confirms each one as it goes (the name is copied first: leaving may free
 * the entry). */
static void leave_all(client *c, ps_table *t, struct ps_entry **mine, int *nmine, const char *kind) {
    if (*nmine == 0) {
        confirm(c, kind, NULL, 0);
        return;
    }
    while (*nmine) {
        ps_entry *e = mine[*nmine - 1];
        char stack[256], *name = e->len <= sizeof stack ? stack : malloc(e->len);
        size_t n = e->len;
        if (name) memcpy(name, e->name, n);
        leave_at(t, c, mine, nmine, *nmine - 1);
        update_mode(c);
        if (name) confirm(c, kind, name, n);
        else c->flags |= CL_CLOSE_AFTER_REPLY;
        if (name != stack) free(name);
    }
}

void pubsub_unsubscribe_all(client *c) {
    leave_all(c, &c->srv->ps->chans, c->ps_chans, &c->ps_nchans, "unsubscribe");
}

void pubsub_punsubscribe_all(client *c) {
    leave_all(c, &c->srv->ps->pats, c->ps_pats, &c->ps_npats, "punsubscribe");
}

void pubsub_client_gone(client *c) {
    server *s = c->srv;
    if (c->flags & CL_MONITOR) {
        if (c->prev_monitor) c->prev_monitor->next_monitor = c->next_monitor;
        else s->monitors = c->next_monitor;
        if (c->next_monitor) c->next_monitor->prev_monitor = c->prev_monitor;
        c->next_monitor = c->prev_monitor = NULL;
        c->flags &= ~CL_MONITOR;
    }
    if (s->ps) {
        while (c->ps_nchans) leave_at(&s->ps->chans, c, c->ps_chans, &c->ps_nchans, c->ps_nchans - 1);
        while (c->ps_npats) leave_at(&s->ps->pats, c, c->ps_pats, &c->ps_npats, c->ps_npats - 1);
    }
    free(c->ps_chans);
    free(c->ps_pats);
    c->ps_chans = c->ps_pats = NULL;
    c->ps_nchans = c->ps_npats = c->ps_chcap = c->ps_patcap = 0;
    resp_buf_clear(&c->ps_held);
    update_mode(c);
}

int pubsub_channel_allowed(client *c, const char *ch, size_t len, int is_pattern) {
    /* The one place pub/sub asks ACL (the user's &channel patterns). */
    return acl_channel_ok(c, ch, len, is_pattern);
}

/* ---- publishing ------------------------------------------------------------------ */

int64_t pubsub_publish(server *s, const char *ch, size_t chl, const char *msg, size_t ml) {
    struct pubsub *ps = s->ps;
    int64_t receivers = 0;
    ps_entry *e = table_find(&ps->chans, ch, chl);
    if (e)
        for (int i = 0; i < e->nsubs; i++, receivers++) deliver(e->subs[i], NULL, ch, chl, msg, ml);
    for (size_t b = 0; b < ps->pats.nb && ps->pats.n; b++)
        for (ps_entry *p = ps->pats.b[b]; p; p = p->next) {
            if (!glob_match(p->name, p->len, ch, chl, 0)) continue;
            for (int i = 0; i < p->nsubs; i++, receivers++) deliver(p->subs[i], p, ch, chl, msg, ml);
        }
    return receivers;
}

int pubsub_listened(const server *s) { return s->ps && (s->ps->chans.n || s->ps->pats.n); }

void pubsub_publish_after_commit(server *s, const char *ch, size_t chl, const char *msg, size_t ml) {
    struct pubsub *ps = s->ps;
    /* Nobody subscribed now: nobody could receive it (an import or a bulk
     * job queues nothing). */
    if (!pubsub_listened(s)) return;
    if (ps->npending == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        ps_event *p = realloc(ps->pending, cap * sizeof *p);
        if (!p) goto oom;
        ps->pending = p;
        ps->cap = cap;
    }
    char *buf = malloc(chl + ml + 1);
    if (!buf) goto oom;
    memcpy(buf, ch, chl);
    memcpy(buf + chl, msg, ml);
    ps->pending[ps->npending++] = (ps_event){.buf = buf, .chl = chl, .ml = ml};
    return;
oom:
    /* pub/sub is at most once: a lost event is logged, the write stands */
    server_log(LL_WARNING, "pub/sub event on '%.*s' dropped: out of memory", (int)(chl > 64 ? 64 : chl), ch);
}

size_t pubsub_pending_mark(const server *s) { return s->ps ? s->ps->npending : 0; }

int pubsub_has_pending(const server *s) { return s->ps && s->ps->npending; }

void pubsub_pending_rollback(server *s, size_t mark) {
    struct pubsub *ps = s->ps;
    if (!ps) return;
    assert(mark <= ps->npending);
    while (ps->npending > mark) free(ps->pending[--ps->npending].buf);
}

void pubsub_drop_pending(server *s) { pubsub_pending_rollback(s, 0); }

void pubsub_deliver_pending(server *s) {
    struct pubsub *ps = s->ps;
    if (!ps) return;
    for (size_t i = 0; i < ps->npending; i++) {
        ps_event *ev = &ps->pending[i];
        pubsub_publish(s, ev->buf, ev->chl, ev->buf + ev->chl, ev->ml);
        free(ev->buf);
    }
    ps->npending = 0;
}

/* ---- introspection ---------------------------------------------------------------- */

void pubsub_each_channel(server *s, const char *pat, size_t pl, void (*fn)(void *arg, const char *ch, size_t n),
                         void *arg) {
    const ps_table *t = &s->ps->chans;
    for (size_t b = 0; b < t->nb; b++)
        for (const ps_entry *e = t->b[b]; e; e = e->next)
            if (!pat || glob_match(pat, pl, e->name, e->len, 0)) fn(arg, e->name, e->len);
}

int64_t pubsub_numsub(server *s, const char *ch, size_t n) {
    const ps_entry *e = table_find(&s->ps->chans, ch, n);
    return e ? e->nsubs : 0;
}

int64_t pubsub_numpat(server *s) { return (int64_t)s->ps->pats.n; }

/* ---- keyspace notifications ---------------------------------------------------------- */

static void notify_one(server *s, const char *kind, int db, const char *name, size_t nl, const char *msg,
                       size_t ml) {
    char stack[256], head[40];
    int hl = snprintf(head, sizeof head, "__%s@%d__:", kind, db);
    size_t cl = (size_t)hl + nl;
    char *ch = cl <= sizeof stack ? stack : malloc(cl);
    if (!ch) return;
    memcpy(ch, head, (size_t)hl);
    memcpy(ch + hl, name, nl);
    pubsub_publish_after_commit(s, ch, cl, msg, ml);
    if (ch != stack) free(ch);
}

void notify_keyspace_event(server *s, int type, const char *event, int db, const char *key, size_t kl) {
    int f = s->cfg.notify_keyspace_events;
    if (!(f & type) || !s->ps) return;
    /* Nobody listening: nothing to build (the common case). */
    if (s->ps->chans.n == 0 && s->ps->pats.n == 0) return;
    size_t el = strlen(event);
    if (f & NOTIFY_KEYSPACE) notify_one(s, "keyspace", db, key, kl, event, el);
    if (f & NOTIFY_KEYEVENT) notify_one(s, "keyevent", db, event, el, key, kl);
}

/* "new" and "expired", reported by the keyspace with its physical db. */
static void keyspace_event(void *ctx, int what, int phys_db, const char *k, size_t kl) {
    server *s = ctx;
    int type = what == KS_EVENT_NEW ? NOTIFY_NEW : NOTIFY_EXPIRED;
    if (!(s->cfg.notify_keyspace_events & type)) return;
    for (int db = 0; db < DB_COUNT; db++)
        if (s->ks.dbmap[db] == phys_db) {
            notify_keyspace_event(s, type, what == KS_EVENT_NEW ? "new" : "expired", db, k, kl);
            return;
        }
}

void notify_key(client *c, int type, const char *event, const resp_slice *key) {
    notify_keyspace_event(c->srv, type, event, c->db, key->ptr, key->len);
}

/* ---- MONITOR ---------------------------------------------------------------------------- */

int monitor_active(const server *s) { return s->monitors != NULL; }

void monitor_add(client *c) {
    server *s = c->srv;
    if (c->flags & CL_MONITOR) return;
    c->flags |= CL_MONITOR;
    c->prev_monitor = NULL;
    c->next_monitor = s->monitors;
    if (s->monitors) s->monitors->prev_monitor = c;
    s->monitors = c;
}

/* Redis's sdscatrepr: a double-quoted string, \n \r \t \a \b \\ \" escaped,
 * other unprintable bytes as \xHH. */
static int add_repr(resp_buf *b, const char *p, size_t n) {
    char *w = resp_buf_reserve(b, n * 4 + 2);
    if (!w) return -1;
    size_t k = 0;
    w[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '\\': case '"': w[k++] = '\\'; w[k++] = (char)ch; break;
        case '\n': w[k++] = '\\'; w[k++] = 'n'; break;
        case '\r': w[k++] = '\\'; w[k++] = 'r'; break;
        case '\t': w[k++] = '\\'; w[k++] = 't'; break;
        case '\a': w[k++] = '\\'; w[k++] = 'a'; break;
        case '\b': w[k++] = '\\'; w[k++] = 'b'; break;
        default:
            if (ch >= 32 && ch < 127) w[k++] = (char)ch;
            else k += (size_t)snprintf(w + k, 5, "\\x%02x", ch);
        }
    }
    w[k++] = '"';
    b->len += k;
    return 0;
}

/* Arguments a monitor must not see: AUTH's, HELLO's AUTH user and password. */
static int redacted(const client *c, int i) {
    const resp_slice *a0 = &c->argv[0];
    if (a0->len == 4 && strncasecmp(a0->ptr, "auth", 4) == 0) return i >= 1;
    if (a0->len == 5 && strncasecmp(a0->ptr, "hello", 5) == 0) {
        for (int j = 2; j < c->argc && j < i; j++)
            if (arg_eq(&c->argv[j], "auth") && i <= j + 2) return 1;
    }
    return 0;
}

void monitor_feed(client *c) {
    server *s = c->srv;
    if (!s->monitors) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    resp_buf line;
    resp_buf_init(&line);
    char head[160];
    int hl;
    if (c->flags & CL_UNIX)
        hl = snprintf(head, sizeof head, "+%ld.%06ld [%d unix:%s] ", (long)tv.tv_sec, (long)tv.tv_usec, c->db,
                      s->cfg.unixsocket ? s->cfg.unixsocket : "");
    else
        hl = snprintf(head, sizeof head, "+%ld.%06ld [%d %s] ", (long)tv.tv_sec, (long)tv.tv_usec, c->db, c->addr);
    if (hl < 0 || (size_t)hl >= sizeof head) hl = (int)strlen(head);
    int bad = resp_buf_append(&line, head, (size_t)hl) < 0;
    for (int i = 0; i < c->argc && !bad; i++) {
        if (redacted(c, i)) bad |= add_repr(&line, "(redacted)", 10) < 0;
        else bad |= add_repr(&line, c->argv[i].ptr, c->argv[i].len) < 0;
        if (i + 1 < c->argc) bad |= resp_buf_append(&line, " ", 1) < 0;
    }
    /* A status line cannot hold CR/LF: sdscatrepr already escaped them. */
    bad |= resp_buf_append(&line, "\r\n", 2) < 0;
    if (!bad)
        for (client *m = s->monitors, *next; m; m = next) {
            next = m->next_monitor;
            if (m->flags & (CL_CLOSING | CL_CLOSE_ASAP)) continue;
            out_done(m, resp_buf_append(push_buf(m), line.data, line.len) < 0);
        }
    resp_buf_free(&line);
}
