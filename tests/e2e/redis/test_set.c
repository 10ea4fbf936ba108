/* End-to-end: sets (SADD ... SSCAN, the set algebra), their errors,
 * expiry, DEL of a big set, kill -9 durability, and a model test against an
 * in-memory bit set, compared after every step. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();
TestSuite(set, .init = up, .fini = down);

#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

Test(set, basic_commands) {
    expect_int(CMD("SADD s b a c"), 3);
    expect_int(CMD("SADD s a d"), 1);
    expect_int(CMD("SCARD s"), 4);
    expect_int(CMD("SCARD nokey"), 0);
    expect_int(CMD("SISMEMBER s a"), 1);
    expect_int(CMD("SISMEMBER s z"), 0);
    redisReply *r = ARRAY("SMISMEMBER s a z d");
    cr_assert_eq(r->elements, 3);
    cr_expect_eq(r->element[0]->integer, 1);
    cr_expect_eq(r->element[1]->integer, 0);
    cr_expect_eq(r->element[2]->integer, 1);
    freeReplyObject(r);
    expect_strs(CMD("SMEMBERS s"), 4, "a", "b", "c", "d");
    expect_int(CMD("SREM s a z"), 1);
    expect_status(CMD("TYPE s"), "set");
    expect_int(CMD("SMOVE s t b"), 1);
    expect_int(CMD("SMOVE s t nope"), 0);
    expect_strs(CMD("SMEMBERS t"), 1, "b");
    expect_int(CMD("SREM s c d"), 2);
    expect_int(CMD("EXISTS s"), 0);
    expect_len(CMD("SMEMBERS s"), 0);
}

Test(set, algebra) {
    expect_int(CMD("SADD a 1 2 3 4"), 4);
    expect_int(CMD("SADD b 3 4 5"), 3);
    expect_int(CMD("SADD c 4 5 6"), 3);
    expect_strs(CMD("SINTER a b"), 2, "3", "4");
    expect_strs(CMD("SINTER a b c"), 1, "4");
    expect_len(CMD("SINTER a nokey"), 0);
    expect_strs(CMD("SUNION a c"), 6, "1", "2", "3", "4", "5", "6");
    expect_strs(CMD("SDIFF a b"), 2, "1", "2");
    expect_strs(CMD("SDIFF a b c"), 2, "1", "2");
    expect_int(CMD("SINTERCARD 2 a b"), 2);
    expect_int(CMD("SINTERCARD 2 a b LIMIT 1"), 1);
    expect_error_eq(CMD("SINTERCARD 0 a"), "ERR numkeys should be greater than 0");
    expect_error_eq(CMD("SINTERCARD 3 a b"), "ERR Number of keys can't be greater than number of args");
    expect_int(CMD("SUNIONSTORE u a b"), 5);
    expect_strs(CMD("SMEMBERS u"), 5, "1", "2", "3", "4", "5");
    expect_int(CMD("SINTERSTORE u u c"), 2); /* the destination may be a source */
    expect_strs(CMD("SMEMBERS u"), 2, "4", "5");
    expect_ok(CMD("SET str x"));
    expect_int(CMD("SDIFFSTORE str a b"), 2); /* overwrites a string */
    expect_status(CMD("TYPE str"), "set");
    expect_int(CMD("SINTERSTORE u a nokey"), 0);
    expect_int(CMD("EXISTS u"), 0);
}

Test(set, pop_and_random) {
    expect_int(CMD("SADD s a b c d e"), 5);
    char *m = take_bulk(CMD("SPOP s"));
    expect_int(CMD("SISMEMBER s %s", m), 0);
    free(m);
    expect_int(CMD("SCARD s"), 4);
    redisReply *r = ARRAY("SPOP s 3");
    cr_expect_eq(r->elements, 3);
    freeReplyObject(r);
    expect_int(CMD("SCARD s"), 1);
    r = ARRAY("SPOP s 10");
    cr_expect_eq(r->elements, 1);
    freeReplyObject(r);
    expect_int(CMD("EXISTS s"), 0);
    expect_nil(CMD("SPOP s"));
    expect_int(CMD("SADD s x y"), 2);
    r = ARRAY("SRANDMEMBER s -5");
    cr_expect_eq(r->elements, 5);
    freeReplyObject(r);
    r = ARRAY("SRANDMEMBER s 5");
    cr_expect_eq(r->elements, 2);
    freeReplyObject(r);
    expect_nil(CMD("SRANDMEMBER nokey"));
    expect_error(CMD("SPOP s -1"), "ERR value is out of range");
    expect_int(CMD("SCARD s"), 2);
}

Test(set, errors_expiry_scan) {
    expect_ok(CMD("SET str v"));
    expect_error_eq(CMD("SADD str a"), WRONGTYPE);
    expect_error_eq(CMD("SINTER str"), WRONGTYPE);
    expect_error_eq(CMD("SUNION nokey str"), WRONGTYPE);
    expect_int(CMD("SADD s 1 2 3"), 3);
    expect_error_eq(CMD("SMOVE s str 1"), WRONGTYPE);
    expect_error_eq(CMD("GET s"), WRONGTYPE);
    expect_bulk(CMD("OBJECT ENCODING s"), "intset");
    expect_int(CMD("SADD s abc"), 1);
    expect_bulk(CMD("OBJECT ENCODING s"), "hashtable");
    redisReply *r = ARRAY("SSCAN s 0 MATCH [12]");
    cr_expect_eq(r->element[1]->elements, 2);
    freeReplyObject(r);
    expect_int(CMD("PEXPIRE s 50"), 1);
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "EXISTS s"));
    expect_int(CMD("SADD s z"), 1);
    expect_strs(CMD("SMEMBERS s"), 1, "z");
}

Test(set, del_of_a_big_set_and_kill9) {
    enum { BATCH = 1000, ROUNDS = 30 };
    const char **argv = malloc((2 + BATCH) * sizeof *argv);
    char (*m)[16] = malloc(BATCH * sizeof *m);
    for (int round = 0; round < ROUNDS; round++) {
        argv[0] = "SADD";
        argv[1] = "big";
        for (int i = 0; i < BATCH; i++) {
            snprintf(m[i], sizeof m[i], "m%d", round * BATCH + i);
            argv[2 + i] = m[i];
        }
        expect_int(skv_cmdargv(c, 2 + BATCH, argv, NULL), BATCH);
    }
    free(argv);
    free(m);
    expect_int(CMD("SCARD big"), BATCH * ROUNDS);
    long long t0 = mono_ms();
    expect_int(CMD("UNLINK big"), 1);
    cr_expect_lt(mono_ms() - t0, 500);
    expect_int(CMD("SCARD big"), 0);
    expect_int(CMD("SADD keep a b"), 2);
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("SMEMBERS keep"), 2, "a", "b");
    expect_int(CMD("EXISTS big"), 0);
    expect_int(CMD("DBSIZE"), 1);
}

/* ---- model test: 3 sets over 10 members ------------------------------------ */

enum { MKEYS = 3, MMEMB = 10 };
static unsigned model[MKEYS];

static void compare_model(int step, unsigned seed) {
    for (int k = 0; k < MKEYS; k++) {
        redisReply *r = ARRAY("SMEMBERS mk%d", k);
        size_t j = 0;
        for (int m = 0; m < MMEMB; m++) {
            if (!(model[k] >> m & 1)) continue;
            char name[16];
            snprintf(name, sizeof name, "m%d", m);
            cr_assert(j < r->elements, "step %d (seed %u): mk%d lacks %s", step, seed, k, name);
            cr_assert_str_eq(r->element[j]->str, name, "step %d (seed %u): mk%d", step, seed, k);
            j++;
        }
        cr_assert_eq(j, r->elements, "step %d (seed %u): mk%d has extra members", step, seed, k);
        freeReplyObject(r);
        expect_int(CMD("SCARD mk%d", k), __builtin_popcount(model[k]));
    }
}

Test(set, model) {
    unsigned seed = (unsigned)mono_ms();
    srand(seed);
    memset(model, 0, sizeof model);
    for (int step = 0; step < 500; step++) {
        int k = rand() % MKEYS, k2 = rand() % MKEYS, m = rand() % MMEMB;
        unsigned bit = 1u << m;
        switch (rand() % 6) {
        case 0: case 1:
            expect_int(CMD("SADD mk%d m%d", k, m), !(model[k] & bit));
            model[k] |= bit;
            break;
        case 2:
            expect_int(CMD("SREM mk%d m%d", k, m), !!(model[k] & bit));
            model[k] &= ~bit;
            break;
        case 3:
            expect_int(CMD("SMOVE mk%d mk%d m%d", k, k2, m), !!(model[k] & bit));
            if (model[k] & bit) {
                model[k] &= ~bit;
                model[k2] |= bit;
            }
            break;
        case 4: {
            int k3 = rand() % MKEYS, op = rand() % 3;
            static const char *ops[] = {"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"};
            unsigned res = op == 0 ? model[k2] & model[k3] : op == 1 ? model[k2] | model[k3] : model[k2] & ~model[k3];
            expect_int(CMD("%s mk%d mk%d mk%d", ops[op], k, k2, k3), __builtin_popcount(res));
            model[k] = res;
            break;
        }
        default:
            expect_int(CMD("SISMEMBER mk%d m%d", k, m), !!(model[k] & bit));
        }
        compare_model(step, seed);
    }
}
