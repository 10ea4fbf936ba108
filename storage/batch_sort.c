/* A group's batch in key order before it goes to RocksDB.
 *
 * The memtable is a skiplist, and every insert searches it from the top.
 * In key order, consecutive searches walk mostly the same nodes, which the
 * previous insert has just brought into the CPU cache (MSET -P 16 1.08x,
 * docs/performance.md). Writes of one key keep their order (the sort is
 * stable), and only the last one goes in: a batch is applied and made
 * visible as a whole, so nobody can read the ones before it.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* A bigger batch (an import, a restore) would need a second copy of itself
 * at once; it goes as it is. */
#define SORT_MAX_RECORDS 65536
/* Record arrays past this are given back after use; a usual group
 * (50 clients x 16 pipelined x 10 keys) fits. */
#define SORT_KEEP_RECORDS 8192

typedef struct srec {
    batch_rec r;
    size_t idx; /* position in the batch: ties of one key keep their order */
} srec;

static int same_key(const batch_rec *a, const batch_rec *b) {
    return a->cf == b->cf && enc_bytes_cmp(a->k, a->kl, b->k, b->kl) == 0;
}

static int srec_cmp(const void *pa, const void *pb) {
    const srec *a = pa, *b = pb;
    if (a->r.cf != b->r.cf) return a->r.cf < b->r.cf ? -1 : 1;
    int c = enc_bytes_cmp(a->r.k, a->r.kl, b->r.k, b->r.kl);
    if (c) return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

rocksdb_writebatch_t *store_sorted_batch(store *s, rocksdb_writebatch_t *in) {
    size_t n;
    const char *rep = rocksdb_writebatch_data(in, &n);
    int count = rocksdb_writebatch_count(in);
    if (count < 2 || count > SORT_MAX_RECORDS || n < 12) return NULL;
    if ((size_t)count > s->srt_cap) {
        size_t cap = s->srt_cap ? s->srt_cap : 64;
        while (cap < (size_t)count) cap *= 2;
        srec *p = realloc(s->srt, cap * sizeof *p);
        if (!p) return NULL; /* unsorted is as correct, only slower */
        s->srt = p;
        s->srt_cap = cap;
    }
    srec *v = s->srt;
    size_t m = 0;
    int sorted = 1, dup = 0;
    const char *p = rep + 12, *end = rep + n; /* past the sequence and the count */
    batch_rec r;
    int got;
    while ((got = store_batch_next(s, &p, end, &r)) > 0) {
        if (r.tag == 0x0D) continue; /* savepoint marker */
        if (!batch_rec_is_put(&r) && !batch_rec_is_del(&r)) return NULL; /* ranges keep their place */
        if (m == (size_t)count) return NULL; /* more records than counted */
        v[m].r = r;
        v[m].idx = m;
        if (m && sorted) {
            if (srec_cmp(&v[m - 1], &v[m]) >= 0) sorted = 0;
            else if (same_key(&v[m - 1].r, &v[m].r)) dup = 1; /* one hot key written again and again */
        }
        m++;
    }
    if (got < 0 || (sorted && !dup)) return NULL;
    if (!sorted) qsort(v, m, sizeof *v, srec_cmp);
    rocksdb_writebatch_t *out = s->sorted;
    rocksdb_writebatch_clear(out);
    for (size_t i = 0; i < m; i++) {
        const batch_rec *e = &v[i].r;
        if (i + 1 < m && same_key(e, &v[i + 1].r)) continue; /* a later write of the key follows */
        if (batch_rec_is_put(e)) rocksdb_writebatch_put_cf(out, s->cf[e->cf], e->k, e->kl, e->v, e->vl);
        else rocksdb_writebatch_delete_cf(out, s->cf[e->cf], e->k, e->kl);
    }
    return out;
}

rocksdb_writebatch_t *store_batch_keep(rocksdb_writebatch_t *b) {
    size_t n;
    rocksdb_writebatch_data(b, &n);
    if (n <= (4u << 20)) return b;
    rocksdb_writebatch_destroy(b); /* a clear would keep its buffer */
    return NULL;
}

void store_sorted_trim(store *s) {
    s->sorted = store_batch_keep(s->sorted);
    if (!s->sorted) s->sorted = rocksdb_writebatch_create();
    if (s->srt_cap > SORT_KEEP_RECORDS) {
        free(s->srt);
        s->srt = NULL;
        s->srt_cap = 0;
    }
}
