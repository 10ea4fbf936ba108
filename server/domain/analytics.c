/* Analytics (SPEC §4.6): per-day counters of tracks and concerts.
 *
 * Keys:
 *   data CF  analytics:{kind}:{id}:{date}   the day's counters, the one
 *            source of truth: {"date": "YYYY-MM-DD", field: integer, ...}
 *            (kind: tracks | concerts; fields in first-increment order).
 *            Keyed by the entity id alone: the owner is not part of the key.
 * Nothing in the meta CF: every increment must rewrite the day document
 * anyway, and changing the counter in its text measured cheaper than a
 * counter kept beside it (numbers: the ANALYTICS.INCR section below).
 *
 * ANALYTICS.INCR rewrites the day document in the command's batch, so the
 * document KV.GET shows is always the truth. ANALYTICS.RANGE is a bounded
 * forward scan of analytics:{kind}:{id}: from {from} to {to} (dates sort as
 * text). The rows of a track or concert go with it (the entity model's
 * delete hook calls analytics_purge_entity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics.h"
#include "json.h"
#include "util.h"

static void assert_kind(const char *kind) {
    (void)kind;
    assert(strcmp(kind, "tracks") == 0 || strcmp(kind, "concerts") == 0);
}

void analytics_key_day(dkey *k, const char *kind, const char *id, const char *date) {
    assert_kind(kind);
    DOM_ASSERT_ID(id);
    assert(strlen(date) == ANALYTICS_DATE_LEN);
    dkey_fmt(k, "analytics:%s:%s:%s", kind, id, date);
}

void analytics_key_entity(dkey *k, const char *kind, const char *id) {
    assert_kind(kind);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "analytics:%s:%s:", kind, id);
}

/* ---- ANALYTICS.INCR -----------------------------------------------------------
 * Measured with redis-benchmark -c 50 -r 1000 ANALYTICS.INCR tracks
 * t__rand_int__ 2026-11-25 plays, on day documents of 1 and of 8 members:
 * user-space instructions of the whole server per command (callgrind; SET
 * on the same server ~49-54k), and requests/s with the handler's
 * usec_per_call (a shared 2-CPU host; SET 36-42k/s, 3.4-5.2 us):
 *                                         instructions   requests/s       us/call
 *   parse + patch + encode (jansson)      63k / 99k      33-36k / 25-27k  5.4-7.0 / 10.3-11.4
 *   i64 counter per field in meta, the
 *   document re-rendered from a scan
 *   of the day's counters                 160k / 230k    18-21k / 14k     18-23 / 37
 *   this: the counter changed in the
 *   document's text                       52k / 55k      33-36k / 33-34k  4.7-6.3 / 5.8-6.7
 * Every design reads and writes the day document (KV.GET must show the
 * truth), so a counter kept beside it only adds work; what costs is jansson.
 * The text path checks the whole stored text against the one form this
 * file writes and falls back to jansson for anything else (a document
 * written with the write guard off), so the result is always what
 * json_encode would give. */

/* Adds n to member field of the stored day document through jansson and
 * writes the result; *out gets the new value. 0 ok, -1. */
static int incr_json(struct dom_engine *e, const dkey *k, const char *stored, size_t sl, const char *name,
                     int64_t n, int64_t *out) {
    char err[256];
    int rc = -1;
    json_t *doc = json_parse_any(stored, sl, err, sizeof err);
    if (!doc || !json_is_object(doc)) {
        dom_fail(e, ST_ERR, "stored document at '%.*s' is not a JSON object", (int)k->len, k->buf);
        goto out;
    }
    const json_t *cur = json_object_get(doc, name);
    if (cur && !json_is_integer(cur)) {
        dom_fail(e, ST_ERR, "stored member '%s' at '%.*s' is not an integer", name, (int)k->len, k->buf);
        goto out;
    }
    int64_t v = cur ? json_integer_value(cur) : 0;
    if (v > INT64_MAX - n) {
        dom_fail(e, ST_INVALID, "'%s' would pass 9223372036854775807", name);
        goto out;
    }
    v += n;
    if (json_object_set_new(doc, name, json_integer(v)) < 0) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (dom_put_doc(e->ks, k, doc, 1) < 0) goto out;
    *out = v;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* The text path: p[0..n) in the form this file writes, {"date":"YYYY-MM-DD"}
 * or with ,"name":digits members before the '}' (names [a-z0-9_]+, each
 * once, digits a non-negative int64 without leading zeros). Writes the
 * document with add added to member name (replaced digits, or a member
 * appended) into out (n + 64 bytes at least; *ol its length, *v the new
 * value): 1 done, 0 p has another form, -1 the counter would pass 2^63-1. */
static int incr_text(const char *p, size_t n, const char *name, size_t nl, int64_t add, char *out, size_t *ol,
                     int64_t *v) {
    static const char head[] = "{\"date\":\"";
    size_t i = sizeof head - 1, at = 0, end = 0;
    int64_t cur = 0;
    if (n < i + ANALYTICS_DATE_LEN + 2 || memcmp(p, head, i) != 0 || p[i + ANALYTICS_DATE_LEN] != '"') return 0;
    for (size_t j = i; j < i + ANALYTICS_DATE_LEN; j++)
        if (!((p[j] >= '0' && p[j] <= '9') || p[j] == '-')) return 0;
    for (i += ANALYTICS_DATE_LEN + 1; i < n && p[i] == ',';) {
        if (++i >= n || p[i++] != '"') return 0;
        size_t ns = i;
        while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_')) i++;
        size_t len = i - ns;
        if (len == 0 || i + 2 > n || p[i] != '"' || p[i + 1] != ':') return 0;
        i += 2;
        size_t ds = i;
        int64_t val = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (val > (INT64_MAX - (p[i] - '0')) / 10) return 0;
            val = val * 10 + (p[i++] - '0');
        }
        if (i == ds || (p[ds] == '0' && i - ds > 1)) return 0;
        if (len == nl && memcmp(p + ns, name, nl) == 0) {
            if (at) return 0; /* a duplicate member: not written here */
            at = ds;
            end = i;
            cur = val;
        }
    }
    if (i + 1 != n || p[i] != '}') return 0;
    if (cur > INT64_MAX - add) return -1;
    *v = cur + add;
    char digits[24];
    size_t dl = (size_t)ll_to_str(digits, *v), o;
    if (at) { /* replace the digits */
        memcpy(out, p, at);
        memcpy(out + at, digits, dl);
        memcpy(out + at + dl, p + end, n - end);
        *ol = at + dl + n - end;
        return 1;
    }
    memcpy(out, p, o = n - 1); /* append before the '}' */
    out[o++] = ',';
    out[o++] = '"';
    memcpy(out + o, name, nl);
    o += nl;
    out[o++] = '"';
    out[o++] = ':';
    memcpy(out + o, digits, dl);
    o += dl;
    out[o++] = '}';
    *ol = o;
    return 1;
}

int analytics_incr(struct dom_engine *e, const char *kind, const char *id, const char *date, const char *field,
                   size_t fl, int64_t n, int64_t *out) {
    assert(fl >= 1 && fl <= ANALYTICS_FIELD_MAX);
    char name[ANALYTICS_FIELD_MAX + 1];
    memcpy(name, field, fl);
    name[fl] = 0;
    dkey k;
    analytics_key_day(&k, kind, id, date);
    db_value dv;
    int found = dom_get_raw(e->ks, &k, &dv);
    if (found < 0) return -1;
    char empty[ANALYTICS_DATE_LEN + 16], buf[512];
    const char *p = dv.v.payload;
    size_t pl = dv.v.len, ol;
    if (!found) { /* a new day starts as {"date":"..."} */
        pl = (size_t)snprintf(empty, sizeof empty, "{\"date\":\"%s\"}", date);
        p = empty;
    }
    char *o = pl + 64 <= sizeof buf ? buf : malloc(pl + 64);
    int r = o ? incr_text(p, pl, name, fl, n, o, &ol, out) : 0;
    if (r == 1) {
        r = dom_put_raw(e->ks, &k, o, ol, found);
    } else if (r == -1) {
        dom_fail(e, ST_INVALID, "'%s' would pass 9223372036854775807", name);
    } else if (!o) {
        r = dom_fail(e, ST_NOMEM, "out of memory");
    } else {
        r = incr_json(e, &k, p, pl, name, n, out); /* another form: through jansson */
    }
    if (o != buf) free(o);
    if (found) db_value_free(&dv);
    return r < 0 ? -1 : 0;
}

int analytics_range(struct dom_engine *e, const char *kind, const char *id, const char *from, const char *to,
                    analytics_day_fn fn, void *arg) {
    dkey p, start;
    analytics_key_entity(&p, kind, id);
    analytics_key_day(&start, kind, id, from);
    db_iter it;
    db_iter_open(&it, e->ks, 0, p.buf, p.len);
    db_iter_seek(&it, start.buf, start.len, 0);
    const char *key;
    size_t kl;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &key, &kl, &v)) == 1) {
        const char *sfx = key + p.len;
        size_t sl = kl - p.len;
        /* A suffix past to ends the range; keys within it that are not a
         * day (written around the engine) are skipped. */
        int cmp = memcmp(sfx, to, sl < ANALYTICS_DATE_LEN ? sl : ANALYTICS_DATE_LEN);
        if (cmp > 0 || (cmp == 0 && sl > ANALYTICS_DATE_LEN)) break;
        if (sl != ANALYTICS_DATE_LEN) continue;
        fn(v.payload, v.len, arg);
    }
    db_iter_close(&it);
    if (r < 0) return dom_fail(e, ST_ERR, "storage error while scanning the range");
    return 0;
}

int analytics_purge_entity(struct dom_engine *e, const char *kind, const char *id) {
    dkey p; /* an id holds no ':', so this is exactly the id's rows */
    analytics_key_entity(&p, kind, id);
    return db_delete_prefix(e->ks, 0, p.buf, p.len) < 0 ? -1 : 0;
}
