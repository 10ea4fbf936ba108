/* Undoing unflushed commits (store.h: store_undo_unflushed) and the
 * reader of RocksDB's WriteBatch records that it shares with the txn's
 * lazy index (store.c: txn_index). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "keycache.h"
#include "store_int.h"

void store_set_undo(store *s, int on) {
    if (!on) store_undo_forget(s);
    s->undo_on = on;
}

void store_undo_forget(store *s) {
    if (s->undo_snap) rocksdb_release_snapshot(s->db, s->undo_snap);
    s->undo_snap = NULL;
    s->undo_log.len = 0;
    s->undo_overflow = 0;
    if (s->undo_log.cap > (1u << 20)) { /* do not keep a big one around */
        free(s->undo_log.p);
        s->undo_log = (buf){0};
    }
}

/* Before a write: the first one since the last forget takes the snapshot. */
void store_undo_begin(store *s) {
    if (s->undo_on && !s->undo_snap) s->undo_snap = rocksdb_create_snapshot(s->db);
}

void store_undo_log_rep(store *s, const char *rep, size_t n) {
    if (!s->undo_on || s->undo_overflow) return;
    uint32_t len = (uint32_t)n;
    if (s->undo_log.len + n + 4 > STORE_UNDO_MAX_LOG || store_buf_add(&s->undo_log, (const char *)&len, 4) == (size_t)-1 ||
        store_buf_add(&s->undo_log, rep, n) == (size_t)-1)
        s->undo_overflow = 1;
}

static size_t put_varint32(char *p, uint32_t v) {
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (char)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (char)v;
    return i;
}

/* A range deletion outside a txn, logged as a one-record WriteBatch rep. */
void store_undo_log_range(store *s, int cf, const char *a, size_t al, const char *b, size_t bl) {
    if (!s->undo_on || s->undo_overflow) return;
    char *rep = malloc(12 + 1 + 15 + al + bl);
    if (!rep) {
        s->undo_overflow = 1;
        return;
    }
    memset(rep, 0, 12);
    size_t n = 12;
    rep[n++] = 0x0E; /* kTypeColumnFamilyRangeDeletion */
    n += put_varint32(rep + n, s->cf_id[cf]);
    n += put_varint32(rep + n, (uint32_t)al);
    memcpy(rep + n, a, al), n += al;
    n += put_varint32(rep + n, (uint32_t)bl);
    memcpy(rep + n, b, bl), n += bl;
    store_undo_log_rep(s, rep, n);
    free(rep);
}

static int get_varint32(const char **p, const char *end, uint32_t *v) {
    uint32_t r = 0;
    for (int shift = 0; shift <= 28 && *p < end; shift += 7) {
        unsigned char c = (unsigned char)*(*p)++;
        r |= (uint32_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static int get_slice(const char **p, const char *end, const char **s, size_t *n) {
    uint32_t l;
    if (get_varint32(p, end, &l) || (size_t)(end - *p) < l) return -1;
    *s = *p;
    *n = l;
    *p += l;
    return 0;
}


/* Reads the record at *p: 1 read, 0 at end, -1 malformed or of a kind this
 * store never writes. */
int store_batch_next(const store *s, const char **p, const char *end, batch_rec *r) {
    if (*p >= end) return 0;
    memset(r, 0, sizeof *r);
    r->tag = (unsigned char)*(*p)++;
    uint32_t cfid = 0;
    int val = 0;
    switch (r->tag) {
    case 0x0D: r->cf = -1; return 1;                        /* kTypeNoop (savepoint markers) */
    case 0x00: case 0x07: break;                            /* deletions, default CF */
    case 0x04: case 0x08: if (get_varint32(p, end, &cfid)) return -1; break;
    case 0x01: case 0x02: case 0x0F: val = 1; break;        /* puts, merges, ranges */
    case 0x05: case 0x06: case 0x0E: val = 1; if (get_varint32(p, end, &cfid)) return -1; break;
    default: return -1;
    }
    r->cf = -1;
    for (int i = 0; i < STORE_CF_COUNT; i++)
        if (s->cf_id[i] == cfid) r->cf = i;
    if (r->cf < 0 || get_slice(p, end, &r->k, &r->kl) || (val && get_slice(p, end, &r->v, &r->vl)))
        return -1;
    return 1;
}

/* Puts key back as the snapshot has it. */
static int undo_key(store *s, rocksdb_writebatch_t *u, rocksdb_readoptions_t *ro, int cf, const char *k, size_t kl,
                    char **rerr) {
    size_t vl;
    char *v = rocksdb_get_cf(s->db, ro, s->cf[cf], k, kl, &vl, rerr);
    if (*rerr) return -1;
    if (v) rocksdb_writebatch_put_cf(u, s->cf[cf], k, kl, v, vl);
    else rocksdb_writebatch_delete_cf(u, s->cf[cf], k, kl);
    free(v);
    return 0;
}

/* Puts back every key of [a, b) that the snapshot has. */
static int undo_range(store *s, rocksdb_writebatch_t *u, rocksdb_readoptions_t *ro, int cf, const char *a, size_t al,
                      const char *b, size_t bl, long *keys, char **rerr) {
    rocksdb_readoptions_t *rro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(rro, s->undo_snap);
    rocksdb_readoptions_set_iterate_upper_bound(rro, b, bl);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, rro, s->cf[cf]);
    int rc = 0;
    for (rocksdb_iter_seek(it, a, al); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        if (++*keys > STORE_UNDO_MAX_KEYS) {
            rc = -1;
            break;
        }
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
        rocksdb_writebatch_put_cf(u, s->cf[cf], k, kl, v, vl);
    }
    if (rc == 0) rocksdb_iter_get_error(it, rerr);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(rro);
    (void)ro;
    return rc == 0 && !*rerr ? 0 : -1;
}

int store_undo_unflushed(store *s, char **err) {
    assert(!s->wtxn); /* the group in flight's result is taken first */
    if (!s->undo_on) {
        if (err) *err = strdup("undo: not enabled");
        return -1;
    }
    if (s->undo_overflow) {
        if (err) *err = strdup("undo: too much written since the last WAL flush");
        return -1;
    }
    if (!s->undo_snap || s->undo_log.len == 0) return 0;
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(ro, s->undo_snap);
    rocksdb_writebatch_t *u = rocksdb_writebatch_create();
    char *rerr = NULL;
    const char *why = NULL;
    long keys = 0;
    const char *p = s->undo_log.p, *end = p + s->undo_log.len;
    while (p < end && !why && !rerr) {
        uint32_t n;
        memcpy(&n, p, 4);
        const char *r = p + 16, *re = p + 4 + n; /* past the length and the 12-byte header */
        p = re;
        batch_rec b;
        int got;
        while (!why && !rerr && (got = store_batch_next(s, &r, re, &b)) != 0) {
            if (got < 0) {
                why = "undo: a record it cannot read or put back";
                break;
            }
            switch (b.tag) {
            case 0x0D: continue;
            case 0x0E: case 0x0F: /* range deletions */
                if (undo_range(s, u, ro, b.cf, b.k, b.kl, b.v, b.vl, &keys, &rerr) < 0 && !rerr)
                    why = "undo: a range deletion too big to put back";
                break;
            default: /* point writes of any kind */
                if (undo_key(s, u, ro, b.cf, b.k, b.kl, &rerr) == 0) keys++;
            }
            if (keys > STORE_UNDO_MAX_KEYS && !why) why = "undo: too many keys";
        }
    }
    if (!why && !rerr) {
        store_prefetch_drop(s);
        rocksdb_write(s->db, s->wo, u, &rerr);
        store_caches_clear(s); /* keys went back to their old state */
    }
    size_t ul = 0;
    if (!why && !rerr) {
        rocksdb_writebatch_data(u, &ul);
        atomic_fetch_add_explicit(&s->unflushed, ul, memory_order_relaxed);
    }
    rocksdb_writebatch_destroy(u);
    rocksdb_readoptions_destroy(ro);
    if (rerr) {
        store_set_err(err, "undo", rerr);
        return -1;
    }
    if (why) {
        if (err) *err = strdup(why);
        return -1;
    }
    /* every logged key is as in the snapshot again: keep both for a next
     * failure (the log keeps growing from here) */
    return 0;
}

