/* The RocksDB engine: the only module that includes rocksdb/c.h.
 *
 * Two column families:
 *   STORE_CF_DATA  user-visible keys (encoding.h: db byte + key -> header + payload)
 *   STORE_CF_META  engine-internal data (counters, indexes, idempotency
 *                  records, id high-water mark), invisible to KV.*, SCAN, DBSIZE.
 *   STORE_CF_ELEM  elements of collections (encoding.h), under their key's
 *                  metadata in the data CF. Its compaction filter drops the
 *                  elements whose metadata is gone or has another version,
 *                  so deleting a collection is one point delete.
 *
 * Writes go through a store_txn: a write batch with an index, so reads made
 * through the same txn see its own pending writes. One txn is committed as
 * one atomic RocksDB write. Range deletions are supported inside a txn (the
 * RocksDB C API cannot put them into a WriteBatchWithIndex, so the txn keeps
 * them apart and builds a plain WriteBatch in order when one is present).
 *
 * Group commit: the database is opened with manual_wal_flush, so a commit
 * appends to the WAL buffer in memory; store_flush_wal() pushes all commits
 * since the last call to the OS (and optionally fsyncs) with one write. The
 * server calls it once per event-loop iteration before any reply goes out,
 * so an acknowledged write is always in the WAL file.
 *
 * Errors: functions returning int give 0 on success, -1 on failure, with a
 * malloc()ed message in *err when err is not NULL (caller frees).
 */
#ifndef STAGEKV_STORE_H
#define STAGEKV_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct store_iter store_iter;

enum { STORE_CF_DATA = 0, STORE_CF_META = 1, STORE_CF_ELEM = 2, STORE_CF_COUNT = 3 };

typedef struct store_options {
    const char *dir;            /* created if missing */
    size_t block_cache_bytes;   /* 0 = default (256 MB) */
    size_t write_buffer_bytes;  /* 0 = default (16 MB): data and element CFs */
    size_t meta_write_buffer_bytes; /* 0 = default (4 MB): the meta CF */
    int create_if_missing;      /* 1 normally */
    size_t key_cache_bytes;     /* keycache.h; 0 = no key cache */
    size_t value_cache_bytes;   /* valcache.h; 0 = no value cache */
    int index_outside_cache;    /* 1: table readers hold index and filter blocks (faster
                                 * point reads, memory outside block_cache_bytes) */
    int insert_hints;           /* 1: data-CF memtable insert hints; prefix range
                                 * deletions become point deletes (store_int.h) */
    int writer_thread;          /* 1: store_commit_async may hand groups to a thread */
} store_options;

int store_open(store **out, const store_options *opt, char **err);
/* Flushes and syncs the WAL, then closes. Accepts NULL. */
void store_close(store *s);

/* Push buffered WAL writes to the file; with sync, fsync it too. */
int store_flush_wal(store *s, int sync, char **err);
/* Writes out the WAL buffer and fsyncs the file, leaving the count of
 * unflushed bytes to the loop: for the everysec thread, beside the loop's
 * own store_flush_wal (which then still writes, or waits for, every commit
 * it counted before its replies go out). */
int store_sync_wal(store *s, char **err);
/* Bytes committed since the last store_flush_wal (0 = nothing to flush). */
uint64_t store_unflushed(const store *s);

/* A value read from the store. Either pinned (no copy) or owned; always
 * release with store_val_free. */
typedef struct store_val {
    const char *ptr;
    size_t len;
    void *pin_;  /* private */
    char *own_;  /* private */
    unsigned *cpin_; /* private: the value cache's count of values in use */
} store_val;
/* A found value stays valid until store_val_free, whatever happens to the
 * txn or the store's data meanwhile (but not across store_close). */
void store_val_free(store_val *v);

/* ---- transactions (command contexts) --------------------------------- */

/* A txn is reusable: after commit or rollback it is empty again. */
store_txn *store_txn_new(store *s);
void store_txn_free(store_txn *t);

/* 1 found (v filled), 0 absent, -1 error. Sees the txn's pending writes. */
int store_get(store_txn *t, int cf, const char *k, size_t kl, store_val *v, char **err);

/* Whether k exists, as store_get would say, without its value: answered
 * from the key cache (keycache.h) when the store has one and t has not
 * written k. 1 exists, 0 absent, -1 error. */
int store_exists(store_txn *t, int cf, const char *k, size_t kl, char **err);
/* Reads the committed values of up to STORE_PREFETCH_MAX data-CF keys in
 * one batched RocksDB MultiGet (for a client's pipelined reads): a
 * store_get of one of them by a txn that has not written it then takes its
 * value from there, once. Any commit, range deletion or undo drops what
 * was not taken, so a read never sees a value older than the last write;
 * store_prefetch_drop drops it too (when the pipeline is done). Keys the
 * caches answer are not read. Replaces what an earlier call left. */
#define STORE_PREFETCH_MAX 64
void store_prefetch(store *s, size_t n, const char *const *keys, const size_t *lens);
void store_prefetch_drop(store *s);
/* For writes that only ask whether their keys exist (SET, MSET): starts
 * loading the key and value caches' lines of up to STORE_PREFETCH_MAX
 * data-CF keys into the CPU's cache, so that their lookups do not each
 * wait for memory in turn. Reads nothing and keeps nothing. */
void store_prefetch_lines(store *s, size_t n, const char *const *keys, const size_t *lens);
/* Keys read ahead, those then taken by a store_get, and keys whose cache
 * lines store_prefetch_lines loaded. */
void store_prefetch_stats(const store *s, uint64_t *read, uint64_t *taken, uint64_t *lines);

/* The key cache's size in slots (0 = off) and its hits and misses so far. */
void store_key_cache_stats(const store *s, uint64_t *slots, uint64_t *hits, uint64_t *misses);
/* Element records the element CF's compaction filter has judged, and the
 * metadata reads it made for them (one per collection version and
 * compaction). */
void store_filter_stats(const store *s, uint64_t *records, uint64_t *reads);
/* Values from the value cache not yet released (store_val_free). While
 * any is, the cache only forgets: a leaked one would silently stop it, so
 * the server asserts this is 0 between loop iterations. */
unsigned store_values_in_use(const store *s);
/* The value cache's ring in bytes (0 = off) and its hits and misses so far
 * (a miss is a data-CF read that went to RocksDB). */
void store_value_cache_stats(const store *s, uint64_t *bytes, uint64_t *hits, uint64_t *misses);

void store_put(store_txn *t, int cf, const char *k, size_t kl, const char *v, size_t vl);
void store_del(store_txn *t, int cf, const char *k, size_t kl);
/* Deletes [start, end) as one range tombstone (with insert_hints, on the
 * data CF only when start is shorter than 2 bytes, a db's whole range: a
 * longer start is deleted key by key, see store_int.h). An empty range
 * (end <= start) is a no-op. end NULL or el 0 (enc_prefix_end's "runs to
 * the end") means to the end of the column family: the tombstone then ends
 * just past the last key that exists when this is called (in the DB or in
 * the txn). */
void store_del_range(store_txn *t, int cf, const char *start, size_t sl,
                     const char *end, size_t el);

int store_txn_count(const store_txn *t);       /* pending operations */
/* Savepoints: rollback undoes the operations since the last savepoint. */
void store_txn_savepoint(store_txn *t);
/* With no savepoint set, rollback undoes the whole txn (like clear). */
void store_txn_rollback_to_savepoint(store_txn *t);

/* Writes everything as one atomic batch (no-op when empty); the txn is
 * empty afterwards, committed or not. */
int store_commit(store_txn *t, char **err);
void store_txn_clear(store_txn *t);            /* drop pending writes */

/* ---- commits on the writer thread ------------------------------------------
 *
 * store_commit_async hands t's writes to the writer thread, which writes
 * them (WAL buffer and memtables) and then flushes the WAL (with sync, an
 * fsync too), while the loop goes on with the next group. From the hand-
 * over on, the group counts as committed for this store's readers: point
 * reads see its writes (the caches take them at once), and iterators,
 * snapshots and the other whole-database reads wait for the writer first.
 * The caller holds back what depends on the group being durable (replies)
 * until store_async_finish says it is. One group at most is in flight:
 * take its result before the next hand-over, and before any other commit,
 * WAL flush, undo, range compaction or checkpoint.
 *
 * 1 handed over; 0 committed here instead, as store_commit (no writer
 * thread, nothing to write, or a batch with range deletions, whose order
 * a sorted copy cannot keep): flush the WAL as after store_commit; -1
 * failed as store_commit (nothing written). t is empty afterwards. */
int store_commit_async(store_txn *t, int sync, char **err);
/* A group is in flight: its result is not taken yet. */
int store_async_pending(const store *s);
/* How many times the loop had to wait for the writer (a read the overlay
 * could not answer, or a command that needs the group's result). */
uint64_t store_async_waits(const store *s);
/* Its result is known (store_async_finish will not wait). */
int store_async_done(store *s);
/* Waits for the group in flight and takes its result: 0 written and in
 * the WAL file (synced when asked); -1 its write failed: nothing of it is
 * in the database; -2 written, but the WAL flush failed: the caller undoes
 * it (store_undo_unflushed) as after a failed store_flush_wal. *err set
 * on failure. Readers stop seeing the group as their own overlay. */
int store_async_finish(store *s, char **err);
/* Called on the writer thread each time a group is done (to wake the
 * loop); set before the first hand-over. */
void store_set_async_notify(store *s, void (*fn)(void *), void *arg);

/* Called with every data-CF key written or deleted by store_commit, and
 * every range deleted, when set (WATCH invalidation). NULL disables it; the
 * txn records nothing while it is NULL. */
typedef void (*store_touch_fn)(void *arg, const char *k, size_t kl,
                               const char *end, size_t el /* 0 = point */);
void store_set_touch_hook(store *s, store_touch_fn fn, void *arg);

/* ---- iterators --------------------------------------------------------- */

/* Iterates keys in [lower, upper) of cf in byte order (upper NULL = to the
 * end of the column family), merged with the txn's pending writes and
 * range deletions. The bounds are copied. */
/* upper with ul 0 counts as NULL. The iterator reads through t: do not write
 * to t while it is open (an iterator made while t has no pending writes shows
 * committed data only). Returns NULL only when out of memory. */
store_iter *store_iter_new(store_txn *t, int cf, const char *lower, size_t ll,
                           const char *upper, size_t ul);
void store_iter_seek(store_iter *it, const char *k, size_t kl); /* first key >= k */
int store_iter_valid(store_iter *it);
void store_iter_next(store_iter *it);
/* Reverse iteration, with the same view as forward iteration (pending puts
 * and deletes merged in, keys hidden by pending range deletions skipped,
 * keys put after such a deletion shown) and the same bounds: the iterator
 * becomes invalid when it would move before lower or is positioned at or
 * after upper. Directions may be mixed as with a RocksDB iterator: prev after
 * seek/next gives the previous visible key, next after seek_for_prev/prev
 * the next one. next and prev do nothing on an invalid iterator. */
/* Last key of [lower, upper) (of [lower, end of cf) without an upper bound). */
void store_iter_seek_last(store_iter *it);
/* Last key <= k within the bounds (k above upper: the last key < upper; k
 * below lower: invalid). k NULL counts as the empty key. */
void store_iter_seek_for_prev(store_iter *it, const char *k, size_t kl);
void store_iter_prev(store_iter *it);
const char *store_iter_key(store_iter *it, size_t *kl);
const char *store_iter_value(store_iter *it, size_t *vl);
int store_iter_error(store_iter *it, char **err); /* 0 ok, -1 error */
void store_iter_free(store_iter *it);

/* ---- snapshots ---------------------------------------------------------- */

/* One point in time of the whole store (both column families): iterators
 * made on it see the data as it was when it was taken, whatever is
 * committed afterwards. Free every iterator of a snapshot before it, and
 * every snapshot before store_close. NULL only when out of memory. */
typedef struct store_snap store_snap;
store_snap *store_snapshot_new(store *s);
void store_snapshot_free(store_snap *sn); /* accepts NULL */
/* An iterator over [lower, upper) of cf at the snapshot (committed data
 * only; bounds as store_iter_new). NULL only when out of memory. */
store_iter *store_iter_snapshot(store_snap *sn, int cf, const char *lower, size_t ll, const char *upper, size_t ul);

/* ---- operations -------------------------------------------------------- */

/* RocksDB property as text (malloc()ed) or NULL. */
char *store_property(store *s, int cf, const char *name);
int store_property_int(store *s, int cf, const char *name, uint64_t *out);
/* Consistent on-disk copy (hard links) into a new directory path. */
int store_checkpoint(store *s, const char *path, char **err);
/* Remove all keys of a column family range, outside any txn, then compact
 * the range away in the background (with insert_hints, one committed txn
 * of point deletes for a data-CF range as store_del_range's). */
/* end NULL or el 0: to the end of the column family (as store_del_range).
 * Deleted data-CF ranges are reported to the touch hook as well. The
 * compaction runs on a thread owned by the store; store_close stops it. */
int store_compact_range(store *s, int cf, const char *start, size_t sl,
                        const char *end, size_t el, char **err);

/* Compacts the whole column family now (the caller waits): runs the
 * compaction filters over every record. For tests and operators. */
void store_compact_all(store *s, int cf);
/* ---- undoing unflushed commits (a failed WAL write) ---------------------- */

/* A commit is in the memtable (readable) as soon as store_commit returns,
 * but in the WAL file only after store_flush_wal. When that flush fails,
 * the server must not leave behind writes it will answer with an error.
 * With undo on, the store keeps, from the first commit after
 * store_undo_forget until the next store_undo_forget, a snapshot of the
 * state before and the batches committed since (store_commit and
 * store_compact_range; at most STORE_UNDO_MAX_LOG bytes of them).
 * store_undo_unflushed then writes one batch that puts back, from that
 * snapshot, every key they wrote or deleted (a range deletion key by key,
 * at most STORE_UNDO_MAX_KEYS keys): readers see the state before, and
 * recovery does too, since both batches reach the WAL together or not at
 * all. 0 done (or nothing to undo); -1 when it could not (log overflow,
 * a range too big, RocksDB refused): the commits then stay.
 * Loop thread only; the everysec sync thread never touches it. */
#define STORE_UNDO_MAX_LOG (64u << 20)
#define STORE_UNDO_MAX_KEYS 100000
void store_set_undo(store *s, int on);
int store_undo_unflushed(store *s, char **err);
/* The unflushed commits are in the WAL file now: drop the snapshot and log. */
void store_undo_forget(store *s);

/* ---- fault injection (tests only) -------------------------------------- */

/* What a fault makes fail:
 *   STORE_FAULT_WRITE  store_commit and store_compact_range's deletion (the
 *                      batch is not written: nothing of it reaches the DB)
 *   STORE_FAULT_SYNC   store_flush_wal (the WAL write to the file and its
 *                      fsync; the buffered WAL is kept for a later flush)
 *   STORE_FAULT_READ   store_get and store_iter_error
 * The failing call returns -1 with "<ctx>: IO error: injected fault: <strerror>
 * (EIO|ENOSPC)", as a real RocksDB IO error would come back. */
enum { STORE_FAULT_WRITE = 0, STORE_FAULT_SYNC = 1, STORE_FAULT_READ = 2, STORE_FAULT_OPS = 3 };
/* Arms op: the next count calls (count < 0: every call until disarmed) fail
 * with errno_val (EIO or ENOSPC); errno_val 0 disarms. Safe from any thread
 * (the everysec fsync runs on a worker). The server exposes it only when
 * started with enable-debug-fault yes (DEBUG FAULT). */
void store_fault_set(store *s, int op, int errno_val, long count);
/* Injected failures so far, all kinds. */
uint64_t store_fault_hits(const store *s);

#endif
