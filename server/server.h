/* The server: one libuv loop thread executes every command, so commands are
 * serialized by construction (like Redis); RocksDB runs its own background
 * threads for flushes and compaction. See docs/architecture.md.
 *
 * Ownership: the server owns its clients; a client owns its input buffer,
 * its parser (whose argv slices point into that buffer) and its output
 * buffer. Handlers never touch sockets: they append replies to c->out.
 */
#ifndef STAGEKV_SERVER_H
#define STAGEKV_SERVER_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#include "resp.h"
#include "store.h"

#define SERVER_NAME "stagekv"
#define REDIS_COMPAT_VERSION "7.0.15"
#define DB_COUNT 16

typedef struct server server;
typedef struct client client;

/* ---- configuration ---------------------------------------------------- */

enum fsync_mode { FSYNC_NO = 0, FSYNC_EVERYSEC = 1, FSYNC_ALWAYS = 2 };

typedef struct config {
    int port;
    char *bind;
    char *dir;
    char *unixsocket;
    int unixsocketperm;
    int fsync;
    int maxclients;
    long long proto_max_bulk_len;
    char *requirepass;
    int loglevel;          /* 0 debug, 1 verbose, 2 notice, 3 warning */
    char *logfile;
    int timeout;           /* idle seconds, 0 = never */
    int tcp_keepalive;
    int domain_write_guard;
    long long max_kv_value_size;
    long long max_document_size;
    long long output_buffer_limit; /* bytes of unsent replies before disconnect */
    long long block_cache_size;
    int databases;
    long long slowlog_slower_than; /* µs; negative disables */
    int slowlog_max_len;
    long long maxmemory; /* always 0: no eviction */
    int batch_commits;   /* group the writes of a loop iteration into one batch */
} config;

void config_defaults(config *cfg);
void config_free(config *cfg);
/* Loads argv (a file name first, then --name value pairs). 0 ok, -1 with a
 * message printed to stderr; 1 when --help/--version was handled. */
int config_from_args(config *cfg, int argc, char **argv);
/* Parses a size like "512mb", "1gb", "100": 0 ok, -1 bad. */
int config_parse_size(const char *s, long long *out);

/* ---- logging ---------------------------------------------------------- */
enum { LL_DEBUG = 0, LL_VERBOSE, LL_NOTICE, LL_WARNING };
void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void server_log_open(const config *cfg);

/* ---- command table ---------------------------------------------------- */

typedef int (*cmd_proc)(client *c); /* 0 ok; -1 failed: its writes are dropped */

enum cmd_flags {
    CMD_WRITE = 1u << 0,
    CMD_READONLY = 1u << 1,
    CMD_ADMIN = 1u << 2,
    CMD_FAST = 1u << 3,
    CMD_NOAUTH = 1u << 4,      /* allowed before AUTH */
    CMD_SYNC = 1u << 5,        /* WAL fsynced before the reply, in every mode */
    CMD_DOMAIN = 1u << 6,      /* domain command: may write owned prefixes */
    CMD_KEY_PREFIX = 1u << 7,  /* the key argument is a prefix (a range) */
    CMD_NO_MULTI = 1u << 8,    /* runs at once even inside MULTI */
    CMD_DB0 = 1u << 9,         /* always works on database 0 */
    CMD_IDEMP = 1u << 10,      /* takes [IDEMP key] among its option pairs (SPEC §4.3) */
    CMD_DENY_MULTI = 1u << 11, /* refused inside MULTI */
    CMD_RETRY_SAFE = 1u << 12, /* a write that leaves the same state when repeated: clients may retry it */
};

typedef struct cmd_def {
    const char *name;     /* lower case */
    cmd_proc proc;
    int arity;            /* Redis convention: -N means at least N */
    uint32_t flags;
    int first_key, last_key, key_step; /* last -1 = last argument */
    const char *group;    /* "string", "generic", "kv", "server", ... */
    const char *args;     /* syntax after the name */
    const char *summary;
    const void *data;     /* family-specific (the entity engine's namespace) */
} cmd_def;

#define CMD_TABLE_END {.name = NULL}

/* Each family file exports its rows, terminated by a row with name NULL. */
extern const cmd_def cmd_conn_table[];
extern const cmd_def cmd_client_table[];
extern const cmd_def cmd_server_table[];
extern const cmd_def cmd_admin_table[];
extern const cmd_def cmd_string_table[];
extern const cmd_def cmd_bits_table[];
extern const cmd_def cmd_keys_table[];
extern const cmd_def cmd_expire_table[];
extern const cmd_def cmd_multi_table[];
extern const cmd_def cmd_kv_table[];
extern const cmd_def cmd_entity_table[];
extern const cmd_def cmd_user_table[];
extern const cmd_def cmd_coins_table[];
extern const cmd_def cmd_payment_table[];
extern const cmd_def cmd_msg_table[];
extern const cmd_def cmd_notify_table[];
extern const cmd_def cmd_email_table[];
extern const cmd_def cmd_ticket_table[];
extern const cmd_def cmd_settings_table[];
extern const cmd_def cmd_analytics_table[];
extern const cmd_def cmd_userdel_table[];

void cmd_table_init(void);
const cmd_def *cmd_lookup(const char *name, size_t len);
/* Writes docs/commands.md from the table. */
void cmd_write_markdown(FILE *f);

/* ---- clients ---------------------------------------------------------- */

enum client_flags {
    CL_CLOSE_AFTER_REPLY = 1u << 0,
    CL_CLOSING = 1u << 1,
    CL_PENDING_FLUSH = 1u << 2,
    CL_READ_PAUSED = 1u << 3,
    CL_UNIX = 1u << 4,
};

struct client {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    server *srv;
    uint64_t id;
    uint32_t flags;
    int db;
    int authenticated;
    int resp;                  /* protocol version: 2, or 3 after HELLO 3 */
    int reply_mode;            /* CLIENT REPLY: 0 on, 1 off, 2 skip next */
    /* input */
    char *in;
    size_t inlen, incap, inneed;
    resp_parser parser;
    int argc;                  /* the command being executed */
    resp_slice *argv;
    const cmd_def *cmd, *lastcmd;
    /* output: replies of this read batch, written after the WAL flush */
    resp_buf out;
    size_t out_inflight;       /* bytes handed to uv_write, not yet done */
    client *next_flush;        /* server's flush list */
    client *prev, *next;       /* server's client list */
    char *name;
    char addr[64];
    uint64_t ctime_ms, last_ms;
    /* MULTI/EXEC and WATCH (multi.c) */
    int in_multi, multi_error, watch_dirty;
    struct queued_cmd *queue;
    int nqueued, qcap;
    struct watch_entry *watched;
    /* IDEMP of the command being executed (domain.c) */
    int idemp_active;
    char *idemp_key;
    size_t idemp_keylen;
    uint64_t idemp_fp[2];
};

/* ---- the server ------------------------------------------------------- */

struct server {
    config cfg;
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_pipe_t unix_listener;
    int has_unix;
    uv_check_t flusher;        /* runs after each I/O poll: WAL flush, replies */
    uv_timer_t cron;           /* 1 Hz: fsync everysec, idle timeouts */
    uv_timer_t expirer;        /* 10 Hz: active expiry */
    uv_signal_t sigterm, sigint;
    store *st;
    store_txn *tx;             /* the command context: one command at a time */
    client *clients;           /* list of all */
    client *flush_list;
    uint64_t next_client_id;
    int nclients;
    int need_sync;             /* a CMD_SYNC command ran this iteration */
    int commit_failed;         /* the iteration's batch failed: no reply may go out */
    int sync_running;          /* a background WAL fsync is under way */
    int shutting_down;
    /* keyspace: maintained key counts per db, persisted in the meta CF */
    uint8_t dbmap[DB_COUNT];   /* logical (SELECT) -> physical db byte */
    int64_t dbsize[DB_COUNT];  /* by physical db */
    int64_t dbsize_delta[DB_COUNT]; /* of the command being executed */
    uint32_t dbsize_dirty;          /* bit per db with a non-zero delta */
    resp_buf scratch;               /* value encoding, reused */
    /* stats */
    uint64_t start_ms;
    uint64_t stat_commands, stat_connections, stat_rejected, stat_net_in, stat_net_out;
    uint64_t stat_wal_flushes, stat_wal_syncs, stat_keyspace_hits, stat_keyspace_misses;
    uint64_t stat_expired;
    uint64_t last_sync_ms;
    uint64_t last_id;          /* domain id high-water mark */
    struct cmd_stat *cmdstats; /* INFO commandstats, per command table slot */
    struct slowlog *slowlog;
    int bgsave_running, bgsave_failed, active_expire_off;
    uint64_t lastsave;         /* Unix seconds */
    struct watch_entry **watch_buckets; /* WATCH: encoded key -> watchers */
    int nwatch;
    /* SCAN cursors: cursor -> last key returned */
    struct scan_cursor *cursors;
    uint64_t next_cursor;
};

int server_init(server *s, const config *cfg);
int server_run(server *s);       /* returns exit code */
void server_free(server *s);
void server_request_shutdown(server *s);
/* Closes a client now (never the one executing: flag CL_CLOSE_AFTER_REPLY). */
void client_kill(client *c);
/* Applies the request-size limits that depend on AUTH. */
void client_auth_changed(client *c);
uint64_t now_ms(void);

/* Executes c->argv[0..argc): lookup, checks, handler, commit. */
void cmd_dispatch(client *c);
int cmd_call(client *c, const cmd_def *cmd);
int cmd_stats_init(server *s);
void cmd_stats_reset(server *s);
void cmd_stats_format(server *s, resp_buf *b);
int server_commit(server *s, client *c, size_t mark);

/* ---- transactions (multi.c) -------------------------------------------- */
void multi_queue(client *c, const cmd_def *cmd);  /* replies +QUEUED */
void multi_client_gone(client *c);                /* on close/RESET: discard, unwatch */
void multi_free(server *s);
void watch_swapdb(server *s, int a, int b);
void slowlog_push(client *c, uint64_t usec);
void slowlog_free(server *s);

/* ---- replies (append to c->out) --------------------------------------- */
void reply_ok(client *c);
void reply_status(client *c, const char *s);
void reply_error(client *c, const char *s); /* s without '-' */
void reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(client *c, int64_t v);
void reply_bulk(client *c, const void *p, size_t n);
void reply_bulkstr(client *c, const char *s);
void reply_null(client *c);
void reply_null_array(client *c);
void reply_array(client *c, int64_t n);
void reply_map(client *c, int64_t pairs); /* RESP3 map, RESP2 flat array */
void reply_double(client *c, double d);
/* Common errors */
void reply_syntax_error(client *c);
void reply_wrongtype(client *c);
void reply_not_integer(client *c);
void reply_storage_error(client *c, char *err); /* frees err */
void reply_arity_error(client *c, const char *name);
/* Reserve a slot for an array header whose count is known only later. */
size_t reply_deferred_array(client *c);
void reply_set_deferred_array(client *c, size_t slot, int64_t n);
void reply_set_deferred_map(client *c, size_t slot, int64_t pairs);

/* ---- argument helpers (util.c) ------------------------------------------ */
int arg_eq(const resp_slice *a, const char *s);       /* case-insensitive */
/* Strict decimal int64 (Redis string2ll rules). 0 ok, -1 bad. */
int parse_ll(const char *p, size_t n, int64_t *out);
int parse_ld(const char *p, size_t n, long double *out);
/* Parse an integer argument or reply "value is not an integer or out of range". */
int arg_ll_or_reply(client *c, const resp_slice *a, int64_t *out);
int ll_to_str(char *buf, int64_t v); /* returns length; buf >= 21 bytes */
int glob_match(const char *pat, size_t pl, const char *s, size_t sl, int nocase);

/* Option cursor: walks optional arguments after the fixed ones. */
typedef struct opt_cursor {
    client *c;
    int i;
} opt_cursor;
int opt_more(opt_cursor *o);
int opt_is(opt_cursor *o, const char *name);   /* consumes on match */
/* Consumes the next argument as the value of the option just matched;
 * replies a syntax error and returns -1 when missing. */
int opt_value(opt_cursor *o, resp_slice *out);
int opt_ll(opt_cursor *o, int64_t *out);       /* value as integer, replies on error */

#endif
