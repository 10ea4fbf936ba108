/* Helpers shared by test_coins.c and test_donations.c: line-naming
 * assertions, a reader for the members of the flat JSON objects the
 * server returns (ledger rows, donation records, notifications), and
 * checks on ledger rows. Header-only: each test binary includes it once. */
#ifndef STAGEKV_COINS_HELPERS_H
#define STAGEKV_COINS_HELPERS_H

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static skv_server srv;
static redisContext *c;

#define CMD(...) skv_cmd(c, __VA_ARGS__)

/* Assertions whose messages name the line of the test that made them. */
static int L_;
#define expect_status(r, s) (L_ = __LINE__, expect_status_l((r), (s)))
#define expect_int(r, v) (L_ = __LINE__, expect_int_l((r), (v)))
#define expect_bulk(r, s) (L_ = __LINE__, expect_bulk_l((r), (s)))
#define expect_nil(r) (L_ = __LINE__, expect_nil_l((r)))
#define expect_error(r, p) (L_ = __LINE__, expect_error_l((r), (p)))
#define expect_error_eq(r, t) (L_ = __LINE__, expect_error_eq_l((r), (t)))
#define expect_pair(r, a, b) (L_ = __LINE__, expect_pair_l((r), (a), (b)))
#define expect_len(r, n) (L_ = __LINE__, expect_len_l((r), (n)))

static inline const char *rstr(const redisReply *r) { return r->str ? r->str : ""; }

static inline void expect_status_l(redisReply *r, const char *s) {
    cr_expect_eq(r->type, REDIS_REPLY_STATUS, "line %d: expected +%s, got type %d (%s)", L_, s, r->type, rstr(r));
    if (r->type == REDIS_REPLY_STATUS) cr_expect_str_eq(r->str, s, "line %d: got +%s, expected +%s", L_, r->str, s);
    freeReplyObject(r);
}

static inline void expect_int_l(redisReply *r, long long v) {
    cr_expect_eq(r->type, REDIS_REPLY_INTEGER, "line %d: expected :%lld, got type %d (%s)", L_, v, r->type, rstr(r));
    if (r->type == REDIS_REPLY_INTEGER)
        cr_expect_eq(r->integer, v, "line %d: expected :%lld, got :%lld", L_, v, r->integer);
    freeReplyObject(r);
}

static inline void expect_bulk_l(redisReply *r, const char *s) {
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "line %d: expected '%s', got type %d (%s)", L_, s, r->type, rstr(r));
    if (r->type == REDIS_REPLY_STRING) cr_expect_str_eq(r->str, s, "line %d: got '%s', expected '%s'", L_, r->str, s);
    freeReplyObject(r);
}

static inline void expect_nil_l(redisReply *r) {
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "line %d: expected nil, got type %d (%s)", L_, r->type, rstr(r));
    freeReplyObject(r);
}

static inline void expect_error_l(redisReply *r, const char *prefix) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "line %d: expected error '%s...', got type %d (%s)", L_, prefix,
                 r->type, rstr(r));
    if (r->type == REDIS_REPLY_ERROR)
        cr_expect(strncmp(r->str, prefix, strlen(prefix)) == 0, "line %d: error '%s' does not start with '%s'", L_,
                  r->str, prefix);
    freeReplyObject(r);
}

static inline void expect_error_eq_l(redisReply *r, const char *text) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "line %d: expected -%s, got type %d (%s)", L_, text, r->type, rstr(r));
    if (r->type == REDIS_REPLY_ERROR) cr_expect_str_eq(r->str, text, "line %d: got -%s, expected -%s", L_, r->str, text);
    freeReplyObject(r);
}

/* An array of two integers (COINS.TRANSFER). */
static inline void expect_pair_l(redisReply *r, long long a, long long b) {
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "line %d: expected [%lld, %lld], got type %d (%s)", L_, a, b, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_ARRAY) {
        cr_expect_eq(r->elements, 2, "line %d: %zu elements", L_, r->elements);
        if (r->elements == 2) {
            cr_expect(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == a &&
                          r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == b,
                      "line %d: expected [%lld, %lld], got [%lld, %lld]", L_, a, b, r->element[0]->integer,
                      r->element[1]->integer);
        }
    }
    freeReplyObject(r);
}

/* An array of n elements. */
static inline void expect_len_l(redisReply *r, size_t n) {
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "line %d: expected an array, got type %d (%s)", L_, r->type, rstr(r));
    if (r->type == REDIS_REPLY_ARRAY) cr_expect_eq(r->elements, n, "line %d: %zu elements, expected %zu", L_, r->elements, n);
    freeReplyObject(r);
}

/* An array reply (asserted), kept for inspection: free it yourself. */
#define ARRAY(...) (L_ = __LINE__, array_l(CMD(__VA_ARGS__)))
static inline redisReply *array_l(redisReply *r) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: expected an array, got type %d (%s)", L_, r->type, rstr(r));
    return r;
}

/* ---- reading the members of a JSON object -------------------------------------- */

typedef struct jval {
    char type;       /* 's' string, 'i' integer, 'n' null, 't'/'f' booleans, 'o' other */
    long long i;
    char s[8192];    /* decoded string (UTF-8), NUL-terminated */
    size_t slen;
} jval;

static inline const char *j_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static inline void j_utf8(jval *v, unsigned long cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { b[0] = (char)(0xc0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); n = 2; }
    else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 63)); b[2] = (char)(0x80 | (cp & 63)); n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 63));
        b[2] = (char)(0x80 | ((cp >> 6) & 63)); b[3] = (char)(0x80 | (cp & 63)); n = 4;
    }
    if (v && v->slen + n < sizeof v->s) { memcpy(v->s + v->slen, b, n); v->slen += n; }
}

/* A string at p (after its opening quote is p[0] == '"'): decoded into v
 * when v is not NULL. Returns the position after it, NULL when malformed. */
static inline const char *j_string(const char *p, jval *v) {
    if (*p++ != '"') return NULL;
    if (v) { v->type = 's'; v->slen = 0; }
    while (*p != '"') {
        if (!*p) return NULL;
        if (*p != '\\') {
            if (v && v->slen + 1 < sizeof v->s) v->s[v->slen++] = *p;
            p++;
            continue;
        }
        p++;
        unsigned long cp;
        switch (*p) {
        case '"': case '\\': case '/': cp = (unsigned char)*p; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
            char hex[5] = {0};
            memcpy(hex, p + 1, 4);
            cp = strtoul(hex, NULL, 16);
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
                memcpy(hex, p + 3, 4);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (strtoul(hex, NULL, 16) - 0xdc00);
                p += 6;
            }
            break;
        }
        default: return NULL;
        }
        j_utf8(v, cp);
        p++;
    }
    if (v) v->s[v->slen] = 0;
    return p + 1;
}

/* Skips (or reads, when v) one value; NULL when malformed. */
static inline const char *j_value(const char *p, jval *v) {
    p = j_ws(p);
    if (*p == '"') return j_string(p, v);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = j_ws(p + 1);
        if (v) v->type = 'o';
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (!(p = j_string(j_ws(p), NULL))) return NULL;
                p = j_ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = j_value(p, NULL))) return NULL;
            p = j_ws(p);
            if (*p == ',') { p++; continue; }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (strncmp(p, "null", 4) == 0) { if (v) v->type = 'n'; return p + 4; }
    if (strncmp(p, "true", 4) == 0) { if (v) v->type = 't'; return p + 4; }
    if (strncmp(p, "false", 5) == 0) { if (v) v->type = 'f'; return p + 5; }
    char *end;
    long long n = strtoll(p, &end, 10);
    if (end == p) return NULL;
    if (*end == '.' || *end == 'e' || *end == 'E') { /* a real: skip it */
        strtod(p, &end);
        if (v) v->type = 'o';
        return end;
    }
    if (v) { v->type = 'i'; v->i = n; }
    return end;
}

/* Walks the top-level object json (asserted well-formed): returns the
 * number of members; when name is found, fills v and sets *found. */
static inline size_t j_walk(const char *json, const char *name, jval *v, int *found) {
    const char *p = j_ws(json);
    size_t n = 0;
    *found = 0;
    cr_assert_eq(*p, '{', "not a JSON object: %s", json);
    p = j_ws(p + 1);
    if (*p == '}') return 0;
    for (;; n++) {
        jval key;
        p = j_string(j_ws(p), &key);
        cr_assert(p, "malformed JSON: %s", json);
        p = j_ws(p);
        cr_assert_eq(*p, ':', "malformed JSON: %s", json);
        int hit = name && strcmp(key.s, name) == 0;
        cr_assert(!(hit && *found), "duplicate member '%s' in %s", name, json);
        p = j_value(p + 1, hit ? v : NULL);
        cr_assert(p, "malformed JSON: %s", json);
        *found |= hit;
        p = j_ws(p);
        if (*p == ',') { p++; continue; }
        cr_assert_eq(*p, '}', "malformed JSON: %s", json);
        cr_assert_eq(*j_ws(p + 1), 0, "text after the JSON object: %s", json);
        return n + 1;
    }
}

/* Member name of the object json: 1 found (v filled), 0 absent. */
static inline int jget(const char *json, const char *name, jval *v) {
    int found;
    j_walk(json, name, v, &found);
    return found;
}

/* Number of members of the object json. */
static inline size_t jcount(const char *json) {
    int found;
    return j_walk(json, NULL, NULL, &found);
}

/* Integer member (asserted present and integer). */
static inline long long jint(const char *json, const char *name) {
    jval v;
    cr_assert(jget(json, name, &v) && v.type == 'i', "no integer '%s' in %s", name, json);
    return v.i;
}

/* String member (asserted present and a string), in one of 4 static
 * buffers used in turn (so two may be compared). */
static inline const char *jstr(const char *json, const char *name) {
    static jval ring[4];
    static int next;
    jval *v = &ring[next++ % 4];
    cr_assert(jget(json, name, v) && v->type == 's', "no string '%s' in %s", name, json);
    return v->s;
}

/* Whether the member is present with JSON null / the given type. */
static inline char jtype(const char *json, const char *name) {
    jval v;
    return jget(json, name, &v) ? v.type : 0;
}

/* 16 lowercase hex digits (a server id). */
static inline int is_id(const char *s) {
    if (strlen(s) != 16) return 0;
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* ISO-8601 UTC with milliseconds: 2026-11-25T13:35:14.123Z */
static inline int is_iso_ms(const char *s) {
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof pat - 1) return 0;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i]) return 0;
    return 1;
}

/* A ledger row: exactly the six members with these values (counterparty
 * NULL = JSON null); id and created_at well-formed. */
#define expect_row(json, amount, after, reason, cp) (L_ = __LINE__, expect_row_l((json), (amount), (after), (reason), (cp)))
static inline void expect_row_l(const char *json, long long amount, long long after, const char *reason, const char *cp) {
    int line = L_;
    cr_expect(is_id(jstr(json, "id")), "line %d: row id in %s", line, json);
    cr_expect(is_iso_ms(jstr(json, "created_at")), "line %d: row created_at in %s", line, json);
    cr_expect_eq(jint(json, "amount"), amount, "line %d: amount in %s, expected %lld", line, json, amount);
    cr_expect_eq(jint(json, "balance_after"), after, "line %d: balance_after in %s, expected %lld", line, json, after);
    cr_expect_str_eq(jstr(json, "reason"), reason, "line %d: reason in %s", line, json);
    if (cp) cr_expect_str_eq(jstr(json, "counterparty"), cp, "line %d: counterparty in %s", line, json);
    else cr_expect_eq(jtype(json, "counterparty"), 'n', "line %d: counterparty not null in %s", line, json);
    cr_expect_eq(jcount(json), 6, "line %d: a row has 6 members: %s", line, json);
}

/* The rows of COINS.HISTORY uid (newest first) as strings: *n of them; free
 * with free_rows. */
static inline char **history(const char *uid, size_t *n) {
    redisReply *r = skv_cmd(c, "COINS.HISTORY %s LIMIT 1000", uid);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "COINS.HISTORY %s: type %d (%s)", uid, r->type, rstr(r));
    char **rows = calloc(r->elements + 1, sizeof *rows);
    for (size_t i = 0; i < r->elements; i++) {
        cr_assert_eq(r->element[i]->type, REDIS_REPLY_STRING);
        rows[i] = strdup(r->element[i]->str);
    }
    *n = r->elements;
    freeReplyObject(r);
    return rows;
}

static inline void free_rows(char **rows) {
    for (size_t i = 0; rows && rows[i]; i++) free(rows[i]);
    free(rows);
}

/* A figure of INFO (e.g. "wal_syncs"). */
static inline long long info_field(const char *section, const char *name) {
    redisReply *r = skv_cmd(c, "INFO %s", section);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    char pat[100];
    snprintf(pat, sizeof pat, "\n%s:", name);
    const char *p = strstr(r->str, pat);
    cr_assert(p, "INFO %s has no %s", section, name);
    long long v = atoll(p + strlen(pat));
    freeReplyObject(r);
    return v;
}

static inline void up_with(const char *const *extra) {
    skv_start(&srv, extra);
    c = skv_connect(&srv);
}
static inline void up(void) { up_with(NULL); }
static inline void down(void) {
    if (c) redisFree(c);
    c = NULL;
    skv_cleanup(&srv);
}

#endif
