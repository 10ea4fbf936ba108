/* End-to-end: SORT and SORT_RO (redis/cmd_sort.c) against a real server:
 * numeric and ALPHA order, DESC, LIMIT clamping, BY and GET patterns
 * (strings, hash fields, '#', missing keys), BY without '*' (no sort),
 * STORE (a list, the empty result deleting the destination, the
 * keyspace events, a blocked client woken), the errors, COMMAND GETKEYS,
 * ACL and the domain write guard on the STORE destination. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

SKV_FIXTURE();
TestSuite(sort, .init = up, .fini = down);

/* An array of exactly these bulks, NULL for a nil. */
#define expect_row(r, n, ...) expect_row_at(SKV_AT, (r), (n), (const char *const[]){__VA_ARGS__})
static void expect_row_at(const char *file, int line, redisReply *r, size_t n, const char *const *want) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: type %d (%s)", file, line, r->type, rstr(r));
    cr_expect_eq(r->elements, n, "%s:%d: %zu elements, want %zu", file, line, r->elements, n);
    for (size_t i = 0; i < n && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (!want[i]) {
            cr_expect_eq(e->type, REDIS_REPLY_NIL, "%s:%d: element %zu: want nil, got '%s'", file, line, i, rstr(e));
            continue;
        }
        cr_expect(e->type == REDIS_REPLY_STRING && strcmp(e->str, want[i]) == 0,
                  "%s:%d: element %zu is '%s', want '%s'", file, line, i, rstr(e), want[i]);
    }
    freeReplyObject(r);
}

Test(sort, numeric_alpha_desc_limit) {
    expect_int(CMD("RPUSH l 3 1 2 10 -1.5"), 5);
    expect_strs(CMD("SORT l"), 5, "-1.5", "1", "2", "3", "10");
    expect_strs(CMD("SORT_RO l DESC"), 5, "10", "3", "2", "1", "-1.5");
    expect_strs(CMD("SORT l ALPHA"), 5, "-1.5", "1", "10", "2", "3");
    expect_strs(CMD("SORT l ALPHA DESC"), 5, "3", "2", "10", "1", "-1.5");
    expect_strs(CMD("SORT l LIMIT 1 2"), 2, "1", "2");
    expect_strs(CMD("SORT l LIMIT -5 2"), 2, "-1.5", "1");   /* a negative offset is 0 */
    expect_strs(CMD("SORT l LIMIT 3 -1"), 2, "3", "10");     /* a negative count: to the end */
    expect_len(CMD("SORT l LIMIT 5 1"), 0);
    expect_len(CMD("SORT l LIMIT 9223372036854775807 9223372036854775807"), 0);
    expect_strs(CMD("SORT l LIMIT 4 9223372036854775807"), 1, "10");
    expect_len(CMD("SORT nokey"), 0);
    /* ties in value are ordered by the element's bytes */
    expect_int(CMD("RPUSH t 1.0 1 01"), 3);
    expect_strs(CMD("SORT t"), 3, "01", "1", "1.0");
    expect_strs(CMD("SORT t DESC"), 3, "1.0", "1", "01");
    /* sets and sorted sets sort their members */
    expect_int(CMD("SADD s 5 40 300"), 3);
    expect_strs(CMD("SORT s"), 3, "5", "40", "300");
    expect_int(CMD("ZADD z 1 30 2 20 3 10"), 3);
    expect_strs(CMD("SORT z"), 3, "10", "20", "30");
    expect_int(CMD("SADD words b a c"), 3);
    expect_strs(CMD("SORT words ALPHA DESC"), 3, "c", "b", "a");
    expect_error_eq(CMD("SORT words"), "ERR One or more scores can't be converted into double");
}

Test(sort, by_and_get_patterns) {
    expect_int(CMD("RPUSH l 1 2 3 10"), 4);
    expect_ok(CMD("MSET w_1 30 w_2 20 w_3 10 o_1 one o_2 two"));
    /* w_10 is missing: weight 0, first */
    expect_strs(CMD("SORT l BY w_*"), 4, "10", "3", "2", "1");
    expect_row(CMD("SORT l BY w_* GET o_* GET #"), 8, NULL, "10", NULL, "3", "two", "2", "one", "1");
    expect_row(CMD("SORT l BY w_* DESC LIMIT 0 1 GET # GET w_*"), 2, "1", "30");
    /* ALPHA BY: values compared as bytes, missing ones first */
    expect_ok(CMD("MSET a_1 b a_2 a a_3 c"));
    expect_strs(CMD("SORT l BY a_* ALPHA"), 4, "10", "2", "1", "3");
    /* ALPHA BY ties (here: no value) keep the list's order, also DESC */
    expect_strs(CMD("SORT l BY nokey_* ALPHA"), 4, "1", "2", "3", "10");
    expect_strs(CMD("SORT l BY nokey_* ALPHA DESC"), 4, "1", "2", "3", "10");
    /* hash fields */
    expect_int(CMD("HSET h_1 f 9 g x"), 2);
    expect_int(CMD("HSET h_2 f 1"), 1);
    expect_ok(CMD("SET h_3 notahash"));
    expect_row(CMD("SORT l BY h_*->f GET h_*->f GET h_*->g"), 8, NULL, NULL, NULL, NULL, "1", NULL, "9", "x");
    /* a GET pattern without '*' names nothing; a BY value that is no number fails */
    expect_row(CMD("SORT l LIMIT 0 1 GET constant"), 1, NULL);
    expect_error_eq(CMD("SORT l BY o_*"), "ERR One or more scores can't be converted into double");
    /* a key of another type gives no value */
    expect_int(CMD("RPUSH w_3list x"), 1);
    expect_row(CMD("SORT l LIMIT 2 1 GET w_*list"), 1, NULL);
}

Test(sort, by_without_star_keeps_the_order) {
    expect_int(CMD("RPUSH l 3 1 2"), 3);
    expect_strs(CMD("SORT l BY nosort"), 3, "3", "1", "2");
    expect_strs(CMD("SORT l BY nosort DESC"), 3, "2", "1", "3");
    expect_strs(CMD("SORT l BY nosort LIMIT 1 5"), 2, "1", "2");
    expect_strs(CMD("SORT l BY nosort DESC LIMIT 1 1"), 1, "1");
    expect_int(CMD("ZADD z 1 a 5 b 2 c 10 d 3 e"), 5);
    expect_strs(CMD("SORT z BY nosort"), 5, "a", "c", "e", "b", "d");
    expect_strs(CMD("SORT z BY nosort DESC"), 5, "d", "b", "e", "c", "a");
    expect_strs(CMD("SORT z BY nosort DESC LIMIT 1 2"), 2, "b", "e");
    expect_strs(CMD("SORT z BY nosort LIMIT 1 2 GET #"), 2, "c", "e");
    /* a set stored with BY nosort is sorted as ALPHA, to be deterministic */
    expect_int(CMD("SADD s b c a"), 3);
    expect_int(CMD("SORT s BY nosort DESC STORE d"), 3);
    expect_strs(CMD("LRANGE d 0 -1"), 3, "c", "b", "a");
}

Test(sort, store) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = skv_connect(&srv);
    cr_assert_eq(redisSetTimeout(s, (struct timeval){.tv_sec = 5}), REDIS_OK);
    freeReplyObject(redisCommand(s, "PSUBSCRIBE __keyspace@0__:*"));
    expect_int(CMD("RPUSH l 3 1 2"), 3);
    expect_ok(CMD("SET dst old EX 100"));
    expect_int(CMD("SORT l STORE dst"), 3);
    expect_strs(CMD("LRANGE dst 0 -1"), 3, "1", "2", "3");
    expect_int(CMD("TTL dst"), -1); /* replaced, TTL and all */
    expect_status(CMD("TYPE dst"), "list");
    expect_ok(CMD("SET o_1 one"));
    expect_int(CMD("SORT l GET o_* GET # STORE dst"), 6);
    expect_strs(CMD("LRANGE dst 0 -1"), 6, "one", "1", "", "2", "", "3"); /* missing: "" */
    expect_int(CMD("RPUSH dst more"), 7); /* a well-formed list */
    expect_int(CMD("SORT l STORE l"), 3); /* onto its own source */
    expect_strs(CMD("LRANGE l 0 -1"), 3, "1", "2", "3");
    expect_int(CMD("SORT nokey STORE dst"), 0); /* empty: the destination goes */
    expect_int(CMD("EXISTS dst"), 0);
    expect_int(CMD("SORT nokey STORE dst"), 0);
    const char *const want[] = {"l rpush", "dst set", "dst expire", "dst sortstore", "o_1 set", "dst sortstore",
                                "dst rpush", "l sortstore", "dst del"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        void *v = NULL;
        cr_assert(redisGetReply(s, &v) == REDIS_OK && v, "event %zu missing", i);
        redisReply *r = v;
        char got[256];
        snprintf(got, sizeof got, "%s %s", r->element[2]->str + strlen("__keyspace@0__:"), r->element[3]->str);
        cr_expect_str_eq(got, want[i], "event %zu", i);
        freeReplyObject(r);
    }
    redisFree(s);
    /* SORT ... STORE wakes a client blocked on the destination */
    redisContext *b = skv_connect(&srv);
    cr_assert_eq(redisAppendCommand(b, "BLPOP woken 0"), REDIS_OK);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(b, &done), REDIS_OK);
    long long t0 = mono_ms();
    while (info_field(c, "clients", "blocked_clients") != 1) {
        cr_assert_lt(mono_ms() - t0, SKV_WAIT_MS, "never blocked");
        msleep(10);
    }
    expect_int(CMD("SORT l STORE woken"), 3);
    void *v = NULL;
    cr_assert_eq(redisGetReply(b, &v), REDIS_OK);
    expect_strs((redisReply *)v, 2, "woken", "1");
    expect_strs(CMD("LRANGE woken 0 -1"), 2, "2", "3");
    redisFree(b);
}

Test(sort, errors_and_keys) {
    expect_ok(CMD("SET str x"));
    expect_int(CMD("RPUSH l 1"), 1);
    expect_error(CMD("SORT str"), "WRONGTYPE");
    expect_error(CMD("SORT str STORE d"), "WRONGTYPE");
    expect_int(CMD("EXISTS d"), 0);
    expect_error_eq(CMD("SORT_RO l STORE d"), "ERR syntax error");
    expect_error_eq(CMD("SORT l FOO"), "ERR syntax error");
    expect_error_eq(CMD("SORT l LIMIT 1"), "ERR syntax error");
    expect_error_eq(CMD("SORT l BY"), "ERR syntax error");
    expect_error_eq(CMD("SORT l LIMIT x 1"), "ERR value is not an integer or out of range");
    expect_error(CMD("SORT"), "ERR wrong number of arguments");
    expect_strs(CMD("COMMAND GETKEYS SORT abc STORE invalid STORE def"), 2, "abc", "def");
    expect_strs(CMD("COMMAND GETKEYS SORT abc BY store GET store LIMIT 1 2"), 1, "abc");
    expect_strs(CMD("COMMAND GETKEYS SORT_RO abc"), 1, "abc");
    /* inside MULTI: queued, and its STORE touches a WATCHed key even when empty */
    redisContext *w = skv_connect(&srv);
    expect_ok(skv_cmd(w, "WATCH l"));
    expect_int(CMD("SORT nokey STORE l"), 0);
    expect_ok(skv_cmd(w, "MULTI"));
    expect_status(skv_cmd(w, "PING"), "QUEUED");
    redisReply *r = skv_cmd(w, "EXEC");
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "EXEC ran despite the touched key");
    freeReplyObject(r);
    redisFree(w);
}

Test(sort, acl_and_write_guard) {
    expect_int(CMD("RPUSH a1 2 1"), 2);
    expect_ok(CMD("ACL SETUSER u on >pw ~a* +@all"));
    redisContext *u = skv_connect(&srv);
    expect_ok(skv_cmd(u, "AUTH u pw"));
    expect_strs(skv_cmd(u, "SORT a1"), 2, "1", "2");
    expect_int(skv_cmd(u, "SORT a1 STORE a2"), 2);
    expect_error(skv_cmd(u, "SORT a1 STORE b2"), "NOPERM");
    expect_int(CMD("EXISTS b2"), 0);
    expect_error_eq(skv_cmd(u, "SORT a1 BY a_*"), "ERR BY option of SORT denied due to insufficient ACL permissions.");
    expect_error_eq(skv_cmd(u, "SORT a1 GET #"), "ERR GET option of SORT denied due to insufficient ACL permissions.");
    expect_strs(skv_cmd(u, "SORT a1 BY nosort"), 2, "2", "1"); /* no pattern: allowed */
    redisFree(u);
    /* the domain engine's keys are not a STORE destination */
    expect_error_eq(CMD("SORT a1 STORE users:1:base"),
                    "ERR key 'users:1:base' is owned by the domain engine; use its commands");
    expect_int(CMD("EXISTS users:1:base"), 0);
}
