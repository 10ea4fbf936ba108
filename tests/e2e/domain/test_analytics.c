/* End-to-end tests of ANALYTICS.INCR, ANALYTICS.RANGE (SPEC §4.6) and
 * DASHBOARD.GET against a real stagekv-server: the day documents under
 * analytics:{kind}:{id}:{date} as KV.GET shows them, real calendar days,
 * field and n rules, overflow, ranges (order, only days with data, bounds,
 * 366 days), TRACK.DELETE / CONCERT.DELETE taking the rows along, the
 * fallback for documents written around the engine, and the dashboard's
 * figures after a mix of operations. Every refusal writes nothing. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

static const char *const guard_off[] = {"--domain-write-guard", "no", NULL};
static void up_guard_off(void) { up_with(guard_off); }

TestSuite(analytics, .init = up, .fini = down);
TestSuite(analytics_guard_off, .init = up_guard_off, .fini = down);
TestSuite(dashboard, .init = up, .fini = down);

/* KV.GET key is exactly want (NULL: absent). */
#define expect_doc(key, want) expect_doc_l(__LINE__, (key), (want))
static void expect_doc_l(int line, const char *key, const char *want) {
    redisReply *r = CMD("KV.GET %s", key);
    if (!want) {
        cr_expect_eq(r->type, REDIS_REPLY_NIL, "line %d: %s should be absent: %s", line, key, rstr(r));
    } else {
        cr_expect_eq(r->type, REDIS_REPLY_STRING, "line %d: KV.GET %s: type %d (%s)", line, key, r->type, rstr(r));
        if (r->type == REDIS_REPLY_STRING) cr_expect_str_eq(r->str, want, "line %d: KV.GET %s", line, key);
    }
    freeReplyObject(r);
}

/* ---- ANALYTICS.INCR ------------------------------------------------------------- */

Test(analytics, incr_keeps_the_day_document) {
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays"), 1);
    expect_doc("analytics:tracks:t1:2026-11-25", "{\"date\":\"2026-11-25\",\"plays\":1}");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays 5"), 6);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 likes"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays"), 7);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 skip_30s 10"), 10);
    /* members in first-increment order, "date" first */
    expect_doc("analytics:tracks:t1:2026-11-25", "{\"date\":\"2026-11-25\",\"plays\":7,\"likes\":1,\"skip_30s\":10}");
    /* other days, kinds and ids are other documents */
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-26 plays 2"), 2);
    expect_int(CMD("ANALYTICS.INCR concerts t1 2026-11-25 plays 3"), 3);
    expect_int(CMD("ANALYTICS.INCR tracks t10 2026-11-25 plays"), 1);
    expect_doc("analytics:tracks:t1:2026-11-26", "{\"date\":\"2026-11-26\",\"plays\":2}");
    expect_doc("analytics:concerts:t1:2026-11-25", "{\"date\":\"2026-11-25\",\"plays\":3}");
    expect_doc("analytics:tracks:t10:2026-11-25", "{\"date\":\"2026-11-25\",\"plays\":1}");
    cr_expect_eq(kv_count(c, "analytics:"), 4);
    /* the kind is a keyword in any case; the key is lower case */
    expect_int(CMD("ANALYTICS.INCR TRACKS t1 2026-11-26 plays"), 3);
    expect_int(CMD("ANALYTICS.INCR Concerts t1 2026-11-25 plays"), 4);
    cr_expect_eq(kv_count(c, "analytics:"), 4);
    /* the document is a user-visible key, read-only to plain commands */
    expect_error(CMD("KV.SET analytics:tracks:t1:2026-11-25 {}"), "ERR key 'analytics:tracks:t1:2026-11-25' is owned");
    expect_error(CMD("SET analytics:tracks:t1:2026-11-25 x"), "ERR key");
}

Test(analytics, real_calendar_days_only) {
    static const char *const bad[] = {"2026-02-30", "2026-13-01", "2026-2-1", "text", "2026-02-29", "1900-02-29",
                                      "2026-00-10", "2026-01-00", "2026-04-31", "2026-06-31", "2026-01-32",
                                      "0000-01-01", "2026-11-25x", "2026/11/25", " 2026-11-25", "2026-11-2 ",
                                      "20261125", "2026-11-25T00:00", "+026-11-25", "2026-1a-25", "", "\xd9\xa2" "026-11-25",
                                      NULL};
    for (int i = 0; bad[i]; i++) {
        redisReply *r = CMD("ANALYTICS.INCR tracks t1 %s plays", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID date '", 14) == 0, "date '%s' -> %s",
                  bad[i], rstr(r));
        freeReplyObject(r);
        r = CMD("ANALYTICS.RANGE tracks t1 %s 2026-12-31", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID date '", 14) == 0, "from '%s' -> %s",
                  bad[i], rstr(r));
        freeReplyObject(r);
        r = CMD("ANALYTICS.RANGE tracks t1 0001-01-01 %s", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID date '", 14) == 0, "to '%s' -> %s",
                  bad[i], rstr(r));
        freeReplyObject(r);
    }
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-02-30 plays"),
                    "INVALID date '2026-02-30' (a calendar day YYYY-MM-DD)");
    cr_expect_eq(kv_count(c, "analytics:"), 0);
    /* leap years: divisible by 4, not by 100 unless by 400 */
    static const char *const good[] = {"2024-02-29", "2000-02-29", "2026-02-28", "2026-12-31", "2026-01-31",
                                       "2026-04-30", "0001-01-01", "9999-12-31", "1970-01-01", NULL};
    for (int i = 0; good[i]; i++) {
        char key[80], doc[80];
        expect_int(CMD("ANALYTICS.INCR tracks t1 %s plays", good[i]), 1);
        snprintf(key, sizeof key, "analytics:tracks:t1:%s", good[i]);
        snprintf(doc, sizeof doc, "{\"date\":\"%s\",\"plays\":1}", good[i]);
        expect_doc(key, doc);
    }
    cr_expect_eq(kv_count(c, "analytics:"), 9);
}

Test(analytics, field_rules) {
    char f32[40], f33[40];
    memset(f32, 'a', 32);
    f32[32] = 0;
    memset(f33, 'a', 33);
    f33[33] = 0;
    static const char *const good[] = {"a", "plays", "plays_7", "x_", "a1b2", "z0_9", NULL};
    for (int i = 0; good[i]; i++) expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 %s", good[i]), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 %s", f32), 1);
    static const char *const bad[] = {"date", "Plays", "PLAYS", "7plays", "_x", "pl-ays", "", "plays:x", "pl ays",
                                      "\xc3\xa9", "a.b", "dAte", NULL};
    for (int i = 0; bad[i]; i++) {
        redisReply *r = CMD("ANALYTICS.INCR tracks t1 2026-11-25 %s", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID field '", 15) == 0, "field '%s' -> %s",
                  bad[i], rstr(r));
        freeReplyObject(r);
    }
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-25 %s", f33), "INVALID field");
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-25 date"),
                    "INVALID field 'date' ([a-z][a-z0-9_]{0,31}, not \"date\")");
    /* "date" still holds the day; the refused fields are not there */
    char want[300];
    snprintf(want, sizeof want,
             "{\"date\":\"2026-11-25\",\"a\":1,\"plays\":1,\"plays_7\":1,\"x_\":1,\"a1b2\":1,\"z0_9\":1,\"%s\":1}", f32);
    expect_doc("analytics:tracks:t1:2026-11-25", want);
    /* a field that would be a new day's only member is refused without a trace */
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-26 Bad"), "INVALID field");
    cr_expect_eq(kv_count(c, "analytics:"), 1);
}

Test(analytics, n_and_overflow) {
    static const char *const bad[] = {"0", "-1", "x", "1.5", "", "+1", " 1", "1e3", "9223372036854775808",
                                      "-9223372036854775808", "99999999999999999999", NULL};
    for (int i = 0; bad[i]; i++) {
        redisReply *r = CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays %s", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID n '", 11) == 0, "n '%s' -> %s", bad[i],
                  rstr(r));
        freeReplyObject(r);
    }
    cr_expect_eq(kv_count(c, "analytics:"), 0);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays 9223372036854775806"), 9223372036854775806LL);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 likes 2"), 2);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays"), 9223372036854775807LL);
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays"), "INVALID 'plays' would pass 9223372036854775807");
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays 9223372036854775807"), "INVALID 'plays' would pass");
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-25 likes 9223372036854775806"), "INVALID 'likes' would pass");
    /* nothing changed */
    expect_doc("analytics:tracks:t1:2026-11-25",
               "{\"date\":\"2026-11-25\",\"plays\":9223372036854775807,\"likes\":2}");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 likes 9223372036854775805"), 9223372036854775807LL);
    /* the largest n on a new field */
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 shares 9223372036854775807"), 9223372036854775807LL);
    /* arity and extra arguments */
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays 1 2"), "ERR syntax error");
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-25"), "ERR wrong number of arguments");
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays IDEMP k"), "ERR syntax error"); /* no IDEMP */
}

Test(analytics, kind_and_id) {
    static const char *const kinds[] = {"videos", "track", "concert", "news", "", "tracks:x", NULL};
    for (int i = 0; kinds[i]; i++) {
        redisReply *r = CMD("ANALYTICS.INCR %s t1 2026-11-25 plays", kinds[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID kind '", 14) == 0, "kind '%s' -> %s",
                  kinds[i], rstr(r));
        freeReplyObject(r);
        r = CMD("ANALYTICS.RANGE %s t1 2026-11-25 2026-11-25", kinds[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID kind '", 14) == 0, "kind '%s' -> %s",
                  kinds[i], rstr(r));
        freeReplyObject(r);
    }
    expect_error_eq(CMD("ANALYTICS.INCR videos t1 2026-11-25 plays"), "INVALID kind 'videos' (tracks or concerts)");
    char id65[66];
    memset(id65, 'a', 65);
    id65[65] = 0;
    static const char *const ids[] = {"a:b", "a b", "\xc3\xa9", "", "_x", NULL};
    for (int i = 0; ids[i]; i++) {
        expect_error(CMD("ANALYTICS.INCR tracks %s 2026-11-25 plays", ids[i]), "INVALID id '");
        expect_error(CMD("ANALYTICS.RANGE tracks %s 2026-11-25 2026-11-25", ids[i]), "INVALID id '");
    }
    expect_error(CMD("ANALYTICS.INCR tracks %s 2026-11-25 plays", id65), "INVALID id 'aaaa");
    expect_error_eq(CMD("ANALYTICS.INCR tracks a:b 2026-11-25 plays"), "INVALID id 'a:b'");
    cr_expect_eq(kv_count(c, "analytics:"), 0);
    /* an id need not be a stored track (SPEC §4: owners need not exist) */
    expect_int(CMD("ANALYTICS.INCR tracks not-a-track 2026-11-25 plays"), 1);
}

/* ---- ANALYTICS.RANGE ---------------------------------------------------------------- */

#define DAY(d, n) "{\"date\":\"" d "\",\"plays\":" #n "}"

Test(analytics, range_ascending_days_with_data) {
    static const char *const days[] = {"2026-03-01", "2026-01-05", "2025-12-31", "2026-12-31", "2026-01-01",
                                       "2027-01-01", NULL};
    for (int i = 0; days[i]; i++) expect_int(CMD("ANALYTICS.INCR tracks t1 %s plays %d", days[i], i + 1), i + 1);
    /* neighbours that must stay out: another kind, an id with t1 as prefix */
    expect_int(CMD("ANALYTICS.INCR concerts t1 2026-06-01 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t10 2026-06-01 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t0 2026-06-01 plays"), 1);
    expect_strs(CMD("ANALYTICS.RANGE tracks t1 2026-01-01 2026-12-31"), 4, DAY("2026-01-01", 5),
                DAY("2026-01-05", 2), DAY("2026-03-01", 1), DAY("2026-12-31", 4));
    /* bounds are inclusive; one day; no data */
    expect_strs(CMD("ANALYTICS.RANGE tracks t1 2026-01-05 2026-01-05"), 1, DAY("2026-01-05", 2));
    expect_strs(CMD("ANALYTICS.RANGE tracks t1 2026-01-02 2026-03-01"), 2, DAY("2026-01-05", 2),
                DAY("2026-03-01", 1));
    expect_strs(CMD("ANALYTICS.RANGE tracks t1 2025-12-31 2026-01-01"), 2, DAY("2025-12-31", 3),
                DAY("2026-01-01", 5));
    expect_len(CMD("ANALYTICS.RANGE tracks t1 2026-01-06 2026-02-28"), 0);
    expect_len(CMD("ANALYTICS.RANGE tracks nobody 2026-01-01 2026-12-31"), 0);
    expect_strs(CMD("ANALYTICS.RANGE CONCERTS t1 2026-01-01 2026-12-31"), 1,
                "{\"date\":\"2026-06-01\",\"plays\":1}");
    /* the same documents KV.GET shows */
    expect_doc("analytics:tracks:t1:2026-03-01", DAY("2026-03-01", 1));
}

Test(analytics, range_limits) {
    expect_int(CMD("ANALYTICS.INCR tracks t1 2024-01-01 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2024-12-31 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2025-01-01 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-01-01 plays"), 1);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-01-02 plays"), 1);
    /* 366 days: a leap year, or 2025-01-01..2026-01-01 */
    expect_len(CMD("ANALYTICS.RANGE tracks t1 2024-01-01 2024-12-31"), 2);
    expect_len(CMD("ANALYTICS.RANGE tracks t1 2025-01-01 2026-01-01"), 2);
    expect_len(CMD("ANALYTICS.RANGE tracks t1 2024-01-02 2025-01-01"), 2);
    /* 367 days */
    expect_error_eq(CMD("ANALYTICS.RANGE tracks t1 2025-01-01 2026-01-02"),
                    "INVALID range of 367 days (at most 366 per call)");
    expect_error(CMD("ANALYTICS.RANGE tracks t1 2024-01-01 2025-01-01"), "INVALID range of 367 days");
    expect_error(CMD("ANALYTICS.RANGE tracks t1 0001-01-01 9999-12-31"), "INVALID range of");
    /* from > to */
    expect_error_eq(CMD("ANALYTICS.RANGE tracks t1 2026-01-02 2026-01-01"),
                    "INVALID range from 2026-01-02 to 2026-01-01: from is after to");
    expect_error(CMD("ANALYTICS.RANGE tracks t1 2027-01-01 2026-12-31"), "INVALID range from");
    /* arity */
    expect_error(CMD("ANALYTICS.RANGE tracks t1 2026-01-01"), "ERR wrong number of arguments");
    expect_error(CMD("ANALYTICS.RANGE tracks t1 2026-01-01 2026-01-02 x"), "ERR wrong number of arguments");
}

/* ---- the entity engine's delete hook ----------------------------------------------------- */

/* NS.DELETE of an entity takes its analytics rows along, and only its. */
static void delete_takes_the_rows(const char *ns, const char *kind) {
    char a[17], b[17], prefix_a[80], prefix_b[80];
    redisReply *r = CMD("%s.CREATE u1 {}", ns);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s.CREATE: %s", ns, rstr(r));
    snprintf(a, sizeof a, "%s", r->str);
    freeReplyObject(r);
    r = CMD("%s.CREATE u1 {}", ns);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    snprintf(b, sizeof b, "%s", r->str);
    freeReplyObject(r);
    static const char *const days[] = {"2026-11-24", "2026-11-25", "2025-01-01", NULL};
    for (int i = 0; days[i]; i++) {
        expect_int(CMD("ANALYTICS.INCR %s %s %s plays", kind, a, days[i]), 1);
        expect_int(CMD("ANALYTICS.INCR %s %s %s likes 4", kind, a, days[i]), 4);
        expect_int(CMD("ANALYTICS.INCR %s %s %s plays", kind, b, days[i]), 1);
    }
    snprintf(prefix_a, sizeof prefix_a, "analytics:%s:%s:", kind, a);
    snprintf(prefix_b, sizeof prefix_b, "analytics:%s:%s:", kind, b);
    cr_expect_eq(kv_count(c, prefix_a), 3);
    expect_int(CMD("%s.DELETE u1 %s", ns, a), 1);
    cr_expect_eq(kv_count(c, prefix_a), 0, "%s.DELETE left analytics rows", ns);
    expect_len(CMD("ANALYTICS.RANGE %s %s 2025-01-01 2025-12-31", kind, a), 0);
    cr_expect_eq(kv_count(c, prefix_b), 3);
    /* deleting an absent document (or another user's) leaves the rows */
    expect_int(CMD("%s.DELETE u2 %s", ns, b), 0);
    expect_int(CMD("%s.DELETE u1 %s", ns, a), 0);
    cr_expect_eq(kv_count(c, prefix_b), 3);
    expect_int(CMD("%s.DELETE u1 %s", ns, b), 1);
    cr_expect_eq(kv_count(c, prefix_b), 0);
    cr_expect_eq(kv_count(c, "analytics:"), 0);
}

Test(analytics, track_delete_removes_its_rows) { delete_takes_the_rows("TRACK", "tracks"); }
Test(analytics, concert_delete_removes_its_rows) { delete_takes_the_rows("CONCERT", "concerts"); }

Test(analytics, other_namespaces_leave_rows_alone) {
    redisReply *r = CMD("VIDEO.CREATE u1 {}");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    char v[17];
    snprintf(v, sizeof v, "%s", r->str);
    freeReplyObject(r);
    /* a track row under the video's id stays when the video goes */
    expect_int(CMD("ANALYTICS.INCR tracks %s 2026-11-25 plays", v), 1);
    expect_int(CMD("VIDEO.DELETE u1 %s", v), 1);
    cr_expect_eq(kv_count(c, "analytics:"), 1);
}

/* ---- documents written around the engine (write guard off) -------------------------------- */

Test(analytics_guard_off, other_forms_go_through_json) {
    /* spaces, another member order and a non-counter member: still counted */
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-25", "{ \"plays\": 5, \"date\": \"2026-11-25\", "
                                                                     "\"note\": \"x\" }"),
                  "OK");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 plays 2"), 7);
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-25 likes"), 1);
    expect_doc("analytics:tracks:t1:2026-11-25",
               "{\"plays\":7,\"date\":\"2026-11-25\",\"note\":\"x\",\"likes\":1}");
    /* a duplicate member is not taken for the engine's form */
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-26", "{\"date\":\"2026-11-26\",\"plays\":1,\"plays\":2}"),
                  "OK");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-26 plays"), 3); /* jansson keeps the last one */
    expect_doc("analytics:tracks:t1:2026-11-26", "{\"date\":\"2026-11-26\",\"plays\":3}");
    /* a string or real counter cannot be counted */
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-27", "{\"date\":\"2026-11-27\",\"plays\":\"x\"}"), "OK");
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-27 plays"),
                    "ERR stored member 'plays' at 'analytics:tracks:t1:2026-11-27' is not an integer");
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-28", "{\"date\":\"2026-11-28\",\"plays\":1.5}"), "OK");
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-11-28 plays"), "ERR stored member 'plays'");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-28 likes"), 1);
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-29", "{\"date\":\"2026-11-29\",\"plays\":-3}"), "OK");
    expect_int(CMD("ANALYTICS.INCR tracks t1 2026-11-29 plays"), -2);
    expect_doc("analytics:tracks:t1:2026-11-29", "{\"date\":\"2026-11-29\",\"plays\":-2}");
    /* not JSON, not an object: refused, unchanged */
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-30", "not json"), "OK");
    expect_error_eq(CMD("ANALYTICS.INCR tracks t1 2026-11-30 plays"),
                    "ERR stored document at 'analytics:tracks:t1:2026-11-30' is not a JSON object");
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-12-01", "[1]"), "OK");
    expect_error(CMD("ANALYTICS.INCR tracks t1 2026-12-01 plays"), "ERR stored document");
    expect_doc("analytics:tracks:t1:2026-11-30", "not json");
    /* RANGE returns the day keys only, as stored; other keys in between are skipped */
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11-25-extra", "x"), "OK");
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-11", "x"), "OK");
    expect_status(CMD("SET %s %s", "analytics:tracks:t1:2026-12-01x", "x"), "OK");
    redisReply *r = ARRAY("ANALYTICS.RANGE tracks t1 2026-11-25 2026-12-01");
    cr_expect_eq(r->elements, 7);
    for (size_t i = 0; i < r->elements; i++) cr_expect_neq(strcmp(r->element[i]->str, "x"), 0, "element %zu", i);
    freeReplyObject(r);
    /* an expired day is not shown */
    expect_status(CMD("SET %s %s PX 1", "analytics:tracks:t2:2026-11-25", "{\"date\":\"2026-11-25\",\"plays\":9}"),
                  "OK");
    usleep(20000);
    expect_len(CMD("ANALYTICS.RANGE tracks t2 2026-11-25 2026-11-25"), 0);
    expect_int(CMD("ANALYTICS.INCR tracks t2 2026-11-25 plays"), 1);
}

/* ---- DASHBOARD.GET ---------------------------------------------------------------------- */

#define expect_dashboard(uid, want) expect_dashboard_l(__LINE__, (uid), (want))
static void expect_dashboard_l(int line, const char *uid, const char *want) {
    redisReply *r = CMD("DASHBOARD.GET %s", uid);
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "line %d: DASHBOARD.GET %s: type %d (%s)", line, uid, r->type, rstr(r));
    if (r->type == REDIS_REPLY_STRING) cr_expect_str_eq(r->str, want, "line %d: DASHBOARD.GET %s", line, uid);
    freeReplyObject(r);
}

#define DASH(tr, vi, co, ne, coins, dc, dt, un, um)                                                            \
    "{\"tracks\":" #tr ",\"videos\":" #vi ",\"concerts\":" #co ",\"news\":" #ne ",\"coins\":" #coins          \
    ",\"donations\":{\"count\":" #dc ",\"total\":" #dt "},\"unread_notifications\":" #un ",\"unread_messages\":" #um "}"

/* An id reply, copied into out. */
static void new_id(redisReply *r, char out[17]) {
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "expected an id: %s", rstr(r));
    snprintf(out, 17, "%s", r->str);
    freeReplyObject(r);
}

Test(dashboard, figures_after_a_mix_of_operations) {
    expect_dashboard("artist", DASH(0, 0, 0, 0, 0, 0, 0, 0, 0));
    char t[3][17], id[17], note[17];
    for (int i = 0; i < 3; i++) new_id(CMD("TRACK.CREATE artist {\"n\":%d}", i), t[i]);
    new_id(CMD("VIDEO.CREATE artist {}"), id);
    new_id(CMD("VIDEO.CREATE artist {}"), id);
    new_id(CMD("CONCERT.CREATE artist {}"), id);
    new_id(CMD("NEWS.CREATE artist {}"), id);
    new_id(CMD("NEWS.CREATE artist {}"), id);
    new_id(CMD("NEWS.CREATE other {}"), id);
    expect_int(CMD("TRACK.DELETE artist %s", t[1]), 1);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 0, 0, 0, 0, 0));
    /* coins and donations received */
    expect_int(CMD("COINS.ADD artist 100 bonus"), 100);
    expect_int(CMD("COINS.ADD fan 50 topup"), 50);
    new_id(CMD("DONATION.SEND fan artist 20"), id);
    new_id(CMD("DONATION.SEND fan artist 5 MESSAGE thanks"), id);
    expect_int(CMD("COINS.SPEND artist 3 fee"), 122);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 122, 2, 25, 2, 0)); /* a notification per donation */
    expect_dashboard("fan", DASH(0, 0, 0, 0, 25, 0, 0, 0, 0));
    /* notifications: created, one read */
    new_id(CMD("NOTIFY.CREATE artist %s", "{\"type\":\"system\"}"), note);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 122, 2, 25, 3, 0));
    expect_int(CMD("NOTIFY.READ artist %s", note), 1);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 122, 2, 25, 2, 0));
    /* messages received, and one sent (the sender's unread does not move) */
    new_id(CMD("MSG.SEND conv-1 fan artist hello"), id);
    new_id(CMD("MSG.SEND conv-1 fan artist %s", "are you there"), id);
    new_id(CMD("MSG.SEND conv-2 other artist hi"), id);
    new_id(CMD("MSG.SEND conv-1 artist fan yes"), id);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 122, 2, 25, 2, 3));
    expect_dashboard("fan", DASH(0, 0, 0, 0, 25, 0, 0, 0, 1));
    expect_int(CMD("MSG.READ conv-1 artist"), 2);
    expect_int(CMD("NOTIFY.READALL artist"), 2);
    expect_dashboard("artist", DASH(2, 2, 1, 2, 122, 2, 25, 0, 1));
    /* every figure agrees with its own command */
    expect_int(CMD("TRACK.COUNT artist"), 2);
    expect_int(CMD("NEWS.COUNT artist"), 2);
    expect_int(CMD("COINS.BALANCE artist"), 122);
    expect_int(CMD("DONATION.TOTAL artist"), 25);
    expect_int(CMD("NOTIFY.UNREAD artist"), 0);
    expect_int(CMD("MSG.UNREAD artist"), 1);
    /* other users are untouched */
    expect_dashboard("other", DASH(0, 0, 0, 1, 0, 0, 0, 0, 0));
    expect_dashboard("nobody", DASH(0, 0, 0, 0, 0, 0, 0, 0, 0));
}

Test(dashboard, bad_arguments) {
    expect_error_eq(CMD("DASHBOARD.GET a:b"), "INVALID id 'a:b'");
    expect_error(CMD("DASHBOARD.GET %s", ""), "INVALID id ''");
    expect_error(CMD("DASHBOARD.GET _system"), "INVALID id '_system'");
    expect_error(CMD("DASHBOARD.GET"), "ERR wrong number of arguments");
    expect_error(CMD("DASHBOARD.GET a b"), "ERR wrong number of arguments");
}
