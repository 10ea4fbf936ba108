/* End-to-end tests of the string commands against a real stagekv-server:
 * GET SET (NX XX GET EX PX EXAT PXAT KEEPTTL) SETNX MGET MSET INCR DECR
 * INCRBY DECRBY STRLEN APPEND SETEX PSETEX GETEX GETDEL GETSET MSETNX GETRANGE
 * SETRANGE INCRBYFLOAT (server/redis/cmd_string.c), with Redis 7 reply types
 * and error texts. */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

SKV_FIXTURE();

#define ERR_INT "ERR value is not an integer or out of range"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_EXPIRE "ERR invalid expire time in 'set' command"

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- GET / SET ---------------------------------------------------------- */

Test(strings, get_set_basic, .init = up, .fini = down) {
    expect_nil(skv_cmd(c, "GET %s", "missing"));
    expect_status(skv_cmd(c, "SET %s %s", "k", "v1"), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "k"), "v1");
    expect_status(skv_cmd(c, "SET %s %s", "k", "v2"), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "k"), "v2");
    /* empty value is a value, not a deletion */
    expect_status(skv_cmd(c, "SET %s %s", "empty", ""), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "empty"), "");
    expect_int(skv_cmd(c, "EXISTS %s", "empty"), 1);
    /* command names are case-insensitive */
    expect_status(skv_cmd(c, "sEt %s %s", "k", "v3"), "OK");
    expect_bulk(skv_cmd(c, "get %s", "k"), "v3");
}

Test(strings, wrong_arity, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "GET"), "ERR wrong number of arguments for 'get' command");
    expect_error_eq(skv_cmd(c, "GET a b"), "ERR wrong number of arguments for 'get' command");
    expect_error_eq(skv_cmd(c, "GeT"), "ERR wrong number of arguments for 'get' command");
    expect_error_eq(skv_cmd(c, "SET k"), "ERR wrong number of arguments for 'set' command");
    expect_error_eq(skv_cmd(c, "SETNX k"), "ERR wrong number of arguments for 'setnx' command");
    expect_error_eq(skv_cmd(c, "MGET"), "ERR wrong number of arguments for 'mget' command");
    expect_error_eq(skv_cmd(c, "MSET"), "ERR wrong number of arguments for 'mset' command");
    expect_error_eq(skv_cmd(c, "MSET a 1 b"), "ERR wrong number of arguments for 'mset' command");
    expect_error_eq(skv_cmd(c, "INCR"), "ERR wrong number of arguments for 'incr' command");
    expect_error_eq(skv_cmd(c, "DECR a b"), "ERR wrong number of arguments for 'decr' command");
    expect_error_eq(skv_cmd(c, "INCRBY a"), "ERR wrong number of arguments for 'incrby' command");
    expect_error_eq(skv_cmd(c, "DECRBY a"), "ERR wrong number of arguments for 'decrby' command");
    expect_error_eq(skv_cmd(c, "STRLEN"), "ERR wrong number of arguments for 'strlen' command");
    expect_error_eq(skv_cmd(c, "APPEND a"), "ERR wrong number of arguments for 'append' command");
    /* a failed MSET wrote nothing */
    expect_nil(skv_cmd(c, "GET a"));
    /* the connection is still usable */
    expect_status(skv_cmd(c, "PING"), "PONG");
}

Test(strings, set_nx_xx, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET k v1 NX"), "OK");
    expect_nil(skv_cmd(c, "SET k v2 NX"));
    expect_bulk(skv_cmd(c, "GET k"), "v1");
    expect_nil(skv_cmd(c, "SET absent v XX"));
    expect_int(skv_cmd(c, "EXISTS absent"), 0);
    expect_status(skv_cmd(c, "SET k v3 XX"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v3");
    /* options are case-insensitive */
    expect_nil(skv_cmd(c, "SET k v4 nx"));
    expect_status(skv_cmd(c, "SET k v4 xX"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v4");
}

Test(strings, set_syntax_errors, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "SET k v NX XX"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v XX NX"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v FOO"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v EX"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v PX"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v EX 10 PX 100"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v EX 10 KEEPTTL"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v KEEPTTL PXAT 99999999999999"), ERR_SYNTAX);
    expect_error_eq(skv_cmd(c, "SET k v EX abc"), ERR_INT);
    expect_error_eq(skv_cmd(c, "SET k v PX 1.5"), ERR_INT);
    expect_error_eq(skv_cmd(c, "SET k v EX 0"), ERR_EXPIRE);
    expect_error_eq(skv_cmd(c, "SET k v EX -1"), ERR_EXPIRE);
    expect_error_eq(skv_cmd(c, "SET k v PX 0"), ERR_EXPIRE);
    expect_error_eq(skv_cmd(c, "SET k v EXAT 0"), ERR_EXPIRE);
    expect_error_eq(skv_cmd(c, "SET k v PXAT -5"), ERR_EXPIRE);
    /* EX seconds whose milliseconds pass INT64_MAX */
    expect_error_eq(skv_cmd(c, "SET k v EX 9223372036854775807"), ERR_EXPIRE);
    /* none of them wrote anything */
    expect_int(skv_cmd(c, "EXISTS k"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}

/* Redis 7 takes an option given twice (the last value wins); only
 * conflicting options are a syntax error. */
Test(strings, set_repeated_options, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET k v1 NX NX"), "OK");
    expect_bulk(skv_cmd(c, "SET k v2 GET GET"), "v1");
    expect_status(skv_cmd(c, "SET k v3 XX XX"), "OK");
    expect_status(skv_cmd(c, "SET k v4 KEEPTTL KEEPTTL"), "OK");
    expect_status(skv_cmd(c, "SET k v5 EX 100 EX 200"), "OK");
    expect_status(skv_cmd(c, "SET e v PX 100000 PX 150"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v5");
    /* the last PX counted: gone well before the first one's 100 s */
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET e"), "e still there after %d ms", SKV_WAIT_MS);
}

Test(strings, set_get_option, .init = up, .fini = down) {
    expect_nil(skv_cmd(c, "SET k v1 GET"));
    expect_bulk(skv_cmd(c, "GET k"), "v1");
    expect_bulk(skv_cmd(c, "SET k v2 GET"), "v1");
    expect_bulk(skv_cmd(c, "GET k"), "v2");
    /* NX GET on an existing key: old value back, nothing written (Redis 7) */
    expect_bulk(skv_cmd(c, "SET k v3 NX GET"), "v2");
    expect_bulk(skv_cmd(c, "GET k"), "v2");
    /* XX GET on an absent key: nil, nothing created */
    expect_nil(skv_cmd(c, "SET nokey v XX GET"));
    expect_int(skv_cmd(c, "EXISTS nokey"), 0);
    expect_bulk(skv_cmd(c, "SET k v4 XX GET"), "v2");
    expect_bulk(skv_cmd(c, "GET k"), "v4");
}

Test(strings, set_px_expires, .init = up, .fini = down) {
    long long t0 = mono_ms();
    expect_status(skv_cmd(c, "SET k v PX 1000"), "OK");
    expect_status(skv_cmd(c, "SET long v PX 100000"), "OK");
    expect_bulk_within(t0, 1000, skv_cmd(c, "GET k"), "v");
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET k"), "k still there after %d ms", SKV_WAIT_MS);
    expect_int(skv_cmd(c, "EXISTS k"), 0);
    expect_int(skv_cmd(c, "STRLEN k"), 0);
    expect_bulk(skv_cmd(c, "GET long"), "v");
    /* an expired counter starts again from 0, an expired string from "" */
    expect_status(skv_cmd(c, "SET n 5 PX 100"), "OK");
    expect_status(skv_cmd(c, "SET s abc PX 100"), "OK");
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "EXISTS n s"), "n, s still there after %d ms", SKV_WAIT_MS);
    expect_int(skv_cmd(c, "INCR n"), 1);
    expect_int(skv_cmd(c, "APPEND s x"), 1);
    expect_bulk(skv_cmd(c, "GET s"), "x");
    /* an expired key counts as absent for NX */
    expect_status(skv_cmd(c, "SET k again NX"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "again");
}

Test(strings, set_ex_expires, .init = up, .fini = down) {
    long long t0 = mono_ms();
    expect_status(skv_cmd(c, "SET k v EX 1"), "OK");
    expect_status(skv_cmd(c, "SET k2 v EX 100"), "OK");
    expect_bulk_within(t0, 1000, skv_cmd(c, "GET k"), "v");
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET k"), "k still there after %d ms", SKV_WAIT_MS);
    cr_expect_geq(mono_ms() - t0, 990, "EX 1 gone before a second passed");
    expect_bulk(skv_cmd(c, "GET k2"), "v");
}

Test(strings, set_exat_pxat, .init = up, .fini = down) {
    /* a time in the past: OK, and the key is gone at once */
    expect_status(skv_cmd(c, "SET k v"), "OK");
    expect_status(skv_cmd(c, "SET k v EXAT 1"), "OK");
    expect_nil(skv_cmd(c, "GET k"));
    expect_status(skv_cmd(c, "SET k v PXAT 1"), "OK");
    expect_nil(skv_cmd(c, "GET k"));
    /* far future */
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL) + 3600);
    expect_status(skv_cmd(c, "SET far v EXAT %s", ts), "OK");
    expect_bulk(skv_cmd(c, "GET far"), "v");
    /* PXAT a little ahead */
    long long t0 = mono_ms();
    snprintf(ts, sizeof ts, "%lld", now_ms() + 1000);
    expect_status(skv_cmd(c, "SET soon v PXAT %s", ts), "OK");
    expect_bulk_within(t0, 1000, skv_cmd(c, "GET soon"), "v");
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET soon"), "soon still there after %d ms", SKV_WAIT_MS);
    expect_bulk(skv_cmd(c, "GET far"), "v");
}

Test(strings, set_keepttl, .init = up, .fini = down) {
    /* KEEPTTL keeps the old expiry */
    long long t0 = mono_ms();
    expect_status(skv_cmd(c, "SET kept v1 PX 1000"), "OK");
    expect_status(skv_cmd(c, "SET kept v2 KEEPTTL"), "OK");
    expect_bulk_within(t0, 1000, skv_cmd(c, "GET kept"), "v2");
    /* a plain SET drops the old expiry */
    expect_status(skv_cmd(c, "SET cleared v1 PX 1000"), "OK");
    long long t1 = mono_ms(); /* its first TTL runs out by t1 + 1000 */
    expect_status(skv_cmd(c, "SET cleared v2"), "OK");
    /* KEEPTTL on a key without expiry keeps it without expiry */
    expect_status(skv_cmd(c, "SET plain v1"), "OK");
    expect_status(skv_cmd(c, "SET plain v2 KEEPTTL"), "OK");
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET kept"), "kept still there after %d ms", SKV_WAIT_MS);
    /* past the TTL "cleared" had before its plain SET */
    while (mono_ms() - t1 < 1100) msleep(20);
    expect_bulk(skv_cmd(c, "GET cleared"), "v2");
    expect_bulk(skv_cmd(c, "GET plain"), "v2");
}

Test(strings, setnx, .init = up, .fini = down) {
    expect_int(skv_cmd(c, "SETNX k v1"), 1);
    expect_int(skv_cmd(c, "SETNX k v2"), 0);
    expect_bulk(skv_cmd(c, "GET k"), "v1");
}

Test(strings, mget_mset, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "MSET a 1 b 2 c 3"), "OK");
    redisReply *r = skv_cmd(c, "MGET a missing b c a");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 5);
    const char *want[] = {"1", NULL, "2", "3", "1"};
    for (size_t i = 0; i < 5; i++) {
        if (want[i]) {
            cr_expect_eq(r->element[i]->type, REDIS_REPLY_STRING, "element %zu", i);
            if (r->element[i]->type == REDIS_REPLY_STRING) cr_expect_str_eq(r->element[i]->str, want[i]);
        } else {
            cr_expect_eq(r->element[i]->type, REDIS_REPLY_NIL, "element %zu", i);
        }
    }
    freeReplyObject(r);
    /* MSET overwrites; a repeated key takes the last value */
    expect_status(skv_cmd(c, "MSET a x a y"), "OK");
    expect_bulk(skv_cmd(c, "GET a"), "y");
    expect_int(skv_cmd(c, "DBSIZE"), 3);
}

/* ---- counters ----------------------------------------------------------- */

Test(strings, incr_decr, .init = up, .fini = down) {
    expect_int(skv_cmd(c, "INCR n"), 1);
    expect_int(skv_cmd(c, "INCR n"), 2);
    expect_int(skv_cmd(c, "DECR n"), 1);
    expect_int(skv_cmd(c, "INCRBY n 10"), 11);
    expect_int(skv_cmd(c, "INCRBY n -20"), -9);
    expect_int(skv_cmd(c, "DECRBY n 1"), -10);
    expect_int(skv_cmd(c, "DECRBY n -15"), 5);
    expect_bulk(skv_cmd(c, "GET n"), "5");
    expect_int(skv_cmd(c, "DECR fresh"), -1);
    expect_int(skv_cmd(c, "INCRBY fresh2 7"), 7);
    expect_int(skv_cmd(c, "DECRBY fresh3 7"), -7);
    expect_bulk(skv_cmd(c, "GET fresh3"), "-7");
    /* a value written by SET is a counter when it parses */
    expect_status(skv_cmd(c, "SET s -100"), "OK");
    expect_int(skv_cmd(c, "INCR s"), -99);
    expect_int(skv_cmd(c, "STRLEN s"), 3);
}

Test(strings, incr_not_integer, .init = up, .fini = down) {
    const char *bad[] = {"abc", "1.5", "", " 1", "1 ", "01", "+1", "1e3", "9223372036854775808",
                         "-9223372036854775809", "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_status(skv_cmd(c, "SET k %s", bad[i]), "OK");
        expect_error_eq(skv_cmd(c, "INCR k"), ERR_INT);
        expect_error_eq(skv_cmd(c, "DECR k"), ERR_INT);
        expect_error_eq(skv_cmd(c, "INCRBY k 1"), ERR_INT);
        /* the value is untouched */
        expect_bulk(skv_cmd(c, "GET k"), bad[i]);
    }
    /* bad increments */
    expect_error_eq(skv_cmd(c, "INCRBY n abc"), ERR_INT);
    expect_error_eq(skv_cmd(c, "INCRBY n 1.5"), ERR_INT);
    expect_error_eq(skv_cmd(c, "INCRBY n 9223372036854775808"), ERR_INT);
    expect_error_eq(skv_cmd(c, "DECRBY n x"), ERR_INT);
    expect_int(skv_cmd(c, "EXISTS n"), 0);
}

Test(strings, incr_overflow, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET max 9223372036854775807"), "OK");
    expect_error_eq(skv_cmd(c, "INCR max"), ERR_OVERFLOW);
    expect_error_eq(skv_cmd(c, "INCRBY max 1"), ERR_OVERFLOW);
    expect_error_eq(skv_cmd(c, "DECRBY max -1"), ERR_OVERFLOW);
    expect_bulk(skv_cmd(c, "GET max"), "9223372036854775807");
    expect_int(skv_cmd(c, "INCRBY max 0"), INT64_MAX);

    expect_status(skv_cmd(c, "SET min -9223372036854775808"), "OK");
    expect_error_eq(skv_cmd(c, "DECR min"), ERR_OVERFLOW);
    expect_error_eq(skv_cmd(c, "INCRBY min -1"), ERR_OVERFLOW);
    expect_error_eq(skv_cmd(c, "DECRBY min 1"), ERR_OVERFLOW);
    expect_bulk(skv_cmd(c, "GET min"), "-9223372036854775808");
    expect_int(skv_cmd(c, "INCR min"), INT64_MIN + 1);

    expect_status(skv_cmd(c, "SET a 100"), "OK");
    expect_error_eq(skv_cmd(c, "INCRBY a 9223372036854775807"), ERR_OVERFLOW);
    expect_status(skv_cmd(c, "SET a -2"), "OK");
    expect_error_eq(skv_cmd(c, "INCRBY a -9223372036854775807"), ERR_OVERFLOW);
    expect_error_eq(skv_cmd(c, "DECRBY a 9223372036854775807"), ERR_OVERFLOW);
    expect_bulk(skv_cmd(c, "GET a"), "-2");
    /* reaching the limits exactly is fine */
    expect_int(skv_cmd(c, "INCRBY a -9223372036854775806"), INT64_MIN);
    expect_status(skv_cmd(c, "SET b 0"), "OK");
    expect_int(skv_cmd(c, "INCRBY b 9223372036854775807"), INT64_MAX);
}

Test(strings, decrby_int64_min, .init = up, .fini = down) {
    /* -LLONG_MIN does not exist: Redis 7 refuses it whatever the value */
    expect_status(skv_cmd(c, "SET a 0"), "OK");
    expect_error_eq(skv_cmd(c, "DECRBY a -9223372036854775808"), "ERR decrement would overflow");
    expect_error_eq(skv_cmd(c, "DECRBY absent -9223372036854775808"), "ERR decrement would overflow");
    expect_bulk(skv_cmd(c, "GET a"), "0");
    expect_int(skv_cmd(c, "EXISTS absent"), 0);
    /* INCRBY takes LLONG_MIN as an increment */
    expect_int(skv_cmd(c, "INCRBY a -9223372036854775808"), INT64_MIN);
}

/* ---- STRLEN / APPEND ---------------------------------------------------- */

Test(strings, strlen_append, .init = up, .fini = down) {
    expect_int(skv_cmd(c, "STRLEN missing"), 0);
    expect_int(skv_cmd(c, "APPEND k hello"), 5);
    expect_int(skv_cmd(c, "APPEND k %s", " world"), 11);
    expect_bulk(skv_cmd(c, "GET k"), "hello world");
    expect_int(skv_cmd(c, "STRLEN k"), 11);
    expect_int(skv_cmd(c, "APPEND k %s", ""), 11);
    expect_int(skv_cmd(c, "APPEND e %s", ""), 0);
    expect_int(skv_cmd(c, "EXISTS e"), 1);
    /* APPEND to a counter, then it is no longer a counter */
    expect_int(skv_cmd(c, "INCRBY n 12"), 12);
    expect_int(skv_cmd(c, "APPEND n 3"), 3);
    expect_int(skv_cmd(c, "INCR n"), 124);
    expect_int(skv_cmd(c, "APPEND n x"), 4);
    expect_error_eq(skv_cmd(c, "INCR n"), ERR_INT);
}

/* ---- binary safety and size --------------------------------------------- */

Test(strings, binary_safe, .init = up, .fini = down) {
    const char val[] = "a\0b\r\nc\r\n\0\xff\xfe$-1\r\n";
    size_t vl = sizeof val - 1;
    const char key[] = "k\0\r\n\xff";
    size_t kl = sizeof key - 1;
    expect_status(skv_cmd(c, "SET %b %b", key, kl, val, vl), "OK");
    expect_bulk_bin(skv_cmd(c, "GET %b", key, kl), val, vl);
    expect_int(skv_cmd(c, "STRLEN %b", key, kl), (long long)vl);
    /* the key with a NUL is not the key cut at the NUL */
    expect_nil(skv_cmd(c, "GET %b", "k", (size_t)1));
    expect_int(skv_cmd(c, "APPEND %b %b", key, kl, "\0\n", (size_t)2), (long long)vl + 2);
    char both[64];
    memcpy(both, val, vl);
    memcpy(both + vl, "\0\n", 2);
    expect_bulk_bin(skv_cmd(c, "GET %b", key, kl), both, vl + 2);
    /* through MSET/MGET */
    expect_status(skv_cmd(c, "MSET %b %b", "m\0", (size_t)2, val, vl), "OK");
    redisReply *r = skv_cmd(c, "MGET %b", "m\0", (size_t)2);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_expect_eq(r->element[0]->len, vl);
    cr_expect(memcmp(r->element[0]->str, val, vl) == 0);
    freeReplyObject(r);
}

Test(strings, one_megabyte_value, .init = up, .fini = down) {
    size_t n = 1024 * 1024;
    char *big = malloc(n);
    cr_assert(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        big[i] = (char)(x & 0xff);
    }
    expect_status(skv_cmd(c, "SET big %b", big, n), "OK");
    expect_int(skv_cmd(c, "STRLEN big"), (long long)n);
    expect_bulk_bin(skv_cmd(c, "GET big"), big, n);
    expect_int(skv_cmd(c, "APPEND big %b", big, (size_t)1000), (long long)n + 1000);
    redisReply *r = skv_cmd(c, "GET big");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->len, n + 1000);
    cr_expect(memcmp(r->str, big, n) == 0);
    cr_expect(memcmp(r->str + n, big, 1000) == 0);
    freeReplyObject(r);
    free(big);
}

/* ---- SETEX PSETEX GETEX GETDEL GETSET MSETNX GETRANGE SETRANGE INCRBYFLOAT (from the former test_compat.c) ---- */

Test(strings, setex_psetex, .init = up, .fini = down) {
    expect_ok(CMD("SETEX k 100 v"));
    expect_bulk(CMD("GET k"), "v");
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL after SETEX 100: %lld", t);
    expect_ok(CMD("PSETEX p 100000 v"));
    long long pt = take_int(CMD("PTTL p"));
    cr_expect(pt > 98000 && pt <= 100000, "PTTL after PSETEX 100000: %lld", pt);
    expect_error_eq(CMD("SETEX k 0 v"), "ERR invalid expire time in 'setex' command");
    expect_error_eq(CMD("SETEX k -1 v"), "ERR invalid expire time in 'setex' command");
    expect_error_eq(CMD("PSETEX k 0 v"), "ERR invalid expire time in 'psetex' command");
    /* the failed SETEX left the key as it was */
    expect_bulk(CMD("GET k"), "v");
}

Test(strings, getex_getdel_getset, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_bulk(CMD("GETEX k EX 100"), "v");
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL after GETEX EX 100: %lld", t);
    expect_bulk(CMD("GETEX k PERSIST"), "v");
    expect_int(CMD("TTL k"), -1);
    expect_nil(CMD("GETEX nope EX 10"));
    expect_int(CMD("EXISTS nope"), 0);

    expect_bulk(CMD("GETDEL k"), "v");
    expect_int(CMD("EXISTS k"), 0);
    expect_nil(CMD("GETDEL k"));

    expect_nil(CMD("GETSET g one"));
    expect_bulk(CMD("GETSET g two"), "one");
    expect_bulk(CMD("GET g"), "two");
}

Test(strings, msetnx, .init = up, .fini = down) {
    expect_int(CMD("MSETNX a 1 b 2"), 1);
    expect_bulk(CMD("GET a"), "1");
    expect_bulk(CMD("GET b"), "2");
    expect_int(CMD("MSETNX c 3 a 9"), 0);
    expect_nil(CMD("GET c"));
    expect_bulk(CMD("GET a"), "1");
    expect_int(CMD("DBSIZE"), 2);
}

Test(strings, getrange_setrange, .init = up, .fini = down) {
    expect_ok(CMD("SET s Hello"));
    expect_bulk(CMD("GETRANGE s 0 3"), "Hell");
    expect_bulk(CMD("GETRANGE s -3 -1"), "llo");
    expect_bulk(CMD("GETRANGE s 0 -1"), "Hello");
    expect_bulk(CMD("GETRANGE s 10 20"), "");
    expect_bulk(CMD("GETRANGE nope 0 5"), "");

    expect_int(CMD("SETRANGE s 6 World"), 11);
    expect_bulk_bin(CMD("GET s"), "Hello\0World", 11);
    expect_int(CMD("SETRANGE z 3 ab"), 5);
    expect_bulk_bin(CMD("GET z"), "\0\0\0ab", 5);
    expect_error_eq(CMD("SETRANGE s -1 x"), "ERR offset is out of range");
    redisReply *r = CMD("SETRANGE s 536870912 x");
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "SETRANGE 536870912: type %d (%s)", r->type, rstr(r));
    cr_expect(strstr(rstr(r), "maximum allowed size") != NULL, "SETRANGE 536870912: %s", rstr(r));
    freeReplyObject(r);
    expect_int(CMD("STRLEN s"), 11);
}

Test(strings, incrbyfloat, .init = up, .fini = down) {
    expect_ok(CMD("SET f 10.5"));
    expect_bulk(CMD("INCRBYFLOAT f 0.1"), "10.6");
    expect_bulk(CMD("GET f"), "10.6");
    expect_bulk(CMD("INCRBYFLOAT n 5"), "5");
    expect_ok(CMD("SET s abc"));
    expect_error_eq(CMD("INCRBYFLOAT s 1"), "ERR value is not a valid float");
    expect_error_eq(CMD("INCRBYFLOAT f abc"), "ERR value is not a valid float");
}
