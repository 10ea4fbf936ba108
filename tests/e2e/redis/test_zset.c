/* End-to-end: sorted sets (ZADD ... ZSCAN), ranges by rank, score and lex,
 * set operations, pops (and BZPOPMIN waking up), errors, expiry, DEL of a
 * big sorted set, kill -9 durability, and a model test against an
 * in-memory score table, compared after every step. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();
TestSuite(zset, .init = up, .fini = down);

#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

Test(zset, add_score_rank) {
    expect_int(CMD("ZADD z 1 a 2 b 3 c"), 3);
    expect_int(CMD("ZADD z 10 a 4 d"), 1);
    expect_int(CMD("ZADD z CH 11 a 4 d 5 e"), 2);
    expect_int(CMD("ZCARD z"), 5);
    expect_bulk(CMD("ZSCORE z a"), "11");
    expect_nil(CMD("ZSCORE z zz"));
    expect_int(CMD("ZRANK z b"), 0);
    expect_int(CMD("ZREVRANK z b"), 4);
    expect_nil(CMD("ZRANK z zz"));
    expect_int(CMD("ZADD z NX 100 a 6 f"), 1);
    expect_int(CMD("ZADD z XX 100 g"), 0);
    expect_int(CMD("ZADD z GT CH 1 a"), 0);
    expect_int(CMD("ZADD z LT CH 1 a"), 1);
    expect_bulk(CMD("ZADD z INCR 2.5 a"), "3.5");
    expect_nil(CMD("ZADD z NX INCR 1 a"));
    expect_bulk(CMD("ZINCRBY z -0.5 a"), "3");
    expect_strs(CMD("ZRANGE z 0 -1"), 6, "b", "a", "c", "d", "e", "f");
    expect_strs(CMD("ZRANGE z 0 1 WITHSCORES"), 4, "b", "2", "a", "3");
    expect_strs(CMD("ZREVRANGE z 0 1"), 2, "f", "e");
    expect_int(CMD("ZREM z a nope"), 1);
    redisReply *r = ARRAY("ZMSCORE z b nope");
    cr_expect_str_eq(rstr(r->element[0]), "2");
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_status(CMD("TYPE z"), "zset");
}

Test(zset, ranges) {
    expect_int(CMD("ZADD z -inf m 1 a 2 b 2 c 3 d +inf n"), 6);
    expect_strs(CMD("ZRANGEBYSCORE z 2 3"), 3, "b", "c", "d");
    expect_strs(CMD("ZRANGEBYSCORE z (1 (3"), 2, "b", "c");
    expect_strs(CMD("ZRANGEBYSCORE z -inf +inf LIMIT 1 2"), 2, "a", "b");
    expect_strs(CMD("ZREVRANGEBYSCORE z 2 -inf"), 4, "c", "b", "a", "m");
    expect_strs(CMD("ZREVRANGEBYSCORE z +inf (2"), 2, "n", "d");
    expect_strs(CMD("ZRANGE z (1 2 BYSCORE"), 2, "b", "c");
    expect_strs(CMD("ZRANGE z 3 (1 BYSCORE REV"), 3, "d", "c", "b");
    expect_strs(CMD("ZRANGEBYSCORE z 1 2 WITHSCORES"), 6, "a", "1", "b", "2", "c", "2");
    expect_int(CMD("ZCOUNT z 2 +inf"), 4);
    expect_int(CMD("ZCOUNT z (2 (3"), 0);
    expect_error_eq(CMD("ZRANGEBYSCORE z x 1"), "ERR min or max is not a float");
    expect_int(CMD("ZADD l 0 a 0 b 0 c 0 d"), 4);
    expect_strs(CMD("ZRANGEBYLEX l [b (d"), 2, "b", "c");
    expect_strs(CMD("ZRANGEBYLEX l - +"), 4, "a", "b", "c", "d");
    expect_strs(CMD("ZREVRANGEBYLEX l (d -"), 3, "c", "b", "a");
    expect_strs(CMD("ZRANGE l [c + BYLEX"), 2, "c", "d");
    expect_int(CMD("ZLEXCOUNT l (a [c"), 2);
    expect_error_eq(CMD("ZRANGEBYLEX l a c"), "ERR min or max not valid string range item");
    expect_error(CMD("ZRANGE l 0 1 LIMIT 0 1"), "ERR syntax error, LIMIT");
    expect_int(CMD("ZRANGESTORE dst z 1 2 BYSCORE"), 3);
    expect_strs(CMD("ZRANGE dst 0 -1"), 3, "a", "b", "c");
    expect_int(CMD("ZREMRANGEBYSCORE z 2 2"), 2);
    expect_int(CMD("ZREMRANGEBYRANK z 0 0"), 1);
    expect_int(CMD("ZREMRANGEBYLEX l [a [b"), 2);
    expect_strs(CMD("ZRANGE z 0 -1"), 3, "a", "d", "n");
}

Test(zset, setops_and_pops) {
    expect_int(CMD("ZADD a 1 x 2 y"), 2);
    expect_int(CMD("ZADD b 10 y 20 z"), 2);
    expect_int(CMD("SADD s x"), 1);
    expect_int(CMD("ZUNIONSTORE u 2 a b"), 3);
    expect_strs(CMD("ZRANGE u 0 -1 WITHSCORES"), 6, "x", "1", "y", "12", "z", "20");
    expect_int(CMD("ZINTERSTORE i 2 a b WEIGHTS 2 1 AGGREGATE MAX"), 1);
    expect_strs(CMD("ZRANGE i 0 -1 WITHSCORES"), 2, "y", "10");
    expect_strs(CMD("ZUNION 2 a s WITHSCORES"), 4, "x", "2", "y", "2");
    expect_strs(CMD("ZDIFF 2 a b"), 1, "x");
    expect_int(CMD("ZDIFFSTORE d 2 b a"), 1);
    expect_int(CMD("ZINTERCARD 2 a b"), 1);
    expect_strs(CMD("ZINTER 2 a b"), 1, "y");
    expect_error_eq(CMD("ZUNIONSTORE u 0 a"), "ERR at least 1 input key is needed for 'zunionstore' command");
    expect_error_eq(CMD("ZUNIONSTORE u 1 a WEIGHTS x"), "ERR weight value is not a float");
    expect_strs(CMD("ZPOPMIN u"), 2, "x", "1");
    expect_strs(CMD("ZPOPMAX u 5"), 4, "z", "20", "y", "12");
    expect_int(CMD("EXISTS u"), 0);
    redisReply *r = ARRAY("ZMPOP 2 nokey b MAX COUNT 1");
    cr_expect_str_eq(r->element[0]->str, "b");
    cr_expect_str_eq(r->element[1]->element[0]->element[0]->str, "z");
    freeReplyObject(r);
    r = ARRAY("BZPOPMIN nokey b 0");
    cr_expect_str_eq(r->element[1]->str, "y");
    freeReplyObject(r);
    r = CMD("BZPOPMIN nokey 0.05");
    cr_expect_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
}

Test(zset, bzpopmin_wakes_up) {
    redisContext *a = skv_connect(&srv);
    redisAppendCommand(a, "BZPOPMAX q 0");
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(a, &done), REDIS_OK);
    long long t0 = mono_ms();
    while (info_field(c, "clients", "blocked_clients") != 1) {
        cr_assert_lt(mono_ms() - t0, SKV_WAIT_MS);
        msleep(10);
    }
    expect_int(CMD("ZADD q 1 low 5 high"), 2);
    void *rv = NULL;
    cr_assert_eq(redisGetReply(a, &rv), REDIS_OK);
    redisReply *r = rv;
    cr_assert_eq(r->elements, 3);
    cr_expect_str_eq(r->element[0]->str, "q");
    cr_expect_str_eq(r->element[1]->str, "high");
    cr_expect_str_eq(r->element[2]->str, "5");
    freeReplyObject(r);
    redisFree(a);
    expect_strs(CMD("ZRANGE q 0 -1"), 1, "low");
}

Test(zset, errors_expiry_bigdel_kill9) {
    expect_ok(CMD("SET s v"));
    expect_error_eq(CMD("ZADD s 1 a"), WRONGTYPE);
    expect_error_eq(CMD("ZRANGE s 0 -1"), WRONGTYPE);
    expect_error_eq(CMD("ZUNIONSTORE d 1 s"), WRONGTYPE);
    expect_error_eq(CMD("ZADD z x a"), "ERR value is not a valid float");
    expect_error_eq(CMD("ZADD z NX XX 1 a"), "ERR XX and NX options at the same time are not compatible");
    expect_error_eq(CMD("ZADD z GT LT 1 a"), "ERR GT, LT, and/or NX options at the same time are not compatible");
    expect_error_eq(CMD("ZADD z INCR 1 a 2 b"), "ERR INCR option supports a single increment-element pair");
    expect_error(CMD("ZADD z 1 a 2"), "ERR syntax error");
    expect_int(CMD("ZADD z 1 a"), 1);
    expect_error_eq(CMD("ZINCRBY z nan a"), "ERR value is not a valid float");
    expect_int(CMD("ZADD e 1 a"), 1);
    expect_int(CMD("PEXPIRE e 50"), 1);
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "EXISTS e"));
    expect_int(CMD("ZADD e 2 b"), 1);
    expect_strs(CMD("ZRANGE e 0 -1"), 1, "b");
    enum { BATCH = 1000, ROUNDS = 20 };
    const char **argv = malloc((2 + 2 * BATCH) * sizeof *argv);
    char (*m)[16] = malloc(BATCH * sizeof *m);
    for (int round = 0; round < ROUNDS; round++) {
        argv[0] = "ZADD";
        argv[1] = "big";
        for (int i = 0; i < BATCH; i++) {
            snprintf(m[i], sizeof m[i], "%d", round * BATCH + i);
            argv[2 + 2 * i] = m[i];
            argv[3 + 2 * i] = m[i];
        }
        expect_int(skv_cmdargv(c, 2 + 2 * BATCH, argv, NULL), BATCH);
    }
    free(argv);
    free(m);
    expect_int(CMD("ZCOUNT big 100 199"), 100);
    expect_strs(CMD("ZRANGEBYSCORE big 19998 +inf"), 2, "19998", "19999");
    long long t0 = mono_ms();
    expect_int(CMD("DEL big"), 1);
    cr_expect_lt(mono_ms() - t0, 500);
    expect_int(CMD("ZCARD big"), 0);
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("ZRANGE z 0 -1 WITHSCORES"), 2, "a", "1");
    expect_strs(CMD("ZRANGE e 0 -1"), 1, "b");
    expect_int(CMD("DBSIZE"), 3);
}

/* ---- model test: 8 members, small integer scores ----------------------------- */

enum { MM = 8 };
static int present[MM];
static long score[MM];

static void compare(int step, unsigned seed) {
    /* expected order: score, then member name */
    int order[MM], n = 0;
    for (int i = 0; i < MM; i++)
        if (present[i]) order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            if (score[a] > score[b] || (score[a] == score[b] && a > b)) {
                order[j - 1] = b;
                order[j] = a;
            }
        }
    redisReply *r = ARRAY("ZRANGE mz 0 -1 WITHSCORES");
    cr_assert_eq((int)r->elements, 2 * n, "step %d (seed %u)", step, seed);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", order[i]);
        cr_assert_str_eq(r->element[2 * i]->str, name, "step %d (seed %u): position %d", step, seed, i);
        cr_assert_eq(atol(r->element[2 * i + 1]->str), score[order[i]], "step %d (seed %u)", step, seed);
    }
    freeReplyObject(r);
    expect_int(CMD("ZCARD mz"), n);
    /* a score range against the model */
    long lo = rand() % 10 - 5, hi = lo + rand() % 6;
    int want = 0;
    for (int i = 0; i < n; i++) want += score[order[i]] >= lo && score[order[i]] <= hi;
    expect_int(CMD("ZCOUNT mz %ld %ld", lo, hi), want);
    r = ARRAY("ZREVRANGEBYSCORE mz %ld %ld", hi, lo);
    cr_assert_eq((int)r->elements, want, "step %d (seed %u): ZREVRANGEBYSCORE %ld %ld", step, seed, hi, lo);
    freeReplyObject(r);
}

Test(zset, model) {
    unsigned seed = (unsigned)mono_ms();
    srand(seed);
    memset(present, 0, sizeof present);
    for (int step = 0; step < 500; step++) {
        int m = rand() % MM;
        long s = rand() % 10 - 5;
        switch (rand() % 6) {
        case 0: case 1:
            expect_int(CMD("ZADD mz %ld m%d", s, m), !present[m]);
            present[m] = 1;
            score[m] = s;
            break;
        case 2:
            expect_int(CMD("ZREM mz m%d", m), present[m]);
            present[m] = 0;
            break;
        case 3: {
            long want = (present[m] ? score[m] : 0) + s;
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", want);
            expect_bulk(CMD("ZINCRBY mz %ld m%d", s, m), buf);
            present[m] = 1;
            score[m] = want;
            break;
        }
        case 4: {
            /* pop the minimum */
            int best = -1;
            for (int i = 0; i < MM; i++)
                if (present[i] && (best < 0 || score[i] < score[best] || (score[i] == score[best] && i < best))) best = i;
            redisReply *r = ARRAY("ZPOPMIN mz");
            if (best < 0) cr_assert_eq(r->elements, 0);
            else {
                char name[16];
                snprintf(name, sizeof name, "m%d", best);
                cr_assert_str_eq(r->element[0]->str, name, "step %d (seed %u)", step, seed);
                present[best] = 0;
            }
            freeReplyObject(r);
            break;
        }
        default:
            if (present[m]) {
                int rank = 0;
                for (int i = 0; i < MM; i++)
                    if (present[i] && (score[i] < score[m] || (score[i] == score[m] && i < m))) rank++;
                expect_int(CMD("ZRANK mz m%d", m), rank);
            } else {
                expect_nil(CMD("ZRANK mz m%d", m));
            }
        }
        compare(step, seed);
    }
}
