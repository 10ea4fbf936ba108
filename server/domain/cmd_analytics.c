/* ANALYTICS.* and DASHBOARD.GET (SPEC §4.6). Key layout: analytics.h.
 *
 * ANALYTICS.INCR rewrites the day document analytics:{kind}:{id}:{date} in
 * the command's batch, so the document KV.GET shows is always the truth.
 * ANALYTICS.RANGE is a bounded forward scan of analytics:{kind}:{id}:
 * from {from} to {to} (dates sort as text), at most 366 days.
 * DASHBOARD.GET reads maintained counters only (one point read each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics.h"
#include "json.h"
#include "donation.h"
#include "ledger.h"
#include "notify.h"
#include "msg.h"
#include "server.h"
#include "cmd_analytics.h"

#define DATE_LEN 10
#define FIELD_MAX 32
#define RANGE_DAYS_MAX 366
#define ID_BUF (DOM_ID_MAX + 1)

/* ---- arguments ------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A real calendar day YYYY-MM-DD (year 0001..9999, as PostgreSQL's date):
 * 1 with *day = its day number, 0 otherwise. */
static int parse_date(const char *p, size_t n, int64_t *day) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != DATE_LEN || p[4] != '-' || p[7] != '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) return 0;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    int m = (p[5] - '0') * 10 + (p[6] - '0'), d = (p[8] - '0') * 10 + (p[9] - '0');
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) return 0;
    *day = days_from_civil(y, m, d);
    return 1;
}

static int date_arg(client *c, const resp_slice *a, int64_t *day) {
    if (parse_date(a->ptr, a->len, day)) return 0;
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "date '%s' (a calendar day YYYY-MM-DD)", shown);
    return -1;
}

/* tracks | concerts (any case) -> the lower-case name used in keys. */
static int kind_arg(client *c, const resp_slice *a, const char **kind) {
    if (arg_eq(a, "tracks")) *kind = "tracks";
    else if (arg_eq(a, "concerts")) *kind = "concerts";
    else {
        char shown[80];
        resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
        reply_invalid(c, "kind '%s' (tracks or concerts)", shown);
        return -1;
    }
    return 0;
}

/* [a-z][a-z0-9_]{0,31}, not "date" (the document's own member). */
static int field_arg(client *c, const resp_slice *a) {
    int ok = a->len >= 1 && a->len <= FIELD_MAX && a->ptr[0] >= 'a' && a->ptr[0] <= 'z' &&
             !(a->len == 4 && memcmp(a->ptr, "date", 4) == 0);
    for (size_t i = 1; ok && i < a->len; i++) {
        char ch = a->ptr[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    }
    if (ok) return 0;
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "field '%s' ([a-z][a-z0-9_]{0,31}, not \"date\")", shown);
    return -1;
}

static void day_key(dkey *k, const char *kind, const char *id, const resp_slice *date) {
    dkey_fmt(k, "analytics:%s:%s:%.*s", kind, id, (int)date->len, date->ptr);
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
 * writes the result; *out gets the new value. 0 ok, -1 replied. */
static int incr_json(client *c, const dkey *k, const char *stored, size_t sl, const resp_slice *field, int64_t n,
                     int64_t *out) {
    char err[256], name[FIELD_MAX + 1];
    int rc = -1;
    memcpy(name, field->ptr, field->len);
    name[field->len] = 0;
    json_t *doc = json_parse_any(stored, sl, err, sizeof err);
    if (!doc || !json_is_object(doc)) {
        reply_errorf(c, "ERR stored document at '%.*s' is not a JSON object", (int)k->len, k->buf);
        goto out;
    }
    const json_t *cur = json_object_get(doc, name);
    if (cur && !json_is_integer(cur)) {
        reply_errorf(c, "ERR stored member '%s' at '%.*s' is not an integer", name, (int)k->len, k->buf);
        goto out;
    }
    int64_t v = cur ? json_integer_value(cur) : 0;
    if (v > INT64_MAX - n) {
        reply_invalid(c, "'%s' would pass 9223372036854775807", name);
        goto out;
    }
    v += n;
    if (json_object_set_new(doc, name, json_integer(v)) < 0) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    if (dom_put_doc(KS(c), k, doc, 1) < 0) goto out;
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
    if (n < i + DATE_LEN + 2 || memcmp(p, head, i) != 0 || p[i + DATE_LEN] != '"') return 0;
    for (size_t j = i; j < i + DATE_LEN; j++)
        if (!((p[j] >= '0' && p[j] <= '9') || p[j] == '-')) return 0;
    for (i += DATE_LEN + 1; i < n && p[i] == ',';) {
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

/* ANALYTICS.INCR tracks|concerts id date field [n]
 * Adds n (an integer >= 1, default 1) to the day's counter; replies the new
 * value. -INVALID for a bad kind, id, date, field or n, and when the
 * counter would pass 2^63-1. */
static int analytics_incr(client *c) {
    const char *kind;
    char id[ID_BUF];
    int64_t day, n = 1, v;
    const resp_slice *date = &c->argv[3], *field = &c->argv[4];
    if (c->argc > 6) {
        reply_syntax_error(c);
        return -1;
    }
    if (kind_arg(c, &c->argv[1], &kind) < 0 || dom_id_arg(c, 2, id) < 0 || date_arg(c, date, &day) < 0 ||
        field_arg(c, field) < 0)
        return -1;
    if (c->argc == 6 && (resp_parse_ll(c->argv[5].ptr, c->argv[5].len, &n) < 0 || n < 1)) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, c->argv[5].ptr, c->argv[5].len, 64);
        reply_invalid(c, "n '%s' (an integer from 1 to 9223372036854775807)", shown);
        return -1;
    }
    dkey k;
    day_key(&k, kind, id, date);
    db_value dv;
    int found = dom_get_raw(KS(c), &k, &dv);
    if (found < 0) return -1;
    char empty[DATE_LEN + 16], buf[512];
    const char *p = dv.v.payload;
    size_t pl = dv.v.len, ol;
    if (!found) { /* a new day starts as {"date":"..."} */
        pl = (size_t)snprintf(empty, sizeof empty, "{\"date\":\"%.*s\"}", DATE_LEN, date->ptr);
        p = empty;
    }
    char *out = pl + 64 <= sizeof buf ? buf : malloc(pl + 64);
    int r = out ? incr_text(p, pl, field->ptr, field->len, n, out, &ol, &v) : 0;
    if (r == 1) {
        r = dom_put_raw(KS(c), &k, out, ol, found);
    } else if (r == -1) {
        reply_invalid(c, "'%.*s' would pass 9223372036854775807", (int)field->len, field->ptr);
    } else if (!out) {
        reply_error(c, "ERR out of memory");
        r = -1;
    } else {
        r = incr_json(c, &k, p, pl, field, n, &v); /* another form: through jansson */
    }
    if (out != buf) free(out);
    if (found) db_value_free(&dv);
    if (r < 0) return -1;
    reply_int(c, v);
    return 0;
}

/* ---- ANALYTICS.RANGE ------------------------------------------------------------ */

/* ANALYTICS.RANGE tracks|concerts id from to
 * The day documents from..to (inclusive) that hold data, ascending by date:
 * a forward scan bounded by the range (at most 366 days per call). */
static int analytics_range(client *c) {
    const char *kind;
    char id[ID_BUF];
    int64_t from, to;
    if (kind_arg(c, &c->argv[1], &kind) < 0 || dom_id_arg(c, 2, id) < 0 || date_arg(c, &c->argv[3], &from) < 0 ||
        date_arg(c, &c->argv[4], &to) < 0)
        return -1;
    if (from > to) {
        reply_invalid(c, "range from %.*s to %.*s: from is after to", (int)c->argv[3].len, c->argv[3].ptr,
                      (int)c->argv[4].len, c->argv[4].ptr);
        return -1;
    }
    if (to - from + 1 > RANGE_DAYS_MAX) {
        reply_invalid(c, "range of %lld days (at most %d per call)", (long long)(to - from + 1), RANGE_DAYS_MAX);
        return -1;
    }
    dkey p, start;
    dkey_fmt(&p, "analytics:%s:%s:", kind, id);
    day_key(&start, kind, id, &c->argv[3]);
    const char *last = c->argv[4].ptr; /* the key suffix of to */
    db_iter it;
    db_iter_open(&it, KS(c), 0, p.buf, p.len);
    db_iter_seek(&it, start.buf, start.len, 0);
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    const char *key;
    size_t kl;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &key, &kl, &v)) == 1) {
        const char *sfx = key + p.len;
        size_t sl = kl - p.len;
        /* A suffix past to ends the range; keys within it that are not a
         * day (written around the engine) are skipped. */
        int cmp = memcmp(sfx, last, sl < DATE_LEN ? sl : DATE_LEN);
        if (cmp > 0 || (cmp == 0 && sl > DATE_LEN)) break;
        if (sl != DATE_LEN) continue;
        reply_bulk(c, v.payload, v.len);
        n++;
    }
    db_iter_close(&it);
    if (r < 0) {
        c->out.len = slot;
        reply_error(c, "ERR storage error while scanning the range");
        return -1;
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

/* ---- the entity engine's delete hook ----------------------------------------------- */

int analytics_on_entity_delete(client *c, const entity_ns *ns, const char *uid, const char *id,
                               const json_t *old_doc, const json_t *new_doc) {
    (void)uid;
    (void)old_doc;
    (void)new_doc;
    dkey p; /* an id holds no ':', so this is exactly the id's rows */
    dkey_fmt(&p, "analytics:%s:%s:", ns->meta, id);
    return db_delete_prefix(KS(c), 0, p.buf, p.len) < 0 ? -1 : 0;
}

/* ---- DASHBOARD.GET -------------------------------------------------------------------- */

/* DASHBOARD.GET uid
 * {"tracks", "videos", "concerts", "news", "coins", "donations": {"count",
 * "total"}, "unread_notifications", "unread_messages"}: every figure one
 * read of a maintained counter. */
static int dashboard_get(client *c) {
    static const char *const ns_names[] = {"track", "video", "concert", "news"};
    static const char *const members[] = {"tracks", "videos", "concerts", "news"};
    char uid[ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t counts[4], coins, dcount, dtotal, unotes, umsgs;
    for (int i = 0; i < 4; i++)
        if (entity_count(c, ns_names[i], uid, &counts[i]) < 0) return -1;
    if (ledger_balance(DOM(c), uid, &coins) < 0 || donation_stats(DOM(c), uid, &dcount, &dtotal) < 0 ||
        notify_unread_count(DOM(c), uid, &unotes) < 0 || msg_unread_total(c, uid, &umsgs) < 0)
        return -1;
    json_t *d = json_object();
    int bad = !d;
    for (int i = 0; i < 4 && !bad; i++) bad = json_object_set_new(d, members[i], json_integer(counts[i])) < 0;
    if (!bad)
        bad = json_object_set_new(d, "coins", json_integer(coins)) < 0 ||
              json_object_set_new(d, "donations", json_pack("{s:I, s:I}", "count", (json_int_t)dcount, "total",
                                                            (json_int_t)dtotal)) < 0 ||
              json_object_set_new(d, "unread_notifications", json_integer(unotes)) < 0 ||
              json_object_set_new(d, "unread_messages", json_integer(umsgs)) < 0;
    size_t n;
    char *text = bad ? NULL : json_encode(d, &n);
    json_decref(d);
    if (!text) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    reply_bulk(c, text, n);
    free(text);
    return 0;
}

/* ---- the command rows ------------------------------------------------------------------- */

static const cmd_def rows[] = {
    {.name = "analytics.incr", .proc = analytics_incr, .arity = -5, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 2, .last_key = 2, .key_step = 1,
     .group = "analytics", .args = "tracks|concerts id date field [n]",
     .summary = "Adds n (default 1) to a per-day counter of a track or concert; replies the new value."},
    {.name = "analytics.range", .proc = analytics_range, .arity = 5, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 2, .last_key = 2, .key_step = 1,
     .group = "analytics", .args = "tracks|concerts id from to",
     .summary = "Returns the day documents from..to (at most 366 days) that hold data, ascending by date."},
    {.name = "dashboard.get", .proc = dashboard_get, .arity = 2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "analytics", .args = "uid",
     .summary = "Returns uid's figures (entity counts, coins, donations, unread notifications and messages) as JSON."},
    CMD_TABLE_END,
};

const cmd_family analytics_family = {.name = "analytics", .rows = rows};
