/* The hosted store's seven operations on KV.* (SPEC §3). Values are any
 * JSON value; absent keys read as NULL (KV.GET) or JSON null (KV.MGET). */
#include "skv_int.h"

#include <assert.h>

skv_status skv_kv_get(skv_client *c, const char *key, json_t **value, skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && key && value);
    *value = NULL;
    skv__args_init(&a);
    skv__args_str(&a, "KV.GET");
    skv__args_str(&a, key);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_json(r, value, err);
}

skv_status skv_kv_set(skv_client *c, const char *key, const json_t *value, skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && key && value);
    skv__args_init(&a);
    skv__args_str(&a, "KV.SET");
    skv__args_str(&a, key);
    skv__args_json(&a, value);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_ok(r, err);
}

skv_status skv_kv_del(skv_client *c, const char *key, long long *deleted, skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && key);
    skv__args_init(&a);
    skv__args_str(&a, "KV.DEL");
    skv__args_str(&a, key);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_int(r, deleted, err);
}

skv_status skv_kv_mget(skv_client *c, const char *const *keys, size_t n, json_t **values, skv_error *err) {
    skv_args a;
    redisReply *r = NULL;
    json_t *list = NULL;
    skv_status st;
    assert(c && keys && n > 0 && values);
    *values = NULL;
    skv__args_init(&a);
    skv__args_str(&a, "KV.MGET");
    for (size_t i = 0; i < n; i++) skv__args_str(&a, keys[i]);
    if ((st = skv__args_run(c, &a, &r, err)) != SKV_OK) goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        st = skv__fail(err, SKV_PROTOCOL, "KV.MGET: expected an array of %zu, got reply type %d", n, r->type);
        goto out;
    }
    if (!(list = json_array())) {
        st = skv__fail(err, SKV_OOM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        json_t *v = NULL;
        if (e->type == REDIS_REPLY_NIL) {
            v = json_null();
        } else if (e->type != REDIS_REPLY_STRING) {
            st = skv__fail(err, SKV_PROTOCOL, "KV.MGET: element %zu has reply type %d", i, e->type);
            goto out;
        } else if ((st = skv__parse_json(e->str, e->len, &v, err)) != SKV_OK) {
            goto out;
        }
        if (json_array_append_new(list, v) != 0) {
            st = skv__fail(err, SKV_OOM, "out of memory");
            goto out;
        }
    }
    *values = list;
    list = NULL;
out:
    json_decref(list);
    if (r) freeReplyObject(r);
    return st;
}

skv_status skv_kv_mset(skv_client *c, const json_t *pairs, skv_error *err) {
    skv_args a;
    redisReply *r;
    const char *k;
    json_t *v;
    assert(c && json_is_object(pairs) && json_object_size(pairs) > 0);
    skv__args_init(&a);
    skv__args_str(&a, "KV.MSET");
    json_object_foreach((json_t *)pairs, k, v) {
        skv__args_str(&a, k);
        skv__args_json(&a, v);
    }
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_ok(r, err);
}

skv_status skv_kv_mdel(skv_client *c, const char *const *keys, size_t n, long long *deleted, skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && keys && n > 0);
    skv__args_init(&a);
    skv__args_str(&a, "KV.MDEL");
    for (size_t i = 0; i < n; i++) skv__args_str(&a, keys[i]);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_int(r, deleted, err);
}

skv_status skv_kv_get_by_prefix(skv_client *c, const char *prefix, const skv_kv_page *page, json_t **items,
                                skv_error *err) {
    skv_args a;
    redisReply *r = NULL;
    json_t *list = NULL;
    skv_status st;
    assert(c && prefix && items);
    *items = NULL;
    skv__args_init(&a);
    skv__args_str(&a, "KV.GETBYPREFIX");
    skv__args_str(&a, prefix);
    if (page && page->after) {
        skv__args_str(&a, "AFTER");
        skv__args_str(&a, page->after);
    }
    if (page && page->limit > 0) {
        skv__args_str(&a, "LIMIT");
        skv__args_ll(&a, page->limit);
    }
    if ((st = skv__args_run(c, &a, &r, err)) != SKV_OK) goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        st = skv__fail(err, SKV_PROTOCOL, "KV.GETBYPREFIX: expected key/value pairs, got reply type %d", r->type);
        goto out;
    }
    if (!(list = json_array())) {
        st = skv__fail(err, SKV_OOM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        json_t *value = NULL, *item;
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            st = skv__fail(err, SKV_PROTOCOL, "KV.GETBYPREFIX: pair %zu is not two bulk strings", i / 2);
            goto out;
        }
        if ((st = skv__parse_json(v->str, v->len, &value, err)) != SKV_OK) goto out;
        /* (json_pack takes value even when it fails) */
        if (!(item = json_pack("{s:s%,s:o}", "key", k->str, k->len, "value", value))) {
            st = skv__fail(err, SKV_PROTOCOL, "KV.GETBYPREFIX: key %zu is not UTF-8 text", i / 2);
            goto out;
        }
        if (json_array_append_new(list, item) != 0) {
            st = skv__fail(err, SKV_OOM, "out of memory");
            goto out;
        }
    }
    *items = list;
    list = NULL;
out:
    json_decref(list);
    if (r) freeReplyObject(r);
    return st;
}
