/* Hash commands (Redis 7.0): HSET HSETNX HMSET HGET HMGET HDEL HLEN HSTRLEN
 * HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * A hash is a collection (keyspace/coll.h): one element record per field
 * (kind 'h': field -> value), the field count in the metadata. */
#include <stdlib.h>
#include <string.h>

#include "coll_args.h"
#include "server.h"
#include "cmd_hash.h"

/* Sets field = value; *added = 1 when the field is new. */
static int hash_set(client *c, coll *h, const resp_slice *f, const resp_slice *v, int *added) {
    store_val old;
    int r = coll_get(KS(c), h, ENC_ELEM_HASH, f->ptr, f->len, &old);
    if (r < 0) return -1;
    if (r == 1) store_val_free(&old);
    *added = r == 0;
    if (r == 0) h->size++;
    return coll_put(KS(c), h, ENC_ELEM_HASH, f->ptr, f->len, v->ptr, v->len);
}

/* HSET key field value [field value ...] / HMSET (replies OK) */
static int hset_generic(client *c, int mset) {
    if (c->argc % 2 != 0) {
        reply_arity_error(c, c->cmd->name);
        return -1;
    }
    coll h;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    int64_t added = 0;
    if (r < 0) goto fail;
    for (int i = 2; i < c->argc; i += 2) {
        int a;
        if (hash_set(c, &h, &c->argv[i], &c->argv[i + 1], &a) < 0) goto fail;
        added += a;
    }
    if (coll_save(KS(c), &h) < 0) goto fail;
    coll_notify(c, NOTIFY_HASH, "hset", &c->argv[1], NULL); /* HMSET's event too, as Redis */
    coll_free(&h);
    if (mset) reply_ok(c);
    else reply_int(c, added);
    return 0;
fail:
    coll_free(&h);
    return -1;
}
static int hset_command(client *c) { return hset_generic(c, 0); }
static int hmset_command(client *c) { return hset_generic(c, 1); }

/* HSETNX key field value */
static int hsetnx_command(client *c) {
    coll h;
    store_val old;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r < 0 || (r = coll_get(KS(c), &h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, &old)) < 0) goto fail;
    if (r == 1) {
        store_val_free(&old);
        coll_free(&h);
        reply_int(c, 0);
        return 0;
    }
    h.size++;
    if (coll_put(KS(c), &h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, c->argv[3].ptr, c->argv[3].len) < 0 ||
        coll_save(KS(c), &h) < 0)
        goto fail;
    coll_notify(c, NOTIFY_HASH, "hset", &c->argv[1], NULL);
    coll_free(&h);
    reply_int(c, 1);
    return 0;
fail:
    coll_free(&h);
    return -1;
}

/* HGET key field */
static int hget_command(client *c) {
    coll h;
    store_val v;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r > 0) r = coll_get(KS(c), &h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, &v);
    coll_free(&h);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, v.ptr, v.len);
    store_val_free(&v);
    return 0;
}

/* HMGET key field [field ...] */
static int hmget_command(client *c) {
    coll h;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r < 0) {
        coll_free(&h);
        return -1;
    }
    size_t start = c->out.len;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        store_val v;
        int g = coll_get(KS(c), &h, ENC_ELEM_HASH, c->argv[i].ptr, c->argv[i].len, &v);
        if (g < 0) {
            c->out.len = start;
            coll_free(&h);
            return -1;
        }
        if (g == 0) reply_null(c);
        else {
            reply_bulk(c, v.ptr, v.len);
            store_val_free(&v);
        }
    }
    coll_free(&h);
    return 0;
}

/* HDEL key field [field ...] */
static int hdel_command(client *c) {
    coll h;
    int64_t n = 0;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r < 0) goto fail;
    for (int i = 2; r > 0 && i < c->argc; i++) {
        store_val v;
        int g = coll_get(KS(c), &h, ENC_ELEM_HASH, c->argv[i].ptr, c->argv[i].len, &v);
        if (g < 0) goto fail;
        if (g == 0) continue;
        store_val_free(&v);
        if (coll_del(KS(c), &h, ENC_ELEM_HASH, c->argv[i].ptr, c->argv[i].len) < 0) goto fail;
        h.size--;
        n++;
    }
    if (n) {
        if (coll_save(KS(c), &h) < 0) goto fail;
        coll_notify(c, NOTIFY_HASH, "hdel", &c->argv[1], &h);
    }
    coll_free(&h);
    reply_int(c, n);
    return 0;
fail:
    coll_free(&h);
    return -1;
}

/* HLEN key: O(1), from the metadata */
static int hlen_command(client *c) { return coll_card_command(c, ENC_TYPE_HASH); }

/* HSTRLEN key field / HEXISTS key field */
static int hfield_generic(client *c, int strlen_of) {
    coll h;
    store_val v;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r > 0) r = coll_get(KS(c), &h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, &v);
    coll_free(&h);
    if (r < 0) return -1;
    reply_int(c, r == 0 ? 0 : strlen_of ? (int64_t)v.len : 1);
    if (r == 1) store_val_free(&v);
    return 0;
}
static int hstrlen_command(client *c) { return hfield_generic(c, 1); }
static int hexists_command(client *c) { return hfield_generic(c, 0); }

/* HKEYS / HVALS / HGETALL key */
enum { H_KEYS = 1, H_VALS = 2 };
static int hgetall_generic(client *c, int what) {
    coll h;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r < 0) {
        coll_free(&h);
        return -1;
    }
    coll_items ci;
    if (coll_collect(KS(c), &h, ENC_ELEM_HASH, -1, 0, &ci) < 0) {
        coll_items_free(&ci);
        coll_free(&h);
        return -1;
    }
    if (what == (H_KEYS | H_VALS)) reply_map(c, (int64_t)ci.n);
    else reply_array(c, (int64_t)ci.n);
    for (size_t i = 0; i < ci.n; i++) {
        if (what & H_KEYS) reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
        if (what & H_VALS) reply_bulk(c, coll_item_v(&ci, i), ci.it[i].vl);
    }
    coll_items_free(&ci);
    coll_free(&h);
    return 0;
}
static int hkeys_command(client *c) { return hgetall_generic(c, H_KEYS); }
static int hvals_command(client *c) { return hgetall_generic(c, H_VALS); }
static int hgetall_command(client *c) { return hgetall_generic(c, H_KEYS | H_VALS); }

/* The current value of a field for HINCRBY/HINCRBYFLOAT: 1 found (v), 0 absent. */
static int hincr_open(client *c, coll *h, store_val *v) {
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, h);
    if (r < 0) return -1;
    return coll_get(KS(c), h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, v);
}

static int hincr_store(client *c, coll *h, int found, const char *buf, size_t n) {
    if (!found) h->size++;
    return coll_put(KS(c), h, ENC_ELEM_HASH, c->argv[2].ptr, c->argv[2].len, buf, n) < 0 ? -1 : coll_save(KS(c), h);
}

/* HINCRBY key field increment */
static int hincrby_command(client *c) {
    int64_t by, cur = 0;
    if (arg_ll_or_reply(c, &c->argv[3], &by) < 0) return -1;
    coll h;
    store_val v;
    int r = hincr_open(c, &h, &v);
    if (r < 0) goto fail;
    if (r == 1) {
        int bad = resp_parse_ll(v.ptr, v.len, &cur) < 0;
        store_val_free(&v);
        if (bad) {
            reply_error(c, "ERR hash value is not an integer");
            goto fail;
        }
    }
    if ((by > 0 && cur > INT64_MAX - by) || (by < 0 && cur < INT64_MIN - by)) {
        reply_error(c, "ERR increment or decrement would overflow");
        goto fail;
    }
    cur += by;
    char buf[24];
    int n = ll_to_str(buf, cur);
    if (hincr_store(c, &h, r == 1, buf, (size_t)n) < 0) goto fail;
    coll_notify(c, NOTIFY_HASH, "hincrby", &c->argv[1], NULL);
    coll_free(&h);
    reply_int(c, cur);
    return 0;
fail:
    coll_free(&h);
    return -1;
}

/* HINCRBYFLOAT key field increment */
static int hincrbyfloat_command(client *c) {
    long double by, cur = 0;
    if (parse_ld(c->argv[3].ptr, c->argv[3].len, &by) < 0) {
        reply_error(c, "ERR value is not a valid float");
        return -1;
    }
    if (by != by || by == 1.0L / 0.0L || by == -1.0L / 0.0L) {
        reply_error(c, "ERR value is NaN or Infinity");
        return -1;
    }
    coll h;
    store_val v;
    int r = hincr_open(c, &h, &v);
    if (r < 0) goto fail;
    if (r == 1) {
        int bad = parse_ld(v.ptr, v.len, &cur) < 0;
        store_val_free(&v);
        if (bad) {
            reply_error(c, "ERR hash value is not a float");
            goto fail;
        }
    }
    cur += by;
    if (cur != cur || cur == 1.0L / 0.0L || cur == -1.0L / 0.0L) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        goto fail;
    }
    char buf[5100];
    int n = coll_ld_format(buf, sizeof buf, cur);
    if (hincr_store(c, &h, r == 1, buf, (size_t)n) < 0) goto fail;
    coll_notify(c, NOTIFY_HASH, "hincrbyfloat", &c->argv[1], NULL);
    coll_free(&h);
    reply_bulk(c, buf, (size_t)n);
    return 0;
fail:
    coll_free(&h);
    return -1;
}

/* HRANDFIELD key [count [WITHVALUES]] */
static int hrandfield_command(client *c) {
    int64_t count = 1;
    int with_count = c->argc >= 3, withvalues = 0;
    if (with_count && arg_ll_or_reply(c, &c->argv[2], &count) < 0) return -1;
    if (c->argc == 4) {
        if (!arg_eq(&c->argv[3], "withvalues")) {
            reply_syntax_error(c);
            return -1;
        }
        withvalues = 1;
    } else if (c->argc > 4) {
        reply_syntax_error(c);
        return -1;
    }
    if (count < -(INT64_MAX / 2) || count > INT64_MAX / 2) {
        reply_error(c, "ERR value is out of range");
        return -1;
    }
    coll h;
    coll_items ci;
    int r = coll_open_arg(c, 1, ENC_TYPE_HASH, &h);
    if (r < 0 || coll_collect(KS(c), &h, ENC_ELEM_HASH, -1, 0, &ci) < 0) {
        if (r >= 0) coll_items_free(&ci);
        coll_free(&h);
        return -1;
    }
    coll_free(&h);
    if (!with_count) {
        if (ci.n == 0) reply_null(c);
        else {
            size_t i = (size_t)rand() % ci.n;
            reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
        }
        coll_items_free(&ci);
        return 0;
    }
    int resp3_pairs = withvalues && c->resp == 3;
    if (ci.n == 0 || count == 0) {
        reply_array(c, 0);
    } else if (count < 0) {
        /* repeats allowed: |count| independent picks */
        int64_t n = -count;
        reply_array(c, resp3_pairs ? n : withvalues ? n * 2 : n);
        for (int64_t k = 0; k < n; k++) {
            size_t i = (size_t)rand() % ci.n;
            if (resp3_pairs) reply_array(c, 2);
            reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
            if (withvalues) reply_bulk(c, coll_item_v(&ci, i), ci.it[i].vl);
        }
    } else {
        /* distinct fields: a partial Fisher-Yates shuffle of the indexes */
        size_t n = (size_t)count < ci.n ? (size_t)count : ci.n;
        size_t *idx = malloc(ci.n * sizeof *idx);
        if (!idx) {
            coll_items_free(&ci);
            reply_error(c, "ERR out of memory");
            return -1;
        }
        for (size_t i = 0; i < ci.n; i++) idx[i] = i;
        for (size_t i = 0; i < n; i++) {
            size_t j = i + (size_t)rand() % (ci.n - i), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        reply_array(c, (int64_t)(resp3_pairs ? n : withvalues ? n * 2 : n));
        for (size_t k = 0; k < n; k++) {
            size_t i = idx[k];
            if (resp3_pairs) reply_array(c, 2);
            reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
            if (withvalues) reply_bulk(c, coll_item_v(&ci, i), ci.it[i].vl);
        }
        free(idx);
    }
    coll_items_free(&ci);
    return 0;
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
static int hscan_command(client *c) { return coll_scan_command(c, ENC_TYPE_HASH, ENC_ELEM_HASH, COLL_SCAN_VALUE); }

#define HK .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash"
static const cmd_def rows[] = {
    {.name = "hset", .proc = hset_command, .arity = -4, .flags = CMD_WRITE | CMD_FAST, HK,
     .args = "key field value [field value ...]", .summary = "Sets fields of a hash; returns how many were new."},
    {.name = "hmset", .proc = hmset_command, .arity = -4, .flags = CMD_WRITE | CMD_FAST, HK,
     .args = "key field value [field value ...]", .summary = "Sets fields of a hash (deprecated form of HSET)."},
    {.name = "hsetnx", .proc = hsetnx_command, .arity = 4, .flags = CMD_WRITE | CMD_FAST, HK,
     .key_flags = CMD_KEY_RW | CMD_KEY_INSERT,
     .args = "key field value", .summary = "Sets a field of a hash only when it does not exist."},
    {.name = "hget", .proc = hget_command, .arity = 3, .flags = CMD_READONLY | CMD_FAST, HK,
     .args = "key field", .summary = "Returns the value of a field of a hash."},
    {.name = "hmget", .proc = hmget_command, .arity = -3, .flags = CMD_READONLY | CMD_FAST, HK,
     .args = "key field [field ...]", .summary = "Returns the values of fields of a hash."},
    {.name = "hdel", .proc = hdel_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, HK,
     .key_flags = CMD_KEY_RW | CMD_KEY_DELETE,
     .args = "key field [field ...]", .summary = "Deletes fields of a hash; the hash goes with its last field."},
    {.name = "hlen", .proc = hlen_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, HK,
     .key_flags = CMD_KEY_RO,
     .args = "key", .summary = "Returns the number of fields of a hash (O(1))."},
    {.name = "hstrlen", .proc = hstrlen_command, .arity = 3, .flags = CMD_READONLY | CMD_FAST, HK,
     .key_flags = CMD_KEY_RO,
     .args = "key field", .summary = "Returns the length of the value of a field."},
    {.name = "hexists", .proc = hexists_command, .arity = 3, .flags = CMD_READONLY | CMD_FAST, HK,
     .key_flags = CMD_KEY_RO,
     .args = "key field", .summary = "Tells whether a field exists in a hash."},
    {.name = "hkeys", .proc = hkeys_command, .arity = 2, .flags = CMD_READONLY, HK,
     .args = "key", .summary = "Returns every field name of a hash."},
    {.name = "hvals", .proc = hvals_command, .arity = 2, .flags = CMD_READONLY, HK,
     .args = "key", .summary = "Returns every value of a hash."},
    {.name = "hgetall", .proc = hgetall_command, .arity = 2, .flags = CMD_READONLY, HK,
     .args = "key", .summary = "Returns every field and value of a hash."},
    {.name = "hincrby", .proc = hincrby_command, .arity = 4, .flags = CMD_WRITE | CMD_FAST, HK,
     .args = "key field increment", .summary = "Adds an integer to the value of a field."},
    {.name = "hincrbyfloat", .proc = hincrbyfloat_command, .arity = 4, .flags = CMD_WRITE | CMD_FAST, HK,
     .args = "key field increment", .summary = "Adds a floating point number to the value of a field."},
    {.name = "hrandfield", .proc = hrandfield_command, .arity = -2, .flags = CMD_READONLY, HK,
     .args = "key [count [WITHVALUES]]", .summary = "Returns random fields of a hash."},
    {.name = "hscan", .proc = hscan_command, .arity = -3, .flags = CMD_READONLY, HK,
     .args = "key cursor [MATCH pattern] [COUNT count]", .summary = "Iterates the fields and values of a hash."},
    CMD_TABLE_END,
};

const cmd_family hash_family = {.name = "hash", .rows = rows};
