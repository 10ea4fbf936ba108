/* The server's life cycle: start (store, keyspace, families, listeners),
 * the loop's timers and signals, and shutdown. Connections are net.c's. */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

static void on_check(uv_check_t *h) { net_end_iteration(h->data); }

/* The writer thread's group is done: the check phase that follows this
 * poll takes its result and sends its replies (net_end_iteration). */
static void on_writer_done(uv_async_t *h) { (void)h; }
static void wake_loop(void *arg) { uv_async_send(arg); } /* on the writer thread */

/* ---- timers, signals, shutdown -------------------------------------------- */

typedef struct sync_job {
    uv_work_t req;
    server *s;
    char *err; /* set when the sync failed */
} sync_job;

static void sync_work(uv_work_t *req) {
    sync_job *j = req->data;
    char *err = NULL;
    /* RocksDB serializes this with the loop's own WAL writes; the loop
     * keeps its count of what it must flush before replying (taking the
     * count here would let the loop reply while this write is under way). */
    if (store_sync_wal(j->s->st, &err) < 0) j->err = err ? err : strdup("unknown error");
}

static void sync_done(uv_work_t *req, int status) {
    sync_job *j = req->data;
    (void)status;
    if (!j->err) {
        j->s->stat_wal_syncs++;
        j->s->last_sync_ms = now_ms();
    } else { /* writes acknowledged since the last sync may not be on disk */
        server_log(LL_WARNING, "background WAL sync failed: %s", j->err);
        net_wal_failed(j->s, j->err);
        free(j->err);
    }
    j->s->sync_running = 0;
    free(j);
}

static void on_cron(uv_timer_t *t) {
    server *s = t->data;
    uint64_t now = now_ms();
    if (s->wal_error && !s->sync_running && !store_async_pending(s->st)) {
        /* Writes stay refused until the WAL takes a sync again. */
        char *err = NULL;
        if (store_flush_wal(s->st, 1, &err) == 0) {
            store_undo_forget(s->st);
            s->stat_wal_syncs++;
            s->last_sync_ms = now;
            net_wal_recovered(s);
        } else {
            snprintf(s->wal_errmsg, sizeof s->wal_errmsg, "%s", err ? err : "unknown error");
            free(err);
        }
    } else if (s->cfg.fsync == FSYNC_EVERYSEC && !s->sync_running && s->stat_wal_flushes) {
        sync_job *j = calloc(1, sizeof *j);
        if (j) {
            j->s = s;
            j->req.data = j;
            s->sync_running = 1;
            if (uv_queue_work(s->loop, &j->req, sync_work, sync_done) < 0) {
                s->sync_running = 0;
                free(j);
            }
        }
    }
    for (const cmd_family *const *f = s->families; f && *f; f++)
        if ((*f)->cron) (*f)->cron(s, now);
    net_close_idle(s, now);
}

/* Active expiry: bounded work per tick, so the loop never stalls on it. */
static void on_expire_tick(uv_timer_t *t) {
    server *s = t->data;
    if (s->wal_error) return; /* no writes while the WAL fails */
    net_quiesce(s); /* the sweep commits batches of its own */
    if (!s->active_expire_off && db_expire_sweep(&s->ks, now_ms(), 2000) < 0)
        server_log(LL_WARNING, "expiry sweep failed: %s", s->ks.err.msg);
}

static void on_signal(uv_signal_t *h, int signum) {
    server *s = h->data;
    server_log(LL_NOTICE, "received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    server_request_shutdown(s);
}

static void close_if_open(uv_handle_t *h) {
    if (h->loop && !uv_is_closing(h)) uv_close(h, NULL);
}

static void walk_close(uv_handle_t *h, void *arg) {
    (void)arg;
    close_if_open(h);
}

void server_request_shutdown(server *s) {
    if (s->shutting_down) return;
    s->shutting_down = 1;
    close_if_open((uv_handle_t *)&s->listener);
    if (s->has_unix) close_if_open((uv_handle_t *)&s->unix_listener);
    net_shutdown_clients(s);
}

void server_finish_shutdown(server *s) {
    if (s->clients) return;
    net_async_finish(s); /* nothing may wake the loop once its handles close */
    store_set_async_notify(s->st, NULL, NULL);
    close_if_open((uv_handle_t *)&s->writer_wake);
    close_if_open((uv_handle_t *)&s->flusher);
    close_if_open((uv_handle_t *)&s->cron);
    close_if_open((uv_handle_t *)&s->expirer);
    close_if_open((uv_handle_t *)&s->sigterm);
    close_if_open((uv_handle_t *)&s->sigint);
}

/* ---- startup ---------------------------------------------------------------- */

static int is_loopback(const char *addr) {
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strcmp(addr, "localhost") == 0;
}

static int listen_tcp(server *s) {
    struct sockaddr_storage ss;
    const char *bind = s->cfg.bind;
    if (strcmp(bind, "localhost") == 0) bind = "127.0.0.1";
    int r = strchr(bind, ':') ? uv_ip6_addr(bind, s->cfg.port, (struct sockaddr_in6 *)&ss)
                              : uv_ip4_addr(bind, s->cfg.port, (struct sockaddr_in *)&ss);
    if (r < 0) {
        server_log(LL_WARNING, "bad bind address '%s': %s", s->cfg.bind, uv_strerror(r));
        return -1;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    if ((r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *)&s->listener, 511, net_on_connection)) < 0) {
        server_log(LL_WARNING, "cannot listen on %s:%d: %s", s->cfg.bind, s->cfg.port, uv_strerror(r));
        return -1;
    }
    return 0;
}

static int listen_unix(server *s) {
    int r;
    unlink(s->cfg.unixsocket);
    uv_pipe_init(s->loop, &s->unix_listener, 0);
    s->unix_listener.data = s;
    s->has_unix = 1;
    if ((r = uv_pipe_bind(&s->unix_listener, s->cfg.unixsocket)) < 0 ||
        (r = uv_listen((uv_stream_t *)&s->unix_listener, 511, net_on_connection)) < 0) {
        server_log(LL_WARNING, "cannot listen on %s: %s", s->cfg.unixsocket, uv_strerror(r));
        return -1;
    }
    if (s->cfg.unixsocketperm) chmod(s->cfg.unixsocket, (mode_t)s->cfg.unixsocketperm);
    return 0;
}

/* Descriptors the server needs beside its clients: listeners, RocksDB's
 * files, the log, libuv's own. */
#define RESERVED_FDS 128

/* As Redis: raise the open-files limit to what maxclients needs; when the
 * hard limit is lower, serve fewer clients and say so. */
static void adjust_open_files(server *s) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t want = (rlim_t)s->cfg.maxclients + RESERVED_FDS;
    if (rl.rlim_cur >= want) return;
    rlim_t cur = rl.rlim_cur;
    rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
    if (rl.rlim_cur > cur && setrlimit(RLIMIT_NOFILE, &rl) == 0) cur = rl.rlim_cur;
    if (cur >= want) {
        server_log(LL_NOTICE, "open files limit raised to %llu for maxclients %d", (unsigned long long)cur,
                   s->cfg.maxclients);
        return;
    }
    int maxc = cur > RESERVED_FDS + 1 ? (int)(cur - RESERVED_FDS) : 1;
    server_log(LL_WARNING,
               "open files limit is %llu (hard %llu): maxclients lowered from %d to %d; raise 'ulimit -n'",
               (unsigned long long)cur, (unsigned long long)rl.rlim_max, s->cfg.maxclients, maxc);
    s->cfg.maxclients = maxc;
}

int server_init(server *s, const config *cfg, const cmd_family *const *families) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->families = families;
    s->start_ms = now_ms();
    s->lastsave = s->start_ms / 1000;
    const char *terr = NULL;
    if (cmd_table_init(families, &terr) < 0) {
        server_log(LL_WARNING, "command table: %s", terr);
        return -1;
    }
    if (cmd_stats_init(s) < 0) return -1;
    char *aerr = NULL;
    if (acl_init(s, &aerr) < 0) {
        server_log(LL_WARNING, "ACL: %s", aerr ? aerr : "out of memory");
        free(aerr);
        return -1;
    }
    adjust_open_files(s);
    if (!is_loopback(cfg->bind) && acl_default_open(s)) {
        server_log(LL_WARNING,
                   "refusing to start: bind %s is not a loopback address and the default user needs no "
                   "password (protected mode); set requirepass (or the default user's password in the "
                   "aclfile) or bind 127.0.0.1",
                   cfg->bind);
        return -1;
    }
    long long kc, vc, block;
    if (config_cache_sizes(cfg, &kc, &vc, &block) < 0) {
        server_log(LL_WARNING,
                   "refusing to start: key-cache-size (%lld) and value-cache-size (%lld) leave less than a quarter of "
                   "block-cache-size (%lld), the memory of all three caches, to RocksDB's block cache; raise "
                   "block-cache-size or lower the other two",
                   kc, vc, cfg->block_cache_size);
        return -1;
    }
    store_options so = {
        .dir = cfg->dir,
        .block_cache_bytes = (size_t)block,
        .write_buffer_bytes = (size_t)cfg->write_buffer_size,
        .meta_write_buffer_bytes = (size_t)cfg->meta_write_buffer_size,
        .key_cache_bytes = (size_t)kc,
        .value_cache_bytes = (size_t)vc,
        .index_outside_cache = !cfg->cache_index_and_filter_blocks,
        .insert_hints = cfg->memtable_insert_hints,
        .writer_thread = cfg->writer_thread,
        .create_if_missing = 1,
    };
    char *err = NULL;
    if (store_open(&s->st, &so, &err) < 0) {
        server_log(LL_WARNING, "cannot open storage in '%s': %s", cfg->dir, err ? err : "?");
        free(err);
        return -1;
    }
    /* a failed WAL flush puts back what its group wrote (net.c) */
    store_set_undo(s->st, 1);
    resp_parser_init(&s->ra_parser);
    if (ks_init(&s->ks, s->st, &err) < 0) {
        server_log(LL_WARNING, "cannot read key counts: %s", err ? err : "out of memory");
        free(err);
        return -1;
    }
    block_init(s);
    if (pubsub_init(s) < 0) return -1; /* after ks_init: it hooks the keyspace's events */
    for (const cmd_family *const *f = families; *f; f++) {
        if (!(*f)->init) continue;
        if ((*f)->init(s, &err) < 0) {
            server_log(LL_WARNING, "cannot start %s: %s", (*f)->name, err ? err : "out of memory");
            free(err);
            return -1;
        }
        assert(ks_idle(&s->ks)); /* an init commits what it writes */
    }
    s->loop = uv_default_loop();
    if (listen_tcp(s) < 0) return -1;
    if (cfg->unixsocket && listen_unix(s) < 0) return -1;
    uv_async_init(s->loop, &s->writer_wake, on_writer_done);
    s->writer_wake.data = s;
    store_set_async_notify(s->st, wake_loop, &s->writer_wake);
    uv_check_init(s->loop, &s->flusher);
    s->flusher.data = s;
    uv_check_start(&s->flusher, on_check);
    uv_timer_init(s->loop, &s->cron);
    s->cron.data = s;
    uv_timer_start(&s->cron, on_cron, 1000, 1000);
    uv_timer_init(s->loop, &s->expirer);
    s->expirer.data = s;
    uv_timer_start(&s->expirer, on_expire_tick, 100, 100);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigterm.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_init(s->loop, &s->sigint);
    s->sigint.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    server_log(LL_NOTICE, "stagekv %s ready on %s:%d, data in %s, fsync %s", STAGEKV_VERSION,
               cfg->bind, cfg->port, cfg->dir,
               cfg->fsync == FSYNC_ALWAYS ? "always" : cfg->fsync == FSYNC_NO ? "no" : "everysec");
    return 0;
}

int server_run(server *s) {
    uv_run(s->loop, UV_RUN_DEFAULT);
    return 0;
}

void server_free(server *s) {
    if (s->loop) {
        /* Close whatever is still open (an init that failed half-way). */
        uv_walk(s->loop, walk_close, NULL);
        uv_run(s->loop, UV_RUN_DEFAULT);
        uv_loop_close(s->loop);
    }
    if (s->st) net_async_finish(s);
    if (s->ks.tx && !ks_idle(&s->ks)) server_commit(s, NULL, 0);
    for (const cmd_family *const *f = s->families; f && *f; f++)
        if ((*f)->free) (*f)->free(s);
    block_free(s);
    pubsub_free(s);
    ks_free(&s->ks);
    resp_parser_free(&s->ra_parser);
    store_close(s->st); /* flushes and syncs the WAL */
    slowlog_free(s);
    acl_free(s);
    free(s->cmdstats);
    s->cmdstats = NULL;
}
