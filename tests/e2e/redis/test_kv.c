/* End-to-end tests of KV.* (SPEC §3) and the domain write guard (SPEC §2)
 * against a real stagekv-server. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

SKV_FIXTURE();

#define GUARD_MSG(k) "ERR key '" k "' is owned by the domain engine; use its commands"

/* "ERR invalid JSON: <reason> at offset N" */
#define expect_invalid_json(...) expect_invalid_json_l(__LINE__, __VA_ARGS__)
static void expect_invalid_json_l(int line, redisReply *r, const char *what) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "line %d: %s: expected invalid JSON error, got type %d (%s)", line, what, r->type,
                 r->str ? r->str : "");
    if (r->type == REDIS_REPLY_ERROR) {
        cr_expect(strncmp(r->str, "ERR invalid JSON: ", 18) == 0, "line %d: %s: error '%s'", line, what, r->str);
        cr_expect(strstr(r->str, " at offset ") != NULL, "line %d: %s: error '%s' names no offset", line, what, r->str);
    }
    freeReplyObject(r);
}

/* Flat reply "k1 v1 k2 v2 ..." compared to want[] (keys and values, as C
 * strings; keys may hold \xff). */
#define expect_pairs(...) expect_pairs_l(__LINE__, __VA_ARGS__)
static void expect_pairs_l(int line, redisReply *r, size_t npairs, const char *const *want, const char *what) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: %s: type %d (%s)", line, what, r->type, r->str ? r->str : "");
    cr_expect_eq(r->elements, 2 * npairs, "line %d: %s: %zu elements, expected %zu", line, what, r->elements, 2 * npairs);
    for (size_t i = 0; i < r->elements && i < 2 * npairs; i++) {
        cr_expect_eq(r->element[i]->type, REDIS_REPLY_STRING, "line %d: %s: element %zu", line, what, i);
        cr_expect(r->element[i]->len == strlen(want[i]) && memcmp(r->element[i]->str, want[i], r->element[i]->len) == 0,
                  "line %d: %s: element %zu is '%s', expected '%s'", line, what, i, r->element[i]->str, want[i]);
    }
    freeReplyObject(r);
}

#define expect_empty_array(...) expect_empty_array_l(__LINE__, __VA_ARGS__)
static void expect_empty_array_l(int line, redisReply *r, const char *what) {
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "line %d: %s: type %d (%s)", line, what, r->type, r->str ? r->str : "");
    if (r->type == REDIS_REPLY_ARRAY) cr_expect_eq(r->elements, 0, "line %d: %s: %zu elements", line, what, r->elements);
    freeReplyObject(r);
}

static redisReply *cmdv(int argc, const char **argv, const size_t *lens) { return skv_cmdargv(c, argc, argv, lens); }

/* ---- a small JSON canonicalizer: objects with sorted members, no blanks,
 * so documents compare by value whatever the encoder's layout --------- */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

typedef struct {
    const char *s, *e;
} jcur;

static void jws(jcur *j) {
    while (j->s < j->e && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')) j->s++;
}

static int jval(jcur *j, sbuf *out);

static int jstr(jcur *j, sbuf *out) {
    const char *st = j->s;
    if (j->s >= j->e || *j->s != '"') return -1;
    for (j->s++; j->s < j->e && *j->s != '"'; j->s++)
        if (*j->s == '\\') j->s++;
    if (j->s >= j->e) return -1;
    j->s++;
    sb_put(out, st, (size_t)(j->s - st));
    return 0;
}

typedef struct {
    char *k, *v;
} member;

static int cmp_member(const void *a, const void *b) {
    return strcmp(((const member *)a)->k, ((const member *)b)->k);
}

static int jval(jcur *j, sbuf *out) {
    jws(j);
    if (j->s >= j->e) return -1;
    char ch = *j->s;
    if (ch == '{') {
        j->s++;
        member *m = NULL;
        size_t n = 0;
        jws(j);
        if (j->s < j->e && *j->s == '}') {
            j->s++;
        } else {
            for (;;) {
                sbuf k = {0}, v = {0};
                jws(j);
                if (jstr(j, &k) < 0) return -1;
                jws(j);
                if (j->s >= j->e || *j->s != ':') return -1;
                j->s++;
                if (jval(j, &v) < 0) return -1;
                m = realloc(m, (n + 1) * sizeof *m);
                m[n].k = k.p;
                m[n].v = v.p;
                n++;
                jws(j);
                if (j->s < j->e && *j->s == ',') { j->s++; continue; }
                if (j->s < j->e && *j->s == '}') { j->s++; break; }
                return -1;
            }
        }
        if (n) qsort(m, n, sizeof *m, cmp_member); /* m is NULL for {} */
        sb_put(out, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i) sb_put(out, ",", 1);
            sb_put(out, m[i].k, strlen(m[i].k));
            sb_put(out, ":", 1);
            sb_put(out, m[i].v, strlen(m[i].v));
            free(m[i].k);
            free(m[i].v);
        }
        free(m);
        sb_put(out, "}", 1);
        return 0;
    }
    if (ch == '[') {
        j->s++;
        sb_put(out, "[", 1);
        jws(j);
        if (j->s < j->e && *j->s == ']') {
            j->s++;
        } else {
            for (int first = 1;; first = 0) {
                if (!first) sb_put(out, ",", 1);
                if (jval(j, out) < 0) return -1;
                jws(j);
                if (j->s < j->e && *j->s == ',') { j->s++; continue; }
                if (j->s < j->e && *j->s == ']') { j->s++; break; }
                return -1;
            }
        }
        sb_put(out, "]", 1);
        return 0;
    }
    if (ch == '"') return jstr(j, out);
    const char *st = j->s;
    while (j->s < j->e && strchr("-+.0123456789eEtruefalsn", *j->s)) j->s++;
    if (j->s == st) return -1;
    sb_put(out, st, (size_t)(j->s - st));
    return 0;
}

/* malloc()ed canonical form, or NULL when the text does not parse */
static char *canon(const char *s, size_t n) {
    jcur j = {s, s + n};
    sbuf out = {0};
    sb_put(&out, "", 0);
    if (jval(&j, &out) < 0) { free(out.p); return NULL; }
    jws(&j);
    if (j.s != j.e) { free(out.p); return NULL; }
    return out.p;
}

/* A bulk JSON reply equal (as a value, members in any order) to want. */
#define expect_json(...) expect_json_l(__LINE__, __VA_ARGS__)
static void expect_json_l(int line, redisReply *r, const char *want, const char *what) {
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "line %d: %s: expected JSON bulk, got type %d (%s)", line, what, r->type,
                 r->str ? r->str : "");
    char *g = canon(r->str, r->len), *w = canon(want, strlen(want));
    cr_assert(w, "line %d: bad expected JSON in test: %s", line, want);
    cr_expect(g != NULL, "line %d: %s: reply is not JSON: %s", line, what, r->str);
    if (g) cr_expect_str_eq(g, w, "line %d: %s: got %s, expected %s", line, what, r->str, want);
    free(g);
    free(w);
    freeReplyObject(r);
}

/* ---- KV.GET / KV.SET ---------------------------------------------------- */

Test(kv, get_set_exact_bytes, .init = up, .fini = down) {
    expect_nil(skv_cmd(c, "KV.GET %s", "missing"));
    expect_status(skv_cmd(c, "KV.SET %s %s", "k", "{\"a\":1}"), "OK");
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "{\"a\":1}");
    /* whitespace, member order and number spelling are kept as given */
    const char *spaced = " {\n  \"b\" :  [ 1 , 2.50 , 1e2 ],\t\"a\": { } } \r\n";
    expect_status(skv_cmd(c, "KV.SET %s %s", "k", spaced), "OK");
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), spaced);
    expect_bulk(skv_cmd(c, "GET %s", "k"), spaced);
    /* escapes and UTF-8 kept, not re-encoded */
    const char *esc = "{\"s\":\"caf\\u00e9 \xc3\xa9 \\\"q\\\" \\/ \\n\"}";
    expect_status(skv_cmd(c, "KV.SET %s %s", "e", esc), "OK");
    expect_bulk(skv_cmd(c, "KV.GET %s", "e"), esc);
    /* any JSON value, not only objects */
    const char *scalars[] = {"1", "-0.5e-3", "\"str\"", "null", "true", "false", "[]", "[1,[2,{}]]", "{}"};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        expect_status(skv_cmd(c, "KV.SET %s %s", "s", scalars[i]), "OK");
        expect_bulk(skv_cmd(c, "KV.GET %s", "s"), scalars[i]);
    }
    /* KV.SET counts in DBSIZE like any key */
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    expect_error_eq(skv_cmd(c, "KV.GET"), "ERR wrong number of arguments for 'kv.get' command");
    expect_error_eq(skv_cmd(c, "KV.GET a b"), "ERR wrong number of arguments for 'kv.get' command");
    expect_error_eq(skv_cmd(c, "KV.SET k"), "ERR wrong number of arguments for 'kv.set' command");
}

Test(kv, get_of_plain_set_bytes, .init = up, .fini = down) {
    const char raw[] = "not json\0\r\n\xff bytes";
    size_t n = sizeof raw - 1;
    expect_status(skv_cmd(c, "SET %s %b", "plain", raw, n), "OK");
    expect_bulk_bin(skv_cmd(c, "KV.GET %s", "plain"), raw, n);
    redisReply *r = skv_cmd(c, "KV.MGET %s %s", "plain", "nope");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_STRING);
    cr_expect_eq(r->element[0]->len, n);
    cr_expect(memcmp(r->element[0]->str, raw, n) == 0);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_status(skv_cmd(c, "SET %s %s", "counter", "40"), "OK");
    expect_int(skv_cmd(c, "INCR %s", "counter"), 41);
    expect_int(skv_cmd(c, "INCR %s", "counter"), 42);
    expect_bulk(skv_cmd(c, "KV.GET %s", "counter"), "42");
    const char *w[] = {"plain", raw, "plainer", "x"};
    expect_status(skv_cmd(c, "SET %s %s", "plainer", "x"), "OK");
    r = skv_cmd(c, "KV.GETBYPREFIX %s", "plain");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 4);
    cr_expect_str_eq(r->element[0]->str, w[0]);
    cr_expect_eq(r->element[1]->len, n);
    cr_expect_str_eq(r->element[2]->str, w[2]);
    cr_expect_str_eq(r->element[3]->str, w[3]);
    freeReplyObject(r);
}

Test(kv, set_invalid_json, .init = up, .fini = down) {
    const char *bad[] = {"{", "", " ", "{\"a\":}", "{} {}", "1 2", "nul", "[1,]", "{\"a\":1,}", "{'a':1}",
                         "\"unterminated", "NaN", "01", "{\"a\" 1}", "[1 2]", "\"\xff\"", "{\"a\":1}x",
                         "\"tab\there\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_invalid_json(skv_cmd(c, "KV.SET %s %s", "k", bad[i]), bad[i]);
        expect_nil(skv_cmd(c, "KV.GET %s", "k"));
    }
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    /* a refused value leaves the old one in place */
    expect_status(skv_cmd(c, "KV.SET %s %s", "k", "[1]"), "OK");
    expect_invalid_json(skv_cmd(c, "KV.SET %s %s", "k", "[1"), "[1");
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "[1]");
    /* the offset points into the text */
    redisReply *r = skv_cmd(c, "KV.SET %s %s", "k", "[1,2,x]");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    const char *at = strstr(r->str, " at offset ");
    cr_assert(at, "no offset in '%s'", r->str);
    long off = strtol(at + 11, NULL, 10);
    cr_expect(off >= 0 && off <= 7, "offset %ld outside '[1,2,x]'", off);
    freeReplyObject(r);
}

Test(kv, set_nx_xx, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.SET %s %s NX", "k", "1"), "OK");
    expect_nil(skv_cmd(c, "KV.SET %s %s NX", "k", "2"));
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "1");
    expect_nil(skv_cmd(c, "KV.SET %s %s XX", "absent", "1"));
    expect_nil(skv_cmd(c, "KV.GET %s", "absent"));
    expect_int(skv_cmd(c, "EXISTS %s", "absent"), 0);
    expect_status(skv_cmd(c, "KV.SET %s %s XX", "k", "3"), "OK");
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "3");
    expect_status(skv_cmd(c, "KV.SET %s %s xx", "k", "4"), "OK");
    expect_nil(skv_cmd(c, "KV.SET %s %s nx", "k", "5"));
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "4");
    expect_error_eq(skv_cmd(c, "KV.SET %s %s NX XX", "k", "6"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "KV.SET %s %s FOO", "k", "6"), "ERR syntax error");
    expect_invalid_json(skv_cmd(c, "KV.SET %s %s NX", "new", "{bad"), "{bad NX");
    expect_int(skv_cmd(c, "EXISTS %s", "new"), 0);
    expect_bulk(skv_cmd(c, "KV.GET %s", "k"), "4");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
}

/* ---- KV.DEL / KV.MDEL / KV.MGET / KV.MSET ------------------------------- */

Test(kv, del_mdel, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.MSET a 1 b 2 c 3 d 4"), "OK");
    expect_int(skv_cmd(c, "KV.DEL a"), 1);
    expect_int(skv_cmd(c, "KV.DEL a"), 0);
    expect_nil(skv_cmd(c, "KV.GET a"));
    expect_int(skv_cmd(c, "KV.MDEL b missing c"), 2);
    expect_int(skv_cmd(c, "KV.MDEL d d"), 1);
    expect_int(skv_cmd(c, "KV.MDEL b c d"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_error_eq(skv_cmd(c, "KV.DEL a b"), "ERR wrong number of arguments for 'kv.del' command");
    expect_error_eq(skv_cmd(c, "KV.MDEL"), "ERR wrong number of arguments for 'kv.mdel' command");
}

Test(kv, mget, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.SET a {\"x\":1}"), "OK");
    expect_status(skv_cmd(c, "KV.SET b [2]"), "OK");
    redisReply *r = skv_cmd(c, "KV.MGET b nope a b");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 4);
    cr_expect_str_eq(r->element[0]->str, "[2]");
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL);
    cr_expect_str_eq(r->element[2]->str, "{\"x\":1}");
    cr_expect_str_eq(r->element[3]->str, "[2]");
    freeReplyObject(r);
    expect_error_eq(skv_cmd(c, "KV.MGET"), "ERR wrong number of arguments for 'kv.mget' command");
}

Test(kv, mset_all_or_nothing, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.MSET m1 1 m2 {\"a\":[]} m3 \"s\""), "OK");
    expect_bulk(skv_cmd(c, "KV.GET m2"), "{\"a\":[]}");
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    /* one invalid value in the middle: nothing is written, nothing changes */
    expect_invalid_json(skv_cmd(c, "KV.MSET m1 10 n1 11 m2 {bad n2 12 m3 13"), "KV.MSET middle");
    expect_bulk(skv_cmd(c, "KV.GET m1"), "1");
    expect_bulk(skv_cmd(c, "KV.GET m2"), "{\"a\":[]}");
    expect_bulk(skv_cmd(c, "KV.GET m3"), "\"s\"");
    expect_nil(skv_cmd(c, "KV.GET n1"));
    expect_nil(skv_cmd(c, "KV.GET n2"));
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    /* the last value bad */
    expect_invalid_json(skv_cmd(c, "KV.MSET n1 1 n2 ["), "KV.MSET last");
    expect_int(skv_cmd(c, "EXISTS n1"), 0);
    /* a repeated key takes the last value */
    expect_status(skv_cmd(c, "KV.MSET r 1 r 2"), "OK");
    expect_bulk(skv_cmd(c, "KV.GET r"), "2");
    expect_error_eq(skv_cmd(c, "KV.MSET a 1 b"), "ERR wrong number of arguments for 'kv.mset' command");
    expect_error_eq(skv_cmd(c, "KV.MSET a"), "ERR wrong number of arguments for 'kv.mset' command");
    expect_int(skv_cmd(c, "EXISTS a"), 0);
}

static char *nested(int depth, char open, char close) {
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = 0;
    return s;
}

Test(kv, deep_nesting_refused, .init = up, .fini = down) {
    char *arr = nested(10000, '[', ']');
    redisReply *r = skv_cmd(c, "KV.SET deep %s", arr);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "10,000-deep array accepted (type %d)", r->type);
    if (r->type == REDIS_REPLY_ERROR) cr_expect(strncmp(r->str, "ERR", 3) == 0);
    freeReplyObject(r);
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_int(skv_cmd(c, "EXISTS deep"), 0);

    /* objects: {"a":{"a":...}} */
    size_t n = 10000;
    char *obj = malloc(n * 6 + n + 8);
    size_t p = 0;
    for (size_t i = 0; i < n; i++) { memcpy(obj + p, "{\"a\":", 5); p += 5; }
    memcpy(obj + p, "1", 1);
    p += 1;
    memset(obj + p, '}', n);
    p += n;
    obj[p] = 0;
    r = skv_cmd(c, "KV.SET deep %s", obj);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "10,000-deep object accepted (type %d)", r->type);
    freeReplyObject(r);
    r = skv_cmd(c, "KV.MSET ok 1 deep %s", obj);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "KV.MSET took a 10,000-deep object");
    freeReplyObject(r);
    expect_int(skv_cmd(c, "EXISTS ok"), 0);
    r = skv_cmd(c, "KV.PATCH deep %s", obj);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "KV.PATCH took a 10,000-deep patch");
    freeReplyObject(r);
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    /* an unbalanced 100,000-deep opening */
    char *open = nested(100000, '[', ']');
    open[100000] = 0;
    r = skv_cmd(c, "KV.SET deep %s", open);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    expect_status(skv_cmd(c, "PING"), "PONG");
    free(arr);
    free(obj);
    free(open);
}

Test(kv, max_kv_value_size, .init = up, .fini = down) {
    char big[256];
    big[0] = '"';
    memset(big + 1, 'a', 200);
    big[201] = '"';
    big[202] = 0;
    expect_status(skv_cmd(c, "CONFIG SET max-kv-value-size 100"), "OK");
    expect_error(skv_cmd(c, "KV.SET big %s", big), "ERR");
    expect_error(skv_cmd(c, "KV.MSET small 1 big %s", big), "ERR");
    expect_int(skv_cmd(c, "EXISTS small big"), 0);
    /* a patch whose result passes the cap is refused, the document kept */
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "{\"a\":\"%.60s\"}", big + 1);
    snprintf(p2, sizeof p2, "{\"b\":\"%.60s\"}", big + 1);
    redisReply *r = skv_cmd(c, "KV.PATCH doc %s", p1);
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "a small patch was refused: %s", r->str ? r->str : "");
    freeReplyObject(r);
    expect_error(skv_cmd(c, "KV.PATCH doc %s", p2), "ERR");
    expect_json(skv_cmd(c, "KV.GET doc"), p1, "kept after refused patch");
    /* plain SET is not a KV.* command */
    expect_status(skv_cmd(c, "SET plain %s", big), "OK");
    expect_status(skv_cmd(c, "CONFIG SET max-kv-value-size 16mb"), "OK");
    expect_status(skv_cmd(c, "KV.SET big %s", big), "OK");
    expect_bulk(skv_cmd(c, "KV.GET big"), big);
}

/* ---- KV.GETBYPREFIX / KV.COUNT / KV.DELBYPREFIX -------------------------- */

static void fill_p(void) {
    /* inserted out of order */
    const char *keys[] = {"p:c", "p:a", "o:z", "p:b", "p:aa", "p", "p;", "p:", "q:a"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char v[32];
        snprintf(v, sizeof v, "{\"k\":\"%s\"}", keys[i]);
        expect_status(skv_cmd(c, "KV.SET %s %s", keys[i], v), "OK");
    }
}

Test(kv, getbyprefix_order, .init = up, .fini = down) {
    fill_p();
    const char *w[] = {"p:", "{\"k\":\"p:\"}", "p:a", "{\"k\":\"p:a\"}", "p:aa", "{\"k\":\"p:aa\"}",
                       "p:b", "{\"k\":\"p:b\"}", "p:c", "{\"k\":\"p:c\"}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p:"), 5, w, "p:");
    expect_int(skv_cmd(c, "KV.COUNT p:"), 5);
    const char *w2[] = {"p", "{\"k\":\"p\"}", "p:", "{\"k\":\"p:\"}", "p:a", "{\"k\":\"p:a\"}",
                        "p:aa", "{\"k\":\"p:aa\"}", "p:b", "{\"k\":\"p:b\"}", "p:c", "{\"k\":\"p:c\"}",
                        "p;", "{\"k\":\"p;\"}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p"), 7, w2, "p");
    expect_int(skv_cmd(c, "KV.COUNT p"), 7);
    expect_empty_array(skv_cmd(c, "KV.GETBYPREFIX zz"), "zz");
    expect_int(skv_cmd(c, "KV.COUNT zz"), 0);
    const char *w3[] = {"p:aa", "{\"k\":\"p:aa\"}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p:aa"), 1, w3, "p:aa");
}

Test(kv, getbyprefix_after_limit, .init = up, .fini = down) {
    fill_p();
    const char *after_a[] = {"p:aa", "{\"k\":\"p:aa\"}", "p:b", "{\"k\":\"p:b\"}", "p:c", "{\"k\":\"p:c\"}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p:a"), 3, after_a, "AFTER p:a");
    /* AFTER need not exist */
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p:ab"), 2, after_a + 2, "AFTER p:ab");
    expect_empty_array(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p:c"), "AFTER p:c");
    expect_empty_array(skv_cmd(c, "KV.GETBYPREFIX p: AFTER q"), "AFTER q");
    /* AFTER below the prefix: everything under it */
    const char *all[] = {"p:", "{\"k\":\"p:\"}", "p:a", "{\"k\":\"p:a\"}", "p:aa", "{\"k\":\"p:aa\"}",
                         "p:b", "{\"k\":\"p:b\"}", "p:c", "{\"k\":\"p:c\"}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER a"), 5, all, "AFTER a");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p"), 5, all, "AFTER p");
    /* AFTER the prefix itself excludes the key equal to the prefix */
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p:"), 4, all + 2, "AFTER p:");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT 2"), 2, all, "LIMIT 2");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT 1000"), 5, all, "LIMIT 1000");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: AFTER p:a LIMIT 2"), 2, after_a, "AFTER p:a LIMIT 2");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT 2 AFTER p:a"), 2, after_a, "LIMIT 2 AFTER p:a");
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX p: limit 1 after p:aa"), 1, after_a + 2, "lower case");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT 0"), "ERR");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT -1"), "ERR");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT abc"), "ERR");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX p: LIMIT"), "ERR");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX p: AFTER"), "ERR");
    expect_error_eq(skv_cmd(c, "KV.GETBYPREFIX p: FOO 1"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "KV.GETBYPREFIX"), "ERR wrong number of arguments for 'kv.getbyprefix' command");
}

Test(kv, getbyprefix_paging, .init = up, .fini = down) {
    for (int i = 0; i < 25; i++) expect_status(skv_cmd(c, "KV.SET pg:%02d %d", i, i), "OK");
    expect_status(skv_cmd(c, "KV.SET pg; 0"), "OK");
    expect_status(skv_cmd(c, "KV.SET pf 0"), "OK");
    int seen[25] = {0}, pages = 0, expect_next = 0;
    char after[32] = "";
    for (;;) {
        redisReply *r = after[0] ? skv_cmd(c, "KV.GETBYPREFIX pg: AFTER %s LIMIT 4", after)
                                 : skv_cmd(c, "KV.GETBYPREFIX pg: LIMIT 4");
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_leq(r->elements, 8);
        if (r->elements == 0) { freeReplyObject(r); break; }
        for (size_t i = 0; i < r->elements; i += 2) {
            int k = -1;
            cr_assert_eq(sscanf(r->element[i]->str, "pg:%d", &k), 1, "foreign key %s", r->element[i]->str);
            cr_assert(k >= 0 && k < 25);
            cr_expect_eq(k, expect_next, "page out of order: %d, expected %d", k, expect_next);
            expect_next = k + 1;
            seen[k]++;
            char v[8];
            snprintf(v, sizeof v, "%d", k);
            cr_expect_str_eq(r->element[i + 1]->str, v);
        }
        snprintf(after, sizeof after, "%s", r->element[r->elements - 2]->str);
        freeReplyObject(r);
        cr_assert(++pages < 100);
    }
    for (int i = 0; i < 25; i++) cr_expect_eq(seen[i], 1, "pg:%02d seen %d times", i, seen[i]);
    cr_expect_eq(pages, 7);
}

Test(kv, empty_prefix_refused, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.SET a 1"), "OK");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX %s", ""), "ERR");
    expect_error(skv_cmd(c, "KV.GETBYPREFIX %s LIMIT 1", ""), "ERR");
    expect_error(skv_cmd(c, "KV.COUNT %s", ""), "ERR");
    expect_error(skv_cmd(c, "KV.DELBYPREFIX %s", ""), "ERR");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_bulk(skv_cmd(c, "KV.GET a"), "1");
}

Test(kv, prefix_boundaries, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.MSET a:1 1 a:2 2 a; 3 b 4"), "OK");
    const char *w[] = {"a:1", "1", "a:2", "2"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX a:"), 2, w, "a:");
    expect_int(skv_cmd(c, "KV.COUNT a:"), 2);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX a:"), 2);
    expect_int(skv_cmd(c, "KV.COUNT a:"), 0);
    expect_bulk(skv_cmd(c, "KV.GET a;"), "3");
    expect_bulk(skv_cmd(c, "KV.GET b"), "4");
    expect_int(skv_cmd(c, "DBSIZE"), 2);
}

Test(kv, prefix_with_ff_bytes, .init = up, .fini = down) {
    /* keys around the prefix "p\xff\xff" and the prefix "\xff\xff" (no upper bound) */
    const char *keys[] = {"p\xff\xff", "p\xff\xff" "a", "p\xff\xff\xff", "p\xff\xff\xff\xff", "p\xff\xfe",
                          "p\xff", "q", "\xff\xff", "\xff\xff\x01", "\xff\xff\xff\xff", "\xff\xfe", "\xff"};
    size_t nk = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nk; i++) expect_status(skv_cmd(c, "KV.SET %b 1", keys[i], strlen(keys[i])), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), (long long)nk);

    const char *w[] = {"p\xff\xff", "1", "p\xff\xff" "a", "1", "p\xff\xff\xff", "1", "p\xff\xff\xff\xff", "1"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX %b", "p\xff\xff", (size_t)3), 4, w, "p\\xff\\xff");
    expect_int(skv_cmd(c, "KV.COUNT %b", "p\xff\xff", (size_t)3), 4);
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX %b AFTER %b", "p\xff\xff", (size_t)3, "p\xff\xff" "a", (size_t)4), 2,
                 w + 4, "AFTER p\\xff\\xffa");

    const char *w2[] = {"\xff\xff", "1", "\xff\xff\x01", "1", "\xff\xff\xff\xff", "1"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX %b", "\xff\xff", (size_t)2), 3, w2, "\\xff\\xff");
    expect_int(skv_cmd(c, "KV.COUNT %b", "\xff", (size_t)1), 5);

    expect_int(skv_cmd(c, "KV.DELBYPREFIX %b", "p\xff\xff", (size_t)3), 4);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX %b", "\xff\xff", (size_t)2), 3);
    expect_int(skv_cmd(c, "DBSIZE"), (long long)nk - 7);
    expect_bulk(skv_cmd(c, "KV.GET %b", "p\xff\xfe", (size_t)3), "1");
    expect_bulk(skv_cmd(c, "KV.GET %b", "p\xff", (size_t)2), "1");
    expect_bulk(skv_cmd(c, "KV.GET %b", "\xff\xfe", (size_t)2), "1");
    expect_bulk(skv_cmd(c, "KV.GET %b", "\xff", (size_t)1), "1");
    expect_bulk(skv_cmd(c, "KV.GET q"), "1");
}

Test(kv, delbyprefix_count_and_dbsize, .init = up, .fini = down) {
    for (int b = 0; b < 200; b += 50) {
        const char *argv[101];
        char names[50][16];
        argv[0] = "KV.MSET";
        for (int i = 0; i < 50; i++) {
            snprintf(names[i], sizeof names[i], "d:%03d", b + i);
            argv[1 + 2 * i] = names[i];
            argv[2 + 2 * i] = "{}";
        }
        expect_status(cmdv(101, argv, NULL), "OK");
    }
    expect_status(skv_cmd(c, "MSET d 1 d; 1 e:1 1"), "OK");
    /* the same prefix in another database is not KV.*'s business */
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_status(skv_cmd(c, "SET d:x 1"), "OK");
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 203);
    expect_int(skv_cmd(c, "KV.COUNT d:"), 200);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX d:"), 200);
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    expect_int(skv_cmd(c, "KV.COUNT d:"), 0);
    expect_empty_array(skv_cmd(c, "KV.GETBYPREFIX d:"), "after delete");
    expect_nil(skv_cmd(c, "GET d:123"));
    expect_int(skv_cmd(c, "KV.DELBYPREFIX d:"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    /* keys can be written again under the prefix */
    expect_status(skv_cmd(c, "KV.SET d:001 2"), "OK");
    expect_int(skv_cmd(c, "KV.COUNT d:"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_bulk(skv_cmd(c, "GET d:x"), "1");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX"), "ERR wrong number of arguments for 'kv.delbyprefix' command");
    expect_error_eq(skv_cmd(c, "KV.COUNT"), "ERR wrong number of arguments for 'kv.count' command");
}

Test(kv, delbyprefix_survives_restart, .init = up, .fini = down) {
    for (int i = 0; i < 20; i++) expect_status(skv_cmd(c, "KV.SET r:%02d 1", i), "OK");
    expect_status(skv_cmd(c, "KV.SET s 1"), "OK");
    expect_int(skv_cmd(c, "KV.DELBYPREFIX r:"), 20);
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(skv_cmd(c, "KV.COUNT r:"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
}

/* ---- expiry ------------------------------------------------------------- */

Test(kv, expired_keys_invisible, .init = up, .fini = down) {
    long long t0 = mono_ms();
    expect_status(skv_cmd(c, "SET x:1 {} PX 1000"), "OK");
    expect_status(skv_cmd(c, "SET x:2 {\"a\":1}"), "OK");
    expect_int_within(t0, 1000, skv_cmd(c, "KV.COUNT x:"), 2);
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "KV.GET x:1"), "x:1 still there after %d ms", SKV_WAIT_MS);
    redisReply *r = skv_cmd(c, "KV.MGET x:1 x:2");
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_int(skv_cmd(c, "KV.COUNT x:"), 1);
    const char *w[] = {"x:2", "{\"a\":1}"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX x:"), 1, w, "x: after expiry");
    expect_int(skv_cmd(c, "KV.DEL x:1"), 0);
    expect_status(skv_cmd(c, "KV.SET x:1 1 NX"), "OK");
    expect_json(skv_cmd(c, "KV.PATCH x:3 {\"b\":2}"), "{\"b\":2}", "patch after expiry");
}

/* ---- KV.PATCH ----------------------------------------------------------- */

Test(kv, patch_rfc7386, .init = up, .fini = down) {
    /* absent key counts as {} */
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "d", "{\"a\":1,\"n\":null}"), "{\"a\":1}", "absent");
    expect_json(skv_cmd(c, "KV.GET d"), "{\"a\":1}", "stored");
    expect_status(skv_cmd(c, "KV.SET %s %s", "d",
                          "{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"arr\":[1,2],\"keep\":true}"),
                  "OK");
    /* replace, delete with null, nested merge, arrays replaced whole */
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "d",
                        "{\"a\":\"z\",\"c\":{\"f\":null,\"h\":{\"i\":1}},\"arr\":[3],\"new\":{\"x\":null,\"y\":0}}"),
                "{\"a\":\"z\",\"c\":{\"d\":\"e\",\"h\":{\"i\":1}},\"arr\":[3],\"keep\":true,\"new\":{\"y\":0}}",
                "merge");
    /* the reply is what is stored */
    redisReply *p = skv_cmd(c, "KV.PATCH %s %s", "d", "{}");
    redisReply *g = skv_cmd(c, "KV.GET d");
    cr_assert_eq(p->type, REDIS_REPLY_STRING);
    cr_assert_eq(g->type, REDIS_REPLY_STRING);
    cr_expect_eq(p->len, g->len);
    cr_expect(p->len == g->len && memcmp(p->str, g->str, p->len) == 0, "PATCH reply %s, stored %s", p->str, g->str);
    freeReplyObject(p);
    freeReplyObject(g);
    /* a member turned from object to scalar and back */
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "d", "{\"c\":5}"),
                "{\"a\":\"z\",\"c\":5,\"arr\":[3],\"keep\":true,\"new\":{\"y\":0}}", "object to scalar");
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "d", "{\"c\":{\"q\":{\"r\":null}}}"),
                "{\"a\":\"z\",\"c\":{\"q\":{}},\"arr\":[3],\"keep\":true,\"new\":{\"y\":0}}", "scalar to object");
    /* deleting a member that is not there changes nothing */
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "d", "{\"zz\":null,\"a\":null,\"keep\":null,\"new\":null,\"c\":null}"),
                "{\"arr\":[3]}", "deletes");
    /* RFC 7386 appendix examples on objects */
    expect_status(skv_cmd(c, "KV.SET %s %s", "r", "{\"a\":[{\"b\":\"c\"}]}"), "OK");
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "r", "{\"a\":[1]}"), "{\"a\":[1]}", "array replaced");
    expect_status(skv_cmd(c, "KV.SET %s %s", "r", "{\"e\":null}"), "OK");
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "r", "{\"a\":1}"), "{\"e\":null,\"a\":1}", "stored null kept");
    expect_status(skv_cmd(c, "KV.SET %s %s", "r", "{}"), "OK");
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "r", "{\"a\":{\"bb\":{\"ccc\":null}}}"), "{\"a\":{\"bb\":{}}}",
                "nulls in new members");
    /* nested merge keeps siblings deep down */
    expect_status(skv_cmd(c, "KV.SET %s %s", "n", "{\"l1\":{\"l2\":{\"l3\":{\"x\":1,\"y\":2}},\"s\":1}}"), "OK");
    expect_json(skv_cmd(c, "KV.PATCH %s %s", "n", "{\"l1\":{\"l2\":{\"l3\":{\"y\":null,\"z\":3}}}}"),
                "{\"l1\":{\"l2\":{\"l3\":{\"x\":1,\"z\":3}},\"s\":1}}", "deep");
    expect_int(skv_cmd(c, "DBSIZE"), 3);
}

/* A merge patch leaves the members it does not name as they are: an integer
 * beyond int64 keeps its exact value (SPEC §4: integers keep their exact
 * value), it does not become the nearest double. */
/* KV.PATCH re-encodes the stored value, so an integer beyond 64 bits,
 * which jansson could only read as a rounded real, is refused rather than
 * silently changed (SPEC §4: integers keep their exact value); KV.SET,
 * which stores the bytes as given, accepts it. */
Test(kv, patch_never_rounds_integers, .init = up, .fini = down) {
    /* within int64: exact through KV.PATCH, in the stored value and in the patch */
    expect_status(skv_cmd(c, "KV.SET %s %s", "i", "{\"max\":9223372036854775807,\"min\":-9223372036854775808}"),
                  "OK");
    expect_bulk(skv_cmd(c, "KV.PATCH %s %s", "i", "{\"y\":1}"),
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"y\":1}");
    expect_bulk(skv_cmd(c, "KV.PATCH %s %s", "i",
                        "{\"y\":null,\"pmax\":9223372036854775807,\"pmin\":-9223372036854775808,"
                        "\"id\":9007199254740993}"),
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"pmax\":9223372036854775807,"
                "\"pmin\":-9223372036854775808,\"id\":9007199254740993}");
    expect_bulk(skv_cmd(c, "KV.GET %s", "i"),
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"pmax\":9223372036854775807,"
                "\"pmin\":-9223372036854775808,\"id\":9007199254740993}");

    /* beyond int64 in the stored value: refused, value unchanged */
    const char *big = "{\"big\":12345678901234567890,\"max\":9223372036854775807}";
    expect_status(skv_cmd(c, "KV.SET %s %s", "q", big), "OK");
    expect_error(skv_cmd(c, "KV.PATCH %s %s", "q", "{\"y\":1}"),
                 "ERR stored value: invalid JSON: integer does not fit in 64 bits");
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "q", "{\"y\":1}"),
                    "ERR stored value: invalid JSON: integer does not fit in 64 bits at offset 27");
    expect_bulk(skv_cmd(c, "KV.GET %s", "q"), big);
    const char *neg = "[1,{\"n\":-9223372036854775809}]";
    expect_status(skv_cmd(c, "KV.SET %s %s", "qn", neg), "OK");
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "qn", "{\"y\":1}"),
                    "ERR stored value: invalid JSON: integer does not fit in 64 bits at offset 28");
    expect_bulk(skv_cmd(c, "KV.GET %s", "qn"), neg);

    /* beyond int64 in the patch: refused, value unchanged, absent key not created */
    expect_error(skv_cmd(c, "KV.PATCH %s %s", "i", "{\"z\":98765432109876543210}"),
                 "ERR invalid JSON: integer does not fit in 64 bits");
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "i", "{\"z\":98765432109876543210}"),
                    "ERR invalid JSON: integer does not fit in 64 bits at offset 25");
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "i", "{\"z\":[1,{\"w\":-9223372036854775809}]}"),
                    "ERR invalid JSON: integer does not fit in 64 bits at offset 33");
    expect_bulk(skv_cmd(c, "KV.GET %s", "i"),
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"pmax\":9223372036854775807,"
                "\"pmin\":-9223372036854775808,\"id\":9007199254740993}");
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "q", "{\"z\":9223372036854775808}"),
                    "ERR invalid JSON: integer does not fit in 64 bits at offset 24");
    expect_bulk(skv_cmd(c, "KV.GET %s", "q"), big);
    expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "fresh", "{\"z\":9223372036854775808}"),
                    "ERR invalid JSON: integer does not fit in 64 bits at offset 24");
    expect_int(skv_cmd(c, "EXISTS fresh"), 0);
}

Test(kv, patch_errors, .init = up, .fini = down) {
    /* stored value not an object */
    const char *nonobj[] = {"[1,2]", "5", "\"s\"", "null", "true"};
    for (size_t i = 0; i < sizeof nonobj / sizeof nonobj[0]; i++) {
        expect_status(skv_cmd(c, "KV.SET %s %s", "s", nonobj[i]), "OK");
        expect_error_eq(skv_cmd(c, "KV.PATCH %s %s", "s", "{\"a\":1}"), "ERR stored value is not a JSON object");
        expect_bulk(skv_cmd(c, "KV.GET %s", "s"), nonobj[i]);
    }
    /* stored value not JSON: the parse error is given */
    expect_status(skv_cmd(c, "SET %s %s", "plain", "hello"), "OK");
    expect_error(skv_cmd(c, "KV.PATCH %s %s", "plain", "{\"a\":1}"), "ERR stored value: invalid JSON: ");
    expect_bulk(skv_cmd(c, "GET plain"), "hello");
    /* patch not an object */
    expect_status(skv_cmd(c, "KV.SET %s %s", "o", "{\"a\":1}"), "OK");
    const char *badpatch[] = {"[1]", "1", "\"x\"", "null", "true"};
    for (size_t i = 0; i < sizeof badpatch / sizeof badpatch[0]; i++) {
        expect_error(skv_cmd(c, "KV.PATCH %s %s", "o", badpatch[i]), "ERR");
        expect_error(skv_cmd(c, "KV.PATCH %s %s", "absent", badpatch[i]), "ERR");
    }
    expect_invalid_json(skv_cmd(c, "KV.PATCH %s %s", "o", "{\"a\":"), "patch invalid JSON");
    expect_bulk(skv_cmd(c, "KV.GET o"), "{\"a\":1}");
    expect_int(skv_cmd(c, "EXISTS absent"), 0);
    expect_error_eq(skv_cmd(c, "KV.PATCH o"), "ERR wrong number of arguments for 'kv.patch' command");
}

/* ---- database 0 --------------------------------------------------------- */

Test(kv, always_database_0, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SELECT 3"), "OK");
    expect_status(skv_cmd(c, "SET k:db3 plain3"), "OK");
    expect_status(skv_cmd(c, "KV.SET k:a {\"db\":0}"), "OK");
    expect_status(skv_cmd(c, "KV.MSET k:b 1 k:c 2"), "OK");
    /* not in db 3 */
    expect_nil(skv_cmd(c, "GET k:a"));
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    /* KV reads see db 0, not db 3 */
    expect_bulk(skv_cmd(c, "KV.GET k:a"), "{\"db\":0}");
    expect_nil(skv_cmd(c, "KV.GET k:db3"));
    expect_int(skv_cmd(c, "KV.COUNT k:"), 3);
    const char *w[] = {"k:a", "{\"db\":0}", "k:b", "1", "k:c", "2"};
    expect_pairs(skv_cmd(c, "KV.GETBYPREFIX k:"), 3, w, "from db 3");
    expect_json(skv_cmd(c, "KV.PATCH k:a {\"x\":1}"), "{\"db\":0,\"x\":1}", "patch from db 3");
    expect_int(skv_cmd(c, "KV.DEL k:b"), 1);
    expect_int(skv_cmd(c, "KV.MDEL k:c k:db3"), 1);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX k:d"), 0);
    expect_bulk(skv_cmd(c, "GET k:db3"), "plain3");
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_json(skv_cmd(c, "GET k:a"), "{\"db\":0,\"x\":1}", "db 0");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_nil(skv_cmd(c, "GET k:db3"));
    expect_status(skv_cmd(c, "SELECT 3"), "OK");
    expect_int(skv_cmd(c, "KV.DELBYPREFIX k:"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}

/* ---- the domain write guard --------------------------------------------- */

Test(kv, guard_refuses_plain_writes, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "KV.SET users:1:base {}"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "SET users:1:base x"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "DEL users:1:base"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "UNLINK users:1:base"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "KV.DEL users:1:base"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "KV.MDEL a users:1:base"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "KV.PATCH users:1:base {}"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "SETNX coins:u1:balance 5"), GUARD_MSG("coins:u1:balance"));
    expect_error_eq(skv_cmd(c, "INCR coins:u1:balance"), GUARD_MSG("coins:u1:balance"));
    expect_error_eq(skv_cmd(c, "INCRBY coins:u1:balance 100"), GUARD_MSG("coins:u1:balance"));
    expect_error_eq(skv_cmd(c, "DECR coins:u1:balance"), GUARD_MSG("coins:u1:balance"));
    expect_error_eq(skv_cmd(c, "APPEND tracks:u1:1 x"), GUARD_MSG("tracks:u1:1"));
    /* a guarded key anywhere in a multi-key write refuses the whole command */
    expect_error_eq(skv_cmd(c, "MSET free 1 users:1:base x"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "KV.MSET free 1 users:1:base {}"), GUARD_MSG("users:1:base"));
    expect_int(skv_cmd(c, "EXISTS free"), 0);
    /* every owned prefix */
    const char *owned[] = {"users:", "settings:", "coins:", "donations:", "payments:", "tracks:",
                           "videos:", "concerts:", "news:", "banners:", "promotion:", "pitching:",
                           "messages:", "conversations:", "notifications:", "email:", "tickets:", "analytics:"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        char key[64], msg[160];
        snprintf(key, sizeof key, "%sx", owned[i]);
        snprintf(msg, sizeof msg, "ERR key '%s' is owned by the domain engine; use its commands", key);
        expect_error_eq(skv_cmd(c, "SET %s v", key), msg);
        expect_error_eq(skv_cmd(c, "KV.SET %s 1", key), msg);
    }
    /* look-alikes are not owned */
    const char *free_keys[] = {"users", "user:1", "xusers:1", "Users:1", "usersx:1", "coin:1", "emails:1"};
    for (size_t i = 0; i < sizeof free_keys / sizeof free_keys[0]; i++)
        expect_status(skv_cmd(c, "SET %s v", free_keys[i]), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), (long long)(sizeof free_keys / sizeof free_keys[0]));
}

Test(kv, guard_delbyprefix, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "KV.SET u 1"), "OK");
    expect_status(skv_cmd(c, "KV.SET ux 1"), "OK");
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX u"), GUARD_MSG("u"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX users"), GUARD_MSG("users"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX users:"), GUARD_MSG("users:"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX users:1:"), GUARD_MSG("users:1:"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX c"), GUARD_MSG("c"));
    expect_int(skv_cmd(c, "DBSIZE"), 2);
    /* prefixes that cannot reach an owned key are fine */
    expect_int(skv_cmd(c, "KV.DELBYPREFIX ux"), 1);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX usersx"), 0);
    expect_int(skv_cmd(c, "KV.DELBYPREFIX zz"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
}

/* domain-write-guard is a protected config: CONFIG SET needs enable-protected-configs */
static void up_protected(void) {
    const char *extra[] = {"--enable-protected-configs", "yes", NULL};
    up_with(extra);
}

Test(kv, guard_allows_reads_and_can_be_disabled, .init = up_protected, .fini = down) {
    /* reads of owned keys are allowed */
    expect_nil(skv_cmd(c, "KV.GET users:1:base"));
    expect_nil(skv_cmd(c, "GET users:1:base"));
    expect_int(skv_cmd(c, "EXISTS users:1:base"), 0);
    expect_status(skv_cmd(c, "TYPE users:1:base"), "none");
    expect_int(skv_cmd(c, "STRLEN users:1:base"), 0);
    expect_int(skv_cmd(c, "KV.COUNT users:"), 0);
    expect_empty_array(skv_cmd(c, "KV.GETBYPREFIX users:"), "owned prefix read");

    /* a migration aid: writes go through with the guard off */
    expect_status(skv_cmd(c, "CONFIG SET domain-write-guard no"), "OK");
    redisReply *r = skv_cmd(c, "CONFIG GET domain-write-guard");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[1]->str, "no");
    freeReplyObject(r);
    expect_status(skv_cmd(c, "KV.SET users:1:base {\"name\":\"a\"}"), "OK");
    expect_status(skv_cmd(c, "SET users:2:base {}"), "OK");
    expect_status(skv_cmd(c, "KV.SET users:3:base {}"), "OK");
    expect_int(skv_cmd(c, "DEL users:2:base"), 1);
    expect_json(skv_cmd(c, "KV.PATCH users:1:base {\"role\":\"fan\"}"), "{\"name\":\"a\",\"role\":\"fan\"}",
                "patch with guard off");

    /* back on: reads allowed, writes refused */
    expect_status(skv_cmd(c, "CONFIG SET domain-write-guard yes"), "OK");
    expect_json(skv_cmd(c, "KV.GET users:1:base"), "{\"name\":\"a\",\"role\":\"fan\"}", "read with guard on");
    expect_json(skv_cmd(c, "GET users:1:base"), "{\"name\":\"a\",\"role\":\"fan\"}", "GET with guard on");
    const char *w[] = {"users:1:base", "", "users:3:base", "{}"};
    r = skv_cmd(c, "KV.GETBYPREFIX users:");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements, 4);
    if (r->elements == 4) {
        cr_expect_str_eq(r->element[0]->str, w[0]);
        cr_expect_str_eq(r->element[2]->str, w[2]);
        cr_expect_str_eq(r->element[3]->str, w[3]);
    }
    freeReplyObject(r);
    expect_int(skv_cmd(c, "KV.COUNT users:"), 2);
    expect_error_eq(skv_cmd(c, "KV.SET users:1:base {}"), GUARD_MSG("users:1:base"));
    expect_error_eq(skv_cmd(c, "KV.DEL users:3:base"), GUARD_MSG("users:3:base"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX users:"), GUARD_MSG("users:"));
    expect_int(skv_cmd(c, "KV.COUNT users:"), 2);
    /* FLUSHDB is not guarded */
    expect_status(skv_cmd(c, "FLUSHDB"), "OK");
    expect_int(skv_cmd(c, "KV.COUNT users:"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}

Test(kv, guard_only_database_0, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_status(skv_cmd(c, "SET users:x v"), "OK");
    expect_bulk(skv_cmd(c, "GET users:x"), "v");
    expect_int(skv_cmd(c, "INCR coins:u:balance"), 1);
    expect_int(skv_cmd(c, "DEL users:x"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    /* KV.* from db 1 still writes db 0, so the guard applies */
    expect_error_eq(skv_cmd(c, "KV.SET users:x {}"), GUARD_MSG("users:x"));
    expect_error_eq(skv_cmd(c, "KV.DELBYPREFIX users:"), GUARD_MSG("users:"));
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_error_eq(skv_cmd(c, "SET users:x v"), GUARD_MSG("users:x"));
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}
