/* JSON checks and transforms on top of jansson (see json.h).
 *
 * All parsing is jansson's json_loadb(); this file only picks the flags,
 * retries where jansson is stricter than we need (json_check() and big
 * integers), and turns jansson's errors into the server's messages. Facts
 * about jansson 2.14 that the code relies on (each one is pinned by a
 * unit test):
 *
 *  - json_error_t.position is the byte offset just past the token where
 *    the problem was found (for invalid UTF-8: the offset of the bad byte).
 *  - An integer that does not fit json_int_t (64 bits) fails with
 *    json_error_numeric_overflow ("too big integer"), position = end of
 *    the number. A real beyond double's range (~1.8e308) fails with the
 *    same code ("real number overflow"). JSON_DECODE_INT_AS_REAL reads
 *    every integer with strtod() instead, so that only the latter fails.
 *  - The parser stops at depth 2048 (JSON_PARSER_MAX_DEPTH, compiled in)
 *    with json_error_stack_overflow: no recursion past that.
 *  - A raw NUL byte right after a number or a literal is silently skipped
 *    (jansson's stream uses '\0' as its "refill" sentinel, and ungetting a
 *    NUL leaves one there): "1\0" and "[1\0]" load fine. Known upstream
 *    (JSONTestSuite n_multidigit_number_then_00, akheron/jansson#331).
 *    A raw NUL is never valid JSON, so load() never hands one to jansson.
 *  - "\u0000" in a member name is always refused (NUL byte in object key
 *    not supported), JSON_ALLOW_NUL only covers string values.
 */
#include "json.h"
#include "resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parse error: jansson's code, byte offset and text. */
typedef struct perr {
    int code; /* enum json_error_code */
    size_t pos;
    char text[JSON_ERROR_TEXT_LENGTH];
} perr;

/* ---- error text ---------------------------------------------------- */

/* Cuts s (length len, NUL-terminated) back so that it does not end in
 * the middle of a UTF-8 sequence. */
static void utf8_trim(char *s, size_t len) {
    size_t i = len, need;
    unsigned char lead;

    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    lead = (unsigned char)s[i - 1];
    if (lead < 0xC0)
        return; /* ASCII (or stray continuation bytes): complete */
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

/* printf into err (at most cap bytes with the NUL). Control characters
 * become '?' (the text ends up in a RESP error line) and truncation never
 * splits a UTF-8 character. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    int r;
    size_t len;

    if (!err || cap == 0)
        return;
    va_start(ap, fmt);
    r = vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    if (r < 0) {
        err[0] = '\0';
        return;
    }
    len = (size_t)r < cap ? (size_t)r : cap - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)err[i];
        if (c < 0x20 || c == 0x7F)
            err[i] = '?';
    }
    if ((size_t)r >= cap)
        utf8_trim(err, len);
}

static void set_invalid(char *err, size_t cap, const perr *pe) {
    set_err(err, cap, "invalid JSON: %s at offset %zu", pe->text, pe->pos);
}

/* ---- loading --------------------------------------------------------- */

static void perr_from(perr *pe, const json_error_t *e) {
    pe->code = (int)json_error_code(e);
    pe->pos = e->position > 0 ? (size_t)e->position : 0;
    snprintf(pe->text, sizeof pe->text, "%s", e->text);
}

/* json_loadb() that also refuses raw NUL bytes (see the top of the file).
 * With a NUL at offset k, the text before it is parsed so that an earlier
 * error is still the one reported; otherwise the NUL is the error. */
static json_t *load(const char *p, size_t n, size_t flags, perr *pe) {
    json_error_t e;
    const char *z;
    size_t len;
    json_t *v;

    if (!p) {
        p = "";
        n = 0;
    }
    z = n ? memchr(p, '\0', n) : NULL;
    len = z ? (size_t)(z - p) : n;
    v = json_loadb(p, len, flags, &e);
    if (!z) {
        if (!v)
            perr_from(pe, &e);
        return v;
    }
    if (v)
        json_decref(v);
    else if (json_error_code(&e) != json_error_premature_end_of_input) {
        perr_from(pe, &e); /* a problem before the NUL */
        return NULL;
    }
    pe->code = json_error_invalid_syntax;
    pe->pos = len;
    snprintf(pe->text, sizeof pe->text, "unexpected NUL byte");
    return NULL;
}

/* 1 when p[..end) ends in a whole integer token ("-"? digits), not in
 * the exponent or fraction of a real. */
static int ends_in_int_token(const char *p, size_t end) {
    size_t s = end;

    while (s > 0 && p[s - 1] >= '0' && p[s - 1] <= '9')
        s--;
    if (s == end)
        return 0;
    if (s > 0 && p[s - 1] == '-')
        s--;
    return s == 0 || strchr("[,: \t\r\n", p[s - 1]) != NULL;
}

/* load() for values that get re-encoded (json_parse_doc(),
 * json_parse_any()): an integer that does not fit 64 bits is refused with
 * a message of its own rather than read as a rounded real, which would
 * silently change the data when it is written back (SPEC §4: integers
 * keep their exact value). jansson reports it as a numeric overflow just
 * past the number; a real beyond double's range is the same code on a
 * token that is not an integer, and keeps jansson's message. */
static json_t *load_int64(const char *p, size_t n, size_t flags, perr *pe) {
    json_t *v = load(p, n, flags, pe);

    if (!v && pe->code == json_error_numeric_overflow && p && pe->pos <= n &&
        ends_in_int_token(p, pe->pos))
        snprintf(pe->text, sizeof pe->text, "integer does not fit in 64 bits");
    return v;
}

/* ---- public ------------------------------------------------------------ */

int json_check(const char *p, size_t n, char *err, size_t cap) {
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    perr pe;
    json_t *v = load(p, n, flags, &pe);

    /* Only validity matters here (KV.SET stores the bytes as given and
     * never re-encodes them), so integers beyond 64 bits are accepted: one
     * retry reading every integer as a real settles them. */
    if (!v && pe.code == json_error_numeric_overflow)
        v = load(p, n, flags | JSON_DECODE_INT_AS_REAL, &pe);
    if (!v) {
        set_invalid(err, cap, &pe);
        return -1;
    }
    json_decref(v);
    return 0;
}

json_t *json_parse_any(const char *p, size_t n, char *err, size_t cap) {
    perr pe;
    json_t *v = load_int64(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &pe);

    if (!v)
        set_invalid(err, cap, &pe);
    return v;
}

/* 1 when the container v, at nesting level depth, or any container in it
 * is deeper than max. Recursion is bounded by max + 1. */
static int too_deep(const json_t *v, int depth, int max) {
    if (depth > max)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            if ((json_is_object(m) || json_is_array(m)) && too_deep(m, depth + 1, max))
                return 1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            if ((json_is_object(m) || json_is_array(m)) && too_deep(m, depth + 1, max))
                return 1;
        }
    }
    return 0;
}

/* Writes "duplicate member name '<name>'" for jansson's duplicate-key
 * error at pe->pos (just past the second occurrence of the name). The
 * name's token is found by scanning back to its opening quote and decoded
 * by jansson; it is shown JSON-escaped, cut at 100 bytes. */
static void set_dup_err(char *err, size_t cap, const char *p, size_t n, const perr *pe) {
    size_t end = pe->pos, i;
    json_t *s = NULL;
    char *enc = NULL;

    if (end >= 2 && end <= n && p[end - 1] == '"') {
        for (i = end - 1; i > 0;) {
            size_t bs = 0;
            i--;
            if (p[i] != '"')
                continue;
            while (bs < i && p[i - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0)
                break;
        }
        if (i < end - 1 && p[i] == '"')
            s = json_loadb(p + i, end - i, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    }
    if (json_is_string(s))
        enc = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    if (enc) {
        size_t len = strlen(enc) - 1; /* drop the closing quote */
        const char *more = "";
        enc[len] = '\0';
        if (len - 1 > 100) {
            enc[101] = '\0';
            utf8_trim(enc + 1, 100);
            more = "...";
        }
        set_err(err, cap, "duplicate member name '%s%s'", enc + 1, more);
        free(enc);
    } else {
        set_err(err, cap, "duplicate member name at offset %zu", pe->pos);
    }
}

json_t *json_parse_doc(const char *p, size_t n, const json_doc_limits *lim, char *err,
                       size_t cap) {
    size_t max_size = lim && lim->max_size ? lim->max_size : JSON_DOC_DEFAULT_MAX_SIZE;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : JSON_DOC_DEFAULT_MAX_DEPTH;
    perr pe;
    json_t *v;

    if (n > max_size) {
        set_err(err, cap, "document too large (max %zu bytes)", max_size);
        return NULL;
    }
    /* No JSON_ALLOW_NUL: jansson refuses "\u0000" in values by default
     * and in member names always. JSON_DECODE_ANY so that a non-object
     * gets its own message below rather than jansson's. */
    v = load_int64(p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &pe);
    if (!v) {
        switch (pe.code) {
        case json_error_null_character:
        case json_error_null_byte_in_key:
            set_err(err, cap, "document contains \\u0000");
            break;
        case json_error_duplicate_key:
            set_dup_err(err, cap, p, n, &pe);
            break;
        case json_error_stack_overflow:
            set_err(err, cap, "document nested too deeply (max %d)", max_depth);
            break;
        default:
            set_invalid(err, cap, &pe);
        }
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        set_err(err, cap, "document must be a JSON object");
        return NULL;
    }
    if (too_deep(v, 1, max_depth)) {
        json_decref(v);
        set_err(err, cap, "document nested too deeply (max %d)", max_depth);
        return NULL;
    }
    return v;
}

/* Applies the object patch to the object target in place (RFC 7386).
 * 0, or -1 when out of memory (target then partly patched). */
static int merge_into(json_t *target, json_t *patch) {
    json_t *copy = NULL, *pv;
    const char *key;
    size_t klen;
    int rc = 0;

    if (target == patch) { /* merge_patch(x, x): don't walk what we edit */
        copy = json_deep_copy(patch);
        if (!copy)
            return -1;
        patch = copy;
    }
    json_object_keylen_foreach(patch, key, klen, pv) {
        if (json_is_null(pv)) {
            json_object_deln(target, key, klen); /* -1 if absent: fine */
        } else if (json_is_object(pv)) {
            json_t *tv = json_object_getn(target, key, klen);
            if (json_is_object(tv)) {
                rc = merge_into(tv, pv);
            } else {
                /* a fresh object: never share pv, whose nulls must go */
                json_t *nv = json_object();
                if (!nv || merge_into(nv, pv)) {
                    json_decref(nv);
                    rc = -1;
                } else {
                    rc = json_object_setn_new(target, key, klen, nv);
                }
            }
        } else {
            rc = json_object_setn(target, key, klen, pv); /* shares pv */
        }
        if (rc)
            break;
    }
    json_decref(copy);
    return rc;
}

json_t *json_merge_patch(json_t *target, json_t *patch) {
    json_t *r;

    if (!patch)
        return NULL;
    if (!json_is_object(patch))
        return json_incref(patch);
    if (json_is_object(target))
        return merge_into(target, patch) ? NULL : target;
    r = json_object();
    if (r && merge_into(r, patch)) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

/* ---- encoding ---------------------------------------------------------- */

static int real_round_trips(double d, int prec) {
    char buf[64];

    snprintf(buf, sizeof buf, "%.*g", prec, d);
    return strtod(buf, NULL) == d;
}

/* Raises *prec (15..17) until every real in v reads back from "%.*g". */
static void raise_precision(const json_t *v, int *prec) {
    size_t i;
    const char *k;
    json_t *m;

    switch (json_typeof(v)) {
    case JSON_REAL:
        while (*prec < 17 && !real_round_trips(json_real_value(v), *prec))
            (*prec)++;
        break;
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, m) {
            if (*prec == 17)
                return;
            raise_precision(m, prec);
        }
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, m) {
            if (*prec == 17)
                return;
            raise_precision(m, prec);
        }
        break;
    default:
        break;
    }
}

/* 1 when every real in v reads back from "%.*g" at prec. */
static int all_round_trip(const json_t *v, int prec) {
    size_t i;
    const char *k;
    json_t *m;

    switch (json_typeof(v)) {
    case JSON_REAL:
        return real_round_trips(json_real_value(v), prec);
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, m) {
            if (!all_round_trip(m, prec))
                return 0;
        }
        return 1;
    case JSON_ARRAY:
        json_array_foreach(v, i, m) {
            if (!all_round_trip(m, prec))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* jansson prints reals with "%.17g" by default, so 0.1 comes out as
 * 0.10000000000000001. JSON_REAL_PRECISION applies to a whole dump, so we
 * take the smallest precision from 15 up to 17 at which every real of v
 * reads back exactly: 0.1 -> "0.1" (and 1/3 -> "0.3333333333333333"),
 * while a text holding 0.1 + 0.2 needs 17 digits for every real in it. */
static int real_precision(const json_t *v) {
    int prec = 15;

    raise_precision(v, &prec);
    /* Reals passed before the raise were checked at 15 digits only. One
     * that reads back at 15 but not at 16 is possible in theory (next to
     * a power of two, where the spacing of doubles changes). */
    if (prec == 16 && !all_round_trip(v, prec))
        prec = 17;
    return prec;
}

/* json_encode_tmp's buffer; past TMP_KEEP bytes it is given back after use,
 * so one big document does not pin its size for the thread's life. */
#define TMP_KEEP (64u << 10)
static _Thread_local resp_buf tmp;

static int tmp_add(const char *buf, size_t size, void *data) { return resp_buf_append(data, buf, size); }

static size_t encode_flags(const json_t *v) {
    return JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(real_precision(v));
}

const char *json_encode_tmp(const json_t *v, size_t *len) {
    if (!v) return NULL;
    if (tmp.cap > TMP_KEEP) resp_buf_free(&tmp);
    resp_buf_clear(&tmp);
    if (json_dump_callback(v, tmp_add, &tmp, encode_flags(v)) < 0) return NULL;
    *len = tmp.len;
    return tmp.len ? tmp.data : "";
}

char *json_encode(const json_t *v, size_t *len) {
    char *s;

    if (!v)
        return NULL;
    s = json_dumps(v, encode_flags(v));
    if (s && len)
        *len = strlen(s); /* NULs in strings are written as \u0000 */
    return s;
}
