/* The store's private parts, shared by store.c (open, txns, iterators)
 * and undo.c (undo of unflushed commits, the WriteBatch record reader).
 * Nothing outside storage/ includes this. */
#ifndef STAGEKV_STORE_INT_H
#define STAGEKV_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>

#include <rocksdb/c.h>

#include "encoding.h"
#include "keycache.h"
#include "store.h"
#include "valcache.h"

/* Growable byte buffer. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

/* Appends; returns the offset of the copy or (size_t)-1 on OOM. */
size_t store_buf_add(buf *b, const char *d, size_t n);
/* Sets *err to "ctx: msg" (malloc()ed) when err is not NULL; frees rerr. */
void store_set_err(char **err, const char *ctx, char *rerr);

typedef struct compact_job {
    struct compact_job *next;
    int cf;
    size_t sl, el;
    char *start, *end;
} compact_job;

/* With insert_hints, data-CF memtable inserts are hinted by the key's
 * first STORE_HINT_PREFIX bytes. RocksDB 7.8.3 keeps one hint map per
 * memtable for both its point and its range-tombstone skiplists (later
 * releases hint the point one only): a tombstone whose begin key is that
 * long would be inserted from a point-list splice (an assertion, or a
 * broken skiplist without them). So no data-CF tombstone begins with that
 * many bytes: store_del_range and store_compact_range delete such ranges
 * key by key, and store_open replays a leftover WAL (possibly an older
 * build's) with hints off. */
#define STORE_HINT_PREFIX 2
#define STORE_STR_(x) #x
#define STORE_STR(x) STORE_STR_(x)

struct store {
    _Atomic(rocksdb_t *) db_ready; /* for the compaction filter: set once open */
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *data_opts;  /* opts + the insert hints, when on */
    rocksdb_options_t *meta_opts;  /* opts with the meta CF's write buffer */
    int hinted;                    /* insert_hints: see STORE_HINT_PREFIX */
    rocksdb_options_t *elem_opts;  /* opts + the element compaction filter */
    _Atomic uint64_t filter_records, filter_reads; /* element compaction filter */
    rocksdb_readoptions_t *filter_ro;
    rocksdb_cache_t *cache;
    rocksdb_column_family_handle_t *cf[STORE_CF_COUNT];
    rocksdb_readoptions_t *ro;  /* shared by all point reads */
    rocksdb_writeoptions_t *wo; /* sync = 0, WAL on */
    _Atomic uint64_t unflushed;
    store_touch_fn touch_fn;
    void *touch_arg;
    keycache *kc;              /* NULL when off (store_options.key_cache_bytes 0) */
    uint64_t kc_hits, kc_misses;
    valcache *vc;              /* NULL when off (store_options.value_cache_bytes 0) */
    unsigned vc_pins;          /* values of vc in use (store_val): no put meanwhile */
    uint64_t vc_hits, vc_misses;
    /* store_prefetch: values read ahead, each taken at most once */
    struct pf_ent {
        uint64_t h;
        size_t ko, kl; /* into pf_keys */
        rocksdb_pinnableslice_t *val; /* NULL: absent, or taken */
        int live;
    } pf[STORE_PREFETCH_MAX];
    size_t npf;
    char *pf_keys;
    size_t pf_keys_cap;
    uint64_t pf_read, pf_taken, pf_lines;
    /* batch_sort.c: the sorted copy of a group's batch, and its records */
    rocksdb_writebatch_t *sorted;
    struct srec *srt;
    size_t srt_cap;
    /* fault injection (store_fault_set): errno to fail with, calls left (-1
     * = until disarmed, 0 = off) */
    _Atomic int fault_errno[STORE_FAULT_OPS];
    _Atomic long fault_left[STORE_FAULT_OPS];
    _Atomic uint64_t fault_hits;
    /* undo of unflushed commits (store_undo_unflushed) */
    int undo_on, undo_overflow;
    const rocksdb_snapshot_t *undo_snap; /* the state before the first logged commit */
    buf undo_log;                        /* [u32 length][WriteBatch rep] ... */
    uint32_t cf_id[STORE_CF_COUNT];

    /* writer.c: a group committed on the writer thread (store_commit_async).
     * wtxn, the group in flight, is the overlay its readers see until the
     * loop takes its result (store_async_finish). The w* fields under wmu
     * are shared with the writer thread; the rest is the loop thread's. */
    store_txn *wtxn;               /* NULL: no group in flight */
    store_txn *wspare;             /* the txn object wtxn uses next time */
    rocksdb_writebatch_t *wbatch;  /* what the writer writes: a sorted copy, or wtxn->out */
    rocksdb_writebatch_t *sorted_spare; /* s->sorted's twin while the other is in flight */
    int wsettled;                  /* the loop knows the result (wres, werr) */
    uint64_t wwaits;               /* times the loop found the writer busy and waited */
    int wsync;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    pthread_t wthread;
    int wthread_started, wstop, wjob, wdone, wres;
    char *werr;
    void (*wnotify)(void *);
    void *wnotify_arg;

    /* background compaction worker (store_compact_range) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t worker;
    int worker_started;
    int stopping;
    compact_job *jobs_head, *jobs_tail;
};

/* ---- undo.c ---- */

/* Before a write: the first one since the last forget takes the snapshot. */
void store_undo_begin(store *s);
/* Logs a committed batch's rep for store_undo_unflushed. */
void store_undo_log_rep(store *s, const char *rep, size_t n);
/* Logs a range deletion made outside a txn. */
void store_undo_log_range(store *s, int cf, const char *a, size_t al, const char *b, size_t bl);

/* One record of a WriteBatch's rep (RocksDB's write_batch.cc format). */
typedef struct batch_rec {
    unsigned char tag;
    int cf; /* STORE_CF_*; -1 for a no-op */
    const char *k, *v;
    size_t kl, vl; /* v: the value of a put or merge, the end of a range */
} batch_rec;

int store_batch_next(const store *s, const char **p, const char *end, batch_rec *r);

/* A point put or delete, of any column family (what a txn writes outside
 * range deletions; everything else depends on the order across keys). */
static inline int batch_rec_is_put(const batch_rec *r) { return r->tag == 0x01 || r->tag == 0x05; }
static inline int batch_rec_is_del(const batch_rec *r) { return r->tag == 0x00 || r->tag == 0x04; }

/* ---- batch_sort.c ---- */

/* The records of in, sorted by column family and key, a key's last write
 * only, in s->sorted; NULL to write in as it is (sorted already, ranges or
 * other order-bound records in it, or no memory). */
rocksdb_writebatch_t *store_sorted_batch(store *s, rocksdb_writebatch_t *in);
/* b kept for reuse, or destroyed (NULL) once it grew past 4 MB. */
rocksdb_writebatch_t *store_batch_keep(rocksdb_writebatch_t *b);
/* After s->sorted was written: frees what a big group left in it. */
void store_sorted_trim(store *s);

/* The value read ahead for k (prefetch.c), handed over to v: 1 found, 0
 * absent, -1 not read ahead (or already taken). h is keycache_hash(k). */
int store_prefetch_take(store *s, uint64_t h, const char *k, size_t kl, store_val *v);

/* Forgets what the key and value caches know: for a change of the data
 * CF they cannot follow key by key (store.c). */
void store_caches_clear(store *s);
/* The same for a change of cf: the data CF clears both, the meta CF the
 * value cache (which holds its values too), the element CF nothing. */
void store_caches_clear_cf(store *s, int cf);

/* 1 when an armed fault fails op (store_fault_set): *err is set (store.c). */
int store_fault_fires(store *s, int op, const char *ctx, char **err);
/* The last key >= start of cf (in the DB, and in t's pending writes when t
 * is given) + "\0": the end of "[start, end of cf)". Its length, *out
 * malloc()ed; 0 when there is no such key (store.c). */
size_t store_cf_end_key(store *s, store_txn *t, int cf, const char *start, size_t sl, char **out);
/* With insert hints, whether a range deletion of cf beginning with sl bytes
 * goes key by key (STORE_HINT_PREFIX). */
static inline int store_range_by_keys(const store *s, int cf, size_t sl) {
    return s->hinted && cf == STORE_CF_DATA && sl >= STORE_HINT_PREFIX;
}

/* ---- writer.c ---- */

/* Waits for the group in flight, if any: 0 written (or none), -1 failed
 * (then the caches are cleared). Loop thread. */
int store_async_settle(store *s);
/* The group in flight's value of k when it wrote k: 1 found (v owns a
 * copy), 0 deleted; -2 not written by it (read the database). h is
 * txn_hash(cf, k). A write it has no record of waits for the writer. */
int store_inflight_get(store *s, int cf, uint64_t h, const char *k, size_t kl, store_val *v);
/* Starts and stops the writer thread (store_open, store_close). */
int store_writer_start(store *s);
void store_writer_stop(store *s);

/* ---- ops.c ---- */

/* Stops the compaction worker and drops its queued jobs (store_close). */
void store_stop_worker(store *s);

/* ---- transactions (store.c), shared with the iterators (iter.c) ---------- */

typedef struct range_ent {
    int cf;
    size_t so, sl, eo, el; /* offsets into rbuf */
} range_ent;

typedef struct touch_ent {
    size_t ko, kl, eo, el; /* offsets into tbuf; el 0 = point */
    size_t vo, vl;         /* the value put, in out's data, for the value cache; vo NO_VALUE = none */
    uint64_t h;            /* txn_hash of a point key */
    int del;               /* a point delete */
    int meta;              /* a meta-CF key: for the value cache only */
} touch_ent;

typedef struct savepoint {
    size_t nranges, rbuf_len, ntouch, tbuf_len;
    int count; /* operations in `out` when it was set */
} savepoint;

struct store_txn {
    store *s;
    rocksdb_writebatch_t *out;    /* every operation, in order: what commits */
    rocksdb_writebatch_wi_t *wb;  /* the read index of `out`, once indexed */
    int indexed;                  /* wb is built and kept up to date */
    int oom;                      /* bookkeeping failed: commit refuses */
    char *fail;                   /* a read inside a write failed: commit refuses with it */

    buf rbuf;
    range_ent *ranges;
    size_t nranges, rcap;

    buf tbuf;
    touch_ent *touch;
    size_t ntouch, tcap;

    savepoint *sp;
    size_t nsp, spcap;
    size_t ndels; /* point deletes since the txn was empty (never decremented) */

    /* The keys of all column families the txn wrote, by their hash
     * (txn_hash): open addressing, h 0 = empty, at most half full. A key
     * whose hash is not here was not written by the txn, so its read goes
     * straight to the database and most txns never need wb. Only a
     * collision of two 64-bit hashes could make a read index needlessly
     * (never the reverse). For a data-CF key, `touch` is the index of the
     * touch record of its latest write: store_exists answers from it. */
    struct wslot {
        uint64_t h;
        uint32_t touch; /* NO_TOUCH when none */
    } *wset;
    size_t wcap, wn; /* wcap a power of two */
};

#define NO_VALUE ((size_t)-1) /* touch_ent.vo: no value kept */

static inline int txn_pending(const store_txn *t) { return rocksdb_writebatch_count(t->out) > 0; }
uint64_t txn_hash(int cf, const char *k, size_t kl);
/* The slot of h in t's write set, or NULL when t wrote no key of that hash. */
const struct wslot *wset_find(const store_txn *t, uint64_t h);
/* The record of t's latest point write of k (w its slot), or NULL. */
const touch_ent *own_write(const store_txn *t, const struct wslot *w, int cf, const char *k, size_t kl);
/* What t's records say of k (w its write-set slot): 0 deleted, 1 its
 * value, copied into v (t->out may grow under it); -1 they cannot say (no
 * record of k, or its value was not kept: the value cache's limits). */
int txn_record_value(const store_txn *t, const struct wslot *w, int cf, const char *k, size_t kl, store_val *v);
/* Tells the caches and the touch hook what t writes (store.c). */
void store_commit_touches(store *s, const store_txn *t);
/* Builds the read index of t's writes (once; later writes keep it current). */
void txn_index(store_txn *t);
/* An iterator over t's pending writes alone in cf (*ro_out: its read options). */
rocksdb_iterator_t *delta_iter(store_txn *t, int cf, rocksdb_readoptions_t **ro_out);
/* The pending range deletion of cf that covers k, or NULL. */
const range_ent *txn_range_at(const store_txn *t, int cf, const char *k, size_t kl);
int txn_has_ranges(const store_txn *t, int cf);

#endif
