/* End-to-end: hashes (HSET ... HSCAN), their errors, expiry, DEL of a big
 * hash, kill -9 durability, and a model test: random operations against an
 * in-memory model, compared after every step. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();
TestSuite(hash, .init = up, .fini = down);

#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

Test(hash, basic_commands) {
    expect_int(CMD("HSET h a 1 b 2"), 2);
    expect_int(CMD("HSET h a 10 c 3"), 1);
    expect_ok(CMD("HMSET h d 4"));
    expect_bulk(CMD("HGET h a"), "10");
    expect_nil(CMD("HGET h nope"));
    expect_nil(CMD("HGET nokey a"));
    expect_int(CMD("HLEN h"), 4);
    expect_int(CMD("HLEN nokey"), 0);
    expect_int(CMD("HSETNX h a 99"), 0);
    expect_int(CMD("HSETNX h e 5"), 1);
    redisReply *m = ARRAY("HMGET h a nope e");
    cr_assert_eq(m->elements, 3);
    cr_expect_str_eq(rstr(m->element[0]), "10");
    cr_expect_eq(m->element[1]->type, REDIS_REPLY_NIL);
    cr_expect_str_eq(rstr(m->element[2]), "5");
    freeReplyObject(m);
    expect_int(CMD("HEXISTS h a"), 1);
    expect_int(CMD("HEXISTS h zz"), 0);
    expect_int(CMD("HSTRLEN h a"), 2);
    expect_strs(CMD("HKEYS h"), 5, "a", "b", "c", "d", "e");
    expect_strs(CMD("HVALS h"), 5, "10", "2", "3", "4", "5");
    expect_strs(CMD("HGETALL h"), 10, "a", "10", "b", "2", "c", "3", "d", "4", "e", "5");
    expect_int(CMD("HDEL h a nope b"), 2);
    expect_int(CMD("HLEN h"), 3);
    expect_status(CMD("TYPE h"), "hash");
    expect_int(CMD("HDEL h c d e"), 3);
    expect_int(CMD("EXISTS h"), 0);
    expect_int(CMD("DBSIZE"), 0);
}

Test(hash, incr_and_float) {
    expect_int(CMD("HINCRBY h n 5"), 5);
    expect_int(CMD("HINCRBY h n -7"), -2);
    expect_bulk(CMD("HINCRBYFLOAT h f 1.5"), "1.5");
    expect_bulk(CMD("HINCRBYFLOAT h f 0.25"), "1.75");
    expect_ok(CMD("HMSET h s abc big 9223372036854775807"));
    expect_error_eq(CMD("HINCRBY h s 1"), "ERR hash value is not an integer");
    expect_error_eq(CMD("HINCRBY h big 1"), "ERR increment or decrement would overflow");
    expect_error_eq(CMD("HINCRBY h n x"), "ERR value is not an integer or out of range");
    expect_error_eq(CMD("HINCRBYFLOAT h s 1"), "ERR hash value is not a float");
    expect_error_eq(CMD("HINCRBYFLOAT h n abc"), "ERR value is not a valid float");
    expect_bulk(CMD("HGET h big"), "9223372036854775807");
}

Test(hash, errors) {
    expect_ok(CMD("SET s v"));
    expect_error_eq(CMD("HSET s a 1"), WRONGTYPE);
    expect_error_eq(CMD("HGET s a"), WRONGTYPE);
    expect_error_eq(CMD("HLEN s"), WRONGTYPE);
    expect_error_eq(CMD("HGETALL s"), WRONGTYPE);
    expect_bulk(CMD("GET s"), "v");
    expect_int(CMD("HSET h a 1"), 1);
    expect_error_eq(CMD("GET h"), WRONGTYPE);
    expect_error_eq(CMD("APPEND h x"), WRONGTYPE);
    expect_error_eq(CMD("INCR h"), WRONGTYPE);
    expect_error_eq(CMD("HSET h a"), "ERR wrong number of arguments for 'hset' command");
    expect_error_eq(CMD("HSET h a 1 b"), "ERR wrong number of arguments for 'hset' command");
    expect_error(CMD("HRANDFIELD h 1 WITHVALUES x"), "ERR syntax error");
    /* SET replaces a hash (its fields are gone with it) */
    expect_ok(CMD("SET h str"));
    expect_bulk(CMD("GET h"), "str");
    expect_int(CMD("DEL h"), 1);
    expect_int(CMD("HSET h only 1"), 1);
    expect_strs(CMD("HKEYS h"), 1, "only");
}

Test(hash, randfield_and_scan) {
    expect_int(CMD("HSET h a 1 b 2 c 3"), 3);
    redisReply *r = ARRAY("HRANDFIELD h 10");
    cr_expect_eq(r->elements, 3);
    freeReplyObject(r);
    r = ARRAY("HRANDFIELD h -7 WITHVALUES");
    cr_expect_eq(r->elements, 14);
    freeReplyObject(r);
    r = ARRAY("HRANDFIELD h 2");
    cr_expect_eq(r->elements, 2);
    cr_expect_str_neq(r->element[0]->str, r->element[1]->str);
    freeReplyObject(r);
    expect_nil(CMD("HRANDFIELD nokey"));
    r = ARRAY("HSCAN h 0 MATCH [ab]");
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, "0");
    cr_expect_eq(r->element[1]->elements, 4);
    freeReplyObject(r);
}

Test(hash, expiry_and_generic_commands) {
    expect_int(CMD("HSET h a 1"), 1);
    expect_int(CMD("PEXPIRE h 100"), 1);
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "EXISTS h"));
    expect_int(CMD("HLEN h"), 0);
    expect_int(CMD("HSET h b 2"), 1);
    expect_strs(CMD("HKEYS h"), 1, "b"); /* nothing of the expired hash */
    expect_int(CMD("DBSIZE"), 1);
    expect_ok(CMD("RENAME h h2"));
    expect_bulk(CMD("HGET h2 b"), "2");
    expect_int(CMD("EXISTS h"), 0);
    expect_int(CMD("COPY h2 h3"), 1);
    expect_int(CMD("HSET h3 c 3"), 1);
    expect_int(CMD("HLEN h2"), 1);
    expect_int(CMD("HLEN h3"), 2);
    expect_int(CMD("MOVE h3 5"), 1);
    expect_ok(CMD("SELECT 5"));
    expect_strs(CMD("HGETALL h3"), 4, "b", "2", "c", "3");
    expect_bulk(CMD("OBJECT ENCODING h3"), "listpack"); /* Redis's name for a small hash */
    redisReply *r = ARRAY("SCAN 0 TYPE hash");
    cr_expect_eq(r->element[1]->elements, 1);
    freeReplyObject(r);
}

/* DEL of a big hash is one write: it returns at once and the key is gone
 * (the fields are dropped later by the compaction filter). */
Test(hash, del_of_a_big_hash) {
    enum { BATCH = 1000, ROUNDS = 50 };
    const char **argv = malloc((2 + 2 * BATCH) * sizeof *argv);
    char (*f)[16] = malloc(BATCH * sizeof *f);
    for (int round = 0; round < ROUNDS; round++) {
        argv[0] = "HSET";
        argv[1] = "big";
        for (int i = 0; i < BATCH; i++) {
            snprintf(f[i], sizeof f[i], "f%d", round * BATCH + i);
            argv[2 + 2 * i] = f[i];
            argv[3 + 2 * i] = "v";
        }
        expect_int(skv_cmdargv(c, 2 + 2 * BATCH, argv, NULL), BATCH);
    }
    free(argv);
    free(f);
    expect_int(CMD("HLEN big"), BATCH * ROUNDS);
    long long t0 = mono_ms();
    expect_int(CMD("DEL big"), 1);
    long long took = mono_ms() - t0;
    cr_expect_lt(took, 500, "DEL of %d fields took %lld ms", BATCH * ROUNDS, took);
    expect_int(CMD("HLEN big"), 0);
    expect_int(CMD("EXISTS big"), 0);
    expect_int(CMD("DBSIZE"), 0);
    expect_int(CMD("HSET big x 1"), 1);
    expect_int(CMD("HLEN big"), 1);
}

Test(hash, survives_kill9) {
    expect_int(CMD("HSET h a 1 b 2"), 2);
    expect_int(CMD("HDEL h a"), 1);
    expect_int(CMD("HINCRBY h n 3"), 3);
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("HGETALL h"), 4, "b", "2", "n", "3");
    expect_int(CMD("HLEN h"), 2);
}

/* ---- model test ------------------------------------------------------------ */

enum { MKEYS = 3, MFIELDS = 6 };
static char model[MKEYS][MFIELDS][24]; /* "" = absent */

static void compare_model(int step) {
    for (int k = 0; k < MKEYS; k++) {
        int n = 0;
        for (int f = 0; f < MFIELDS; f++) n += model[k][f][0] != 0;
        redisReply *r = CMD("HLEN mk%d", k);
        cr_assert_eq(r->integer, n, "step %d: HLEN mk%d %lld, model %d", step, k, r->integer, n);
        freeReplyObject(r);
        r = ARRAY("HGETALL mk%d", k);
        cr_assert_eq((int)r->elements, 2 * n, "step %d: HGETALL mk%d", step, k);
        /* fields come back in byte order: f0 < f1 < ... */
        int j = 0;
        for (int f = 0; f < MFIELDS; f++) {
            if (!model[k][f][0]) continue;
            char name[16];
            snprintf(name, sizeof name, "f%d", f);
            cr_assert_str_eq(r->element[j]->str, name, "step %d", step);
            cr_assert_str_eq(r->element[j + 1]->str, model[k][f], "step %d: mk%d %s", step, k, name);
            j += 2;
        }
        freeReplyObject(r);
    }
}

Test(hash, model) {
    unsigned seed = (unsigned)mono_ms();
    srand(seed);
    cr_log_info("hash model seed %u", seed);
    memset(model, 0, sizeof model);
    for (int step = 0; step < 600; step++) {
        int k = rand() % MKEYS, f = rand() % MFIELDS, op = rand() % 5;
        char *cur = model[k][f];
        int existed = cur[0] != 0;
        redisReply *r;
        switch (op) {
        case 0: case 1: {
            char v[16];
            snprintf(v, sizeof v, "v%d", rand() % 100);
            r = CMD("HSET mk%d f%d %s", k, f, v);
            cr_assert_eq(r->integer, !existed, "step %d (seed %u)", step, seed);
            freeReplyObject(r);
            strcpy(cur, v);
            break;
        }
        case 2:
            r = CMD("HDEL mk%d f%d", k, f);
            cr_assert_eq(r->integer, existed, "step %d (seed %u)", step, seed);
            freeReplyObject(r);
            cur[0] = 0;
            break;
        case 3: {
            r = CMD("HINCRBY mk%d f%d 2", k, f);
            if (existed && cur[0] == 'v') { /* not an integer: the error, nothing changes */
                cr_assert_eq(r->type, REDIS_REPLY_ERROR, "step %d (seed %u)", step, seed);
                freeReplyObject(r);
                break;
            }
            long long base = existed ? strtoll(cur, NULL, 10) : 0;
            cr_assert_eq(r->integer, base + 2, "step %d (seed %u)", step, seed);
            freeReplyObject(r);
            snprintf(cur, 24, "%lld", base + 2);
            break;
        }
        default:
            if (rand() % 8 == 0) {
                int any = 0;
                for (int g = 0; g < MFIELDS; g++) any |= model[k][g][0] != 0;
                expect_int(CMD("DEL mk%d", k), any);
                memset(model[k], 0, sizeof model[k]);
            } else {
                r = CMD("HGET mk%d f%d", k, f);
                if (existed) cr_assert_str_eq(rstr(r), cur, "step %d (seed %u)", step, seed);
                else cr_assert_eq(r->type, REDIS_REPLY_NIL, "step %d (seed %u)", step, seed);
                freeReplyObject(r);
            }
        }
        compare_model(step);
    }
}
