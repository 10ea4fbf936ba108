/* Blocking commands (BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX, ...):
 * a client whose command found nothing waits on keys until a write makes
 * one of them non-empty or its timeout passes.
 *
 * How: the handler calls block_client when block_allowed says so, and
 * returns without a reply; the client's command (argv copied) is kept and
 * its further input waits in its buffer. The keyspace's ready hook (called
 * by coll_save for a list or sorted set that holds elements) queues the key
 * as ready; after the command (or EXEC) that wrote it, dispatch calls
 * block_serve: for each ready key, in the order the keys became ready, the
 * clients blocked on it are served first come first served by running
 * their command again, restricted to that key (block_ready_key). A run that
 * replies unblocks the client; one that finds nothing leaves it waiting.
 * Its pops join the writer's batch, so its reply, like the writer's, leaves
 * only after the WAL holds them. A timeout replies a null array; inside
 * MULTI/EXEC blocking commands never block (they reply as on a timeout). A
 * blocked client that disconnects is simply forgotten.
 *
 * Blocked clients are few: the waiters of a key are found by walking the
 * list of blocked clients (FIFO).
 */
#ifndef STAGEKV_BLOCK_H
#define STAGEKV_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

typedef struct server server;
typedef struct client client;

/* Installs the keyspace's ready hook. */
void block_init(server *s);
void block_free(server *s);

/* 1 when the command running for c may block: not inside EXEC, not a
 * re-run for a ready key. */
int block_allowed(const client *c);
/* What a blocking handler does when its keys hold nothing: during a re-run
 * it stays blocked (no reply); inside EXEC it replies the timeout's nil
 * (a null bulk with nil_bulk, else a null array); otherwise it blocks c on
 * c->argv[first .. first + nkeys) until deadline_ms (0 = forever).
 * 0 ok; -1 out of memory (replied). */
int block_or_nil(client *c, int first, int nkeys, uint64_t deadline_ms, int nil_bulk);
/* During a re-run: the key that became ready (1), else 0. */
int block_ready_key(const client *c, int *db, const char **k, size_t *kl);
/* Whether key may be served now: always, except during a re-run, where
 * only the key that became ready is. */
int block_key_in_play(const client *c, const resp_slice *key);
/* Serves the clients blocked on keys that became ready (dispatch calls it
 * after each command, outside MULTI). */
void block_serve(server *s);
/* SWAPDB: every key waited on in logical database db may hold data now. */
void block_signal_db(server *s, int db);
/* CLIENT UNBLOCK: ends client id's wait with the timeout's nil, or with
 * error "-UNBLOCKED ...". 1 when it was blocked, 0 otherwise. */
int block_unblock_id(server *s, uint64_t id, int error);
/* c is closing. */
void block_client_gone(client *c);
/* Blocked clients (INFO). */
int block_count(const server *s);
/* Parses a blocking command's timeout (seconds, a float; 0 = forever) into
 * an absolute deadline in ms (0 = forever). -1 after replying Redis's error. */
int block_timeout_arg(client *c, const resp_slice *a, uint64_t *deadline_ms);

#endif
