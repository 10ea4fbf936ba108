/* List commands (Redis 7.0): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX
 * LSET LRANGE LTRIM LREM LINSERT LPOS LMOVE RPOPLPUSH LMPOP and the blocking
 * BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (core/block.h).
 *
 * A list is a collection (keyspace/coll.h) whose elements sit at the
 * consecutive indexes [head, tail) of the metadata (kind 'l': index as 8
 * bytes big endian -> value). A push or pop at either end moves head or
 * tail: O(1); LINDEX and LSET are one read or write; LRANGE is a seek and a
 * scan. LINSERT and LREM rewrite the elements after the change (O(n), as
 * they are O(n) in Redis). */
#include <stdlib.h>
#include <string.h>

#include "coll_args.h"
#include "server.h"
#include "cmd_list.h"

static const char *idx_key(char buf[8], uint64_t i) {
    enc_put_u64(buf, i);
    return buf;
}

static int list_put(client *c, coll *l, uint64_t i, const char *v, size_t vl) {
    char b[8];
    return coll_put(KS(c), l, ENC_ELEM_LIST, idx_key(b, i), 8, v, vl);
}

static int list_get(client *c, coll *l, uint64_t i, store_val *v) {
    char b[8];
    return coll_get(KS(c), l, ENC_ELEM_LIST, idx_key(b, i), 8, v);
}

static int list_push(client *c, coll *l, int left, const char *v, size_t vl) {
    uint64_t at = left ? --l->head : l->tail++;
    l->size++;
    return list_put(c, l, at, v, vl);
}

/* Reads count elements from position start (0-based from the head); from
 * the last one backwards with reverse. The iterator is bounded by the
 * range: the deletion marks of popped elements beyond it are never walked. */
static int list_read_dir(client *c, coll *l, int64_t start, int64_t count, int reverse, coll_items *out) {
    coll_items_init(out);
    if (count <= 0 || !l->found) return 0;
    if (count == 1) { /* a pop or LINDEX-like read: a point read costs far less than an iterator */
        store_val v;
        int r = list_get(c, l, l->head + (uint64_t)start, &v);
        if (r < 0) return -1;
        if (r == 0) return st_fail(&KS(c)->err, ST_ERR, "corrupt list: missing elements");
        r = coll_items_add(out, "", 0, v.ptr, v.len);
        store_val_free(&v);
        return r < 0 ? st_fail(&KS(c)->err, ST_NOMEM, "out of memory") : 0;
    }
    char a[8], b[8];
    idx_key(a, l->head + (uint64_t)start);
    idx_key(b, l->head + (uint64_t)(start + count));
    store_iter *it = coll_iter_range(KS(c), l, ENC_ELEM_LIST, a, 8, b, 8);
    if (!it) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    if (reverse) store_iter_seek_last(it);
    for (; store_iter_valid(it) && (int64_t)out->n < count; reverse ? store_iter_prev(it) : store_iter_next(it)) {
        size_t vl;
        const char *v = store_iter_value(it, &vl);
        if (coll_items_add(out, "", 0, v, vl) < 0) break;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) return st_storage(&KS(c)->err, err);
    if ((int64_t)out->n < count) return st_fail(&KS(c)->err, ST_ERR, "corrupt list: missing elements");
    return 0;
}

static int list_read(client *c, coll *l, int64_t start, int64_t count, coll_items *out) {
    return list_read_dir(c, l, start, count, 0, out);
}

/* Pops up to count elements from one end into out (in pop order), without
 * saving the metadata (list_pop saves it). */
static int list_pop_nosave(client *c, coll *l, int left, int64_t count, coll_items *out) {
    if (count > l->size) count = l->size;
    if (list_read_dir(c, l, left ? 0 : l->size - count, count, !left, out) < 0) return -1;
    for (size_t i = 0; i < out->n; i++) {
        char b[8];
        uint64_t at = left ? l->head++ : --l->tail;
        if (coll_del(KS(c), l, ENC_ELEM_LIST, idx_key(b, at), 8) < 0) return -1;
        l->size--;
    }
    if (l->size == 0) l->head = l->tail = COLL_LIST_START;
    return 0;
}

static int list_pop(client *c, coll *l, int left, int64_t count, coll_items *out) {
    return list_pop_nosave(c, l, left, count, out) < 0 ? -1 : coll_save(KS(c), l);
}

static int side_arg(client *c, const resp_slice *a, int *left) {
    if (arg_eq(a, "left")) *left = 1;
    else if (arg_eq(a, "right")) *left = 0;
    else {
        reply_syntax_error(c);
        return -1;
    }
    return 0;
}

/* LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...] */
static int push_generic(client *c, int left, int only_existing) {
    coll l;
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r == 0 && only_existing) {
        coll_free(&l);
        reply_int(c, 0);
        return 0;
    }
    for (int i = 2; i < c->argc; i++)
        if (list_push(c, &l, left, c->argv[i].ptr, c->argv[i].len) < 0) goto fail;
    if (coll_save(KS(c), &l) < 0) goto fail;
    coll_notify(c, NOTIFY_LIST, left ? "lpush" : "rpush", &c->argv[1], NULL);
    coll_free(&l);
    reply_int(c, l.size);
    return 0;
fail:
    coll_free(&l);
    return -1;
}
static int lpush_command(client *c) { return push_generic(c, 1, 0); }
static int rpush_command(client *c) { return push_generic(c, 0, 0); }
static int lpushx_command(client *c) { return push_generic(c, 1, 1); }
static int rpushx_command(client *c) { return push_generic(c, 0, 1); }

/* LPOP/RPOP key [count] */
static int pop_generic(client *c, int left) {
    int64_t count = 1;
    int with_count = c->argc == 3;
    if (c->argc > 3) {
        reply_arity_error(c, c->cmd->name);
        return -1;
    }
    if (with_count && (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return -1;
    }
    coll l;
    coll_items ci;
    coll_items_init(&ci);
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r == 0) {
        if (with_count) reply_null_array(c);
        else reply_null(c);
        goto done;
    }
    if (count == 0) {
        reply_array(c, 0);
        goto done;
    }
    coll_items_free(&ci);
    if (list_pop(c, &l, left, count, &ci) < 0) goto fail;
    coll_notify(c, NOTIFY_LIST, left ? "lpop" : "rpop", &c->argv[1], &l);
    if (with_count) reply_array(c, (int64_t)ci.n);
    for (size_t i = 0; i < ci.n; i++) reply_bulk(c, coll_item_v(&ci, i), ci.it[i].vl);
done:
    coll_items_free(&ci);
    coll_free(&l);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&l);
    return -1;
}
static int lpop_command(client *c) { return pop_generic(c, 1); }
static int rpop_command(client *c) { return pop_generic(c, 0); }

/* LLEN key: O(1) */
static int llen_command(client *c) { return coll_card_command(c, ENC_TYPE_LIST); }

/* A list index argument: position from the head, -1 when out of range. */
static int index_arg(client *c, const resp_slice *a, const coll *l, int64_t *pos) {
    int64_t i;
    if (arg_ll_or_reply(c, a, &i) < 0) return -1;
    if (i < 0) i += l->size;
    *pos = i < 0 || i >= l->size ? -1 : i;
    return 0;
}

/* LINDEX key index */
static int lindex_command(client *c) {
    coll l;
    int64_t pos = -1;
    store_val v;
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0 || index_arg(c, &c->argv[2], &l, &pos) < 0) goto fail;
    if (r == 0 || pos < 0) {
        reply_null(c);
        coll_free(&l);
        return 0;
    }
    r = list_get(c, &l, l.head + (uint64_t)pos, &v);
    if (r < 0) goto fail;
    if (r == 0) reply_null(c);
    else {
        reply_bulk(c, v.ptr, v.len);
        store_val_free(&v);
    }
    coll_free(&l);
    return 0;
fail:
    coll_free(&l);
    return -1;
}

/* LSET key index element */
static int lset_command(client *c) {
    coll l;
    int64_t pos = -1;
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0 || index_arg(c, &c->argv[2], &l, &pos) < 0) goto fail;
    if (r == 0) {
        reply_error(c, "ERR no such key");
        goto fail;
    }
    if (pos < 0) {
        reply_error(c, "ERR index out of range");
        goto fail;
    }
    if (list_put(c, &l, l.head + (uint64_t)pos, c->argv[3].ptr, c->argv[3].len) < 0) goto fail;
    /* the metadata is rewritten too: WATCH sees the change */
    if (coll_save(KS(c), &l) < 0) goto fail;
    coll_notify(c, NOTIFY_LIST, "lset", &c->argv[1], NULL);
    coll_free(&l);
    reply_ok(c);
    return 0;
fail:
    coll_free(&l);
    return -1;
}

/* Redis's start/stop normalization: 0 when empty, else [*s, *e] in range. */
static int range_norm(int64_t start, int64_t stop, int64_t size, int64_t *s, int64_t *e) {
    if (start < 0) start += size;
    if (stop < 0) stop += size;
    if (start < 0) start = 0;
    if (start > stop || start >= size) return 0;
    if (stop >= size) stop = size - 1;
    *s = start;
    *e = stop;
    return 1;
}

/* LRANGE key start stop */
static int lrange_command(client *c) {
    int64_t start, stop, s, e;
    if (arg_ll_or_reply(c, &c->argv[2], &start) < 0 || arg_ll_or_reply(c, &c->argv[3], &stop) < 0) return -1;
    coll l;
    coll_items ci;
    coll_items_init(&ci);
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r == 0 || !range_norm(start, stop, l.size, &s, &e)) {
        reply_array(c, 0);
        goto done;
    }
    if (list_read(c, &l, s, e - s + 1, &ci) < 0) goto fail;
    reply_array(c, (int64_t)ci.n);
    for (size_t i = 0; i < ci.n; i++) reply_bulk(c, coll_item_v(&ci, i), ci.it[i].vl);
done:
    coll_items_free(&ci);
    coll_free(&l);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&l);
    return -1;
}

/* Deletes the elements at indexes [lo, hi): point deletes for a few, one
 * range tombstone for many. */
static int delete_indexes(client *c, coll *l, uint64_t lo, uint64_t hi) {
    if (hi <= lo) return 0;
    if (hi - lo <= 64) {
        for (uint64_t i = lo; i < hi; i++) {
            char b[8];
            if (coll_del(KS(c), l, ENC_ELEM_LIST, idx_key(b, i), 8) < 0) return -1;
        }
        return 0;
    }
    char a[8], b[8];
    return coll_del_range(KS(c), l, ENC_ELEM_LIST, idx_key(a, lo), 8, idx_key(b, hi), 8);
}

/* LTRIM key start stop */
static int ltrim_command(client *c) {
    int64_t start, stop, s, e;
    if (arg_ll_or_reply(c, &c->argv[2], &start) < 0 || arg_ll_or_reply(c, &c->argv[3], &stop) < 0) return -1;
    coll l;
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r > 0) {
        if (!range_norm(start, stop, l.size, &s, &e)) {
            l.size = 0; /* the whole list goes: its metadata, O(1) */
        } else {
            if (delete_indexes(c, &l, l.head, l.head + (uint64_t)s) < 0 ||
                delete_indexes(c, &l, l.head + (uint64_t)e + 1, l.tail) < 0)
                goto fail;
            l.tail = l.head + (uint64_t)e + 1;
            l.head += (uint64_t)s;
            l.size = e - s + 1;
        }
        if (coll_save(KS(c), &l) < 0) goto fail;
        coll_notify(c, NOTIFY_LIST, "ltrim", &c->argv[1], &l); /* even when nothing went, as Redis */
    }
    coll_free(&l);
    reply_ok(c);
    return 0;
fail:
    coll_free(&l);
    return -1;
}

/* Rewrites the list as items (all of it read before): positions from `from`
 * on are put again, the indexes past the new end deleted. */
static int list_rewrite(client *c, coll *l, const coll_items *items, int64_t from) {
    int64_t n = (int64_t)items->n;
    for (int64_t i = from; i < n; i++)
        if (list_put(c, l, l->head + (uint64_t)i, coll_item_v(items, (size_t)i), items->it[i].vl) < 0) return -1;
    if (delete_indexes(c, l, l->head + (uint64_t)n, l->tail) < 0) return -1;
    l->tail = l->head + (uint64_t)n;
    l->size = n;
    return coll_save(KS(c), l);
}

static int item_eq(const coll_items *ci, size_t i, const resp_slice *a) {
    return ci->it[i].vl == a->len && memcmp(coll_item_v(ci, i), a->ptr, a->len) == 0;
}

/* LREM key count element */
static int lrem_command(client *c) {
    int64_t count;
    if (arg_ll_or_reply(c, &c->argv[2], &count) < 0) return -1;
    const resp_slice *el = &c->argv[3];
    coll l;
    coll_items all, kept;
    coll_items_init(&all);
    coll_items_init(&kept);
    int64_t removed = 0, first = -1;
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r == 0) goto done;
    if (list_read(c, &l, 0, l.size, &all) < 0) goto fail;
    int64_t n = (int64_t)all.n, limit = count < 0 ? -count : count;
    /* mark removals (from the tail when count < 0) */
    char *drop = calloc((size_t)n + 1, 1);
    if (!drop) goto fail;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = count < 0 ? n - 1 - k : k;
        if ((limit == 0 || removed < limit) && item_eq(&all, (size_t)i, el)) {
            drop[i] = 1;
            removed++;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        if (drop[i]) {
            if (first < 0) first = i;
            continue;
        }
        if (coll_items_add(&kept, "", 0, coll_item_v(&all, (size_t)i), all.it[i].vl) < 0) {
            free(drop);
            goto fail;
        }
    }
    free(drop);
    if (removed) {
        if (list_rewrite(c, &l, &kept, first) < 0) goto fail;
        coll_notify(c, NOTIFY_LIST, "lrem", &c->argv[1], &l);
    }
done:
    coll_items_free(&all);
    coll_items_free(&kept);
    coll_free(&l);
    reply_int(c, removed);
    return 0;
fail:
    coll_items_free(&all);
    coll_items_free(&kept);
    coll_free(&l);
    return -1;
}

/* LINSERT key BEFORE|AFTER pivot element */
static int linsert_command(client *c) {
    int after;
    if (arg_eq(&c->argv[2], "after")) after = 1;
    else if (arg_eq(&c->argv[2], "before")) after = 0;
    else {
        reply_syntax_error(c);
        return -1;
    }
    coll l;
    coll_items all;
    coll_items_init(&all);
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r == 0) {
        reply_int(c, 0);
        goto done;
    }
    if (list_read(c, &l, 0, l.size, &all) < 0) goto fail;
    int64_t n = (int64_t)all.n, pivot = -1;
    for (int64_t i = 0; i < n && pivot < 0; i++)
        if (item_eq(&all, (size_t)i, &c->argv[3])) pivot = i;
    if (pivot < 0) {
        reply_int(c, -1);
        goto done;
    }
    int64_t pos = pivot + after; /* the new element's position */
    const resp_slice *el = &c->argv[4];
    if (pos <= n / 2) {
        /* shift the head side one place left */
        l.head--;
        for (int64_t i = 0; i < pos; i++)
            if (list_put(c, &l, l.head + (uint64_t)i, coll_item_v(&all, (size_t)i), all.it[i].vl) < 0) goto fail;
    } else {
        for (int64_t i = pos; i < n; i++)
            if (list_put(c, &l, l.head + (uint64_t)i + 1, coll_item_v(&all, (size_t)i), all.it[i].vl) < 0) goto fail;
        l.tail++;
    }
    if (list_put(c, &l, l.head + (uint64_t)pos, el->ptr, el->len) < 0) goto fail;
    l.size++;
    if (coll_save(KS(c), &l) < 0) goto fail;
    coll_notify(c, NOTIFY_LIST, "linsert", &c->argv[1], NULL);
    reply_int(c, l.size);
done:
    coll_items_free(&all);
    coll_free(&l);
    return 0;
fail:
    coll_items_free(&all);
    coll_free(&l);
    return -1;
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
static int lpos_command(client *c) {
    int64_t rank = 1, count = -1, maxlen = 0;
    opt_cursor o = {c, 3};
    while (opt_more(&o)) {
        if (opt_is(&o, "rank")) {
            if (opt_ll(&o, &rank) < 0) return -1;
            if (rank == 0 || rank == INT64_MIN) {
                reply_error(c, rank == 0 ? "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                                           "second ... or use negative to start from the last match"
                                         : "ERR value is out of range");
                return -1;
            }
        } else if (opt_is(&o, "count")) {
            if (opt_ll(&o, &count) < 0) return -1;
            if (count < 0) {
                reply_error(c, "ERR COUNT can't be negative");
                return -1;
            }
        } else if (opt_is(&o, "maxlen")) {
            if (opt_ll(&o, &maxlen) < 0) return -1;
            if (maxlen < 0) {
                reply_error(c, "ERR MAXLEN can't be negative");
                return -1;
            }
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    coll l;
    coll_items all;
    coll_items_init(&all);
    int r = coll_open_arg(c, 1, ENC_TYPE_LIST, &l);
    if (r < 0) goto fail;
    if (r > 0 && list_read(c, &l, 0, l.size, &all) < 0) goto fail;
    int64_t n = (int64_t)all.n, skip = (rank < 0 ? -rank : rank) - 1, found = 0;
    size_t slot = 0;
    if (count >= 0) slot = reply_deferred_array(c);
    for (int64_t k = 0; k < n && (maxlen == 0 || k < maxlen); k++) {
        int64_t i = rank < 0 ? n - 1 - k : k;
        if (!item_eq(&all, (size_t)i, &c->argv[2])) continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        reply_int(c, i);
        found++;
        if (count < 0 || (count > 0 && found == count)) break;
    }
    if (count >= 0) reply_set_deferred_array(c, slot, found);
    else if (!found) reply_null(c);
    coll_items_free(&all);
    coll_free(&l);
    return 0;
fail:
    coll_items_free(&all);
    coll_free(&l);
    return -1;
}

/* ---- moves and multi-key pops -------------------------------------------- */

/* Pops one element from src's `from` side and pushes it on dst's `to` side;
 * replies it. 1 moved, 0 src empty (nothing replied), -1 failed. */
static int move_one(client *c, int si, int di, int from_left, int to_left) {
    coll s, d;
    coll_items ci;
    coll_items_init(&ci);
    memset(&d, 0, sizeof d);
    int rc = -1;
    int r = coll_open_arg(c, si, ENC_TYPE_LIST, &s);
    if (r < 0 && !block_allowed(c) && KS(c)->err.code == ST_WRONGTYPE && !(c->flags & CL_IN_EXEC))
        r = 0; /* a re-run: the source became another type, keep waiting */
    if (r < 0) goto out;
    if (r == 0) {
        rc = 0;
        goto out;
    }
    int same = c->argv[si].len == c->argv[di].len && memcmp(c->argv[si].ptr, c->argv[di].ptr, c->argv[si].len) == 0;
    if (!same && coll_open_arg(c, di, ENC_TYPE_LIST, &d) < 0) goto out;
    coll_items_free(&ci);
    /* onto the same list: saved once after the push, so a one-element list
     * is never deleted and created again in between (no "del"/"new") */
    if ((same ? list_pop_nosave(c, &s, from_left, 1, &ci) : list_pop(c, &s, from_left, 1, &ci)) < 0 || ci.n != 1)
        goto out;
    coll *dst = same ? &s : &d;
    if (list_push(c, dst, to_left, coll_item_v(&ci, 0), ci.it[0].vl) < 0 || coll_save(KS(c), dst) < 0) goto out;
    /* Redis's order: the push on the destination, then the pop (and the
     * source's "del" when it emptied) */
    coll_notify(c, NOTIFY_LIST, to_left ? "lpush" : "rpush", &c->argv[di], NULL);
    coll_notify(c, NOTIFY_LIST, from_left ? "lpop" : "rpop", &c->argv[si], same ? NULL : &s);
    reply_bulk(c, coll_item_v(&ci, 0), ci.it[0].vl);
    rc = 1;
out:
    coll_items_free(&ci);
    coll_free(&s);
    coll_free(&d);
    return rc;
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
static int lmove_command(client *c) {
    int from, to;
    if (side_arg(c, &c->argv[3], &from) < 0 || side_arg(c, &c->argv[4], &to) < 0) return -1;
    int r = move_one(c, 1, 2, from, to);
    if (r == 0) reply_null(c);
    return r < 0 ? -1 : 0;
}

/* RPOPLPUSH source destination */
static int rpoplpush_command(client *c) {
    int r = move_one(c, 1, 2, 0, 1);
    if (r == 0) reply_null(c);
    return r < 0 ? -1 : 0;
}

/* Pops up to count from the first non-empty list of argv[first..first+n)
 * and replies [key, [elements]] (multi) or [key, element]. 1 served, 0 all
 * empty (nothing replied), -1 failed. */
static int pop_first(client *c, int first, int n, int left, int64_t count, int multi) {
    for (int i = first; i < first + n; i++) {
        if (!block_key_in_play(c, &c->argv[i])) continue;
        coll l;
        coll_items ci;
        coll_items_init(&ci);
        int r = coll_open_arg(c, i, ENC_TYPE_LIST, &l);
        if (r < 0 && !block_allowed(c) && KS(c)->err.code == ST_WRONGTYPE && !(c->flags & CL_IN_EXEC))
            r = 0; /* a re-run: the key became another type, keep waiting (as Redis) */
        if (r > 0) {
            coll_items_free(&ci);
            if (list_pop(c, &l, left, count, &ci) < 0) r = -1;
            else coll_notify(c, NOTIFY_LIST, left ? "lpop" : "rpop", &c->argv[i], &l);
        }
        coll_free(&l);
        if (r < 0) {
            coll_items_free(&ci);
            return -1;
        }
        if (r == 0) continue;
        reply_array(c, 2);
        reply_bulk(c, c->argv[i].ptr, c->argv[i].len);
        if (multi) {
            reply_array(c, (int64_t)ci.n);
            for (size_t j = 0; j < ci.n; j++) reply_bulk(c, coll_item_v(&ci, j), ci.it[j].vl);
        } else {
            reply_bulk(c, coll_item_v(&ci, 0), ci.it[0].vl);
        }
        coll_items_free(&ci);
        return 1;
    }
    return 0;
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static int lmpop_command(client *c) { return coll_mpop_command(c, 0, pop_first, "right", "left"); }

/* BLPOP/BRPOP key [key ...] timeout */
static int blpop_command(client *c) { return coll_bpop_command(c, pop_first, 1); }
static int brpop_command(client *c) { return coll_bpop_command(c, pop_first, 0); }

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
static int blmove_command(client *c) {
    int from, to;
    uint64_t deadline;
    if (side_arg(c, &c->argv[3], &from) < 0 || side_arg(c, &c->argv[4], &to) < 0 ||
        block_timeout_arg(c, &c->argv[5], &deadline) < 0)
        return -1;
    int r = move_one(c, 1, 2, from, to);
    if (r != 0) return r < 0 ? -1 : 0;
    return block_or_nil(c, 1, 1, deadline, 1);
}

/* BRPOPLPUSH source destination timeout */
static int brpoplpush_command(client *c) {
    uint64_t deadline;
    if (block_timeout_arg(c, &c->argv[3], &deadline) < 0) return -1;
    int r = move_one(c, 1, 2, 0, 1);
    if (r != 0) return r < 0 ? -1 : 0;
    return block_or_nil(c, 1, 1, deadline, 1);
}

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static int blmpop_command(client *c) { return coll_mpop_command(c, 1, pop_first, "right", "left"); }

#define LK .first_key = 1, .last_key = 1, .key_step = 1, .group = "list"
static const cmd_def rows[] = {
    {.name = "lpush", .proc = lpush_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key element [element ...]", .summary = "Prepends elements to a list (O(1) each)."},
    {.name = "rpush", .proc = rpush_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key element [element ...]", .summary = "Appends elements to a list (O(1) each)."},
    {.name = "lpushx", .proc = lpushx_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key element [element ...]", .summary = "Prepends elements to an existing list."},
    {.name = "rpushx", .proc = rpushx_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key element [element ...]", .summary = "Appends elements to an existing list."},
    {.name = "lpop", .proc = lpop_command, .arity = -2, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_DELETE,
     .args = "key [count]", .summary = "Removes and returns the first elements of a list."},
    {.name = "rpop", .proc = rpop_command, .arity = -2, .flags = CMD_WRITE | CMD_FAST, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_DELETE,
     .args = "key [count]", .summary = "Removes and returns the last elements of a list."},
    {.name = "llen", .proc = llen_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, LK,
     .key_flags = CMD_KEY_RO,
     .args = "key", .summary = "Returns the length of a list (O(1))."},
    {.name = "lindex", .proc = lindex_command, .arity = 3, .flags = CMD_READONLY, LK,
     .args = "key index", .summary = "Returns the element at an index (O(1))."},
    {.name = "lset", .proc = lset_command, .arity = 4, .flags = CMD_WRITE, LK,
     .args = "key index element", .summary = "Sets the element at an index."},
    {.name = "lrange", .proc = lrange_command, .arity = 4, .flags = CMD_READONLY, LK,
     .args = "key start stop", .summary = "Returns a range of elements (a seek and a scan)."},
    {.name = "ltrim", .proc = ltrim_command, .arity = 4, .flags = CMD_WRITE, LK,
     .args = "key start stop", .summary = "Keeps only a range of elements."},
    {.name = "lrem", .proc = lrem_command, .arity = 4, .flags = CMD_WRITE, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_DELETE,
     .args = "key count element", .summary = "Removes elements equal to a value."},
    {.name = "linsert", .proc = linsert_command, .arity = 5, .flags = CMD_WRITE, LK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key BEFORE|AFTER pivot element", .summary = "Inserts an element before or after another."},
    {.name = "lpos", .proc = lpos_command, .arity = -3, .flags = CMD_READONLY, LK,
     .args = "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", .summary = "Returns the positions of matching elements."},
    {.name = "lmove", .proc = lmove_command, .arity = 5, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .args = "source destination LEFT|RIGHT LEFT|RIGHT", .summary = "Pops an element from one list and pushes it onto another."},
    {.name = "rpoplpush", .proc = rpoplpush_command, .arity = 3, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .args = "source destination", .summary = "Pops the last element of a list and prepends it to another."},
    {.name = "lmpop", .proc = lmpop_command, .arity = -4, .flags = CMD_WRITE,
     .first_key = 2, .last_key = -2, .key_step = 1, .group = "list",
     .args = "numkeys key [key ...] LEFT|RIGHT [COUNT count]", .summary = "Pops elements from the first non-empty list."},
    {.name = "blpop", .proc = blpop_command, .acl = "@blocking", .arity = -3, .flags = CMD_WRITE,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list",
     .args = "key [key ...] timeout", .summary = "Pops the first element of the first non-empty list, or blocks."},
    {.name = "brpop", .proc = brpop_command, .acl = "@blocking", .arity = -3, .flags = CMD_WRITE,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list",
     .args = "key [key ...] timeout", .summary = "Pops the last element of the first non-empty list, or blocks."},
    {.name = "blmove", .proc = blmove_command, .acl = "@blocking", .arity = 6, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .args = "source destination LEFT|RIGHT LEFT|RIGHT timeout", .summary = "LMOVE, or blocks until the source has an element."},
    {.name = "brpoplpush", .proc = brpoplpush_command, .acl = "@blocking", .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .args = "source destination timeout", .summary = "RPOPLPUSH, or blocks until the source has an element."},
    {.name = "blmpop", .proc = blmpop_command, .acl = "@blocking", .arity = -5, .flags = CMD_WRITE,
     .first_key = 3, .last_key = -2, .key_step = 1, .group = "list",
     .args = "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]", .summary = "LMPOP, or blocks until a list has elements."},
    CMD_TABLE_END,
};

const cmd_family list_family = {.name = "list", .rows = rows};
