/* The server: one libuv loop thread executes every command, so commands are
 * serialized by construction (like Redis); RocksDB runs its own background
 * threads for flushes and compaction. See docs/architecture.md.
 *
 * This header is core's umbrella: the server struct and its life cycle
 * (server.c), plus the core headers a handler needs.
 */
#ifndef STAGEKV_SERVER_H
#define STAGEKV_SERVER_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#include "block.h"
#include "acl.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "multi.h"
#include "net.h"
#include "pubsub.h"
#include "reply.h"
#include "resp.h"
#include "slowlog.h"
#include "store.h"
#include "util.h"


/* The keyspace of the server a client belongs to. */
#define KS(c) (&(c)->srv->ks)

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
    keyspace ks;               /* the keys, their counts and the command context */
    resp_parser ra_parser;     /* net.c's read-ahead: scans pipelined requests */
    const cmd_family *const *families;
    cmd_hooks hooks;           /* installed by families at init */
    struct dom_engine *dom;    /* the domain engine's state: owned by domain/, opaque here */
    struct acl_state *acl;     /* users, ACL LOG (acl.c) */
    client *clients;           /* list of all */
    client *flush_list;
    uint64_t next_client_id;
    int nclients;
    int need_sync;             /* a CMD_SYNC command ran this iteration */
    int commit_failed;         /* the iteration's batch failed: its replies become errors */
    int iter_committed;        /* a command's batch was committed this iteration */
    int wal_error;             /* the WAL failed: writes refused (MISCONF) until a sync works */
    uv_async_t writer_wake;    /* the store's writer thread finished a group */
    client *held_list;         /* clients whose replies wait for the group on the writer thread */
    int inflight_sync;         /* that group's WAL flush fsyncs */
    int batch_mixed;           /* the open batch ran a command the writer's overlay cannot serve: it commits on the loop */
    int quiescing;             /* net_quiesce: the open batch commits on the loop thread */
    int doomed;                /* the group before this iteration failed: so does the iteration */
    char doom_msg[512];
    char wal_errmsg[256];
    int sync_running;          /* a background WAL fsync is under way */
    int shutting_down;
    /* stats */
    uint64_t start_ms;
    uint64_t stat_commands, stat_connections, stat_rejected, stat_net_in, stat_net_out;
    uint64_t stat_wal_flushes, stat_wal_syncs;
    uint64_t stat_writer_groups;               /* groups written by the writer thread */
    uint64_t stat_failed_replies;              /* replies turned into errors by a failed group */
    uint64_t stat_query_limit, stat_output_limit; /* clients closed by the buffer limits */
    uint64_t stat_idle_closed;                 /* clients closed by timeout */
    uint64_t last_sync_ms;
    struct cmd_stat *cmdstats; /* INFO commandstats, per command table slot */
    struct slowlog *slowlog;
    int bgsave_running, bgsave_failed, active_expire_off;
    uint64_t lastsave;         /* Unix seconds */
    struct watch_entry **watch_buckets; /* WATCH: encoded key -> watchers */
    int nwatch;
    /* SCAN cursors (redis/cmd_keys.c): cursor -> last key returned */
    struct scan_cursor *cursors;
    uint64_t next_cursor;
    struct block_state *blk;   /* blocked clients and ready keys (block.c) */
    struct pubsub *ps;         /* channel and pattern registries, pending events (pubsub.c) */
    client *monitors;          /* MONITOR clients */
};

/* Opens the store, builds the table from families (NULL-terminated), runs
 * each family's init, listens. -1 after logging why. */
int server_init(server *s, const config *cfg, const cmd_family *const *families);
int server_run(server *s);       /* returns exit code */
void server_free(server *s);
void server_request_shutdown(server *s);
/* Closes the loop's handles once the last client is gone. */
void server_finish_shutdown(server *s);
/* Commits the command context as one batch. With c, a failure replaces the
 * replies since mark by the error (they promised writes that did not
 * happen); without c (the end of a loop iteration) the failure is flagged so
 * that no reply of the iteration goes out. After the batch on the writer
 * thread failed (s->doomed) nothing is written: the batch is dropped and
 * the reply is that failure. */
int server_commit(server *s, client *c, size_t mark);

#endif
