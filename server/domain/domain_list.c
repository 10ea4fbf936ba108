/* Newest-first pages of domain documents: the one walker behind every
 * [AFTER id] [LIMIT n] list, over the documents themselves or over a meta
 * index that points at them. */
#include <stdlib.h>
#include <string.h>

#include "domain_args.h"
#include "encoding.h"
#include "json.h"
#include "server.h"
#include "domain_list.h"

/* Called per key, newest first: 1 = replied one item, 0 = skipped,
 * -1 = replied an error. */
typedef int (*walk_fn)(client *c, const char *k, size_t kl, const char *v, size_t vl, void *arg);

/* walk_short's limits: entries read forwards, and the bytes of their copies;
 * past SHORT_KEEP_BYTES the copies' buffer is given back after use. */
#define SHORT_MAX_ENTRIES 256
#define SHORT_MAX_BYTES (1u << 20)
#define SHORT_KEEP_BYTES (64u << 10)

/* One entry handed to fn: 0 or 1 (items replied), or -1 after dropping
 * the partial array and keeping only the error fn replied. */
static int visit(client *c, size_t slot, walk_fn fn, const char *k, size_t kl, const char *v, size_t vl,
                 void *arg) {
    size_t before = c->out.len;
    int r = fn(c, k, kl, v, vl, arg);
    if (r < 0) {
        size_t el = c->out.len - before;
        memmove(c->out.data + slot, c->out.data + before, el);
        c->out.len = slot + el;
    }
    return r;
}

/* A short range read forwards: where each entry's key and value copy is. */
typedef struct fwd_entry {
    size_t off, kl, vl;
} fwd_entry;

/* The copies of one short range (per thread: the loop's, or a test's). */
typedef struct fwd_buf {
    fwd_entry ent[SHORT_MAX_ENTRIES];
    size_t n; /* entries of the last read (walk_short's when it gave up) */
    resp_buf bytes;
} fwd_buf;

static _Thread_local fwd_buf fwd;

/* How many entries a newest-first page of limit items reads forwards before
 * it gives up (see walk_short): past that, a forward read wastes more than
 * reading the page backwards costs. */
static size_t short_bound(int64_t limit) {
    int64_t b = 2 * limit + 16;
    return b < SHORT_MAX_ENTRIES ? (size_t)b : SHORT_MAX_ENTRIES;
}

/* A newest-first page of a range of at most short_bound entries below end
 * (at, al: the AFTER key, exclusive; al 0: to the range's end). RocksDB's
 * memtable is a skiplist without back links: a step backwards searches it
 * from the top (log n comparisons), a step forwards follows one link. So a
 * short range is read forwards, its entries copied, and replayed newest
 * first. Returns 1 with nothing replied when the range is longer (or its
 * copies would pass SHORT_MAX_BYTES): the caller then walks backwards. */
static int walk_short(client *c, store_iter *it, const char *lo, size_t ll, const char *at, size_t al,
                      const dom_page *pg, walk_fn fn, void *arg) {
    size_t bound = short_bound(pg->limit), n = 0;
    resp_buf *b = &fwd.bytes;
    if (b->cap > SHORT_KEEP_BYTES) resp_buf_free(b);
    resp_buf_clear(b);
    for (store_iter_seek(it, lo, ll); store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl, off = b->len;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        if (al && enc_bytes_cmp(k, kl, at, al) >= 0) break;
        if (n == bound || kl + vl > SHORT_MAX_BYTES - off || resp_buf_append(b, k, kl) < 0 ||
            resp_buf_append(b, v, vl) < 0) {
            fwd.n = n; /* what walk_chunks estimates from */
            return 1;
        }
        fwd.ent[n++] = (fwd_entry){off, kl, vl};
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) {
        reply_storage_error(c, err);
        return -1;
    }
    size_t slot = reply_deferred_array(c);
    int64_t got = 0;
    while (n > 0 && got < pg->limit) {
        const fwd_entry *e = &fwd.ent[--n];
        int r = visit(c, slot, fn, b->data + e->off, e->kl, b->data + e->off + e->kl, e->vl, arg);
        if (r < 0) return -1;
        got += r;
    }
    reply_set_deferred_array(c, slot, got);
    return 0;
}

/* Continues a newest-first page backwards from below ub (exclusive; ubl 0:
 * from the range's end), replying into the array at slot until *got
 * reaches limit. 0, or -1 after an error reply. */
static int walk_back(client *c, store_iter *it, const char *ub, size_t ubl, size_t slot, int64_t *got,
                     int64_t limit, walk_fn fn, void *arg) {
    if (ubl) {
        size_t kl;
        store_iter_seek_for_prev(it, ub, ubl);
        const char *k;
        if (store_iter_valid(it) && (k = store_iter_key(it, &kl)) && kl == ubl && memcmp(k, ub, ubl) == 0)
            store_iter_prev(it); /* exclusive */
    } else {
        store_iter_seek_last(it);
    }
    for (; *got < limit && store_iter_valid(it); store_iter_prev(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        int r = visit(c, slot, fn, k, kl, v, vl, arg);
        if (r < 0) return -1;
        *got += r;
    }
    return 0;
}

/* The server id (16 lowercase hex digits) that key k has right after the
 * range's prefix of ll bytes: 1 with *id, 0 when it has none. */
static int id_after(const char *k, size_t kl, size_t ll, uint64_t *id);
/* ... of the iterator's current entry (not valid: 0) */
static int id_here(store_iter *it, size_t ll, uint64_t *id) {
    if (!store_iter_valid(it)) return 0;
    size_t kl;
    const char *k = store_iter_key(it, &kl);
    return id_after(k, kl, ll, id);
}

static int id_after(const char *k, size_t kl, size_t ll, uint64_t *id) {
    return kl >= ll + DOM_ID_HEX && dom_server_id_value(k + ll, DOM_ID_HEX, id);
}

/* Entries a chunk aims at, and the retries of a chunk that came out too
 * big before walk_chunks goes backwards instead. */
#define CHUNK_AIM 160
#define CHUNK_RETRIES 6

/* A newest-first page of a long range, forwards in chunks from its end:
 * ids are (ms << 16 | seq), so where the page's entries start can be
 * guessed from how densely ids fill the range (per_id: entries per id;
 * first: the range's first id). Each chunk [start, upper) is read
 * forwards (a step forwards follows one skiplist link; a step backwards
 * searches the memtable from the top) and replayed newest first; the next
 * chunk ends where it started, its start guessed from the density just
 * seen. A chunk that holds more than fits walk_short's buffer is read
 * again from a later start. Keys are handled as bytes in [start, upper),
 * so a bad guess costs time, never an entry: the last chunk starts at lo.
 * last: the range's last id, or the caller's guess of it (0: looked up
 * here); first and last may be stale guesses (the count record's): the
 * first chunk reads to the range's end, and a chunk reaches lo once from
 * falls to first, so they cost time, never an entry.
 * Returns 1, with nothing replied, when the range's ends do not carry
 * server ids (imported ids: the caller walks backwards), else 0 or -1. */
static int walk_chunks(client *c, store_iter *it, const char *lo, size_t ll, const char *at, size_t al,
                       const dom_page *pg, walk_fn fn, void *arg, uint64_t first, double per_id, uint64_t last) {
    uint64_t top;
    if (al) {
        if (!id_after(at, al, ll, &top)) return 1;
    } else if (last) {
        top = last + 1; /* the caller's (last < UINT64_MAX: it is above first) */
    } else {
        store_iter_seek_last(it);
        if (!id_here(it, ll, &top) || top == UINT64_MAX) return 1;
        top++; /* exclusive */
    }
    char upper[DOM_KEY_MAX + DOM_ID_MAX + 2], start[DOM_KEY_MAX + DOM_ID_HEX + 2];
    size_t ul = al; /* 0: to the range's end */
    if (al) memcpy(upper, at, al);
    memcpy(start, lo, ll);
    size_t slot = reply_deferred_array(c);
    int64_t got = 0;
    while (got < pg->limit) {
        double aim = (double)(pg->limit - got) * 1.5 + 4;
        if (aim > CHUNK_AIM) aim = CHUNK_AIM;
        double span = aim / per_id;
        if (span < 1) span = 1;
        size_t sl = 0, n = 0;
        uint64_t from = 0;
        for (int tries = 0;; tries++) {
            from = span >= (double)top ? 0 : top - (uint64_t)span;
            if (from <= first) {
                sl = ll; /* the rest of the range */
            } else {
                char id[DOM_ID_HEX + 1];
                dom_format_id(id, from);
                memcpy(start + ll, id, DOM_ID_HEX);
                sl = ll + DOM_ID_HEX;
            }
            resp_buf *bb = &fwd.bytes;
            resp_buf_clear(bb);
            int full = 0;
            n = 0;
            for (store_iter_seek(it, start, sl); store_iter_valid(it); store_iter_next(it)) {
                size_t kl, vl, off = bb->len;
                const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
                if (ul && enc_bytes_cmp(k, kl, upper, ul) >= 0) break;
                if (n == SHORT_MAX_ENTRIES || kl + vl > SHORT_MAX_BYTES - off || resp_buf_append(bb, k, kl) < 0 ||
                    resp_buf_append(bb, v, vl) < 0) {
                    full = 1;
                    break;
                }
                fwd.ent[n++] = (fwd_entry){off, kl, vl};
            }
            if (!full) break;
            if (sl == ll + DOM_ID_HEX && top - from <= 1) tries = CHUNK_RETRIES; /* one id: no later start */
            if (tries >= CHUNK_RETRIES) {
                /* dense beyond any guess (or huge values): backwards from here */
                if (walk_back(c, it, upper, ul, slot, &got, pg->limit, fn, arg) < 0) return -1;
                goto done;
            }
            span /= 4;
        }
        char *err = NULL;
        if (store_iter_error(it, &err) < 0) {
            c->out.len = slot;
            reply_storage_error(c, err);
            return -1;
        }
        const resp_buf *bb = &fwd.bytes;
        size_t nread = n;
        while (n > 0 && got < pg->limit) {
            const fwd_entry *e = &fwd.ent[--n];
            int r = visit(c, slot, fn, bb->data + e->off, e->kl, bb->data + e->off + e->kl, e->vl, arg);
            if (r < 0) return -1;
            got += r;
        }
        if (sl == ll) break; /* the range's start was read */
        memcpy(upper, start, sl);
        ul = sl;
        /* the next chunk ends where this one started; its density is the
         * better guess (an empty chunk: twice the span) */
        per_id = nread ? (double)nread / (double)(top - from) : per_id / 2;
        top = from;
    }
done:;
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) {
        c->out.len = slot;
        reply_storage_error(c, err);
        return -1;
    }
    reply_set_deferred_array(c, slot, got);
    return 0;
}

/* walk_chunks after walk_short gave up: the density of its entries. */
static int chunks_after_short(client *c, store_iter *it, const char *lo, size_t ll, const char *at, size_t al,
                              const dom_page *pg, walk_fn fn, void *arg) {
    const resp_buf *b = &fwd.bytes;
    uint64_t first, last;
    if (fwd.n < 8 || !id_after(b->data + fwd.ent[0].off, fwd.ent[0].kl, ll, &first) ||
        !id_after(b->data + fwd.ent[fwd.n - 1].off, fwd.ent[fwd.n - 1].kl, ll, &last) || last <= first)
        return 1;
    return walk_chunks(c, it, lo, ll, at, al, pg, fn, arg, first, (double)(fwd.n - 1) / (double)(last - first), 0);
}

/* walk_chunks straight away for a list the handler knows is long (its
 * count): the density of the whole range, from its first and last ids,
 * which the handler may know too (the count record's); else two seeks
 * find them. */
static int chunks_by_hint(client *c, store_iter *it, const char *lo, size_t ll, const char *at, size_t al,
                          const dom_page *pg, walk_fn fn, void *arg) {
    uint64_t first, last;
    if (pg->first_hint && pg->last_hint > pg->first_hint && pg->last_hint < UINT64_MAX)
        return walk_chunks(c, it, lo, ll, at, al, pg, fn, arg, pg->first_hint,
                           (double)(pg->size_hint - 1) / (double)(pg->last_hint - pg->first_hint), pg->last_hint);
    store_iter_seek(it, lo, ll);
    if (!id_here(it, ll, &first)) return 1;
    store_iter_seek_last(it);
    if (!id_here(it, ll, &last) || last <= first) return 1;
    return walk_chunks(c, it, lo, ll, at, al, pg, fn, arg, first,
                       (double)(pg->size_hint - 1) / (double)(last - first), last);
}

/* Walks cf keys in [lo, prefix end), backwards (newest first) or forwards,
 * starting past lo||after (exclusive) when AFTER is given, until limit
 * items were replied. */
static int walk(client *c, int cf, const char *lo, size_t ll, const dom_page *pg, int forward, walk_fn fn,
                void *arg) {
    char hi[DOM_KEY_MAX + 2], at[DOM_KEY_MAX + DOM_ID_MAX + 2];
    size_t hl = enc_prefix_end(hi, lo, ll), al = 0;
    store_iter *it = store_iter_new(c->srv->ks.tx, cf, lo, ll, hi, hl);
    if (!it) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    if (pg->after) {
        memcpy(at, lo, ll);
        memcpy(at + ll, pg->after, pg->after_len); /* after_len <= DOM_ID_MAX */
        al = ll + pg->after_len;
    }
    if (!forward) {
        int r = 1;
        /* a long list: its page is read from its end straight away */
        if (pg->size_hint > (int64_t)short_bound(pg->limit)) r = chunks_by_hint(c, it, lo, ll, at, al, pg, fn, arg);
        else if ((r = walk_short(c, it, lo, ll, at, al, pg, fn, arg)) == 1)
            r = chunks_after_short(c, it, lo, ll, at, al, pg, fn, arg);
        if (r != 1) {
            store_iter_free(it);
            return r;
        }
    }
    void (*step)(store_iter *) = forward ? store_iter_next : store_iter_prev;
    if (al) {
        size_t kl;
        if (forward) store_iter_seek(it, at, al);
        else store_iter_seek_for_prev(it, at, al);
        const char *k;
        if (store_iter_valid(it) && (k = store_iter_key(it, &kl)) && kl == al && memcmp(k, at, al) == 0)
            step(it); /* AFTER is exclusive */
    } else if (forward) {
        store_iter_seek(it, lo, ll);
    } else {
        store_iter_seek_last(it);
    }
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    for (; n < pg->limit && store_iter_valid(it); step(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        int r = visit(c, slot, fn, k, kl, v, vl, arg);
        if (r < 0) {
            store_iter_free(it);
            return -1;
        }
        n += r;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) {
        c->out.len = slot;
        reply_storage_error(c, err);
        return -1;
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

/* ---- over the documents ------------------------------------------------------ */

typedef struct docs_ctx {
    dom_list_filter filter;
    void *arg;
    int64_t now;
} docs_ctx;

static int visit_doc(client *c, const char *k, size_t kl, const char *v, size_t vl, void *arg) {
    docs_ctx *d = arg;
    enc_value ev;
    if (enc_value_decode(v, vl, &ev) < 0 || (ev.expire_ms && ev.expire_ms <= d->now)) return 0;
    if (d->filter) {
        int f = d->filter(c, k + 1, kl - 1, ev.payload, ev.len, d->arg);
        if (f <= 0) return f;
    }
    reply_bulk(c, ev.payload, ev.len);
    return 1;
}

int dom_list_docs(client *c, const dkey *prefix, const dom_page *pg, dom_list_filter filter, void *arg) {
    char lo[DOM_KEY_MAX + 2];
    size_t ll = enc_data_key(lo, db_phys(&c->srv->ks, 0), prefix->buf, prefix->len);
    docs_ctx d = {filter, arg, (int64_t)now_ms()};
    return walk(c, STORE_CF_DATA, lo, ll, pg, 0, visit_doc, &d);
}

/* ---- over a meta index --------------------------------------------------------- */

typedef struct index_ctx {
    size_t plen;
    dom_index_resolve resolve;
    void *arg;
} index_ctx;

static int visit_entry(client *c, const char *k, size_t kl, const char *v, size_t vl, void *arg) {
    index_ctx *x = arg;
    dkey dk;
    if (!x->resolve(k + x->plen, kl - x->plen, v, vl, &dk, x->arg)) return 0;
    db_value dv;
    int r = dom_get_raw(KS(c), &dk, &dv);
    if (r <= 0) return r; /* an entry without its document is skipped */
    reply_bulk(c, dv.v.payload, dv.v.len);
    db_value_free(&dv);
    return 1;
}

int dom_list_index(client *c, const dkey *index_prefix, const dom_page *pg, dom_index_resolve resolve, void *arg) {
    index_ctx x = {index_prefix->len, resolve, arg};
    return walk(c, STORE_CF_META, index_prefix->buf, index_prefix->len, pg, 0, visit_entry, &x);
}

int dom_list_index_asc(client *c, const dkey *index_prefix, const dom_page *pg, dom_index_resolve resolve, void *arg) {
    index_ctx x = {index_prefix->len, resolve, arg};
    return walk(c, STORE_CF_META, index_prefix->buf, index_prefix->len, pg, 1, visit_entry, &x);
}

int dom_reply_doc(client *c, const json_t *doc) {
    size_t n;
    char *text = json_encode(doc, &n);
    if (!text) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    reply_bulk(c, text, n);
    free(text);
    return 0;
}
