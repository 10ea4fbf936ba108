/* Blocking commands: waiting clients, ready keys, timeouts (see block.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "server.h"

typedef struct blocked {
    client *c;
    struct blocked *prev, *next; /* the server's FIFO, while waiting */
    int waiting;
    int db;
    int first, nkeys;            /* keys: argv[first .. first + nkeys) */
    int argc;
    resp_slice *argv;            /* a copy: the input buffer moves on */
    char *argbuf;
    const cmd_def *cmd;
    int nil_bulk;
    uv_timer_t timer;            /* the timeout, then the resume of input */
    /* during a re-run */
    int rerun, rdb;
    const char *rk;
    size_t rkl;
} blocked;

typedef struct ready_key {
    int db;
    char *k;
    size_t kl;
} ready_key;

struct block_state {
    blocked *head, *tail;
    int count;
    ready_key *ready;
    int nready, rcap;
    int serving;
};

static int waits_on(const blocked *b, int db, const char *k, size_t kl) {
    if (b->db != db) return 0;
    for (int i = 0; i < b->nkeys; i++) {
        const resp_slice *a = &b->argv[b->first + i];
        if (a->len == kl && memcmp(a->ptr, k, kl) == 0) return 1;
    }
    return 0;
}

/* The keyspace's hook: a list or sorted set at (db, k) holds elements. */
static void on_ready(void *arg, int db, const char *k, size_t kl) {
    server *s = arg;
    struct block_state *st = s->blk;
    if (!st || st->count == 0) return;
    int wanted = 0;
    for (blocked *b = st->head; b && !wanted; b = b->next) wanted = waits_on(b, db, k, kl);
    if (!wanted) return;
    for (int i = 0; i < st->nready; i++)
        if (st->ready[i].db == db && st->ready[i].kl == kl && memcmp(st->ready[i].k, k, kl) == 0) return;
    if (st->nready == st->rcap) {
        int cap = st->rcap ? st->rcap * 2 : 8;
        ready_key *p = realloc(st->ready, (size_t)cap * sizeof *p);
        if (!p) return;
        st->ready = p;
        st->rcap = cap;
    }
    char *copy = malloc(kl ? kl : 1);
    if (!copy) return;
    memcpy(copy, k, kl);
    st->ready[st->nready++] = (ready_key){db, copy, kl};
}

void block_init(server *s) {
    s->blk = calloc(1, sizeof *s->blk);
    s->ks.ready_fn = on_ready;
    s->ks.ready_arg = s;
}

void block_free(server *s) {
    struct block_state *st = s->blk;
    if (!st) return;
    for (int i = 0; i < st->nready; i++) free(st->ready[i].k);
    free(st->ready);
    free(st);
    s->blk = NULL;
    s->ks.ready_fn = NULL;
}

int block_count(const server *s) { return s->blk ? s->blk->count : 0; }

int block_allowed(const client *c) {
    return !(c->flags & CL_IN_EXEC) && !(c->blk && c->blk->rerun);
}

int block_ready_key(const client *c, int *db, const char **k, size_t *kl) {
    if (!c->blk || !c->blk->rerun) return 0;
    *db = c->blk->rdb;
    *k = c->blk->rk;
    *kl = c->blk->rkl;
    return 1;
}

static void on_timer_closed(uv_handle_t *h) {
    blocked *b = h->data;
    free(b->argv);
    free(b->argbuf);
    free(b);
}

/* Leaves the FIFO (the struct stays with the client until it is resumed). */
static void unlink_waiter(server *s, blocked *b) {
    struct block_state *st = s->blk;
    if (!b->waiting) return;
    if (b->prev) b->prev->next = b->next; else st->head = b->next;
    if (b->next) b->next->prev = b->prev; else st->tail = b->prev;
    b->prev = b->next = NULL;
    b->waiting = 0;
    st->count--;
    b->c->flags &= ~CL_BLOCKED;
}

/* After an unblock: the client's buffered input runs at the next turn of
 * the loop (not inside the writer's command). */
static void on_resume(uv_timer_t *t) {
    blocked *b = t->data;
    client *c = b->c;
    c->blk = NULL;
    uv_close((uv_handle_t *)&b->timer, on_timer_closed);
    net_client_resume(c);
}

static void unblock(server *s, blocked *b) {
    unlink_waiter(s, b);
    uv_timer_stop(&b->timer);
    uv_timer_start(&b->timer, on_resume, 0, 0);
    client_output_added(b->c);
}

static void on_timeout(uv_timer_t *t) {
    blocked *b = t->data;
    size_t mark = b->c->out.len;
    if (b->nil_bulk) reply_null(b->c);
    else reply_null_array(b->c);
    client_reply_added(b->c, mark);
    unblock(b->c->srv, b);
}

int block_or_nil(client *c, int first, int nkeys, uint64_t deadline_ms, int nil_bulk) {
    server *s = c->srv;
    if (c->blk && c->blk->rerun) return 0; /* still nothing: keep waiting */
    if (!block_allowed(c)) {
        if (nil_bulk) reply_null(c);
        else reply_null_array(c);
        return 0;
    }
    assert(first + nkeys <= c->argc && !(c->flags & CL_BLOCKED));
    blocked *b = c->blk; /* a struct still waiting for its resume is reused */
    if (b) {
        uv_timer_stop(&b->timer);
        free(b->argv);
        free(b->argbuf);
        b->argv = NULL;
        b->argbuf = NULL;
    } else {
        b = calloc(1, sizeof *b);
        if (!b) goto oom;
        uv_timer_init(s->loop, &b->timer);
        b->timer.data = b;
        b->c = c;
        c->blk = b;
    }
    size_t total = 0;
    for (int i = 0; i < c->argc; i++) total += c->argv[i].len;
    b->argv = malloc((size_t)c->argc * sizeof *b->argv);
    b->argbuf = malloc(total ? total : 1);
    if (!b->argv || !b->argbuf) goto oom;
    size_t off = 0;
    for (int i = 0; i < c->argc; i++) {
        memcpy(b->argbuf + off, c->argv[i].ptr, c->argv[i].len);
        b->argv[i].ptr = b->argbuf + off;
        b->argv[i].len = c->argv[i].len;
        off += c->argv[i].len;
    }
    b->argc = c->argc;
    b->cmd = c->cmd;
    b->db = c->db;
    b->first = first;
    b->nkeys = nkeys;
    b->nil_bulk = nil_bulk;
    b->rerun = 0;
    struct block_state *st = s->blk;
    b->prev = st->tail;
    b->next = NULL;
    if (st->tail) st->tail->next = b; else st->head = b;
    st->tail = b;
    st->count++;
    b->waiting = 1;
    c->flags |= CL_BLOCKED;
    if (deadline_ms) {
        uint64_t now = now_ms();
        uv_timer_start(&b->timer, on_timeout, deadline_ms > now ? deadline_ms - now : 0, 0);
    }
    return 0;
oom:
    if (b) {
        free(b->argv);
        free(b->argbuf);
        b->argv = NULL;
        b->argbuf = NULL;
        b->argc = 0;
    }
    reply_error(c, "ERR out of memory");
    return -1;
}

/* Runs b's command again for the ready key (db, k). */
static void rerun(server *s, blocked *b, const ready_key *r) {
    client *c = b->c;
    int argc = c->argc;
    resp_slice *argv = c->argv;
    const cmd_def *cmd = c->cmd;
    c->argc = b->argc;
    c->argv = b->argv;
    b->rerun = 1;
    b->rdb = r->db;
    b->rk = r->k;
    b->rkl = r->kl;
    size_t mark = c->out.len;
    ks_mark m;
    ks_mark_begin(&s->ks, &m);
    int rc = cmd_call(c, b->cmd);
    if (rc != 0) ks_mark_rollback(&s->ks, &m);
    else if (s->nwatch || !s->cfg.batch_commits) server_commit(s, c, mark);
    b->rerun = 0;
    c->argc = argc;
    c->argv = argv;
    c->cmd = cmd;
    if (c->out.len != mark) {
        client_reply_added(c, mark); /* its pop is in this iteration's batch */
        unblock(s, b);
    }
}

void block_serve(server *s) {
    struct block_state *st = s->blk;
    if (!st || st->nready == 0 || st->serving) return;
    net_async_finish(s); /* served commands run as they would alone, after the group on the writer thread */
    st->serving = 1;
    while (st->nready) {
        ready_key r = st->ready[0];
        memmove(st->ready, st->ready + 1, (size_t)(st->nready - 1) * sizeof *st->ready);
        st->nready--;
        /* FIFO: a client blocked while serving goes to the tail, after the
         * ones already waiting */
        for (blocked *b = st->head, *next; b; b = next) {
            next = b->next;
            if (waits_on(b, r.db, r.k, r.kl)) rerun(s, b, &r);
        }
        free(r.k);
    }
    st->serving = 0;
}

void block_signal_db(server *s, int db) {
    struct block_state *st = s->blk;
    if (!st) return;
    for (blocked *b = st->head; b; b = b->next)
        if (b->db == db)
            for (int i = 0; i < b->nkeys; i++) on_ready(s, db, b->argv[b->first + i].ptr, b->argv[b->first + i].len);
}

int block_unblock_id(server *s, uint64_t id, int error) {
    struct block_state *st = s->blk;
    for (blocked *b = st ? st->head : NULL; b; b = b->next) {
        if (b->c->id != id) continue;
        if (error) reply_error(b->c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else if (b->nil_bulk) reply_null(b->c);
        else reply_null_array(b->c);
        unblock(s, b);
        return 1;
    }
    return 0;
}

void block_client_gone(client *c) {
    blocked *b = c->blk;
    if (!b) return;
    unlink_waiter(c->srv, b);
    c->blk = NULL;
    uv_close((uv_handle_t *)&b->timer, on_timer_closed);
}

int block_timeout_arg(client *c, const resp_slice *a, uint64_t *deadline_ms) {
    long double t;
    if (parse_ld(a->ptr, a->len, &t) < 0 || t != t || t > 1e15L) {
        reply_error(c, "ERR timeout is not a float or out of range");
        return -1;
    }
    if (t < 0) {
        reply_error(c, "ERR timeout is negative");
        return -1;
    }
    uint64_t ms = (uint64_t)(t * 1000.0L);
    if (t > 0 && ms == 0) ms = 1;
    *deadline_ms = ms ? now_ms() + ms : 0;
    return 0;
}

int block_key_in_play(const client *c, const resp_slice *key) {
    int db;
    const char *k;
    size_t kl;
    if (!block_ready_key(c, &db, &k, &kl)) return 1;
    return db == c->db && kl == key->len && memcmp(k, key->ptr, kl) == 0;
}
