/* Connections: a client's input, parser and output buffer on the libuv
 * loop. Reading parses requests and dispatches them; replies are written
 * once per loop iteration, after the iteration's batch is in the WAL.
 *
 * Ownership: the server owns its clients; a client owns its input buffer,
 * its parser (whose argv slices point into that buffer) and its output
 * buffer. Handlers never touch sockets: they append replies to c->out.
 */
#ifndef STAGEKV_NET_H
#define STAGEKV_NET_H

#include <stdint.h>
#include <uv.h>

#include "commands.h"
#include "resp.h"

/* ---- clients ---------------------------------------------------------- */

enum client_flags {
    CL_CLOSE_AFTER_REPLY = 1u << 0,
    CL_CLOSING = 1u << 1,
    CL_PENDING_FLUSH = 1u << 2,
    CL_READ_PAUSED = 1u << 3,
    CL_UNIX = 1u << 4,
    CL_BLOCKED = 1u << 5,          /* waiting in a blocking command (block.c): input waits */
    CL_IN_EXEC = 1u << 6,          /* running EXEC's queue: blocking commands do not block */
    CL_PUBSUB = 1u << 7,           /* subscribed to a channel or pattern (pubsub.c) */
    CL_MONITOR = 1u << 8,          /* receives every command (MONITOR) */
    CL_CLOSE_ASAP = 1u << 9,       /* over an output limit: closed at the iteration's end, sent nothing more */
    CL_REPLY_SUPPRESSED = 1u << 10, /* running a command whose replies CLIENT REPLY drops */
    CL_HELD = 1u << 11,            /* replies wait for the group on the writer thread (held_list) */
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
    struct acl_user *user;     /* never NULL after accept; the server owns it (acl.c) */
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
    /* this loop iteration's replies: where they start in out, how many
     * (a failed group commit replaces each by an error) */
    size_t iter_mark;
    int iter_replies;
    /* the group on the writer thread: out[0, held_end) waits for it, and
     * holds its held_replies replies from held_mark on; out_ready, once it
     * is written, is what may go before a newer group's held part */
    size_t held_mark, held_end, out_ready;
    int held_replies;
    client *next_held;         /* server's held list */
    client *next_flush;        /* server's flush list */
    client *prev, *next;       /* server's client list */
    char *name;
    char addr[64];
    uint64_t ctime_ms;
    uint64_t last_ms;          /* last complete command or reply progress (timeout) */
    /* MULTI/EXEC and WATCH (multi.c) */
    int in_multi, multi_error, watch_dirty;
    struct queued_cmd *queue;
    int nqueued, qcap;
    struct watch_entry *watched;
    /* IDEMP of the command being executed: filled and used by the
     * family that installed the idemp hooks (core only frees idemp_key) */
    int idemp_active;
    char *idemp_key;
    size_t idemp_keylen;
    uint64_t idemp_fp[2];
    struct blocked *blk;       /* block.c: the blocked command, while blocked or being resumed */
    /* pub/sub (pubsub.c): the channels and patterns subscribed to */
    struct ps_entry **ps_chans, **ps_pats;
    int ps_nchans, ps_npats, ps_chcap, ps_patcap;
    resp_buf ps_held;          /* pushes to this client while CLIENT REPLY drops its replies */
    uint64_t obuf_soft_since;  /* ms since the backlog is over the soft pubsub limit (0: under) */
    client *next_monitor, *prev_monitor; /* the server's MONITOR list */
};

/* Accepts a connection on a listener (uv_listen callback). */
void net_on_connection(uv_stream_t *listener, int status);
/* End of a loop iteration: commit the iteration's batch, flush (and fsync
 * when due) the WAL, then write the replies. */
void net_end_iteration(server *s);
/* The WAL could not be written or synced: writes are refused with MISCONF
 * (err says why) until net_wal_recovered, after a sync that succeeded. */
void net_wal_failed(server *s, const char *err);
void net_wal_recovered(server *s);
/* Takes the result of the group on the writer thread, if any (waiting for
 * it): its replies may go out at the iteration's end, or, when it failed,
 * they and every reply of this iteration become its error. Before
 * anything the group's overlay cannot serve (net_overlay_safe). */
void net_async_finish(server *s);
/* Whether cmd may run while a group is on the writer thread: commands
 * whose reads go through the store's calls (which answer from the group
 * or wait for it) and whose writes join the iteration's batch, the
 * domain's included. Admin rows, the KV prefix rows, MULTI/EXEC and
 * everything while a client WATCHes wait for the group. */
int net_overlay_safe(const server *s, const client *c, const cmd_def *cmd);
/* Between clients' input: hands the batch so far to the writer thread when
 * it is big enough (writer-thread-min-writes). */
void net_handover(server *s);
/* Before background work that commits a batch of its own (expiry, the
 * domain's jobs): takes the writer thread's result and commits the loop's
 * open batch on the loop thread, replies and all, so that the command
 * context is idle and nothing is in flight. */
void net_quiesce(server *s);
/* Closes clients idle longer than the timeout option (cron). */
void net_close_idle(server *s, uint64_t now);
/* Shutdown: stop reading, flush what is queued, then close every client. */
void net_shutdown_clients(server *s);
/* Closes a client now (never the one executing: flag CL_CLOSE_AFTER_REPLY). */
void client_kill(client *c);
/* Runs the client's buffered input (after it was unblocked). */
void net_client_resume(client *c);
/* Applies the request-size limits that depend on AUTH. */
void client_auth_changed(client *c);
/* Bytes of c's replies not yet written (queued + handed to the socket). */
size_t client_backlog(const client *c);
/* Output was appended to c outside its own command (pub/sub messages,
 * MONITOR lines, a blocked client served or timed out): it is written at
 * the end of this loop iteration. */
void client_output_added(client *c);
/* A reply made outside the client's own commands (a blocked command
 * served or timed out) since mark: counted with the iteration's replies,
 * so that a failed group commit turns it into the error as well. */
void client_reply_added(client *c, size_t mark);
/* Closes c at the end of the loop iteration, sending nothing more (an
 * output limit was passed); safe while c's lists are being walked. */
void client_close_async(client *c);

#endif
