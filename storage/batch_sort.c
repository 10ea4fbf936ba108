/* A group's batch in key order before it goes to RocksDB.
 *
 * The memtable is a skiplist. Inserted in key order, with the per-batch
 * insert hint (store.c), each record's search starts from where the last
 * one went in and climbs only as far as the gap between the two needs,
 * instead of descending from the top for every key; the nodes it touches
 * are mostly those the previous insert just touched. Writes of one key
 * keep their order (the sort is stable), and only the last one goes in:
 * a batch is applied and made visible as a whole, so nobody can read the
 * ones before it.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define SORT_MAX_RECORDS 65536

typedef struct srec {
    batch_rec r;
    size_t idx; /* position in the batch: ties of one key keep their order */
} srec;

static int srec_cmp(const void *pa, const void *pb) {
    const srec *a = pa, *b = pb;
    if (a->r.cf != b->r.cf) return a->r.cf < b->r.cf ? -1 : 1;
    size_t n = a->r.kl < b->r.kl ? a->r.kl : b->r.kl;
    int c = n ? memcmp(a->r.k, b->r.k, n) : 0;
    if (c) return c;
    if (a->r.kl != b->r.kl) return a->r.kl < b->r.kl ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int is_put(unsigned char tag) { return tag == 0x01 || tag == 0x05; }
static int is_del(unsigned char tag) { return tag == 0x00 || tag == 0x04; }

rocksdb_writebatch_t *store_sorted_batch(store *s, rocksdb_writebatch_t *in) {
    size_t n;
    const char *rep = rocksdb_writebatch_data(in, &n);
    int count = rocksdb_writebatch_count(in);
    /* A bigger batch (an import, a restore) would need a second copy of
     * itself at once; it goes as it is. */
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
    int sorted = 1;
    const char *p = rep + 12, *end = rep + n;
    batch_rec r;
    int got;
    while ((got = store_batch_next(s, &p, end, &r)) > 0) {
        if (r.tag == 0x0D) continue; /* savepoint marker */
        /* ranges and single deletes depend on the order across keys */
        if (!is_put(r.tag) && !is_del(r.tag)) return NULL;
        if (m == (size_t)count) return NULL; /* more records than counted */
        v[m].r = r;
        v[m].idx = m;
        if (m && sorted && srec_cmp(&v[m - 1], &v[m]) >= 0) sorted = 0;
        m++;
    }
    if (got < 0 || sorted) return NULL;
    qsort(v, m, sizeof *v, srec_cmp);
    rocksdb_writebatch_t *out = s->sorted;
    rocksdb_writebatch_clear(out);
    for (size_t i = 0; i < m; i++) {
        const batch_rec *e = &v[i].r;
        if (i + 1 < m && e->cf == v[i + 1].r.cf && e->kl == v[i + 1].r.kl && memcmp(e->k, v[i + 1].r.k, e->kl) == 0)
            continue; /* a later write of the key follows */
        if (is_put(e->tag)) rocksdb_writebatch_put_cf(out, s->cf[e->cf], e->k, e->kl, e->v, e->vl);
        else rocksdb_writebatch_delete_cf(out, s->cf[e->cf], e->k, e->kl);
    }
    return out;
}

/* After a big group, give its copy back instead of keeping it for good. */
void store_sorted_trim(store *s) {
    size_t n;
    rocksdb_writebatch_data(s->sorted, &n);
    if (n > (4u << 20)) {
        rocksdb_writebatch_destroy(s->sorted);
        s->sorted = rocksdb_writebatch_create();
    } else {
        rocksdb_writebatch_clear(s->sorted);
    }
    if (s->srt_cap > 8192) { /* a usual group fits: 50 clients x 16 x 10 keys */
        free(s->srt);
        s->srt = NULL;
        s->srt_cap = 0;
    }
}
