/* Reading the JSON texts the server returns: see e2e_json.h. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the members of one object ------------------------------------------------- */

static const char *j_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Appends code point cp to v->s as UTF-8 (when v is not NULL). */
static void j_utf8(jval *v, unsigned long cp) {
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

/* The string at p (p[0] == '"'), decoded into v when v is not NULL. Returns
 * the position after it, NULL when malformed. */
static const char *j_string(const char *p, jval *v) {
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
static const char *j_value(const char *p, jval *v) {
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

/* Walks the top-level object json: returns the number of members, or -1 with
 * *why set when json is not one well-formed object with distinct member
 * names; when name is found, fills v and sets *found. */
static long j_walk(const char *json, const char *name, jval *v, int *found, const char **why) {
    const char *p = j_ws(json);
    long n = 0;
    *found = 0;
    *why = "not a JSON object";
    if (*p != '{') return -1;
    *why = "malformed JSON";
    p = j_ws(p + 1);
    if (*p == '}') return 0;
    for (;; n++) {
        jval key;
        if (!(p = j_string(j_ws(p), &key))) return -1;
        p = j_ws(p);
        if (*p != ':') return -1;
        int hit = name && strcmp(key.s, name) == 0;
        if (hit && *found) {
            *why = "duplicate member";
            return -1;
        }
        if (!(p = j_value(p + 1, hit ? v : NULL))) return -1;
        *found |= hit;
        p = j_ws(p);
        if (*p == ',') { p++; continue; }
        if (*p != '}') return -1;
        if (*j_ws(p + 1) != 0) {
            *why = "text after the JSON object";
            return -1;
        }
        return n + 1;
    }
}

int json_member(const char *json, const char *name, jval *v) {
    int found;
    const char *why;
    return j_walk(json, name, v, &found, &why) < 0 ? -1 : found;
}

/* j_walk, asserting json well-formed. */
static size_t j_walk_asserted(const char *json, const char *name, jval *v, int *found) {
    const char *why;
    long n = j_walk(json, name, v, found, &why);
    cr_assert(n >= 0, "%s (looking for '%s'): %s", why, name ? name : "", json);
    return (size_t)n;
}

int jget(const char *json, const char *name, jval *v) {
    int found;
    j_walk_asserted(json, name, v, &found);
    return found;
}

size_t jcount(const char *json) {
    int found;
    return j_walk_asserted(json, NULL, NULL, &found);
}

long long jint(const char *json, const char *name) {
    jval v;
    cr_assert(jget(json, name, &v) && v.type == 'i', "no integer '%s' in %s", name, json);
    return v.i;
}

const char *jstr(const char *json, const char *name) {
    static jval ring[4];
    static int next;
    jval *v = &ring[next++ % 4];
    cr_assert(jget(json, name, v) && v->type == 's', "no string '%s' in %s", name, json);
    return v->s;
}

char jtype(const char *json, const char *name) {
    jval v;
    return jget(json, name, &v) ? v.type : 0;
}

/* ---- "name": anywhere in the text ---------------------------------------------- */

long jfind_in(const char *json, const char *from, const char *name, char *out, size_t cap) {
    const char *p = from ? strstr(json, from) : json;
    if (!p) return -1;
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    if (!(p = strstr(p, pat))) return -1;
    jval v;
    if (!j_string(p + strlen(pat) - 1, &v)) return -1;
    size_t n = v.slen < cap ? v.slen : cap - 1;
    memcpy(out, v.s, n);
    out[n] = 0;
    return (long)n;
}

const char *jfind(const char *json, const char *name) {
    static char ring[4][2048];
    static int next;
    char *out = ring[next++ % 4];
    if (jfind_in(json, NULL, name, out, sizeof ring[0]) < 0) out[0] = 0;
    return out;
}

long long jfind_int(const char *json, const char *name) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(json, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -999;
}

/* ---- lists of documents -------------------------------------------------------- */

static const char *base(const char *file) {
    const char *s = strrchr(file, '/');
    return s ? s + 1 : file;
}

/* The array r of n documents: the member name of document i is want(i). */
static void expect_docs_with(const char *file, int line, redisReply *r, const char *name, size_t n,
                             const char *(*want)(const void *, size_t), const void *arg) {
    file = base(file);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: expected an array, got type %d (%s)", file, line, r->type,
                 rstr(r));
    cr_expect_eq(r->elements, n, "%s:%d: %zu documents, expected %zu", file, line, r->elements, n);
    for (size_t i = 0; i < r->elements && i < n; i++) {
        cr_assert_eq(r->element[i]->type, REDIS_REPLY_STRING, "%s:%d: element %zu has type %d", file, line, i,
                     r->element[i]->type);
        cr_expect_str_eq(jstr(r->element[i]->str, name), want(arg, i), "%s:%d: document %zu, expected %s '%s': %s",
                         file, line, i, name, want(arg, i), r->element[i]->str);
    }
    freeReplyObject(r);
}

static const char *from_strings(const void *arg, size_t i) { return ((const char *const *)arg)[i]; }
static const char *from_ids(const void *arg, size_t i) { return ((const char(*)[17])arg)[i]; }

void expect_docs_at(const char *file, int line, redisReply *r, const char *name, size_t n,
                    const char *const *want) {
    expect_docs_with(file, line, r, name, n, from_strings, want);
}

void expect_id_list_at(const char *file, int line, redisReply *r, size_t n, char (*ids)[17]) {
    expect_docs_with(file, line, r, "id", n, from_ids, ids);
}

/* ---- ledger rows ------------------------------------------------------------------ */

void expect_row_at(const char *file, int line, const char *json, long long amount, long long after,
                   const char *reason, const char *cp) {
    file = base(file);
    cr_expect(is_id(jstr(json, "id")), "%s:%d: row id in %s", file, line, json);
    cr_expect(is_iso_ms(jstr(json, "created_at")), "%s:%d: row created_at in %s", file, line, json);
    cr_expect_eq(jint(json, "amount"), amount, "%s:%d: amount in %s, expected %lld", file, line, json, amount);
    cr_expect_eq(jint(json, "balance_after"), after, "%s:%d: balance_after in %s, expected %lld", file, line, json,
                 after);
    cr_expect_str_eq(jstr(json, "reason"), reason, "%s:%d: reason in %s", file, line, json);
    if (cp) cr_expect_str_eq(jstr(json, "counterparty"), cp, "%s:%d: counterparty in %s", file, line, json);
    else cr_expect_eq(jtype(json, "counterparty"), 'n', "%s:%d: counterparty not null in %s", file, line, json);
    cr_expect_eq(jcount(json), 6, "%s:%d: a row has 6 members: %s", file, line, json);
}

char **coins_history(redisContext *c, const char *uid, size_t *n) {
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

void free_rows(char **rows) {
    for (size_t i = 0; rows && rows[i]; i++) free(rows[i]);
    free(rows);
}
