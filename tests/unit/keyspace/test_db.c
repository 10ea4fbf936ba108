/* Unit tests for server/keyspace/db.c on a temporary RocksDB store, with no
 * server and no socket: values and their headers, expiry visibility, key
 * counts through ks_commit and ks_mark_rollback (and across a reopen),
 * prefix deletion, iteration, the expiry sweeper, SWAPDB's map and the
 * write guard's registry. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "../unit_leak.h"
#include "../unit_tmpdir.h"

/* ---- fixture: a store in a mkdtemp dir, a keyspace on it ----------------- */

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
    S = NULL;
}

static void reopen(void) {
    close_ks();
    open_ks();
}

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "ks"));
    open_ks();
}

static void teardown(void) {
    close_ks();
    unit_tmpdir_remove(tmpdir);
    unit_leak_check();
}

TestSuite(db, .init = setup, .fini = teardown);
TestSuite(counts, .init = setup, .fini = teardown);
TestSuite(expiry, .init = setup, .fini = teardown);
TestSuite(iter, .init = setup, .fini = teardown);
TestSuite(guard, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

#define PUT(db, k, v) put_at(__LINE__, (db), (k), (v), 0, -1)
#define PUTX(db, k, v, exp) put_at(__LINE__, (db), (k), (v), (exp), -1)
static void put_at(int line, int db, const char *k, const char *v, int64_t expire, int existed) {
    int r = db_put(&ks, db, k, strlen(k), ENC_TYPE_STRING, expire, v, strlen(v), existed);
    cr_assert_eq(r, 0, "line %d: db_put %s: %s", line, k, ks.err.msg);
}

static void commit(void) { cr_assert_eq(ks_commit(&ks), 0, "ks_commit: %s", ks.err.msg); }

/* The live value of k as a NUL-terminated copy, NULL when absent. */
static char *get(int db, const char *k) {
    db_value v;
    int r = db_lookup(&ks, db, k, strlen(k), &v);
    cr_assert(r >= 0, "db_lookup %s: %s", k, ks.err.msg);
    if (r == 0) return NULL;
    char *s = strndup(v.v.payload, v.v.len);
    db_value_free(&v);
    return s;
}

#define EXPECT_GET(db, k, want) expect_get_at(__LINE__, (db), (k), (want))
static void expect_get_at(int line, int db, const char *k, const char *want) {
    char *got = get(db, k);
    if (!want) cr_expect_null(got, "line %d: %s = '%s', expected absent", line, k, got);
    else if (!got) cr_expect_fail("line %d: %s absent, expected '%s'", line, k, want);
    else cr_expect_str_eq(got, want, "line %d: %s", line, k);
    free(got);
}

/* db_iter's keys of db under prefix, joined with ',' (caller frees). */
static char *keys_of(int db, const char *prefix) {
    db_iter it;
    db_iter_open(&it, &ks, db, prefix, strlen(prefix));
    char *out = calloc(1, 1);
    size_t len = 0;
    const char *k;
    size_t kl;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &k, &kl, &v)) == 1) {
        out = realloc(out, len + kl + 2);
        if (len) out[len++] = ',';
        memcpy(out + len, k, kl);
        len += kl;
        out[len] = 0;
    }
    cr_expect_eq(r, 0, "db_iter_next ended with %d", r);
    db_iter_close(&it);
    return out;
}

#define EXPECT_KEYS(db, prefix, want)                                          \
    do {                                                                       \
        char *got_ = keys_of((db), (prefix));                                  \
        cr_expect_str_eq(got_, (want), "keys of db %d under '%s'", (db), (prefix)); \
        free(got_);                                                            \
    } while (0)

static int64_t past(void) { return (int64_t)now_ms() - 1000; }
static int64_t future(void) { return (int64_t)now_ms() + 3600 * 1000; }

/* ---- values --------------------------------------------------------------- */

Test(db, put_lookup_delete) {
    cr_expect(ks_idle(&ks));
    EXPECT_GET(0, "k", NULL);
    PUT(0, "k", "v1");
    cr_expect(!ks_idle(&ks));
    EXPECT_GET(0, "k", "v1"); /* the command sees its own pending write */
    commit();
    cr_expect(ks_idle(&ks));
    EXPECT_GET(0, "k", "v1");
    cr_expect_eq(db_exists(&ks, 0, "k", 1), 1);
    cr_expect_eq(db_exists(&ks, 1, "k", 1), 0, "databases are apart");
    PUT(0, "k", "v2");
    EXPECT_GET(0, "k", "v2");
    cr_expect_eq(db_delete(&ks, 0, "k", 1), 1);
    cr_expect_eq(db_delete(&ks, 0, "k", 1), 0);
    EXPECT_GET(0, "k", NULL);
    commit();
    EXPECT_GET(0, "k", NULL);
    cr_expect_eq(db_size(&ks, 0), 0);
}

Test(db, binary_and_long_keys) {
    /* a key past the 256-byte stack buffer, and NUL bytes in key and value */
    char big[1000];
    memset(big, 'k', sizeof big);
    cr_assert_eq(db_put(&ks, 3, big, sizeof big, ENC_TYPE_STRING, 0, "a\0b", 3, -1), 0);
    cr_assert_eq(db_put(&ks, 3, "n\0l", 3, ENC_TYPE_STRING, 0, "", 0, -1), 0);
    commit();
    db_value v;
    cr_assert_eq(db_lookup(&ks, 3, big, sizeof big, &v), 1);
    cr_expect_eq(v.v.len, 3);
    cr_expect_eq(memcmp(v.v.payload, "a\0b", 3), 0);
    cr_expect_eq(v.v.type, ENC_TYPE_STRING);
    cr_expect_eq(v.v.expire_ms, 0);
    db_value_free(&v);
    cr_assert_eq(db_lookup(&ks, 3, "n\0l", 3, &v), 1);
    cr_expect_eq(v.v.len, 0);
    db_value_free(&v);
    cr_expect_eq(db_exists(&ks, 3, "n", 1), 0, "the key is all 3 bytes");
    cr_expect_eq(db_size(&ks, 3), 2);
    cr_expect_eq(db_delete(&ks, 3, big, sizeof big), 1);
    commit();
    cr_expect_eq(db_size(&ks, 3), 1);
}

Test(db, lookup_string_wrongtype) {
    cr_assert_eq(db_put(&ks, 0, "h", 1, 1 /* reserved: hash */, 0, "x", 1, -1), 0);
    PUT(0, "s", "x");
    db_value v;
    resp_slice h = {"h", 1}, s = {"s", 1}, none = {"none", 4};
    st_clear(&ks.err);
    cr_expect_eq(db_lookup_string(&ks, 0, &h, &v), -1);
    cr_expect_eq(ks.err.code, ST_WRONGTYPE);
    cr_expect_str_eq(ks.err.msg, "WRONGTYPE Operation against a key holding the wrong kind of value");
    cr_expect_eq(db_lookup_string(&ks, 0, &s, &v), 1);
    db_value_free(&v);
    cr_expect_eq(db_lookup_string(&ks, 0, &none, &v), 0);
}

Test(db, hits_and_misses) {
    PUT(0, "k", "v");
    uint64_t h = ks.hits, m = ks.misses;
    free(get(0, "k"));
    free(get(0, "nope"));
    free(get(0, "nope"));
    cr_expect_eq(ks.hits - h, 1);
    cr_expect_eq(ks.misses - m, 2);
}

Test(db, string_edit) {
    PUTX(0, "s", "abc", future());
    db_value v;
    int found = db_lookup(&ks, 0, "s", 1, &v);
    cr_assert_eq(found, 1);
    int64_t exp = 0, want_exp = v.v.expire_ms;
    char *buf = db_string_edit(&ks, &v, found, 6, &exp);
    cr_assert_not_null(buf);
    cr_expect_eq(memcmp(buf, "abc\0\0\0", 6), 0, "old bytes, zero padded");
    cr_expect_eq(exp, want_exp, "the TTL is handed back");
    free(buf);
    /* absent key: zeroed buffer, no TTL */
    found = db_lookup(&ks, 0, "none", 4, &v);
    cr_assert_eq(found, 0);
    buf = db_string_edit(&ks, &v, found, 2, &exp);
    cr_assert_not_null(buf);
    cr_expect_eq(memcmp(buf, "\0\0", 2), 0);
    cr_expect_eq(exp, 0);
    free(buf);
}

/* ---- key counts --------------------------------------------------------- */

Test(counts, follow_puts_and_deletes) {
    PUT(0, "a", "1");
    PUT(0, "b", "1");
    PUT(0, "a", "2"); /* overwrite: checked by db_put (existed -1) */
    PUT(5, "x", "1");
    cr_expect_eq(db_size(&ks, 0), 2, "pending writes are counted");
    cr_expect_eq(db_size(&ks, 5), 1);
    commit();
    cr_expect_eq(db_size(&ks, 0), 2);
    cr_expect_eq(db_size(&ks, 5), 1);
    cr_expect_eq(db_delete(&ks, 0, "a", 1), 1);
    cr_expect_eq(db_delete(&ks, 0, "missing", 7), 0);
    cr_expect_eq(db_size(&ks, 0), 1);
    commit();
    cr_expect_eq(db_size(&ks, 0), 1);
    for (int db = 0; db < DB_COUNT; db++)
        if (db != 0 && db != 5) cr_expect_eq(db_size(&ks, db), 0, "db %d", db);
}

Test(counts, caller_knows_existed) {
    put_at(__LINE__, 0, "a", "1", 0, 0);
    put_at(__LINE__, 0, "a", "2", 0, 1);
    commit();
    cr_expect_eq(db_size(&ks, 0), 1);
}

Test(counts, persisted_across_reopen) {
    for (int i = 0; i < 10; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        PUT(0, k, "v");
        if (i < 3) PUT(7, k, "v");
    }
    commit();
    cr_expect_eq(db_delete(&ks, 0, "k0", 2), 1);
    commit();
    reopen();
    cr_expect_eq(db_size(&ks, 0), 9);
    cr_expect_eq(db_size(&ks, 7), 3);
    cr_expect_eq(db_size(&ks, 1), 0);
    EXPECT_GET(7, "k2", "v");
    /* writes never committed are not on disk and not counted */
    PUT(0, "pending", "v");
    reopen();
    cr_expect_eq(db_size(&ks, 0), 9);
    EXPECT_GET(0, "pending", NULL);
}

Test(counts, rollback_to_an_empty_batch) {
    PUT(0, "kept", "v");
    commit();
    ks_mark m;
    ks_mark_begin(&ks, &m);
    PUT(0, "a", "1");
    PUT(2, "b", "1");
    cr_expect_eq(db_delete(&ks, 0, "kept", 4), 1);
    cr_expect_eq(db_size(&ks, 0), 1);
    cr_expect_eq(db_size(&ks, 2), 1);
    ks_mark_rollback(&ks, &m);
    cr_expect(ks_idle(&ks), "nothing pending after the rollback");
    cr_expect_eq(db_size(&ks, 0), 1);
    cr_expect_eq(db_size(&ks, 2), 0);
    EXPECT_GET(0, "a", NULL);
    EXPECT_GET(0, "kept", "v");
    commit();
    reopen();
    cr_expect_eq(db_size(&ks, 0), 1);
    cr_expect_eq(db_size(&ks, 2), 0);
    EXPECT_GET(0, "kept", "v");
}

Test(counts, rollback_keeps_earlier_commands_of_the_batch) {
    /* group commit: an earlier command's writes are in the batch */
    PUT(0, "first", "1");
    ks_mark m;
    ks_mark_begin(&ks, &m);
    PUT(0, "second", "2");
    cr_expect_eq(db_delete(&ks, 0, "first", 5), 1);
    cr_expect_eq(db_size(&ks, 0), 1);
    ks_mark_rollback(&ks, &m);
    EXPECT_GET(0, "first", "1");
    EXPECT_GET(0, "second", NULL);
    cr_expect_eq(db_size(&ks, 0), 1);
    cr_expect(!ks_idle(&ks));
    /* a second unit after the rollback, kept */
    ks_mark_begin(&ks, &m);
    PUT(0, "third", "3");
    commit();
    reopen();
    EXPECT_GET(0, "first", "1");
    EXPECT_GET(0, "second", NULL);
    EXPECT_GET(0, "third", "3");
    cr_expect_eq(db_size(&ks, 0), 2);
}

Test(counts, rollback_with_nothing_written) {
    PUT(0, "first", "1");
    ks_mark m;
    ks_mark_begin(&ks, &m);
    ks_mark_rollback(&ks, &m);
    EXPECT_GET(0, "first", "1");
    cr_expect_eq(db_size(&ks, 0), 1);
    /* a later unit rolls back to its own mark, not to the empty one */
    ks_mark m2;
    ks_mark_begin(&ks, &m2);
    PUT(0, "second", "2");
    ks_mark_rollback(&ks, &m2);
    EXPECT_GET(0, "first", "1");
    EXPECT_GET(0, "second", NULL);
    commit();
    cr_expect_eq(db_size(&ks, 0), 1);
}

Test(counts, flush_and_delete_prefix) {
    PUT(4, "a:1", "v");
    PUT(4, "a:2", "v");
    PUT(4, "ab", "v");
    PUT(4, "b", "v");
    PUT(0, "a:1", "v");
    commit();
    cr_expect_eq(db_delete_prefix(&ks, 4, "a:", 2), 2);
    cr_expect_eq(db_size(&ks, 4), 2);
    EXPECT_GET(4, "a:1", NULL); /* the range deletion is visible before commit */
    commit();
    EXPECT_KEYS(4, "", "ab,b");
    EXPECT_GET(0, "a:1", "v");
    cr_expect_eq(db_delete_prefix(&ks, 4, "zzz", 3), 0);
    cr_expect_eq(db_flush(&ks, 4), 0);
    cr_expect_eq(db_size(&ks, 4), 0);
    commit();
    EXPECT_KEYS(4, "", "");
    cr_expect_eq(db_size(&ks, 0), 1, "other databases untouched");
    reopen();
    cr_expect_eq(db_size(&ks, 4), 0);
    cr_expect_eq(db_size(&ks, 0), 1);
}

Test(counts, delete_prefix_of_ff_bytes) {
    PUT(0, "\xff\xff" "a", "v");
    PUT(0, "\xff\xff", "v");
    PUT(0, "\xfe", "v");
    commit();
    cr_expect_eq(db_delete_prefix(&ks, 0, "\xff\xff", 2), 2);
    commit();
    cr_expect_eq(db_size(&ks, 0), 1);
    EXPECT_GET(0, "\xfe", "v");
    /* the next database is not reached by the end of the range */
    PUT(1, "\xff", "v");
    commit();
    cr_expect_eq(db_delete_prefix(&ks, 0, "\xff", 1), 0);
    commit();
    EXPECT_GET(1, "\xff", "v");
}

Test(counts, swapdb_map_persisted) {
    PUT(1, "a", "in1");
    commit();
    db_swap(&ks, 1, 2);
    commit();
    EXPECT_GET(2, "a", "in1");
    EXPECT_GET(1, "a", NULL);
    cr_expect_eq(db_size(&ks, 2), 1);
    cr_expect_eq(db_size(&ks, 1), 0);
    cr_expect_eq(db_phys(&ks, 2), 1);
    reopen();
    EXPECT_GET(2, "a", "in1");
    cr_expect_eq(db_size(&ks, 2), 1);
    /* db_unswap undoes the in-memory swap of a failed command */
    db_swap(&ks, 2, 3);
    db_unswap(&ks, 2, 3);
    ks_mark m = {0};
    ks_mark_rollback(&ks, &m);
    EXPECT_GET(2, "a", "in1");
}

/* ---- expiry ---------------------------------------------------------------- */

Test(expiry, due_keys_are_invisible) {
    PUTX(0, "old", "v", past());
    PUTX(0, "new", "v", future());
    PUT(0, "plain", "v");
    commit();
    db_value v;
    cr_expect_eq(db_lookup(&ks, 0, "old", 3, &v), 0);
    cr_expect_eq(v.present, 1, "stored though expired (for the key count)");
    cr_expect_eq(db_exists(&ks, 0, "old", 3), 0);
    cr_expect_eq(db_lookup(&ks, 0, "new", 3, &v), 1);
    cr_expect_gt(v.v.expire_ms, (int64_t)now_ms());
    db_value_free(&v);
    EXPECT_KEYS(0, "", "new,plain");
    /* the count holds the stored key until it is removed */
    cr_expect_eq(db_size(&ks, 0), 3);
    /* deleting a due key: not reported as deleted, but uncounted */
    cr_expect_eq(db_delete(&ks, 0, "old", 3), 0);
    cr_expect_eq(db_size(&ks, 0), 2);
    commit();
}

Test(expiry, overwrite_of_a_due_key_is_not_counted_twice) {
    PUTX(0, "k", "old", past());
    commit();
    PUT(0, "k", "new"); /* existed -1: the stored entry is found */
    commit();
    cr_expect_eq(db_size(&ks, 0), 1);
    EXPECT_GET(0, "k", "new");
    cr_expect_eq(db_expire_sweep(&ks, now_ms(), -1), 0, "the stale index entry removes nothing");
    cr_expect_eq(db_size(&ks, 0), 1);
    EXPECT_GET(0, "k", "new");
}

Test(expiry, delete_prefix_reports_live_keys_only) {
    PUTX(0, "p:old", "v", past());
    PUT(0, "p:live", "v");
    commit();
    cr_expect_eq(db_delete_prefix(&ks, 0, "p:", 2), 1);
    cr_expect_eq(db_size(&ks, 0), 0, "both stored keys uncounted");
    commit();
}

Test(expiry, sweep_removes_due_keys) {
    int64_t now = (int64_t)now_ms();
    for (int i = 0; i < 600; i++) { /* more than one sweeper chunk (256) */
        char k[16];
        snprintf(k, sizeof k, "due%d", i);
        PUTX(i % 2, k, "v", now - 10 - i);
    }
    PUTX(0, "later", "v", now + 3600 * 1000);
    PUT(0, "plain", "v");
    commit();
    cr_expect_eq(db_size(&ks, 0), 302);
    cr_expect_eq(db_size(&ks, 1), 300);
    uint64_t expired = ks.expired;
    /* at most max keys */
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now, 100), 100);
    cr_expect(ks_idle(&ks), "the sweeper commits its own batch");
    cr_expect_eq(db_size(&ks, 0) + db_size(&ks, 1), 502);
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now, -1), 500);
    cr_expect_eq(ks.expired - expired, 600);
    cr_expect_eq(db_size(&ks, 0), 2);
    cr_expect_eq(db_size(&ks, 1), 0);
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now, -1), 0);
    EXPECT_GET(0, "later", "v");
    EXPECT_GET(0, "plain", "v");
    reopen();
    cr_expect_eq(db_size(&ks, 0), 2, "swept counts persisted");
    cr_expect_eq(db_size(&ks, 1), 0);
    /* the key that is due later goes when its time comes */
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now + 7200 * 1000, -1), 1);
    cr_expect_eq(db_size(&ks, 0), 1);
}

Test(expiry, sweep_skips_keys_given_a_new_expiry) {
    int64_t now = (int64_t)now_ms();
    PUTX(0, "moved", "v", now - 10);
    PUTX(0, "persisted", "v", now - 10);
    commit();
    /* rewritten with a later expiry / none: the old index entries are stale */
    PUTX(0, "moved", "v2", now + 3600 * 1000);
    PUT(0, "persisted", "v2");
    commit();
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now, -1), 0);
    cr_expect_eq(db_size(&ks, 0), 2);
    EXPECT_GET(0, "moved", "v2");
    EXPECT_GET(0, "persisted", "v2");
}

Test(expiry, sweep_after_swapdb_uses_physical_dbs) {
    int64_t now = (int64_t)now_ms();
    PUTX(1, "due", "v", now - 10);
    PUT(1, "stay", "v");
    commit();
    db_swap(&ks, 1, 2);
    commit();
    cr_expect_eq(db_size(&ks, 2), 2);
    cr_expect_eq(db_expire_sweep(&ks, (uint64_t)now, -1), 1);
    cr_expect_eq(db_size(&ks, 2), 1);
    cr_expect_eq(db_size(&ks, 1), 0);
    EXPECT_GET(2, "stay", "v");
}

/* ---- iteration -------------------------------------------------------------- */

Test(iter, prefix_order_and_databases) {
    PUT(0, "user:2", "v");
    PUT(0, "user:10", "v");
    PUT(0, "user:1", "v");
    PUT(0, "users", "v");
    PUT(0, "use", "v");
    PUT(1, "user:9", "v");
    commit();
    EXPECT_KEYS(0, "user:", "user:1,user:10,user:2");
    EXPECT_KEYS(0, "user", "user:1,user:10,user:2,users");
    EXPECT_KEYS(0, "", "use,user:1,user:10,user:2,users");
    EXPECT_KEYS(1, "", "user:9");
    EXPECT_KEYS(2, "", "");
    EXPECT_KEYS(0, "zzz", "");
}

Test(iter, sees_pending_writes) {
    PUT(0, "a", "v");
    PUT(0, "c", "v");
    commit();
    PUT(0, "b", "v");
    cr_expect_eq(db_delete(&ks, 0, "c", 1), 1);
    EXPECT_KEYS(0, "", "a,b");
    ks_mark m = {0};
    ks_mark_rollback(&ks, &m);
    EXPECT_KEYS(0, "", "a,c");
}

Test(iter, seek) {
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int i = 0; i < 4; i++) PUT(0, keys[i], "v");
    PUTX(0, "k3a", "v", past());
    commit();
    db_iter it;
    const char *k;
    size_t kl;
    enc_value v;
    db_iter_open(&it, &ks, 0, "k", 1);
    db_iter_seek(&it, "k2", 2, 0);
    cr_assert_eq(db_iter_next(&it, &k, &kl, &v), 1);
    cr_expect_eq(kl, 2);
    cr_expect_eq(memcmp(k, "k2", 2), 0, "seek: first key >= k2");
    db_iter_seek(&it, "k3", 2, 1);
    cr_assert_eq(db_iter_next(&it, &k, &kl, &v), 1);
    cr_expect_eq(memcmp(k, "k4", kl), 0, "seek after k3: the due k3a is skipped, got %.*s", (int)kl, k);
    cr_expect_eq(db_iter_next(&it, &k, &kl, &v), 0);
    db_iter_seek(&it, "k0", 2, 1);
    cr_assert_eq(db_iter_next(&it, &k, &kl, &v), 1);
    cr_expect_eq(memcmp(k, "k1", 2), 0);
    db_iter_close(&it);
}

Test(iter, long_prefix) {
    char p[600];
    memset(p, 'p', sizeof p - 1);
    p[sizeof p - 1] = 0;
    char k[700];
    snprintf(k, sizeof k, "%s:1", p);
    PUT(0, k, "v");
    PUT(0, "p", "v");
    commit();
    char *got = keys_of(0, p);
    cr_expect_str_eq(got, k);
    free(got);
}

/* ---- the write guard ---------------------------------------------------------- */

Test(guard, registry_and_ranges) {
    ks_guard_register(&ks, "user:");
    ks_guard_register(&ks, "coins:");
    cr_expect(db_owned(&ks, 0, "user:1", 6, 0));
    cr_expect(db_owned(&ks, 0, "user:", 5, 0));
    cr_expect(db_owned(&ks, 0, "coins:x", 7, 0));
    cr_expect(!db_owned(&ks, 0, "user", 4, 0));
    cr_expect(!db_owned(&ks, 0, "users:1", 7, 0));
    cr_expect(!db_owned(&ks, 0, "other", 5, 0));
    cr_expect(!db_owned(&ks, 1, "user:1", 6, 0), "only database 0 is guarded");
    /* a prefix argument: owned when the ranges overlap */
    cr_expect(db_owned(&ks, 0, "us", 2, 1));
    cr_expect(db_owned(&ks, 0, "", 0, 1), "the empty prefix covers everything");
    cr_expect(db_owned(&ks, 0, "user:1", 6, 1));
    cr_expect(!db_owned(&ks, 0, "usr", 3, 1));
    cr_expect(!db_owned(&ks, 0, "us", 2, 0), "the same bytes as a key");
    cr_expect(!db_owned(&ks, 3, "us", 2, 1));
}

/* db_owned against the plain definition (k starts with a guarded prefix,
 * or, for a prefix argument, the two ranges overlap) over keys and
 * prefixes around every guarded one: shorter, longer, one byte changed,
 * first bytes shared with other prefixes and bytes over 127. */
static int owned_ref(const char *const *g, int ng, const char *k, size_t kl, int is_prefix) {
    for (int i = 0; i < ng; i++) {
        size_t ol = strlen(g[i]), n = kl < ol ? kl : ol;
        if (memcmp(k, g[i], n) == 0 && (kl >= ol || is_prefix)) return 1;
    }
    return 0;
}

Test(guard, owned_agrees_with_its_definition) {
    static const char *const g[] = {"conversations:", "coins:", "c", "mconv:", "\xc3\xa9t\xc3\xa9:", "user:", "users2:"};
    int ng = (int)(sizeof g / sizeof *g);
    cr_expect_not(db_owned(&ks, 0, "", 0, 1), "nothing registered: nothing owned");
    for (int i = 0; i < ng; i++) ks_guard_register(&ks, g[i]);
    const char *const extra[] = {"", "x", ":", "1", "\xff"};
    int checked = 0;
    for (int i = 0; i < ng; i++) {
        size_t ol = strlen(g[i]);
        for (size_t cut = 0; cut <= ol; cut++) {
            for (size_t e = 0; e < sizeof extra / sizeof *extra; e++) {
                for (int flip = -1; flip < (int)cut; flip++) {
                    char k[64];
                    memcpy(k, g[i], cut);
                    size_t xl = strlen(extra[e]);
                    memcpy(k + cut, extra[e], xl);
                    size_t kl = cut + xl;
                    if (flip >= 0) k[flip] ^= 0x01;
                    for (int p = 0; p < 2; p++) {
                        cr_assert_eq(db_owned(&ks, 0, k, kl, p), owned_ref(g, ng, k, kl, p), "'%.*s' prefix %d",
                                     (int)kl, k, p);
                        cr_assert_eq(db_owned(&ks, 2, k, kl, p), 0);
                        checked++;
                    }
                }
            }
        }
    }
    cr_expect_gt(checked, 1000);
    cr_expect(db_owned(&ks, 0, "c", 1, 0), "a one-byte guarded prefix");
    cr_expect(db_owned(&ks, 0, "counter:1", 9, 0), "inside the one-byte prefix");
    cr_expect_not(db_owned(&ks, 0, "key:1", 5, 0));
}

Test(guard, has_owned) {
    ks_guard_register(&ks, "user:");
    cr_expect_eq(db_has_owned(&ks, 0), 0);
    PUT(0, "plain", "v");
    PUT(0, "user", "v");
    PUTX(0, "user:old", "v", past());
    commit();
    cr_expect_eq(db_has_owned(&ks, 0), 0, "an expired owned key does not count");
    PUT(1, "user:1", "v");
    commit();
    cr_expect_eq(db_has_owned(&ks, 1), 1, "any database (FLUSHDB/SWAPDB/MOVE)");
    cr_expect_eq(db_has_owned(&ks, 0), 0);
    PUT(0, "user:1", "v");
    commit();
    cr_expect_eq(db_has_owned(&ks, 0), 1);
}

Test(guard, no_registry_no_owner) {
    cr_expect(!db_owned(&ks, 0, "user:1", 6, 0));
    cr_expect(!db_owned(&ks, 0, "", 0, 1));
    PUT(0, "user:1", "v");
    commit();
    cr_expect_eq(db_has_owned(&ks, 0), 0);
}

/* An enclosing mark rolls back past marks kept inside it (each rollback
 * pops one savepoint: ks_mark_rollback pops until the batch is back). */
Test(counts, nested_marks) {
    PUT(0, "a", "1");
    ks_mark outer, inner;
    ks_mark_begin(&ks, &outer);
    PUT(0, "b", "1");
    ks_mark_begin(&ks, &inner);
    PUT(0, "c", "1"); /* the inner unit keeps its write */
    ks_mark_rollback(&ks, &outer);
    EXPECT_GET(0, "a", "1");
    EXPECT_GET(0, "b", NULL);
    EXPECT_GET(0, "c", NULL);
    cr_expect_eq(db_size(&ks, 0), 1);
}
