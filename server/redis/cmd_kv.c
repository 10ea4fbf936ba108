/* KV.* — the platform's seven store operations (SPEC §3), on database 0.
 * Values are JSON, checked by jansson and stored as the exact bytes given. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "server.h"
#include "cmd_kv.h"

/* Checks a value before it is written: size cap, then one complete JSON value. */
static int check_value(client *c, const resp_slice *v) {
    if ((long long)v->len > c->srv->cfg.max_kv_value_size) {
        reply_errorf(c, "ERR value too large (%zu bytes, max-kv-value-size is %lld)", v->len,
                     c->srv->cfg.max_kv_value_size);
        return -1;
    }
    char err[256];
    if (json_check(v->ptr, v->len, err, sizeof err) < 0) {
        reply_errorf(c, "ERR %s", err);
        return -1;
    }
    return 0;
}

static int nonempty_prefix(client *c, const resp_slice *p) {
    if (p->len) return 0;
    reply_error(c, "ERR empty prefix (use SCAN to walk all keys)");
    return -1;
}

/* KV.GET key */
static int kv_get(client *c) {
    db_value v;
    int r = db_lookup(KS(c), 0, c->argv[1].ptr, c->argv[1].len, &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    if (v.v.type != ENC_TYPE_STRING) reply_wrongtype(c);
    else reply_bulk(c, v.v.payload, v.v.len);
    db_value_free(&v);
    return 0;
}

/* KV.SET key json [NX|XX] */
static int kv_set(client *c) {
    int nx = 0, xx = 0;
    if (c->argc == 4) {
        nx = arg_eq(&c->argv[3], "nx");
        xx = arg_eq(&c->argv[3], "xx");
    }
    if (c->argc > 4 || (c->argc == 4 && !nx && !xx)) {
        reply_syntax_error(c);
        return -1;
    }
    const resp_slice *k = &c->argv[1], *val = &c->argv[2];
    if (check_value(c, val) < 0) return -1;
    int existed = -1;
    if (nx || xx) {
        db_value old;
        int r = db_lookup(KS(c), 0, k->ptr, k->len, &old);
        if (r < 0) return -1;
        if (r == 1) db_value_free(&old);
        existed = old.present;
        if ((nx && r == 1) || (xx && r == 0)) {
            reply_null(c);
            return 0;
        }
    }
    if (db_put(KS(c), 0, k->ptr, k->len, ENC_TYPE_STRING, 0, val->ptr, val->len, existed) < 0) return -1;
    reply_ok(c);
    return 0;
}

/* KV.DEL key / KV.MDEL key [key ...]: one batch, so atomic. */
static int kv_del(client *c) {
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        int r = db_delete(KS(c), 0, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        n += r;
    }
    reply_int(c, n);
    return 0;
}

/* KV.MGET key [key ...] */
static int kv_mget(client *c) {
    reply_array(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        db_value v;
        int r = db_lookup(KS(c), 0, c->argv[i].ptr, c->argv[i].len, &v);
        if (r < 0) return -1;
        if (r == 1 && v.v.type == ENC_TYPE_STRING) reply_bulk(c, v.v.payload, v.v.len);
        else reply_null(c);
        if (r == 1) db_value_free(&v);
    }
    return 0;
}

/* KV.MSET key json [key json ...]: every value is checked before any write. */
static int kv_mset(client *c) {
    if (c->argc % 2 == 0) {
        reply_arity_error(c, "kv.mset");
        return -1;
    }
    for (int i = 2; i < c->argc; i += 2)
        if (check_value(c, &c->argv[i]) < 0) return -1;
    for (int i = 1; i < c->argc; i += 2)
        if (db_put(KS(c), 0, c->argv[i].ptr, c->argv[i].len, ENC_TYPE_STRING, 0, c->argv[i + 1].ptr,
                   c->argv[i + 1].len, -1) < 0)
            return -1;
    reply_ok(c);
    return 0;
}

/* KV.GETBYPREFIX prefix [AFTER key] [LIMIT n]: a bounded iterator, so the
 * cost is O(log N + keys returned), never a walk over other keys. */
static int kv_getbyprefix(client *c) {
    const resp_slice *p = &c->argv[1];
    resp_slice after = {NULL, 0};
    int64_t limit = INT64_MAX;
    if (nonempty_prefix(c, p) < 0) return -1;
    opt_cursor o = {c, 2};
    while (opt_more(&o)) {
        if (opt_is(&o, "after")) {
            if (opt_value(&o, &after) < 0) return -1;
        } else if (opt_is(&o, "limit")) {
            if (opt_ll(&o, &limit) < 0) return -1;
            if (limit < 1) {
                reply_error(c, "ERR LIMIT must be a positive integer");
                return -1;
            }
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    db_iter it;
    db_iter_open(&it, KS(c), 0, p->ptr, p->len);
    if (after.ptr) db_iter_seek(&it, after.ptr, after.len, 1);
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    const char *k;
    size_t kl;
    enc_value v;
    int r = 0;
    while (n < limit && (r = db_iter_next(&it, &k, &kl, &v)) == 1) {
        if (after.ptr && (kl < p->len || memcmp(k, p->ptr, p->len) != 0)) break;
        reply_bulk(c, k, kl);
        reply_bulk(c, v.payload, v.len);
        n++;
    }
    db_iter_close(&it);
    if (r < 0) {
        c->out.len = slot;
        reply_error(c, "ERR storage error while iterating");
        return -1;
    }
    reply_set_deferred_array(c, slot, n * 2);
    return 0;
}

/* KV.COUNT prefix */
static int kv_count(client *c) {
    const resp_slice *p = &c->argv[1];
    if (nonempty_prefix(c, p) < 0) return -1;
    db_iter it;
    db_iter_open(&it, KS(c), 0, p->ptr, p->len);
    int64_t n = 0;
    const char *k;
    size_t kl;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &k, &kl, &v)) == 1) n++;
    db_iter_close(&it);
    if (r < 0) {
        reply_error(c, "ERR storage error while iterating");
        return -1;
    }
    reply_int(c, n);
    return 0;
}

/* KV.DELBYPREFIX prefix: one range deletion. */
static int kv_delbyprefix(client *c) {
    const resp_slice *p = &c->argv[1];
    if (nonempty_prefix(c, p) < 0) return -1;
    int64_t n = db_delete_prefix(KS(c), 0, p->ptr, p->len);
    if (n < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* KV.PATCH key patch: RFC 7386 merge patch of the stored object, atomic
 * because the read, the merge and the write are one command. */
static int kv_patch(client *c) {
    const resp_slice *k = &c->argv[1], *pv = &c->argv[2];
    char err[256];
    if ((long long)pv->len > c->srv->cfg.max_kv_value_size) return check_value(c, pv);
    json_t *patch = json_parse_any(pv->ptr, pv->len, err, sizeof err);
    if (!patch) {
        reply_errorf(c, "ERR %s", err);
        return -1;
    }
    if (!json_is_object(patch)) {
        json_decref(patch);
        reply_error(c, "ERR patch is not a JSON object");
        return -1;
    }
    db_value v;
    int r = db_lookup(KS(c), 0, k->ptr, k->len, &v);
    if (r < 0) {
        json_decref(patch);
        return -1;
    }
    json_t *doc;
    int existed = v.present;
    if (r == 1) {
        /* A stored value that does not parse (not JSON, or an integer
         * beyond 64 bits that re-encoding would round) says why. */
        int is_str = v.v.type == ENC_TYPE_STRING;
        doc = is_str ? json_parse_any(v.v.payload, v.v.len, err, sizeof err) : NULL;
        db_value_free(&v);
        if (!doc || !json_is_object(doc)) {
            json_decref(doc);
            json_decref(patch);
            if (is_str && !doc) reply_errorf(c, "ERR stored value: %s", err);
            else reply_error(c, "ERR stored value is not a JSON object");
            return -1;
        }
    } else {
        doc = json_object();
    }
    json_t *res = json_merge_patch(doc, patch);
    size_t len = 0;
    char *text = res ? json_encode(res, &len) : NULL;
    if (res != doc) json_decref(res);
    json_decref(doc);
    json_decref(patch);
    if (!text) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    if ((long long)len > c->srv->cfg.max_kv_value_size) {
        free(text);
        reply_errorf(c, "ERR value too large (max-kv-value-size is %lld)", c->srv->cfg.max_kv_value_size);
        return -1;
    }
    int rc = db_put(KS(c), 0, k->ptr, k->len, ENC_TYPE_STRING, 0, text, len, existed);
    if (rc == 0) reply_bulk(c, text, len);
    free(text);
    return rc;
}

#define KVF CMD_DB0
static const cmd_def rows[] = {
    {.name = "kv.get", .proc = kv_get, .arity = 2, .flags = KVF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "key",
     .summary = "Returns the JSON document at key, or nil."},
    {.name = "kv.set", .proc = kv_set, .arity = -3, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "key json [NX|XX]",
     .summary = "Stores a JSON document (checked, stored as given)."},
    {.name = "kv.del", .proc = kv_del, .arity = 2, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "key",
     .summary = "Deletes a key: 1 deleted, 0 absent."},
    {.name = "kv.mget", .proc = kv_mget, .arity = -2, .flags = KVF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "kv", .args = "key [key ...]",
     .summary = "Returns the documents of several keys."},
    {.name = "kv.mset", .proc = kv_mset, .arity = -3, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = -1, .key_step = 2,
     .group = "kv", .args = "key json [key json ...]",
     .summary = "Stores several documents atomically: all or nothing."},
    {.name = "kv.mdel", .proc = kv_del, .arity = -2, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "kv", .args = "key [key ...]",
     .summary = "Deletes several keys atomically."},
    {.name = "kv.getbyprefix", .proc = kv_getbyprefix, .arity = -2, .flags = KVF | CMD_READONLY | CMD_KEY_PREFIX, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "prefix [AFTER key] [LIMIT n]",
     .summary = "Returns key/document pairs under a prefix in key order."},
    {.name = "kv.count", .proc = kv_count, .arity = 2, .flags = KVF | CMD_READONLY | CMD_KEY_PREFIX, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "prefix",
     .summary = "Counts the keys under a prefix."},
    {.name = "kv.delbyprefix", .proc = kv_delbyprefix, .arity = 2, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE | CMD_KEY_PREFIX, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "prefix",
     .acl = "@dangerous", .summary = "Deletes every key under a prefix with one range deletion."},
    {.name = "kv.patch", .proc = kv_patch, .arity = 3, .flags = KVF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "kv", .args = "key patch",
     .summary = "Applies an RFC 7386 merge patch to the stored object atomically."},
    CMD_TABLE_END,
};

const cmd_family kv_family = {.name = "kv", .rows = rows};
