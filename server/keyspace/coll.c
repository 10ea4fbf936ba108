/* Collections: metadata + one record per element (see coll.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll.h"

static const char COLLVER_KEY[] = "collver";

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A version no collection ever had: above the persisted high-water mark. */
static uint64_t new_version(keyspace *ks) {
    if (!ks->collver_loaded) {
        store_val v;
        if (store_get(ks->tx, STORE_CF_META, COLLVER_KEY, sizeof COLLVER_KEY - 1, &v, NULL) == 1) {
            if (v.len == 8) ks->collver = enc_get_u64(v.ptr);
            store_val_free(&v);
        }
        ks->collver_loaded = 1;
    }
    uint64_t t = now_us();
    ks->collver = t > ks->collver ? t : ks->collver + 1;
    return ks->collver;
}

static int set_prefix(keyspace *ks, coll *c) {
    size_t need = c->kl + ENC_ELEM_OVERHEAD + 64;
    if (need > c->kcap) {
        char *p = realloc(c->kbuf, need);
        if (!p) return st_fail(&ks->err, ST_NOMEM, "out of memory");
        c->kbuf = p;
        c->kcap = need;
    }
    c->pl = enc_elem_prefix(c->kbuf, db_phys(ks, c->db), c->key, c->kl, c->version, 0);
    return 0;
}

void coll_reset(keyspace *ks, coll *c) {
    c->version = new_version(ks);
    c->size = 0;
    c->head = c->tail = COLL_LIST_START;
    c->found = 0;
    set_prefix(ks, c);
}

int coll_open(keyspace *ks, int db, const char *k, size_t kl, unsigned type, coll *c) {
    assert(enc_is_collection(type));
    memset(c, 0, sizeof *c);
    c->db = db;
    c->key = k;
    c->kl = kl;
    c->type = type;
    db_value v;
    int r = db_lookup(ks, db, k, kl, &v);
    if (r < 0) return -1;
    c->present = v.present;
    if (r == 0) {
        coll_reset(ks, c);
        return c->kbuf ? 0 : -1;
    }
    if (v.v.type != type) {
        db_value_free(&v);
        return st_fail(&ks->err, ST_WRONGTYPE, COLL_WRONGTYPE);
    }
    size_t need = type == ENC_TYPE_LIST ? ENC_LIST_META_LEN : ENC_COLL_META_LEN;
    if (v.v.len < need) {
        db_value_free(&v);
        return st_fail(&ks->err, ST_ERR, "corrupt collection metadata");
    }
    c->found = 1;
    c->expire_ms = v.v.expire_ms;
    c->version = enc_get_u64(v.v.payload);
    c->size = (int64_t)enc_get_u64(v.v.payload + 8);
    c->head = c->tail = COLL_LIST_START;
    if (type == ENC_TYPE_LIST) {
        c->head = enc_get_u64(v.v.payload + 16);
        c->tail = enc_get_u64(v.v.payload + 24);
    }
    db_value_free(&v);
    return set_prefix(ks, c) < 0 ? -1 : 1;
}

int coll_create(keyspace *ks, int db, const char *k, size_t kl, unsigned type, coll *c) {
    memset(c, 0, sizeof *c);
    c->db = db;
    c->key = k;
    c->kl = kl;
    c->type = type;
    db_value v;
    int r = db_lookup(ks, db, k, kl, &v);
    if (r < 0) return -1;
    c->present = v.present;
    if (r == 1) db_value_free(&v);
    coll_reset(ks, c);
    c->found = 0;
    return c->kbuf ? 0 : -1;
}

void coll_free(coll *c) {
    free(c->kbuf);
    c->kbuf = NULL;
    c->kcap = 0;
}

const char *coll_key(coll *c, char kind, const char *m, size_t ml, size_t *len) {
    size_t need = c->pl + 1 + ml;
    if (need > c->kcap) {
        size_t cap = need * 2;
        char *p = realloc(c->kbuf, cap);
        if (!p) return NULL;
        c->kbuf = p;
        c->kcap = cap;
    }
    c->kbuf[c->pl] = kind;
    if (ml) memcpy(c->kbuf + c->pl + 1, m, ml);
    *len = need;
    return c->kbuf;
}

int coll_get(keyspace *ks, coll *c, char kind, const char *m, size_t ml, store_val *v) {
    memset(v, 0, sizeof *v);
    if (!c->found && c->size == 0) return 0; /* a new version holds nothing yet */
    size_t n;
    const char *k = coll_key(c, kind, m, ml, &n);
    if (!k) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    char *err = NULL;
    int r = store_get(ks->tx, STORE_CF_ELEM, k, n, v, &err);
    return r < 0 ? st_storage(&ks->err, err) : r;
}

int coll_put(keyspace *ks, coll *c, char kind, const char *m, size_t ml, const char *v, size_t vl) {
    size_t n;
    const char *k = coll_key(c, kind, m, ml, &n);
    if (!k) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    store_put(ks->tx, STORE_CF_ELEM, k, n, v, vl);
    return 0;
}

int coll_del(keyspace *ks, coll *c, char kind, const char *m, size_t ml) {
    size_t n;
    const char *k = coll_key(c, kind, m, ml, &n);
    if (!k) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    store_del(ks->tx, STORE_CF_ELEM, k, n);
    return 0;
}

int coll_del_range(keyspace *ks, coll *c, char kind, const char *lo, size_t ll, const char *hi, size_t hl) {
    size_t n;
    const char *k = coll_key(c, kind, lo, ll, &n);
    char *a = k ? malloc(n) : NULL;
    if (!a) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    memcpy(a, k, n);
    size_t m;
    k = coll_key(c, kind, hi, hl, &m);
    if (!k) {
        free(a);
        return st_fail(&ks->err, ST_NOMEM, "out of memory");
    }
    store_del_range(ks->tx, STORE_CF_ELEM, a, n, k, m);
    free(a);
    return 0;
}

int coll_save(keyspace *ks, coll *c) {
    if (c->size <= 0) {
        if (c->found && db_delete(ks, c->db, c->key, c->kl) < 0) return -1;
        /* A version written and emptied within the command: drop its
         * elements' records too (none remain: the size says so). */
        c->found = 0;
        c->present = 0;
        return 0;
    }
    char meta[ENC_LIST_META_LEN];
    enc_put_u64(meta, c->version);
    enc_put_u64(meta + 8, (uint64_t)c->size);
    size_t ml = ENC_COLL_META_LEN;
    if (c->type == ENC_TYPE_LIST) {
        enc_put_u64(meta + 16, c->head);
        enc_put_u64(meta + 24, c->tail);
        ml = ENC_LIST_META_LEN;
    }
    if (!c->found) {
        char hv[8];
        enc_put_u64(hv, ks->collver);
        store_put(ks->tx, STORE_CF_META, COLLVER_KEY, sizeof COLLVER_KEY - 1, hv, 8);
    }
    if (db_put(ks, c->db, c->key, c->kl, c->type, c->expire_ms, meta, ml, c->found ? 1 : c->present) < 0) return -1;
    c->found = 1;
    c->present = 1;
    if (ks->ready_fn && (c->type == ENC_TYPE_LIST || c->type == ENC_TYPE_ZSET))
        ks->ready_fn(ks->ready_arg, c->db, c->key, c->kl);
    return 0;
}

store_iter *coll_iter(keyspace *ks, coll *c, char kind) {
    size_t n;
    const char *lo = coll_key(c, kind, NULL, 0, &n);
    if (!lo) return NULL;
    char *hi = malloc(n);
    if (!hi) return NULL;
    size_t hl = enc_prefix_end(hi, lo, n);
    store_iter *it = store_iter_new(ks->tx, STORE_CF_ELEM, lo, n, hi, hl);
    free(hi);
    return it;
}

store_iter *coll_iter_range(keyspace *ks, coll *c, char kind, const char *lo, size_t ll, const char *hi, size_t hl) {
    size_t n, m;
    const char *k = coll_key(c, kind, lo, ll, &n);
    char *a = k ? malloc(n) : NULL;
    if (!a) return NULL;
    memcpy(a, k, n);
    store_iter *it = NULL;
    if (hl) {
        k = coll_key(c, kind, hi, hl, &m);
        if (k) it = store_iter_new(ks->tx, STORE_CF_ELEM, a, n, k, m);
    } else {
        k = coll_key(c, kind, NULL, 0, &m);
        char *e = k ? malloc(m) : NULL;
        if (e) {
            size_t el = enc_prefix_end(e, k, m);
            it = store_iter_new(ks->tx, STORE_CF_ELEM, a, n, e, el);
            free(e);
        }
    }
    free(a);
    return it;
}

const char *coll_iter_member(const coll *c, store_iter *it, size_t *ml) {
    size_t kl;
    const char *k = store_iter_key(it, &kl);
    assert(kl >= c->pl + 1);
    *ml = kl - c->pl - 1;
    return k + c->pl + 1;
}

int coll_clone(keyspace *ks, int sdb, const char *src, size_t sl, unsigned type,
               int ddb, const char *dst, size_t dl, int dst_present) {
    coll s, d;
    int rc = -1;
    memset(&d, 0, sizeof d);
    if (coll_open(ks, sdb, src, sl, type, &s) != 1) {
        coll_free(&s);
        return -1;
    }
    d = s;
    d.kbuf = NULL;
    d.kcap = 0;
    d.db = ddb;
    d.key = dst;
    d.kl = dl;
    d.found = 0;
    d.present = dst_present;
    d.version = new_version(ks);
    if (set_prefix(ks, &d) < 0) goto out;
    /* Collect every element (all kinds) first: no writes while iterating. */
    char *hi = malloc(s.pl);
    if (!hi) goto out;
    size_t hl = enc_prefix_end(hi, s.kbuf, s.pl);
    store_iter *it = store_iter_new(ks->tx, STORE_CF_ELEM, s.kbuf, s.pl, hi, hl);
    free(hi);
    if (!it) goto out;
    resp_buf b; /* (len u32, key suffix, len u32, value)* */
    resp_buf_init(&b);
    int oom = 0;
    for (; store_iter_valid(it) && !oom; store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        char h[4];
        size_t sufl = kl - s.pl;
        h[0] = (char)(sufl >> 24); h[1] = (char)(sufl >> 16); h[2] = (char)(sufl >> 8); h[3] = (char)sufl;
        oom |= resp_buf_append(&b, h, 4) < 0 || resp_buf_append(&b, k + s.pl, sufl) < 0;
        h[0] = (char)(vl >> 24); h[1] = (char)(vl >> 16); h[2] = (char)(vl >> 8); h[3] = (char)vl;
        oom |= resp_buf_append(&b, h, 4) < 0 || resp_buf_append(&b, v, vl) < 0;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0 || oom) {
        resp_buf_free(&b);
        if (bad < 0) st_storage(&ks->err, err);
        else st_fail(&ks->err, ST_NOMEM, "out of memory");
        goto out;
    }
    for (size_t off = 0; off < b.len;) {
        const unsigned char *p = (const unsigned char *)b.data + off;
        size_t kl = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        const char *k = b.data + off + 4;
        p += 4 + kl;
        size_t vl = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        const char *v = (const char *)p + 4;
        /* k = kind || member */
        if (coll_put(ks, &d, k[0], k + 1, kl - 1, v, vl) < 0) {
            resp_buf_free(&b);
            goto out;
        }
        off += 8 + kl + vl;
    }
    resp_buf_free(&b);
    rc = coll_save(ks, &d);
out:
    coll_free(&s);
    coll_free(&d);
    return rc;
}

int coll_items_add(coll_items *ci, const char *m, size_t ml, const char *v, size_t vl) {
    if (ci->n == ci->cap) {
        size_t cap = ci->cap ? ci->cap * 2 : 16;
        coll_item *p = realloc(ci->it, cap * sizeof *p);
        if (!p) return -1;
        ci->it = p;
        ci->cap = cap;
    }
    coll_item e = {ci->buf.len, ml, ci->buf.len + ml, vl};
    if (resp_buf_append(&ci->buf, m, ml) < 0 || resp_buf_append(&ci->buf, v, vl) < 0) return -1;
    ci->it[ci->n++] = e;
    return 0;
}

void coll_items_init(coll_items *ci) {
    memset(ci, 0, sizeof *ci);
    resp_buf_init(&ci->buf);
}

void coll_items_free(coll_items *ci) {
    resp_buf_free(&ci->buf);
    free(ci->it);
    memset(ci, 0, sizeof *ci);
}

int coll_collect(keyspace *ks, coll *c, char kind, int64_t max, int reverse, coll_items *out) {
    memset(out, 0, sizeof *out);
    resp_buf_init(&out->buf);
    if (!c->found) return 0;
    store_iter *it = coll_iter(ks, c, kind);
    if (!it) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    if (reverse) store_iter_seek_last(it);
    for (; store_iter_valid(it) && (max < 0 || (int64_t)out->n < max); reverse ? store_iter_prev(it) : store_iter_next(it)) {
        size_t ml, vl;
        const char *m = coll_iter_member(c, it, &ml);
        const char *v = store_iter_value(it, &vl);
        if (coll_items_add(out, m, ml, v, vl) < 0) {
            store_iter_free(it);
            return st_fail(&ks->err, ST_NOMEM, "out of memory");
        }
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    return bad < 0 ? st_storage(&ks->err, err) : 0;
}

int coll_random(keyspace *ks, coll *c, char kind, coll_items *out) {
    if (!c->found || c->size <= 0) return 0;
    store_iter *it = coll_iter(ks, c, kind);
    if (!it) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    if (c->size <= 1024) {
        /* small: uniform, by walking to a random position */
        for (int64_t skip = rand() % c->size; skip > 0 && store_iter_valid(it); skip--) store_iter_next(it);
    } else {
        char rnd[8];
        for (int i = 0; i < 8; i++) rnd[i] = (char)(rand() & 0xff);
        size_t n;
        const char *k = coll_key(c, kind, rnd, sizeof rnd, &n);
        if (k) store_iter_seek(it, k, n);
        if (!store_iter_valid(it)) store_iter_seek(it, c->kbuf, c->pl + 1); /* wrap to the first */
    }
    int r = 0;
    if (store_iter_valid(it)) {
        size_t ml, vl;
        const char *m = coll_iter_member(c, it, &ml);
        const char *v = store_iter_value(it, &vl);
        r = coll_items_add(out, m, ml, v, vl) < 0 ? st_fail(&ks->err, ST_NOMEM, "out of memory") : 1;
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) r = st_storage(&ks->err, err);
    store_iter_free(it);
    return r;
}
