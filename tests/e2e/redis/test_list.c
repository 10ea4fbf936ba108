/* End-to-end: lists (LPUSH ... LMPOP), their errors, expiry, DEL of a big
 * list, kill -9 durability, and a model test against an in-memory array,
 * compared after every step. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();
TestSuite(list, .init = up, .fini = down);

#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

Test(list, push_pop_range) {
    expect_int(CMD("RPUSH l b c"), 2);
    expect_int(CMD("LPUSH l a z"), 4); /* z a b c */
    expect_strs(CMD("LRANGE l 0 -1"), 4, "z", "a", "b", "c");
    expect_strs(CMD("LRANGE l -2 100"), 2, "b", "c");
    expect_len(CMD("LRANGE l 5 10"), 0);
    expect_int(CMD("LLEN l"), 4);
    expect_bulk(CMD("LINDEX l 0"), "z");
    expect_bulk(CMD("LINDEX l -1"), "c");
    expect_nil(CMD("LINDEX l 9"));
    expect_bulk(CMD("LPOP l"), "z");
    expect_bulk(CMD("RPOP l"), "c");
    expect_strs(CMD("LPOP l 5"), 2, "a", "b");
    expect_int(CMD("EXISTS l"), 0);
    expect_nil(CMD("LPOP l"));
    redisReply *r = CMD("LPOP l 2");
    cr_expect_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_int(CMD("LPUSHX l x"), 0);
    expect_int(CMD("RPUSH l x"), 1);
    expect_int(CMD("RPUSHX l y"), 2);
    expect_int(CMD("LPUSHX l w"), 3);
    expect_strs(CMD("LRANGE l 0 -1"), 3, "w", "x", "y");
    expect_ok(CMD("LSET l 1 X"));
    expect_ok(CMD("LSET l -1 Y"));
    expect_strs(CMD("LRANGE l 0 -1"), 3, "w", "X", "Y");
    expect_error_eq(CMD("LSET l 3 v"), "ERR index out of range");
    expect_error_eq(CMD("LSET nokey 0 v"), "ERR no such key");
    expect_status(CMD("TYPE l"), "list");
}

Test(list, trim_rem_insert_pos) {
    expect_int(CMD("RPUSH l a b a c a d"), 6);
    expect_int(CMD("LREM l 2 a"), 2);
    expect_strs(CMD("LRANGE l 0 -1"), 4, "b", "c", "a", "d");
    expect_int(CMD("RPUSH l a"), 5);
    expect_int(CMD("LREM l -1 a"), 1);
    expect_strs(CMD("LRANGE l 0 -1"), 4, "b", "c", "a", "d");
    expect_int(CMD("LINSERT l BEFORE b B"), 5);
    expect_int(CMD("LINSERT l AFTER d D"), 6);
    expect_int(CMD("LINSERT l AFTER c C"), 7);
    expect_strs(CMD("LRANGE l 0 -1"), 7, "B", "b", "c", "C", "a", "d", "D");
    expect_int(CMD("LINSERT l AFTER nope x"), -1);
    expect_int(CMD("LINSERT nokey AFTER a x"), 0);
    expect_error(CMD("LINSERT l MIDDLE a x"), "ERR syntax error");
    expect_int(CMD("LPOS l c"), 2);
    expect_nil(CMD("LPOS l zz"));
    expect_int(CMD("RPUSH l c"), 8);
    expect_int(CMD("LPOS l c RANK -1"), 7);
    redisReply *r = ARRAY("LPOS l c COUNT 0");
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->integer, 2);
    cr_expect_eq(r->element[1]->integer, 7);
    freeReplyObject(r);
    expect_error(CMD("LPOS l c RANK 0"), "ERR RANK can't be zero");
    expect_ok(CMD("LTRIM l 1 -2"));
    expect_strs(CMD("LRANGE l 0 -1"), 6, "b", "c", "C", "a", "d", "D");
    expect_ok(CMD("LTRIM l 5 1"));
    expect_int(CMD("EXISTS l"), 0);
    expect_int(CMD("LREM l 0 a"), 0);
}

Test(list, moves_and_mpop) {
    expect_int(CMD("RPUSH a 1 2 3"), 3);
    expect_bulk(CMD("LMOVE a b LEFT RIGHT"), "1");
    expect_bulk(CMD("RPOPLPUSH a b"), "3");
    expect_strs(CMD("LRANGE b 0 -1"), 2, "3", "1");
    expect_bulk(CMD("LMOVE b b LEFT RIGHT"), "3"); /* rotation */
    expect_strs(CMD("LRANGE b 0 -1"), 2, "1", "3");
    expect_nil(CMD("LMOVE nokey b LEFT LEFT"));
    redisReply *r = ARRAY("LMPOP 3 nokey a b RIGHT COUNT 5");
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, "a");
    cr_expect_eq(r->element[1]->elements, 1);
    freeReplyObject(r);
    r = CMD("LMPOP 1 nokey LEFT");
    cr_expect_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_error_eq(CMD("LMPOP 0 a LEFT"), "ERR numkeys should be greater than 0");
    expect_error_eq(CMD("LMPOP 1 a LEFT COUNT 0"), "ERR count should be greater than 0");
    expect_error(CMD("LMPOP 1 a UP"), "ERR syntax error");
}

Test(list, errors) {
    expect_ok(CMD("SET s v"));
    expect_error_eq(CMD("LPUSH s a"), WRONGTYPE);
    expect_error_eq(CMD("LRANGE s 0 -1"), WRONGTYPE);
    expect_error_eq(CMD("LLEN s"), WRONGTYPE);
    expect_int(CMD("RPUSH l a"), 1);
    expect_error_eq(CMD("LMOVE l s LEFT LEFT"), WRONGTYPE);
    expect_strs(CMD("LRANGE l 0 -1"), 1, "a"); /* nothing popped */
    expect_error_eq(CMD("GET l"), WRONGTYPE);
    expect_error_eq(CMD("HSET l f v"), WRONGTYPE);
    expect_error_eq(CMD("LRANGE l x 1"), "ERR value is not an integer or out of range");
    expect_error(CMD("LPOP l -1"), "ERR value is out of range");
    expect_error_eq(CMD("BLPOP l -1"), "ERR timeout is negative");
    expect_error_eq(CMD("BLPOP l abc"), "ERR timeout is not a float or out of range");
}

Test(list, expiry_big_del_and_kill9) {
    expect_int(CMD("RPUSH t a b"), 2);
    expect_int(CMD("PEXPIRE t 50"), 1);
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "EXISTS t"));
    expect_int(CMD("RPUSH t c"), 1);
    expect_strs(CMD("LRANGE t 0 -1"), 1, "c");
    enum { BATCH = 1000, ROUNDS = 30 };
    const char **argv = malloc((2 + BATCH) * sizeof *argv);
    argv[0] = "RPUSH";
    argv[1] = "big";
    for (int i = 0; i < BATCH; i++) argv[2 + i] = "element";
    for (int round = 0; round < ROUNDS; round++) expect_int(skv_cmdargv(c, 2 + BATCH, argv, NULL), (round + 1) * BATCH);
    free(argv);
    long long t0 = mono_ms();
    expect_int(CMD("DEL big"), 1);
    cr_expect_lt(mono_ms() - t0, 500);
    expect_int(CMD("LLEN big"), 0);
    expect_int(CMD("RPUSH d x y z"), 3);
    expect_bulk(CMD("LPOP d"), "x");
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("LRANGE d 0 -1"), 2, "y", "z");
    expect_strs(CMD("LRANGE t 0 -1"), 1, "c");
    expect_int(CMD("DBSIZE"), 2);
}

/* ---- model test ------------------------------------------------------------ */

enum { MAXLEN = 64 };
static int model[MAXLEN];
static int mlen;

static void compare(int step, unsigned seed) {
    redisReply *r = ARRAY("LRANGE ml 0 -1");
    cr_assert_eq((int)r->elements, mlen, "step %d (seed %u): length %zu, model %d", step, seed, r->elements, mlen);
    for (int i = 0; i < mlen; i++)
        cr_assert_eq(atoi(r->element[i]->str), model[i], "step %d (seed %u): [%d]", step, seed, i);
    freeReplyObject(r);
    expect_int(CMD("LLEN ml"), mlen);
}

Test(list, model) {
    unsigned seed = (unsigned)mono_ms();
    srand(seed);
    mlen = 0;
    for (int step = 0; step < 700; step++) {
        int v = rand() % 10, op = rand() % 9;
        redisReply *r;
        if (mlen >= MAXLEN - 2 && op < 2) op = 2 + rand() % 2;
        switch (op) {
        case 0:
            expect_int(CMD("LPUSH ml %d", v), mlen + 1);
            memmove(model + 1, model, (size_t)mlen * sizeof *model);
            model[0] = v;
            mlen++;
            break;
        case 1:
            expect_int(CMD("RPUSH ml %d", v), mlen + 1);
            model[mlen++] = v;
            break;
        case 2:
            r = CMD("LPOP ml");
            if (mlen) {
                cr_assert_eq(atoi(rstr(r)), model[0], "step %d (seed %u)", step, seed);
                memmove(model, model + 1, (size_t)--mlen * sizeof *model);
            } else {
                cr_assert_eq(r->type, REDIS_REPLY_NIL);
            }
            freeReplyObject(r);
            break;
        case 3:
            r = CMD("RPOP ml");
            if (mlen) cr_assert_eq(atoi(rstr(r)), model[--mlen], "step %d (seed %u)", step, seed);
            freeReplyObject(r);
            break;
        case 4: {
            int cnt = rand() % 5 - 2, removed = 0, out = 0, keep[MAXLEN], lim = cnt < 0 ? -cnt : cnt;
            char drop[MAXLEN] = {0};
            for (int k = 0; k < mlen; k++) {
                int i = cnt < 0 ? mlen - 1 - k : k;
                if ((lim == 0 || removed < lim) && model[i] == v) {
                    drop[i] = 1;
                    removed++;
                }
            }
            for (int i = 0; i < mlen; i++)
                if (!drop[i]) keep[out++] = model[i];
            memcpy(model, keep, (size_t)out * sizeof *model);
            mlen = out;
            expect_int(CMD("LREM ml %d %d", cnt, v), removed);
            break;
        }
        case 5: {
            if (!mlen) break;
            int pivot = model[rand() % mlen], after = rand() % 2, p = 0;
            while (model[p] != pivot) p++;
            expect_int(CMD("LINSERT ml %s %d %d", after ? "AFTER" : "BEFORE", pivot, v), mlen + 1);
            p += after;
            memmove(model + p + 1, model + p, (size_t)(mlen - p) * sizeof *model);
            model[p] = v;
            mlen++;
            break;
        }
        case 6: {
            int s = rand() % 8 - 3, e = rand() % 12 - 4;
            expect_ok(CMD("LTRIM ml %d %d", s, e));
            int ss = s < 0 ? s + mlen : s, ee = e < 0 ? e + mlen : e;
            if (ss < 0) ss = 0;
            if (ss > ee || ss >= mlen) mlen = 0;
            else {
                if (ee >= mlen) ee = mlen - 1;
                memmove(model, model + ss, (size_t)(ee - ss + 1) * sizeof *model);
                mlen = ee - ss + 1;
            }
            break;
        }
        case 7:
            if (mlen) {
                int i = rand() % mlen;
                expect_ok(CMD("LSET ml %d %d", i, v));
                model[i] = v;
            }
            break;
        default:
            if (mlen) {
                int i = rand() % mlen;
                char want[4] = {(char)('0' + model[i]), 0};
                expect_bulk(CMD("LINDEX ml %d", i - mlen), want);
            }
        }
        compare(step, seed);
    }
}
