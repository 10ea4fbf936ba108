/* Reads ahead (store.h: store_prefetch): the keys of a client's pipelined
 * commands in one batched RocksDB MultiGet, each value then taken once by
 * store_get (store.c: get_committed). Exact because every change of the
 * committed data drops what was not taken (store_commit, the range
 * deletion, the undo). */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void store_prefetch_drop(store *s) {
    for (size_t i = 0; i < s->npf; i++)
        if (s->pf[i].val) rocksdb_pinnableslice_destroy(s->pf[i].val);
    s->npf = 0;
}

/* All the caches' lines of keys[0..n) on their way at once; their hashes
 * in hs. */
static void load_lines(store *s, size_t n, const char *const *keys, const size_t *lens, uint64_t *hs) {
    for (size_t i = 0; i < n; i++) {
        hs[i] = keycache_hash(keys[i], lens[i]);
        if (s->vc) valcache_prefetch(s->vc, hs[i]);
        if (s->kc) keycache_prefetch(s->kc, hs[i]);
    }
}

void store_prefetch(store *s, size_t n, const char *const *keys, const size_t *lens) {
    store_prefetch_drop(s);
    if (n > STORE_PREFETCH_MAX) n = STORE_PREFETCH_MAX;
    const char *rk[STORE_PREFETCH_MAX];
    size_t rl[STORE_PREFETCH_MAX], total = 0;
    for (size_t i = 0; i < n; i++) total += lens[i];
    if (total > s->pf_keys_cap) {
        char *p = realloc(s->pf_keys, total);
        if (!p) return; /* an optimisation: reads go one by one */
        s->pf_keys = p;
        s->pf_keys_cap = total;
    }
    uint64_t hs[STORE_PREFETCH_MAX];
    load_lines(s, n, keys, lens, hs);
    size_t m = 0, off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i];
        size_t kl = lens[i];
        uint64_t h = hs[i];
        const char *cv;
        size_t cvl;
        if (s->vc && valcache_get(s->vc, h, k, kl, &cv, &cvl)) continue;
        if (s->kc && keycache_get(s->kc, h, k, kl) == 0) continue;
        /* the batch on the writer thread wrote it: the read takes its
         * record, or waits for the writer; a value read now could be older */
        if (s->wtxn && wset_find(s->wtxn, h)) continue;
        memcpy(s->pf_keys + off, k, kl);
        s->pf[m] = (struct pf_ent){h, off, kl, NULL, 1};
        rk[m] = s->pf_keys + off;
        rl[m] = kl;
        off += kl;
        m++;
    }
    if (m < 2) return; /* one key is one Get, when it is read */
    char *errs[STORE_PREFETCH_MAX];
    rocksdb_pinnableslice_t *vals[STORE_PREFETCH_MAX];
    rocksdb_batched_multi_get_cf(s->db, s->ro, s->cf[STORE_CF_DATA], m, rk, rl, vals, errs, 0);
    size_t keep = 0;
    for (size_t i = 0; i < m; i++) {
        if (errs[i]) { /* left to the read itself, which reports it */
            rocksdb_free(errs[i]);
            if (vals[i]) rocksdb_pinnableslice_destroy(vals[i]);
            continue;
        }
        s->pf[keep] = s->pf[i];
        s->pf[keep++].val = vals[i];
    }
    s->npf = keep;
    s->pf_read += keep;
}

void store_prefetch_lines(store *s, size_t n, const char *const *keys, const size_t *lens) {
    if (n > STORE_PREFETCH_MAX) n = STORE_PREFETCH_MAX;
    s->pf_lines += n;
    uint64_t hs[STORE_PREFETCH_MAX];
    load_lines(s, n, keys, lens, hs);
}

int store_prefetch_take(store *s, uint64_t h, const char *k, size_t kl, store_val *v) {
    for (size_t i = 0; i < s->npf; i++) {
        struct pf_ent *e = &s->pf[i];
        if (e->h != h || !e->live || e->kl != kl || memcmp(s->pf_keys + e->ko, k, kl) != 0) continue;
        e->live = 0;
        s->pf_taken++;
        if (!e->val) return 0;
        v->pin_ = e->val;
        v->ptr = rocksdb_pinnableslice_value(e->val, &v->len);
        e->val = NULL;
        return 1;
    }
    return -1;
}

void store_prefetch_stats(const store *s, uint64_t *read, uint64_t *taken, uint64_t *lines) {
    *read = s->pf_read;
    *taken = s->pf_taken;
    *lines = s->pf_lines;
}
