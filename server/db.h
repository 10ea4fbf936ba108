/* The keyspace: user keys of databases 0..15 on top of storage/.
 *
 * Every read and write of a command goes through the server's command
 * context (srv->tx), so a command sees its own writes and commits them as
 * one batch. Expired keys are invisible: db_lookup reports them absent.
 * The key count of each database is maintained here (srv->dbsize) and
 * persisted in the meta CF in the same batch as the change.
 */
#ifndef STAGEKV_DB_H
#define STAGEKV_DB_H

#include "server.h"
#include "encoding.h"

typedef struct db_value {
    store_val raw;
    enc_value v;     /* payload points into raw */
    int present;     /* stored, even if expired (for the key count) */
} db_value;

/* 1 live key found (out filled, release with db_value_free), 0 absent or
 * expired, -1 storage error (replied). */
int db_lookup(client *c, int db, const char *k, size_t kl, db_value *out);
void db_value_free(db_value *v);
/* db_lookup that also requires a string: -1 with WRONGTYPE replied otherwise. */
int db_lookup_string(client *c, int db, const resp_slice *k, db_value *out);
/* For commands that edit a string in place (APPEND, SETRANGE, SETBIT):
 * a zeroed buffer of newlen bytes holding the old value (found = the
 * db_lookup result), v released, *expire = its TTL. NULL after replying
 * out of memory (v released too). The caller frees the buffer. */
char *db_string_edit(client *c, db_value *v, int found, size_t newlen, int64_t *expire);
/* 1 exists, 0 absent, -1 error (replied). */
int db_exists(client *c, int db, const char *k, size_t kl);

/* Writes a value. existed: 1/0 if the caller knows whether a live key was
 * there (from db_lookup), -1 to have it checked. 0 ok, -1 error (replied). */
int db_put(client *c, int db, const char *k, size_t kl, unsigned type,
           int64_t expire_ms, const char *payload, size_t pl, int existed);
/* 1 deleted, 0 absent, -1 error (replied). */
int db_delete(client *c, int db, const char *k, size_t kl);
/* Deletes every key of db starting with prefix (pl > 0) as one range
 * deletion; returns the number of keys removed, -1 on error (replied). */
int64_t db_delete_prefix(client *c, int db, const char *p, size_t pl);
/* Empties a database (one range deletion); -1 on error (replied). */
int db_flush(client *c, int db);

/* Iterates live keys of db under prefix p (pl may be 0: the whole db).
 * Keys returned are user keys (db byte stripped). */
typedef struct db_iter {
    store_iter *it;
    int db;
    int started;
    int64_t now;
} db_iter;
void db_iter_open(db_iter *di, client *c, int db, const char *p, size_t pl);
/* Position at the first key >= k (after = 0) or > k (after = 1). */
void db_iter_seek(db_iter *di, const char *k, size_t kl, int after);
/* The next live key: 1 item (k valid until the next call), 0 end, -1 error. */
int db_iter_next(db_iter *di, const char **k, size_t *kl, enc_value *v);
void db_iter_close(db_iter *di);

/* Deletes keys whose expiry is due (at most max; max < 0 = all due), in
 * its own batch: called between commands (timer, DBSIZE). Returns the
 * number of keys removed, -1 on a storage error. */
int64_t db_expire_sweep(server *s, uint64_t now, int64_t max);

/* SELECT numbers are logical: a map (persisted in the meta CF) gives the
 * physical db byte of the key encoding, so SWAPDB is O(1). */
int db_phys(const server *s, int db);
int64_t db_size(const server *s, int db);
/* SWAPDB: swaps the map entries and stages the new map in the batch;
 * db_unswap undoes the in-memory swap when the command fails. */
void db_swap(client *c, int a, int b);
void db_unswap(client *c, int a, int b);
/* 1 when database db holds a key under an owned prefix (or on error). */
int db_has_owned(client *c, int db);

/* Startup: read the persisted key counts and the db map. */
int db_load_counts(server *s, char **err);
/* Before commit: write the changed key counts into the command's batch. */
void db_stage_counts(server *s);
void db_apply_counts(server *s);   /* after a successful commit */
void db_drop_counts(server *s);    /* after a failed command */

/* The write guard (SPEC §2): 1 when key k of db is under a prefix the
 * domain engine owns; for a prefix argument, when the ranges overlap. */
int db_owned(int db, const char *k, size_t kl, int is_prefix);

#endif
