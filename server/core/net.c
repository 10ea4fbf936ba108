/* Connections: accept, read, parse, dispatch, then once per loop
 * iteration flush the WAL (group commit) and write every reply.
 *
 *   poll phase:  on_read -> process_input -> cmd_dispatch (replies -> c->out)
 *   check phase: net_end_iteration -> store_flush_wal (one write, one fsync if due)
 *                         -> client_write for each client with output
 *
 * A reply never leaves before the WAL holds the write it acknowledges.
 * A big group may be written by the store's writer thread instead
 * (writer-thread-min-writes): its replies are held (held_list) while the
 * loop runs the next iteration, and go out once the writer reports
 * (net_async_finish); if it failed, so does the iteration after it.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "server.h"

#define READ_CHUNK (16 * 1024)
/* Output backlog at which a client's input stops being read (a client that
 * pipelines without reading), and where reading resumes. */
#define BACKLOG_PAUSE (4u << 20)
#define BACKLOG_RESUME (1u << 20)

typedef struct write_req {
    uv_write_t req;
    resp_buf buf;
    client *c;
} write_req;

static void client_close(client *c);
static void process_input(client *c);
static void client_write(client *c, size_t lim);

static void schedule_flush(client *c) {
    if (c->flags & CL_PENDING_FLUSH) return;
    c->flags |= CL_PENDING_FLUSH;
    c->next_flush = c->srv->flush_list;
    c->srv->flush_list = c;
}

static size_t backlog(const client *c) { return c->out.len + c->out_inflight; }

size_t client_backlog(const client *c) { return backlog(c); }

void client_output_added(client *c) {
    if (!(c->flags & CL_CLOSING)) schedule_flush(c);
}

void client_close_async(client *c) {
    if (c->flags & (CL_CLOSING | CL_CLOSE_ASAP)) return;
    c->flags |= CL_CLOSE_ASAP;
    if (!(c->flags & CL_READ_PAUSED)) {
        c->flags |= CL_READ_PAUSED; /* never resumed: it is closed at the iteration's end */
        uv_read_stop(&c->h.stream);
    }
    schedule_flush(c);
}

static void apply_auth_limits(client *c) {
    /* Before AUTH, a client may not make the server buffer big requests
     * (Redis does the same for unauthenticated clients). */
    server *s = c->srv;
    (void)s;
    if (!c->authenticated) {
        c->parser.max_bulk_len = 16384;
        c->parser.max_multibulk_len = 10;
    } else {
        c->parser.max_bulk_len = s->cfg.proto_max_bulk_len;
        c->parser.max_multibulk_len = 2147483647;
    }
}

void client_auth_changed(client *c) { apply_auth_limits(c); }

void client_reply_added(client *c, size_t mark) {
    if (c->out.len > mark && c->iter_replies++ == 0) c->iter_mark = mark;
}

/* ---- reading -------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    client *c = h->data;
    size_t want = READ_CHUNK;
    if (c->inneed > c->inlen && c->inneed - c->inlen > want) want = c->inneed - c->inlen;
    if (c->incap - c->inlen < want) {
        size_t cap = c->incap ? c->incap : READ_CHUNK;
        while (cap - c->inlen < want) cap *= 2;
        char *p = realloc(c->in, cap);
        if (!p) {
            buf->base = NULL;
            buf->len = 0; /* libuv reports UV_ENOBUFS and we close */
            return;
        }
        c->in = p;
        c->incap = cap;
    }
    buf->base = c->in + c->inlen;
    buf->len = c->incap - c->inlen;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    client *c = st->data;
    if (n < 0) {
        client_close(c);
        return;
    }
    if (n == 0) return;
    c->inlen += (size_t)n;
    c->srv->stat_net_in += (uint64_t)n;
    /* not activity for `timeout`: a request trickling in a byte at a time
     * (slowloris) must not keep its connection forever */
    process_input(c);
    /* A big batch goes to the writer thread now, so that it is written
     * while the loop runs the other clients' commands. */
    net_handover(c->srv);
}

static void pause_reading(client *c) {
    if (c->flags & CL_READ_PAUSED) return;
    c->flags |= CL_READ_PAUSED;
    uv_read_stop(&c->h.stream);
}

static void resume_reading(client *c) {
    if (!(c->flags & CL_READ_PAUSED) || (c->flags & (CL_CLOSING | CL_CLOSE_ASAP))) return;
    c->flags &= ~CL_READ_PAUSED;
    uv_read_start(&c->h.stream, on_alloc, on_read);
    if (c->inlen) process_input(c);
}

enum { RA_NONE, RA_VALUES, RA_LINES };

/* The keys of a command, appended to keys[*n..), and how they are read
 * ahead: RA_VALUES, their values in one MultiGet, for reads and (with
 * `writes`) the fast writes that read their key's value (INCR, HSET,
 * LPUSH: a value or a collection's metadata); RA_LINES, only the key and
 * value caches' lines, for the other writes: SET and MSET (not fast) and
 * SETNX (overwrites) only ask whether their keys exist, which the key
 * cache mostly answers without a read (reading their values ahead cost
 * SET -P 16 a third), but each lookup of its 64 MB table waited for
 * memory (~10% of SET -P 16, perf). RA_NONE when argv is not one whose
 * keys are worth it, or not of the run's kind (*run_mode) or database. */
static int ra_keys(const client *c, const resp_slice *argv, int argc, resp_slice *keys, int *n, int writes,
                   int *run_db, int *run_mode) {
    int bad_sub;
    const cmd_def *d = cmd_lookup_argv(argv, argc, &bad_sub);
    if (!d || !(d->flags & (CMD_READONLY | CMD_WRITE)) || (d->flags & (CMD_KEY_PREFIX | CMD_DOMAIN | CMD_ADMIN)) ||
        d->first_key <= 0)
        return RA_NONE;
    int mode = RA_VALUES;
    if ((d->flags & CMD_WRITE) && (!writes || !(d->flags & CMD_FAST) || (d->key_flags & CMD_KEY_OW)))
        mode = RA_LINES;
    if (*run_mode != RA_NONE && mode != *run_mode) return RA_NONE;
    int db = (d->flags & CMD_DB0) ? 0 : c->db; /* KV.* work on database 0 */
    if (*run_db >= 0 && db != *run_db) return RA_NONE; /* one database a run */
    *run_db = db;
    *run_mode = mode;
    int last = d->last_key < 0 ? argc + d->last_key : d->last_key;
    int step = d->key_step > 0 ? d->key_step : 1;
    for (int i = d->first_key; i <= last && i < argc && *n < STORE_PREFETCH_MAX; i += step) keys[(*n)++] = argv[i];
    return mode;
}

/* Whether the multibulk request at p announces at most 2 * STORE_PREFETCH_MAX
 * + 2 arguments (a longer one ends the run). */
static int ra_short(const char *p, size_t len) {
    size_t i = 1, count = 0;
    for (; i < len && i < 8 && p[i] >= '0' && p[i] <= '9'; i++) count = count * 10 + (size_t)(p[i] - '0');
    return i > 1 && i < len && p[i] == '\r' && count <= 2 * STORE_PREFETCH_MAX + 2;
}

/* Pipelined commands: the keys of the run of commands that starts with the
 * one about to run (parsed, ending at `next` in c->in; an MGET or MSET
 * alone is a run too) are read in one RocksDB MultiGet (db_prefetch), ~3x
 * cheaper a key than a Get each; or, for a run of writes that only ask
 * whether their keys exist, their cache lines are loaded (ra_keys).
 * Exact: a commit drops what was read ahead, and a key the command context
 * wrote is read from its batch. Writes join the run only when their
 * commits wait for the end of the loop iteration (batch-commits, no
 * WATCH): a commit after each would drop the rest every time. Returns
 * where the run ends. */
static size_t read_ahead(client *c, size_t next) {
    server *s = c->srv;
    resp_slice keys[STORE_PREFETCH_MAX];
    int n = 0, writes = s->cfg.batch_commits && !s->nwatch, db = -1, mode = RA_NONE;
    if (!ra_keys(c, c->parser.argv, c->parser.argc, keys, &n, writes, &db, &mode)) return next;
    resp_parser *p = &s->ra_parser;
    p->max_bulk_len = c->parser.max_bulk_len;
    p->max_multibulk_len = c->parser.max_multibulk_len;
    size_t pos = next;
    /* multibulk requests only: an inline one's arguments live in the
     * parser, overwritten by the next parse; and short ones, so the
     * scanning parser's argv stays small */
    while (pos < c->inlen && n < STORE_PREFETCH_MAX && c->in[pos] == '*' && ra_short(c->in + pos, c->inlen - pos)) {
        size_t consumed = 0, need = 0;
        if (resp_parse(p, c->in + pos, c->inlen - pos, &consumed, &need) != RESP_OK) {
            resp_parser_reset(p);
            break;
        }
        if (!ra_keys(c, p->argv, p->argc, keys, &n, writes, &db, &mode)) break;
        pos += consumed;
    }
    if (n >= 2) db_prefetch(&s->ks, db, keys, n, mode == RA_VALUES);
    return pos;
}

static void process_input(client *c) {
    server *s = c->srv;
    size_t off = 0, ra_end = 0; /* ra_end: where the run read ahead ends; 0 = none yet */
    while (off < c->inlen && !(c->flags & (CL_CLOSE_AFTER_REPLY | CL_CLOSING | CL_BLOCKED | CL_CLOSE_ASAP))) {
        if (backlog(c) > BACKLOG_PAUSE) {
            pause_reading(c);
            break;
        }
        size_t consumed = 0, need = 0;
        resp_status st = resp_parse(&c->parser, c->in + off, c->inlen - off, &consumed, &need);
        if (st == RESP_AGAIN) {
            c->inneed = need; /* counted from the pending request's start */
            if ((long long)(c->inlen - off) > s->cfg.query_buffer_limit ||
                (long long)need > s->cfg.query_buffer_limit) {
                /* announced or buffered: either would hold that much memory */
                server_log(LL_WARNING, "client %llu closed: query buffer over %lld bytes (client-query-buffer-limit)",
                           (unsigned long long)c->id, s->cfg.query_buffer_limit);
                s->stat_query_limit++;
                if (ra_end) db_prefetch_drop(&s->ks);
                client_close(c);
                return;
            }
            break;
        }
        if (st == RESP_ERROR) {
            char text[160];
            resp_error_text(&c->parser, text, sizeof text);
            reply_error(c, text);
            c->flags |= CL_CLOSE_AFTER_REPLY;
            off = c->inlen;
            break;
        }
        size_t start = off;
        off += consumed;
        c->inneed = 0;
        if (c->parser.argc == 0) continue;
        /* more commands behind this one, or several keys in it (MGET) */
        if (start >= ra_end && (off < c->inlen || c->parser.argc > 2) && c->in[start] == '*' && c->authenticated) {
            ra_end = read_ahead(c, off);
        }
        c->argc = c->parser.argc;
        c->argv = c->parser.argv;
        c->last_ms = now_ms();
        size_t mark = c->out.len;
        if (c->iter_replies == 0) c->iter_mark = mark;
        int mode = c->reply_mode;
        if (mode) c->flags |= CL_REPLY_SUPPRESSED;
        cmd_dispatch(c);
        c->flags &= ~CL_REPLY_SUPPRESSED;
        /* CLIENT REPLY OFF/SKIP drop replies (SKIP: the next command's only) */
        if ((mode == 2 && c->reply_mode != 0) || (mode == 1 && c->reply_mode == 1) ||
            (mode == 0 && c->reply_mode == 2))
            c->out.len = mark; /* (CLIENT REPLY ON after SKIP answers, as in Redis) */
        if (mode == 2) c->reply_mode = 0;
        if (c->out.len > mark) c->iter_replies++;
        pubsub_release_held(c); /* pushes are never dropped by CLIENT REPLY (as in Redis) */
        if ((long long)backlog(c) > s->cfg.output_buffer_limit) {
            server_log(LL_WARNING, "client %llu closed: output buffer over %lld bytes",
                       (unsigned long long)c->id, s->cfg.output_buffer_limit);
            s->stat_output_limit++;
            if (ra_end) db_prefetch_drop(&s->ks);
            client_close(c);
            return;
        }
    }
    if (ra_end) db_prefetch_drop(&s->ks); /* what another client reads next is not ours */
    if (off) {
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
    }
    /* Give back a big buffer once a large request is done. */
    if (c->inlen == 0 && c->incap > (1u << 20)) {
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
    if (c->out.len || (c->flags & CL_CLOSE_AFTER_REPLY)) schedule_flush(c);
}

/* ---- writing --------------------------------------------------------------- */

static void on_write_done(uv_write_t *req, int status) {
    write_req *w = (write_req *)req;
    client *c = w->c;
    c->out_inflight -= w->buf.len;
    resp_buf_free(&w->buf);
    free(w);
    if (c->flags & CL_CLOSING) return;
    if (status < 0) {
        client_close(c);
        return;
    }
    c->last_ms = now_ms(); /* a reader that drains its replies is not idle */
    if ((c->flags & CL_CLOSE_AFTER_REPLY) && backlog(c) == 0) {
        client_close(c);
        return;
    }
    if ((c->flags & CL_READ_PAUSED) && backlog(c) < BACKLOG_RESUME) resume_reading(c);
}

/* Writes out[0, lim); the rest (replies held for the writer thread) stays
 * in out, moved to its start. */
static void client_write(client *c, size_t lim) {
    if (c->flags & CL_CLOSING) return;
    assert(lim <= c->out.len);
    if (lim) {
        size_t done = 0;
        if (c->out_inflight == 0) {
            uv_buf_t b = uv_buf_init(c->out.data, (unsigned)lim);
            int n = uv_try_write(&c->h.stream, &b, 1);
            if (n > 0) done = (size_t)n, c->last_ms = now_ms();
            else if (n < 0 && n != UV_EAGAIN) {
                client_close(c);
                return;
            }
        }
        c->srv->stat_net_out += done;
        if (done == lim && lim < c->out.len) {
            memmove(c->out.data, c->out.data + lim, c->out.len - lim);
            c->out.len -= lim;
        } else if (done == lim) {
            resp_buf_clear(&c->out);
            /* Keep a modest buffer for the next batch, not a huge one. */
            if (c->out.cap > (1u << 20)) resp_buf_free(&c->out);
        } else {
            write_req *w = malloc(sizeof *w);
            if (!w) {
                client_close(c);
                return;
            }
            w->c = c;
            w->buf = c->out; /* the request owns the bytes until written */
            resp_buf_init(&c->out);
            if (lim < w->buf.len) { /* the held part stays */
                if (resp_buf_append(&c->out, w->buf.data + lim, w->buf.len - lim) < 0) {
                    resp_buf_free(&w->buf);
                    free(w);
                    client_close(c);
                    return;
                }
                w->buf.len = lim;
            }
            uv_buf_t b = uv_buf_init(w->buf.data + done, (unsigned)(w->buf.len - done));
            c->srv->stat_net_out += w->buf.len - done;
            c->out_inflight += w->buf.len;
            if (uv_write(&w->req, &c->h.stream, &b, 1, on_write_done) < 0) {
                c->out_inflight -= w->buf.len;
                resp_buf_free(&w->buf);
                free(w);
                client_close(c);
                return;
            }
        }
    }
    if ((c->flags & CL_CLOSE_AFTER_REPLY) && backlog(c) == 0) client_close(c);
}

/* A failed group commit: every reply of this iteration is replaced by the
 * error, one for one, so that pipelines stay in step. Read replies go too:
 * a read in the group may have seen the group's pending writes. */
static void fail_iteration(server *s, const char *msg) {
    for (client *c = s->flush_list, *next; c; c = next) {
        next = c->next_flush;
        if (c->iter_replies > 0 && c->iter_mark <= c->out.len) {
            c->out.len = c->iter_mark;
            for (int i = 0; i < c->iter_replies; i++) reply_error(c, msg);
        }
        s->stat_failed_replies += (uint64_t)c->iter_replies;
    }
}

/* The group before this iteration failed, and this iteration may have
 * read it: the group's held replies and the iteration's all become its
 * error, one for one. */
static void fail_held(server *s, const char *msg) {
    for (client *c = s->held_list, *next; c; c = next) {
        next = c->next_held;
        c->flags &= ~CL_HELD;
        c->next_held = NULL;
        int n = c->held_replies + c->iter_replies;
        size_t from = c->held_replies ? c->held_mark : c->iter_mark;
        if (n > 0 && from <= c->out.len) {
            c->out.len = from;
            for (int i = 0; i < n; i++) reply_error(c, msg);
        }
        s->stat_failed_replies += (uint64_t)n;
        c->iter_replies = 0;
        c->held_replies = 0;
        schedule_flush(c);
    }
    s->held_list = NULL;
}

/* Writes the iteration's replies and forgets the flush list. With hold
 * (its batch is on the writer thread) only what an earlier group released
 * goes; the rest waits in held_list for net_async_finish. */
static void write_replies(server *s, int hold) {
    client *c = s->flush_list;
    s->flush_list = NULL;
    while (c) {
        client *next = c->next_flush;
        c->flags &= ~CL_PENDING_FLUSH;
        size_t ready = c->out_ready;
        c->out_ready = 0;
        if (c->flags & CL_CLOSE_ASAP) {
            client_close(c);
        } else if (!hold) {
            client_write(c, c->out.len);
        } else {
            if (ready) {
                assert(!(c->flags & CL_HELD) && ready <= c->out.len);
                client_write(c, ready);
                if (c->iter_replies) c->iter_mark -= ready;
            }
            if (c->out.len && !(c->flags & CL_CLOSING)) {
                assert(!(c->flags & CL_HELD));
                c->flags |= CL_HELD;
                c->held_mark = c->iter_replies ? c->iter_mark : c->out.len;
                c->held_end = c->out.len;
                c->held_replies = c->iter_replies;
                c->next_held = s->held_list;
                s->held_list = c;
            }
        }
        c->iter_replies = 0;
        c = next;
    }
}

/* A failed WAL flush: nothing may be acknowledged that is not in the
 * WAL, and nothing answered with an error may stay, so what the
 * unflushed commits changed is put back. msg: the replies' error. */
static void wal_failed_undo(server *s, const char *err, char *msg, size_t n) {
    net_wal_failed(s, err ? err : "unknown error");
    char *uerr = NULL;
    if (store_undo_unflushed(s->st, &uerr) == 0) {
        if (ks_reload(&s->ks, &uerr) < 0) {
            server_log(LL_WARNING, "cannot read the key counts back after the undo: %s", uerr ? uerr : "?");
            free(uerr);
        }
        snprintf(msg, n, "ERR WAL write failed, nothing was written: %s", s->wal_errmsg);
    } else {
        server_log(LL_WARNING, "the writes of the failed WAL flush stay applied: %s", uerr ? uerr : "?");
        free(uerr);
        snprintf(msg, n, "ERR WAL write failed, the write is not acknowledged and may be applied: %s", s->wal_errmsg);
    }
}

int net_overlay_safe(const server *s, const client *c, const cmd_def *cmd) {
    return (cmd->flags & (CMD_READONLY | CMD_WRITE)) &&
           !(cmd->flags & (CMD_ADMIN | CMD_KEY_PREFIX)) && !s->nwatch &&
           s->cfg.batch_commits && !c->in_multi && !(c->flags & CL_IN_EXEC);
}

void net_async_finish(server *s) {
    if (!store_async_pending(s->st)) return;
    char *wal_err = NULL;
    int r = ks_async_finish(&s->ks, &wal_err);
    if (r == 0) {
        s->stat_wal_flushes++;
        store_undo_forget(s->st); /* the group is in the WAL file */
        if (s->inflight_sync) {
            s->stat_wal_syncs++;
            s->last_sync_ms = now_ms();
            net_wal_recovered(s);
        }
        for (client *c = s->held_list, *next; c; c = next) {
            next = c->next_held;
            c->flags &= ~CL_HELD;
            c->next_held = NULL;
            c->out_ready = c->held_end; /* goes at the iteration's end, before what is held then */
            schedule_flush(c);
        }
        s->held_list = NULL;
        return;
    }
    /* Failed: the command context was dropped (ks_async_finish); the rest
     * of this iteration still runs, and fails at its end (s->doomed). */
    pubsub_drop_pending(s);
    if (r == -2) {
        wal_failed_undo(s, wal_err, s->doom_msg, sizeof s->doom_msg);
        free(wal_err);
    } else {
        server_log(LL_WARNING, "commit of a loop iteration's writes failed: %s", s->ks.err.msg);
        snprintf(s->doom_msg, sizeof s->doom_msg, "%s", s->ks.err.msg);
    }
    s->doomed = 1;
}

void net_wal_failed(server *s, const char *err) {
    if (!s->wal_error) server_log(LL_WARNING, "WAL write failed, refusing writes until it can be synced: %s", err);
    s->wal_error = 1;
    snprintf(s->wal_errmsg, sizeof s->wal_errmsg, "%s", err);
}

void net_wal_recovered(server *s) {
    if (!s->wal_error) return;
    server_log(LL_WARNING, "WAL synced again, accepting writes");
    s->wal_error = 0;
    s->wal_errmsg[0] = 0;
}

/* The batch so far goes to the writer thread, when it is big enough,
 * nothing else waits for its WAL flush (keyspace events) and the writer is
 * free: 1 handed over, and the replies so far held for it (write_replies);
 * 0 not. Between commands only. The group before is taken first: one in
 * flight at most. At the iteration's end (at_end) a batch that must be
 * fsynced before its replies goes whatever its size: on the loop the
 * fsync would stall every client, on the writer the loop runs the next
 * ones meanwhile. */
static int handover(server *s, int at_end) {
    int sync = s->cfg.fsync == FSYNC_ALWAYS || s->need_sync;
    if (!s->cfg.writer_thread || s->wal_error || s->shutting_down || s->quiescing || s->doomed || s->batch_mixed ||
        pubsub_has_pending(s) ||
        (store_txn_count(s->ks.tx) < s->cfg.writer_thread_min_writes && !(at_end && sync)))
        return 0;
    if (store_async_pending(s->st) && !store_async_done(s->st)) return 0; /* the batch grows meanwhile */
    net_async_finish(s);
    if (s->doomed) return 0;
    int r = ks_commit_async(&s->ks, sync);
    if (r == 1) {
        s->batch_mixed = 0;
        s->stat_writer_groups++;
        s->inflight_sync = sync;
        s->need_sync = 0;
        s->iter_committed = 0; /* the writer flushes what was committed before it too */
        write_replies(s, 1);
        return 1;
    }
    if (r == 0) {
        s->iter_committed = 1;
        return 1; /* committed here: nothing left to commit */
    }
    /* Nothing was written; the rest of the iteration fails with it. */
    server_log(LL_WARNING, "commit of the loop iteration's writes failed: %s", s->ks.err.msg);
    snprintf(s->doom_msg, sizeof s->doom_msg, "%s", s->ks.err.msg);
    s->doomed = 1;
    return 1;
}

void net_quiesce(server *s) {
    if (!store_async_pending(s->st) && ks_idle(&s->ks)) return;
    s->quiescing = 1;
    net_async_finish(s);
    net_end_iteration(s);
    s->quiescing = 0;
    assert(!store_async_pending(s->st) && ks_idle(&s->ks));
}

void net_handover(server *s) {
    if (!ks_idle(&s->ks)) handover(s, 0);
}

/* Once per loop iteration, after all reads of the iteration were handled:
 * one WAL write (and fsync when due) covers every command, then replies.
 * A failed commit or WAL write turns every reply of the group into an
 * error (never +OK for a write that is not in the WAL); a failed WAL write
 * also stops writes (MISCONF) until the cron's sync succeeds again. */
void net_end_iteration(server *s) {
    assert(store_values_in_use(s->st) == 0); /* every command released what it read */
    if (store_async_pending(s->st)) {
        /* This iteration's replies and batch come after the group on the
         * writer thread. While it is busy they wait, and the batch grows
         * with the next iterations' commands: the loop never waits for the
         * writer here, and the writer wakes it when it is done. */
        if (!store_async_done(s->st) && !s->shutting_down) return;
        net_async_finish(s);
    }
    if (s->doomed) {
    doomed:
        s->doomed = 0;
        ks_discard(&s->ks);
        s->iter_committed = 0;
        s->commit_failed = 0;
        s->need_sync = 0;
        pubsub_drop_pending(s);
        fail_held(s, s->doom_msg);
        fail_iteration(s, s->doom_msg);
        write_replies(s, 0);
        goto out;
    }
    if (!ks_idle(&s->ks) && !handover(s, 1)) server_commit(s, NULL, 0); /* the iteration's (last) batch; refused when doomed */
    if (s->doomed) goto doomed;
    if (store_async_pending(s->st)) goto out; /* handed over: the replies wait for it */
    int wrote = s->iter_committed;
    s->iter_committed = 0;
    if (s->commit_failed) {
        /* the batch was not written: nothing of the group happened */
        s->commit_failed = 0;
        s->need_sync = 0;
        pubsub_drop_pending(s);
        fail_iteration(s, s->ks.err.msg);
        write_replies(s, 0);
        goto out;
    }
    if (!s->flush_list && !s->need_sync && !pubsub_has_pending(s)) goto out;
    /* always: a sync for every iteration that wrote (not for reads alone) */
    int pending = store_unflushed(s->st) > 0;
    int sync = (s->cfg.fsync == FSYNC_ALWAYS && pending) || s->need_sync;
    /* While the WAL is failing, writes are refused; an iteration of reads
     * has nothing to flush (the cron retries the sync). */
    if (s->wal_error && !wrote) sync = 0;
    else if (pending || sync) {
        char *err = NULL;
        if (store_flush_wal(s->st, sync, &err) < 0) {
            /* Nothing may be acknowledged that is not in the WAL, and
             * nothing answered with an error may stay: put back what the
             * unflushed commits changed. */
            char msg[sizeof s->doom_msg];
            wal_failed_undo(s, err, msg, sizeof msg);
            free(err);
            pubsub_drop_pending(s);
            fail_iteration(s, msg);
            s->need_sync = 0;
            write_replies(s, 0);
            goto out;
        }
        s->stat_wal_flushes++;
        store_undo_forget(s->st); /* the group is in the WAL file */
        if (sync) {
            s->stat_wal_syncs++;
            s->last_sync_ms = now_ms();
            net_wal_recovered(s);
        }
    }
    s->need_sync = 0;
    /* The iteration's writes are in the WAL: their events may go out now. */
    pubsub_deliver_pending(s);
    write_replies(s, 0);
out:
    if (ks_idle(&s->ks)) s->batch_mixed = 0;
    if (s->shutting_down) server_finish_shutdown(s);
}

/* ---- connections -------------------------------------------------------- */

static void on_close(uv_handle_t *h) {
    client *c = h->data;
    server *s = c->srv;
    resp_parser_free(&c->parser);
    resp_buf_free(&c->out);
    resp_buf_free(&c->ps_held);
    free(c->in);
    free(c->name);
    free(c->idemp_key);
    free(c);
    if (s->shutting_down) server_finish_shutdown(s);
}

static void client_close(client *c) {
    if (c->flags & CL_CLOSING) return;
    c->flags |= CL_CLOSING;
    server *s = c->srv;
    multi_client_gone(c);
    block_client_gone(c);
    pubsub_client_gone(c);
    if (c->prev) c->prev->next = c->next; else s->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nclients--;
    if (c->flags & CL_PENDING_FLUSH) {
        for (client **pp = &s->flush_list; *pp; pp = &(*pp)->next_flush)
            if (*pp == c) { *pp = c->next_flush; break; }
        c->flags &= ~CL_PENDING_FLUSH;
    }
    if (c->flags & CL_HELD) {
        for (client **pp = &s->held_list; *pp; pp = &(*pp)->next_held)
            if (*pp == c) { *pp = c->next_held; break; }
        c->flags &= ~CL_HELD;
    }
    uv_close(&c->h.handle, on_close);
}

void client_kill(client *c) { client_close(c); }

void net_client_resume(client *c) {
    if (!(c->flags & (CL_BLOCKED | CL_CLOSING)) && c->inlen) process_input(c);
}

void net_on_connection(uv_stream_t *listener, int status) {
    server *s = listener->data;
    if (status < 0 || s->shutting_down) return;
    client *c = calloc(1, sizeof *c);
    if (!c) return;
    c->srv = s;
    int is_unix = listener == (uv_stream_t *)&s->unix_listener;
    int r = is_unix ? uv_pipe_init(s->loop, &c->h.pipe, 0) : uv_tcp_init(s->loop, &c->h.tcp);
    if (r < 0) { free(c); return; }
    c->h.handle.data = c;
    if (is_unix) c->flags |= CL_UNIX;
    if (uv_accept(listener, &c->h.stream) < 0) {
        c->flags |= CL_CLOSING;
        uv_close(&c->h.handle, on_close);
        return;
    }
    c->id = ++s->next_client_id;
    c->resp = 2;
    c->ctime_ms = c->last_ms = now_ms();
    resp_parser_init(&c->parser);
    resp_buf_init(&c->out);
    resp_buf_init(&c->ps_held);
    acl_client_init(c);
    apply_auth_limits(c);
    if (!is_unix) {
        uv_tcp_nodelay(&c->h.tcp, 1);
        if (s->cfg.tcp_keepalive > 0) uv_tcp_keepalive(&c->h.tcp, 1, (unsigned)s->cfg.tcp_keepalive);
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
            char ip[48] = "?";
            int port = 0;
            if (ss.ss_family == AF_INET6) {
                uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
                port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            } else {
                uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
                port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            }
            snprintf(c->addr, sizeof c->addr, "%s:%d", ip, port);
        }
    } else {
        snprintf(c->addr, sizeof c->addr, "%s:0", s->cfg.unixsocket);
    }
    c->next = s->clients;
    if (s->clients) s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    s->stat_connections++;
    if (s->nclients > s->cfg.maxclients) {
        s->stat_rejected++;
        reply_error(c, "ERR max number of clients reached");
        c->flags |= CL_CLOSE_AFTER_REPLY;
        client_write(c, c->out.len);
        return;
    }
    uv_read_start(&c->h.stream, on_alloc, on_read);
}

/* ---- the server's hands on its clients ---------------------------------- */

void net_close_idle(server *s, uint64_t now) {
    if (s->cfg.timeout <= 0) return;
    for (client *c = s->clients, *next; c; c = next) {
        next = c->next;
        /* listeners are quiet by design, a blocked client waits for its own
         * timeout (as Redis) */
        if (c->flags & (CL_PUBSUB | CL_MONITOR | CL_BLOCKED)) continue;
        /* as Redis: also a client whose replies do not drain (it does not
         * read) is idle; its backlog goes with it */
        if (now > c->last_ms && now - c->last_ms > (uint64_t)s->cfg.timeout * 1000u) {
            s->stat_idle_closed++;
            client_close(c);
        }
    }
}

void net_shutdown_clients(server *s) {
    /* Clients get what is already queued for them, then are closed. */
    for (client *c = s->clients, *next; c; c = next) {
        next = c->next;
        c->flags |= CL_CLOSE_AFTER_REPLY;
        uv_read_stop(&c->h.stream);
        schedule_flush(c);
    }
}
