/* stagekv-import --from hosted against a real server: the sample export
 * tests/fixtures/hosted-export.json (every one of the seed's 44 patterns,
 * malformed records and records of unknown shapes) goes in; the documents,
 * the counters (DASHBOARD.GET), COINS.VERIFY of every user, the feeds and
 * the unread sets come out right; every malformed record is in the report
 * with its key; --check writes nothing; a second import changes nothing;
 * JSON lines from standard input in another order give the same ledger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_json.h"
#include "harness.h"

#ifndef STAGEKV_IMPORT_BIN
#error "STAGEKV_IMPORT_BIN is set by client/import/CMakeLists.txt"
#endif

SKV_FIXTURE();

#define FIXTURE STAGEKV_FIXTURES "/hosted-export.json"

/* Runs the tool (args after the port, a shell fragment) and returns its
 * standard output (malloc()ed); *status gets its exit code. */
static char *run_import(const char *args, int *status) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --from hosted -p %d %s 2>/dev/null", STAGEKV_IMPORT_BIN, srv.port, args);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f, "popen %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) out = realloc(out, cap *= 2);
    }
    out[len] = 0;
    int st = pclose(f);
    cr_assert(WIFEXITED(st), "the tool did not exit normally");
    *status = WEXITSTATUS(st);
    return out;
}

/* The records of the fixture that must be refused, as the report quotes
 * their keys (and the two that have no key). */
static const char *const malformed[] = {
    "REFUSED \"sessions:abc123\": INVALID unknown key pattern",
    "REFUSED \"tracks:bob:list\": INVALID wrong shape",
    "REFUSED \"videos:bob:list\": invalid JSON",
    "REFUSED \"videos:carol:list\": INVALID the string value holds invalid JSON",
    "REFUSED \"tracks:bad user:list\": INVALID bad id",
    "REFUSED \"donations:carol:list\": INVALID element 0: amount",
    "REFUSED \"coins:frank:balance\": INVALID negative balance",
    "REFUSED \"coins:gina:balance\": an integer out of range (overflow)",
    "REFUSED \"coins:hank:transactions\": INVALID element 1: the running balance overflows",
    "REFUSED (no key): record at line 81",
    "REFUSED (no key): record at line 82",
    "REFUSED \"notifications:bob\": INVALID element 0: \"read\" must be true or false",
    "REFUSED \"videos:dave:list\": INVALID element 1 repeats id 'v9'",
    "REFUSED \"analytics:tracks:t1:2024-02-30\": INVALID bad date",
    "REFUSED \"messages:bob_bob\": INVALID element 0: a message to oneself",
    "REFUSED \"settings:bob:security\": invalid JSON",
    "REFUSED \"coins:ivan:balance\": INVALID the balance is not an integer",
};
#define NMAL (sizeof malformed / sizeof malformed[0])

static size_t count_lines(const char *out, const char *prefix) {
    size_t n = 0;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

static void expect_report(const char *out) {
    for (size_t i = 0; i < NMAL; i++) cr_expect(strstr(out, malformed[i]), "report lacks: %s\n%s", malformed[i], out);
    cr_expect_eq(count_lines(out, "REFUSED "), NMAL, "refused lines:\n%s", out);
    cr_expect_eq(count_lines(out, "DERIVED "), 11, "derived lines:\n%s", out);
}

/* Every key of database 0 with its value, sorted: a picture of the data. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *snapshot(void) {
    char **items = NULL, cursor[32] = "0";
    size_t n = 0, len = 0;
    do {
        redisReply *r = take_array(CMD("SCAN %s COUNT 500", cursor));
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            char *v = take_bulk(CMD("KV.GET %s", k));
            items = realloc(items, (n + 1) * sizeof *items);
            size_t l = strlen(k) + strlen(v) + 3;
            items[n] = malloc(l);
            snprintf(items[n], l, "%s=%s\n", k, v);
            len += l;
            n++;
            free(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    qsort(items, n, sizeof *items, cmp_str);
    char *all = calloc(1, len + 1);
    for (size_t i = 0; i < n; i++) {
        strcat(all, items[i]);
        free(items[i]);
    }
    free(items);
    return all;
}

static void expect_verified(const char *uid, long long balance) {
    expect_ok(CMD("COINS.VERIFY %s", uid));
    expect_int(CMD("COINS.BALANCE %s", uid), balance);
}

TestSuite(import, .init = up, .fini = down, .timeout = 120);

Test(import, fixture_maps_every_pattern_through_the_engine) {
    int st;
    char *out = run_import(FIXTURE, &st);
    cr_expect_eq(st, 1, "exit status %d (1: some records refused)", st);
    expect_report(out);
    cr_expect(strstr(out, "import: 69 records: 41 imported, 0 imported before, 11 derived"), "%s", out);
    free(out);

    /* counters: O(1) figures kept by the engine while the documents went in */
    expect_bulk(CMD("DASHBOARD.GET alice"), "{\"tracks\":3,\"videos\":1,\"concerts\":1,\"news\":2,\"coins\":1250,"
                                           "\"donations\":{\"count\":1,\"total\":300},\"unread_notifications\":1,"
                                           "\"unread_messages\":1}");
    expect_bulk(CMD("DASHBOARD.GET bob"), "{\"tracks\":0,\"videos\":0,\"concerts\":0,\"news\":0,\"coins\":260,"
                                         "\"donations\":{\"count\":0,\"total\":0},\"unread_notifications\":0,"
                                         "\"unread_messages\":1}");
    expect_int(CMD("CONCERT.COUNT carol"), 2);
    expect_int(CMD("PROMO.COUNT alice"), 1);
    expect_int(CMD("PITCH.COUNT alice"), 1);
    expect_int(CMD("PAYMETHOD.COUNT bob"), 1);

    /* coins: balance = sum of the rows for every user; opening rows where
     * the history alone could not give the balance */
    expect_verified("alice", 1250); /* history sums to the balance */
    expect_verified("bob", 260);    /* balance 260 after a history of 200: one row +60 */
    expect_verified("carol", 75);   /* a balance without history: one opening row */
    expect_verified("dave", 0);     /* a history that starts with a debit */
    size_t n;
    char **rows = coins_history(c, "bob", &n);
    cr_assert_eq(n, 3);
    cr_expect_str_eq(jstr(rows[0], "reason"), "import:balance");
    cr_expect_eq(jint(rows[0], "amount"), 60);
    cr_expect_str_eq(jstr(rows[1], "reason"), "donation");
    cr_expect_str_eq(jstr(rows[1], "counterparty"), "alice");
    cr_expect_str_eq(jstr(rows[2], "reason"), "purchase"); /* "description" of the old rows */
    free_rows(rows);
    rows = coins_history(c, "dave", &n);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(jstr(rows[1], "reason"), "import:opening");
    cr_expect_eq(jint(rows[1], "amount"), 40);
    free_rows(rows);
    for (const char *const *u = (const char *const[]){"frank", "gina", "hank", "ivan", NULL}; *u; u++)
        expect_int(CMD("COINS.BALANCE %s", *u), 0); /* refused records wrote nothing */

    /* documents: one per element, ids kept where valid, owned fields the server's */
    char *t1 = take_bulk(CMD("TRACK.GET alice t1"));
    cr_expect_str_eq(jstr(t1, "title"), "First");
    cr_expect_str_eq(jstr(t1, "user_id"), "alice");
    cr_expect(is_iso_ms(jstr(t1, "created_at")));
    free(t1);
    redisReply *r = take_array(CMD("TRACK.LIST alice"));
    cr_assert_eq(r->elements, 3);
    int legacy = 0;
    for (size_t i = 0; i < r->elements; i++)
        if (strcmp(jfind(r->element[i]->str, "legacy_id"), "bad:id") == 0) {
            legacy = 1;
            cr_expect(is_id(jstr(r->element[i]->str, "id")), "a new server id for the invalid one");
        }
    cr_expect(legacy, "the track with an invalid id keeps it as legacy_id");
    freeReplyObject(r);
    expect_int(CMD("TRACK.COUNT bob"), 0);
    expect_int(CMD("VIDEO.COUNT dave"), 0);

    /* feeds: the promoted and active lists became the documents' flags */
    expect_ids(CMD("CONCERT.PROMOTED"), 2, "c2", "c1");
    expect_ids(CMD("NEWS.PROMOTED"), 1, "n1");
    expect_ids(CMD("BANNER.ACTIVE"), 1, "b1");
    expect_ids(CMD("CONCERT.FEED"), 3, "c3", "c2", "c1");

    /* unread lists became read flags */
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    expect_ids(CMD("NOTIFY.LIST alice UNREAD"), 1, "nt1");
    expect_int(CMD("MSG.UNREAD alice"), 1); /* alice_carol read (not listed), alice_bob's own flags */
    expect_int(CMD("MSG.UNREAD bob"), 1);
    expect_docs(CMD("MSG.HISTORY alice_bob"), "text", 3, "new song?", "hello", "hi");
    expect_len(CMD("MSG.CONVERSATIONS alice"), 2);

    /* users, settings, e-mail, tickets, payments, donations, analytics */
    expect_bulk(CMD("USER.BYEMAIL alice@example.com"), "alice");
    char *u = take_bulk(CMD("USER.GET alice"));
    cr_expect_str_eq(jfind(u, "bio"), "Singer and songwriter");
    free(u);
    u = take_bulk(CMD("USER.GET bob"));
    cr_expect_str_eq(jfind(u, "plan"), "premium");
    free(u);
    char *s = take_bulk(CMD("SETTINGS.GET alice profile"));
    cr_expect_str_eq(jstr(s, "theme"), "dark");
    free(s);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS alice"), 2, "news", "новости");
    expect_len(CMD("EMAIL.HISTORY alice"), 1);
    char *tk = take_bulk(CMD("TICKET.GET tk1"));
    cr_expect_str_eq(jstr(tk, "status"), "open");
    cr_expect_str_eq(jfind(tk, "text"), "where is my payout?");
    free(tk);
    tk = take_bulk(CMD("TICKET.GET tk2"));
    cr_expect_str_eq(jstr(tk, "status"), "closed");
    cr_expect_str_eq(jfind(tk, "text"), "cannot log in");
    free(tk);
    expect_ids(CMD("TICKET.OPEN.LIST"), 1, "tk1");
    expect_len(CMD("TICKET.LIST alice"), 2);
    expect_docs(CMD("PAYMENT.LIST bob"), "external_id", 3, "X9", "ch_2", "ch_1");
    r = take_array(CMD("PAYMENT.LIST bob"));
    cr_assert_eq(r->elements, 3);
    cr_expect_str_eq(jfind(r->element[0]->str, "status"), ""); /* pending: no status yet */
    cr_expect_str_eq(jfind(r->element[1]->str, "status"), "refunded");
    cr_expect_str_eq(jfind(r->element[2]->str, "status"), "succeeded"); /* "completed" */
    cr_expect_str_eq(jfind(r->element[2]->str, "legacy_id"), "pay1");
    freeReplyObject(r);
    expect_int(CMD("DONATION.TOTAL alice"), 300);
    expect_docs(CMD("DONATION.SENT bob"), "message", 1, "love it");
    r = take_array(CMD("ANALYTICS.RANGE tracks t1 2024-05-01 2024-05-31"));
    cr_assert_eq(r->elements, 1);
    cr_expect_eq(jint(r->element[0]->str, "plays"), 12);
    cr_expect_eq(jint(r->element[0]->str, "likes"), 3);
    freeReplyObject(r);
    /* every counter, index and feed agrees with the documents (DOMAIN.CHECK) */
    expect_ok(CMD("DOMAIN.CHECK"));
    /* the dedup of payments holds for what was imported */
    expect_error(CMD("PAYMENT.RECORD bob {\"provider\":\"stripe\",\"external_id\":\"ch_1\"}"), "CONFLICT");
}

Test(import, check_writes_nothing) {
    int st;
    char *out = run_import("--check " FIXTURE, &st);
    cr_expect_eq(st, 1);
    expect_report(out);
    cr_expect(strstr(out, "check: 69 records: 41 would be imported"), "%s", out);
    free(out);
    expect_int(CMD("DBSIZE"), 0);
    expect_int(CMD("COINS.BALANCE alice"), 0);
    expect_len(CMD("CONCERT.PROMOTED"), 0);
}

Test(import, a_second_import_changes_nothing) {
    int st;
    char *out = run_import(FIXTURE, &st);
    free(out);
    char *before = snapshot();
    cr_assert_gt(strlen(before), 1000);
    out = run_import(FIXTURE, &st);
    cr_expect_eq(st, 1);
    cr_expect(strstr(out, "import: 69 records: 0 imported, 41 imported before, 11 derived"), "%s", out);
    expect_report(out);
    free(out);
    char *after = snapshot();
    cr_expect_str_eq(after, before);
    free(before);
    free(after);
    expect_verified("alice", 1250);
    expect_verified("bob", 260);
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    /* the same key with another value is refused, not merged */
    expect_error(CMD("IMPORT.RECORD coins:alice:balance 5000"), "CONFLICT");
    expect_int(CMD("COINS.BALANCE alice"), 1250);
}

/* JSON lines on standard input, balances and unread lists first: the
 * deferred records still see the history they refer to. */
Test(import, json_lines_from_stdin_in_any_order) {
    char path[] = "/tmp/skv-import-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text =
        "{\"key\": \"coins:zoe:balance\", \"value\": 90}\n"
        "\n"
        "{\"key\": \"notifications:zoe:unread\", \"value\": [{\"id\": \"z2\"}]}\n"
        "{\"key\": \"coins:zoe:transactions\", \"value\": [{\"amount\": 100}, {\"amount\": -30}]}\n"
        "{\"key\": \"notifications:zoe\", \"value\": [{\"id\": \"z1\"}, {\"id\": \"z2\"}, {\"id\": \"z3\"}]}\n"
        "{\"key\": \"tickets:zt:messages\", \"value\": [{\"author\": \"zoe\", \"text\": \"hello\"}]}\n"
        "{\"key\": \"tickets:zt:details\", \"value\": {\"user_id\": \"zoe\", \"status\": \"closed\"}}\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char args[64];
    snprintf(args, sizeof args, "< %s", path);
    int st;
    char *out = run_import(args, &st);
    cr_expect_eq(st, 0, "%s", out);
    cr_expect(strstr(out, "import: 6 records: 6 imported"), "%s", out);
    free(out);
    expect_verified("zoe", 90);
    size_t n;
    char **rows = coins_history(c, "zoe", &n);
    cr_assert_eq(n, 3);
    cr_expect_eq(jint(rows[0], "amount"), 20); /* 100 - 30 = 70, balance 90: +20 */
    free_rows(rows);
    expect_int(CMD("NOTIFY.UNREAD zoe"), 1);
    expect_ids(CMD("NOTIFY.LIST zoe UNREAD"), 1, "z2");
    char *tk = take_bulk(CMD("TICKET.GET zt"));
    cr_expect_str_eq(jstr(tk, "status"), "closed");
    cr_expect_str_eq(jfind(tk, "text"), "hello");
    free(tk);

    /* a truncated array: what came before is imported, the rest reported */
    FILE *f = fopen(path, "w");
    fputs("[{\"key\": \"videos:yan:list\", \"value\": [{\"id\": \"y1\"}]},\n {\"key\": \"videos:yan:li", f);
    fclose(f);
    snprintf(args, sizeof args, "%s", path);
    out = run_import(args, &st);
    cr_expect_eq(st, 1, "%s", out);
    cr_expect(strstr(out, "REFUSED (no key): line 2: the file ends inside a record (truncated?)"), "%s", out);
    free(out);
    expect_int(CMD("VIDEO.COUNT yan"), 1);
    unlink(path);
}

/* A kept server id moves the id high-water mark: no later id can equal it
 * or sort before it; one far in the future is refused. */
Test(import, kept_server_ids_raise_the_high_water_mark) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
    char kept[17], rec[64], fresh[17];
    snprintf(kept, sizeof kept, "%016llx", (ms + 3600 * 1000ULL) << 16); /* an hour ahead */
    snprintf(rec, sizeof rec, "[{\"id\":\"%s\"}]", kept);
    redisReply *r = CMD("IMPORT.RECORD videos:w1:list %s", rec);
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "%s", rstr(r));
    freeReplyObject(r);
    assert_id(CMD("VIDEO.CREATE w1 {}"), fresh);
    cr_expect_gt(strcmp(fresh, kept), 0, "new id %s after the kept %s", fresh, kept);
    expect_error(CMD("IMPORT.RECORD videos:w2:list [{\"id\":\"ffffffffffffffff\"}]"),
                 "INVALID element 0: id 'ffffffffffffffff' is a server id more than a day in the future");
    expect_int(CMD("VIDEO.COUNT w2"), 0);
}
