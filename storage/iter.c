/* Iterators over a column family: through a txn (its pending writes merged
 * over the database, pending range deletions hiding what they cover; see
 * the top of store.c) or over a snapshot. */
#include "store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "encoding.h"
#include "store_int.h"

struct store_iter {
    store *s;
    store_txn *t; /* NULL on a snapshot */
    int cf;
    rocksdb_iterator_t *it; /* DB iterator, or WBWI-over-DB when merged */
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *delta; /* txn-only view, when ranges are pending in cf */
    rocksdb_readoptions_t *dro;
    char *lower, *upper;
    size_t ll, ul;
    int has_upper;
    int valid;
    /* Not positioned yet. A new iterator stands at its first key, but most
     * callers seek at once (a newest-first page seeks to the last key), so
     * that first seek, a full one through every level, waits for use. */
    int fresh;
};

/* Moves forward to the first visible key (or the end) and caches validity. */
static void iter_settle(store_iter *it) {
    for (;;) {
        if (!rocksdb_iter_valid(it->it)) {
            it->valid = 0;
            return;
        }
        size_t kl;
        const char *k = rocksdb_iter_key(it->it, &kl);
        /* the WBWI part of a merged iterator ignores the base's bound */
        if (it->has_upper && enc_bytes_cmp(k, kl, it->upper, it->ul) >= 0) {
            it->valid = 0;
            return;
        }
        const range_ent *r = it->delta ? txn_range_at(it->t, it->cf, k, kl) : NULL;
        if (!r) {
            it->valid = 1;
            return;
        }
        /* Inside a pending range: visible only as a put in the WBWI. Jump to
         * the next such put inside the range, or past the range. */
        const char *re = it->t->rbuf.p + r->eo;
        rocksdb_iter_seek(it->delta, k, kl);
        if (rocksdb_iter_valid(it->delta)) {
            size_t dl;
            const char *dk = rocksdb_iter_key(it->delta, &dl);
            if (enc_bytes_cmp(dk, dl, re, r->el) < 0) {
                if (enc_bytes_cmp(dk, dl, k, kl) == 0) {
                    it->valid = 1;
                    return;
                }
                rocksdb_iter_seek(it->it, dk, dl);
                continue;
            }
        }
        rocksdb_iter_seek(it->it, re, r->el);
    }
}

/* The mirror image of iter_settle: moves backward to the last visible key
 * (or before the start) and caches validity. Every step strictly decreases
 * the position of it->it, so the loop ends. */
static void iter_settle_back(store_iter *it) {
    for (;;) {
        if (!rocksdb_iter_valid(it->it)) {
            it->valid = 0;
            return;
        }
        size_t kl;
        const char *k = rocksdb_iter_key(it->it, &kl);
        /* the WBWI part of a merged iterator ignores both of the base's
         * bounds: below the lower one the iteration is over; at or above the
         * upper one (only reachable right after seeking backward from the
         * bound itself) step back */
        if (enc_bytes_cmp(k, kl, it->lower, it->ll) < 0) {
            it->valid = 0;
            return;
        }
        if (it->has_upper && enc_bytes_cmp(k, kl, it->upper, it->ul) >= 0) {
            rocksdb_iter_prev(it->it);
            continue;
        }
        const range_ent *r = it->delta ? txn_range_at(it->t, it->cf, k, kl) : NULL;
        if (!r) {
            it->valid = 1;
            return;
        }
        /* Inside a pending range: visible only as a put in the WBWI. Jump to
         * the last such put inside the range at or before k, or before the
         * range's start. */
        const char *rs = it->t->rbuf.p + r->so;
        rocksdb_iter_seek_for_prev(it->delta, k, kl);
        if (rocksdb_iter_valid(it->delta)) {
            size_t dl;
            const char *dk = rocksdb_iter_key(it->delta, &dl);
            if (enc_bytes_cmp(dk, dl, rs, r->sl) >= 0) {
                if (enc_bytes_cmp(dk, dl, k, kl) == 0) {
                    it->valid = 1;
                    return;
                }
                rocksdb_iter_seek_for_prev(it->it, dk, dl); /* lands on dk */
                continue;
            }
        }
        /* the start is inside the range: the last key < start */
        rocksdb_iter_seek_for_prev(it->it, rs, r->sl);
        if (rocksdb_iter_valid(it->it)) {
            k = rocksdb_iter_key(it->it, &kl);
            if (enc_bytes_cmp(k, kl, rs, r->sl) >= 0) rocksdb_iter_prev(it->it);
        }
    }
}

struct store_snap {
    store *s;
    const rocksdb_snapshot_t *snap;
};

store_snap *store_snapshot_new(store *s) {
    store_snap *sn = calloc(1, sizeof *sn);
    if (!sn) return NULL;
    sn->s = s;
    store_async_settle(s);
    sn->snap = rocksdb_create_snapshot(s->db);
    return sn;
}

void store_snapshot_free(store_snap *sn) {
    if (!sn) return;
    rocksdb_release_snapshot(sn->s->db, sn->snap);
    free(sn);
}

static store_iter *iter_make(store *s, store_txn *t, const store_snap *sn, int cf, const char *lower, size_t ll,
                             const char *upper, size_t ul);

store_iter *store_iter_new(store_txn *t, int cf, const char *lower, size_t ll,
                           const char *upper, size_t ul) {
    store_async_settle(t->s); /* iterators read the database itself: the group in flight must be in it */
    return iter_make(t->s, t, NULL, cf, lower, ll, upper, ul);
}

store_iter *store_iter_snapshot(store_snap *sn, int cf, const char *lower, size_t ll, const char *upper, size_t ul) {
    return iter_make(sn->s, NULL, sn, cf, lower, ll, upper, ul);
}

static store_iter *iter_make(store *s, store_txn *t, const store_snap *sn, int cf, const char *lower, size_t ll,
                             const char *upper, size_t ul) {
    store_iter *it = calloc(1, sizeof *it);
    if (!it) return NULL;
    it->s = s;
    it->t = t;
    it->cf = cf;
    if (!lower) ll = 0;
    if (!ul) upper = NULL; /* enc_prefix_end's 0: the range runs to the end */
    it->lower = malloc(ll ? ll : 1);
    it->upper = upper ? malloc(ul ? ul : 1) : NULL;
    if (!it->lower || (upper && !it->upper)) {
        free(it->lower);
        free(it->upper);
        free(it);
        return NULL;
    }
    if (ll) memcpy(it->lower, lower, ll);
    it->ll = ll;
    if (upper) {
        if (ul) memcpy(it->upper, upper, ul);
        it->ul = ul;
        it->has_upper = 1;
    }
    /* the bound copies live as long as the iterator (ro points at them) */
    it->ro = rocksdb_readoptions_create();
    if (ll) rocksdb_readoptions_set_iterate_lower_bound(it->ro, it->lower, ll);
    if (upper) rocksdb_readoptions_set_iterate_upper_bound(it->ro, it->upper, ul);
    if (sn) rocksdb_readoptions_set_snapshot(it->ro, sn->snap);
    rocksdb_iterator_t *base = rocksdb_create_iterator_cf(s->db, it->ro, s->cf[cf]);
    if (t && txn_pending(t)) {
        txn_index(t);
        /* takes ownership of base */
        it->it = rocksdb_writebatch_wi_create_iterator_with_base_cf(t->wb, base, s->cf[cf]);
        if (txn_has_ranges(t, cf)) it->delta = delta_iter(t, cf, &it->dro);
    } else {
        it->it = base;
    }
    it->fresh = 1;
    return it;
}

static void iter_start(store_iter *it) {
    if (it->fresh) store_iter_seek(it, it->lower, it->ll);
}

void store_iter_seek(store_iter *it, const char *k, size_t kl) {
    it->fresh = 0;
    if (!k) kl = 0;
    if (enc_bytes_cmp(k, kl, it->lower, it->ll) < 0) {
        k = it->lower;
        kl = it->ll;
    }
    rocksdb_iter_seek(it->it, k ? k : "", kl);
    iter_settle(it);
}

void store_iter_seek_for_prev(store_iter *it, const char *k, size_t kl) {
    it->fresh = 0;
    if (!k) kl = 0;
    /* past the upper bound: start from the bound (settle steps below it) */
    if (it->has_upper && enc_bytes_cmp(k, kl, it->upper, it->ul) > 0) {
        k = it->upper;
        kl = it->ul;
    }
    rocksdb_iter_seek_for_prev(it->it, k ? k : "", kl);
    iter_settle_back(it);
}

void store_iter_seek_last(store_iter *it) {
    if (it->has_upper) {
        store_iter_seek_for_prev(it, it->upper, it->ul);
        return;
    }
    it->fresh = 0;
    rocksdb_iter_seek_to_last(it->it);
    iter_settle_back(it);
}

int store_iter_valid(store_iter *it) {
    iter_start(it);
    return it->valid;
}

void store_iter_next(store_iter *it) {
    iter_start(it);
    if (!it->valid) return;
    rocksdb_iter_next(it->it);
    iter_settle(it);
}

void store_iter_prev(store_iter *it) {
    iter_start(it);
    if (!it->valid) return;
    rocksdb_iter_prev(it->it);
    iter_settle_back(it);
}

const char *store_iter_key(store_iter *it, size_t *kl) {
    iter_start(it);
    return rocksdb_iter_key(it->it, kl);
}

const char *store_iter_value(store_iter *it, size_t *vl) {
    iter_start(it);
    return rocksdb_iter_value(it->it, vl);
}

int store_iter_error(store_iter *it, char **err) {
    if (store_fault_fires(it->s, STORE_FAULT_READ, "iterator", err)) return -1;
    char *rerr = NULL;
    rocksdb_iter_get_error(it->it, &rerr);
    if (!rerr && it->delta) rocksdb_iter_get_error(it->delta, &rerr);
    if (rerr) {
        store_set_err(err, "iterator", rerr);
        return -1;
    }
    return 0;
}

void store_iter_free(store_iter *it) {
    if (!it) return;
    rocksdb_iter_destroy(it->it);
    if (it->delta) rocksdb_iter_destroy(it->delta);
    rocksdb_readoptions_destroy(it->ro);
    if (it->dro) rocksdb_readoptions_destroy(it->dro);
    free(it->lower);
    free(it->upper);
    free(it);
}
