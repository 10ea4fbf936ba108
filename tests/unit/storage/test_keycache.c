/* The key cache on its own, and store_exists against store_get: the cache
 * must never give an answer the store would not. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keycache.h"
#include "store.h"

static int has(keycache *c, const char *k) { return keycache_get(c, keycache_hash(k, strlen(k)), k, strlen(k)); }
static void set(keycache *c, const char *k, int present) {
    keycache_set(c, keycache_hash(k, strlen(k)), k, strlen(k), present);
}

Test(keycache, off_when_zero_bytes) { cr_assert_null(keycache_new(0)); }

Test(keycache, remembers_present_and_absent) {
    keycache *c = keycache_new(1 << 16);
    cr_assert_eq(keycache_slots(c), (1 << 16) / KEYCACHE_SLOT_BYTES);
    cr_assert_eq(has(c, "a"), -1);
    set(c, "a", 1);
    set(c, "b", 0);
    cr_assert_eq(has(c, "a"), 1);
    cr_assert_eq(has(c, "b"), 0);
    set(c, "a", 0);
    cr_assert_eq(has(c, "a"), 0);
    cr_assert_eq(has(c, ""), -1);
    set(c, "", 1);
    cr_assert_eq(has(c, ""), 1);
    keycache_free(c);
}

Test(keycache, long_keys_are_never_cached) {
    keycache *c = keycache_new(1 << 16);
    char k[KEYCACHE_MAX_KEY + 2];
    memset(k, 'k', sizeof k - 1);
    k[sizeof k - 1] = '\0';
    set(c, k, 1);
    cr_assert_eq(has(c, k), -1);
    k[KEYCACHE_MAX_KEY] = '\0'; /* exactly the limit */
    set(c, k, 1);
    cr_assert_eq(has(c, k), 1);
    keycache_free(c);
}

Test(keycache, clear_forgets_even_after_the_generation_wraps) {
    keycache *c = keycache_new(1 << 12);
    for (int round = 0; round < 600; round++) {
        set(c, "x", 1);
        cr_assert_eq(has(c, "x"), 1);
        keycache_clear(c);
        cr_assert_eq(has(c, "x"), -1, "round %d", round);
    }
    keycache_free(c);
}

/* A one-set cache holds four keys; the others are forgotten, never wrong. */
Test(keycache, a_full_set_evicts_and_stays_exact) {
    keycache *c = keycache_new(4 * KEYCACHE_SLOT_BYTES);
    cr_assert_eq(keycache_slots(c), 4);
    char k[16];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        set(c, k, i % 2);
    }
    int cached = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        int r = has(c, k);
        if (r >= 0) {
            cached++;
            cr_assert_eq(r, i % 2, "%s", k);
        }
    }
    cr_assert_eq(cached, 4);
    keycache_free(c);
}

/* ---- store_exists against store_get --------------------------------------- */

static char tmpdir[64];
static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static store *open_store(size_t kc_bytes) {
    strcpy(tmpdir, "/tmp/stagekv-kc-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1,
                       .key_cache_bytes = kc_bytes};
    store *s = NULL;
    char *err = NULL;
    cr_assert_eq(store_open(&s, &o, &err), 0, "%s", err ? err : "?");
    return s;
}
static void close_store(store *s) {
    store_close(s);
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int via_get(store_txn *t, const char *k, size_t kl) {
    store_val v;
    int r = store_get(t, STORE_CF_DATA, k, kl, &v, NULL);
    cr_assert_geq(r, 0);
    store_val_free(&v);
    return r;
}

#define NKEYS 48
static void key_of(int i, char *k, size_t *kl) {
    /* a few keys are too long for the cache, so both paths are exercised */
    if (i % 7 == 0) *kl = (size_t)snprintf(k, 64, "long-key-beyond-the-cache-limit-%03d", i);
    else *kl = (size_t)snprintf(k, 64, "k%03d", i);
}

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

/* Random writes, deletes, range deletes, savepoints, rollbacks, commits,
 * clears, out-of-txn range deletions and undos through two txns; after each
 * step every key's existence must read the same through both calls. A tiny
 * cache (two sets) forces evictions. */
Test(keycache, store_exists_agrees_with_store_get) {
    store *s = open_store(8 * KEYCACHE_SLOT_BYTES);
    store_set_undo(s, 1);
    store_txn *tx[2] = {store_txn_new(s), store_txn_new(s)};
    char k[64], e[64];
    size_t kl, el;
    for (int step = 0; step < 30000; step++) {
        store_txn *t = tx[rnd(2)];
        unsigned op = rnd(100);
        key_of((int)rnd(NKEYS), k, &kl);
        if (op < 35) {
            store_put(t, STORE_CF_DATA, k, kl, "v", 1);
        } else if (op < 55) {
            store_del(t, STORE_CF_DATA, k, kl);
        } else if (op < 58) {
            key_of((int)rnd(NKEYS), e, &el);
            store_del_range(t, STORE_CF_DATA, k, kl, e, el);
        } else if (op < 63) {
            store_txn_savepoint(t);
        } else if (op < 68) {
            store_txn_rollback_to_savepoint(t);
        } else if (op < 85) {
            char *err = NULL;
            cr_assert_eq(store_commit(t, &err), 0, "%s", err ? err : "?");
        } else if (op < 88) {
            store_txn_clear(t);
        } else if (op < 89) {
            key_of((int)rnd(NKEYS), e, &el);
            cr_assert_eq(store_compact_range(s, STORE_CF_DATA, k, kl, e, el, NULL), 0);
        } else if (op < 91) {
            cr_assert_eq(store_undo_unflushed(s, NULL), 0);
        } else if (op < 93) {
            cr_assert_eq(store_flush_wal(s, 0, NULL), 0);
            store_undo_forget(s);
        }
        /* else: only check */
        for (int c = 0; c < 4; c++) {
            store_txn *q = tx[rnd(2)];
            key_of((int)rnd(NKEYS), k, &kl);
            int want = via_get(q, k, kl);
            int got = store_exists(q, STORE_CF_DATA, k, kl, NULL);
            cr_assert_eq(got, want, "step %d: %.*s exists %d, store_get %d", step, (int)kl, k, got, want);
        }
    }
    uint64_t slots, hits, misses;
    store_key_cache_stats(s, &slots, &hits, &misses);
    cr_assert_eq(slots, 8);
    cr_assert_gt(hits, 1000, "the cache answered %llu times", (unsigned long long)hits);
    cr_assert_gt(misses, 100);
    store_txn_free(tx[0]);
    store_txn_free(tx[1]);
    close_store(s);
}

Test(keycache, off_means_no_cache_and_the_same_answers) {
    store *s = open_store(0);
    store_txn *t = store_txn_new(s);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "a", 1, NULL), 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "a", 1, NULL), 1);
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "b", 1, NULL), 0);
    uint64_t slots, hits, misses;
    store_key_cache_stats(s, &slots, &hits, &misses);
    cr_assert_eq(slots + hits + misses, 0);
    store_txn_free(t);
    close_store(s);
}

/* The cache starts empty at every open: what a restart finds is read. */
Test(keycache, a_reopened_store_reads_its_keys_again) {
    store *s = open_store(1 << 16);
    store_txn *t = store_txn_new(s);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_txn_free(t);
    store_close(s);
    store_options o = {.dir = tmpdir, .create_if_missing = 1, .key_cache_bytes = 1 << 16};
    cr_assert_eq(store_open(&s, &o, NULL), 0);
    t = store_txn_new(s);
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "a", 1, NULL), 1);
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "a", 1, NULL), 1);
    uint64_t slots, hits, misses;
    store_key_cache_stats(s, &slots, &hits, &misses);
    cr_assert_eq(hits, 1);
    cr_assert_eq(misses, 1);
    store_txn_free(t);
    close_store(s);
}
