/* Newest-first listing of domain documents. */
#include <string.h>

#include "domain.h"
#include "encoding.h"

/* ---- listing ------------------------------------------------------------------------ */

int dom_list_docs(client *c, const dkey *prefix, const dom_page *pg, dom_list_filter filter, void *arg) {
    char lo[DOM_KEY_MAX + 2], hi[DOM_KEY_MAX + 2], at[DOM_KEY_MAX + DOM_ID_MAX + 2];
    size_t ll = enc_data_key(lo, db_phys(c->srv, 0), prefix->buf, prefix->len);
    size_t hl = enc_prefix_end(hi, lo, ll);
    store_iter *it = store_iter_new(c->srv->tx, STORE_CF_DATA, lo, ll, hi, hl);
    if (!it) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    if (pg->after) {
        memcpy(at, lo, ll);
        memcpy(at + ll, pg->after, pg->after_len);
        size_t al = ll + pg->after_len;
        store_iter_seek_for_prev(it, at, al);
        size_t kl;
        const char *k;
        if (store_iter_valid(it) && (k = store_iter_key(it, &kl)) && kl == al && memcmp(k, at, al) == 0)
            store_iter_prev(it); /* AFTER is exclusive */
    } else {
        store_iter_seek_last(it);
    }
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    int64_t now = (int64_t)now_ms();
    for (; n < pg->limit && store_iter_valid(it); store_iter_prev(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        enc_value ev;
        if (enc_value_decode(v, vl, &ev) < 0 || (ev.expire_ms && ev.expire_ms <= now)) continue;
        if (filter) {
            size_t before = c->out.len;
            int f = filter(c, k + 1, kl - 1, ev.payload, ev.len, arg);
            if (f < 0) {
                /* keep the filter's error reply, drop the partial array */
                size_t el = c->out.len - before;
                memmove(c->out.data + slot, c->out.data + before, el);
                c->out.len = slot + el;
                store_iter_free(it);
                return -1;
            }
            if (f == 0) continue;
        }
        reply_bulk(c, ev.payload, ev.len);
        n++;
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

