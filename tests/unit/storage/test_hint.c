/* The data CF's memtable insert hints (store_int.h, STORE_HINT_PREFIX) and
 * the range deletions that share the memtable with them: prefix deletes
 * among hinted puts, and a WAL holding a long-begin tombstone (as an older
 * build wrote) replayed by store_open. librocksdb's own assertions are on
 * in Debian's build: a tombstone inserted from a point-list splice aborts
 * or leaves keys that the model says are gone. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "../unit_tmpdir.h"

static char tmpdir[256];

static void mk(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "hint"));
}

static void rm(void) { unit_tmpdir_remove(tmpdir); }

static store *open_store(void) {
    store *s;
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1,
                       .key_cache_bytes = 1u << 20, .value_cache_bytes = 1u << 20, .insert_hints = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&s, &o, &err), 0, "%s", err ? err : "?");
    return s;
}

/* Keys "\0" + one of 4 heads + 4 digits: long shared prefixes, as user
 * keys under a db byte have. */
#define NHEAD 4
#define NKEY 400
static const char HEADS[NHEAD] = {'k', 'u', 't', 'z'};

static size_t key_of(char *k, int head, int i) {
    k[0] = '\0';
    k[1] = HEADS[head];
    return 2 + (size_t)snprintf(k + 2, 16, "%04d", i);
}

static long count_all(store_txn *t) {
    long n = 0;
    store_iter *it = store_iter_new(t, STORE_CF_DATA, NULL, 0, NULL, 0);
    for (; store_iter_valid(it); store_iter_next(it)) n++;
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
    return n;
}

TestSuite(hint, .init = mk, .fini = rm);

Test(hint, prefix_deletes_among_hinted_puts) {
    store *s = open_store();
    store_txn *t = store_txn_new(s);
    static unsigned char live[NHEAD][NKEY];
    memset(live, 0, sizeof live);
    unsigned x = 12345;
    char k[32];
    for (int round = 0; round < 60; round++) {
        for (int j = 0; j < 200; j++) {
            x = x * 1103515245u + 12345u;
            int h = (int)((x >> 8) % NHEAD), i = (int)((x >> 12) % NKEY);
            store_put(t, STORE_CF_DATA, k, key_of(k, h, i), "v", 1);
            live[h][i] = 1;
            if (j % 50 == 49) cr_assert_eq(store_commit(t, NULL), 0);
        }
        /* a prefix delete ("\0" head "0" hundreds), in the same commit as
         * the last puts or not */
        x = x * 1103515245u + 12345u;
        int h = (int)((x >> 8) % NHEAD), c = (int)((x >> 12) % 4);
        char lo[4] = {'\0', HEADS[h], '0', (char)('0' + c)}, hi[4] = {'\0', HEADS[h], '0', (char)('1' + c)};
        store_del_range(t, STORE_CF_DATA, lo, 4, hi, 4);
        for (int i = 0; i < NKEY; i++)
            if (i / 100 == c) live[h][i] = 0;
        if (round % 3 == 0) cr_assert_eq(store_commit(t, NULL), 0);
        if (round % 20 == 19) { /* a whole db, as FLUSHDB: a 1-byte begin stays one tombstone */
            char a = '\0', b = '\1';
            store_del_range(t, STORE_CF_DATA, &a, 1, &b, 1);
            memset(live, 0, sizeof live);
        }
        cr_assert_eq(store_commit(t, NULL), 0);
        long want = 0;
        for (int hh = 0; hh < NHEAD; hh++)
            for (int i = 0; i < NKEY; i++) want += live[hh][i];
        cr_assert_eq(count_all(t), want, "round %d", round);
    }
    /* the same state after a restart: the WAL (or the flushed tables) agrees */
    store_txn_free(t);
    store_close(s);
    s = open_store();
    t = store_txn_new(s);
    long want = 0;
    for (int hh = 0; hh < NHEAD; hh++)
        for (int i = 0; i < NKEY; i++) {
            store_val v;
            int r = store_get(t, STORE_CF_DATA, k, key_of(k, hh, i), &v, NULL);
            store_val_free(&v);
            cr_assert_eq(r, live[hh][i], "%d %d", hh, i);
            want += live[hh][i];
        }
    cr_assert_eq(count_all(t), want);
    store_txn_free(t);
    store_close(s);
}

Test(hint, store_compact_range_with_a_long_begin) {
    store *s = open_store();
    store_txn *t = store_txn_new(s);
    char k[32];
    for (int h = 0; h < NHEAD; h++)
        for (int i = 0; i < 100; i++) store_put(t, STORE_CF_DATA, k, key_of(k, h, i), "v", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    /* heads sort k t u z */
    const char lo[5] = {'\0', 'k', '0', '0', '5'}, hi[5] = {'\0', 'k', '0', '0', '6'}; /* k0050..k0059 */
    cr_assert_eq(store_compact_range(s, STORE_CF_DATA, lo, 5, hi, 5, NULL), 0);
    cr_assert_eq(count_all(t), 400 - 10);
    const char ul[3] = {'\0', 'u', '0'};
    cr_assert_eq(store_compact_range(s, STORE_CF_DATA, ul, 3, NULL, 0, NULL), 0, "to the end: u and z");
    cr_assert_eq(count_all(t), 200 - 10);
    store_txn_free(t);
    store_close(s);
}

/* A WAL as a build without the rule left it after kill -9: puts, a
 * tombstone beginning with 3 bytes among them, puts after it. */
Test(hint, older_wal_with_a_long_begin_tombstone) {
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    const char *names[3] = {"default", "meta", "elem"};
    const rocksdb_options_t *cfo[3] = {o, o, o};
    rocksdb_column_family_handle_t *cf[3];
    char *err = NULL;
    rocksdb_t *db = rocksdb_open_column_families(o, tmpdir, 3, names, cfo, cf, &err);
    cr_assert_null(err, "%s", err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char k[32];
    for (int h = 0; h < NHEAD; h++)
        for (int i = 0; i < 300; i++) {
            size_t kl = key_of(k, h, i);
            rocksdb_put_cf(db, wo, cf[0], k, kl, "v", 1, &err);
            cr_assert_null(err);
        }
    const char lo[4] = {'\0', 'u', '0', '0'}, hi[4] = {'\0', 'u', '0', '1'}; /* u0000..u0099 */
    rocksdb_delete_range_cf(db, wo, cf[0], lo, 4, hi, 4, &err);
    cr_assert_null(err);
    for (int i = 0; i < 50; i++) { /* half of them back, after the tombstone */
        size_t kl = key_of(k, 1, i);
        rocksdb_put_cf(db, wo, cf[0], k, kl, "w", 1, &err);
        cr_assert_null(err);
    }
    rocksdb_writeoptions_destroy(wo);
    for (int i = 0; i < 3; i++) rocksdb_column_family_handle_destroy(cf[i]);
    rocksdb_close(db); /* with the WAL on, close leaves the memtables to it */
    rocksdb_options_destroy(o);

    store *s = open_store();
    store_txn *t = store_txn_new(s);
    for (int h = 0; h < NHEAD; h++)
        for (int i = 0; i < 300; i++) {
            store_val v;
            int r = store_get(t, STORE_CF_DATA, k, key_of(k, h, i), &v, NULL);
            int want = !(h == 1 && i >= 50 && i < 100);
            cr_assert_eq(r, want, "head %d key %d", h, i);
            if (r == 1) cr_assert_eq(v.ptr[0], h == 1 && i < 50 ? 'w' : 'v');
            store_val_free(&v);
        }
    /* new puts and prefix deletes on top of the replayed state */
    for (int i = 0; i < 300; i++) store_put(t, STORE_CF_DATA, k, key_of(k, 0, i), "x", 1);
    const char zl[4] = {'\0', 'z', '0', '0'}, zh[4] = {'\0', 'z', '0', '1'}; /* z0000..z0099 */
    store_del_range(t, STORE_CF_DATA, zl, 4, zh, 4);
    cr_assert_eq(store_commit(t, NULL), 0);
    cr_assert_eq(count_all(t), 4 * 300 - 50 - 100);
    store_txn_free(t);
    store_close(s);
}
