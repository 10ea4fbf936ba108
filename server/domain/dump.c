/* The dump format's records (dump.h): encoding for DUMP.SCAN, checking
 * and writing for DUMP.RESTORE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
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

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int add(resp_buf *b, const char *s, size_t n) { return resp_buf_append(b, s, n); }
#define ADDS(b, lit) add((b), (lit), sizeof(lit) - 1)

static int add_b64(resp_buf *b, const unsigned char *p, size_t n) {
    char *o = resp_buf_reserve(b, (n + 2) / 3 * 4);
    if (!o) return -1;
    size_t w = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        o[w++] = B64[v >> 18 & 63];
        o[w++] = B64[v >> 12 & 63];
        o[w++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        o[w++] = i + 2 < n ? B64[v & 63] : '=';
    }
    b->len += w;
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

static int b64_val(int c) {
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

/* Decodes base64 (padded) into a malloc()ed buffer; NULL when malformed. */
static char *b64_decode(const char *s, size_t n, size_t *out_len) {
    if (n % 4) return NULL;
    char *o = malloc(n / 4 * 3 + 1);
    if (!o) return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64_val(s[i]), b = b64_val(s[i + 1]), pad2 = s[i + 2] == '=', pad3 = s[i + 3] == '=';
        int c = pad2 ? 0 : b64_val(s[i + 2]), d = pad3 ? 0 : b64_val(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad3) || ((pad2 || pad3) && i + 4 != n)) {
            free(o);
            return NULL;
        }
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        o[w++] = (char)(v >> 16);
        if (!pad2) o[w++] = (char)(v >> 8 & 0xff);
        if (!pad3) o[w++] = (char)(v & 0xff);
    }
    *out_len = w;
    return o;
}

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
    *out = b64_decode(json_string_value(b), json_string_length(b), n);
    return *out ? 0 : -1;
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
    json_error_t jerr;
    json_t *rec = json_loadb(line, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(rec)) {
        json_decref(rec);
        return st_fail(&ks->err, ST_INVALID, "dump record is not a JSON object");
    }
    int rc = -1;
    char *k = NULL, *v = NULL;
    size_t kl, vl;
    const char *t = json_string_value(json_object_get(rec, "t"));
    if (!t || get_bytes(rec, "k", &k, &kl) < 0 || get_bytes(rec, "v", &v, &vl) < 0 || kl == 0) {
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
        int64_t x = exp ? json_integer_value(exp) : 0;
        if (x && (uint64_t)x <= now) { /* expired since the dump */
            rc = 0;
            goto out;
        }
        int d = (int)json_integer_value(db);
        int r = db_exists(ks, d, k, kl);
        if (r < 0) goto out;
        if (r) {
            st_fail(&ks->err, ST_CONFLICT, "key '%.*s' of db %d exists: a restore needs an empty server",
                    (int)(kl > 100 ? 100 : kl), k, d);
            goto out;
        }
        rc = db_put(ks, d, k, kl, ENC_TYPE_STRING, x, v, vl, 0);
        goto out;
    }
    if (strcmp(t, "meta") != 0) {
        st_fail(&ks->err, ST_INVALID, "dump record of unknown type '%s'", t);
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
    free(k);
    free(v);
    json_decref(rec);
    return rc;
}
