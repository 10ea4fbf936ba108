/* Server commands: COMMAND INFO DBSIZE FLUSHDB FLUSHALL CONFIG TIME SHUTDOWN. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "server.h"
#include "cmd_server.h"

/* DBSIZE */
static int dbsize_command(client *c) {
    /* Due keys go first, so the count never includes an expired key. */
    if (ks_idle(KS(c)) && !store_async_pending(c->srv->st)) db_expire_sweep(KS(c), now_ms(), -1);
    reply_int(c, db_size(&c->srv->ks, c->db));
    return 0;
}

static int flush_mode_ok(client *c) {
    if (c->argc == 1 || (c->argc == 2 && (arg_eq(&c->argv[1], "async") || arg_eq(&c->argv[1], "sync"))))
        return 1;
    reply_syntax_error(c);
    return 0;
}

/* FLUSHDB [ASYNC|SYNC] */
static int flushdb_command(client *c) {
    if (!flush_mode_ok(c) || db_flush(KS(c), c->db) < 0) return -1;
    reply_ok(c);
    return 0;
}

/* FLUSHALL [ASYNC|SYNC] */
static int flushall_command(client *c) {
    if (!flush_mode_ok(c)) return -1;
    for (int db = 0; db < DB_COUNT; db++)
        if (db_flush(KS(c), db) < 0) return -1;
    reply_ok(c);
    return 0;
}

/* TIME */
static int time_command(client *c) {
    struct timespec ts;
    char buf[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    reply_array(c, 2);
    reply_bulk(c, buf, (size_t)ll_to_str(buf, ts.tv_sec));
    reply_bulk(c, buf, (size_t)ll_to_str(buf, ts.tv_nsec / 1000));
    return 0;
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] */
static int shutdown_command(client *c) {
    for (int i = 1; i < c->argc; i++) {
        if (!arg_eq(&c->argv[i], "nosave") && !arg_eq(&c->argv[i], "save") &&
            !arg_eq(&c->argv[i], "now") && !arg_eq(&c->argv[i], "force")) {
            reply_syntax_error(c);
            return -1;
        }
    }
    server_log(LL_NOTICE, "SHUTDOWN requested by client %llu", (unsigned long long)c->id);
    c->flags |= CL_CLOSE_AFTER_REPLY; /* like Redis: no reply, the connection closes */
    server_request_shutdown(c->srv);
    return 0;
}

/* ---- CONFIG -------------------------------------------------------------- */

typedef struct get_state {
    client *c;
    int n;
} get_state;

static void emit_pair(void *arg, const char *name, const char *value) {
    get_state *g = arg;
    reply_bulkstr(g->c, name);
    reply_bulkstr(g->c, value);
    g->n += 2;
}

/* CONFIG GET pattern [pattern ...] */
static int config_get_command(client *c) {
    get_state g = {c, 0};
    size_t slot = reply_deferred_array(c);
    for (int i = 2; i < c->argc; i++) config_each(&c->srv->cfg, c->argv[i].ptr, c->argv[i].len, emit_pair, &g);
    reply_set_deferred_map(c, slot, g.n / 2);
    return 0;
}

/* CONFIG SET name value [name value ...]: all or nothing, tried on a copy
 * first. */
static int config_set_command(client *c) {
    server *s = c->srv;
    if (c->argc % 2) {
        reply_arity_error(c, c->cmd->name); /* a name without its value, as Redis words it */
        return -1;
    }
    char err[256], name[128], *val;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 2; i < c->argc; i += 2) {
            resp_sanitize(name, sizeof name, c->argv[i].ptr, c->argv[i].len, 100);
            int of = config_option_flags(name);
            if (!pass && (of & CONFIG_MUTABLE) && (of & CONFIG_PROTECTED) &&
                !acl_protected_allowed(c, s->cfg.enable_protected_configs)) {
                /* Redis's enable-protected-configs: only where the config file allows it */
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - can't set protected config", name);
                return -1;
            }
            val = strndup(c->argv[i + 1].ptr, c->argv[i + 1].len);
            if (!val) { reply_error(c, "ERR out of memory"); return -1; }
            config tmp = s->cfg;
            tmp.bind = NULL; tmp.dir = NULL; tmp.unixsocket = NULL; tmp.requirepass = NULL; tmp.logfile = NULL;
            tmp.aclfile = NULL;
            int r = config_set(pass ? &s->cfg : &tmp, name, val, 1, err, sizeof err);
            if (!pass) config_free(&tmp);
            free(val);
            if (r < 0) {
                if (strstr(err, "runtime"))
                    reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", name);
                else if (strstr(err, "unknown"))
                    reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", name);
                else
                    reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, err);
                return -1;
            }
        }
    }
    for (int i = 2; i < c->argc; i += 2)
        if (arg_eq(&c->argv[i], "requirepass")) acl_requirepass_changed(s); /* the default user's password */
    reply_ok(c);
    return 0;
}

/* CONFIG RESETSTAT */
static int config_resetstat_command(client *c) {
    server *s = c->srv;
    s->stat_commands = s->stat_connections = s->stat_rejected = 0;
    s->stat_net_in = s->stat_net_out = s->ks.hits = s->ks.misses = 0;
    cmd_stats_reset(s);
    reply_ok(c);
    return 0;
}

/* CONFIG HELP */
static int config_help_command(client *c) {
    static const char *lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern> [<pattern> ...]", "    Return parameters matching the glob-like patterns and their values.",
        "SET <directive> <value> [<directive> <value> ...]", "    Set the configuration directives (all or none).",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "HELP", "    Print this help."};
    reply_array(c, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    return 0;
}

/* ---- INFO -------------------------------------------------------------- */

static int want(client *c, const char *section, int in_default) {
    if (c->argc == 1) return in_default;
    for (int i = 1; i < c->argc; i++) {
        if (arg_eq(&c->argv[i], section) || arg_eq(&c->argv[i], "all") || arg_eq(&c->argv[i], "everything"))
            return 1;
        if (arg_eq(&c->argv[i], "default") && in_default) return 1;
    }
    return 0;
}

static void human(char *buf, size_t cap, double b) {
    const char *u = "BKMGT";
    int i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    if (i == 0) snprintf(buf, cap, "%.0fB", b);
    else snprintf(buf, cap, "%.2f%c", b, u[i]);
}

/* INFO [section ...] */
static int info_command(client *c) {
    server *s = c->srv;
    resp_buf b;
    resp_buf_init(&b);
    char line[512], h1[32];
    uint64_t now = now_ms();
#define ADD(...) do { int n_ = snprintf(line, sizeof line, __VA_ARGS__); \
        if (n_ > 0) resp_buf_append(&b, line, (size_t)n_ < sizeof line ? (size_t)n_ : sizeof line - 1); } while (0)
    if (want(c, "server", 1)) {
        ADD("# Server\r\nredis_version:%s\r\nstagekv_version:%s\r\nredis_mode:standalone\r\n"
            "os:Linux\r\narch_bits:64\r\nmultiplexing_api:libuv %s\r\nprocess_id:%d\r\n"
            "tcp_port:%d\r\nuptime_in_seconds:%llu\r\nuptime_in_days:%llu\r\nexecutable:stagekv-server\r\n\r\n",
            REDIS_COMPAT_VERSION, STAGEKV_VERSION, uv_version_string(), (int)getpid(), s->cfg.port,
            (unsigned long long)((now - s->start_ms) / 1000), (unsigned long long)((now - s->start_ms) / 86400000));
    }
    if (want(c, "clients", 1)) {
        ADD("# Clients\r\nconnected_clients:%d\r\nmaxclients:%d\r\nblocked_clients:%d\r\n\r\n",
            s->nclients, s->cfg.maxclients, block_count(s));
    }
    if (want(c, "memory", 1)) {
        struct mallinfo2 mi = mallinfo2();
        size_t used = mi.uordblks + mi.hblkhd;
        uint64_t mem = 0, cache = 0;
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.cur-size-all-mem-tables", &mem);
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.block-cache-usage", &cache);
        uint64_t cache_cap = 0; /* block-cache-size less the key and value caches */
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.block-cache-capacity", &cache_cap);
        /* index and filter blocks of the open SST files (outside the cache) */
        uint64_t readers = 0, r1 = 0;
        for (int cf = 0; cf < STORE_CF_COUNT; cf++)
            if (store_property_int(s->st, cf, "rocksdb.estimate-table-readers-mem", &r1) == 0) readers += r1;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        human(h1, sizeof h1, (double)used);
        ADD("# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%lld\r\n"
            "rocksdb_memtables:%llu\r\nrocksdb_block_cache:%llu\r\nrocksdb_block_cache_capacity:%llu\r\n"
            "rocksdb_table_readers:%llu\r\nmaxmemory:0\r\n"
            "maxmemory_policy:noeviction\r\nmem_allocator:libc\r\n\r\n",
            used, h1, (long long)ru.ru_maxrss * 1024, (unsigned long long)mem, (unsigned long long)cache,
            (unsigned long long)cache_cap, (unsigned long long)readers);
    }
    if (want(c, "persistence", 1)) {
        ADD("# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n"
            "rdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:1\r\n"
            "aof_rewrite_in_progress:0\r\naof_last_write_status:%s\r\nstagekv_fsync:%s\r\n"
            "wal_flushes:%llu\r\nwal_syncs:%llu\r\nwal_last_sync_ms_ago:%lld\r\n"
            "wal_failed_replies:%llu\r\nstorage_faults_injected:%llu\r\nwriter_thread_groups:%llu\r\nwriter_thread_waits:%llu\r\n\r\n",
            s->wal_error ? "err" : "ok", s->cfg.fsync == FSYNC_ALWAYS ? "always" : s->cfg.fsync == FSYNC_NO ? "no" : "everysec",
            (unsigned long long)s->stat_wal_flushes, (unsigned long long)s->stat_wal_syncs,
            s->last_sync_ms ? (long long)(now - s->last_sync_ms) : -1LL,
            (unsigned long long)s->stat_failed_replies, (unsigned long long)store_fault_hits(s->st),
            (unsigned long long)s->stat_writer_groups, (unsigned long long)store_async_waits(s->st));
    }
    if (want(c, "cpu", 1)) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        ADD("# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
            "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n\r\n",
            (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
            (long)self.ru_utime.tv_usec, (long)kids.ru_stime.tv_sec, (long)kids.ru_stime.tv_usec,
            (long)kids.ru_utime.tv_sec, (long)kids.ru_utime.tv_usec);
    }
    if (want(c, "replication", 1)) {
        ADD("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n\r\n");
    }
    if (want(c, "commandstats", 0)) {
        ADD("# Commandstats\r\n");
        cmd_stats_format(s, &b);
        resp_buf_append(&b, "\r\n", 2);
    }
    if (want(c, "stats", 1)) {
        ADD("# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
            "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
            "expired_keys:%llu\r\nevicted_keys:0\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
            "client_query_buffer_limit_disconnections:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n"
            "client_idle_timeout_disconnections:%llu\r\n\r\n",
            (unsigned long long)s->stat_connections, (unsigned long long)s->stat_commands,
            (unsigned long long)s->stat_net_in, (unsigned long long)s->stat_net_out,
            (unsigned long long)s->stat_rejected, (unsigned long long)s->ks.expired,
            (unsigned long long)s->ks.hits, (unsigned long long)s->ks.misses,
            (unsigned long long)s->stat_query_limit, (unsigned long long)s->stat_output_limit,
            (unsigned long long)s->stat_idle_closed);
    }
    if (want(c, "storage", 1)) {
        uint64_t keys = 0, sst = 0, live = 0, pending = 0, l0 = 0;
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.estimate-num-keys", &keys);
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.total-sst-files-size", &sst);
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.estimate-live-data-size", &live);
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.estimate-pending-compaction-bytes", &pending);
        store_property_int(s->st, STORE_CF_DATA, "rocksdb.num-files-at-level0", &l0);
        uint64_t kc_slots, kc_hits, kc_misses;
        store_key_cache_stats(s->st, &kc_slots, &kc_hits, &kc_misses);
        uint64_t vc_bytes, vc_hits, vc_misses;
        store_value_cache_stats(s->st, &vc_bytes, &vc_hits, &vc_misses);
        uint64_t ra_read, ra_taken, ra_lines;
        store_prefetch_stats(s->st, &ra_read, &ra_taken, &ra_lines);
        uint64_t cf_records, cf_reads;
        store_filter_stats(s->st, &cf_records, &cf_reads);
        ADD("# Storage\r\nengine:rocksdb\r\nrocksdb_estimate_num_keys:%llu\r\nrocksdb_total_sst_bytes:%llu\r\n"
            "rocksdb_live_data_bytes:%llu\r\nrocksdb_pending_compaction_bytes:%llu\r\n"
            "rocksdb_l0_files:%llu\r\nkey_cache_slots:%llu\r\nkey_cache_hits:%llu\r\nkey_cache_misses:%llu\r\n"
            "value_cache_bytes:%llu\r\nvalue_cache_hits:%llu\r\nvalue_cache_misses:%llu\r\n"
            "read_ahead_keys:%llu\r\nread_ahead_used:%llu\r\nread_ahead_lines:%llu\r\n"
            "elem_filter_records:%llu\r\nelem_filter_reads:%llu\r\ndir:%s\r\n\r\n",
            (unsigned long long)keys, (unsigned long long)sst, (unsigned long long)live,
            (unsigned long long)pending, (unsigned long long)l0, (unsigned long long)kc_slots,
            (unsigned long long)kc_hits, (unsigned long long)kc_misses, (unsigned long long)vc_bytes,
            (unsigned long long)vc_hits, (unsigned long long)vc_misses, (unsigned long long)ra_read,
            (unsigned long long)ra_taken, (unsigned long long)ra_lines, (unsigned long long)cf_records,
            (unsigned long long)cf_reads, s->cfg.dir);
    }
    if (want(c, "keyspace", 1)) {
        ADD("# Keyspace\r\n");
        for (int db = 0; db < DB_COUNT; db++)
            if (db_size(&s->ks, db)) ADD("db%d:keys=%lld,expires=0,avg_ttl=0\r\n", db, (long long)db_size(&s->ks, db));
    }
#undef ADD
    /* drop the trailing blank line, as Redis does */
    while (b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\r' && b.len >= 4 &&
           b.data[b.len - 3] == '\n')
        b.len -= 2;
    reply_bulk(c, b.data, b.len);
    resp_buf_free(&b);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "command", .proc = cmd_command, .arity = -1,
     .group = "server", .args = "[COUNT | LIST | INFO [name ...] | DOCS [name ...] | GETKEYS command [arg ...]]",
     .summary = "Returns information about commands."},
    {.name = "command|count", .proc = cmd_command_count, .arity = 2,
     .group = "server", .args = "",
     .summary = "Returns the number of top-level commands."},
    {.name = "command|list", .proc = cmd_command_list, .arity = -2,
     .group = "server", .args = "",
     .summary = "Returns every command name, each subcommand (client|kill) after its parent."},
    {.name = "command|info", .proc = cmd_command_info, .arity = -2,
     .group = "server", .args = "[name ...]",
     .summary = "Returns the table's entry of each command (all when none): arity, flags, keys, key specs, subcommands."},
    {.name = "command|docs", .proc = cmd_command_docs, .arity = -2,
     .group = "server", .args = "[name ...]",
     .summary = "Returns the documentation of each command (all when none)."},
    {.name = "command|getkeys", .proc = cmd_command_getkeys, .arity = -4,
     .group = "server", .args = "command [arg ...]",
     .summary = "Returns the key arguments of a full command line."},
    {.name = "command|help", .proc = cmd_command_help, .arity = 2,
     .group = "server", .args = "",
     .summary = "Shows the COMMAND subcommands."},
    {.name = "info", .proc = info_command, .arity = -1,
     .group = "server", .args = "[section ...]",
     .summary = "Returns information and statistics about the server."},
    {.name = "dbsize", .proc = dbsize_command, .arity = 1, .flags = CMD_READONLY | CMD_FAST,
     .group = "server", .args = "",
     .summary = "Returns the number of keys in the database (a maintained count)."},
    {.name = "flushdb", .proc = flushdb_command, .arity = -1, .flags = CMD_WRITE | CMD_RETRY_SAFE,
     .group = "server", .args = "[ASYNC|SYNC]",
     .acl = "@keyspace @dangerous", .summary = "Removes all keys from the current database (one range deletion)."},
    {.name = "flushall", .proc = flushall_command, .arity = -1, .flags = CMD_WRITE | CMD_RETRY_SAFE,
     .group = "server", .args = "[ASYNC|SYNC]",
     .acl = "@keyspace @dangerous", .summary = "Removes all keys from all databases."},
    {.name = "config", .proc = cmd_subcommand, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT | HELP",
     .summary = "Reads or changes the configuration at runtime."},
    {.name = "config|get", .proc = config_get_command, .arity = -3, .flags = CMD_ADMIN,
     .group = "server", .args = "pattern [pattern ...]",
     .summary = "Returns the parameters matching the glob patterns, with their values."},
    {.name = "config|set", .proc = config_set_command, .arity = -4, .flags = CMD_ADMIN,
     .group = "server", .args = "name value [name value ...]",
     .summary = "Changes parameters at runtime (all or none)."},
    {.name = "config|resetstat", .proc = config_resetstat_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Resets the statistics INFO reports (commandstats included)."},
    {.name = "config|help", .proc = config_help_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Shows the CONFIG subcommands."},
    {.name = "time", .proc = time_command, .arity = 1, .flags = CMD_FAST,
     .group = "server", .args = "",
     .summary = "Returns the server time."},
    {.name = "shutdown", .proc = shutdown_command, .arity = -1, .flags = CMD_ADMIN | CMD_DENY_MULTI,
     .group = "server", .args = "[NOSAVE|SAVE] [NOW] [FORCE]",
     .acl = "@dangerous", .summary = "Stops the server gracefully (WAL flushed and synced)."},
    CMD_TABLE_END,
};

const cmd_family server_family = {.name = "server", .rows = rows};
