/* Administration: BGSAVE LASTSAVE SLOWLOG LATENCY MEMORY DEBUG FUNCTION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "server.h"
#include "cmd_admin.h"

/* LATENCY LATEST|HISTORY event|RESET [event ...]|DOCTOR|HELP: stagekv keeps
 * no latency events (see SLOWLOG and docs/performance.md). */
static int latency_command(client *c) {
    const resp_slice *sub = &c->argv[1];
    if (arg_eq(sub, "latest") || arg_eq(sub, "history")) reply_array(c, 0);
    else if (arg_eq(sub, "reset")) reply_int(c, 0);
    else if (arg_eq(sub, "doctor")) reply_bulkstr(c, "stagekv does not sample latency events; use SLOWLOG.");
    else if (arg_eq(sub, "help")) {
        reply_array(c, 1);
        reply_status(c, "LATENCY LATEST | HISTORY <event> | RESET [<event> ...] | DOCTOR");
    } else {
        reply_errorf(c, "ERR unknown subcommand '%.*s'. Try LATENCY HELP.", (int)(sub->len > 64 ? 64 : sub->len),
                     sub->ptr);
        return -1;
    }
    return 0;
}

/* MEMORY USAGE key [SAMPLES n] | DOCTOR | STATS | HELP */
static int memory_command(client *c) {
    const resp_slice *sub = &c->argv[1];
    if (arg_eq(sub, "usage") && (c->argc == 3 || c->argc == 5)) {
        db_value v;
        int r = db_lookup(KS(c), c->db, c->argv[2].ptr, c->argv[2].len, &v);
        if (r < 0) return -1;
        if (r == 0) {
            reply_null(c);
            return 0;
        }
        /* stored bytes: key, header and payload, plus RocksDB's per-entry overhead */
        reply_int(c, (int64_t)(c->argv[2].len + v.raw.len + 1 + 24));
        db_value_free(&v);
    } else if (arg_eq(sub, "doctor")) {
        reply_bulkstr(c, "Hi Sam, I can't find any memory issue in your instance.");
    } else if (arg_eq(sub, "stats")) {
        uint64_t mem = 0;
        store_property_int(c->srv->st, STORE_CF_DATA, "rocksdb.cur-size-all-mem-tables", &mem);
        reply_array(c, 2);
        reply_bulkstr(c, "rocksdb.memtables");
        reply_int(c, (int64_t)mem);
    } else if (arg_eq(sub, "help")) {
        reply_array(c, 1);
        reply_status(c, "MEMORY USAGE <key> | DOCTOR | STATS");
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try MEMORY HELP.",
                     (int)(sub->len > 64 ? 64 : sub->len), sub->ptr);
        return -1;
    }
    return 0;
}

/* DEBUG SLEEP seconds | DEBUG SET-ACTIVE-EXPIRE 0|1: what test suites use. */
static int debug_command(client *c) {
    const resp_slice *sub = &c->argv[1];
    if (arg_eq(sub, "sleep") && c->argc == 3) {
        long double secs;
        if (parse_ld(c->argv[2].ptr, c->argv[2].len, &secs) < 0 || secs < 0) {
            reply_error(c, "ERR value is not a valid float");
            return -1;
        }
        /* Blocks the loop on purpose, as in Redis: tests use it to stall the server. */
        struct timespec ts = {(time_t)secs, (long)((secs - (long double)(time_t)secs) * 1e9L)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_eq(sub, "set-active-expire") && c->argc == 3) {
        c->srv->active_expire_off = c->argv[2].len == 1 && c->argv[2].ptr[0] == '0';
        reply_ok(c);
    } else {
        reply_error(c, "ERR DEBUG subcommand not supported by stagekv (SLEEP, SET-ACTIVE-EXPIRE)");
        return -1;
    }
    return 0;
}

/* FUNCTION FLUSH [ASYNC|SYNC] | LIST: stagekv has no functions. */
static int function_command(client *c) {
    if (arg_eq(&c->argv[1], "flush") && c->argc <= 3) reply_ok(c);
    else if (arg_eq(&c->argv[1], "list")) reply_array(c, 0);
    else {
        reply_error(c, "ERR stagekv has no functions (FUNCTION FLUSH and LIST only)");
        return -1;
    }
    return 0;
}

/* ---- BGSAVE: a RocksDB checkpoint (hard links) into dir/backup-<ts>, made
 * on a worker thread so the loop keeps serving. */

typedef struct save_job {
    uv_work_t req;
    server *s;
    char path[512];
    char *err;
} save_job;

static void save_work(uv_work_t *req) {
    save_job *j = req->data;
    store_checkpoint(j->s->st, j->path, &j->err);
}

static void save_done(uv_work_t *req, int status) {
    save_job *j = req->data;
    (void)status;
    server *s = j->s;
    s->bgsave_running = 0;
    if (j->err) {
        s->bgsave_failed = 1;
        server_log(LL_WARNING, "BGSAVE into %s failed: %s", j->path, j->err);
        free(j->err);
    } else {
        s->bgsave_failed = 0;
        s->lastsave = now_ms() / 1000;
        server_log(LL_NOTICE, "BGSAVE: checkpoint written to %s", j->path);
    }
    free(j);
}

/* BGSAVE [SCHEDULE] */
static int bgsave_command(client *c) {
    server *s = c->srv;
    if (c->argc > 2 || (c->argc == 2 && !arg_eq(&c->argv[1], "schedule"))) {
        reply_syntax_error(c);
        return -1;
    }
    if (s->bgsave_running) {
        reply_error(c, "ERR Background save already in progress");
        return -1;
    }
    save_job *j = calloc(1, sizeof *j);
    if (!j) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    j->s = s;
    j->req.data = j;
    /* Everything acknowledged so far goes into the checkpoint. */
    if (server_commit(s, c, c->out.len) < 0) {
        free(j);
        return -1;
    }
    store_flush_wal(s->st, 0, NULL);
    snprintf(j->path, sizeof j->path, "%s/backup-%llu", s->cfg.dir, (unsigned long long)now_ms());
    if (uv_queue_work(s->loop, &j->req, save_work, save_done) < 0) {
        free(j);
        reply_error(c, "ERR cannot start the background save");
        return -1;
    }
    s->bgsave_running = 1;
    reply_status(c, "Background saving started");
    return 0;
}

/* SAVE: the same checkpoint, made on the loop (blocks it, as in Redis). */
static int save_command(client *c) {
    server *s = c->srv;
    if (s->bgsave_running) {
        reply_error(c, "ERR Background save already in progress");
        return -1;
    }
    if (server_commit(s, c, c->out.len) < 0) return -1;
    char path[512], *err = NULL;
    snprintf(path, sizeof path, "%s/backup-%llu", s->cfg.dir, (unsigned long long)now_ms());
    if (store_checkpoint(s->st, path, &err) < 0) {
        reply_errorf(c, "ERR checkpoint into %s failed: %s", path, err ? err : "?");
        free(err);
        return -1;
    }
    s->lastsave = now_ms() / 1000;
    reply_ok(c);
    return 0;
}

/* LASTSAVE */
static int lastsave_command(client *c) {
    reply_int(c, (int64_t)c->srv->lastsave);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "bgsave", .proc = bgsave_command, .arity = -1, .flags = CMD_ADMIN | CMD_DENY_MULTI,
     .group = "server", .args = "[SCHEDULE]",
     .summary = "Writes a RocksDB checkpoint into dir/backup-<ms> in the background."},
    {.name = "save", .proc = save_command, .arity = 1, .flags = CMD_ADMIN | CMD_DENY_MULTI,
     .group = "server", .args = "",
     .summary = "Writes a RocksDB checkpoint into dir/backup-<ms> (blocking)."},
    {.name = "lastsave", .proc = lastsave_command, .arity = 1, .flags = CMD_FAST,
     .group = "server", .args = "",
     .summary = "Returns the Unix time of the last successful BGSAVE (or the start)."},
    {.name = "slowlog", .proc = slowlog_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "GET [count]|LEN|RESET|HELP",
     .summary = "Reads or resets the slow log."},
    {.name = "latency", .proc = latency_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "LATEST|HISTORY event|RESET|DOCTOR|HELP",
     .summary = "Latency events (none are sampled; use SLOWLOG)."},
    {.name = "memory", .proc = memory_command, .arity = -2, .flags = CMD_READONLY,
     .group = "server", .args = "USAGE key|DOCTOR|STATS|HELP",
     .summary = "Estimates memory and storage use."},
    {.name = "debug", .proc = debug_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "SLEEP seconds|SET-ACTIVE-EXPIRE 0|1",
     .summary = "Test-suite helpers."},
    {.name = "function", .proc = function_command, .arity = -2, .flags = CMD_WRITE,
     .group = "server", .args = "FLUSH [ASYNC|SYNC]|LIST",
     .summary = "Functions (stagekv has none)."},
    CMD_TABLE_END,
};

const cmd_family admin_family = {.name = "admin", .rows = rows};
