/* Unit tests for server/keyspace/coll.c on a temporary store: metadata and
 * element records, O(1) deletion (the metadata goes, the elements become
 * orphans that the elem CF's compaction filter removes), versions that make
 * a recreated key empty, FLUSHDB over the elements, clone, and the
 * order-preserving double encoding of scores. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "../unit_leak.h"
#include "../unit_tmpdir.h"

static char tmpdir[256];
static store *S;
static keyspace ks;

static void open_ks(void) {
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "store_open: %s", err ? err : "?");
    cr_assert_eq(ks_init(&ks, S, &err), 0, "ks_init: %s", err ? err : "?");
}
static void close_ks(void) {
    ks_free(&ks);
    store_close(S);
}
static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "coll"));
    open_ks();
}
static void teardown(void) {
    close_ks();
    unit_tmpdir_remove(tmpdir);
    unit_leak_check();
}
TestSuite(coll, .init = setup, .fini = teardown);

static void commit(void) { cr_assert_eq(ks_commit(&ks), 0, "ks_commit: %s", ks.err.msg); }

/* Element records of the whole elem CF (live or orphaned). */
static long elem_records(void) {
    store_iter *it = store_iter_new(ks.tx, STORE_CF_ELEM, "", 0, NULL, 0);
    long n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) n++;
    store_iter_free(it);
    return n;
}

/* A hash of n fields at k. */
static void make_hash(int db, const char *k, int n) {
    coll h;
    cr_assert_geq(coll_open(&ks, db, k, strlen(k), ENC_TYPE_HASH, &h), 0);
    for (int i = 0; i < n; i++) {
        char f[32];
        int fl = snprintf(f, sizeof f, "f%05d", i);
        cr_assert_eq(coll_put(&ks, &h, ENC_ELEM_HASH, f, (size_t)fl, "v", 1), 0);
        h.size++;
    }
    cr_assert_eq(coll_save(&ks, &h), 0);
    coll_free(&h);
    commit();
}

static int64_t hash_size(int db, const char *k) {
    coll h;
    int r = coll_open(&ks, db, k, strlen(k), ENC_TYPE_HASH, &h);
    cr_assert_geq(r, 0);
    coll_items ci;
    cr_assert_eq(coll_collect(&ks, &h, ENC_ELEM_HASH, -1, 0, &ci), 0);
    cr_assert_eq((int64_t)ci.n, r ? h.size : 0, "metadata size %lld, %zu elements", (long long)h.size, ci.n);
    coll_items_free(&ci);
    coll_free(&h);
    return r ? h.size : 0;
}

Test(coll, delete_is_one_record_and_the_filter_drops_orphans) {
    make_hash(0, "big", 5000);
    make_hash(0, "small", 10);
    cr_assert_eq(db_size(&ks, 0), 2);
    cr_assert_eq(elem_records(), 5010);
    int before = store_txn_count(ks.tx);
    cr_assert_eq(db_delete(&ks, 0, "big", 3), 1);
    cr_assert_eq(store_txn_count(ks.tx) - before, 1, "DEL of a collection must be one write");
    commit();
    cr_assert_eq(hash_size(0, "big"), 0);
    cr_assert_eq(elem_records(), 5010, "the orphans stay until a compaction");
    store_compact_all(S, STORE_CF_ELEM);
    cr_assert_eq(elem_records(), 10, "the compaction filter keeps exactly the live elements");
    cr_assert_eq(hash_size(0, "small"), 10);
}

/* The filter reads a collection's metadata once per version and
 * compaction, not once per element, and the verdict it reuses is the one
 * per-element reads would give: a deleted-then-recreated key's old
 * version (adjacent to the new one in the CF) goes, its new one stays. */
Test(coll, filter_reads_metadata_once_per_collection_version) {
    make_hash(0, "a", 3000);
    cr_assert_eq(db_delete(&ks, 0, "a", 1), 1);
    commit();
    make_hash(0, "a", 2000);
    make_hash(0, "b", 1000);
    coll h;
    cr_assert_eq(coll_open(&ks, 0, "b", 1, ENC_TYPE_HASH, &h), 1);
    h.expire_ms = 1; /* long past: b is dead */
    cr_assert_eq(coll_save(&ks, &h), 0);
    coll_free(&h);
    commit();
    make_hash(0, "c", 500);
    uint64_t rec0, rd0, rec1, rd1;
    store_filter_stats(S, &rec0, &rd0);
    store_compact_all(S, STORE_CF_ELEM);
    store_filter_stats(S, &rec1, &rd1);
    cr_assert_eq(elem_records(), 2500, "a's second version and c stay, a's first and b go");
    cr_assert_eq(hash_size(0, "a"), 2000);
    cr_assert_eq(hash_size(0, "c"), 500);
    cr_assert_geq(rec1 - rec0, 6500, "every record went through the filter (%llu)",
                  (unsigned long long)(rec1 - rec0));
    /* four versions; a compaction that RocksDB splits may read one again */
    cr_assert_leq(rd1 - rd0, 8, "%llu metadata reads for 4 collection versions",
                  (unsigned long long)(rd1 - rd0));
}

Test(coll, recreated_key_sees_no_former_elements) {
    make_hash(0, "h", 50);
    cr_assert_eq(db_delete(&ks, 0, "h", 1), 1);
    commit();
    make_hash(0, "h", 3);
    cr_assert_eq(hash_size(0, "h"), 3);
    /* across a reopen too: the version high-water mark is persisted */
    close_ks();
    open_ks();
    cr_assert_eq(db_delete(&ks, 0, "h", 1), 1);
    commit();
    make_hash(0, "h", 2);
    cr_assert_eq(hash_size(0, "h"), 2);
}

Test(coll, overwrite_by_string_and_expiry_orphan_the_elements) {
    make_hash(0, "a", 20);
    make_hash(0, "b", 20);
    cr_assert_eq(db_put(&ks, 0, "a", 1, ENC_TYPE_STRING, 0, "x", 1, 1), 0);
    /* b expired in the past: invisible and its elements dead */
    coll h;
    cr_assert_eq(coll_open(&ks, 0, "b", 1, ENC_TYPE_HASH, &h), 1);
    h.expire_ms = 1;
    cr_assert_eq(coll_save(&ks, &h), 0);
    coll_free(&h);
    commit();
    cr_assert_eq(coll_open(&ks, 0, "a", 1, ENC_TYPE_HASH, &h), -1);
    cr_assert_eq(ks.err.code, ST_WRONGTYPE);
    cr_assert(strstr(ks.err.msg, "WRONGTYPE Operation against a key holding the wrong kind of value"));
    coll_free(&h);
    store_compact_all(S, STORE_CF_ELEM);
    cr_assert_eq(elem_records(), 0);
}

Test(coll, flushdb_drops_elements_of_that_db_only) {
    make_hash(1, "h", 30);
    make_hash(2, "h", 7);
    cr_assert_eq(db_flush(&ks, 1), 0);
    commit();
    cr_assert_eq(elem_records(), 7);
    cr_assert_eq(hash_size(2, "h"), 7);
}

Test(coll, clone_copies_under_a_new_version) {
    make_hash(0, "src", 40);
    cr_assert_eq(coll_clone(&ks, 0, "src", 3, ENC_TYPE_HASH, 3, "dst", 3, 0), 0);
    commit();
    cr_assert_eq(hash_size(3, "dst"), 40);
    cr_assert_eq(db_delete(&ks, 0, "src", 3), 1);
    commit();
    store_compact_all(S, STORE_CF_ELEM);
    cr_assert_eq(hash_size(3, "dst"), 40);
    cr_assert_eq(elem_records(), 40);
}

Test(coll, empty_collection_is_deleted) {
    make_hash(0, "h", 1);
    coll h;
    cr_assert_eq(coll_open(&ks, 0, "h", 1, ENC_TYPE_HASH, &h), 1);
    cr_assert_eq(coll_del(&ks, &h, ENC_ELEM_HASH, "f00000", 6), 0);
    h.size--;
    cr_assert_eq(coll_save(&ks, &h), 0);
    coll_free(&h);
    commit();
    cr_assert_eq(db_size(&ks, 0), 0);
    cr_assert_eq(db_exists(&ks, 0, "h", 1), 0);
}

Test(coll, double_encoding_keeps_numeric_order) {
    double v[] = {-INFINITY, -1e300, -2.5, -1, -1e-300, 0, 1e-300, 1, 2.5, 3, 1e300, INFINITY};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        char a[8];
        enc_put_double(a, v[i]);
        cr_assert_eq(enc_get_double(a), v[i]);
        if (i + 1 < n) {
            char b[8];
            enc_put_double(b, v[i + 1]);
            cr_assert_lt(memcmp(a, b, 8), 0, "%g !< %g", v[i], v[i + 1]);
        }
    }
    char z[8], nz[8];
    enc_put_double(z, 0.0);
    enc_put_double(nz, -0.0);
    cr_assert_eq(memcmp(z, nz, 8), 0);
}
