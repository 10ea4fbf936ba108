/* End-to-end: blocking commands. Clients blocked on a key are served first
 * come first served after the writing command (or EXEC) commits, time out
 * with a nil, never block inside MULTI, keep their pipelined commands for
 * after the wake-up, and may disconnect while blocked without losing
 * anything. Each wait for "blocked" is a poll of INFO's blocked_clients. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();
TestSuite(blocking, .init = up, .fini = down);

static void wait_blocked(long long n) {
    long long t0 = mono_ms();
    while (info_field(c, "clients", "blocked_clients") != n) {
        cr_assert_lt(mono_ms() - t0, SKV_WAIT_MS, "blocked_clients never reached %lld", n);
        msleep(10);
    }
}

/* Sends a command on another connection without waiting for its reply. */
static void send_only(redisContext *x, const char *cmd) {
    redisAppendCommand(x, cmd);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(x, &done), REDIS_OK);
}

static redisReply *get_reply(redisContext *x) {
    void *r = NULL;
    cr_assert_eq(redisGetReply(x, &r), REDIS_OK, "no reply: %s", x->errstr);
    return r;
}

Test(blocking, blpop_is_served_by_a_push_fifo) {
    redisContext *a = skv_connect(&srv), *b = skv_connect(&srv);
    send_only(a, "BLPOP q1 q2 0");
    wait_blocked(1);
    send_only(b, "BLPOP q2 0");
    wait_blocked(2);
    expect_int(CMD("RPUSH q2 first second"), 2);
    redisReply *r = get_reply(a); /* a blocked first: it gets the first element */
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_str_eq(r->element[0]->str, "q2");
    cr_expect_str_eq(r->element[1]->str, "first");
    freeReplyObject(r);
    r = get_reply(b);
    cr_expect_str_eq(r->element[1]->str, "second");
    freeReplyObject(r);
    wait_blocked(0);
    expect_int(CMD("EXISTS q2"), 0);
    redisFree(a);
    redisFree(b);
}

Test(blocking, timeout_gives_nil) {
    redisContext *a = skv_connect(&srv);
    long long t0 = mono_ms();
    redisReply *r = skv_cmd(a, "BLPOP q 0.2");
    long long took = mono_ms() - t0;
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "type %d", r->type);
    freeReplyObject(r);
    cr_expect_geq(took, 150);
    cr_expect_lt(took, 5000);
    r = skv_cmd(a, "BLMOVE q d LEFT RIGHT 0.05");
    cr_expect_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    expect_int(CMD("DBSIZE"), 0);
    redisFree(a);
}

Test(blocking, no_blocking_inside_multi) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("BLPOP q 0"), "QUEUED");
    expect_status(CMD("BRPOPLPUSH q d 0"), "QUEUED");
    redisReply *r = ARRAY("EXEC");
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_NIL);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
}

Test(blocking, woken_after_exec_with_its_result) {
    redisContext *a = skv_connect(&srv);
    send_only(a, "BRPOP q 0");
    wait_blocked(1);
    expect_ok(CMD("MULTI"));
    expect_status(CMD("RPUSH q a b c"), "QUEUED");
    expect_status(CMD("RPOP q"), "QUEUED");
    redisReply *r = ARRAY("EXEC");
    freeReplyObject(r);
    r = get_reply(a); /* it sees the state after the whole transaction */
    cr_expect_str_eq(r->element[1]->str, "b");
    freeReplyObject(r);
    expect_strs(CMD("LRANGE q 0 -1"), 1, "a");
    redisFree(a);
}

Test(blocking, pipelined_commands_wait_for_the_wakeup) {
    redisContext *a = skv_connect(&srv);
    redisAppendCommand(a, "BLPOP q 0");
    redisAppendCommand(a, "RPUSH after 1");
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(a, &done), REDIS_OK);
    wait_blocked(1);
    expect_int(CMD("EXISTS after"), 0); /* not run while blocked */
    expect_int(CMD("LPUSH q x"), 1);
    redisReply *r = get_reply(a);
    cr_expect_str_eq(r->element[1]->str, "x");
    freeReplyObject(r);
    expect_int(get_reply(a), 1);
    redisFree(a);
}

Test(blocking, disconnect_while_blocked) {
    redisContext *a = skv_connect(&srv);
    send_only(a, "BLPOP q 0");
    wait_blocked(1);
    redisFree(a);
    wait_blocked(0);
    expect_int(CMD("RPUSH q kept"), 1);
    expect_strs(CMD("LRANGE q 0 -1"), 1, "kept");
}

Test(blocking, blmove_and_blmpop) {
    redisContext *a = skv_connect(&srv), *b = skv_connect(&srv);
    send_only(a, "BLMOVE src dst RIGHT LEFT 0");
    send_only(b, "BLMPOP 0 2 x dst LEFT COUNT 2");
    wait_blocked(2);
    expect_int(CMD("RPUSH src 1 2"), 2);
    expect_bulk(get_reply(a), "2");
    /* the move filled dst: b, blocked on it, is served in the same turn */
    redisReply *r = get_reply(b);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_str_eq(r->element[0]->str, "dst");
    cr_expect_eq(r->element[1]->elements, 1);
    freeReplyObject(r);
    expect_strs(CMD("LRANGE src 0 -1"), 1, "1");
    expect_int(CMD("EXISTS dst"), 0);
    redisFree(a);
    redisFree(b);
}

Test(blocking, wrong_type_push_does_not_wake) {
    redisContext *a = skv_connect(&srv);
    send_only(a, "BLPOP k 1");
    wait_blocked(1);
    expect_ok(CMD("SET k string"));
    redisReply *r = get_reply(a); /* only the timeout ends it */
    cr_expect_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    redisFree(a);
}
