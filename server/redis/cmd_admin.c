/* Administration: BGSAVE LASTSAVE SLOWLOG LATENCY MEMORY DEBUG FUNCTION; the
 * containers' subcommands are rows of their own ("memory|usage"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "server.h"
#include "cmd_admin.h"

/* ---- LATENCY: stagekv keeps no latency events (see SLOWLOG and
 * docs/performance.md). */

/* LATENCY LATEST | LATENCY HISTORY event */
static int latency_empty_command(client *c) {
    reply_array(c, 0);
    return 0;
}

/* LATENCY RESET [event ...] */
static int latency_reset_command(client *c) {
    reply_int(c, 0);
    return 0;
}

/* LATENCY DOCTOR */
static int latency_doctor_command(client *c) {
    reply_bulkstr(c, "stagekv does not sample latency events; use SLOWLOG.");
    return 0;
}

/* LATENCY HELP */
static int latency_help_command(client *c) {
    reply_array(c, 1);
    reply_status(c, "LATENCY LATEST | HISTORY <event> | RESET [<event> ...] | DOCTOR");
    return 0;
}

/* ---- MEMORY ---- */

/* MEMORY USAGE key [SAMPLES n]: stored bytes of the key. */
static int memory_usage_command(client *c) {
    if (c->argc != 3 && c->argc != 5) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
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
    return 0;
}

/* MEMORY DOCTOR */
static int memory_doctor_command(client *c) {
    reply_bulkstr(c, "Hi Sam, I can't find any memory issue in your instance.");
    return 0;
}

/* MEMORY STATS */
static int memory_stats_command(client *c) {
    uint64_t mem = 0;
    store_property_int(c->srv->st, STORE_CF_DATA, "rocksdb.cur-size-all-mem-tables", &mem);
    reply_array(c, 2);
    reply_bulkstr(c, "rocksdb.memtables");
    reply_int(c, (int64_t)mem);
    return 0;
}

/* MEMORY HELP */
static int memory_help_command(client *c) {
    reply_array(c, 1);
    reply_status(c, "MEMORY USAGE <key> | DOCTOR | STATS");
    return 0;
}

/* ---- DEBUG: what test suites use. */

/* DEBUG SLEEP seconds */
static int debug_sleep_command(client *c) {
    long double secs;
    if (parse_ld(c->argv[2].ptr, c->argv[2].len, &secs) < 0 || secs < 0) {
        reply_error(c, "ERR value is not a valid float");
        return -1;
    }
    /* Blocks the loop on purpose, as in Redis: tests use it to stall the server. */
    struct timespec ts = {(time_t)secs, (long)((secs - (long double)(time_t)secs) * 1e9L)};
    nanosleep(&ts, NULL);
    reply_ok(c);
    return 0;
}

/* DEBUG SET-ACTIVE-EXPIRE 0|1 */
static int debug_set_active_expire_command(client *c) {
    c->srv->active_expire_off = c->argv[2].len == 1 && c->argv[2].ptr[0] == '0';
    reply_ok(c);
    return 0;
}

/* DEBUG FAULT WRITE|SYNC|READ|ALL EIO|ENOSPC|OFF [count]
 * Tests only (enable-debug-fault yes at start): makes the next count
 * storage writes, WAL writes/fsyncs or reads fail (default: all of them
 * until OFF). See docs/operations.md. */
static int debug_fault_command(client *c) {
    if (!c->srv->cfg.enable_debug_fault) {
        reply_error(c, "ERR DEBUG FAULT is disabled; start the server with 'enable-debug-fault yes' (tests only)");
        return -1;
    }
    static const char *const ops[] = {"write", "sync", "read"};
    const resp_slice *a = c->argv;
    int op = -1; /* -1: all */
    if (!arg_eq(&a[2], "all")) {
        for (int i = 0; i < STORE_FAULT_OPS; i++)
            if (arg_eq(&a[2], ops[i])) op = i;
        if (op < 0) {
            reply_error(c, "ERR DEBUG FAULT: the operation must be WRITE, SYNC, READ or ALL");
            return -1;
        }
    }
    int e;
    if (arg_eq(&a[3], "eio")) e = EIO;
    else if (arg_eq(&a[3], "enospc")) e = ENOSPC;
    else if (arg_eq(&a[3], "off")) e = 0;
    else {
        reply_error(c, "ERR DEBUG FAULT: the error must be EIO, ENOSPC or OFF");
        return -1;
    }
    int64_t count = -1;
    if (c->argc == 5 && (resp_parse_ll(a[4].ptr, a[4].len, &count) < 0 || count < 1)) {
        reply_error(c, "ERR DEBUG FAULT: count must be a positive integer");
        return -1;
    }
    if (c->argc > 5) {
        reply_error(c, "ERR syntax error");
        return -1;
    }
    for (int i = 0; i < STORE_FAULT_OPS; i++)
        if (op < 0 || op == i) store_fault_set(c->srv->st, i, e, (long)count);
    server_log(LL_WARNING, "DEBUG FAULT %.*s %.*s: storage fault injection %s", (int)a[2].len, a[2].ptr,
               (int)a[3].len, a[3].ptr, e ? "armed" : "off");
    reply_ok(c);
    return 0;
}

/* DEBUG HELP */
static int debug_help_command(client *c) {
    reply_array(c, 4);
    reply_status(c, "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    reply_status(c, "SLEEP <seconds>");
    reply_status(c, "SET-ACTIVE-EXPIRE <0|1>");
    reply_status(c, "FAULT <WRITE|SYNC|READ|ALL> <EIO|ENOSPC|OFF> [<count>] (enable-debug-fault only)");
    return 0;
}

/* ---- FUNCTION: stagekv has no functions. */

/* FUNCTION FLUSH [ASYNC|SYNC] */
static int function_flush_command(client *c) {
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* FUNCTION LIST [...] */
static int function_list_command(client *c) {
    reply_array(c, 0);
    return 0;
}

/* FUNCTION HELP */
static int function_help_command(client *c) {
    reply_array(c, 2);
    reply_status(c, "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    reply_status(c, "FLUSH [ASYNC|SYNC] | LIST (stagekv has no functions)");
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
    {.name = "slowlog", .proc = cmd_subcommand, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "GET [count]|LEN|RESET|HELP",
     .summary = "Reads or resets the slow log."},
    {.name = "slowlog|get", .proc = slowlog_get_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "[count]",
     .summary = "Returns the newest slow log entries (10 by default, -1 for all)."},
    {.name = "slowlog|len", .proc = slowlog_len_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Returns the number of entries in the slow log."},
    {.name = "slowlog|reset", .proc = slowlog_reset_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Clears the slow log."},
    {.name = "slowlog|help", .proc = slowlog_help_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Shows the SLOWLOG subcommands."},
    {.name = "latency", .proc = cmd_subcommand, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "LATEST|HISTORY event|RESET|DOCTOR|HELP",
     .summary = "Latency events (none are sampled; use SLOWLOG)."},
    {.name = "latency|latest", .proc = latency_empty_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Returns the latest latency events (always none)."},
    {.name = "latency|history", .proc = latency_empty_command, .arity = 3, .flags = CMD_ADMIN,
     .group = "server", .args = "event",
     .summary = "Returns an event's latency history (always empty)."},
    {.name = "latency|reset", .proc = latency_reset_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "[event ...]",
     .summary = "Resets latency events (there are none: 0)."},
    {.name = "latency|doctor", .proc = latency_doctor_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Says that no latency events are sampled."},
    {.name = "latency|help", .proc = latency_help_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Shows the LATENCY subcommands."},
    {.name = "memory", .proc = cmd_subcommand, .arity = -2,
     .group = "server", .args = "USAGE key|DOCTOR|STATS|HELP",
     .summary = "Estimates memory and storage use."},
    {.name = "memory|usage", .proc = memory_usage_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .key_flags = CMD_KEY_RO,
     .group = "server", .args = "key [SAMPLES count]",
     .summary = "Estimates the bytes a key takes in storage."},
    {.name = "memory|doctor", .proc = memory_doctor_command, .arity = 2,
     .group = "server", .args = "",
     .summary = "Reports memory problems (none)."},
    {.name = "memory|stats", .proc = memory_stats_command, .arity = 2,
     .group = "server", .args = "",
     .summary = "Returns the memtables' size."},
    {.name = "memory|help", .proc = memory_help_command, .arity = 2,
     .group = "server", .args = "",
     .summary = "Shows the MEMORY subcommands."},
    {.name = "debug", .proc = cmd_subcommand, .arity = -2, .flags = CMD_ADMIN | CMD_PROTECTED,
     .group = "server", .args = "SLEEP seconds|SET-ACTIVE-EXPIRE 0|1|FAULT op err [count]|HELP",
     .summary = "Test-suite helpers."},
    {.name = "debug|sleep", .proc = debug_sleep_command, .arity = 3, .flags = CMD_ADMIN | CMD_PROTECTED,
     .group = "server", .args = "seconds",
     .summary = "Blocks the server for a while (fractions allowed)."},
    {.name = "debug|set-active-expire", .proc = debug_set_active_expire_command, .arity = 3, .flags = CMD_ADMIN | CMD_PROTECTED,
     .group = "server", .args = "0|1",
     .summary = "Turns the active expiry cycle off (0) or on."},
    {.name = "debug|fault", .proc = debug_fault_command, .arity = -4, .flags = CMD_ADMIN | CMD_PROTECTED,
     .group = "server", .args = "WRITE|SYNC|READ|ALL EIO|ENOSPC|OFF [count]",
     .summary = "Makes storage writes, WAL syncs or reads fail (tests only: enable-debug-fault)."},
    {.name = "debug|help", .proc = debug_help_command, .arity = 2, .flags = CMD_ADMIN | CMD_PROTECTED,
     .group = "server", .args = "",
     .summary = "Shows the DEBUG subcommands."},
    {.name = "function", .proc = cmd_subcommand, .arity = -2,
     .group = "server", .args = "FLUSH [ASYNC|SYNC]|LIST|HELP",
     .acl = "@scripting", .summary = "Functions (stagekv has none)."},
    {.name = "function|flush", .proc = function_flush_command, .arity = -2, .flags = CMD_WRITE,
     .group = "server", .args = "[ASYNC|SYNC]",
     .acl = "@scripting", .summary = "Deletes all functions (there are none)."},
    {.name = "function|list", .proc = function_list_command, .arity = -2,
     .group = "server", .args = "[LIBRARYNAME pattern] [WITHCODE]",
     .acl = "@scripting", .summary = "Lists the functions (always none)."},
    {.name = "function|help", .proc = function_help_command, .arity = 2,
     .group = "server", .args = "",
     .acl = "@scripting", .summary = "Shows the FUNCTION subcommands."},
    CMD_TABLE_END,
};

const cmd_family admin_family = {.name = "admin", .rows = rows};
