/* End-to-end tests of DOMAIN.CHECK and DOMAIN.REBUILD: data written by the
 * commands checks clean; derived data is then damaged on purpose, per
 * family, by writing documents around the engine (a server started with
 * --domain-write-guard no, then SET/DEL of document keys: the counters,
 * indexes, feeds and balances no longer match them); CHECK must name the
 * keys, REBUILD must fix them while other clients are served. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

/* The findings of DOMAIN.CHECK [family] as one text (lines), "OK" for +OK. */
static char *check(const char *family) {
    redisReply *r = family ? CMD("DOMAIN.CHECK %s", family) : CMD("DOMAIN.CHECK");
    size_t cap = 1, n = 0;
    char *out;
    if (r->type == REDIS_REPLY_STATUS) {
        out = strdup(r->str);
    } else {
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "DOMAIN.CHECK: %s", rstr(r));
        for (size_t i = 0; i < r->elements; i++) cap += r->element[i]->len + 1;
        out = malloc(cap);
        for (size_t i = 0; i < r->elements; i++) {
            memcpy(out + n, r->element[i]->str, r->element[i]->len);
            n += r->element[i]->len;
            out[n++] = '\n';
        }
        out[n] = 0;
    }
    freeReplyObject(r);
    return out;
}

#define expect_check_ok(fam) expect_check_ok_at(__LINE__, (fam))
static void expect_check_ok_at(int line, const char *fam) {
    char *f = check(fam);
    cr_expect_str_eq(f, "OK", "line %d: DOMAIN.CHECK %s:\n%s", line, fam ? fam : "", f);
    free(f);
}

/* Each fragment must appear in the findings of family. */
#define expect_findings(fam, ...) expect_findings_at(__LINE__, (fam), (const char *const[]){__VA_ARGS__, NULL})
static void expect_findings_at(int line, const char *fam, const char *const *frags) {
    char *f = check(fam);
    cr_expect_str_neq(f, "OK", "line %d: DOMAIN.CHECK %s found nothing", line, fam);
    for (const char *const *p = frags; *p; p++)
        cr_expect(strstr(f, *p) != NULL, "line %d: DOMAIN.CHECK %s lacks '%s':\n%s", line, fam, *p, f);
    free(f);
}

/* A field of DOMAIN.REBUILD STATUS (a flat map in RESP2), malloc()ed. */
static char *status_field(redisContext *cc, const char *name) {
    redisReply *r = skv_cmd(cc, "DOMAIN.REBUILD STATUS");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "STATUS: %s", rstr(r));
    char *v = NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (strcmp(r->element[i]->str, name) == 0) {
            char num[32];
            snprintf(num, sizeof num, "%lld", r->element[i + 1]->integer);
            v = strdup(r->element[i + 1]->type == REDIS_REPLY_INTEGER ? num : rstr(r->element[i + 1]));
        }
    freeReplyObject(r);
    cr_assert(v, "STATUS has no %s", name);
    return v;
}

/* Waits (bounded) until the rebuild is no longer running; its final state. */
static char *wait_rebuild(redisContext *cc) {
    long long t0 = mono_ms();
    for (;;) {
        char *st = status_field(cc, "state");
        if (strcmp(st, "running") != 0 || mono_ms() - t0 > SKV_WAIT_MS * 3) return st;
        free(st);
        msleep(5);
    }
}

#define rebuild(fam) rebuild_at(__LINE__, (fam))
static void rebuild_at(int line, const char *fam) {
    expect_ok(fam ? CMD("DOMAIN.REBUILD %s", fam) : CMD("DOMAIN.REBUILD"));
    char *st = wait_rebuild(c);
    cr_expect_str_eq(st, "done", "line %d: DOMAIN.REBUILD %s ended %s", line, fam ? fam : "", st);
    free(st);
}

/* The damaging tests run with the write guard off from the start
 * (domain-write-guard is a protected config: not settable at run time). */
static const char *const GUARD_OFF[] = {"--domain-write-guard", "no", NULL};
static void up_unguarded(void) { up_with(GUARD_OFF); }
#define guard_off() ((void)0)

/* A little of everything through the commands. */
static void populate(char tr[2][17], char con[17], char ban[17], char don[17], char note[17], char tk[17]) {
    expect_ok(CMD("USER.CREATE u1 {\"email\":\"U1@Example.com\",\"name\":\"One\",\"role\":\"artist\"}"));
    expect_ok(CMD("USER.CREATE u2 {\"email\":\"u2@example.com\",\"name\":\"Two\",\"role\":\"fan\"}"));
    expect_int(CMD("COINS.ADD u1 500 topup"), 500);
    expect_int(CMD("COINS.SPEND u1 20 boost"), 480);
    assert_id(CMD("TRACK.CREATE u1 {\"title\":\"a\"}"), tr[0]);
    assert_id(CMD("TRACK.CREATE u1 {\"title\":\"b\"}"), tr[1]);
    assert_id(CMD("CONCERT.CREATE u1 {\"city\":\"Oslo\"}"), con);
    assert_id(CMD("BANNER.CREATE u1 {\"status\":\"active\"}"), ban);
    char vid[17];
    assert_id(CMD("VIDEO.CREATE u2 {\"t\":1}"), vid);
    assert_id(CMD("DONATION.SEND u1 u2 30 MESSAGE thanks"), don);
    assert_id(CMD("NOTIFY.CREATE u1 {\"text\":\"hi\"}"), note);
    assert_id(CMD("TICKET.OPEN u1 {\"subject\":\"help\"}"), tk);
    char rep[17];
    assert_id(CMD("TICKET.REPLY %s u1 more", tk), rep);
}

Test(rebuild, clean_data_checks_ok_and_bad_arguments, .init = up, .fini = down) {
    expect_check_ok(NULL); /* empty */
    char tr[2][17], con[17], ban[17], don[17], note[17], tk[17];
    populate(tr, con, ban, don, note, tk);
    take_int(CMD("CONCERT.PROMOTE u1 %s", con));
    expect_check_ok(NULL);
    redisReply *fams = ARRAY("DOMAIN.CHECK HELP");
    cr_expect_geq(fams->elements, 13);
    for (size_t i = 0; i < fams->elements; i++) expect_check_ok(fams->element[i]->str);
    freeReplyObject(fams);
    expect_error(CMD("DOMAIN.CHECK nosuch"), "ERR unknown family 'nosuch'");
    expect_error(CMD("DOMAIN.CHECK users x"), "ERR syntax error");
    expect_error(CMD("DOMAIN.REBUILD nosuch"), "ERR unknown family");
    expect_error(CMD("DOMAIN.REBUILD users STEP 0"), "ERR STEP must be");
    expect_error(CMD("DOMAIN.REBUILD users STEP x"), "ERR STEP must be");
    expect_error(CMD("DOMAIN.REBUILD users FOO 1"), "ERR syntax error");
    char *st = status_field(c, "state");
    cr_expect_str_eq(st, "idle");
    free(st);
    rebuild(NULL); /* nothing to correct */
    char *n = status_field(c, "corrections");
    cr_expect_str_eq(n, "0");
    free(n);
    expect_check_ok(NULL);
}

Test(rebuild, damage_found_and_fixed_per_family, .init = up_unguarded, .fini = down) {
    char tr[2][17], con[17], ban[17], don[17], note[17], tk[17];
    populate(tr, con, ban, don, note, tk);
    guard_off();

    /* users: a base written around USER.CREATE, one deleted under it */
    expect_ok(CMD("SET users:u9:base {\"id\":\"u9\",\"email\":\"Nine@X.io\"}"));
    expect_int(CMD("DEL users:u2:base"), 1);
    expect_findings("users", "meta key 'ulist:u9': expected '', found absent",
                    "meta key 'email:nine@x.io': expected 'u9', found absent",
                    "meta key 'ulist:u2': expected absent, found ''", "meta key 'email:u2@example.com'");
    rebuild("users");
    expect_check_ok("users");
    expect_bulk(CMD("USER.BYEMAIL nine@x.io"), "u9");
    expect_nil(CMD("USER.BYEMAIL u2@example.com"));

    /* coins: a balance that is not the sum of the rows */
    expect_ok(CMD("SET coins:u1:balance 999"));
    expect_error(CMD("COINS.VERIFY u1"), "ERR");
    expect_findings("coins", "data key 'coins:u1:balance': expected '450', found '999'");
    rebuild("coins");
    expect_check_ok("coins");
    expect_int(CMD("COINS.BALANCE u1"), 450);
    expect_ok(CMD("COINS.VERIFY u1"));

    /* tracks: one deleted around the engine, one written around it */
    expect_int(CMD("DEL tracks:u1:%s", tr[0]), 1);
    expect_ok(CMD("SET tracks:u3:0000000000000abc {\"title\":\"x\"}"));
    char owner0[64];
    snprintf(owner0, sizeof owner0, "meta key 'owner:tracks:%s': expected absent", tr[0]);
    expect_findings("tracks", "meta key 'count:tracks:u1': expected 1, found 2",
                    "meta key 'count:tracks:u3': expected 1, found absent",
                    "meta key 'owner:tracks:0000000000000abc': expected 'u3', found absent",
                    "meta key 'all:tracks:0000000000000abc': expected 'u3'", owner0);
    char *all = check(NULL); /* the whole walk sees it too */
    cr_expect(strstr(all, "count:tracks:u3") != NULL, "%s", all);
    free(all);
    rebuild("tracks");
    expect_check_ok("tracks");
    expect_int(CMD("TRACK.COUNT u1"), 1);
    expect_int(CMD("TRACK.COUNT u3"), 1);
    redisReply *feed = ARRAY("TRACK.FEED");
    cr_expect_eq(feed->elements, 2, "TRACK.FEED after the rebuild: %zu", feed->elements);
    freeReplyObject(feed);

    /* concerts and banners: the feed predicate changed around the engine */
    expect_ok(CMD("SET concerts:u1:%s {\"city\":\"Oslo\",\"promoted\":true}", con));
    expect_ok(CMD("SET banners:u1:%s {\"status\":\"paused\"}", ban));
    char fc[80], fb[80];
    snprintf(fc, sizeof fc, "meta key 'feed:concerts:%s': expected 'u1', found absent", con);
    snprintf(fb, sizeof fb, "meta key 'feed:banners:%s': expected absent, found 'u1'", ban);
    expect_findings("concerts", fc);
    expect_findings("banners", fb);
    rebuild("concerts");
    rebuild("banners");
    expect_check_ok("concerts");
    expect_check_ok("banners");
    expect_len(CMD("CONCERT.PROMOTED"), 1);
    expect_len(CMD("BANNER.ACTIVE"), 0);

    /* donations: a donation rewritten around the engine (another donor),
     * then deleted around it */
    expect_ok(CMD("SET donations:u2:%s {\"id\":\"%s\",\"from\":\"u5\",\"amount\":30,\"created_at\":\"2026-01-01T00:00:00.000Z\"}",
                  don, don));
    char ds[80];
    snprintf(ds, sizeof ds, "meta key 'dsent:u1:%s': expected absent, found 'u2'", don);
    expect_findings("donations", ds);
    rebuild("donations");
    expect_check_ok("donations");
    expect_len(CMD("DONATION.SENT u1"), 0);
    expect_int(CMD("DEL donations:u2:%s", don), 1);
    expect_findings("donations", "meta key 'donstat:u2': expected absent, found count 1, total 30");
    rebuild("donations");
    expect_check_ok("donations");
    expect_int(CMD("DONATION.TOTAL u2"), 0);

    /* notifications: read around the engine */
    expect_ok(CMD("SET notifications:u1:%s {\"id\":\"%s\",\"user_id\":\"u1\",\"read\":true}", note, note));
    char nu[80];
    snprintf(nu, sizeof nu, "meta key 'nunread:u1:%s': expected absent, found ''", note);
    expect_findings("notifications", nu, "meta key 'ncount:u1': expected absent, found 1");
    rebuild("notifications");
    expect_check_ok("notifications");
    expect_int(CMD("NOTIFY.UNREAD u1"), 0);

    /* tickets: closed around the engine, its reply deleted */
    expect_ok(CMD("SET tickets:%s:details {\"id\":\"%s\",\"user_id\":\"u1\",\"status\":\"closed\"}", tk, tk));
    expect_int(CMD("KV.DELBYPREFIX tickets:%s:messages:", tk), 1);
    char to[80], tr2[80];
    snprintf(to, sizeof to, "meta key 'tkopen:%s': expected absent, found 'u1'", tk);
    snprintf(tr2, sizeof tr2, "meta key 'tkr:%s': expected absent, found 1", tk);
    expect_findings("tickets", to, tr2);
    rebuild("tickets");
    expect_check_ok("tickets");
    expect_len(CMD("TICKET.OPEN.LIST"), 0);

    expect_check_ok(NULL);
}

/* REBUILD goes a step per loop turn: another client is served while it
 * runs, and its writes during the rebuild stay consistent. */
Test(rebuild, serves_clients_while_running, .init = up_unguarded, .fini = down, .timeout = 120) {
    enum { USERS = 20, PER = 25 };
    for (int u = 0; u < USERS; u++)
        for (int i = 0; i < PER; i++) redisAppendCommand(c, "TRACK.CREATE w%d {\"n\":%d}", u, i);
    for (int i = 0; i < USERS * PER; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "TRACK.CREATE: %s", rstr(r));
        freeReplyObject(r);
    }
    guard_off();
    for (int u = 0; u < USERS; u++) expect_int(CMD("KV.DELBYPREFIX tracks:w%d:", u), PER); /* all stale */
    redisContext *c2 = skv_connect(&srv);
    expect_ok(CMD("DOMAIN.REBUILD tracks STEP 1"));
    int served = 0;
    for (;;) {
        char *st = status_field(c2, "state");
        int running = strcmp(st, "running") == 0;
        free(st);
        if (!running) break;
        char id[17];
        assert_id(skv_cmd(c2, "TRACK.CREATE live {\"n\":%d}", served), id);
        served++;
    }
    cr_expect_gt(served, 0, "no command was served while the rebuild ran");
    char *st = status_field(c2, "state"), *steps = status_field(c2, "steps"), *fixes = status_field(c2, "corrections");
    cr_expect_str_eq(st, "done");
    cr_expect_gt(atoll(steps), USERS * PER, "steps %s: one unit or entry per step", steps);
    cr_expect_geq(atoll(fixes), USERS * (1 + 2 * PER), "corrections %s", fixes);
    free(st);
    free(steps);
    free(fixes);
    expect_check_ok(NULL);
    expect_int(skv_cmd(c2, "TRACK.COUNT live"), served);
    expect_int(skv_cmd(c2, "TRACK.COUNT w0"), 0);
    redisFree(c2);
}

/* Conversations: the engine's own writes (send, read, delete, USER.DELETE
 * of one side) check clean; damage to the messages is found and fixed. */
Test(rebuild, messages, .init = up_unguarded, .fini = down) {
    char m1[17], m2[17], m3[17], m4[17];
    assert_id(CMD("MSG.SEND c1 u1 u2 hi"), m1);
    assert_id(CMD("MSG.SEND c1 u2 u1 yo"), m2);
    assert_id(CMD("MSG.SEND c2 u1 u3 hey"), m3);
    assert_id(CMD("MSG.SEND c3 u4 u1 unread"), m4);
    take_int(CMD("MSG.READ c1 u2"));
    expect_check_ok("messages");
    expect_int(CMD("USER.DELETE u3"), 0);
    expect_check_ok("messages"); /* u3 holds c2 no more, its unread entry went with it */
    expect_int(CMD("MSG.UNREAD u1"), 2);
    /* u3 used again: only the new message is unread for it (USER.DELETE read the old one) */
    char m5[17];
    assert_id(CMD("MSG.SEND c2 u1 u3 again"), m5);
    expect_int(CMD("MSG.UNREAD u3"), 1);
    expect_check_ok("messages");
    /* a donor deleted and active again: its old donations are not in its sent index */
    expect_int(CMD("COINS.ADD u7 100 topup"), 100);
    char d1[17];
    assert_id(CMD("DONATION.SEND u7 u8 10"), d1);
    take_int(CMD("USER.DELETE u7"));
    expect_int(CMD("COINS.ADD u7 5 topup"), 5);
    expect_len(CMD("DONATION.SENT u7"), 0);
    expect_check_ok("donations");

    guard_off();
    /* u1 reads m4 around the engine; m2 (the last of c1) is deleted around it */
    expect_ok(CMD("SET messages:c3:%s {\"id\":\"%s\",\"conv\":\"c3\",\"from\":\"u4\",\"to\":\"u1\",\"text\":\"unread\",\"read\":true}",
                  m4, m4));
    expect_int(CMD("DEL messages:c1:%s", m2), 1);
    char f1[96], f2[96], f3[96];
    snprintf(f1, sizeof f1, "meta key 'munread:u1:c3:%s': expected absent", m4);
    snprintf(f2, sizeof f2, "meta key 'mconvp:u2:c1': expected '%s', found '%s'", m1, m2);
    snprintf(f3, sizeof f3, "meta key 'msent:u2:c1:%s': expected absent, found 'u1'", m2);
    expect_findings("messages", f1, f2, f3, "meta key 'mucount:u1:c3': expected absent, found 1");
    rebuild("messages");
    expect_check_ok("messages");
    expect_int(CMD("MSG.UNREAD u1"), 0); /* m2 is gone, m4 read */
    expect_len(CMD("MSG.CONVERSATIONS u2"), 1);
    expect_check_ok(NULL);
}

/* DOMAIN.REBUILD FRESH (stagekv-restore's): refused while derived data
 * exists; on documents written around the engine (a restore's state: no
 * derived entry at all) it derives everything the full walk derives. */
Test(rebuild, fresh_only_without_derived_data, .init = up_unguarded, .fini = down) {
    enum { N = 30 };
    for (int i = 0; i < N; i++) {
        char id[17];
        snprintf(id, sizeof id, "01a24000000%05x", i);
        expect_ok(CMD("SET tracks:f1:%s {\"id\":\"%s\",\"user_id\":\"f1\",\"title\":\"t\","
                      "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":\"2026-01-01T00:00:00.000Z\"}",
                      id, id));
        expect_ok(CMD("SET concerts:f2:%s {\"id\":\"%s\",\"user_id\":\"f2\",\"promoted\":%s,"
                      "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":\"2026-01-01T00:00:00.000Z\"}",
                      id, id, i % 3 ? "false" : "true"));
    }
    expect_findings("tracks", "count:");
    expect_error(CMD("DOMAIN.REBUILD FRESH FRESH"), "ERR syntax error");
    expect_error(CMD("DOMAIN.REBUILD tracks FRESH STEP 0"), "ERR STEP must be");
    expect_ok(CMD("DOMAIN.REBUILD FRESH STEP 7"));
    char *st = wait_rebuild(c);
    cr_expect_str_eq(st, "done");
    free(st);
    expect_check_ok(NULL);
    expect_int(CMD("TRACK.COUNT f1"), N);
    redisReply *feed = ARRAY("CONCERT.PROMOTED LIMIT 1000");
    cr_expect_eq(feed->elements, (N + 2) / 3);
    freeReplyObject(feed);
    /* now derived entries exist: FRESH is refused, for all and for one family */
    expect_error(CMD("DOMAIN.REBUILD FRESH"), "ERR FRESH needs a server without derived data");
    expect_error(CMD("DOMAIN.REBUILD tracks STEP 5 FRESH"), "ERR FRESH needs a server without derived data");
    /* a family whose ranges are still empty may take it */
    expect_ok(CMD("DOMAIN.REBUILD videos FRESH"));
    st = wait_rebuild(c);
    cr_expect_str_eq(st, "done");
    free(st);
    expect_check_ok(NULL);
}

/* Every page of TRACK.LIST uid at LIMIT lim, walked with AFTER, equals
 * want (n ids, newest first). */
#define expect_pages(uid, n, lim, want) expect_pages_at(__LINE__, (uid), (n), (lim), (want))
static void expect_pages_at(int line, const char *uid, int n, int lim, char (*want)[17]) {
    int got = 0;
    char after[17] = "";
    while (got < n) {
        redisReply *r = after[0] ? CMD("TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after)
                                 : CMD("TRACK.LIST %s LIMIT %d", uid, lim);
        size_t exp = n - got < lim ? (size_t)(n - got) : (size_t)lim;
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: %s", line, rstr(r));
        cr_assert_eq(r->elements, exp, "line %d: LIMIT %d, page at %d: %zu items", line, lim, got, r->elements);
        expect_id_list(r, exp, &want[got]);
        memcpy(after, want[got + exp - 1], 17);
        got += (int)exp;
    }
    expect_id_list(CMD("TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after), 0, want);
}

/* TRACK.LIST guesses where a long list's newest page starts from the lowest
 * and highest id its count record remembers (entity.c). Those are only
 * guesses: deletes at both ends leave them outside the list, documents
 * written around the engine put the list's ends outside them. Every page
 * stays exact either way; stale hints are no finding of DOMAIN.CHECK, a
 * wrong count is, and DOMAIN.REBUILD fixes it. */
Test(rebuild, track_list_hints_are_only_guesses, .init = up_unguarded, .fini = down) {
    enum { N = 300, CUT = 10 };
    static char ids[N][17], want[N + 2][17];
    for (int i = 0; i < N; i++) {
        if (i % 60 == 0) msleep(20); /* bursts and gaps: the density varies */
        assert_id(CMD("TRACK.CREATE h {}"), ids[i]);
    }
    for (int i = 0; i < CUT; i++) {
        expect_int(CMD("TRACK.DELETE h %s", ids[N - 1 - i]), 1);
        expect_int(CMD("TRACK.DELETE h %s", ids[i]), 1);
    }
    int n = 0;
    for (int i = N - 1 - CUT; i >= CUT; i--) memcpy(want[n++], ids[i], 17);
    static const int lims[] = {1, 20, 64, 1000};
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) expect_pages("h", n, lims[i], want);
    expect_check_ok("tracks");
    /* below and above every id, around the engine */
    expect_ok(CMD("SET tracks:h:0000000000000001 {\"id\":\"0000000000000001\"}"));
    expect_ok(CMD("SET tracks:h:7fffffffffffffff {\"id\":\"7fffffffffffffff\"}"));
    memmove(want[1], want[0], sizeof want[0] * (size_t)n);
    memcpy(want[0], "7fffffffffffffff", 17);
    memcpy(want[n + 1], "0000000000000001", 17);
    n += 2;
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) expect_pages("h", n, lims[i], want);
    expect_findings("tracks", "count:tracks:h");
    rebuild("tracks");
    expect_check_ok("tracks");
    expect_int(CMD("TRACK.COUNT h"), n);
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) expect_pages("h", n, lims[i], want);
}
