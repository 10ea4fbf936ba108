/* The dump format's records (dump.h): encoding for DUMP.SCAN, checking
 * and writing for DUMP.RESTORE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "b64.h"
#include "idemp.h"
#include "payment.h"

/* ---- the meta entries a dump carries -------------------------------------------- */

void dump_meta_prefix(size_t i, dkey *k) {
    assert(i < DUMP_META_PREFIXES);
    dkey a, b;
    switch (i) {
    case 0: dom_key_hwm(k); break;
    case 1: idemp_key_prefixes(k, &a); break;
    case 2: idemp_key_prefixes(&a, k); break;
    default: /* "paydedup:" = a dedup key cut before its provider */
        payment_key_dedup(&b, "p", 1, "x", 1);
        *k = b;
        k->len = b.len - 4; /* "p" NUL "x" */
        break;
    }
}

/* ---- bytes ------------------------------------------------------------------------ */

uint32_t dump_checksum(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

/* 1 when p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
static int utf8_ok(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned min, cp;
        if ((c & 0xe0) == 0xc0) len = 2, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) len = 3, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) len = 4, min = 0x10000, cp = c & 0x07;
        else return 0;
        if (i + len > n) return 0;
        for (size_t j = 1; j < len; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

static int add(resp_buf *b, const char *s, size_t n) { return resp_buf_append(b, s, n); }
#define ADDS(b, lit) add((b), (lit), sizeof(lit) - 1)

static int add_b64(resp_buf *b, const unsigned char *p, size_t n) {
    char *o = resp_buf_reserve(b, B64_ENCODED_LEN(n));
    if (!o) return -1;
    b64_encode(o, p, n);
    b->len += B64_ENCODED_LEN(n);
    return 0;
}

/* A JSON string of UTF-8 bytes: ", \ and control characters escaped. */
static int add_jstr(resp_buf *b, const char *p, size_t n) {
    if (ADDS(b, "\"") < 0) return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (add(b, p + run, i - run) < 0) return -1;
        char esc[8];
        int el = c == '"' ? snprintf(esc, sizeof esc, "\\\"") : c == '\\' ? snprintf(esc, sizeof esc, "\\\\")
                                                                           : snprintf(esc, sizeof esc, "\\u%04x", c);
        if (add(b, esc, (size_t)el) < 0) return -1;
        run = i + 1;
    }
    if (add(b, p + run, n - run) < 0) return -1;
    return ADDS(b, "\"");
}

/* ,"name":"..." or ,"name64":"..." */
static int add_field(resp_buf *b, const char *name, const char *p, size_t n, int first) {
    int text = utf8_ok((const unsigned char *)p, n);
    char head[16];
    int hl = snprintf(head, sizeof head, "%s\"%s%s\":", first ? "" : ",", name, text ? "" : "64");
    if (add(b, head, (size_t)hl) < 0) return -1;
    if (text) return add_jstr(b, p, n);
    return ADDS(b, "\"") < 0 || add_b64(b, (const unsigned char *)p, n) < 0 ? -1 : ADDS(b, "\"");
}

static int add_check(resp_buf *b, size_t start) {
    char tail[24];
    int tl = snprintf(tail, sizeof tail, ",\"c\":\"%08x\"}", dump_checksum(b->data + start, b->len - start));
    return add(b, tail, (size_t)tl);
}

int dump_encode_kv(resp_buf *out, int db, const char *k, size_t kl, int64_t exp, const char *v, size_t vl) {
    size_t start = out->len;
    char head[40];
    int hl = snprintf(head, sizeof head, "{\"t\":\"kv\",\"db\":%d,", db);
    if (add(out, head, (size_t)hl) < 0 || add_field(out, "k", k, kl, 1) < 0 || add_field(out, "v", v, vl, 0) < 0)
        return -1;
    if (exp) {
        char e[40];
        int el = snprintf(e, sizeof e, ",\"exp\":%lld", (long long)exp);
        if (add(out, e, (size_t)el) < 0) return -1;
    }
    return add_check(out, start);
}

int dump_encode_meta(resp_buf *out, const char *k, size_t kl, const char *v, size_t vl) {
    size_t start = out->len;
    if (ADDS(out, "{\"t\":\"meta\",") < 0 || add_field(out, "k", k, kl, 1) < 0 || add_field(out, "v", v, vl, 0) < 0)
        return -1;
    return add_check(out, start);
}

/* ---- restore -------------------------------------------------------------------------- */

/* A field as bytes (name or name64): malloc()ed into *out; 0 ok, -1 absent or malformed. */
static int get_bytes(const json_t *rec, const char *name, char **out, size_t *n) {
    char n64[16];
    snprintf(n64, sizeof n64, "%s64", name);
    const json_t *t = json_object_get(rec, name), *b = json_object_get(rec, n64);
    if ((t != NULL) == (b != NULL)) return -1;
    if (t) {
        if (!json_is_string(t)) return -1;
        *n = json_string_length(t);
        if (!(*out = malloc(*n ? *n : 1))) return -1;
        memcpy(*out, json_string_value(t), *n);
        return 0;
    }
    if (!json_is_string(b)) return -1;
    *out = b64_decode_alloc(json_string_value(b), json_string_length(b), n);
    return *out ? 0 : -1;
}

/* ---- the record line without a JSON parser ------------------------------------------ */

/* The fields of a record line, from either parser; k and v malloc()ed. */
typedef struct {
    int meta;
    int64_t db, exp; /* exp 0: none */
    char *k, *v;
    size_t kl, vl;
} drec;

static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int lit(const char **pp, const char *end, const char *s, size_t n) {
    if ((size_t)(end - *pp) < n || memcmp(*pp, s, n) != 0) return 0;
    *pp += n;
    return 1;
}
#define LIT(pp, end, s) lit((pp), (end), (s), sizeof(s) - 1)

/* A JSON string at *pp (after its quote) as dump_encode_* writes it: valid
 * UTF-8 without raw control characters, escapes \" \\ \/ \b \f \n \r \t and
 * \u0000-\u007f. 0 with *out malloc()ed; 1 anything else (the caller falls
 * back to jansson, which then accepts or refuses it as before). */
static int fast_str(const char **pp, const char *end, char **out, size_t *outl) {
    const char *p = *pp, *q = NULL;
    size_t len = (size_t)(end - p);
    for (size_t from = 0; from < len;) { /* the closing quote: one after an even run of backslashes */
        const char *c = memchr(p + from, '"', len - from);
        if (!c) break;
        size_t j = (size_t)(c - p), bs = 0;
        while (bs < j && p[j - 1 - bs] == '\\') bs++;
        if (bs % 2 == 0) {
            q = c;
            break;
        }
        from = j + 1;
    }
    if (!q || !utf8_ok((const unsigned char *)p, (size_t)(q - p))) return 1;
    char *o = malloc((size_t)(q - p) + 1);
    if (!o) return 1;
    size_t w = 0;
    while (p < q) {
        unsigned char c = (unsigned char)*p++;
        if (c < 0x20) goto other;
        if (c != '\\') {
            o[w++] = (char)c;
            continue;
        }
        switch (*p++) {
        case '"': o[w++] = '"'; break;
        case '\\': o[w++] = '\\'; break;
        case '/': o[w++] = '/'; break;
        case 'b': o[w++] = '\b'; break;
        case 'f': o[w++] = '\f'; break;
        case 'n': o[w++] = '\n'; break;
        case 'r': o[w++] = '\r'; break;
        case 't': o[w++] = '\t'; break;
        case 'u': {
            if (q - p < 4 || hexv(p[0]) != 0 || hexv(p[1]) != 0 || hexv(p[2]) < 0 || hexv(p[2]) > 7 || hexv(p[3]) < 0)
                goto other;
            o[w++] = (char)(hexv(p[2]) << 4 | hexv(p[3]));
            p += 4;
            break;
        }
        default: goto other;
        }
    }
    *out = o;
    *outl = w;
    *pp = q + 1;
    return 0;
other:
    free(o);
    return 1;
}

/* "name":"..." or "name64":"..." */
static int fast_field(const char **pp, const char *end, const char *name, char **out, size_t *outl) {
    char t[16], t64[16];
    int tl = snprintf(t, sizeof t, "\"%s\":\"", name), t64l = snprintf(t64, sizeof t64, "\"%s64\":\"", name);
    if (lit(pp, end, t, (size_t)tl)) return fast_str(pp, end, out, outl);
    if (!lit(pp, end, t64, (size_t)t64l)) return 1;
    const char *q = memchr(*pp, '"', (size_t)(end - *pp));
    if (!q || !(*out = b64_decode_alloc(*pp, (size_t)(q - *pp), outl))) return 1;
    *pp = q + 1;
    return 0;
}

/* A JSON integer 0..10^18 (no sign, no leading zero). */
static int fast_int(const char **pp, const char *end, int64_t *v) {
    const char *p = *pp;
    int64_t x = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - *pp < 18) x = x * 10 + (*p++ - '0');
    if (p == *pp || (p < end && *p >= '0' && *p <= '9') || (**pp == '0' && p - *pp > 1)) return 1;
    *v = x;
    *pp = p;
    return 0;
}

/* The line in exactly the shape dump_encode_kv / dump_encode_meta write
 * (the checksum is checked already): 0 with r filled; 1 any other shape. */
static int fast_rec(const char *p, size_t n, drec *r) {
    const char *end = p + n - 16; /* ,"c":"xxxxxxxx"} */
    memset(r, 0, sizeof *r);
    if (LIT(&p, end, "{\"t\":\"meta\",")) {
        r->meta = 1;
    } else if (!LIT(&p, end, "{\"t\":\"kv\",\"db\":") || fast_int(&p, end, &r->db) || r->db >= DB_COUNT ||
               !LIT(&p, end, ",")) {
        return 1;
    }
    if (fast_field(&p, end, "k", &r->k, &r->kl) || !LIT(&p, end, ",") || fast_field(&p, end, "v", &r->v, &r->vl))
        goto other;
    if (!r->meta && LIT(&p, end, ",\"exp\":") && (fast_int(&p, end, &r->exp) || r->exp <= 0)) goto other;
    if (p == end) return 0;
other:
    free(r->k);
    free(r->v);
    return 1;
}

/* The same fields through jansson (any valid JSON object). 0, or -1 with
 * ks->err. */
static int json_rec(keyspace *ks, const char *line, size_t n, drec *r) {
    json_error_t jerr;
    json_t *rec = json_loadb(line, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    memset(r, 0, sizeof *r);
    if (!json_is_object(rec)) {
        json_decref(rec);
        return st_fail(&ks->err, ST_INVALID, "dump record is not a JSON object");
    }
    int rc = -1;
    const char *t = json_string_value(json_object_get(rec, "t"));
    if (!t || get_bytes(rec, "k", &r->k, &r->kl) < 0 || get_bytes(rec, "v", &r->v, &r->vl) < 0) {
        st_fail(&ks->err, ST_INVALID, "dump record without a valid t, k and v");
        goto out;
    }
    if (strcmp(t, "kv") == 0) {
        const json_t *db = json_object_get(rec, "db"), *exp = json_object_get(rec, "exp");
        if (!json_is_integer(db) || json_integer_value(db) < 0 || json_integer_value(db) >= DB_COUNT ||
            (exp && (!json_is_integer(exp) || json_integer_value(exp) <= 0))) {
            st_fail(&ks->err, ST_INVALID, "dump record with a bad db or exp");
            goto out;
        }
        r->db = json_integer_value(db);
        r->exp = exp ? json_integer_value(exp) : 0;
    } else if (strcmp(t, "meta") == 0) {
        r->meta = 1;
    } else {
        st_fail(&ks->err, ST_INVALID, "dump record of unknown type '%s'", t);
        goto out;
    }
    rc = 0;
out:
    json_decref(rec);
    if (rc < 0) {
        free(r->k);
        free(r->v);
        r->k = r->v = NULL;
    }
    return rc;
}

int dump_restore_line(struct dom_engine *e, const char *line, size_t n, uint64_t now) {
    keyspace *ks = e->ks;
    /* the checksum: the line ends with ,"c":"xxxxxxxx"} */
    static const char tail[] = ",\"c\":\"";
    const size_t tl = sizeof tail - 1, suffix = tl + 8 + 2;
    if (n < suffix + 2 || memcmp(line + n - suffix, tail, tl) != 0 || line[n - 2] != '"' || line[n - 1] != '}')
        return st_fail(&ks->err, ST_INVALID, "dump record without its checksum");
    char want[9];
    snprintf(want, sizeof want, "%08x", dump_checksum(line, n - suffix));
    if (memcmp(line + n - 10, want, 8) != 0)
        return st_fail(&ks->err, ST_INVALID, "dump record with a wrong checksum (damaged)");
    /* the server's own shape without a JSON parser; anything else through jansson */
    drec r;
    if (fast_rec(line, n, &r) != 0 && json_rec(ks, line, n, &r) < 0) return -1;
    int rc = -1;
    const char *k = r.k;
    char *v = r.v;
    size_t kl = r.kl, vl = r.vl;
    if (kl == 0) {
        st_fail(&ks->err, ST_INVALID, "dump record without a valid t, k and v");
        goto out;
    }
    if (!r.meta) {
        if (r.exp && (uint64_t)r.exp <= now) { /* expired since the dump */
            rc = 0;
            goto out;
        }
        int d = (int)r.db;
        int x = db_exists(ks, d, k, kl);
        if (x < 0) goto out;
        if (x) {
            st_fail(&ks->err, ST_CONFLICT, "key '%.*s' of db %d exists: a restore needs an empty server",
                    (int)(kl > 100 ? 100 : kl), k, d);
            goto out;
        }
        rc = db_put(ks, d, k, kl, ENC_TYPE_STRING, r.exp, v, vl, 0);
        goto out;
    }
    dkey hwm, p;
    dom_key_hwm(&hwm);
    int ok = kl == hwm.len && memcmp(k, hwm.buf, kl) == 0;
    if (ok) {
        if (vl != 8) {
            st_fail(&ks->err, ST_INVALID, "dump record: the high-water mark is not 8 bytes");
            goto out;
        }
        uint64_t id = enc_get_u64(v);
        if (id > e->last_id) e->last_id = id; /* ids stay increasing across the restore */
        enc_put_u64(v, e->last_id);
    }
    for (size_t i = 1; !ok && i < DUMP_META_PREFIXES; i++) {
        dump_meta_prefix(i, &p);
        ok = kl > p.len && memcmp(k, p.buf, p.len) == 0;
    }
    if (!ok) {
        st_fail(&ks->err, ST_INVALID, "dump record: meta key outside the dumped prefixes");
        goto out;
    }
    store_put(ks->tx, STORE_CF_META, k, kl, v, vl);
    rc = 0;
out:
    free(r.k);
    free(r.v);
    return rc;
}
