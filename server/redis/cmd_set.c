/* Set commands (Redis 7.0): SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
 * SDIFF SDIFFSTORE SSCAN.
 *
 * A set is a collection (keyspace/coll.h): one element record per member
 * (kind 's': member -> ""), the cardinality in the metadata. Members come
 * back in byte order, so the set algebra merges sorted runs. */
#include <stdlib.h>
#include <string.h>

#include "coll_args.h"
#include "server.h"
#include "cmd_set.h"

static int is_member(client *c, coll *s, const char *m, size_t ml) {
    store_val v;
    int r = coll_get(KS(c), s, ENC_ELEM_SET, m, ml, &v);
    if (r == 1) store_val_free(&v);
    return r;
}

/* SADD key member [member ...] */
static int sadd_command(client *c) {
    coll s;
    int64_t added = 0;
    if (coll_open_arg(c, 1, ENC_TYPE_SET, &s) < 0) goto fail;
    for (int i = 2; i < c->argc; i++) {
        int r = is_member(c, &s, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) goto fail;
        if (r == 1) continue;
        if (coll_put(KS(c), &s, ENC_ELEM_SET, c->argv[i].ptr, c->argv[i].len, "", 0) < 0) goto fail;
        s.size++;
        added++;
    }
    if (added) {
        if (coll_save(KS(c), &s) < 0) goto fail;
        coll_notify(c, NOTIFY_SET, "sadd", &c->argv[1], NULL);
    }
    coll_free(&s);
    reply_int(c, added);
    return 0;
fail:
    coll_free(&s);
    return -1;
}

/* SREM key member [member ...] */
static int srem_command(client *c) {
    coll s;
    int64_t removed = 0;
    int r = coll_open_arg(c, 1, ENC_TYPE_SET, &s);
    if (r < 0) goto fail;
    for (int i = 2; r > 0 && i < c->argc; i++) {
        int m = is_member(c, &s, c->argv[i].ptr, c->argv[i].len);
        if (m < 0) goto fail;
        if (m == 0) continue;
        if (coll_del(KS(c), &s, ENC_ELEM_SET, c->argv[i].ptr, c->argv[i].len) < 0) goto fail;
        s.size--;
        removed++;
    }
    if (removed) {
        if (coll_save(KS(c), &s) < 0) goto fail;
        coll_notify(c, NOTIFY_SET, "srem", &c->argv[1], &s);
    }
    coll_free(&s);
    reply_int(c, removed);
    return 0;
fail:
    coll_free(&s);
    return -1;
}

/* SCARD key: O(1) */
static int scard_command(client *c) { return coll_card_command(c, ENC_TYPE_SET); }

/* SISMEMBER key member / SMISMEMBER key member [member ...] */
static int ismember_generic(client *c, int multi) {
    coll s;
    int r = coll_open_arg(c, 1, ENC_TYPE_SET, &s);
    if (r < 0) goto fail;
    size_t start = c->out.len;
    if (multi) reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        int m = r ? is_member(c, &s, c->argv[i].ptr, c->argv[i].len) : 0;
        if (m < 0) {
            c->out.len = start;
            goto fail;
        }
        reply_int(c, m);
    }
    coll_free(&s);
    return 0;
fail:
    coll_free(&s);
    return -1;
}
static int sismember_command(client *c) { return ismember_generic(c, 0); }
static int smismember_command(client *c) { return ismember_generic(c, 1); }

static void reply_members(client *c, const coll_items *ci) {
    reply_array(c, (int64_t)ci->n);
    for (size_t i = 0; i < ci->n; i++) reply_bulk(c, coll_item_m(ci, i), ci->it[i].ml);
}

/* Reads set argv[ki]: 1 found, 0 absent (ci empty), -1 failed. */
static int read_set(client *c, int ki, coll_items *ci) {
    coll s;
    coll_items_init(ci);
    int r = coll_open_arg(c, ki, ENC_TYPE_SET, &s);
    if (r > 0 && coll_collect(KS(c), &s, ENC_ELEM_SET, -1, 0, ci) < 0) r = -1;
    coll_free(&s);
    return r;
}

/* SMEMBERS key */
static int smembers_command(client *c) {
    coll_items ci;
    int r = read_set(c, 1, &ci);
    if (r >= 0) reply_members(c, &ci);
    coll_items_free(&ci);
    return r < 0 ? -1 : 0;
}

/* Picks k distinct indexes of n (k <= n) into the first k slots of idx. */
static size_t *pick_distinct(size_t n, size_t k) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)rand() % (n - i), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return idx;
}

/* SPOP key [count] */
static int spop_command(client *c) {
    int64_t count = -1;
    if (c->argc == 3) {
        if (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return -1;
        }
    } else if (c->argc > 3) {
        reply_syntax_error(c);
        return -1;
    }
    coll s;
    coll_items ci;
    coll_items_init(&ci);
    int r = coll_open_arg(c, 1, ENC_TYPE_SET, &s);
    if (r < 0) goto fail;
    if (r == 0 || count == 0) {
        if (count < 0) reply_null(c);
        else reply_array(c, 0);
        goto done;
    }
    if (count < 0) {
        if (coll_random(KS(c), &s, ENC_ELEM_SET, &ci) < 0) goto fail;
        if (ci.n == 0) {
            reply_null(c);
            goto done;
        }
        if (coll_del(KS(c), &s, ENC_ELEM_SET, coll_item_m(&ci, 0), ci.it[0].ml) < 0) goto fail;
        s.size--;
        if (coll_save(KS(c), &s) < 0) goto fail;
        coll_notify(c, NOTIFY_SET, "spop", &c->argv[1], &s);
        reply_bulk(c, coll_item_m(&ci, 0), ci.it[0].ml);
        goto done;
    }
    if (coll_collect(KS(c), &s, ENC_ELEM_SET, -1, 0, &ci) < 0) goto fail;
    size_t k = (size_t)count < ci.n ? (size_t)count : ci.n;
    size_t *idx = pick_distinct(ci.n, k);
    if (!idx) goto fail;
    for (size_t i = 0; i < k; i++) {
        if (coll_del(KS(c), &s, ENC_ELEM_SET, coll_item_m(&ci, idx[i]), ci.it[idx[i]].ml) < 0) {
            free(idx);
            goto fail;
        }
    }
    s.size -= (int64_t)k;
    if (coll_save(KS(c), &s) < 0) {
        free(idx);
        goto fail;
    }
    coll_notify(c, NOTIFY_SET, "spop", &c->argv[1], &s);
    reply_array(c, (int64_t)k);
    for (size_t i = 0; i < k; i++) reply_bulk(c, coll_item_m(&ci, idx[i]), ci.it[idx[i]].ml);
    free(idx);
done:
    coll_items_free(&ci);
    coll_free(&s);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&s);
    return -1;
}

/* SRANDMEMBER key [count] */
static int srandmember_command(client *c) {
    int64_t count = 0;
    int with_count = c->argc == 3;
    if (c->argc > 3) {
        reply_syntax_error(c);
        return -1;
    }
    if (with_count && arg_ll_or_reply(c, &c->argv[2], &count) < 0) return -1;
    if (with_count && (count < -(INT64_MAX / 2))) {
        reply_error(c, "ERR value is out of range");
        return -1;
    }
    coll s;
    coll_items ci;
    coll_items_init(&ci);
    int r = coll_open_arg(c, 1, ENC_TYPE_SET, &s);
    if (r < 0) goto fail;
    if (!with_count) {
        if (r > 0 && coll_random(KS(c), &s, ENC_ELEM_SET, &ci) < 0) goto fail;
        if (ci.n == 0) reply_null(c);
        else reply_bulk(c, coll_item_m(&ci, 0), ci.it[0].ml);
        goto done;
    }
    if (r == 0 || count == 0) {
        reply_array(c, 0);
        goto done;
    }
    if (coll_collect(KS(c), &s, ENC_ELEM_SET, -1, 0, &ci) < 0) goto fail;
    if (count < 0) {
        reply_array(c, -count);
        for (int64_t i = 0; i < -count; i++) {
            size_t j = (size_t)rand() % ci.n;
            reply_bulk(c, coll_item_m(&ci, j), ci.it[j].ml);
        }
    } else {
        size_t k = (size_t)count < ci.n ? (size_t)count : ci.n;
        size_t *idx = pick_distinct(ci.n, k);
        if (!idx) goto fail;
        reply_array(c, (int64_t)k);
        for (size_t i = 0; i < k; i++) reply_bulk(c, coll_item_m(&ci, idx[i]), ci.it[idx[i]].ml);
        free(idx);
    }
done:
    coll_items_free(&ci);
    coll_free(&s);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&s);
    return -1;
}

/* SMOVE source destination member */
static int smove_command(client *c) {
    coll src, dst;
    const resp_slice *m = &c->argv[3];
    memset(&dst, 0, sizeof dst);
    int r = coll_open_arg(c, 1, ENC_TYPE_SET, &src);
    if (r < 0) goto fail;
    /* the destination's type is checked even when nothing moves */
    int d = coll_open_arg(c, 2, ENC_TYPE_SET, &dst);
    if (d < 0) goto fail;
    int in = r ? is_member(c, &src, m->ptr, m->len) : 0;
    if (in < 0) goto fail;
    if (!in) {
        reply_int(c, 0);
        goto done;
    }
    if (c->argv[1].len == c->argv[2].len && memcmp(c->argv[1].ptr, c->argv[2].ptr, c->argv[1].len) == 0) {
        reply_int(c, 1); /* same set: nothing changes */
        goto done;
    }
    if (coll_del(KS(c), &src, ENC_ELEM_SET, m->ptr, m->len) < 0) goto fail;
    src.size--;
    if (coll_save(KS(c), &src) < 0) goto fail;
    coll_notify(c, NOTIFY_SET, "srem", &c->argv[1], &src);
    int there = is_member(c, &dst, m->ptr, m->len);
    if (there < 0) goto fail;
    if (!there) {
        if (coll_put(KS(c), &dst, ENC_ELEM_SET, m->ptr, m->len, "", 0) < 0) goto fail;
        dst.size++;
        if (coll_save(KS(c), &dst) < 0) goto fail;
        coll_notify(c, NOTIFY_SET, "sadd", &c->argv[2], NULL);
    }
    reply_int(c, 1);
done:
    coll_free(&src);
    coll_free(&dst);
    return 0;
fail:
    coll_free(&src);
    coll_free(&dst);
    return -1;
}

/* ---- set algebra over sorted member runs -------------------------------- */

enum { OP_INTER, OP_UNION, OP_DIFF };

static int cmp_m(const coll_items *a, size_t i, const coll_items *b, size_t j) {
    size_t al = a->it[i].ml, bl = b->it[j].ml, n = al < bl ? al : bl;
    int r = n ? memcmp(coll_item_m(a, i), coll_item_m(b, j), n) : 0;
    return r ? r : (al > bl) - (al < bl);
}

/* out = a op b (both sorted, out sorted). 0 / -1 OOM. */
static int merge(const coll_items *a, const coll_items *b, int op, coll_items *out) {
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : cmp_m(a, i, b, j);
        int take_a = 0, take_b = 0;
        if (c == 0) {
            take_a = op != OP_DIFF && op != OP_UNION ? 1 : op == OP_UNION;
            i++, j++;
            if (take_a && coll_items_add(out, coll_item_m(a, i - 1), a->it[i - 1].ml, "", 0) < 0) return -1;
            continue;
        }
        if (c < 0) {
            take_a = op == OP_UNION || op == OP_DIFF;
            if (take_a && coll_items_add(out, coll_item_m(a, i), a->it[i].ml, "", 0) < 0) return -1;
            i++;
        } else {
            take_b = op == OP_UNION;
            if (take_b && coll_items_add(out, coll_item_m(b, j), b->it[j].ml, "", 0) < 0) return -1;
            j++;
        }
        if (op == OP_INTER && (i == a->n || j == b->n)) break;
    }
    return 0;
}

/* Computes op over the sets argv[first..first+n). 0 ok (res filled), -1
 * failed (WRONGTYPE or storage): every key's type is checked, as in Redis;
 * a missing key makes an intersection empty. */
static int set_op(client *c, int first, int n, int op, coll_items *res) {
    coll_items_init(res);
    int empty = 0;
    for (int k = 0; k < n; k++) {
        coll_items cur, out;
        int r = read_set(c, first + k, &cur);
        if (r < 0) {
            coll_items_free(&cur);
            return -1;
        }
        if (op == OP_INTER && (r == 0 || empty)) {
            /* the result is empty: only the remaining types matter */
            coll_items_free(&cur);
            coll_items_free(res);
            coll_items_init(res);
            empty = 1;
            continue;
        }
        if (k == 0) {
            coll_items_free(res);
            *res = cur;
            continue;
        }
        coll_items_init(&out);
        int m = merge(res, &cur, op, &out);
        coll_items_free(&cur);
        coll_items_free(res);
        *res = out;
        if (m < 0) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    }
    return 0;
}

/* Stores res as a set at argv[1] (replacing whatever is there), replies its
 * size. event: the notification of a non-empty result; an empty one
 * deletes the destination ("del" when there was one), as Redis. */
static int store_result(client *c, coll_items *res, const char *event) {
    coll d;
    if (coll_create(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_SET, &d) < 0) goto fail;
    if (res->n == 0) {
        int gone = db_delete(KS(c), c->db, c->argv[1].ptr, c->argv[1].len);
        if (gone < 0) goto fail;
        if (gone) notify_key(c, NOTIFY_GENERIC, "del", &c->argv[1]);
    } else {
        for (size_t i = 0; i < res->n; i++)
            if (coll_put(KS(c), &d, ENC_ELEM_SET, coll_item_m(res, i), res->it[i].ml, "", 0) < 0) goto fail;
        d.size = (int64_t)res->n;
        if (coll_save(KS(c), &d) < 0) goto fail;
        notify_key(c, NOTIFY_SET, event, &c->argv[1]);
    }
    coll_free(&d);
    reply_int(c, (int64_t)res->n);
    return 0;
fail:
    coll_free(&d);
    return -1;
}

static int setop_command(client *c, int op, int store) {
    coll_items res;
    int first = store ? 2 : 1;
    int r = set_op(c, first, c->argc - first, op, &res);
    if (r == 0) {
        static const char *const events[] = {[OP_INTER] = "sinterstore", [OP_UNION] = "sunionstore",
                                             [OP_DIFF] = "sdiffstore"};
        if (store) r = store_result(c, &res, events[op]);
        else reply_members(c, &res);
    }
    coll_items_free(&res);
    return r;
}
static int sinter_command(client *c) { return setop_command(c, OP_INTER, 0); }
static int sinterstore_command(client *c) { return setop_command(c, OP_INTER, 1); }
static int sunion_command(client *c) { return setop_command(c, OP_UNION, 0); }
static int sunionstore_command(client *c) { return setop_command(c, OP_UNION, 1); }
static int sdiff_command(client *c) { return setop_command(c, OP_DIFF, 0); }
static int sdiffstore_command(client *c) { return setop_command(c, OP_DIFF, 1); }

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static int sintercard_command(client *c) {
    int64_t nk, limit = 0;
    if (resp_parse_ll(c->argv[1].ptr, c->argv[1].len, &nk) < 0 || nk <= 0) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return -1;
    }
    if (nk > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    opt_cursor o = {c, 2 + (int)nk};
    while (opt_more(&o)) {
        if (opt_is(&o, "limit")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0) return -1;
            if (resp_parse_ll(v.ptr, v.len, &limit) < 0 || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                return -1;
            }
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    coll_items res;
    int r = set_op(c, 2, (int)nk, OP_INTER, &res);
    if (r == 0) reply_int(c, limit && (int64_t)res.n > limit ? limit : (int64_t)res.n);
    coll_items_free(&res);
    return r;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
static int sscan_command(client *c) { return coll_scan_command(c, ENC_TYPE_SET, ENC_ELEM_SET, COLL_SCAN_MEMBER); }

#define SK .first_key = 1, .last_key = 1, .key_step = 1, .group = "set"
#define SALL .first_key = 1, .last_key = -1, .key_step = 1, .group = "set"
#define SSTORE .first_key = 1, .last_key = -1, .key_step = 1, .group = "set"
static const cmd_def rows[] = {
    {.name = "sadd", .proc = sadd_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, SK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key member [member ...]", .summary = "Adds members to a set; returns how many were new."},
    {.name = "srem", .proc = srem_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, SK,
     .key_flags = CMD_KEY_RW | CMD_KEY_DELETE,
     .args = "key member [member ...]", .summary = "Removes members from a set."},
    {.name = "scard", .proc = scard_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, SK,
     .key_flags = CMD_KEY_RO,
     .args = "key", .summary = "Returns the number of members of a set (O(1))."},
    {.name = "sismember", .proc = sismember_command, .arity = 3, .flags = CMD_READONLY | CMD_FAST, SK,
     .key_flags = CMD_KEY_RO,
     .args = "key member", .summary = "Tells whether a member belongs to a set."},
    {.name = "smismember", .proc = smismember_command, .arity = -3, .flags = CMD_READONLY | CMD_FAST, SK,
     .key_flags = CMD_KEY_RO,
     .args = "key member [member ...]", .summary = "Tells for each member whether it belongs to a set."},
    {.name = "smembers", .proc = smembers_command, .arity = 2, .flags = CMD_READONLY, SK,
     .args = "key", .summary = "Returns every member of a set."},
    {.name = "spop", .proc = spop_command, .arity = -2, .flags = CMD_WRITE | CMD_FAST, SK,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_DELETE,
     .args = "key [count]", .summary = "Removes and returns random members of a set."},
    {.name = "srandmember", .proc = srandmember_command, .arity = -2, .flags = CMD_READONLY, SK,
     .args = "key [count]", .summary = "Returns random members of a set."},
    {.name = "smove", .proc = smove_command, .arity = 4, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "set",
     .args = "source destination member", .summary = "Moves a member from one set to another."},
    {.name = "sinter", .proc = sinter_command, .arity = -2, .flags = CMD_READONLY, SALL,
     .args = "key [key ...]", .summary = "Returns the intersection of sets."},
    {.name = "sintercard", .proc = sintercard_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "set",
     .args = "numkeys key [key ...] [LIMIT limit]", .summary = "Returns the size of the intersection of sets."},
    {.name = "sinterstore", .proc = sinterstore_command, .arity = -3, .flags = CMD_WRITE, SSTORE,
     .args = "destination key [key ...]", .summary = "Stores the intersection of sets."},
    {.name = "sunion", .proc = sunion_command, .arity = -2, .flags = CMD_READONLY, SALL,
     .args = "key [key ...]", .summary = "Returns the union of sets."},
    {.name = "sunionstore", .proc = sunionstore_command, .arity = -3, .flags = CMD_WRITE, SSTORE,
     .args = "destination key [key ...]", .summary = "Stores the union of sets."},
    {.name = "sdiff", .proc = sdiff_command, .arity = -2, .flags = CMD_READONLY, SALL,
     .args = "key [key ...]", .summary = "Returns the members of the first set not in the others."},
    {.name = "sdiffstore", .proc = sdiffstore_command, .arity = -3, .flags = CMD_WRITE, SSTORE,
     .args = "destination key [key ...]", .summary = "Stores the difference of sets."},
    {.name = "sscan", .proc = sscan_command, .arity = -3, .flags = CMD_READONLY, SK,
     .args = "key cursor [MATCH pattern] [COUNT count]", .summary = "Iterates the members of a set."},
    CMD_TABLE_END,
};

const cmd_family set_family = {.name = "set", .rows = rows};
