/* MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis semantics.
 *
 * Queued commands keep copies of their arguments. EXEC runs them all in
 * the one command context with a savepoint per command (a command that
 * fails drops only its own writes, as in Redis) and commits them as ONE
 * RocksDB batch: all or nothing, also across a crash.
 *
 * WATCH: the server keeps a hash table of watched encoded keys (db||key).
 * While any key is watched, the store reports every data key written or
 * range deleted after each commit (the touch hook), and watchers of those
 * keys are flagged dirty; EXEC of a dirty client replies a nil array. Writes
 * by KV.* and domain commands go through the same commits, so they
 * invalidate WATCH too. */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "server.h"

#define WATCH_BUCKETS 1024

typedef struct queued_cmd {
    const cmd_def *cmd;
    int argc;
    resp_slice *argv;
    char *buf; /* all argument bytes */
} queued_cmd;

typedef struct watch_entry {
    struct watch_entry *next_bucket, *next_client;
    client *c;
    char *key; /* physical db || key */
    size_t kl;
    int ldb;   /* the SELECT db it was watched in */
    int64_t expires_at; /* a live key's expiry at WATCH time: expiring later dirties */
    int stale;          /* already expired at WATCH time: its deletion changes nothing */
} watch_entry;

static uint32_t hash_key(const char *k, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)k[i]) * 16777619u;
    return h & (WATCH_BUCKETS - 1);
}

/* ---- queueing ------------------------------------------------------------ */

void multi_queue(client *c, const cmd_def *cmd) {
    if (c->nqueued == c->qcap) {
        int cap = c->qcap ? c->qcap * 2 : 8;
        queued_cmd *q = realloc(c->queue, (size_t)cap * sizeof *q);
        if (!q) goto oom;
        c->queue = q;
        c->qcap = cap;
    }
    size_t total = 0;
    for (int i = 0; i < c->argc; i++) total += c->argv[i].len;
    queued_cmd *q = &c->queue[c->nqueued];
    q->argv = malloc((size_t)c->argc * sizeof *q->argv);
    q->buf = malloc(total ? total : 1);
    if (!q->argv || !q->buf) {
        free(q->argv);
        free(q->buf);
        goto oom;
    }
    char *p = q->buf;
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].ptr, c->argv[i].len);
        q->argv[i].ptr = p;
        q->argv[i].len = c->argv[i].len;
        p += c->argv[i].len;
    }
    q->argc = c->argc;
    q->cmd = cmd;
    c->nqueued++;
    reply_status(c, "QUEUED");
    return;
oom:
    c->multi_error = 1;
    reply_error(c, "ERR out of memory");
}

static void discard_queue(client *c) {
    for (int i = 0; i < c->nqueued; i++) {
        free(c->queue[i].argv);
        free(c->queue[i].buf);
    }
    free(c->queue);
    c->queue = NULL;
    c->nqueued = c->qcap = 0;
    c->in_multi = c->multi_error = 0;
}

/* ---- watching ------------------------------------------------------------- */

static void touch(void *arg, const char *k, size_t kl, const char *end, size_t el) {
    server *s = arg;
    if (!s->watch_buckets) return;
    for (uint32_t b = end ? 0 : hash_key(k, kl); b < WATCH_BUCKETS; b++) {
        for (watch_entry *w = s->watch_buckets[b]; w; w = w->next_bucket) {
            int hit;
            if (end) /* start <= key < end (el == 0: no end) */
                hit = enc_bytes_cmp(w->key, w->kl, k, kl) >= 0 && (!el || enc_bytes_cmp(w->key, w->kl, end, el) < 0);
            else
                hit = w->kl == kl && memcmp(w->key, k, kl) == 0;
            if (!hit) continue;
            if (w->stale) {
                /* An already-expired key that is now gone: logically unchanged. */
                store_val v;
                if (store_get(s->ks.tx, STORE_CF_DATA, w->key, w->kl, &v, NULL) == 0) {
                    w->stale = 0;
                    continue;
                }
                store_val_free(&v);
            }
            w->c->watch_dirty = 1;
        }
        if (!end) break;
    }
}

static void unlink_entry(server *s, watch_entry *w) {
    for (watch_entry **pp = &s->watch_buckets[hash_key(w->key, w->kl)]; *pp; pp = &(*pp)->next_bucket)
        if (*pp == w) {
            *pp = w->next_bucket;
            return;
        }
}

static void unwatch_all(client *c) {
    server *s = c->srv;
    for (watch_entry *w = c->watched, *next; w; w = next) {
        next = w->next_client;
        unlink_entry(s, w);
        free(w->key);
        free(w);
        s->nwatch--;
    }
    c->watched = NULL;
    c->watch_dirty = 0;
    if (s->nwatch == 0) store_set_touch_hook(s->st, NULL, NULL);
}

void multi_client_gone(client *c) {
    discard_queue(c);
    unwatch_all(c);
}

/* SWAPDB a b, before the map changes: a watcher of a key in either db is
 * dirty when the key is stored on either side (as Redis does), and its
 * entry moves to the physical db its SELECT db will map to. */
void watch_swapdb(server *s, int a, int b) {
    if (!s->nwatch) return;
    watch_entry *moved = NULL;
    for (int i = 0; i < WATCH_BUCKETS; i++) {
        for (watch_entry *w = s->watch_buckets[i], *next; w; w = next) {
            next = w->next_bucket;
            if (w->ldb != a && w->ldb != b) continue;
            int other = db_phys(&s->ks, w->ldb == a ? b : a);
            store_val v;
            int here = store_get(s->ks.tx, STORE_CF_DATA, w->key, w->kl, &v, NULL) == 1;
            if (here) store_val_free(&v);
            w->key[0] = (char)other;
            int there = store_get(s->ks.tx, STORE_CF_DATA, w->key, w->kl, &v, NULL) == 1;
            if (there) store_val_free(&v);
            w->key[0] = (char)db_phys(&s->ks, w->ldb);
            if (here || there) w->c->watch_dirty = 1;
            unlink_entry(s, w);
            w->key[0] = (char)other;
            w->next_bucket = moved;
            moved = w;
        }
    }
    while (moved) {
        watch_entry *w = moved;
        moved = w->next_bucket;
        uint32_t bk = hash_key(w->key, w->kl);
        w->next_bucket = s->watch_buckets[bk];
        s->watch_buckets[bk] = w;
    }
}

void multi_free(server *s) {
    free(s->watch_buckets);
    s->watch_buckets = NULL;
}

/* WATCH key [key ...] */
static int watch_command(client *c) {
    server *s = c->srv;
    if (c->in_multi) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return -1;
    }
    /* Writes still pending in this iteration's batch happened before this
     * WATCH: commit them now, or the touch hook would count them later. */
    if (!ks_idle(&s->ks) && server_commit(s, NULL, 0) < 0) {
        reply_error(c, "ERR storage error");
        return -1;
    }
    if (!s->watch_buckets && !(s->watch_buckets = calloc(WATCH_BUCKETS, sizeof *s->watch_buckets))) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    for (int i = 1; i < c->argc; i++) {
        const resp_slice *k = &c->argv[i];
        char *ek = malloc(k->len + 1);
        if (!ek) {
            reply_error(c, "ERR out of memory");
            return -1;
        }
        size_t ekl = enc_data_key(ek, db_phys(&s->ks, c->db), k->ptr, k->len);
        int dup = 0;
        for (watch_entry *w = c->watched; w && !dup; w = w->next_client)
            dup = w->kl == ekl && memcmp(w->key, ek, ekl) == 0;
        if (dup) {
            free(ek);
            continue;
        }
        watch_entry *w = calloc(1, sizeof *w);
        if (!w) {
            free(ek);
            reply_error(c, "ERR out of memory");
            return -1;
        }
        store_val v;
        enc_value ev;
        if (store_get(s->ks.tx, STORE_CF_DATA, ek, ekl, &v, NULL) == 1) {
            if (enc_value_decode(v.ptr, v.len, &ev) == 0 && ev.expire_ms) {
                if (ev.expire_ms <= (int64_t)now_ms()) w->stale = 1;
                else w->expires_at = ev.expire_ms;
            }
            store_val_free(&v);
        }
        w->c = c;
        w->ldb = c->db;
        w->key = ek;
        w->kl = ekl;
        uint32_t b = hash_key(ek, ekl);
        w->next_bucket = s->watch_buckets[b];
        s->watch_buckets[b] = w;
        w->next_client = c->watched;
        c->watched = w;
        if (s->nwatch++ == 0) store_set_touch_hook(s->st, touch, s);
    }
    reply_ok(c);
    return 0;
}

/* UNWATCH */
static int unwatch_command(client *c) {
    unwatch_all(c);
    reply_ok(c);
    return 0;
}

/* MULTI */
static int multi_command(client *c) {
    if (c->in_multi) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return -1;
    }
    c->in_multi = 1;
    reply_ok(c);
    return 0;
}

/* DISCARD */
static int discard_command(client *c) {
    if (!c->in_multi) {
        reply_error(c, "ERR DISCARD without MULTI");
        return -1;
    }
    discard_queue(c);
    unwatch_all(c);
    reply_ok(c);
    return 0;
}

/* A watched key that was live at WATCH time and has expired since. */
static int watched_key_expired(client *c) {
    int64_t now = (int64_t)now_ms();
    for (watch_entry *w = c->watched; w; w = w->next_client)
        if (w->expires_at && w->expires_at <= now) return 1;
    return 0;
}

/* EXEC */
static int exec_command(client *c) {
    server *s = c->srv;
    if (!c->in_multi) {
        reply_error(c, "ERR EXEC without MULTI");
        return -1;
    }
    if (c->multi_error) {
        discard_queue(c);
        unwatch_all(c);
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        return -1;
    }
    if (c->watch_dirty || watched_key_expired(c)) {
        discard_queue(c);
        unwatch_all(c);
        reply_null_array(c);
        return 0;
    }
    /* The queue is detached so that commands run with their own argv. */
    queued_cmd *queue = c->queue;
    int n = c->nqueued;
    c->queue = NULL;
    c->nqueued = c->qcap = 0;
    c->in_multi = 0;
    unwatch_all(c);
    int sync = 0;
    reply_array(c, n);
    int saved_argc = c->argc;
    resp_slice *saved_argv = c->argv;
    c->flags |= CL_IN_EXEC; /* blocking commands reply at once */
    for (int i = 0; i < n; i++) {
        ks_mark m;
        ks_mark_begin(&s->ks, &m);
        c->argc = queue[i].argc;
        c->argv = queue[i].argv;
        /* checked again: the user's rules may have changed since queueing (Redis) */
        if (acl_check(c, queue[i].cmd, 1) < 0) continue;
        if (cmd_call(c, queue[i].cmd) != 0) {
            ks_mark_rollback(&s->ks, &m); /* as in Redis: a failed command drops only its own writes */
        } else if (queue[i].cmd->flags & CMD_SYNC) {
            sync = 1;
        }
    }
    c->flags &= ~CL_IN_EXEC;
    c->argc = saved_argc;
    c->argv = saved_argv;
    c->cmd = NULL;
    for (int i = 0; i < n; i++) {
        free(queue[i].argv);
        free(queue[i].buf);
    }
    free(queue);
    /* The transaction's writes stay in the command context: dispatch commits
     * them, in one batch, with the loop iteration (or at once under WATCH). */
    if (sync) s->need_sync = 1;
    return 0;
}

static const cmd_def rows[] = {
    {.name = "multi", .proc = multi_command, .arity = 1, .flags = CMD_FAST | CMD_NO_MULTI,
     .group = "transactions", .args = "",
     .summary = "Starts a transaction."},
    {.name = "exec", .proc = exec_command, .arity = 1, .flags = CMD_NO_MULTI,
     .group = "transactions", .args = "",
     .summary = "Executes the queued commands as one atomic batch."},
    {.name = "discard", .proc = discard_command, .arity = 1, .flags = CMD_FAST | CMD_NO_MULTI,
     .group = "transactions", .args = "",
     .summary = "Discards the queued commands."},
    {.name = "watch", .proc = watch_command, .arity = -2, .flags = CMD_FAST | CMD_NO_MULTI, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "transactions", .args = "key [key ...]",
     .summary = "Makes EXEC fail if any of the keys changes before it."},
    {.name = "unwatch", .proc = unwatch_command, .arity = 1, .flags = CMD_FAST,
     .group = "transactions", .args = "",
     .summary = "Forgets all watched keys."},
    CMD_TABLE_END,
};

const cmd_family multi_family = {.name = "transactions", .rows = rows, .free = multi_free};
