/* The keyspace: user keys of databases 0..15 on top of storage/.
 *
 * Every read and write of a command goes through the command context
 * (ks->tx), so a command sees its own writes and commits them as one batch
 * (ks_commit). Expired keys are invisible: db_lookup reports them absent.
 * The key count of each database is maintained here and persisted in the
 * meta CF in the same batch as the change.
 *
 * Nothing here knows clients or replies: a call that fails returns -1 and
 * leaves why in ks->err (status.h); the caller replies it.
 */
#ifndef STAGEKV_DB_H
#define STAGEKV_DB_H

#include <stdint.h>
#include <stddef.h>

#include "encoding.h"
#include "resp.h"
#include "status.h"
#include "store.h"

#define DB_COUNT 16
#define KS_GUARD_MAX 32

typedef struct keyspace {
    store *st;
    store_txn *tx;             /* the command context: one command at a time */
    uint8_t dbmap[DB_COUNT];   /* logical (SELECT) -> physical db byte */
    int64_t dbsize[DB_COUNT];  /* by physical db */
    int64_t dbsize_delta[DB_COUNT]; /* of the writes not yet committed */
    uint32_t dbsize_dirty;          /* bit per db with a non-zero delta */
    resp_buf scratch;               /* value encoding, reused */
    uint64_t hits, misses, expired;
    /* the write guard's registry: prefixes of database 0 that the domain
     * engine owns (registered by it at start; the keyspace knows no names) */
    const char *guard[KS_GUARD_MAX];
    size_t guard_len[KS_GUARD_MAX];
    uint64_t guard_first[4];   /* bit per first byte of a guarded prefix: most keys stop there */
    int nguard;
    uint64_t collver;          /* collections' version counter (coll.c) */
    /* called by coll_save when a list or sorted set holds elements (the
     * blocking commands' wake-up; installed by core's block.c) */
    void (*ready_fn)(void *arg, int db, const char *k, size_t kl);
    void *ready_arg;
    int collver_loaded;
    status err;                /* why the last failing call failed */
    /* Keyspace events for the layer above (notify-keyspace-events): a key
     * created (db_put of an absent key) or removed by expiry; phys_db is
     * the physical db byte. NULL: nobody listens. */
    void (*on_event)(void *ctx, int what, int phys_db, const char *k, size_t kl);
    void *event_ctx;
} keyspace;

enum ks_event { KS_EVENT_NEW = 1, KS_EVENT_EXPIRED = 2 };

/* Milliseconds since 1970: the clock of expiry and of domain ids. */
uint64_t now_ms(void);

int ks_init(keyspace *ks, store *st, char **err);
/* Reads the key counts and the database map again from the store (after
 * the store undid commits: store_undo_unflushed). Idle context only. */
int ks_reload(keyspace *ks, char **err);
void ks_free(keyspace *ks);

/* ---- the command context's commit protocol ---------------------------------
 * One protocol for single commands, EXEC, background work and the domain
 * engine. A unit of work opens a mark (a savepoint when the batch already
 * holds writes of earlier commands: group commit), then either keeps its
 * writes (they join the batch) or drops exactly them. ks_commit writes the
 * batch with the key counts as one RocksDB write. */
typedef struct ks_mark {
    int count;                     /* batch entries when the mark was taken */
    int64_t delta[DB_COUNT];
    uint32_t dirty;
} ks_mark;
void ks_mark_begin(keyspace *ks, ks_mark *m);
/* Drops every write made since the mark (and its key-count changes). */
void ks_mark_rollback(keyspace *ks, ks_mark *m);
/* Writes the batch (and the changed key counts) as one RocksDB write. 0 ok
 * or nothing to write; -1 with ks->err set, the batch and counts dropped. */
int ks_commit(keyspace *ks);
/* The same, handed to the store's writer thread (store_commit_async): 1
 * handed over (ks_async_finish takes its result), 0 committed here, -1
 * failed as ks_commit. With sync the WAL is fsynced after the write. */
int ks_commit_async(keyspace *ks, int sync);
/* Waits for the batch on the writer thread: 0 written and in the WAL
 * file. On failure the command context is discarded first (it may have
 * read the batch): -1 the write failed, ks->err says why, nothing was
 * written and the key counts are read back; -2 it is in the database but
 * the WAL flush failed (*wal_err, malloc()ed): the caller undoes it
 * (store_undo_unflushed) and reads the counts back. */
int ks_async_finish(keyspace *ks, char **wal_err);
/* Drops the command context's pending writes and their count changes. */
void ks_discard(keyspace *ks);
/* 1 when the command context holds no pending write. */
int ks_idle(const keyspace *ks);

/* ---- values -------------------------------------------------------------- */
typedef struct db_value {
    store_val raw;
    enc_value v;     /* payload points into raw */
    int present;     /* stored, even if expired (for the key count) */
} db_value;

/* 1 live key found (out filled, release with db_value_free), 0 absent or
 * expired, -1 error. */
int db_lookup(keyspace *ks, int db, const char *k, size_t kl, db_value *out);
void db_value_free(db_value *v);
/* db_lookup that also requires a string: -1 with ST_WRONGTYPE otherwise. */
int db_lookup_string(keyspace *ks, int db, const resp_slice *k, db_value *out);
/* For commands that edit a string in place (APPEND, SETRANGE, SETBIT):
 * a zeroed buffer of newlen bytes holding the old value (found = the
 * db_lookup result), v released, *expire = its TTL. NULL on out of memory
 * (v released too). The caller frees the buffer. */
char *db_string_edit(keyspace *ks, db_value *v, int found, size_t newlen, int64_t *expire);
/* 1 exists, 0 absent, -1 error. */
int db_exists(keyspace *ks, int db, const char *k, size_t kl);
/* Reads the stored entries of keys[0..n) of db ahead, in one batch, for
 * the reads to come (store_prefetch); db_prefetch_drop when they are done.
 * With values 0, only the caches' lines of the keys, for writes that ask
 * whether they exist (store_prefetch_lines). */
void db_prefetch(keyspace *ks, int db, const resp_slice *keys, int n, int values);
void db_prefetch_drop(keyspace *ks);

/* Writes a value. existed: 1/0 if the caller knows whether a live key was
 * there (from db_lookup), -1 to have it checked. 0 ok, -1 error. */
int db_put(keyspace *ks, int db, const char *k, size_t kl, unsigned type,
           int64_t expire_ms, const char *payload, size_t pl, int existed);
/* 1 deleted, 0 absent, -1 error. */
int db_delete(keyspace *ks, int db, const char *k, size_t kl);
/* Deletes every key of db starting with prefix (pl > 0) as one range
 * deletion (key by key with memtable-insert-hints, storage/store_int.h);
 * returns the number of keys removed, -1 on error. */
int64_t db_delete_prefix(keyspace *ks, int db, const char *p, size_t pl);
/* Empties a database (one range deletion). */
int db_flush(keyspace *ks, int db);

/* Iterates live keys of db under prefix p (pl may be 0: the whole db).
 * Keys returned are user keys (db byte stripped). */
typedef struct db_iter {
    store_iter *it;
    int db;
    int started;
    int64_t now;
} db_iter;
void db_iter_open(db_iter *di, keyspace *ks, int db, const char *p, size_t pl);
/* Position at the first key >= k (after = 0) or > k (after = 1). */
void db_iter_seek(db_iter *di, const char *k, size_t kl, int after);
/* The next live key: 1 item (k valid until the next call), 0 end, -1 error. */
int db_iter_next(db_iter *di, const char **k, size_t *kl, enc_value *v);
void db_iter_close(db_iter *di);

/* Deletes keys whose expiry is due (at most max; max < 0 = all due), in
 * its own batch: called between commands (timer, DBSIZE). Returns the
 * number of keys removed, -1 on a storage error (ks->err). */
int64_t db_expire_sweep(keyspace *ks, uint64_t now, int64_t max);

/* SELECT numbers are logical: a map (persisted in the meta CF) gives the
 * physical db byte of the key encoding, so SWAPDB is O(1). */
int db_phys(const keyspace *ks, int db);
int64_t db_size(const keyspace *ks, int db);
/* SWAPDB: swaps the map entries and stages the new map in the batch;
 * db_unswap undoes the in-memory swap when the command fails. */
void db_swap(keyspace *ks, int a, int b);
void db_unswap(keyspace *ks, int a, int b);

/* ---- the write guard (SPEC §2) ---------------------------------------------- */
/* Registers a prefix of database 0 that plain writes may not touch. */
void ks_guard_register(keyspace *ks, const char *prefix);
/* 1 when key k of db is under a registered prefix; for a prefix argument,
 * when the ranges overlap. */
int db_owned(const keyspace *ks, int db, const char *k, size_t kl, int is_prefix);
/* 1 when database db holds a key under a registered prefix (or on error). */
int db_has_owned(keyspace *ks, int db);

#endif
