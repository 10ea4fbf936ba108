#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "encoding.h"
#include "store.h"
#include "../unit_tmpdir.h"

/* ---- fixture ------------------------------------------------------------ */

static char tmpdir[256];
static char dbdir[300];
static store *S;


static store *open_at(const char *dir) {
    store_options o = {.dir = dir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    store *s = NULL;
    char *err = NULL;
    int rc = store_open(&s, &o, &err);
    cr_assert_eq(rc, 0, "store_open %s: %s", dir, err ? err : "?");
    cr_assert_null(err);
    cr_assert_not_null(s);
    return s;
}

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "store"));
    snprintf(dbdir, sizeof dbdir, "%s/db/nested", tmpdir); /* store_open creates it */
    S = open_at(dbdir);
}

static void teardown(void) {
    store_close(S);
    S = NULL;
    unit_tmpdir_remove(tmpdir);
}

TestSuite(store, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

static void put_s(store_txn *t, int cf, const char *k, const char *v) {
    store_put(t, cf, k, strlen(k), v, strlen(v));
}
static void commit_ok(store_txn *t) {
    char *err = NULL;
    int rc = store_commit(t, &err);
    cr_assert_eq(rc, 0, "commit: %s", err ? err : "?");
}
/* 1 and value equal, 0 absent */
static int get_is(store_txn *t, int cf, const char *k, const char *want) {
    store_val v;
    char *err = NULL;
    int rc = store_get(t, cf, k, strlen(k), &v, &err);
    cr_assert_neq(rc, -1, "get %s: %s", k, err ? err : "?");
    if (rc == 0) {
        cr_assert_null(want, "key %s absent, wanted %s", k, want);
        store_val_free(&v);
        return 0;
    }
    cr_assert_not_null(want, "key %s present (%.*s), wanted absent", k, (int)v.len, v.ptr);
    cr_assert_eq(v.len, strlen(want), "key %s: len %zu", k, v.len);
    cr_assert(memcmp(v.ptr, want, v.len) == 0, "key %s: %.*s != %s", k, (int)v.len, v.ptr, want);
    store_val_free(&v);
    return 1;
}

/* Collects "k=v," for every key of [lo, hi) into out. */
static void scan(store_txn *t, int cf, const char *lo, const char *hi, char *out, size_t cap) {
    store_iter *it = store_iter_new(t, cf, lo, lo ? strlen(lo) : 0, hi, hi ? strlen(hi) : 0);
    cr_assert_not_null(it);
    size_t n = 0;
    out[0] = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        n += (size_t)snprintf(out + n, cap - n, "%.*s=%.*s,", (int)kl, k, (int)vl, v);
        cr_assert_lt(n, cap);
    }
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
}

static void fill_abc(store_txn *t);

/* ---- open / close ------------------------------------------------------- */

Test(store, reopen_persists) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k1", "v1");
    put_s(t, STORE_CF_META, "m1", "x");
    commit_ok(t);
    cr_assert_gt(store_unflushed(S), 0);
    cr_assert_eq(store_flush_wal(S, 1, NULL), 0);
    cr_assert_eq(store_unflushed(S), 0);
    store_txn_free(t);
    store_close(S);

    S = open_at(dbdir);
    t = store_txn_new(S);
    get_is(t, STORE_CF_DATA, "k1", "v1");
    get_is(t, STORE_CF_META, "m1", "x");
    get_is(t, STORE_CF_DATA, "m1", NULL);
    store_txn_free(t);
}

/* The meta CF has its own, smaller write buffer: with 1 MB for it and
 * 16 MB for the data CF, 3 MB written to each leaves the meta CF's active
 * memtable under its 1 MB (it switched) and the data CF's holding it all. */
Test(store, meta_cf_has_its_own_write_buffer) {
    store_close(S);
    store_options o = {.dir = dbdir, .block_cache_bytes = 8u << 20, .write_buffer_bytes = 16u << 20,
                       .meta_write_buffer_bytes = 1u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "store_open: %s", err ? err : "?");
    store_txn *t = store_txn_new(S);
    char k[32], v[1000];
    memset(v, 'v', sizeof v);
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "k%06d", i);
        store_put(t, STORE_CF_DATA, k, strlen(k), v, sizeof v);
        store_put(t, STORE_CF_META, k, strlen(k), v, sizeof v);
        if (i % 100 == 99) commit_ok(t);
    }
    store_txn_free(t);
    uint64_t meta = 0, data = 0;
    cr_assert_eq(store_property_int(S, STORE_CF_META, "rocksdb.cur-size-active-mem-table", &meta), 0);
    cr_assert_eq(store_property_int(S, STORE_CF_DATA, "rocksdb.cur-size-active-mem-table", &data), 0);
    cr_expect_lt(meta, 1u << 20, "meta CF active memtable %llu bytes", (unsigned long long)meta);
    cr_expect_gt(data, 3u << 20, "data CF active memtable %llu bytes", (unsigned long long)data);
}

/* Bytes this process has read through read(2) and pread(2), page cache
 * included: RocksDB reads SST blocks with pread. */
static long long rchar(void) {
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "rchar: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

/* A whole SST's filter block stays in the block cache. RocksDB's default
 * split of an 8 MB cache is 16 shards of 512 kB, and a block released
 * while its shard is over capacity is dropped: the filter of a file of
 * 600 k keys (750 kB) was read from the file again by every point read
 * (100 reads: 150 MB read). The keys are written in a scattered order so
 * that the compaction merges the flushed files (non-overlapping files it
 * would only move down, each with its small filter). */
Test(store, sst_filter_block_stays_cached) {
    store_close(S);
    store_options o = {.dir = dbdir, .block_cache_bytes = 8u << 20, .write_buffer_bytes = 256u << 10,
                       .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "store_open: %s", err ? err : "?");
    enum { KEYS = 1200000, READS = 100 };
    store_txn *t = store_txn_new(S);
    char k[32];
    for (int i = 0; i < KEYS; i++) {
        int kl = snprintf(k, sizeof k, "k%07d", (int)((i * 7919LL) % KEYS) * 2);
        store_put(t, STORE_CF_DATA, k, (size_t)kl, "", 0);
        if (i % 10000 == 9999) commit_ok(t);
    }
    commit_ok(t);
    store_compact_all(S, STORE_CF_DATA);
    char *l0 = store_property(S, STORE_CF_DATA, "rocksdb.num-files-at-level0");
    cr_assert_not_null(l0);
    cr_assert_str_eq(l0, "0", "the keys are in compacted files, not in L0 (whose filters are pinned)");
    free(l0);
    cr_assert_geq(rchar(), 0, "/proc/self/io has rchar");
    long long read = 0;
    for (int round = 0; round < 2; round++) {
        long long before = rchar();
        /* keys between the written ones: the filters answer them */
        for (int i = 0; i < READS; i++) {
            int kl = snprintf(k, sizeof k, "k%07d", i * (2 * KEYS / READS) + 1);
            store_val v;
            cr_assert_eq(store_get(t, STORE_CF_DATA, k, (size_t)kl, &v, &err), 0, "%s", err ? err : "?");
        }
        read = rchar() - before;
    }
    /* warm: at most a few blocks; a filter read per get would be 75 MB */
    cr_expect_lt(read, 4 << 20, "%d point reads of a warm store read %lld bytes from its files", READS, read);
    store_txn_free(t);
}

Test(store, close_flushes_unflushed_wal) {
    /* committed but never flushed explicitly: store_close syncs the WAL */
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "a", "1");
    commit_ok(t);
    store_txn_free(t);
    store_close(S);
    S = open_at(dbdir);
    t = store_txn_new(S);
    get_is(t, STORE_CF_DATA, "a", "1");
    store_txn_free(t);
}

Test(store, open_error_is_reported) {
    char path[400];
    snprintf(path, sizeof path, "%s/file", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    char sub[420];
    snprintf(sub, sizeof sub, "%s/below", path); /* a directory below a file */
    store_options o = {.dir = sub, .create_if_missing = 1};
    store *s = (store *)1;
    char *err = NULL;
    cr_assert_eq(store_open(&s, &o, &err), -1);
    cr_assert_null(s);
    cr_assert_not_null(err);
    free(err);

    /* missing DB without create_if_missing */
    snprintf(sub, sizeof sub, "%s/nodb", tmpdir);
    o.dir = sub;
    o.create_if_missing = 0;
    err = NULL;
    cr_assert_eq(store_open(&s, &o, &err), -1);
    cr_assert_not_null(err);
    free(err);
    store_close(NULL);
}

/* ---- reads and writes --------------------------------------------------- */

Test(store, get_sees_own_pending_writes) {
    store_txn *t = store_txn_new(S);
    store_txn *other = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    cr_assert_eq(store_txn_count(t), 1);
    get_is(t, STORE_CF_DATA, "k", "v");
    get_is(other, STORE_CF_DATA, "k", NULL); /* not committed yet */
    put_s(t, STORE_CF_DATA, "k", "v2");      /* overwrite in the batch */
    get_is(t, STORE_CF_DATA, "k", "v2");
    commit_ok(t);
    cr_assert_eq(store_txn_count(t), 0);
    get_is(other, STORE_CF_DATA, "k", "v2");
    store_txn_free(t);
    store_txn_free(other);
}

Test(store, get_pinned_vs_owned) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    commit_ok(t);
    store_val v;
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k", 1, &v, NULL), 1);
    cr_assert_not_null(v.pin_); /* empty txn: pinned, no copy */
    cr_assert_null(v.own_);
    store_val_free(&v);
    put_s(t, STORE_CF_DATA, "other", "x");
    /* a key the batch does not hold, and nothing deleted: still pinned */
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k", 1, &v, NULL), 1);
    cr_assert_not_null(v.pin_);
    cr_assert(v.len == 1 && v.ptr[0] == 'v');
    store_val_free(&v);
    /* a key the batch holds: its pending value, copied */
    cr_assert_eq(store_get(t, STORE_CF_DATA, "other", 5, &v, NULL), 1);
    cr_assert_null(v.pin_);
    cr_assert_not_null(v.own_);
    cr_assert(v.len == 1 && v.ptr[0] == 'x');
    store_val_free(&v);
    /* a key the txn did not write stays a pinned read even once something
     * is deleted (the txn's filter of written keys says it is not there) */
    store_del(t, STORE_CF_DATA, "gone", 4);
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k", 1, &v, NULL), 1);
    cr_assert_not_null(v.pin_);
    cr_assert(v.len == 1 && v.ptr[0] == 'v');
    store_val_free(&v);
    store_del(t, STORE_CF_DATA, "k", 1);
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k", 1, &v, NULL), 0);
    store_val_free(&v);
    cr_assert_eq(store_get(t, STORE_CF_DATA, "nope", 4, &v, NULL), 0);
    store_val_free(&v);
    store_txn_free(t);
}

Test(store, empty_value) {
    store_txn *t = store_txn_new(S);
    store_put(t, STORE_CF_META, "e", 1, "", 0);
    get_is(t, STORE_CF_META, "e", "");
    commit_ok(t);
    get_is(t, STORE_CF_META, "e", "");
    store_txn_free(t);
}

Test(store, del_then_get_same_txn) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    commit_ok(t);
    store_del(t, STORE_CF_DATA, "k", 1);
    get_is(t, STORE_CF_DATA, "k", NULL);
    put_s(t, STORE_CF_DATA, "k", "again");
    get_is(t, STORE_CF_DATA, "k", "again");
    store_del(t, STORE_CF_DATA, "k", 1);
    get_is(t, STORE_CF_DATA, "k", NULL);
    commit_ok(t);
    get_is(t, STORE_CF_DATA, "k", NULL);
    store_txn_free(t);
}

Test(store, clear_drops_pending) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    store_del_range(t, STORE_CF_DATA, "a", 1, "z", 1);
    store_txn_clear(t);
    cr_assert_eq(store_txn_count(t), 0);
    get_is(t, STORE_CF_DATA, "k", NULL);
    commit_ok(t); /* empty: no-op */
    cr_assert_eq(store_unflushed(S), 0);
    store_txn_free(t);
}

Test(store, meta_cf_separate) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "same", "data");
    put_s(t, STORE_CF_META, "same", "meta");
    get_is(t, STORE_CF_DATA, "same", "data");
    get_is(t, STORE_CF_META, "same", "meta");
    commit_ok(t);
    get_is(t, STORE_CF_DATA, "same", "data");
    get_is(t, STORE_CF_META, "same", "meta");
    store_del(t, STORE_CF_META, "same", 4);
    commit_ok(t);
    get_is(t, STORE_CF_DATA, "same", "data");
    get_is(t, STORE_CF_META, "same", NULL);
    /* a range delete in data leaves meta alone */
    put_s(t, STORE_CF_META, "same", "meta2");
    commit_ok(t);
    store_del_range(t, STORE_CF_DATA, "a", 1, "z", 1);
    get_is(t, STORE_CF_META, "same", "meta2");
    get_is(t, STORE_CF_DATA, "same", NULL);
    commit_ok(t);
    get_is(t, STORE_CF_META, "same", "meta2");
    get_is(t, STORE_CF_DATA, "same", NULL);
    char buf[256];
    scan(t, STORE_CF_META, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "same=meta2,");
    store_txn_free(t);
}

/* ---- range deletions ---------------------------------------------------- */

Test(store, range_delete_in_txn_ordering) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "a1", "db");
    put_s(t, STORE_CF_DATA, "b1", "db");
    put_s(t, STORE_CF_DATA, "b2", "db");
    put_s(t, STORE_CF_DATA, "c1", "db");
    commit_ok(t);

    put_s(t, STORE_CF_DATA, "b3", "early"); /* before the range delete: dies */
    put_s(t, STORE_CF_DATA, "a2", "keep");  /* outside the range: lives */
    store_del_range(t, STORE_CF_DATA, "b", 1, "c", 1);
    put_s(t, STORE_CF_DATA, "b2", "late"); /* after the range delete: lives */
    put_s(t, STORE_CF_DATA, "b4", "late4");
    cr_assert_eq(store_txn_count(t), 5);

    get_is(t, STORE_CF_DATA, "a1", "db");
    get_is(t, STORE_CF_DATA, "a2", "keep");
    get_is(t, STORE_CF_DATA, "b1", NULL);
    get_is(t, STORE_CF_DATA, "b2", "late");
    get_is(t, STORE_CF_DATA, "b3", NULL);
    get_is(t, STORE_CF_DATA, "b4", "late4");
    get_is(t, STORE_CF_DATA, "c1", "db");

    char buf[512];
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a1=db,a2=keep,b2=late,b4=late4,c1=db,");

    commit_ok(t);
    get_is(t, STORE_CF_DATA, "b1", NULL);
    get_is(t, STORE_CF_DATA, "b2", "late");
    get_is(t, STORE_CF_DATA, "b3", NULL);
    get_is(t, STORE_CF_DATA, "b4", "late4");
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a1=db,a2=keep,b2=late,b4=late4,c1=db,");

    /* and after a reopen (replayed from the WAL) */
    store_txn_free(t);
    store_close(S);
    S = open_at(dbdir);
    t = store_txn_new(S);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a1=db,a2=keep,b2=late,b4=late4,c1=db,");
    store_txn_free(t);
}

Test(store, range_delete_then_del_and_overlap) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "b1", "db");
    put_s(t, STORE_CF_DATA, "d1", "db");
    commit_ok(t);
    store_del_range(t, STORE_CF_DATA, "b", 1, "c", 1);
    put_s(t, STORE_CF_DATA, "b5", "x");
    store_del(t, STORE_CF_DATA, "b5", 2); /* put then delete after range */
    put_s(t, STORE_CF_DATA, "c5", "y");   /* put, then covered by a second range */
    store_del_range(t, STORE_CF_DATA, "b", 1, "e", 1);
    put_s(t, STORE_CF_DATA, "d2", "z");
    get_is(t, STORE_CF_DATA, "b1", NULL);
    get_is(t, STORE_CF_DATA, "b5", NULL);
    get_is(t, STORE_CF_DATA, "c5", NULL);
    get_is(t, STORE_CF_DATA, "d1", NULL);
    get_is(t, STORE_CF_DATA, "d2", "z");
    char buf[256];
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "d2=z,");
    commit_ok(t);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "d2=z,");
    store_txn_free(t);
}

Test(store, empty_range_is_noop) {
    store_txn *t = store_txn_new(S);
    store_del_range(t, STORE_CF_DATA, "b", 1, "b", 1);
    store_del_range(t, STORE_CF_DATA, "c", 1, "b", 1);
    store_del_range(t, STORE_CF_DATA, "c", 1, NULL, 0); /* to the end of an empty cf */
    cr_assert_eq(store_txn_count(t), 0);
    store_txn_free(t);
}

Test(store, range_delete_to_end) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    put_s(t, STORE_CF_DATA, "zz", "pending"); /* beyond every DB key */
    store_del_range(t, STORE_CF_DATA, "bb", 2, NULL, 0);
    put_s(t, STORE_CF_DATA, "zzz", "late");
    char buf[256];
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,b=db,ba=db,zzz=late,");
    commit_ok(t);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,b=db,ba=db,zzz=late,");
    /* el == 0 with a non-NULL end means the same (enc_prefix_end's 0) */
    char dummy[1];
    store_del_range(t, STORE_CF_DATA, "b", 1, dummy, 0);
    commit_ok(t);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,");
    store_txn_free(t);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(store, million_key_range_delete_is_one_fast_commit, .timeout = 120) {
    store_txn *t = store_txn_new(S);
    char k[16];
    char v[] = "\x00value";
    const int N = 1000000;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        k[0] = 1; /* db 1 */
        int n = snprintf(k + 1, sizeof k - 1, "key%08d", i);
        store_put(t, STORE_CF_DATA, k, (size_t)n + 1, v, sizeof v - 1);
        if ((i + 1) % 100000 == 0) commit_ok(t);
    }
    double t1 = now_s();
    store_flush_wal(S, 0, NULL);
    put_s(t, STORE_CF_DATA, "\x02other", "x"); /* db 2 survives */
    commit_ok(t);

    char lo[1] = {1}, hi[1] = {2};
    double t2 = now_s();
    store_del_range(t, STORE_CF_DATA, lo, 1, hi, 1);
    cr_assert_eq(store_txn_count(t), 1);
    double ti = now_s();
    {   /* iterating the txn view skips the pending range in one seek */
        store_iter *pi = store_iter_new(t, STORE_CF_DATA, lo, 1, NULL, 0);
        cr_assert(store_iter_valid(pi));
        size_t pl;
        const char *pk = store_iter_key(pi, &pl);
        cr_assert(pl == 6 && memcmp(pk, "\x02other", 6) == 0);
        store_iter_free(pi);
    }
    cr_assert_lt(now_s() - ti, 0.5);
    uint64_t before = store_unflushed(S);
    commit_ok(t);
    uint64_t bytes = store_unflushed(S) - before;
    double t3 = now_s();
    cr_assert_lt(bytes, 100, "one small batch, got %llu bytes", (unsigned long long)bytes);
    cr_assert_lt(t3 - t2, 0.5, "range delete commit took %.3f s", t3 - t2);
    cr_log_info("1M puts in 10 commits: %.3f s; range delete + commit: %.6f s", t1 - t0, t3 - t2);
    fprintf(stderr, "[perf] 1M puts in 10 commits: %.3f s; 1M-key range delete + commit: %.6f s\n",
            t1 - t0, t3 - t2);

    k[0] = 1;
    snprintf(k + 1, sizeof k - 1, "key%08d", 123456);
    store_val val;
    cr_assert_eq(store_get(t, STORE_CF_DATA, k, 12, &val, NULL), 0);
    store_val_free(&val);
    get_is(t, STORE_CF_DATA, "\x02other", "x");
    store_iter *it = store_iter_new(t, STORE_CF_DATA, lo, 1, NULL, 0);
    cr_assert(store_iter_valid(it));
    size_t kl;
    const char *kk = store_iter_key(it, &kl);
    cr_assert(kl == 6 && memcmp(kk, "\x02other", 6) == 0);
    store_iter_free(it);
    store_txn_free(t);
}

/* ---- iterators ---------------------------------------------------------- */

static void fill_abc(store_txn *t) {
    const char *keys[] = {"a", "b", "ba", "bb", "c", "d"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) put_s(t, STORE_CF_DATA, keys[i], "db");
    commit_ok(t);
}

Test(store, iter_bounds) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    char buf[256];
    scan(t, STORE_CF_DATA, "b", "c", buf, sizeof buf);
    cr_assert_str_eq(buf, "b=db,ba=db,bb=db,");
    scan(t, STORE_CF_DATA, "bb", NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "bb=db,c=db,d=db,");
    scan(t, STORE_CF_DATA, NULL, "b", buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,");
    scan(t, STORE_CF_DATA, "x", NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "");
    /* an empty upper bound is no bound (enc_prefix_end returns 0 for it) */
    store_iter *e = store_iter_new(t, STORE_CF_DATA, "c", 1, "", 0);
    int n = 0;
    for (; store_iter_valid(e); store_iter_next(e)) n++;
    cr_assert_eq(n, 2);
    store_iter_free(e);

    /* seek below the lower bound clamps to it; seek inside works */
    store_iter *it = store_iter_new(t, STORE_CF_DATA, "b", 1, "c", 1);
    store_iter_seek(it, "a", 1);
    size_t kl;
    cr_assert(store_iter_valid(it));
    cr_assert(store_iter_key(it, &kl)[0] == 'b' && kl == 1);
    store_iter_seek(it, "bab", 3);
    cr_assert(store_iter_valid(it));
    const char *k = store_iter_key(it, &kl);
    cr_assert(kl == 2 && memcmp(k, "bb", 2) == 0);
    store_iter_next(it);
    cr_assert(!store_iter_valid(it));
    store_iter_next(it); /* harmless when invalid */
    cr_assert(!store_iter_valid(it));
    store_iter_free(it);
    store_txn_free(t);
}

Test(store, iter_merged_with_pending) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    put_s(t, STORE_CF_DATA, "b", "new");   /* overwrite */
    put_s(t, STORE_CF_DATA, "b5", "add");  /* new inside */
    store_del(t, STORE_CF_DATA, "ba", 2);  /* delete */
    put_s(t, STORE_CF_DATA, "c", "past");  /* == upper: excluded */
    put_s(t, STORE_CF_DATA, "cz", "past"); /* beyond upper: excluded */
    put_s(t, STORE_CF_DATA, "a5", "low");  /* below lower: excluded */
    put_s(t, STORE_CF_META, "b7", "meta"); /* other cf */
    char buf[256];
    scan(t, STORE_CF_DATA, "b", "c", buf, sizeof buf);
    cr_assert_str_eq(buf, "b=new,b5=add,bb=db,");
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,a5=low,b=new,b5=add,bb=db,c=past,cz=past,d=db,");
    /* a txn with no writes sees only the committed state */
    store_txn *other = store_txn_new(S);
    scan(other, STORE_CF_DATA, "b", "c", buf, sizeof buf);
    cr_assert_str_eq(buf, "b=db,ba=db,bb=db,");
    store_txn_free(other);
    store_txn_free(t);
}

Test(store, iter_respects_range_deletes) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    put_s(t, STORE_CF_DATA, "bc", "early");
    store_del_range(t, STORE_CF_DATA, "b", 1, "bz", 2);
    put_s(t, STORE_CF_DATA, "bb", "late");
    char buf[256];
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,bb=late,c=db,d=db,");
    scan(t, STORE_CF_DATA, "b", "c", buf, sizeof buf);
    cr_assert_str_eq(buf, "bb=late,");
    scan(t, STORE_CF_DATA, "bb", "bc", buf, sizeof buf);
    cr_assert_str_eq(buf, "bb=late,");
    scan(t, STORE_CF_DATA, "bbb", NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "c=db,d=db,");
    /* a range delete in the other cf does not hide data keys */
    store_del_range(t, STORE_CF_META, "a", 1, "z", 1);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,bb=late,c=db,d=db,");
    store_txn_free(t);
}

/* ---- savepoints --------------------------------------------------------- */

Test(store, savepoint_rollback) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    put_s(t, STORE_CF_DATA, "x", "1");
    store_txn_savepoint(t);
    put_s(t, STORE_CF_DATA, "y", "2");
    store_del(t, STORE_CF_DATA, "a", 1);
    put_s(t, STORE_CF_DATA, "x", "changed");
    cr_assert_eq(store_txn_count(t), 4);
    store_txn_rollback_to_savepoint(t);
    cr_assert_eq(store_txn_count(t), 1);
    get_is(t, STORE_CF_DATA, "x", "1");
    get_is(t, STORE_CF_DATA, "y", NULL);
    get_is(t, STORE_CF_DATA, "a", "db");
    commit_ok(t);
    get_is(t, STORE_CF_DATA, "x", "1");
    get_is(t, STORE_CF_DATA, "y", NULL);
    /* without a savepoint, rollback undoes the whole txn */
    put_s(t, STORE_CF_DATA, "z", "3");
    store_txn_rollback_to_savepoint(t);
    cr_assert_eq(store_txn_count(t), 0);
    get_is(t, STORE_CF_DATA, "z", NULL);
    store_txn_free(t);
}

Test(store, savepoint_rollback_range_delete) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    put_s(t, STORE_CF_DATA, "bq", "pending");
    store_txn_savepoint(t); /* before any range: `out` does not exist yet */
    store_del_range(t, STORE_CF_DATA, "b", 1, "c", 1);
    get_is(t, STORE_CF_DATA, "bb", NULL);
    get_is(t, STORE_CF_DATA, "bq", NULL);
    store_txn_rollback_to_savepoint(t);
    get_is(t, STORE_CF_DATA, "bb", "db");
    get_is(t, STORE_CF_DATA, "bq", "pending");
    cr_assert_eq(store_txn_count(t), 1);
    char buf[256];
    scan(t, STORE_CF_DATA, "b", "c", buf, sizeof buf);
    cr_assert_str_eq(buf, "b=db,ba=db,bb=db,bq=pending,");

    /* nested: range 1, savepoint, put + range 2, rollback -> only range 1 */
    store_del_range(t, STORE_CF_DATA, "a", 1, "b", 1);
    store_txn_savepoint(t);
    put_s(t, STORE_CF_DATA, "a7", "gone");
    store_del_range(t, STORE_CF_DATA, "c", 1, "e", 1);
    get_is(t, STORE_CF_DATA, "c", NULL);
    store_txn_rollback_to_savepoint(t);
    get_is(t, STORE_CF_DATA, "a", NULL);
    get_is(t, STORE_CF_DATA, "a7", NULL);
    get_is(t, STORE_CF_DATA, "c", "db");
    commit_ok(t);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "b=db,ba=db,bb=db,bq=pending,c=db,d=db,");
    store_txn_free(t);
}

/* ---- touch hook --------------------------------------------------------- */

typedef struct rec {
    char log[1024];
    size_t n;
    int calls;
} rec;

static void touch_cb(void *arg, const char *k, size_t kl, const char *end, size_t el) {
    rec *r = arg;
    r->calls++;
    if (end)
        r->n += (size_t)snprintf(r->log + r->n, sizeof r->log - r->n, "[%.*s,%.*s)", (int)kl, k, (int)el, end);
    else
        r->n += (size_t)snprintf(r->log + r->n, sizeof r->log - r->n, "%.*s;", (int)kl, k);
}

Test(store, touch_hook) {
    rec r = {0};
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "nohook", "1");
    store_set_touch_hook(S, touch_cb, &r);
    put_s(t, STORE_CF_DATA, "k1", "1");
    store_del(t, STORE_CF_DATA, "k2", 2);
    put_s(t, STORE_CF_META, "meta", "1"); /* not reported */
    store_del_range(t, STORE_CF_DATA, "p", 1, "q", 1);
    store_del_range(t, STORE_CF_META, "p", 1, "q", 1); /* not reported */
    store_txn_savepoint(t);
    put_s(t, STORE_CF_DATA, "dropped", "1");
    store_del_range(t, STORE_CF_DATA, "x", 1, "y", 1);
    store_txn_rollback_to_savepoint(t);
    put_s(t, STORE_CF_DATA, "k3", "1");
    cr_assert_eq(r.calls, 0); /* nothing before commit */
    commit_ok(t);
    cr_assert_str_eq(r.log, "k1;k2;[p,q)k3;");

    /* cleared txn reports nothing */
    r = (rec){0};
    put_s(t, STORE_CF_DATA, "z", "1");
    store_txn_clear(t);
    commit_ok(t);
    cr_assert_eq(r.calls, 0);

    /* store_compact_range reports its range */
    cr_assert_eq(store_compact_range(S, STORE_CF_DATA, "a", 1, "b", 1, NULL), 0);
    cr_assert_str_eq(r.log, "[a,b)");

    /* hook removed: nothing recorded or called */
    r = (rec){0};
    store_set_touch_hook(S, NULL, NULL);
    put_s(t, STORE_CF_DATA, "k4", "1");
    commit_ok(t);
    cr_assert_eq(r.calls, 0);
    store_txn_free(t);
}

/* ---- operations --------------------------------------------------------- */

Test(store, checkpoint_is_readable_copy) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    put_s(t, STORE_CF_META, "m", "w");
    commit_ok(t); /* not flushed: the checkpoint must still contain it */
    char cp[400];
    snprintf(cp, sizeof cp, "%s/checkpoint", tmpdir);
    char *err = NULL;
    cr_assert_eq(store_checkpoint(S, cp, &err), 0, "%s", err ? err : "?");
    put_s(t, STORE_CF_DATA, "after", "x");
    commit_ok(t);

    store *s2 = open_at(cp);
    store_txn *t2 = store_txn_new(s2);
    get_is(t2, STORE_CF_DATA, "k", "v");
    get_is(t2, STORE_CF_META, "m", "w");
    get_is(t2, STORE_CF_DATA, "after", NULL);
    store_txn_free(t2);
    store_close(s2);

    /* existing target is an error */
    err = NULL;
    cr_assert_eq(store_checkpoint(S, cp, &err), -1);
    cr_assert_not_null(err);
    free(err);
    store_txn_free(t);
}

Test(store, properties) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    commit_ok(t);
    uint64_t n = 0;
    cr_assert_eq(store_property_int(S, STORE_CF_DATA, "rocksdb.estimate-num-keys", &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(store_property_int(S, STORE_CF_DATA, "rocksdb.no-such", &n), -1);
    char *p = store_property(S, STORE_CF_META, "rocksdb.stats");
    cr_assert_not_null(p);
    free(p);
    cr_assert_null(store_property(S, STORE_CF_DATA, "rocksdb.no-such"));
    store_txn_free(t);
}

Test(store, compact_range_removes_keys) {
    store_txn *t = store_txn_new(S);
    fill_abc(t);
    uint64_t before = store_unflushed(S);
    cr_assert_eq(store_compact_range(S, STORE_CF_DATA, "b", 1, "c", 1, NULL), 0);
    cr_assert_gt(store_unflushed(S), before);
    char buf[256];
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,c=db,d=db,");
    cr_assert_eq(store_compact_range(S, STORE_CF_DATA, "c", 1, NULL, 0, NULL), 0); /* to the end */
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, "a=db,");
    store_txn_free(t);
    /* teardown closes while the background compaction may still run */
}

Test(store, flush_wal_counter) {
    cr_assert_eq(store_unflushed(S), 0);
    cr_assert_eq(store_flush_wal(S, 0, NULL), 0);
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "v");
    commit_ok(t);
    cr_assert_gt(store_unflushed(S), 0);
    cr_assert_eq(store_flush_wal(S, 0, NULL), 0);
    cr_assert_eq(store_unflushed(S), 0);
    store_txn_free(t);
}

Test(store, perf_100k_put_commit, .timeout = 120) {
    store_txn *t = store_txn_new(S);
    char k[32], v[64];
    memset(v, 'v', sizeof v);
    const int N = 100000;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "\x01key:%d", i);
        store_put(t, STORE_CF_DATA, k, (size_t)n, v, sizeof v);
        commit_ok(t);
        if (i % 64 == 63) store_flush_wal(S, 0, NULL); /* a loop iteration */
    }
    double t1 = now_s();
    store_flush_wal(S, 0, NULL);
    int found = 0;
    double t2 = now_s();
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "\x01key:%d", i);
        store_val val;
        found += store_get(t, STORE_CF_DATA, k, (size_t)n, &val, NULL);
        store_val_free(&val);
    }
    double t3 = now_s();
    cr_assert_eq(found, N);
    fprintf(stderr, "[perf] 100k put+commit: %.3f s (%.2f us/op); 100k pinned get: %.3f s (%.2f us/op)\n",
            t1 - t0, (t1 - t0) * 1e6 / N, t3 - t2, (t3 - t2) * 1e6 / N);
    store_txn_free(t);
}

/* ---- snapshots ------------------------------------------------------------ */

/* An iterator on a snapshot sees the store as it was when the snapshot was
 * taken: later puts, deletes and range deletions are invisible to it. */
Test(store, snapshot_iterates_one_point_in_time) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "a1", "x");
    put_s(t, STORE_CF_DATA, "a2", "y");
    put_s(t, STORE_CF_META, "m1", "z");
    commit_ok(t);
    store_snap *sn = store_snapshot_new(S);
    cr_assert_not_null(sn);
    put_s(t, STORE_CF_DATA, "a3", "new");
    put_s(t, STORE_CF_DATA, "a1", "changed");
    store_del(t, STORE_CF_DATA, "a2", 2);
    store_del_range(t, STORE_CF_META, "m", 1, "n", 1);
    commit_ok(t);
    store_iter *it = store_iter_snapshot(sn, STORE_CF_DATA, "a", 1, "b", 1);
    cr_assert_not_null(it);
    const char *want[][2] = {{"a1", "x"}, {"a2", "y"}};
    int n = 0;
    for (; store_iter_valid(it); store_iter_next(it), n++) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        cr_assert_lt(n, 2, "more keys than at the snapshot");
        cr_expect_eq(kl, 2);
        cr_expect(memcmp(k, want[n][0], 2) == 0 && vl == 1 && memcmp(v, want[n][1], 1) == 0, "key %d: %.*s=%.*s", n,
                  (int)kl, k, (int)vl, v);
    }
    cr_expect_eq(n, 2);
    char *err = NULL;
    cr_expect_eq(store_iter_error(it, &err), 0, "a snapshot iterator reports no error: %s", err ? err : "");
    free(err);
    store_iter_seek(it, "a2", 2);
    cr_expect(store_iter_valid(it));
    store_iter_free(it);
    it = store_iter_snapshot(sn, STORE_CF_META, "m", 1, NULL, 0);
    cr_expect(store_iter_valid(it), "the range deletion came after the snapshot");
    store_iter_free(it);
    store_snapshot_free(sn);
    /* the live view has the later writes */
    it = store_iter_new(t, STORE_CF_DATA, "a", 1, "b", 1);
    n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) n++;
    cr_expect_eq(n, 2, "a1 and a3 now");
    store_iter_free(it);
    store_txn_free(t);
}

/* A group already in key order but with one key written again and again
 * (a hot counter: many INCRs of one key in one group) still goes as one
 * record per key. */
Test(store, ordered_group_with_a_hot_key_commits_one_record_per_key) {
    store_txn *t = store_txn_new(S);
    uint64_t before, after;
    cr_assert_eq(store_property_int(S, STORE_CF_DATA, "rocksdb.num-entries-active-mem-table", &before), 0);
    put_s(t, STORE_CF_DATA, "hot", "1");
    put_s(t, STORE_CF_DATA, "hot", "2");
    put_s(t, STORE_CF_DATA, "hot", "3");
    put_s(t, STORE_CF_DATA, "hotter", "1");
    put_s(t, STORE_CF_DATA, "hotter", "2");
    commit_ok(t);
    cr_assert_eq(store_property_int(S, STORE_CF_DATA, "rocksdb.num-entries-active-mem-table", &after), 0);
    cr_expect_eq(after - before, 2, "%llu memtable records for 2 keys", (unsigned long long)(after - before));
    get_is(t, STORE_CF_DATA, "hot", "3");
    get_is(t, STORE_CF_DATA, "hotter", "2");
    store_txn_free(t);
}

/* A group goes to RocksDB sorted by key, one record per key (batch_sort.c):
 * the last write of each key must win, whatever the order, kind or column
 * family of the writes before it, rolled-back writes included. */
Test(store, unordered_group_commits_the_last_write_of_each_key) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "m", "db");
    put_s(t, STORE_CF_DATA, "q", "db");
    commit_ok(t);

    put_s(t, STORE_CF_DATA, "z", "1");
    put_s(t, STORE_CF_DATA, "a", "1");
    put_s(t, STORE_CF_META, "a", "meta");
    store_del(t, STORE_CF_DATA, "m", 1);
    put_s(t, STORE_CF_DATA, "m", "back"); /* deleted, then put: lives */
    put_s(t, STORE_CF_DATA, "z", "2");
    store_del(t, STORE_CF_DATA, "z", 1); /* put, put, deleted: gone */
    put_s(t, STORE_CF_DATA, "a", "2");
    store_txn_savepoint(t);
    put_s(t, STORE_CF_DATA, "a", "rolled back");
    store_del(t, STORE_CF_DATA, "q", 1);
    store_txn_rollback_to_savepoint(t);
    put_s(t, STORE_CF_DATA, "b", "1");
    put_s(t, STORE_CF_DATA, "ab", "1");
    commit_ok(t);

    char buf[512];
    const char *want = "a=2,ab=1,b=1,m=back,q=db,";
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
    get_is(t, STORE_CF_META, "a", "meta");
    get_is(t, STORE_CF_DATA, "z", NULL);

    /* the WAL holds the same (the reopen replays it) */
    store_txn_free(t);
    store_close(S);
    S = open_at(dbdir);
    t = store_txn_new(S);
    scan(t, STORE_CF_DATA, NULL, NULL, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
    get_is(t, STORE_CF_META, "a", "meta");
    store_txn_free(t);
}
