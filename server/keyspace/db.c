/* The keyspace layer: user keys, value headers, expiry visibility, the
 * maintained key count of each database and the commit protocol of the
 * command context. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Encoded keys up to this size are built on the stack. */
#define KEY_STACK 256

typedef struct keybuf {
    char stack[KEY_STACK];
    char *p;
    size_t n;
} keybuf;

static int kb_make(keybuf *kb, const keyspace *s, int db, const char *k, size_t kl) {
    kb->p = kl + 1 <= KEY_STACK ? kb->stack : malloc(kl + 1);
    if (!kb->p) return -1;
    kb->n = enc_data_key(kb->p, s->dbmap[db], k, kl);
    return 0;
}
static void kb_free(keybuf *kb) {
    if (kb->p != kb->stack) free(kb->p);
}

void db_prefetch(keyspace *ks, int db, const resp_slice *keys, int n, int values) {
    char buf[STORE_PREFETCH_MAX * 64];
    const char *kp[STORE_PREFETCH_MAX];
    size_t kl[STORE_PREFETCH_MAX], off = 0;
    int m = 0;
    for (int i = 0; i < n && m < STORE_PREFETCH_MAX; i++) {
        size_t len = keys[i].len + 1; /* enc_data_key: the db byte and the key */
        if (off + len > sizeof buf) continue; /* long keys are read when asked */
        kl[m] = enc_data_key(buf + off, ks->dbmap[db], keys[i].ptr, keys[i].len);
        assert(kl[m] == len);
        kp[m++] = buf + off;
        off += len;
    }
    if (values) store_prefetch(ks->st, (size_t)m, kp, kl);
    else store_prefetch_lines(ks->st, (size_t)m, kp, kl);
}

void db_prefetch_drop(keyspace *ks) { store_prefetch_drop(ks->st); }

static void note_delta(keyspace *s, int db, int64_t d) {
    s->dbsize_delta[db] += d;
    s->dbsize_dirty |= 1u << db;
}

/* Reads the stored entry of k: 1 stored (live or expired), 0 not stored. */
static int raw_get(keyspace *ks, const keybuf *kb, db_value *out) {
    char *err = NULL;
    int r = store_get(ks->tx, STORE_CF_DATA, kb->p, kb->n, &out->raw, &err);
    if (r < 0) return st_storage(&ks->err, err);
    if (r == 0) return 0;
    if (enc_value_decode(out->raw.ptr, out->raw.len, &out->v) < 0) {
        store_val_free(&out->raw);
        return st_fail(&ks->err, ST_ERR, "corrupt value header");
    }
    return 1;
}

int db_lookup(keyspace *ks, int db, const char *k, size_t kl, db_value *out) {
    assert(db >= 0 && db < DB_COUNT);
    keybuf kb;
    memset(out, 0, sizeof *out);
    if (kb_make(&kb, ks, db, k, kl) < 0) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    int r = raw_get(ks, &kb, out);
    kb_free(&kb);
    if (r <= 0) {
        if (r == 0) ks->misses++;
        return r;
    }
    out->present = 1;
    if (out->v.expire_ms && out->v.expire_ms <= (int64_t)now_ms()) {
        store_val_free(&out->raw);
        ks->misses++;
        return 0;
    }
    ks->hits++;
    return 1;
}

void db_value_free(db_value *v) { store_val_free(&v->raw); }

char *db_string_edit(keyspace *ks, db_value *v, int found, size_t newlen, int64_t *expire) {
    size_t oldlen = found == 1 ? v->v.len : 0;
    char *buf = calloc(1, newlen > oldlen ? newlen : oldlen ? oldlen : 1);
    *expire = 0;
    if (found == 1) {
        if (buf) memcpy(buf, v->v.payload, oldlen);
        *expire = v->v.expire_ms;
        db_value_free(v);
    }
    if (!buf) st_fail(&ks->err, ST_NOMEM, "out of memory");
    return buf;
}

int db_lookup_string(keyspace *ks, int db, const resp_slice *k, db_value *out) {
    int r = db_lookup(ks, db, k->ptr, k->len, out);
    if (r == 1 && out->v.type != ENC_TYPE_STRING) {
        db_value_free(out);
        return st_fail(&ks->err, ST_WRONGTYPE, "Operation against a key holding the wrong kind of value");
    }
    return r;
}

int db_exists(keyspace *ks, int db, const char *k, size_t kl) {
    db_value v;
    int r = db_lookup(ks, db, k, kl, &v);
    if (r == 1) db_value_free(&v);
    return r;
}

int db_put(keyspace *s, int db, const char *k, size_t kl, unsigned type,
           int64_t expire_ms, const char *payload, size_t pl, int existed) {
    assert(db >= 0 && db < DB_COUNT);
    keybuf kb;
    if (kb_make(&kb, s, db, k, kl) < 0) return st_fail(&s->err, ST_NOMEM, "out of memory");
    if (existed < 0) {
        /* The key count needs to know; the store's key cache usually knows
         * without a RocksDB lookup (storage/keycache.h). */
        char *err = NULL;
        existed = store_exists(s->tx, STORE_CF_DATA, kb.p, kb.n, &err);
        if (existed < 0) {
            kb_free(&kb);
            return st_storage(&s->err, err);
        }
    }
    size_t hl = enc_header_len(expire_ms);
    resp_buf_clear(&s->scratch);
    char *dst = resp_buf_reserve(&s->scratch, hl + pl);
    if (!dst) {
        kb_free(&kb);
        return st_fail(&s->err, ST_NOMEM, "out of memory");
    }
    enc_value_header(dst, type, expire_ms);
    if (pl) memcpy(dst + hl, payload, pl);
    store_put(s->tx, STORE_CF_DATA, kb.p, kb.n, dst, hl + pl);
    if (expire_ms) {
        /* Index entry for the sweeper. An entry left behind by an overwrite
         * or a PERSIST is harmless: the sweeper checks the key's own expiry. */
        resp_buf_clear(&s->scratch);
        char *x = resp_buf_reserve(&s->scratch, 9 + kb.n);
        if (x) {
            x[0] = ENC_META_EXPIRE;
            enc_put_u64(x + 1, (uint64_t)expire_ms);
            memcpy(x + 9, kb.p, kb.n);
            store_put(s->tx, STORE_CF_META, x, 9 + kb.n, "", 0);
        }
    }
    kb_free(&kb);
    if (!existed) note_delta(s, s->dbmap[db], 1);
    if (!existed && s->on_event) s->on_event(s->event_ctx, KS_EVENT_NEW, s->dbmap[db], k, kl);
    return 0;
}

int db_delete(keyspace *s, int db, const char *k, size_t kl) {
    keybuf kb;
    db_value v;
    if (kb_make(&kb, s, db, k, kl) < 0) return st_fail(&s->err, ST_NOMEM, "out of memory");
    int r = raw_get(s, &kb, &v);
    if (r <= 0) { kb_free(&kb); return r; }
    int live = !(v.v.expire_ms && v.v.expire_ms <= (int64_t)now_ms());
    store_val_free(&v.raw);
    store_del(s->tx, STORE_CF_DATA, kb.p, kb.n);
    kb_free(&kb);
    note_delta(s, s->dbmap[db], -1);
    return live;
}

int64_t db_delete_prefix(keyspace *s, int db, const char *p, size_t pl) {
    assert(pl > 0);
    keybuf lo;
    if (kb_make(&lo, s, db, p, pl) < 0) return st_fail(&s->err, ST_NOMEM, "out of memory");
    char *hi = malloc(lo.n);
    size_t hl = hi ? enc_prefix_end(hi, lo.p, lo.n) : 0;
    if (!hi) { kb_free(&lo); return st_fail(&s->err, ST_NOMEM, "out of memory"); }
    /* The count is needed anyway (the reply and DBSIZE), so walk the keys
     * once, then drop them all with one range tombstone (store_del_range:
     * key by key when the data CF's insert hints are on). */
    int64_t stored = 0, live = 0, now = (int64_t)now_ms();
    store_iter *it = store_iter_new(s->tx, STORE_CF_DATA, lo.p, lo.n, hi, hl);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vl;
        const char *v = store_iter_value(it, &vl);
        enc_value ev;
        stored++;
        if (enc_value_decode(v, vl, &ev) == 0 && !(ev.expire_ms && ev.expire_ms <= now)) live++;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) {
        free(hi);
        kb_free(&lo);
        return st_storage(&s->err, err);
    }
    if (stored) {
        store_del_range(s->tx, STORE_CF_DATA, lo.p, lo.n, hi, hl);
        note_delta(s, s->dbmap[db], -stored);
    }
    free(hi);
    kb_free(&lo);
    return live;
}

int db_flush(keyspace *s, int db) {
    int p = s->dbmap[db];
    char lo = (char)p, hi = (char)(p + 1);
    if (s->dbsize[p] + s->dbsize_delta[p] == 0 && store_txn_count(s->tx) == 0) return 0;
    store_del_range(s->tx, STORE_CF_DATA, &lo, 1, &hi, 1);
    /* the database's collection elements (keyed by the same db byte) */
    store_del_range(s->tx, STORE_CF_ELEM, &lo, 1, &hi, 1);
    note_delta(s, p, -(s->dbsize[p] + s->dbsize_delta[p]));
    return 0;
}

int db_phys(const keyspace *s, int db) { return s->dbmap[db]; }

int64_t db_size(const keyspace *s, int db) {
    int p = s->dbmap[db];
    return s->dbsize[p] + s->dbsize_delta[p]; /* with this iteration's pending writes */
}

/* ---- iteration ---------------------------------------------------------- */

void db_iter_open(db_iter *di, keyspace *ks, int db, const char *p, size_t pl) {
    char stack[KEY_STACK + 1];
    char *lo = pl + 1 <= KEY_STACK ? stack : malloc(pl + 1);
    char *hi = lo ? malloc(pl + 1) : NULL;
    di->db = ks->dbmap[db];
    di->now = (int64_t)now_ms();
    di->started = 0;
    di->it = NULL;
    if (!hi) {
        if (lo != stack) free(lo);
        return;
    }
    size_t ll = enc_data_key(lo, ks->dbmap[db], p, pl);
    size_t hl = enc_prefix_end(hi, lo, ll);
    di->it = store_iter_new(ks->tx, STORE_CF_DATA, lo, ll, hi, hl);
    free(hi);
    if (lo != stack) free(lo);
}

void db_iter_seek(db_iter *di, const char *k, size_t kl, int after) {
    if (!di->it) return;
    char *buf = malloc(kl + 2);
    if (!buf) return;
    size_t n = enc_data_key(buf, di->db, k, kl);
    if (after) buf[n++] = 0; /* the smallest key greater than k */
    store_iter_seek(di->it, buf, n);
    di->started = 0;
    free(buf);
}

int db_iter_next(db_iter *di, const char **k, size_t *kl, enc_value *v) {
    if (!di->it) return -1;
    if (di->started) store_iter_next(di->it);
    di->started = 1;
    for (; store_iter_valid(di->it); store_iter_next(di->it)) {
        size_t n, vl;
        const char *key = store_iter_key(di->it, &n);
        const char *val = store_iter_value(di->it, &vl);
        if (enc_value_decode(val, vl, v) < 0 || (v->expire_ms && v->expire_ms <= di->now)) continue;
        *k = key + 1;
        *kl = n - 1;
        return 1;
    }
    return store_iter_error(di->it, NULL) < 0 ? -1 : 0;
}

void db_iter_close(db_iter *di) {
    store_iter_free(di->it);
    di->it = NULL;
}

/* ---- active expiry ---------------------------------------------------------- */

int64_t db_expire_sweep(keyspace *s, uint64_t now, int64_t max) {
    assert(ks_idle(s)); /* its own batch: never inside a command */
    char lo[1] = {ENC_META_EXPIRE}, hi[9];
    hi[0] = ENC_META_EXPIRE;
    enc_put_u64(hi + 1, now + 1);
    int64_t removed = 0;
    for (;;) {
        /* Collect a chunk first: no writes while an iterator is open. */
        enum { CHUNK = 256 };
        char *keys[CHUNK];
        size_t lens[CHUNK];
        int n = 0;
        store_iter *it = store_iter_new(s->tx, STORE_CF_META, lo, 1, hi, 9);
        if (!it) return -1;
        for (; n < CHUNK && (max < 0 || removed + n < max) && store_iter_valid(it); store_iter_next(it)) {
            size_t kl;
            const char *k = store_iter_key(it, &kl);
            if (kl < 10 || !(keys[n] = malloc(kl))) continue;
            memcpy(keys[n], k, kl);
            lens[n++] = kl;
        }
        store_iter_free(it);
        if (n == 0) break;
        int64_t done = 0;
        for (int i = 0; i < n; i++) {
            const char *dk = keys[i] + 9; /* db || key */
            size_t dkl = lens[i] - 9;
            int db = (unsigned char)dk[0];
            int64_t when = (int64_t)enc_get_u64(keys[i] + 1);
            store_val v;
            enc_value ev;
            if (db < DB_COUNT && store_get(s->tx, STORE_CF_DATA, dk, dkl, &v, NULL) == 1) {
                if (enc_value_decode(v.ptr, v.len, &ev) == 0 && ev.expire_ms == when) {
                    store_del(s->tx, STORE_CF_DATA, dk, dkl);
                    note_delta(s, db, -1);
                    if (s->on_event) s->on_event(s->event_ctx, KS_EVENT_EXPIRED, db, dk + 1, dkl - 1);
                    done++;
                }
                store_val_free(&v);
            }
            store_del(s->tx, STORE_CF_META, keys[i], lens[i]);
            free(keys[i]);
        }
        if (ks_commit(s) < 0) return -1;
        removed += done;
        s->expired += (uint64_t)done;
        if (n < CHUNK || (max >= 0 && removed >= max)) break;
    }
    return removed;
}

/* ---- maintained key counts and the commit protocol ------------------------ */

static const char DBMAP_KEY[] = "dbmap";

int ks_init(keyspace *s, store *st, char **err) {
    memset(s, 0, sizeof *s);
    s->st = st;
    s->tx = store_txn_new(st);
    if (!s->tx) {
        *err = strdup("cannot create the command context");
        return -1;
    }
    return ks_reload(s, err);
}

int ks_reload(keyspace *s, char **err) {
    assert(ks_idle(s));
    store_txn *t = s->tx;
    for (int db = 0; db < DB_COUNT; db++) s->dbmap[db] = (uint8_t)db;
    store_val m;
    int r0 = store_get(t, STORE_CF_META, DBMAP_KEY, sizeof DBMAP_KEY - 1, &m, err);
    if (r0 < 0) return -1;
    if (r0 == 1) {
        if (m.len == DB_COUNT)
            for (int db = 0; db < DB_COUNT; db++) s->dbmap[db] = (uint8_t)((unsigned char)m.ptr[db] % DB_COUNT);
        store_val_free(&m);
    }
    for (int db = 0; db < DB_COUNT; db++) {
        char k[2] = {ENC_META_DBSIZE, (char)db};
        store_val v;
        int r = store_get(t, STORE_CF_META, k, 2, &v, err);
        if (r < 0) return -1;
        s->dbsize[db] = 0;
        if (r == 1) {
            if (v.len == 8) s->dbsize[db] = (int64_t)enc_get_u64(v.ptr);
            store_val_free(&v);
        }
    }
    return 0;
}

void ks_free(keyspace *s) {
    if (s->tx) store_txn_free(s->tx);
    s->tx = NULL;
    resp_buf_free(&s->scratch);
}

int ks_idle(const keyspace *s) { return store_txn_count(s->tx) == 0 && s->dbsize_dirty == 0; }

void ks_mark_begin(keyspace *s, ks_mark *m) {
    m->count = store_txn_count(s->tx);
    memcpy(m->delta, s->dbsize_delta, sizeof m->delta);
    m->dirty = s->dbsize_dirty;
    if (m->count) store_txn_savepoint(s->tx);
}

void ks_mark_rollback(keyspace *s, ks_mark *m) {
    /* Each rollback pops one savepoint; marks kept since this one (inner
     * units, or earlier commands of the iteration) left theirs on the stack,
     * so pop until the batch is back where this mark found it. */
    while (store_txn_count(s->tx) > m->count) {
        if (m->count == 0) {
            store_txn_clear(s->tx);
            break;
        }
        store_txn_rollback_to_savepoint(s->tx);
    }
    assert(store_txn_count(s->tx) == m->count);
    memcpy(s->dbsize_delta, m->delta, sizeof m->delta);
    s->dbsize_dirty = m->dirty;
}

/* The changed key counts go into the same batch as the keys. */
static void stage_counts(keyspace *s) {
    for (uint32_t m = s->dbsize_dirty; m; m &= m - 1) {
        int db = __builtin_ctz(m);
        if (!s->dbsize_delta[db]) continue;
        char k[2] = {ENC_META_DBSIZE, (char)db}, v[8];
        enc_put_u64(v, (uint64_t)(s->dbsize[db] + s->dbsize_delta[db]));
        store_put(s->tx, STORE_CF_META, k, 2, v, 8);
    }
}

static void drop_counts(keyspace *s) {
    for (uint32_t m = s->dbsize_dirty; m; m &= m - 1) s->dbsize_delta[__builtin_ctz(m)] = 0;
    s->dbsize_dirty = 0;
}

/* async: hand the batch to the writer thread (store_commit_async), whose
 * result ks_async_finish takes; the counts count it from here on. */
static int commit(keyspace *s, int async, int sync) {
    stage_counts(s);
    if (store_txn_count(s->tx) == 0) {
        drop_counts(s);
        return 0;
    }
    char *err = NULL;
    int r = async ? store_commit_async(s->tx, sync, &err) : store_commit(s->tx, &err);
    if (r < 0) {
        drop_counts(s);
        store_txn_clear(s->tx);
        return st_storage(&s->err, err);
    }
    for (uint32_t m = s->dbsize_dirty; m; m &= m - 1) {
        int db = __builtin_ctz(m);
        s->dbsize[db] += s->dbsize_delta[db];
        s->dbsize_delta[db] = 0;
    }
    s->dbsize_dirty = 0;
    assert(store_txn_count(s->tx) == 0);
    return r;
}

int ks_commit(keyspace *s) { return commit(s, 0, 0); }

int ks_commit_async(keyspace *s, int sync) { return commit(s, 1, sync); }

int ks_async_finish(keyspace *s, char **wal_err) {
    char *err = NULL;
    int r = store_async_finish(s->st, &err);
    if (r == 0) return 0;
    /* What the command context holds now may rest on the failed group. */
    ks_discard(s);
    if (r == -2) {
        *wal_err = err;
        return -2;
    }
    char *rerr = NULL; /* nothing of it was written: the counts counted it */
    if (ks_reload(s, &rerr) < 0) free(rerr);
    st_storage(&s->err, err);
    return -1;
}

void ks_discard(keyspace *s) {
    store_txn_clear(s->tx);
    drop_counts(s);
}

void db_swap(keyspace *s, int a, int b) {
    uint8_t t = s->dbmap[a];
    s->dbmap[a] = s->dbmap[b];
    s->dbmap[b] = t;
    store_put(s->tx, STORE_CF_META, DBMAP_KEY, sizeof DBMAP_KEY - 1, (const char *)s->dbmap, DB_COUNT);
}

void db_unswap(keyspace *s, int a, int b) {
    uint8_t t = s->dbmap[a];
    s->dbmap[a] = s->dbmap[b];
    s->dbmap[b] = t;
}

/* ---- the write guard --------------------------------------------------- */

void ks_guard_register(keyspace *s, const char *prefix) {
    assert(s->nguard < KS_GUARD_MAX && prefix && prefix[0]);
    unsigned char c = (unsigned char)prefix[0];
    s->guard_first[c >> 6] |= 1ull << (c & 63);
    s->guard_len[s->nguard] = strlen(prefix);
    s->guard[s->nguard++] = prefix;
}

int db_has_owned(keyspace *ks, int db) {
    for (int i = 0; i < ks->nguard; i++) {
        db_iter it;
        const char *k;
        size_t kl;
        enc_value v;
        db_iter_open(&it, ks, db, ks->guard[i], strlen(ks->guard[i]));
        int r = db_iter_next(&it, &k, &kl, &v);
        db_iter_close(&it);
        if (r != 0) return 1; /* found, or an error: refuse either way */
    }
    return 0;
}

/* Asked by every write of database 0, so a key whose first byte starts no
 * guarded prefix (most Redis keys) is answered by one bit. */
int db_owned(const keyspace *ks, int db, const char *k, size_t kl, int is_prefix) {
    if (db != 0 || ks->nguard == 0) return 0;
    if (kl == 0) return is_prefix; /* the empty prefix covers every guarded one */
    unsigned char c = (unsigned char)k[0];
    if (!((ks->guard_first[c >> 6] >> (c & 63)) & 1)) return 0;
    for (int i = 0; i < ks->nguard; i++) {
        const char *o = ks->guard[i];
        size_t ol = ks->guard_len[i];
        if ((unsigned char)o[0] != c) continue;
        if (kl >= ol && memcmp(k, o, ol) == 0) return 1;
        if (is_prefix && kl < ol && memcmp(k, o, kl) == 0) return 1;
    }
    return 0;
}
