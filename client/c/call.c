/* Building a helper's argv and turning its reply into C values and
 * jansson documents. A reply of an unexpected shape is SKV_PROTOCOL: the
 * caller is never handed a guess. */
#include "skv_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the argv builder ------------------------------------------------------------- */

void skv__args_init(skv_args *a) {
    memset(a, 0, sizeof *a);
    a->cap = a->owned_cap = SKV_ARGS_INLINE;
    a->owned = a->owned_in;
    a->argv = a->argv_in;
    a->len = a->len_in;
}

void skv__args_free(skv_args *a) {
    for (int i = 0; i < a->nowned; i++) free(a->owned[i]);
    if (a->owned != a->owned_in) free(a->owned);
    if (a->argv != a->argv_in) free(a->argv);
    if (a->len != a->len_in) free(a->len);
    skv__args_init(a);
}

static int grow(skv_args *a) {
    if (a->argc < a->cap) return 0;
    int cap = a->cap * 2;
    const char **v = malloc((size_t)cap * sizeof *v);
    size_t *l = malloc((size_t)cap * sizeof *l);
    if (!v || !l) {
        free(v);
        free(l);
        a->oom = 1;
        return -1;
    }
    memcpy(v, a->argv, (size_t)a->argc * sizeof *v);
    memcpy(l, a->len, (size_t)a->argc * sizeof *l);
    if (a->argv != a->argv_in) free(a->argv);
    if (a->len != a->len_in) free(a->len);
    a->argv = v;
    a->len = l;
    a->cap = cap;
    return 0;
}

static void push(skv_args *a, const char *s, size_t n) {
    if (grow(a) < 0) return;
    a->argv[a->argc] = s;
    a->len[a->argc++] = n;
}

/* Keeps s (malloc()ed by us) until skv__args_free. */
static void push_owned(skv_args *a, char *s) {
    if (s && a->nowned == a->owned_cap) {
        char **o = malloc((size_t)a->owned_cap * 2 * sizeof *o);
        if (o) {
            memcpy(o, a->owned, (size_t)a->nowned * sizeof *o);
            if (a->owned != a->owned_in) free(a->owned);
            a->owned = o;
            a->owned_cap *= 2;
        }
    }
    if (!s || a->nowned == a->owned_cap) {
        free(s);
        a->oom = 1;
        return;
    }
    a->owned[a->nowned++] = s;
    push(a, s, strlen(s));
}

void skv__args_str(skv_args *a, const char *s) {
    assert(s);
    push(a, s, strlen(s));
}

void skv__args_ll(skv_args *a, long long v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    push_owned(a, strdup(buf));
}

void skv__args_json(skv_args *a, const json_t *doc) {
    assert(doc);
    /* the server keeps the text as given: compact, members in their order */
    char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s) {
        a->bad_json = 1;
        return;
    }
    push_owned(a, s);
}

void skv__args_page(skv_args *a, const skv_page *page) {
    if (!page) return;
    if (page->after) {
        skv__args_str(a, "AFTER");
        skv__args_str(a, page->after);
    }
    if (page->limit) {
        skv__args_str(a, "LIMIT");
        skv__args_ll(a, page->limit);
    }
}

skv_status skv__args_run(skv_client *c, skv_args *a, redisReply **reply, skv_error *err) {
    skv_status st;
    *reply = NULL;
    if (err) err->attempts = 0;
    if (a->bad_json) st = skv__fail(err, SKV_INVALID, "a document could not be encoded as JSON");
    else if (a->oom) st = skv__fail(err, SKV_OOM, "out of memory");
    else st = skv_command_argv(c, a->argc, a->argv, a->len, reply, err);
    skv__args_free(a);
    return st;
}

/* ---- replies ------------------------------------------------------------------------ */

static skv_status shape(redisReply *r, const char *want, skv_error *err) {
    skv_status st = skv__fail(err, SKV_PROTOCOL, "expected %s, got reply type %d", want, r->type);
    freeReplyObject(r);
    return st;
}

skv_status skv__take_int(redisReply *r, long long *out, skv_error *err) {
    if (r->type != REDIS_REPLY_INTEGER) return shape(r, "an integer", err);
    if (out) *out = r->integer;
    freeReplyObject(r);
    return SKV_OK;
}

skv_status skv__take_ok(redisReply *r, skv_error *err) {
    if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0) return shape(r, "+OK", err);
    freeReplyObject(r);
    return SKV_OK;
}

skv_status skv__take_id(redisReply *r, char id[SKV_ID_SIZE], int nil_ok, skv_error *err) {
    if (r->type == REDIS_REPLY_NIL && nil_ok) {
        if (id) id[0] = '\0';
        freeReplyObject(r);
        return SKV_OK;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= SKV_ID_SIZE) return shape(r, "an id", err);
    if (id) memcpy(id, r->str, r->len + 1);
    freeReplyObject(r);
    return SKV_OK;
}

skv_status skv__parse_json(const char *s, size_t n, json_t **out, skv_error *err) {
    json_error_t je;
    *out = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!*out) return skv__fail(err, SKV_PROTOCOL, "reply is not JSON: %s at offset %d", je.text, je.position);
    return SKV_OK;
}

skv_status skv__take_json(redisReply *r, json_t **out, skv_error *err) {
    skv_status st = SKV_OK;
    *out = NULL;
    if (r->type == REDIS_REPLY_STRING) st = skv__parse_json(r->str, r->len, out, err);
    else if (r->type != REDIS_REPLY_NIL) return shape(r, "a JSON document or nil", err);
    freeReplyObject(r);
    return st;
}

skv_status skv__take_array(redisReply *r, int keep_strings, json_t **out, skv_error *err) {
    skv_status st = SKV_OK;
    *out = NULL;
    if (r->type != REDIS_REPLY_ARRAY) return shape(r, "an array", err);
    json_t *list = json_array();
    if (!list) {
        st = skv__fail(err, SKV_OOM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        json_t *v = NULL;
        if (e->type != REDIS_REPLY_STRING) {
            st = skv__fail(err, SKV_PROTOCOL, "array element %zu has reply type %d", i, e->type);
            goto out;
        }
        if (keep_strings) v = json_stringn(e->str, e->len);
        else if ((st = skv__parse_json(e->str, e->len, &v, err)) != SKV_OK) goto out;
        if (json_array_append_new(list, v) != 0) {
            st = skv__fail(err, SKV_OOM, "out of memory");
            goto out;
        }
    }
    *out = list;
    list = NULL;
out:
    json_decref(list);
    freeReplyObject(r);
    return st;
}
