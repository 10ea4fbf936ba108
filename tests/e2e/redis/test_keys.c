/* End-to-end tests of the key-space commands against a real stagekv-server:
 * DEL UNLINK EXISTS TYPE KEYS SCAN RENAME RENAMENX COPY MOVE SWAPDB RANDOMKEY
 * TOUCH OBJECT (server/redis/cmd_keys.c), and DBSIZE FLUSHDB FLUSHALL SELECT
 * as seen by the key space. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

SKV_FIXTURE();

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Asserts that an array reply holds exactly the given strings, in any order. */
#define expect_set(...) expect_set_l(__LINE__, __VA_ARGS__)
static void expect_set_l(int line, redisReply *r, const char *what, size_t n, const char *const *want) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: %s: expected array, got type %d (%s)", line, what, r->type,
                 r->str ? r->str : "");
    const char **got = calloc(r->elements + 1, sizeof *got);
    const char **exp = calloc(n + 1, sizeof *exp);
    for (size_t i = 0; i < r->elements; i++) {
        cr_assert_eq(r->element[i]->type, REDIS_REPLY_STRING, "line %d: %s: element %zu type %d", line, what, i,
                     r->element[i]->type);
        got[i] = r->element[i]->str;
    }
    for (size_t i = 0; i < n; i++) exp[i] = want[i];
    qsort(got, r->elements, sizeof *got, cmp_str);
    qsort(exp, n, sizeof *exp, cmp_str);
    cr_expect_eq(r->elements, n, "line %d: %s: %zu keys, expected %zu", line, what, r->elements, n);
    for (size_t i = 0; i < n && i < r->elements; i++)
        cr_expect_str_eq(got[i], exp[i], "line %d: %s: key %zu", line, what, i);
    free(got);
    free(exp);
    freeReplyObject(r);
}

static void set_keys(const char *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) expect_status(skv_cmd(c, "SET %s %s", keys[i], "v"), "OK");
}

/* ---- DEL / UNLINK / EXISTS / TYPE --------------------------------------- */

Test(keys, del_unlink_exists, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "MSET a 1 b 2 c 3 d 4"), "OK");
    expect_int(skv_cmd(c, "EXISTS a"), 1);
    expect_int(skv_cmd(c, "EXISTS nope"), 0);
    /* EXISTS counts repeated keys each time (Redis) */
    expect_int(skv_cmd(c, "EXISTS a a b nope"), 3);
    expect_int(skv_cmd(c, "DEL a nope"), 1);
    expect_int(skv_cmd(c, "DEL a"), 0);
    expect_int(skv_cmd(c, "EXISTS a"), 0);
    expect_nil(skv_cmd(c, "GET a"));
    /* a key named twice is deleted once */
    expect_int(skv_cmd(c, "DEL b b"), 1);
    expect_int(skv_cmd(c, "UNLINK c d x"), 2);
    expect_int(skv_cmd(c, "UNLINK c"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_error_eq(skv_cmd(c, "DEL"), "ERR wrong number of arguments for 'del' command");
    expect_error_eq(skv_cmd(c, "UNLINK"), "ERR wrong number of arguments for 'unlink' command");
    expect_error_eq(skv_cmd(c, "EXISTS"), "ERR wrong number of arguments for 'exists' command");
    /* a deleted key can be written again */
    expect_status(skv_cmd(c, "SET a again"), "OK");
    expect_bulk(skv_cmd(c, "GET a"), "again");
}

Test(keys, type, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "TYPE nope"), "none");
    expect_status(skv_cmd(c, "SET s v"), "OK");
    expect_status(skv_cmd(c, "TYPE s"), "string");
    expect_int(skv_cmd(c, "INCR n"), 1);
    expect_status(skv_cmd(c, "TYPE n"), "string");
    expect_status(skv_cmd(c, "KV.SET j {}"), "OK");
    expect_status(skv_cmd(c, "TYPE j"), "string");
    expect_error_eq(skv_cmd(c, "TYPE"), "ERR wrong number of arguments for 'type' command");
    expect_error_eq(skv_cmd(c, "TYPE a b"), "ERR wrong number of arguments for 'type' command");
}

Test(keys, expired_keys_hidden, .init = up, .fini = down) {
    long long t0 = mono_ms();
    expect_status(skv_cmd(c, "SET tmp v PX 1000"), "OK");
    expect_status(skv_cmd(c, "SET keep v"), "OK");
    expect_int_within(t0, 1000, skv_cmd(c, "EXISTS tmp keep"), 2);
    cr_expect(skv_wait_int(c, 1, SKV_WAIT_MS, "EXISTS tmp keep"), "tmp still there after %d ms", SKV_WAIT_MS);
    expect_status(skv_cmd(c, "TYPE tmp"), "none");
    const char *w[] = {"keep"};
    expect_set(skv_cmd(c, "KEYS *"), "KEYS after expiry", 1, w);
    redisReply *r = skv_cmd(c, "SCAN 0 COUNT 100");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_str_eq(r->element[0]->str, "0");
    cr_expect_eq(r->element[1]->elements, 1);
    if (r->element[1]->elements == 1) cr_expect_str_eq(r->element[1]->element[0]->str, "keep");
    freeReplyObject(r);
    expect_int(skv_cmd(c, "DEL tmp"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
}

/* ---- KEYS --------------------------------------------------------------- */

Test(keys, keys_glob, .init = up, .fini = down) {
    const char *all[] = {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "hbllo", "h[llo",
                         "a", "b", "c", "d", "ab"};
    size_t n = sizeof all / sizeof all[0];
    set_keys(all, n);

    expect_set(skv_cmd(c, "KEYS *"), "*", n, all);
    expect_set(skv_cmd(c, "KEYS nomatch*"), "nomatch*", 0, NULL);
    {
        const char *w[] = {"hello", "hallo", "hxllo", "h*llo", "h?llo", "hbllo", "h[llo"};
        expect_set(skv_cmd(c, "KEYS h?llo"), "h?llo", 7, w);
    }
    {
        const char *w[] = {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "hbllo", "h[llo"};
        expect_set(skv_cmd(c, "KEYS h*llo"), "h*llo", 9, w);
    }
    {
        const char *w[] = {"hallo", "hbllo"};
        expect_set(skv_cmd(c, "KEYS h[a-c]llo"), "h[a-c]llo", 2, w);
    }
    {
        const char *w[] = {"hello", "hallo"};
        expect_set(skv_cmd(c, "KEYS h[ae]llo"), "h[ae]llo", 2, w);
    }
    {
        const char *w[] = {"hello", "hxllo", "h*llo", "h?llo", "hbllo", "h[llo"};
        expect_set(skv_cmd(c, "KEYS h[^a]llo"), "h[^a]llo", 6, w);
    }
    {
        const char *w[] = {"a", "b", "c"};
        expect_set(skv_cmd(c, "KEYS [a-c]"), "[a-c]", 3, w);
    }
    {
        const char *w[] = {"b", "c", "d"};
        expect_set(skv_cmd(c, "KEYS [^a]"), "[^a]", 3, w);
    }
    {
        const char *w[] = {"a", "b", "c", "d"};
        expect_set(skv_cmd(c, "KEYS ?"), "?", 4, w);
    }
    /* backslash escapes: only the literal character matches */
    {
        const char *w[] = {"h*llo"};
        expect_set(skv_cmd(c, "KEYS %s", "h\\*llo"), "h\\*llo", 1, w);
    }
    {
        const char *w[] = {"h?llo"};
        expect_set(skv_cmd(c, "KEYS %s", "h\\?llo"), "h\\?llo", 1, w);
    }
    {
        const char *w[] = {"h[llo"};
        expect_set(skv_cmd(c, "KEYS %s", "h\\[llo"), "h\\[llo", 1, w);
    }
    {
        const char *w[] = {"ab"};
        expect_set(skv_cmd(c, "KEYS %s", "\\a\\b"), "\\a\\b", 1, w);
    }
    /* exact match without metacharacters */
    {
        const char *w[] = {"hllo"};
        expect_set(skv_cmd(c, "KEYS hllo"), "hllo", 1, w);
    }
    expect_error_eq(skv_cmd(c, "KEYS"), "ERR wrong number of arguments for 'keys' command");
}

Test(keys, keys_binary, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET %b v", "bin\0key", (size_t)7), "OK");
    expect_status(skv_cmd(c, "SET other v"), "OK");
    redisReply *r = skv_cmd(c, "KEYS bin*");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_expect_eq(r->element[0]->len, 7);
    cr_expect(memcmp(r->element[0]->str, "bin\0key", 7) == 0);
    freeReplyObject(r);
}

/* ---- SCAN --------------------------------------------------------------- */

/* One SCAN step: returns the next cursor (malloc'ed) and appends keys via cb. */
static char *scan_step(const char *cursor, const char *opts, void (*cb)(const char *, size_t, void *), void *arg) {
    char buf[256];
    const char *argv[16];
    int argc = 0;
    argv[argc++] = "SCAN";
    argv[argc++] = cursor;
    snprintf(buf, sizeof buf, "%s", opts ? opts : "");
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    redisReply *r = skv_cmdargv(c, argc, argv, NULL);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "SCAN reply type %d (%s)", r->type, r->str ? r->str : "");
    cr_assert_eq(r->elements, 2);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_STRING, "cursor must be a bulk string");
    cr_assert_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < r->element[1]->elements; i++) {
        redisReply *k = r->element[1]->element[i];
        cr_assert_eq(k->type, REDIS_REPLY_STRING);
        cb(k->str, k->len, arg);
    }
    char *next = strdup(r->element[0]->str);
    freeReplyObject(r);
    return next;
}

#define NSCAN 1000
typedef struct {
    int seen[NSCAN];
    int foreign;
    int total;
} scan_acc;

static void count_key(const char *k, size_t n, void *arg) {
    scan_acc *a = arg;
    a->total++;
    int idx;
    char tail;
    if (n == 8 && sscanf(k, "key:%4d%c", &idx, &tail) == 1 && idx >= 0 && idx < NSCAN) a->seen[idx]++;
    else a->foreign++;
}

/* Walks the whole key space with opts; returns the number of calls. */
static int scan_all(const char *opts, scan_acc *a) {
    char *cur = strdup("0");
    int calls = 0;
    do {
        char *next = scan_step(cur, opts, count_key, a);
        free(cur);
        cur = next;
        calls++;
        cr_assert(calls < 100000, "SCAN does not terminate");
    } while (strcmp(cur, "0") != 0);
    free(cur);
    return calls;
}

static void fill_scan_keys(void) {
    /* MSET in batches of 100 */
    for (int b = 0; b < NSCAN; b += 100) {
        const char *argv[201];
        size_t lens[201];
        char names[100][16];
        argv[0] = "MSET";
        lens[0] = 4;
        for (int i = 0; i < 100; i++) {
            snprintf(names[i], sizeof names[i], "key:%04d", b + i);
            argv[1 + 2 * i] = names[i];
            lens[1 + 2 * i] = strlen(names[i]);
            argv[2 + 2 * i] = "v";
            lens[2 + 2 * i] = 1;
        }
        expect_status(skv_cmdargv(c, 201, argv, lens), "OK");
    }
    expect_int(skv_cmd(c, "DBSIZE"), NSCAN);
}

Test(keys, scan_walks_every_key_once, .init = up, .fini = down) {
    fill_scan_keys();
    scan_acc *a = calloc(1, sizeof *a);
    int calls = scan_all("COUNT 7", a);
    cr_expect_eq(a->foreign, 0);
    cr_expect_eq(a->total, NSCAN, "SCAN returned %d keys for %d", a->total, NSCAN);
    for (int i = 0; i < NSCAN; i++) cr_expect_eq(a->seen[i], 1, "key:%04d seen %d times", i, a->seen[i]);
    cr_expect_gt(calls, 1, "COUNT 7 over %d keys took a single call", NSCAN);
    free(a);

    /* without COUNT too */
    a = calloc(1, sizeof *a);
    scan_all(NULL, a);
    cr_expect_eq(a->total, NSCAN);
    for (int i = 0; i < NSCAN; i++) cr_expect_eq(a->seen[i], 1, "key:%04d seen %d times", i, a->seen[i]);
    free(a);
}

/* Redis's guarantee: a key present from the start to the end of a full
 * iteration is returned, whatever else is deleted or added meanwhile. */
Test(keys, scan_guarantee_under_writes, .init = up, .fini = down) {
    fill_scan_keys();
    scan_acc *a = calloc(1, sizeof *a);
    char *cur = strdup("0");
    for (int step = 0; step < 20 && (step == 0 || strcmp(cur, "0") != 0); step++) {
        char *next = scan_step(cur, "COUNT 7", count_key, a);
        free(cur);
        cur = next;
    }
    cr_assert_str_neq(cur, "0", "20 calls of COUNT 7 walked all %d keys", NSCAN);
    int deleted[NSCAN] = {0};
    /* delete what was returned so far, and the last 10 keys */
    for (int i = 0; i < NSCAN; i++) {
        if (a->seen[i] || i >= NSCAN - 10) {
            expect_int(skv_cmd(c, "DEL key:%04d", i), 1);
            deleted[i] = 1;
        }
    }
    for (int i = 0; i < 50; i++) expect_status(skv_cmd(c, "SET new:%d v", i), "OK");
    while (strcmp(cur, "0") != 0) {
        char *next = scan_step(cur, "COUNT 7", count_key, a);
        free(cur);
        cur = next;
    }
    free(cur);
    for (int i = 0; i < NSCAN; i++)
        if (!deleted[i]) cr_expect_geq(a->seen[i], 1, "key:%04d, present throughout, was not returned", i);
    cr_expect_leq(a->foreign, 50);
    free(a);
}

Test(keys, scan_match_and_type, .init = up, .fini = down) {
    fill_scan_keys();
    expect_status(skv_cmd(c, "SET other x"), "OK");

    scan_acc *a = calloc(1, sizeof *a);
    scan_all("MATCH key:01* COUNT 7", a);
    cr_expect_eq(a->foreign, 0);
    cr_expect_eq(a->total, 100);
    for (int i = 0; i < NSCAN; i++)
        cr_expect_eq(a->seen[i], (i >= 100 && i < 200) ? 1 : 0, "key:%04d seen %d times", i, a->seen[i]);
    free(a);

    a = calloc(1, sizeof *a);
    scan_all("MATCH key:00?[0-4] COUNT 50", a);
    cr_expect_eq(a->total, 50);
    for (int i = 0; i < 100; i++) cr_expect_eq(a->seen[i], (i % 10) < 5 ? 1 : 0, "key:%04d", i);
    free(a);

    a = calloc(1, sizeof *a);
    scan_all("TYPE string COUNT 100", a);
    cr_expect_eq(a->total, NSCAN + 1);
    cr_expect_eq(a->foreign, 1);
    free(a);

    /* no hashes: nothing comes back, but the walk still ends */
    a = calloc(1, sizeof *a);
    scan_all("TYPE hash COUNT 100", a);
    cr_expect_eq(a->total, 0);
    free(a);

    /* options in another order and lower case */
    a = calloc(1, sizeof *a);
    scan_all("count 13 type string match key:099*", a);
    cr_expect_eq(a->total, 10);
    free(a);
}

Test(keys, scan_errors, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET a 1"), "OK");
    expect_error_eq(skv_cmd(c, "SCAN abc"), "ERR invalid cursor");
    expect_error_eq(skv_cmd(c, "SCAN 1.5"), "ERR invalid cursor");
    expect_error_eq(skv_cmd(c, "SCAN 18446744073709551616"), "ERR invalid cursor");
    expect_error_eq(skv_cmd(c, "SCAN 0 COUNT 0"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "SCAN 0 COUNT -1"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "SCAN 0 COUNT abc"), "ERR value is not an integer or out of range");
    expect_error_eq(skv_cmd(c, "SCAN 0 MATCH"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "SCAN 0 TYPE"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "SCAN 0 FOO bar"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "SCAN"), "ERR wrong number of arguments for 'scan' command");
    /* an empty database: cursor 0 and no keys */
    expect_int(skv_cmd(c, "DEL a"), 1);
    redisReply *r = skv_cmd(c, "SCAN 0");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, "0");
    cr_expect_eq(r->element[1]->elements, 0);
    freeReplyObject(r);
}

/* ---- DBSIZE / FLUSHDB / FLUSHALL ---------------------------------------- */

Test(keys, dbsize_exact, .init = up, .fini = down) {
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_status(skv_cmd(c, "SET a 1"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_status(skv_cmd(c, "SET a 2"), "OK"); /* overwrite */
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_status(skv_cmd(c, "MSET a 3 b 1 c 1 b 2"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 3);
    expect_int(skv_cmd(c, "SETNX a x"), 0);
    expect_int(skv_cmd(c, "SETNX d x"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    expect_nil(skv_cmd(c, "SET e 1 XX"));
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    expect_int(skv_cmd(c, "INCR e"), 1);
    expect_int(skv_cmd(c, "APPEND f x"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 6);
    expect_int(skv_cmd(c, "DEL a nope a"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 5);
    expect_int(skv_cmd(c, "UNLINK b"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    expect_int(skv_cmd(c, "DEL b"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    /* a failed write changes nothing */
    expect_error(skv_cmd(c, "SET g v NX XX"), "ERR");
    expect_int(skv_cmd(c, "DBSIZE"), 4);
    expect_status(skv_cmd(c, "FLUSHDB"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_status(skv_cmd(c, "SET a 1"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_error_eq(skv_cmd(c, "DBSIZE x"), "ERR wrong number of arguments for 'dbsize' command");
}

Test(keys, dbsize_survives_restart, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "MSET a 1 b 2 c 3"), "OK");
    expect_int(skv_cmd(c, "DEL b"), 1);
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(skv_cmd(c, "DBSIZE"), 2);
    expect_bulk(skv_cmd(c, "GET c"), "3");
}

Test(keys, flushdb_flushall, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "MSET a 1 b 2"), "OK");
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_status(skv_cmd(c, "MSET x 1 y 2 z 3"), "OK");
    expect_status(skv_cmd(c, "FLUSHDB"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_nil(skv_cmd(c, "GET x"));
    /* db 0 untouched */
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 2);
    expect_bulk(skv_cmd(c, "GET a"), "1");
    /* FLUSHDB SYNC/ASYNC accepted */
    expect_status(skv_cmd(c, "SELECT 2"), "OK");
    expect_status(skv_cmd(c, "SET q 1"), "OK");
    expect_status(skv_cmd(c, "FLUSHDB ASYNC"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_status(skv_cmd(c, "SET q 1"), "OK");
    expect_status(skv_cmd(c, "FLUSHDB SYNC"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    expect_error_eq(skv_cmd(c, "FLUSHDB FOO"), "ERR syntax error");
    /* FLUSHALL empties every database */
    expect_status(skv_cmd(c, "SET q 1"), "OK");
    expect_status(skv_cmd(c, "SELECT 15"), "OK");
    expect_status(skv_cmd(c, "SET w 1"), "OK");
    expect_status(skv_cmd(c, "FLUSHALL"), "OK");
    for (int db = 0; db < 16; db++) {
        expect_status(skv_cmd(c, "SELECT %d", db), "OK");
        expect_int(skv_cmd(c, "DBSIZE"), 0);
    }
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_nil(skv_cmd(c, "GET a"));
    expect_int(skv_cmd(c, "EXISTS a b"), 0);
    /* writable after a flush */
    expect_status(skv_cmd(c, "SET a new"), "OK");
    expect_bulk(skv_cmd(c, "GET a"), "new");
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    expect_error_eq(skv_cmd(c, "FLUSHALL FOO"), "ERR syntax error");
}

/* ---- SELECT ------------------------------------------------------------- */

Test(keys, select_isolation, .init = up, .fini = down) {
    for (int db = 0; db < 16; db++) {
        expect_status(skv_cmd(c, "SELECT %d", db), "OK");
        expect_status(skv_cmd(c, "SET k %d", db), "OK");
        for (int i = 0; i < db; i++) expect_status(skv_cmd(c, "SET extra:%d v", i), "OK");
    }
    for (int db = 15; db >= 0; db--) {
        char v[8];
        snprintf(v, sizeof v, "%d", db);
        expect_status(skv_cmd(c, "SELECT %d", db), "OK");
        expect_bulk(skv_cmd(c, "GET k"), v);
        expect_int(skv_cmd(c, "DBSIZE"), db + 1);
        redisReply *r = skv_cmd(c, "KEYS *");
        cr_expect_eq(r->elements, (size_t)db + 1, "db %d: KEYS gave %zu", db, r->elements);
        freeReplyObject(r);
    }
    /* keys in db 1 are invisible in db 0 */
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_status(skv_cmd(c, "SET only1 v"), "OK");
    expect_int(skv_cmd(c, "EXISTS only1"), 1);
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_int(skv_cmd(c, "EXISTS only1"), 0);
    expect_nil(skv_cmd(c, "GET only1"));
    expect_int(skv_cmd(c, "DEL only1"), 0);
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_bulk(skv_cmd(c, "GET only1"), "v");
    /* SCAN sees only the selected database */
    redisReply *r = skv_cmd(c, "SCAN 0 COUNT 1000");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_str_eq(r->element[0]->str, "0");
    cr_expect_eq(r->element[1]->elements, 3); /* k, extra:0, only1 */
    freeReplyObject(r);
    /* the selection belongs to the connection */
    redisContext *c2 = skv_connect(&srv);
    expect_int(skv_cmd(c2, "EXISTS only1"), 0);
    expect_int(skv_cmd(c2, "DBSIZE"), 1);
    redisFree(c2);
}

Test(keys, select_out_of_range, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "SELECT 16"), "ERR DB index is out of range");
    expect_error_eq(skv_cmd(c, "SELECT -1"), "ERR DB index is out of range");
    expect_error_eq(skv_cmd(c, "SELECT 1000000"), "ERR DB index is out of range");
    expect_error_eq(skv_cmd(c, "SELECT abc"), "ERR value is not an integer or out of range");
    expect_error_eq(skv_cmd(c, "SELECT"), "ERR wrong number of arguments for 'select' command");
    /* still on db 0 after the failures */
    expect_status(skv_cmd(c, "SET k v"), "OK");
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v");
    expect_status(skv_cmd(c, "SELECT 15"), "OK");
    expect_nil(skv_cmd(c, "GET k"));
}

/* ---- RENAME RENAMENX COPY MOVE SWAPDB RANDOMKEY TOUCH OBJECT (from the former test_compat.c) ---- */

Test(keys, rename_renamenx, .init = up, .fini = down) {
    expect_ok(CMD("SET a 1 EX 100"));
    expect_ok(CMD("RENAME a b"));
    expect_int(CMD("EXISTS a"), 0);
    expect_bulk(CMD("GET b"), "1");
    long long t = take_int(CMD("TTL b"));
    cr_expect(t >= 99 && t <= 100, "TTL kept by RENAME: %lld", t);
    expect_error_eq(CMD("RENAME nope x"), "ERR no such key");
    expect_ok(CMD("SET c 3"));
    expect_int(CMD("RENAMENX b c"), 0);
    expect_bulk(CMD("GET b"), "1");
    expect_bulk(CMD("GET c"), "3");
    expect_int(CMD("RENAMENX b d"), 1);
    expect_bulk(CMD("GET d"), "1");
    expect_int(CMD("EXISTS b"), 0);
}

Test(keys, copy, .init = up, .fini = down) {
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("SET b 2"));
    expect_int(CMD("COPY a b"), 0);
    expect_bulk(CMD("GET b"), "2");
    expect_int(CMD("COPY a b REPLACE"), 1);
    expect_bulk(CMD("GET b"), "1");
    expect_int(CMD("COPY a c"), 1);
    expect_bulk(CMD("GET c"), "1");
    expect_int(CMD("COPY nope x"), 0);
    expect_int(CMD("COPY a a2 DB 2"), 1);
    expect_int(CMD("EXISTS a2"), 0);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a2"), "1");
}

Test(keys, move, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("MOVE k 3"), 1);
    expect_int(CMD("EXISTS k"), 0);
    expect_int(CMD("MOVE k 3"), 0);
    expect_ok(CMD("SELECT 3"));
    expect_bulk(CMD("GET k"), "v");
    expect_ok(CMD("SELECT 0"));
    expect_ok(CMD("SET k other"));
    expect_int(CMD("MOVE k 3"), 0);
    expect_bulk(CMD("GET k"), "other");
    expect_error_eq(CMD("MOVE k 99"), "ERR DB index is out of range");
    expect_error_eq(CMD("MOVE k x"), "ERR value is not an integer or out of range");
}

Test(keys, swapdb, .init = up, .fini = down) {
    expect_ok(CMD("SELECT 1"));
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("SWAPDB 1 2"));
    expect_nil(CMD("GET a"));
    expect_int(CMD("DBSIZE"), 0);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a"), "1");
    expect_int(CMD("DBSIZE"), 1);
    expect_error_eq(CMD("SWAPDB x 1"), "ERR invalid first DB index");

    cr_expect_eq(skv_stop(&srv), 0, "clean stop");
    redisFree(c);
    c = NULL;
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a"), "1");
    expect_ok(CMD("SELECT 1"));
    expect_nil(CMD("GET a"));
}

Test(keys, randomkey_touch_object, .init = up, .fini = down) {
    expect_nil(CMD("RANDOMKEY"));
    expect_ok(CMD("MSET a 1 b 2"));
    char *k = take_bulk(CMD("RANDOMKEY"));
    cr_expect(k && (!strcmp(k, "a") || !strcmp(k, "b")), "RANDOMKEY: %s", k ? k : "(null)");
    free(k);
    expect_int(CMD("TOUCH a b nope"), 2);

    expect_ok(CMD("SET i 123"));
    expect_bulk(CMD("OBJECT ENCODING i"), "int");
    expect_ok(CMD("SET s hello"));
    expect_bulk(CMD("OBJECT ENCODING s"), "embstr");
    char big[101];
    memset(big, 'x', 100);
    big[100] = 0;
    expect_ok(CMD("SET r %s", big));
    expect_bulk(CMD("OBJECT ENCODING r"), "raw");
    expect_nil(CMD("OBJECT ENCODING nope"));
}
