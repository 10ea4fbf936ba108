/* ANALYTICS.* and DASHBOARD.GET (SPEC §4.6): the handlers. They check the
 * arguments (a real calendar day, a field name, at most 366 days per
 * range) and call the analytics model (analytics.c: keys, the write path).
 * DASHBOARD.GET reads maintained counters only, one point read each,
 * through the models that own them (entity, ledger, donation, notify, msg).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics.h"
#include "domain_args.h"
#include "donation.h"
#include "entity.h"
#include "json.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "server.h"
#include "cmd_analytics.h"

#define DATE_LEN ANALYTICS_DATE_LEN
#define FIELD_MAX ANALYTICS_FIELD_MAX
#define RANGE_DAYS_MAX 366

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

/* A checked date argument as a C string. */
static void date_copy(char out[DATE_LEN + 1], const resp_slice *a) {
    memcpy(out, a->ptr, DATE_LEN);
    out[DATE_LEN] = 0;
}

/* ---- ANALYTICS.INCR ----------------------------------------------------------- */

/* ANALYTICS.INCR tracks|concerts id date field [n]
 * Adds n (an integer >= 1, default 1) to the day's counter; replies the new
 * value. -INVALID for a bad kind, id, date, field or n, and when the
 * counter would pass 2^63-1. */
static int analytics_incr_cmd(client *c) {
    const char *kind;
    char id[DOM_ID_BUF];
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
    char day_s[DATE_LEN + 1];
    date_copy(day_s, date);
    if (analytics_incr(DOM(c), kind, id, day_s, field->ptr, field->len, n, &v) < 0) return -1;
    reply_int(c, v);
    return 0;
}

/* ---- ANALYTICS.RANGE ------------------------------------------------------------ */

typedef struct range_ctx {
    client *c;
    int64_t n;
} range_ctx;

static void range_day(const char *doc, size_t len, void *arg) {
    range_ctx *x = arg;
    reply_bulk(x->c, doc, len);
    x->n++;
}

/* ANALYTICS.RANGE tracks|concerts id from to
 * The day documents from..to (inclusive) that hold data, ascending by date:
 * a forward scan bounded by the range (at most 366 days per call). */
static int analytics_range_cmd(client *c) {
    const char *kind;
    char id[DOM_ID_BUF];
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
    char from_s[DATE_LEN + 1], to_s[DATE_LEN + 1];
    date_copy(from_s, &c->argv[3]);
    date_copy(to_s, &c->argv[4]);
    range_ctx x = {c, 0};
    size_t slot = reply_deferred_array(c);
    if (analytics_range(DOM(c), kind, id, from_s, to_s, range_day, &x) < 0) {
        c->out.len = slot;
        return -1;
    }
    reply_set_deferred_array(c, slot, x.n);
    return 0;
}

/* ---- DASHBOARD.GET -------------------------------------------------------------------- */

/* DASHBOARD.GET uid
 * {"tracks", "videos", "concerts", "news", "coins", "donations": {"count",
 * "total"}, "unread_notifications", "unread_messages"}: every figure one
 * read of a maintained counter. */
static int dashboard_get(client *c) {
    static const entity_ns *const nss[] = {&entity_ns_track, &entity_ns_video, &entity_ns_concert, &entity_ns_news};
    static const char *const members[] = {"tracks", "videos", "concerts", "news"};
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t counts[4], coins, dcount, dtotal, unotes, umsgs;
    for (int i = 0; i < 4; i++)
        if (entity_count(DOM(c), nss[i], uid, &counts[i]) < 0) return -1;
    if (ledger_balance(DOM(c), uid, &coins) < 0 || donation_stats(DOM(c), uid, &dcount, &dtotal) < 0 ||
        notify_unread_count(DOM(c), uid, &unotes) < 0 || msg_unread_total(DOM(c), uid, &umsgs) < 0)
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
    {.name = "analytics.incr", .proc = analytics_incr_cmd, .arity = -5, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 2, .last_key = 2, .key_step = 1,
     .group = "analytics", .args = "tracks|concerts id date field [n]",
     .summary = "Adds n (default 1) to a per-day counter of a track or concert; replies the new value."},
    {.name = "analytics.range", .proc = analytics_range_cmd, .arity = 5, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 2, .last_key = 2, .key_step = 1,
     .group = "analytics", .args = "tracks|concerts id from to",
     .summary = "Returns the day documents from..to (at most 366 days) that hold data, ascending by date."},
    {.name = "dashboard.get", .proc = dashboard_get, .arity = 2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "analytics", .args = "uid",
     .summary = "Returns uid's figures (entity counts, coins, donations, unread notifications and messages) as JSON."},
    CMD_TABLE_END,
};

const cmd_family analytics_family = {.name = "analytics", .rows = rows};
