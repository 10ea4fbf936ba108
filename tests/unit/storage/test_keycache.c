/* The key cache on its own, and store_exists against store_get: the cache
 * must never give an answer the store would not. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keycache.h"
#include "store.h"
#include "store_walk.h"

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
static void exists_agrees_with_get(size_t vc_bytes) {
    store *s = open_store(8 * KEYCACHE_SLOT_BYTES, vc_bytes);
    store_set_undo(s, 1);
    store_txn *tx[2] = {store_txn_new(s), store_txn_new(s)};
    char k[64], e[64];
    size_t kl, el;
    for (int step = 0; step < 30000; step++) {
        store_txn *t = tx[rnd(2)];
        unsigned op = rnd(100);
        key_of((int)rnd(NKEYS), k, &kl);
        key_of((int)rnd(NKEYS), e, &el);
        walk_step(s, t, STORE_CF_DATA, op, k, kl, e, el, "v", 1); /* op >= WALK_OPS: only check */
        for (int c = 0; c < 4; c++) {
            store_txn *q = tx[rnd(2)];
            key_of((int)rnd(NKEYS), k, &kl);
            /* exists first: store_get fills the key cache too */
            int got = store_exists(q, STORE_CF_DATA, k, kl, NULL);
            int want = via_get(q, k, kl);
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

Test(keycache, store_exists_agrees_with_store_get) { exists_agrees_with_get(0); }

/* With the value cache on, a key-cache miss is answered from it when it
 * holds the key: the same walk must give the same answers. */
Test(keycache, store_exists_agrees_with_store_get_beside_the_value_cache) { exists_agrees_with_get(1 << 20); }

/* A key the key cache has lost but the value cache holds exists without a
 * read: with every read failing, it still answers 1. A key neither holds
 * is read (and the read fails). */
Test(keycache, a_key_the_value_cache_holds_exists_without_a_read) {
    store *s = open_store(4 * KEYCACHE_SLOT_BYTES, 1 << 20); /* one set of 4 */
    store_txn *t = store_txn_new(s);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "key%02d", i);
        store_put(t, STORE_CF_DATA, k, strlen(k), "v", 1);
    }
    cr_assert_eq(store_commit(t, NULL), 0);
    store_fault_set(s, STORE_FAULT_READ, EIO, -1);
    uint64_t slots, hits0, misses0, hits, misses;
    store_key_cache_stats(s, &slots, &hits0, &misses0);
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "key%02d", i);
        char *err = NULL;
        cr_assert_eq(store_exists(t, STORE_CF_DATA, k, strlen(k), &err), 1, "%s: %s", k, err ? err : "");
    }
    store_key_cache_stats(s, &slots, &hits, &misses);
    cr_assert_geq(misses - misses0, 16, "the key cache of 4 slots lost at most 4 of 20 keys");
    char *err = NULL;
    cr_assert_eq(store_exists(t, STORE_CF_DATA, "nokey", 5, &err), -1, "a key neither cache holds is read");
    cr_assert_not_null(err);
    free(err);
    cr_assert_geq(store_fault_hits(s), 1);
    store_fault_set(s, STORE_FAULT_READ, 0, 0);
    store_txn_free(t);
    close_store(s);
}

Test(keycache, off_means_no_cache_and_the_same_answers) {
    store *s = open_store(0, 0);
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
    store *s = open_store(1 << 16, 0);
    store_txn *t = store_txn_new(s);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_txn_free(t);
    store_close(s);
    store_options o = {.dir = walk_dir, .create_if_missing = 1, .key_cache_bytes = 1 << 16};
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

/* ---- reads through a txn against a model ------------------------------------
 * A txn indexes its writes only when a read needs them (store.c: txn_index),
 * so this walks puts, deletes, range deletes, savepoints, rollbacks, commits
 * and clears in every order and checks each read (point reads and a whole
 * iteration, forward and backward) against a model of the txn's view. */

#define MK 40
typedef struct view {
    int v[MK]; /* 0 absent, else the value's number */
} view;

static size_t mkey(int i, char *k) {
    /* fixed-width index first, so byte order is index order; some keys are
     * longer than the key cache takes */
    return (size_t)(i % 5 == 0 ? snprintf(k, 64, "m%03d-a-key-longer-than-the-cache-takes", i)
                               : snprintf(k, 64, "m%03d", i));
}

static int idx_of(const char *k) { return (k[1] - '0') * 100 + (k[2] - '0') * 10 + (k[3] - '0'); }

static void check_view(store_txn *t, const view *m, int step) {
    char k[64];
    for (int c = 0; c < 3; c++) {
        int i = (int)rnd(MK);
        size_t kl = mkey(i, k);
        store_val v;
        int r = store_get(t, STORE_CF_DATA, k, kl, &v, NULL);
        cr_assert_eq(r, m->v[i] != 0, "step %d: key %d found %d, model %d", step, i, r, m->v[i]);
        if (r == 1) {
            char num[16] = {0};
            memcpy(num, v.ptr + 1, v.len - 1 < sizeof num - 1 ? v.len - 1 : sizeof num - 1);
            int got = atoi(num);
            cr_assert_eq(got, m->v[i], "step %d: key %d value %d, model %d", step, i, got, m->v[i]);
        }
        store_val_free(&v);
        cr_assert_eq(store_exists(t, STORE_CF_DATA, k, kl, NULL), m->v[i] != 0, "step %d: exists %d", step, i);
    }
    if (rnd(8) == 0) {
        store_iter *it = store_iter_new(t, STORE_CF_DATA, "m", 1, "n", 1);
        int want = 0;
        for (; store_iter_valid(it); store_iter_next(it)) {
            while (want < MK && !m->v[want]) want++;
            cr_assert_lt(want, MK, "step %d: iterator shows an extra key", step);
            size_t kl;
            const char *ik = store_iter_key(it, &kl);
            cr_assert_eq(idx_of(ik), want, "step %d: iterator at %.*s, model at %d", step, (int)kl, ik, want);
            want++;
        }
        while (want < MK && !m->v[want]) want++;
        cr_assert_eq(want, MK, "step %d: iterator missed key %d", step, want);
        want = MK - 1;
        for (store_iter_seek_last(it); store_iter_valid(it); store_iter_prev(it)) {
            while (want >= 0 && !m->v[want]) want--;
            size_t kl;
            cr_assert_eq(idx_of(store_iter_key(it, &kl)), want, "step %d: backward", step);
            want--;
        }
        while (want >= 0 && !m->v[want]) want--;
        cr_assert_eq(want, -1, "step %d: backward missed key %d", step, want);
        store_iter_free(it);
    }
}

Test(keycache, txn_reads_match_a_model, .timeout = 120) {
    store *s = open_store(8 * KEYCACHE_SLOT_BYTES, 0);
    store_txn *t = store_txn_new(s);
    view committed = {0}, cur = {0}, stack[64];
    int nstack = 0, ver = 0;
    char k[64], e[64], val[16];
    for (int step = 0; step < 20000; step++) {
        unsigned op = rnd(100);
        int i = (int)rnd(MK);
        size_t kl = mkey(i, k);
        if (op < 40) {
            int n = snprintf(val, sizeof val, "v%d", ++ver);
            store_put(t, STORE_CF_DATA, k, kl, val, (size_t)n);
            cur.v[i] = ver;
        } else if (op < 60) {
            store_del(t, STORE_CF_DATA, k, kl);
            cur.v[i] = 0;
        } else if (op < 63) {
            int j = i + (int)rnd(6);
            size_t el = j < MK ? mkey(j, e) : (size_t)snprintf(e, sizeof e, "n");
            store_del_range(t, STORE_CF_DATA, k, kl, e, el);
            for (int x = i; x < j && x < MK; x++) cur.v[x] = 0;
        } else if (op < 70) {
            if (nstack < 64) {
                store_txn_savepoint(t);
                stack[nstack++] = cur;
            }
        } else if (op < 76) {
            store_txn_rollback_to_savepoint(t);
            cur = nstack ? stack[--nstack] : committed;
        } else if (op < 86) {
            cr_assert_eq(store_commit(t, NULL), 0);
            committed = cur;
            nstack = 0;
        } else if (op < 89) {
            store_txn_clear(t);
            cur = committed;
            nstack = 0;
        }
        check_view(t, &cur, step);
    }
    store_txn_free(t);
    close_store(s);
}

/* A txn writing more keys than its write set starts with grows the set; a
 * small txn after it shrinks it back: every written key still reads from
 * the txn, every other one from the database. */
Test(keycache, a_big_txn_reads_its_own_writes) {
    store *s = open_store(1 << 16, 0);
    store_txn *t0 = store_txn_new(s);
    char k[32];
    for (int i = 0; i < 20000; i += 2) { /* committed: the even keys */
        int n = snprintf(k, sizeof k, "b%05d", i);
        store_put(t0, STORE_CF_DATA, k, (size_t)n, "old", 3);
    }
    cr_assert_eq(store_commit(t0, NULL), 0);
    store_txn_free(t0);
    store_txn *t = store_txn_new(s);
    static const int step[] = {3, 2000, 3}; /* big, small, big again */
    for (int round = 0; round < 3; round++) {
        int every = step[round];
        for (int i = 0; i < 20000; i += every) {
            int n = snprintf(k, sizeof k, "b%05d", i);
            store_put(t, STORE_CF_DATA, k, (size_t)n, "new", 3);
        }
        for (int i = 0; i < 20000; i++) {
            int n = snprintf(k, sizeof k, "b%05d", i);
            store_val v;
            int r = store_get(t, STORE_CF_DATA, k, (size_t)n, &v, NULL);
            const char *want = i % every == 0 ? "new" : i % 2 == 0 ? "old" : NULL;
            cr_assert_eq(r, want != NULL, "round %d key %d", round, i);
            if (want) cr_assert(v.len == 3 && memcmp(v.ptr, want, 3) == 0, "round %d key %d", round, i);
            store_val_free(&v);
            cr_assert_eq(store_exists(t, STORE_CF_DATA, k, (size_t)n, NULL), want != NULL);
        }
        store_txn_clear(t);
    }
    store_txn_free(t);
    close_store(s);
}
