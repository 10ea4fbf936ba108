/* The value cache on its own against a model, and store_get through both
 * caches against an iterator (which never asks them): the cache must never
 * give a value the database does not hold. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keycache.h"
#include "store.h"
#include "store_walk.h"
#include "valcache.h"

static unsigned rnd_state = 777;
static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

static int vget(valcache *c, const char *k, const char **v, size_t *vl) {
    return valcache_get(c, keycache_hash(k, strlen(k)), k, strlen(k), v, vl);
}
static void vput(valcache *c, const char *k, const char *v) {
    valcache_put(c, keycache_hash(k, strlen(k)), k, strlen(k), v, strlen(v));
}

Test(valcache, put_get_forget_clear) {
    valcache *c = valcache_new(1 << 16);
    cr_assert_not_null(c);
    cr_assert_gt(valcache_bytes(c), 32 * 1024);
    const char *v;
    size_t vl;
    cr_assert_eq(vget(c, "a", &v, &vl), 0);
    vput(c, "a", "one");
    vput(c, "", "empty key");
    vput(c, "b", "");
    cr_assert_eq(vget(c, "a", &v, &vl), 1);
    cr_assert(vl == 3 && memcmp(v, "one", 3) == 0);
    cr_assert_eq(vget(c, "b", &v, &vl), 1);
    cr_assert_eq(vl, 0);
    cr_assert_eq(vget(c, "", &v, &vl), 1);
    cr_assert_eq(vl, 9);
    vput(c, "a", "two");
    cr_assert_eq(vget(c, "a", &v, &vl), 1);
    cr_assert(vl == 3 && memcmp(v, "two", 3) == 0);
    valcache_forget(c, keycache_hash("a", 1), "a", 1);
    cr_assert_eq(vget(c, "a", &v, &vl), 0);
    cr_assert_eq(vget(c, "b", &v, &vl), 1);
    valcache_clear(c);
    cr_assert_eq(vget(c, "b", &v, &vl), 0);
    cr_assert_eq(vget(c, "", &v, &vl), 0);
    vput(c, "b", "back");
    cr_assert_eq(vget(c, "b", &v, &vl), 1);
    valcache_free(c);
    valcache_free(NULL);
}

/* Over the limits a put forgets what the key had: never a stale hit. */
Test(valcache, what_is_too_big_is_forgotten) {
    valcache *c = valcache_new(1 << 16);
    static char big[VALCACHE_MAX_VALUE + 2];
    memset(big, 'x', sizeof big - 1);
    const char *v;
    size_t vl;
    vput(c, "k", "small");
    vput(c, "k", big);
    cr_assert_eq(vget(c, "k", &v, &vl), 0);
    big[VALCACHE_MAX_VALUE] = '\0'; /* exactly the limit */
    vput(c, "k", big);
    cr_assert_eq(vget(c, "k", &v, &vl), 1);
    cr_assert_eq(vl, VALCACHE_MAX_VALUE);
    char lk[VALCACHE_MAX_KEY + 2];
    memset(lk, 'k', sizeof lk - 1);
    lk[sizeof lk - 1] = '\0';
    vput(c, lk, "v");
    cr_assert_eq(vget(c, lk, &v, &vl), 0);
    valcache_free(c);
}

/* Many keys and values of many sizes through the smallest cache: the ring
 * wraps hundreds of times and the sets overflow. Every hit must be the
 * model's latest value; forgotten keys may miss, never differ. */
Test(valcache, wraps_and_evicts_and_stays_exact) {
    valcache *c = valcache_new(1);
    enum { NK = 600 };
    static int model[NK]; /* 0 = none, else a version */
    static char val[3000];
    int ver = 0, hits = 0;
    for (int step = 0; step < 300000; step++) {
        int i = (int)rnd(NK);
        char k[32];
        size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
        uint64_t h = keycache_hash(k, kl);
        unsigned op = rnd(100);
        if (op < 50) {
            size_t n = (size_t)snprintf(val, sizeof val, "%d:", ++ver);
            size_t pad = rnd(8) == 0 ? rnd(2500) : rnd(40);
            memset(val + n, 'a' + ver % 26, pad);
            valcache_put(c, h, k, kl, val, n + pad);
            model[i] = ver;
        } else if (op < 55) {
            valcache_forget(c, h, k, kl);
            model[i] = 0;
        } else if (op < 56) {
            valcache_clear(c);
            memset(model, 0, sizeof model);
        } else {
            const char *v;
            size_t vl;
            if (valcache_get(c, h, k, kl, &v, &vl)) {
                hits++;
                cr_assert_neq(model[i], 0, "step %d: %s hit after forget/clear", step, k);
                cr_assert_eq(atoi(v), model[i], "step %d: %s is %d, model %d", step, k, atoi(v), model[i]);
                const char *colon = memchr(v, ':', vl);
                cr_assert_not_null(colon);
                for (const char *p = colon + 1; p < v + vl; p++)
                    cr_assert_eq(*p, 'a' + model[i] % 26, "step %d: %s corrupted", step, k);
            }
        }
    }
    cr_assert_gt(hits, 10000, "only %d hits", hits);
    valcache_free(c);
}

/* ---- store_get through the caches against an iterator ------------------- */

#define NKEYS 300
static size_t key_of(int i, char *k) {
    /* a few keys are too long for the key cache; the value cache takes them */
    return (size_t)(i % 7 == 0 ? snprintf(k, 64, "long-key-beyond-the-key-cache-limit-%03d", i)
                               : snprintf(k, 64, "k%03d", i));
}

/* The value at k of cf as t sees it, read by an iterator: 1 and *out, or 0. */
static int truth(store_txn *t, int cf, const char *k, size_t kl, char *out, size_t *ol) {
    char hi[72];
    memcpy(hi, k, kl);
    hi[kl] = '\0'; /* the smallest key above k */
    store_iter *it = store_iter_new(t, cf, k, kl, hi, kl + 1);
    cr_assert_not_null(it);
    int found = store_iter_valid(it);
    if (found) {
        size_t ikl, vl;
        const char *ik = store_iter_key(it, &ikl);
        cr_assert(ikl == kl && memcmp(ik, k, kl) == 0);
        const char *v = store_iter_value(it, &vl);
        cr_assert_leq(vl, 8192);
        memcpy(out, v, vl);
        *ol = vl;
    }
    store_iter_free(it);
    return found;
}

/* Random puts (some over the value limit), deletes, range deletes,
 * savepoints, rollbacks, commits, out-of-txn range deletions, undos and
 * reads ahead (store_prefetch)
 * through two txns, on the data and the meta CF (the same key bytes in
 * both: the value cache holds both), while reads hold cached values
 * across other commits.
 * After each step, every read must equal the iterator's, and every value
 * held must be unchanged. A tiny value cache wraps all the time. */
Test(valcache, store_get_agrees_with_an_iterator, .timeout = 240) {
    store *s = open_store(8 * KEYCACHE_SLOT_BYTES, 1);
    store_set_undo(s, 1);
    store_txn *tx[2] = {store_txn_new(s), store_txn_new(s)};
    static char val[VALCACHE_MAX_VALUE + 200], want[8192];
    char k[64], e[64];
    store_val held = {0};
    char held_copy[8192];
    size_t held_len = 0;
    int ver = 0;
    for (int step = 0; step < 20000; step++) {
        store_txn *t = tx[rnd(2)];
        unsigned op = rnd(110); /* WALK_OPS of them walk_step's, then ours */
        size_t kl = key_of((int)rnd(NKEYS), k);
        size_t el = key_of((int)rnd(NKEYS), e);
        size_t n = (size_t)snprintf(val, sizeof val, "v%d:", ++ver);
        size_t pad = rnd(50) == 0 ? VALCACHE_MAX_VALUE - 10 + rnd(100) : rnd(120);
        memset(val + n, 'a' + ver % 26, pad);
        int wcf = rnd(3) ? STORE_CF_DATA : STORE_CF_META;
        if (op < WALK_OPS) {
            walk_step(s, t, wcf, op, k, kl, e, el, val, n + pad);
        } else if (op < WALK_OPS + 4) { /* hold a value across what comes next */
            store_val_free(&held);
            if (store_get(t, wcf, k, kl, &held, NULL) == 1) {
                memcpy(held_copy, held.ptr, held.len);
                held_len = held.len;
            }
        } else if (op < WALK_OPS + 6) {
            store_val_free(&held);
        } else if (op < WALK_OPS + 12) { /* read some keys ahead (duplicates too) */
            char kb[20][64];
            const char *kp[20];
            size_t kls[20];
            size_t nk = 1 + rnd(20);
            for (size_t j = 0; j < nk; j++) {
                kls[j] = key_of((int)rnd(NKEYS), kb[j]);
                kp[j] = kb[j];
            }
            store_prefetch(s, nk, kp, kls);
        } else if (op < WALK_OPS + 13) {
            store_prefetch_drop(s);
        } /* else only check */
        for (int c = 0; c < 4; c++) {
            store_txn *q = tx[rnd(2)];
            int qcf = c % 2 ? STORE_CF_META : STORE_CF_DATA;
            kl = key_of((int)rnd(NKEYS), k);
            size_t wl = 0;
            int w = truth(q, qcf, k, kl, want, &wl);
            store_val v;
            int r = store_get(q, qcf, k, kl, &v, NULL);
            cr_assert_eq(r, w, "step %d: cf %d %.*s found %d, iterator %d", step, qcf, (int)kl, k, r, w);
            if (r == 1)
                cr_assert(v.len == wl && memcmp(v.ptr, want, wl) == 0, "step %d: %.*s differs from the iterator",
                          step, (int)kl, k);
            store_val_free(&v);
        }
        if (held.ptr)
            cr_assert(held.len == held_len && memcmp(held.ptr, held_copy, held_len) == 0,
                      "step %d: a held value changed", step);
    }
    store_val_free(&held);
    uint64_t bytes, hits, misses;
    store_value_cache_stats(s, &bytes, &hits, &misses);
    cr_assert_gt(bytes, 0);
    cr_assert_gt(hits, 2000, "the value cache answered %llu times", (unsigned long long)hits);
    cr_assert_gt(misses, 1000);
    uint64_t pf_read, pf_taken, pf_lines;
    store_prefetch_stats(s, &pf_read, &pf_taken, &pf_lines);
    cr_assert_gt(pf_taken, 200, "%llu of %llu keys read ahead were used", (unsigned long long)pf_taken,
                 (unsigned long long)pf_read);
    store_txn_free(tx[0]);
    store_txn_free(tx[1]);
    close_store(s);
}

/* Meta values are cached apart from data values of the same key bytes,
 * and every way a meta key changes reaches the cache. */
Test(valcache, meta_values_beside_data_values) {
    store *s = open_store(0, 1 << 20);
    store_txn *t = store_txn_new(s);
    char *err = NULL;
    uint64_t bytes, hits0, hits1, misses;
    store_put(t, STORE_CF_DATA, "k1", 2, "data", 4);
    store_put(t, STORE_CF_META, "k1", 2, "meta", 4);
    store_put(t, STORE_CF_META, "k2", 2, "two", 3);
    cr_assert_eq(store_commit(t, &err), 0);
    store_value_cache_stats(s, &bytes, &hits0, &misses);
    for (int round = 0; round < 2; round++) {
        store_val v;
        cr_assert_eq(store_get(t, STORE_CF_META, "k1", 2, &v, NULL), 1);
        cr_assert(v.len == 4 && memcmp(v.ptr, "meta", 4) == 0);
        store_val_free(&v);
        cr_assert_eq(store_get(t, STORE_CF_DATA, "k1", 2, &v, NULL), 1);
        cr_assert(v.len == 4 && memcmp(v.ptr, "data", 4) == 0);
        store_val_free(&v);
    }
    store_value_cache_stats(s, &bytes, &hits1, &misses);
    cr_assert_eq(hits1 - hits0, 4, "both keys from the cache, twice: %llu", (unsigned long long)(hits1 - hits0));
    /* an overwrite, a delete, a range delete in a txn, one outside */
    store_val v;
    store_put(t, STORE_CF_META, "k1", 2, "meta2", 5);
    cr_assert_eq(store_commit(t, &err), 0);
    cr_assert_eq(store_get(t, STORE_CF_META, "k1", 2, &v, NULL), 1);
    cr_assert(v.len == 5 && memcmp(v.ptr, "meta2", 5) == 0);
    store_val_free(&v);
    store_del(t, STORE_CF_META, "k1", 2);
    cr_assert_eq(store_commit(t, &err), 0);
    cr_assert_eq(store_get(t, STORE_CF_META, "k1", 2, &v, NULL), 0);
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k1", 2, &v, NULL), 1);
    store_val_free(&v);
    cr_assert_eq(store_get(t, STORE_CF_META, "k2", 2, &v, NULL), 1); /* cached again */
    store_val_free(&v);
    store_del_range(t, STORE_CF_META, "k", 1, "l", 1);
    cr_assert_eq(store_commit(t, &err), 0);
    cr_assert_eq(store_get(t, STORE_CF_META, "k2", 2, &v, NULL), 0);
    store_put(t, STORE_CF_META, "k2", 2, "two", 3);
    cr_assert_eq(store_commit(t, &err), 0);
    cr_assert_eq(store_get(t, STORE_CF_META, "k2", 2, &v, NULL), 1);
    store_val_free(&v);
    cr_assert_eq(store_compact_range(s, STORE_CF_META, "k", 1, "l", 1, NULL), 0);
    cr_assert_eq(store_get(t, STORE_CF_META, "k2", 2, &v, NULL), 0);
    cr_assert_eq(store_get(t, STORE_CF_DATA, "k1", 2, &v, NULL), 1); /* the data CF's stays */
    cr_assert(v.len == 4 && memcmp(v.ptr, "data", 4) == 0);
    store_val_free(&v);
    store_txn_free(t);
    close_store(s);
}

/* A value read from the cache stays as it was while commits that would
 * overwrite its place in the ring go on; those commits are still read
 * back right, and once it is released the cache fills again. */
Test(valcache, a_held_value_survives_the_ring_wrapping) {
    store *s = open_store(0, 1);
    store_txn *t = store_txn_new(s);
    store_put(t, STORE_CF_DATA, "held", 4, "the value held", 14);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_val held;
    cr_assert_eq(store_get(t, STORE_CF_DATA, "held", 4, &held, NULL), 1);
    uint64_t bytes, hits0, hits, misses;
    store_value_cache_stats(s, &bytes, &hits0, &misses);
    cr_assert_eq(hits0, 1, "the commit put it in the cache");
    char k[32], v[64];
    for (int i = 0; i < 5000; i++) { /* several times the ring */
        int kn = snprintf(k, sizeof k, "w%d", i % 100);
        int vn = snprintf(v, sizeof v, "value %d of some length to fill the ring", i);
        store_put(t, STORE_CF_DATA, k, (size_t)kn, v, (size_t)vn);
        cr_assert_eq(store_commit(t, NULL), 0);
        store_val r;
        cr_assert_eq(store_get(t, STORE_CF_DATA, k, (size_t)kn, &r, NULL), 1);
        cr_assert(r.len == (size_t)vn && memcmp(r.ptr, v, (size_t)vn) == 0, "write %d", i);
        store_val_free(&r);
    }
    cr_assert(held.len == 14 && memcmp(held.ptr, "the value held", 14) == 0);
    store_val_free(&held);
    store_put(t, STORE_CF_DATA, "w1", 2, "x", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_value_cache_stats(s, &bytes, &hits0, &misses);
    store_val r;
    cr_assert_eq(store_get(t, STORE_CF_DATA, "w1", 2, &r, NULL), 1);
    store_val_free(&r);
    store_value_cache_stats(s, &bytes, &hits, &misses);
    cr_assert_eq(hits, hits0 + 1, "puts resume once nothing is held");
    store_txn_free(t);
    close_store(s);
}

Test(valcache, off_when_zero_bytes) {
    store *s = open_store(1 << 16, 0);
    store_txn *t = store_txn_new(s);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_val v;
    cr_assert_eq(store_get(t, STORE_CF_DATA, "a", 1, &v, NULL), 1);
    cr_assert_not_null(v.pin_, "read from RocksDB, pinned");
    store_val_free(&v);
    uint64_t bytes, hits, misses;
    store_value_cache_stats(s, &bytes, &hits, &misses);
    cr_assert_eq(bytes + hits + misses, 0);
    store_txn_free(t);
    close_store(s);
}
