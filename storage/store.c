/* The RocksDB engine (see store.h for the contract).
 *
 * Options, each chosen on purpose:
 *
 *   manual_wal_flush = 1
 *       Group commit. A commit only appends its batch to RocksDB's in-memory
 *       WAL buffer; store_flush_wal(), called by the server once per event
 *       loop iteration before replies go out, writes the buffer to the file
 *       with one write() (and one fsync when asked). Many commands, one I/O.
 *   WAL always on
 *       We never set disableWAL: the WAL is our durability. Write options
 *       use sync = 0 because syncing is store_flush_wal's job.
 *   block-based tables, one shared LRU block cache (default 256 MB)
 *       Both column families share one memory budget for data blocks.
 *   full bloom filter, 10 bits/key (~1% false positives)
 *       Point lookups of absent keys (SET's existence check, GET misses,
 *       GET misses) skip reading SST data blocks.
 *   LZ4 compression on all levels
 *       Cheap on CPU, good enough ratio for typical values. Debian's
 *       librocksdb is built with LZ4; RocksDB refuses to open a DB whose
 *       compression is not linked in, so a successful open proves it.
 *   write_buffer_size 16 MB (data and element CFs), 4 MB (meta CF)
 *       Memtable size per column family (the server's write-buffer-size
 *       and meta-write-buffer-size). The meta CF holds small entries that
 *       the domain commands rewrite all the time (counters, index
 *       pointers, the id high-water mark): a smaller memtable there is a
 *       shallower skiplist for their inserts.
 *   increase_parallelism(2), max_background_jobs = 2
 *       A small daemon: two background threads for flushes/compactions are
 *       plenty and keep us from competing with the event loop.
 *   level_compaction_dynamic_level_bytes = 1
 *       Level targets sized from the last level: bounded space amplification
 *       (~1.1x) whatever the data size.
 *   create_missing_column_families = 1
 *       The "meta" column family is created on first open.
 *
 * Transactions: every operation goes, in order, into a plain WriteBatch
 * `out`, which is what gets committed. Reads must see the txn's own writes,
 * but most never touch them: the txn keeps a set of the 64-bit hashes of
 * the keys it wrote (wset), and a read of a key whose hash is not in it goes
 * straight to the database. A point read of a key the txn wrote is
 * answered by the record of its last write (the touch list, which keeps
 * where each small value sits in `out`), when no pending range of its CF
 * could cover it. Only what that cannot answer (an iterator over a txn
 * with pending writes, a range deletion, a value too big to be recorded)
 * builds the read index: a
 * WriteBatchWithIndex (overwrite_key = 1) replayed from `out`, savepoints
 * included, and kept up to date from then on (txn_index). A loop
 * iteration's batch of SETs thus never pays for an index it does not read.
 *
 * Range deletions: RocksDB's WBWI cannot hold them, so they go to `out`
 * only. The txn remembers the pending ranges, and on each range deletion
 * adds point deletes to the WBWI (only there, not to `out`) for the keys
 * the WBWI holds in that range. Invariant: a key with a live put in the
 * WBWI is visible; a key inside a pending range without one is not;
 * anything else is decided by WBWI + DB as usual.
 */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <rocksdb/c.h>
#include <time.h>

#include "encoding.h"
#include "keycache.h"
#include "store_int.h"

#define STORE_DEFAULT_CACHE (256u << 20)
#define STORE_DEFAULT_WRITE_BUFFER (16u << 20)
#define STORE_DEFAULT_META_WRITE_BUFFER (4u << 20)

/* The block cache is split into shards, each an LRU of capacity / shards,
 * and a block released while its shard is over capacity is dropped at once.
 * RocksDB's default split (a shard per 512 kB, up to 64: 4 MB shards at 256
 * MB) cannot keep a whole SST's filter block: an element-CF file of 64 MB
 * holds about 3 M small elements, and their filter is about 4 MB. Such a
 * filter was read from the file again on every point read (SADD, HSET and
 * ZADD on a collection of 800 k members: 1.8 k requests a second). Shards
 * of at least 32 MB keep it. The loop thread makes nearly all the cache's
 * lookups, so fewer shards cost no lock contention worth the name. */
#define STORE_MIN_CACHE_SHARD (32u << 20)
static int cache_shard_bits(size_t cache_bytes) {
    int bits = 0;
    while (bits < 6 && (cache_bytes >> (bits + 1)) >= STORE_MIN_CACHE_SHARD) bits++;
    return bits;
}

/* ---- small helpers ------------------------------------------------------ */

/* Sets *err to "ctx: msg" (malloc()ed) when err is not NULL; frees rerr. */
void store_set_err(char **err, const char *ctx, char *rerr) {
    if (err) {
        const char *m = rerr ? rerr : "unknown error";
        size_t n = strlen(ctx) + strlen(m) + 3;
        char *e = malloc(n);
        if (e) snprintf(e, n, "%s: %s", ctx, m);
        *err = e;
    }
    if (rerr) rocksdb_free(rerr);
}

static void set_err_errno(char **err, const char *ctx, const char *path, int e) {
    if (!err) return;
    const char *m = strerror(e);
    size_t n = strlen(ctx) + strlen(path) + strlen(m) + 4;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s %s: %s", ctx, path, m);
    *err = s;
}

static int mkdir_p(const char *path) {
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) return ENOMEM;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return e;
        }
        p[i] = c;
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}


/* Appends; returns the offset of the copy or (size_t)-1 on OOM. */
size_t store_buf_add(buf *b, const char *d, size_t n) {
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + n) c *= 2;
        char *np = realloc(b->p, c);
        if (!np) return (size_t)-1;
        b->p = np;
        b->cap = c;
    }
    size_t off = b->len;
    if (n) memcpy(b->p + off, d, n);
    b->len += n;
    return off;
}

/* Makes room for one more element in a growable array. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, c * elem);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* ---- store -------------------------------------------------------------- */

/* The element compaction filter (RocksDB's compaction threads): an element
 * lives while its key's metadata in the data CF exists, is a collection of
 * the element's version and has not expired. Anything else is an orphan of
 * a DEL, an overwrite, an expiry or a flush: dropped here, never by a loop
 * on the event loop. A committed element is always written in the same
 * batch as its metadata, so no live element can look orphaned.
 *
 * A factory makes one filter per (sub)compaction, so one thread uses it,
 * and it remembers the verdict on the last collection version it read: the
 * elements of one (db, key, version) are adjacent. Reusing a verdict is as
 * safe as reading again: a version is never given twice (coll.c), so once
 * its metadata is gone, replaced or expired it stays dead; and a "keep"
 * that goes stale during the compaction only leaves garbage for the next. */
typedef struct {
    store *s;
    char *key; /* user key of the verdict */
    size_t kl, cap;
    int edb;
    uint64_t ver;
    unsigned char drop, valid;
} elem_filter;

/* 1: (edb, uk, ver) is dead (metadata gone, of another version or type, or
 * expired); 0: live, or not readable now (keep what we cannot judge). */
static unsigned char elem_verdict(store *s, rocksdb_t *db, int edb, const char *uk, size_t ukl, uint64_t ver) {
    char stack[256];
    char *dk = ukl + 1 <= sizeof stack ? stack : malloc(ukl + 1);
    if (!dk) return 0;
    size_t dkl = enc_data_key(dk, edb, uk, ukl);
    char *rerr = NULL;
    atomic_fetch_add_explicit(&s->filter_reads, 1, memory_order_relaxed);
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned_cf(db, s->filter_ro, s->cf[STORE_CF_DATA], dk, dkl, &rerr);
    if (dk != stack) free(dk);
    if (rerr) {
        rocksdb_free(rerr);
        return 0;
    }
    if (!p) return 1;
    size_t ml;
    const char *m = rocksdb_pinnableslice_value(p, &ml);
    enc_value ev;
    int drop = 1;
    if (enc_value_decode(m, ml, &ev) == 0 && enc_is_collection(ev.type) && ev.len >= 8 &&
        enc_get_u64(ev.payload) == ver) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        drop = ev.expire_ms && ev.expire_ms <= now;
    }
    rocksdb_pinnableslice_destroy(p);
    return (unsigned char)drop;
}

static unsigned char elem_filter_fn(void *state, int level, const char *key, size_t kl, const char *val,
                                    size_t vl, char **nv, size_t *nvl, unsigned char *changed) {
    (void)level; (void)val; (void)vl; (void)nv; (void)nvl;
    *changed = 0;
    elem_filter *f = state;
    store *s = f->s;
    rocksdb_t *db = atomic_load(&s->db_ready);
    int edb;
    const char *uk;
    size_t ukl;
    uint64_t ver;
    if (!db || enc_elem_parse(key, kl, &edb, &uk, &ukl, &ver) < 0) return 0;
    atomic_fetch_add_explicit(&s->filter_records, 1, memory_order_relaxed);
    if (f->valid && f->ver == ver && f->edb == edb && f->kl == ukl && memcmp(f->key, uk, ukl) == 0)
        return f->drop;
    unsigned char drop = elem_verdict(s, db, edb, uk, ukl, ver);
    if (ukl > f->cap) {
        char *k = realloc(f->key, ukl);
        if (!k) {
            f->valid = 0;
            return drop;
        }
        f->key = k;
        f->cap = ukl;
    }
    if (ukl) memcpy(f->key, uk, ukl);
    f->kl = ukl;
    f->edb = edb;
    f->ver = ver;
    f->drop = drop;
    f->valid = 1;
    return drop;
}
static void elem_filter_destroy(void *state) {
    elem_filter *f = state;
    free(f->key);
    free(f);
}
static const char *elem_filter_name(void *state) {
    (void)state;
    return "stagekv.elem";
}
static rocksdb_compactionfilter_t *elem_filter_create(void *state, rocksdb_compactionfiltercontext_t *ctx) {
    (void)ctx;
    elem_filter *f = calloc(1, sizeof *f);
    if (!f) return NULL; /* this compaction keeps everything */
    f->s = state;
    return rocksdb_compactionfilter_create(f, elem_filter_destroy, elem_filter_fn, elem_filter_name);
}
/* RocksDB owns the factory (a shared_ptr in the options) and may free it
 * after store_close: the store is not the factory's to free. */
static void elem_factory_destroy(void *state) { (void)state; }
static const char *elem_factory_name(void *state) {
    (void)state;
    return "stagekv.elem";
}

/* ---- fault injection ------------------------------------------------------ */

void store_fault_set(store *s, int op, int errno_val, long count) {
    if (op < 0 || op >= STORE_FAULT_OPS) return;
    if (errno_val == 0 || count == 0) {
        atomic_store(&s->fault_left[op], 0);
        atomic_store(&s->fault_errno[op], 0);
        return;
    }
    atomic_store(&s->fault_errno[op], errno_val);
    atomic_store(&s->fault_left[op], count < 0 ? -1 : count);
}

uint64_t store_fault_hits(const store *s) { return atomic_load(&((store *)s)->fault_hits); }

/* Whether this call of op is to fail; if so, sets *err like a RocksDB IO
 * error would. One relaxed load when nothing is armed. */
int store_fault_fires(store *s, int op, const char *ctx, char **err) {
    long left = atomic_load_explicit(&s->fault_left[op], memory_order_relaxed);
    for (;;) {
        if (left == 0) return 0;
        if (left < 0) break;
        if (atomic_compare_exchange_weak(&s->fault_left[op], &left, left - 1)) break;
    }
    int e = atomic_load(&s->fault_errno[op]);
    if (!e) return 0;
    atomic_fetch_add(&s->fault_hits, 1);
    if (err) {
        char m[160];
        snprintf(m, sizeof m, "%s: IO error: injected fault: %s (%s)", ctx, strerror(e),
                 e == ENOSPC ? "ENOSPC" : e == EIO ? "EIO" : "errno");
        *err = strdup(m);
    }
    return 1;
}

/* Whether the directory holds a non-empty WAL file (*.log). */
static int wal_pending(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        struct stat st;
        if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0 && fstatat(dirfd(d), e->d_name, &st, 0) == 0)
            found = st.st_size > 0;
    }
    closedir(d);
    return found;
}

/* Writes every column family's memtable to a table file and waits, each
 * one even after another failed. *rerr: the first error (RocksDB's, caller
 * frees). */
static void flush_all(store *s, char **rerr) {
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    for (int i = 0; i < STORE_CF_COUNT; i++) {
        char *e = NULL;
        rocksdb_flush_cf(s->db, fo, s->cf[i], &e);
        if (e && !*rerr) *rerr = e;
        else rocksdb_free(e);
    }
    rocksdb_flushoptions_destroy(fo);
}

int store_open(store **out, const store_options *opt, char **err) {
    *out = NULL;
    if (!opt || !opt->dir) {
        if (err) *err = strdup("store_open: no directory");
        return -1;
    }
    int e = mkdir_p(opt->dir);
    if (e) {
        set_err_errno(err, "store_open: cannot create", opt->dir, e);
        return -1;
    }
    store *s = calloc(1, sizeof *s);
    if (!s) {
        if (err) *err = strdup("store_open: out of memory");
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (opt->key_cache_bytes && !(s->kc = keycache_new(opt->key_cache_bytes))) {
        if (err) *err = strdup("store_open: out of memory for the key cache");
        store_close(s);
        return -1;
    }
    if (opt->value_cache_bytes && !(s->vc = valcache_new(opt->value_cache_bytes))) {
        if (err) *err = strdup("store_open: out of memory for the value cache");
        store_close(s);
        return -1;
    }

    size_t cache_bytes = opt->block_cache_bytes ? opt->block_cache_bytes : STORE_DEFAULT_CACHE;
    size_t wb_bytes = opt->write_buffer_bytes ? opt->write_buffer_bytes : STORE_DEFAULT_WRITE_BUFFER;
    size_t meta_wb = opt->meta_write_buffer_bytes ? opt->meta_write_buffer_bytes : STORE_DEFAULT_META_WRITE_BUFFER;

    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, opt->create_if_missing ? 1 : 0);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    rocksdb_options_set_max_background_jobs(s->opts, 2);
    rocksdb_options_set_manual_wal_flush(s->opts, 1);
    /* One writer (the loop thread): plain memtable inserts are cheaper than
     * the concurrent ones, and there is no write group to wait for. */
    rocksdb_options_set_allow_concurrent_memtable_write(s->opts, 0);
    /* A bloom filter over whole keys in the memtable: a lookup of a key the
     * memtable does not hold (SET of a new key, most GETs of older keys)
     * skips the skiplist search, the top hot spot of the profile. */
    rocksdb_options_set_memtable_whole_key_filtering(s->opts, 1);
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(s->opts, 0.1);
    rocksdb_options_set_enable_write_thread_adaptive_yield(s->opts, 0);
    rocksdb_options_set_write_buffer_size(s->opts, wb_bytes);
    /* Bounds what a start after kill -9 replays: past two write buffers of
     * WAL, the column families holding the oldest log are flushed. */
    rocksdb_options_set_max_total_wal_size(s->opts, 2 * (uint64_t)wb_bytes);
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(s->opts, 1);

    rocksdb_lru_cache_options_t *lru = rocksdb_lru_cache_options_create();
    rocksdb_lru_cache_options_set_capacity(lru, cache_bytes);
    rocksdb_lru_cache_options_set_num_shard_bits(lru, cache_shard_bits(cache_bytes));
    s->cache = rocksdb_cache_create_lru_opts(lru);
    rocksdb_lru_cache_options_destroy(lru);
    rocksdb_block_based_table_options_t *bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(bbto, s->cache);
    /* the table options take ownership of the filter policy */
    rocksdb_block_based_options_set_filter_policy(bbto, rocksdb_filterpolicy_create_bloom_full(10));
    /* A hash index inside data blocks: point lookups skip the binary search. */
    rocksdb_block_based_options_set_data_block_index_type(
        bbto, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
    rocksdb_block_based_options_set_data_block_hash_ratio(bbto, 0.75);
    /* Index and filter blocks live in the block cache (at high priority,
     * L0's pinned), so block-cache-size bounds them too: otherwise every
     * open table keeps its own outside any budget (~12 MB of filters alone
     * at 10 M keys). */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(bbto, opt->index_outside_cache ? 0 : 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(bbto, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(bbto, 1);
    rocksdb_options_set_block_based_table_factory(s->opts, bbto); /* copies */
    rocksdb_block_based_options_destroy(bbto);

    s->elem_opts = rocksdb_options_create_copy(s->opts);
    rocksdb_options_set_compaction_filter_factory(
        s->elem_opts, rocksdb_compactionfilterfactory_create(s, elem_factory_destroy, elem_filter_create,
                                                             elem_factory_name));
    s->filter_ro = rocksdb_readoptions_create();
    static const char *const names[STORE_CF_COUNT] = {"default", "meta", "elem"};
    /* A sorted group's writes to the data CF land near the last one with
     * the same first two bytes (db byte and key head): the memtable keeps a
     * splice per such prefix and starts the next insert from it. */
    s->hinted = opt->insert_hints ? 1 : 0;
    if (s->hinted) {
        s->data_opts = rocksdb_options_create();
        char *oerr = NULL;
        rocksdb_get_options_from_string(s->opts, "memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix."
                                        STORE_STR(STORE_HINT_PREFIX), s->data_opts, &oerr);
        assert(!oerr);
        rocksdb_free(oerr);
    }
    /* The domain's counters and index pointers: each domain write inserts
     * 2-9 of them, and every insert searches the skiplist from the top. */
    s->meta_opts = rocksdb_options_create_copy(s->opts);
    rocksdb_options_set_write_buffer_size(s->meta_opts, meta_wb);
    const rocksdb_options_t *cfo[STORE_CF_COUNT] = {s->hinted ? s->data_opts : s->opts, s->meta_opts, s->elem_opts};
    const rocksdb_options_t *plain[STORE_CF_COUNT] = {s->opts, s->meta_opts, s->elem_opts};
    char *rerr = NULL;
    /* A WAL written by a build that put long-begin range tombstones on the
     * data CF must not be replayed with hints on (see STORE_HINT_PREFIX):
     * any WAL left over (kill -9; a clean close leaves none) is first
     * replayed without them and flushed, then the DB is opened again. */
    if (s->hinted && wal_pending(opt->dir)) {
        s->db = rocksdb_open_column_families(s->opts, opt->dir, STORE_CF_COUNT, names, plain, s->cf, &rerr);
        if (!rerr && s->db) flush_all(s, &rerr);
        for (int i = 0; i < STORE_CF_COUNT; i++) {
            if (s->cf[i]) rocksdb_column_family_handle_destroy(s->cf[i]);
            s->cf[i] = NULL;
        }
        if (s->db) rocksdb_close(s->db);
        s->db = NULL;
    }
    if (!rerr) s->db = rocksdb_open_column_families(s->opts, opt->dir, STORE_CF_COUNT, names, cfo, s->cf, &rerr);
    if (rerr || !s->db) {
        char ctx[64 + 1024];
        snprintf(ctx, sizeof ctx, "store_open %.1024s", opt->dir);
        store_set_err(err, ctx, rerr);
        s->db = NULL;
        store_close(s);
        return -1;
    }
    atomic_store(&s->db_ready, s->db);
    for (int i = 0; i < STORE_CF_COUNT; i++) s->cf_id[i] = rocksdb_column_family_handle_get_id(s->cf[i]);
    s->ro = rocksdb_readoptions_create();
    s->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wo, 0);
    rocksdb_writeoptions_disable_WAL(s->wo, 0);
    s->sorted = rocksdb_writebatch_create();
    /* RocksDB counts into its thread-local perf context on every call by
     * default (kEnableCount); nothing here reads those counts. The level
     * is per thread: this is the loop thread, which does the point work. */
    rocksdb_set_perf_level(1 /* kDisable */);
    if (opt->writer_thread && store_writer_start(s) < 0) {
        if (err) *err = strdup("store_open: cannot start the writer thread");
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(store *s) {
    if (!s) return;
    store_writer_stop(s); /* its group goes in (or not) before the last flush */
    store_stop_worker(s);
    store_prefetch_drop(s); /* pinned slices must go before the DB closes */
    free(s->pf_keys);
    store_undo_forget(s); /* a snapshot must go before the DB closes */
    free(s->undo_log.p);
    /* a test's armed fault must not cost the WAL its last flush */
    for (int op = 0; op < STORE_FAULT_OPS; op++) store_fault_set(s, op, 0, 0);
    if (s->db) store_flush_wal(s, 1, NULL);
    /* RocksDB does not flush memtables at close while the WAL is on: the
     * next start would replay up to a full write buffer per column family
     * (4 s at 10 M keys). Written out here, a clean restart replays nothing;
     * after kill -9 the WAL still has everything. */
    if (s->db) {
        char *rerr = NULL;
        flush_all(s, &rerr);
        rocksdb_free(rerr); /* the WAL still holds it: the next start replays */
    }
    for (int i = 0; i < STORE_CF_COUNT; i++)
        if (s->cf[i]) rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db) rocksdb_close(s->db);
    if (s->ro) rocksdb_readoptions_destroy(s->ro);
    if (s->wo) rocksdb_writeoptions_destroy(s->wo);
    if (s->opts) rocksdb_options_destroy(s->opts);
    if (s->elem_opts) rocksdb_options_destroy(s->elem_opts);
    if (s->data_opts) rocksdb_options_destroy(s->data_opts);
    if (s->meta_opts) rocksdb_options_destroy(s->meta_opts);
    if (s->filter_ro) rocksdb_readoptions_destroy(s->filter_ro);
    if (s->cache) rocksdb_cache_destroy(s->cache);
    keycache_free(s->kc);
    valcache_free(s->vc);
    if (s->sorted) rocksdb_writebatch_destroy(s->sorted);
    free(s->srt);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int store_flush_wal(store *s, int sync, char **err) {
    uint64_t n = atomic_exchange_explicit(&s->unflushed, 0, memory_order_relaxed);
    if (!n && !sync) return 0; /* nothing was committed since the last flush */
    if (store_fault_fires(s, STORE_FAULT_SYNC, "flush_wal", err)) {
        /* as after a real failure, the buffered WAL stays for the next try */
        atomic_fetch_add_explicit(&s->unflushed, n, memory_order_relaxed);
        return -1;
    }
    char *rerr = NULL;
    rocksdb_flush_wal(s->db, sync ? 1 : 0, &rerr);
    if (rerr) {
        atomic_fetch_add_explicit(&s->unflushed, n, memory_order_relaxed);
        store_set_err(err, "flush_wal", rerr);
        return -1;
    }
    return 0;
}

int store_sync_wal(store *s, char **err) {
    if (store_fault_fires(s, STORE_FAULT_SYNC, "sync_wal", err)) return -1;
    char *rerr = NULL;
    rocksdb_flush_wal(s->db, 1, &rerr);
    if (rerr) {
        store_set_err(err, "sync_wal", rerr);
        return -1;
    }
    return 0;
}

uint64_t store_unflushed(const store *s) {
    return atomic_load_explicit(&((store *)s)->unflushed, memory_order_relaxed);
}

void store_val_free(store_val *v) {
    if (!v) return;
    if (v->pin_) rocksdb_pinnableslice_destroy(v->pin_);
    if (v->cpin_) {
        assert(*v->cpin_ > 0);
        --*v->cpin_;
    }
    free(v->own_);
    v->ptr = NULL;
    v->len = 0;
    v->pin_ = NULL;
    v->own_ = NULL;
    v->cpin_ = NULL;
}

void store_set_touch_hook(store *s, store_touch_fn fn, void *arg) {
    s->touch_fn = fn;
    s->touch_arg = arg;
}

/* ---- transactions ------------------------------------------------------- */

#define WSET_MIN 1024
#define NO_TOUCH UINT32_MAX

/* The key cache's hash for the data CF (so one hash serves both). */
uint64_t txn_hash(int cf, const char *k, size_t kl) {
    return keycache_hash(k, kl) ^ (uint64_t)cf * UINT64_C(0x9E3779B97F4A7C15);
}

/* The slot of h, or NULL when the txn did not write a key of that hash. */
const struct wslot *wset_find(const store_txn *t, uint64_t h) {
    h += !h; /* 0 marks an empty slot */
    for (size_t i = h & (t->wcap - 1);; i = (i + 1) & (t->wcap - 1)) {
        if (t->wset[i].h == h) return &t->wset[i];
        if (!t->wset[i].h) return NULL;
    }
}

static struct wslot *wset_slot(struct wslot *set, size_t cap, uint64_t h) {
    size_t i = h & (cap - 1);
    while (set[i].h && set[i].h != h) i = (i + 1) & (cap - 1);
    return &set[i];
}

static void wset_add(store_txn *t, uint64_t h, uint32_t touch) {
    h += !h;
    if ((t->wn + 1) * 2 > t->wcap) {
        size_t cap = t->wcap * 2;
        struct wslot *n = calloc(cap, sizeof *n);
        if (!n) { /* cannot track: t->oom makes every key count as written now */
            t->oom = 1;
            return;
        }
        for (size_t i = 0; i < t->wcap; i++)
            if (t->wset[i].h) *wset_slot(n, cap, t->wset[i].h) = t->wset[i];
        free(t->wset);
        t->wset = n;
        t->wcap = cap;
    }
    struct wslot *sl = wset_slot(t->wset, t->wcap, h);
    if (!sl->h) {
        sl->h = h;
        t->wn++;
    }
    sl->touch = touch;
}

store_txn *store_txn_new(store *s) {
    store_txn *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->s = s;
    t->out = rocksdb_writebatch_create();
    t->wb = rocksdb_writebatch_wi_create(0, 1);
    t->wcap = WSET_MIN;
    t->wset = calloc(t->wcap, sizeof *t->wset);
    if (!t->out || !t->wb || !t->wset) {
        store_txn_free(t);
        return NULL;
    }
    return t;
}

void store_txn_free(store_txn *t) {
    if (!t) return;
    if (t->wb) rocksdb_writebatch_wi_destroy(t->wb);
    if (t->out) rocksdb_writebatch_destroy(t->out);
    free(t->rbuf.p);
    free(t->ranges);
    free(t->tbuf.p);
    free(t->touch);
    free(t->sp);
    free(t->wset);
    free(t->fail);
    free(t);
}

void store_txn_clear(store_txn *t) {
    if (t->indexed) rocksdb_writebatch_wi_clear(t->wb); /* also drops its savepoints */
    rocksdb_writebatch_clear(t->out);                    /* the same */
    t->indexed = 0;
    /* a set grown for one big txn shrinks back, so that the clear after
     * every small one stays cheap */
    if (t->wcap > WSET_MIN && t->wn * 8 < t->wcap) {
        struct wslot *n = calloc(WSET_MIN, sizeof *n);
        if (n) {
            free(t->wset);
            t->wset = n;
            t->wcap = WSET_MIN;
        } else {
            memset(t->wset, 0, t->wcap * sizeof *t->wset);
        }
    } else if (t->wn) {
        memset(t->wset, 0, t->wcap * sizeof *t->wset);
    }
    t->wn = 0;
    t->oom = 0;
    free(t->fail);
    t->fail = NULL;
    t->rbuf.len = 0;
    t->nranges = 0;
    t->tbuf.len = 0;
    t->ntouch = 0;
    t->nsp = 0;
    t->ndels = 0;
}

int store_txn_count(const store_txn *t) { return rocksdb_writebatch_count(t->out); }


/* Builds the read index from `out` (only puts and deletes are there before
 * the first range deletion, which indexes first), with a WBWI savepoint
 * wherever the txn has one, so rollbacks keep both in step. */
void txn_index(store_txn *t) {
    if (t->indexed) return;
    t->indexed = 1;
    store *s = t->s;
    size_t n, nsp = 0;
    const char *p = rocksdb_writebatch_data(t->out, &n), *end = p + n;
    p += 12; /* sequence number and count */
    int i = 0;
    for (;; i++) {
        while (nsp < t->nsp && t->sp[nsp].count == i) {
            rocksdb_writebatch_wi_set_save_point(t->wb);
            nsp++;
        }
        batch_rec b;
        if (store_batch_next(s, &p, end, &b) <= 0) break;
        if (batch_rec_is_put(&b)) rocksdb_writebatch_wi_put_cf(t->wb, s->cf[b.cf], b.k, b.kl, b.v, b.vl);
        else if (batch_rec_is_del(&b)) rocksdb_writebatch_wi_delete_cf(t->wb, s->cf[b.cf], b.k, b.kl);
        else break;
    }
    /* anything else would be a record this txn never writes unindexed */
    assert(p == end && nsp == t->nsp && i == rocksdb_writebatch_count(t->out));
    if (p != end || nsp != t->nsp) t->oom = 1; /* commit refuses */
}

/* Whether the txn must record the keys of cf it writes: data-CF keys for
 * WATCH and the key and value caches, meta-CF keys for the value cache. */
static int txn_records(const store_txn *t, int cf) {
    if (cf == STORE_CF_DATA) return t->s->touch_fn || t->s->kc || t->s->vc;
    return cf == STORE_CF_META && t->s->vc;
}

/* vo is where the value of a put (vl bytes) sits in out's data, or
 * NO_VALUE: no copy, as out keeps it until the commit. */
static void record_touch(store_txn *t, const char *k, size_t kl, const char *e, size_t el, size_t vo, size_t vl,
                         uint64_t h, int del, int meta) {
    if (grow((void **)&t->touch, &t->tcap, t->ntouch, sizeof *t->touch)) goto oom;
    size_t ko = store_buf_add(&t->tbuf, k, kl);
    if (ko == (size_t)-1) goto oom;
    size_t eo = 0;
    if (el) {
        eo = store_buf_add(&t->tbuf, e, el);
        if (eo == (size_t)-1) goto oom;
    }
    t->touch[t->ntouch++] = (touch_ent){ko, kl, eo, el, vo, vl, h, del, meta};
    return;
oom:
    t->oom = 1;
}

static void note_write(store_txn *t, int cf, const char *k, size_t kl, size_t vl, int del) {
    uint64_t h = txn_hash(cf, k, kl);
    uint32_t touch = NO_TOUCH;
    if (txn_records(t, cf)) {
        int meta = cf == STORE_CF_META;
        size_t n = t->ntouch, vo = NO_VALUE;
        if (!del && t->s->vc && kl <= VALCACHE_MAX_KEY && vl <= VALCACHE_MAX_VALUE) {
            size_t len;
            rocksdb_writebatch_data(t->out, &len); /* a put's record ends with its value */
            vo = len - vl;
            valcache_prefetch(t->s->vc, h); /* the commit puts it */
        }
        record_touch(t, k, kl, NULL, 0, vo, vl, h, del, meta);
        if (t->ntouch > n && n < NO_TOUCH) touch = (uint32_t)n;
        if (!meta && t->s->kc) keycache_prefetch(t->s->kc, h); /* the commit updates it */
    }
    wset_add(t, h, touch);
}

void store_put(store_txn *t, int cf, const char *k, size_t kl, const char *v, size_t vl) {
    rocksdb_column_family_handle_t *h = t->s->cf[cf];
    rocksdb_writebatch_put_cf(t->out, h, k, kl, v, vl);
    if (t->indexed) rocksdb_writebatch_wi_put_cf(t->wb, h, k, kl, v, vl);
    note_write(t, cf, k, kl, vl, 0);
}

void store_del(store_txn *t, int cf, const char *k, size_t kl) {
    rocksdb_column_family_handle_t *h = t->s->cf[cf];
    rocksdb_writebatch_delete_cf(t->out, h, k, kl);
    if (t->indexed) rocksdb_writebatch_wi_delete_cf(t->wb, h, k, kl);
    t->ndels++;
    note_write(t, cf, k, kl, 0, 1);
}

/* An iterator over the txn's own writes to cf only: the WBWI merged over a
 * base iterator that is empty (its upper bound is the empty string, below
 * every key). Deleted keys do not show; every key shown is a live put.
 * *ro_out must outlive the iterator. */
rocksdb_iterator_t *delta_iter(store_txn *t, int cf, rocksdb_readoptions_t **ro_out) {
    static const char empty[1] = "";
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, empty, 0);
    rocksdb_iterator_t *base = rocksdb_create_iterator_cf(t->s->db, ro, t->s->cf[cf]);
    /* the returned iterator owns base */
    rocksdb_iterator_t *it = rocksdb_writebatch_wi_create_iterator_with_base_cf(t->wb, base, t->s->cf[cf]);
    *ro_out = ro;
    return it;
}

/* For a range "[start, end of cf)", which no tombstone can express: the
 * smallest key above every key >= start that exists now in the DB (and in
 * t's pending writes when t is given), i.e. the last such key + "\0".
 * Returns its malloc()ed copy in *out and its length, or 0 when no key
 * >= start exists (or on OOM). */
size_t store_cf_end_key(store *s, store_txn *t, int cf, const char *start, size_t sl, char **out) {
    *out = NULL;
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    if (sl) rocksdb_readoptions_set_iterate_lower_bound(ro, start, sl);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
    if (t && txn_pending(t)) it = rocksdb_writebatch_wi_create_iterator_with_base_cf(t->wb, it, s->cf[cf]);
    rocksdb_iter_seek_to_last(it);
    size_t n = 0;
    if (rocksdb_iter_valid(it)) {
        size_t kl;
        const char *k = rocksdb_iter_key(it, &kl);
        if (enc_bytes_cmp(k, kl, start, sl) >= 0 && (*out = malloc(kl + 1)) != NULL) {
            memcpy(*out, k, kl);
            (*out)[kl] = '\0';
            n = kl + 1;
        }
    }
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    return n;
}

/* Keys collected from an iterator, to write to after it is gone. */
typedef struct keylist {
    buf keys; /* the keys, one after another */
    size_t *lens, n, cap;
} keylist;

static int keylist_add(keylist *l, const char *k, size_t kl) {
    if (grow((void **)&l->lens, &l->cap, l->n, sizeof *l->lens) || store_buf_add(&l->keys, k, kl) == (size_t)-1)
        return -1;
    l->lens[l->n++] = kl;
    return 0;
}

static void keylist_free(keylist *l) {
    free(l->keys.p);
    free(l->lens);
}

/* [start, end) as point deletes of the keys the txn sees there. */
static void del_keys(store_txn *t, int cf, const char *start, size_t sl, const char *end, size_t el) {
    keylist l = {0};
    store_iter *it = store_iter_new(t, cf, start, sl, end, el);
    if (!it) {
        t->oom = 1;
        return;
    }
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl);
        if (keylist_add(&l, k, kl) < 0) {
            t->oom = 1;
            break;
        }
    }
    char *ierr = NULL;
    if (store_iter_error(it, &ierr) < 0 && !t->fail) t->fail = ierr ? ierr : strdup("delete range: read failed");
    else free(ierr);
    store_iter_free(it);
    for (size_t i = 0, off = 0; i < l.n; off += l.lens[i++]) store_del(t, cf, l.keys.p + off, l.lens[i]);
    keylist_free(&l);
}

void store_del_range(store_txn *t, int cf, const char *start, size_t sl,
                     const char *end, size_t el) {
    store *s = t->s;
    char *to_end = NULL;
    store_async_settle(s); /* reads the database's keys */
    txn_index(t); /* from here on, reads need the index */
    if (!end || !el) { /* to the end of the column family */
        el = store_cf_end_key(s, t, cf, start, sl, &to_end);
        if (!el) return; /* nothing there */
        end = to_end;
    }
    if (enc_bytes_cmp(start, sl, end, el) >= 0) { /* empty range */
        free(to_end);
        return;
    }
    if (store_range_by_keys(s, cf, sl)) {
        del_keys(t, cf, start, sl, end, el);
        free(to_end);
        return;
    }
    rocksdb_column_family_handle_t *h = s->cf[cf];

    /* Keys the WBWI holds as puts inside the range get a point delete in the
     * WBWI (not in `out`, where the range tombstone covers them), so a WBWI
     * put always means "written after every pending range that covers it". */
    if (rocksdb_writebatch_wi_count(t->wb) > 0) {
        rocksdb_readoptions_t *dro;
        rocksdb_iterator_t *it = delta_iter(t, cf, &dro);
        keylist l = {0};
        for (rocksdb_iter_seek(it, start, sl); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl;
            const char *k = rocksdb_iter_key(it, &kl);
            if (enc_bytes_cmp(k, kl, end, el) >= 0) break;
            if (keylist_add(&l, k, kl) < 0) {
                t->oom = 1;
                break;
            }
        }
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(dro);
        for (size_t i = 0, off = 0; i < l.n; off += l.lens[i++])
            rocksdb_writebatch_wi_delete_cf(t->wb, h, l.keys.p + off, l.lens[i]);
        keylist_free(&l);
    }

    rocksdb_writebatch_delete_range_cf(t->out, h, start, sl, end, el);

    size_t so = 0, eo = 0;
    if (grow((void **)&t->ranges, &t->rcap, t->nranges, sizeof *t->ranges) ||
        (so = store_buf_add(&t->rbuf, start, sl)) == (size_t)-1 ||
        (eo = store_buf_add(&t->rbuf, end, el)) == (size_t)-1) {
        t->oom = 1;
    } else {
        t->ranges[t->nranges++] = (range_ent){cf, so, sl, eo, el};
    }
    if (txn_records(t, cf)) record_touch(t, start, sl, end, el, NO_VALUE, 0, 0, 1, cf == STORE_CF_META);
    free(to_end);
}

/* The pending range of cf containing k, or NULL. */
const range_ent *txn_range_at(const store_txn *t, int cf, const char *k, size_t kl) {
    for (size_t i = 0; i < t->nranges; i++) {
        const range_ent *r = &t->ranges[i];
        if (r->cf != cf) continue;
        if (enc_bytes_cmp(k, kl, t->rbuf.p + r->so, r->sl) >= 0 &&
            enc_bytes_cmp(k, kl, t->rbuf.p + r->eo, r->el) < 0)
            return r;
    }
    return NULL;
}

int txn_has_ranges(const store_txn *t, int cf) {
    for (size_t i = 0; i < t->nranges; i++)
        if (t->ranges[i].cf == cf) return 1;
    return 0;
}

void store_txn_savepoint(store_txn *t) {
    if (grow((void **)&t->sp, &t->spcap, t->nsp, sizeof *t->sp)) {
        t->oom = 1;
        return;
    }
    rocksdb_writebatch_set_save_point(t->out);
    if (t->indexed) rocksdb_writebatch_wi_set_save_point(t->wb);
    t->sp[t->nsp++] = (savepoint){t->nranges, t->rbuf.len, t->ntouch, t->tbuf.len, store_txn_count(t)};
}

void store_txn_rollback_to_savepoint(store_txn *t) {
    if (t->nsp == 0) { /* the start of the txn is the implicit savepoint */
        store_txn_clear(t);
        return;
    }
    savepoint sp = t->sp[--t->nsp];
    char *rerr = NULL;
    rocksdb_writebatch_rollback_to_save_point(t->out, &rerr);
    if (rerr) {
        rocksdb_free(rerr);
        t->oom = 1; /* cannot happen: every savepoint here has one in `out` */
    }
    if (t->indexed) { /* txn_index gave the WBWI every savepoint set before it */
        rocksdb_writebatch_wi_rollback_to_save_point(t->wb, &rerr);
        if (rerr) {
            rocksdb_free(rerr);
            t->oom = 1;
        }
    }
    assert(store_txn_count(t) == sp.count);
    t->nranges = sp.nranges;
    t->rbuf.len = sp.rbuf_len;
    t->ntouch = sp.ntouch; /* rolled-back keys stay in wset: a read of one indexes needlessly, never wrongly */
    t->tbuf.len = sp.tbuf_len;
}

/* A committed value, pinned (no copy). */
static int get_pinned(store *s, int cf, const char *k, size_t kl, store_val *v, char **err) {
    char *rerr = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned_cf(s->db, s->ro, s->cf[cf], k, kl, &rerr);
    if (rerr) {
        if (p) rocksdb_pinnableslice_destroy(p);
        store_set_err(err, "get", rerr);
        return -1;
    }
    if (!p) return 0;
    v->pin_ = p;
    v->ptr = rocksdb_pinnableslice_value(p, &v->len);
    return 1;
}

/* The committed value of a data-CF key that neither cache answered: read
 * ahead (prefetch.c) or read pinned, then remembered by both caches. */
static int read_and_remember(store *s, uint64_t h, const char *k, size_t kl, store_val *v, char **err) {
    int r = s->npf ? store_prefetch_take(s, h, k, kl, v) : -1;
    if (r < 0) r = get_pinned(s, STORE_CF_DATA, k, kl, v, err);
    if (r < 0) return -1;
    if (s->kc) keycache_set(s->kc, h, k, kl, r);
    if (r == 1 && s->vc && !s->vc_pins) valcache_put(s->vc, h, k, kl, v->ptr, v->len);
    return r;
}

/* 1 and v pinned in the value cache when it holds (h, k). */
static int valcache_take(store *s, uint64_t h, const char *k, size_t kl, store_val *v) {
    if (valcache_get(s->vc, h, k, kl, &v->ptr, &v->len)) {
        s->vc_hits++;
        s->vc_pins++;
        v->cpin_ = &s->vc_pins;
        return 1;
    }
    s->vc_misses++;
    return 0;
}

/* A committed meta-CF value. The domain's counters and index pointers are
 * read and rewritten by most of its writes, so the value cache keeps them
 * too, under txn_hash's meta-salted hash: a data key of the same bytes has
 * another hash, and an entry matches on both. */
static int get_meta_committed(store *s, uint64_t h, const char *k, size_t kl, store_val *v, char **err) {
    if (valcache_take(s, h, k, kl, v)) return 1;
    int r = get_pinned(s, STORE_CF_META, k, kl, v, err);
    if (r == 1 && !s->vc_pins) valcache_put(s->vc, h, k, kl, v->ptr, v->len);
    return r;
}

/* A committed value: from the value cache, or known absent by the key
 * cache, or read ahead, or read pinned; then remembered by both caches.
 * h is txn_hash(cf, k), for the data CF the caches' keycache_hash. */
static int get_committed(store *s, int cf, uint64_t h, const char *k, size_t kl, store_val *v, char **err) {
    if (s->wtxn) { /* the group on the writer thread is committed for its readers */
        int r = store_inflight_get(s, cf, h, k, kl, v);
        if (r != -2) return r;
    }
    if (cf == STORE_CF_META && s->vc) return get_meta_committed(s, h, k, kl, v, err);
    if (cf != STORE_CF_DATA || (!s->vc && !s->kc && !s->npf)) return get_pinned(s, cf, k, kl, v, err);
    if (s->vc && valcache_take(s, h, k, kl, v)) return 1;
    if (s->kc && keycache_get(s->kc, h, k, kl) == 0) {
        s->kc_hits++;
        return 0;
    }
    return read_and_remember(s, h, k, kl, v, err);
}

/* The record of t's latest write of k (cf; w its write-set slot, or NULL)
 * when t still has it, or NULL: a rollback may have dropped it, and a
 * later write of another key taken its place. Only point writes are
 * recorded, so the caller must know that no pending range of cf covers k. */
const touch_ent *own_write(const store_txn *t, const struct wslot *w, int cf, const char *k, size_t kl) {
    const touch_ent *e = w && w->touch < t->ntouch ? &t->touch[w->touch] : NULL;
    if (e && !e->el && e->meta == (cf == STORE_CF_META) && e->kl == kl && memcmp(t->tbuf.p + e->ko, k, kl) == 0)
        return e;
    return NULL;
}

int txn_record_value(const store_txn *t, const struct wslot *w, int cf, const char *k, size_t kl, store_val *v) {
    const touch_ent *e = own_write(t, w, cf, k, kl); /* NULL for a CF not recorded */
    if (!e) return -1;
    if (e->del) return 0;
    if (e->vo == NO_VALUE || !(v->own_ = malloc(e->vl ? e->vl : 1))) return -1;
    size_t outl;
    const char *out = rocksdb_writebatch_data(t->out, &outl);
    assert(e->vo + e->vl <= outl);
    memcpy(v->own_, out + e->vo, e->vl);
    v->ptr = v->own_;
    v->len = e->vl;
    return 1;
}

int store_get(store_txn *t, int cf, const char *k, size_t kl, store_val *v, char **err) {
    store *s = t->s;
    char *rerr = NULL;
    v->ptr = NULL;
    v->len = 0;
    v->pin_ = NULL;
    v->own_ = NULL;
    v->cpin_ = NULL;
    if (store_fault_fires(s, STORE_FAULT_READ, "get", err)) return -1;

    /* A key the txn did not write (and no pending range of cf could cover)
     * is as the database has it. */
    uint64_t h = txn_hash(cf, k, kl);
    int ranges = t->nranges && txn_has_ranges(t, cf);
    const struct wslot *w = t->oom || !txn_pending(t) ? NULL : wset_find(t, h);
    /* (after an OOM the write set may miss a key: nothing is taken as unwritten) */
    if (!txn_pending(t) || (!t->oom && !w && !ranges)) return get_committed(s, cf, h, k, kl, v, err);
    /* A key t wrote (the common case: a counter read again by the next
     * command of the loop iteration): its last write's record answers,
     * without the read index, when it kept the value (the value cache's
     * limits). The value is copied: out may grow under it. */
    int own = ranges ? -1 : txn_record_value(t, w, cf, k, kl, v); /* else the index's way */
    if (own >= 0) return own;
    txn_index(t);

    size_t vl = 0;
    char *val;
    if (t->ndels == 0 && !(t->nranges && txn_has_ranges(t, cf))) {
        /* Nothing was deleted in this txn, so a key the batch does not hold
         * is exactly as the database has it: read that pinned, no copy.
         * (Cheaper than the batch-and-db lookup, which copies the value.) */
        val = rocksdb_writebatch_wi_get_from_batch_cf(t->wb, s->opts, s->cf[cf], k, kl, &vl, &rerr);
        if (rerr) {
            free(val);
            store_set_err(err, "get", rerr);
            return -1;
        }
        if (val) goto found;
        return get_committed(s, cf, h, k, kl, v, err);
    }
    if (t->nranges && txn_has_ranges(t, cf)) {
        /* NULL here means "not in the batch" or "deleted in the batch" */
        val = rocksdb_writebatch_wi_get_from_batch_cf(t->wb, s->opts, s->cf[cf], k, kl, &vl, &rerr);
        if (rerr) {
            free(val);
            store_set_err(err, "get", rerr);
            return -1;
        }
        if (val) goto found;
        if (txn_range_at(t, cf, k, kl)) return 0;
    }
    if (s->wtxn && wset_find(s->wtxn, h)) store_async_settle(s); /* the database must hold the group's write */
    val = rocksdb_writebatch_wi_get_from_batch_and_db_cf(t->wb, s->db, s->ro, s->cf[cf], k, kl, &vl, &rerr);
    if (rerr) {
        free(val);
        store_set_err(err, "get", rerr);
        return -1;
    }
    if (!val) return 0;
found:
    v->own_ = val;
    v->ptr = val;
    v->len = vl;
    return 1;
}

int store_exists(store_txn *t, int cf, const char *k, size_t kl, char **err) {
    store *s = t->s;
    if (s->kc && cf == STORE_CF_DATA && kl <= KEYCACHE_MAX_KEY && !(t->nranges && txn_has_ranges(t, cf))) {
        uint64_t h = txn_hash(cf, k, kl);
        const struct wslot *w = t->oom ? NULL : wset_find(t, h);
        if (w) {
            /* Written by t: its latest write says, if t still has it. */
            const touch_ent *e = own_write(t, w, cf, k, kl);
            if (e) return !e->del;
        } else if (!t->oom && !(s->wtxn && wset_find(s->wtxn, h))) { /* not written by t nor in flight: committed state decides */
            int r = keycache_get(s->kc, h, k, kl);
            if (r >= 0) {
                s->kc_hits++;
                return r;
            }
            s->kc_misses++;
            /* The value cache holds only committed values (and read-ahead
             * skips the keys it holds): one there exists. */
            const char *cv;
            size_t cvl;
            if (s->vc && valcache_get(s->vc, h, k, kl, &cv, &cvl)) {
                s->vc_hits++;
                keycache_set(s->kc, h, k, kl, 1);
                return 1;
            }
            if (store_fault_fires(s, STORE_FAULT_READ, "get", err)) return -1;
            store_val v = {0};
            r = read_and_remember(s, h, k, kl, &v, err);
            store_val_free(&v);
            return r;
        }
    }
    store_val v;
    int r = store_get(t, cf, k, kl, &v, err);
    if (r == 1) store_val_free(&v);
    return r;
}

void store_caches_clear(store *s) {
    if (s->kc) keycache_clear(s->kc);
    if (s->vc) valcache_clear(s->vc);
}

void store_caches_clear_cf(store *s, int cf) {
    if (cf == STORE_CF_DATA) store_caches_clear(s);
    else if (cf == STORE_CF_META && s->vc) valcache_clear(s->vc);
}

unsigned store_values_in_use(const store *s) { return s->vc_pins; }

void store_value_cache_stats(const store *s, uint64_t *bytes, uint64_t *hits, uint64_t *misses) {
    *bytes = valcache_bytes(s->vc);
    *hits = s->vc_hits;
    *misses = s->vc_misses;
}

void store_key_cache_stats(const store *s, uint64_t *slots, uint64_t *hits, uint64_t *misses) {
    *slots = keycache_slots(s->kc);
    *hits = s->kc_hits;
    *misses = s->kc_misses;
}

void store_filter_stats(const store *s, uint64_t *records, uint64_t *reads) {
    *records = atomic_load(&((store *)s)->filter_records);
    *reads = atomic_load(&((store *)s)->filter_reads);
}

/* What a commit tells the caches and the touch hook, in the txn's order
 * (a later write of a key wins): for store_commit after its write, and
 * for writer.c at the hand-over, before the write. */
void store_commit_touches(store *s, const store_txn *t) {
    size_t outl;
    const char *out = rocksdb_writebatch_data(t->out, &outl);
    for (size_t i = 0; i < t->ntouch; i++) {
        const touch_ent *e = &t->touch[i];
        const char *k = t->tbuf.p + e->ko;
        /* in order: a later write of a key wins */
        if (e->el) {
            store_caches_clear_cf(s, e->meta ? STORE_CF_META : STORE_CF_DATA);
        } else {
            if (s->kc && !e->meta) keycache_set(s->kc, e->h, k, e->kl, !e->del);
            if (s->vc) {
                if (e->vo != NO_VALUE && !s->vc_pins) {
                    assert(e->vo + e->vl <= outl);
                    valcache_put(s->vc, e->h, k, e->kl, out + e->vo, e->vl);
                } else {
                    valcache_forget(s->vc, e->h, k, e->kl);
                }
            }
        }
        if (s->touch_fn && !e->meta) s->touch_fn(s->touch_arg, k, e->kl, e->el ? t->tbuf.p + e->eo : NULL, e->el);
    }
}

int store_commit(store_txn *t, char **err) {
    store *s = t->s;
    if (t->oom || t->fail) {
        if (err) {
            *err = t->fail ? t->fail : strdup("commit: out of memory while building the transaction");
            t->fail = NULL;
        }
        store_txn_clear(t);
        return -1;
    }
    if (store_txn_count(t) == 0) {
        store_txn_clear(t);
        return 0;
    }
    if (s->wtxn) {
        /* The caller takes the writer thread's result first
         * (store_async_finish): the undo of unflushed commits covers one
         * group at a time, in order. */
        if (err) *err = strdup("commit: a group is still on the writer thread");
        store_txn_clear(t);
        return -1;
    }
    if (store_fault_fires(s, STORE_FAULT_WRITE, "commit", err)) {
        store_txn_clear(t); /* as a failed rocksdb_write: nothing written */
        return -1;
    }
    char *rerr = NULL;
    size_t n;
    const char *rep;
    store_undo_begin(s);
    store_prefetch_drop(s); /* what it read is about to be old */
    rocksdb_writebatch_t *wb = store_sorted_batch(s, t->out); /* batch_sort.c */
    if (!wb) wb = t->out;
    rep = rocksdb_writebatch_data(wb, &n);
    rocksdb_write(s->db, s->wo, wb, &rerr);
    if (!rerr) {
        store_undo_log_rep(s, rep, n); /* rep may be the sorted copy: before the trim */
        atomic_fetch_add_explicit(&s->unflushed, n, memory_order_relaxed);
    }
    if (wb != t->out) store_sorted_trim(s);
    if (rerr) {
        store_caches_clear(s); /* cannot tell what, if anything, went in */
        store_txn_clear(t);
        store_set_err(err, "commit", rerr);
        return -1;
    }
    store_commit_touches(s, t);
    store_txn_clear(t);
    return 0;
}
