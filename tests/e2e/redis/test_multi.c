/* End-to-end tests of transactions (server/core/multi.c): MULTI EXEC
 * DISCARD WATCH UNWATCH, EXECABORT after a queueing error, and a runtime
 * error inside EXEC. */
#include "harness.h"


SKV_FIXTURE();

Test(multi, multi_exec, .init = up, .fini = down) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_status(CMD("INCR a"), "QUEUED");
    expect_status(CMD("GET a"), "QUEUED");
    redisReply *r = take_array(CMD("EXEC"));
    cr_assert_eq(r->elements, 3, "EXEC elements %zu", r->elements);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_STATUS);
    cr_expect_str_eq(rstr(r->element[0]), "OK");
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_INTEGER);
    cr_expect_eq(r->element[1]->integer, 2);
    cr_expect_eq(r->element[2]->type, REDIS_REPLY_STRING);
    cr_expect_str_eq(rstr(r->element[2]), "2");
    freeReplyObject(r);

    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET b 1"), "QUEUED");
    expect_ok(CMD("DISCARD"));
    expect_int(CMD("EXISTS b"), 0);

    expect_error_eq(CMD("EXEC"), "ERR EXEC without MULTI");
    expect_error_eq(CMD("DISCARD"), "ERR DISCARD without MULTI");

    expect_ok(CMD("MULTI"));
    expect_error_eq(CMD("MULTI"), "ERR MULTI calls can not be nested");
    expect_error_eq(CMD("WATCH a"), "ERR WATCH inside MULTI is not allowed");
    expect_ok(CMD("DISCARD"));
}

Test(multi, multi_execabort, .init = up, .fini = down) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_error(CMD("NOSUCHCMD x"), "ERR unknown command");
    expect_error(CMD("EXEC"), "EXECABORT");
    expect_int(CMD("EXISTS a"), 0);
}

Test(multi, multi_runtime_error, .init = up, .fini = down) {
    expect_ok(CMD("SET s abc"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_status(CMD("INCR s"), "QUEUED");
    expect_status(CMD("SET b 2"), "QUEUED");
    redisReply *r = take_array(CMD("EXEC"));
    cr_assert_eq(r->elements, 3, "EXEC elements %zu", r->elements);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_STATUS);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_ERROR);
    cr_expect_str_eq(rstr(r->element[1]), "ERR value is not an integer or out of range");
    cr_expect_eq(r->element[2]->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    expect_bulk(CMD("GET a"), "1");
    expect_bulk(CMD("GET b"), "2");
    expect_bulk(CMD("GET s"), "abc");
}

Test(multi, watch, .init = up, .fini = down) {
    redisContext *c2 = skv_connect(&srv);
    expect_ok(CMD("SET w 1"));
    expect_ok(CMD("WATCH w"));
    expect_ok(skv_cmd(c2, "SET w 2"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET w 3"), "QUEUED");
    redisReply *r = CMD("EXEC");
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "EXEC after a watched change: type %d", r->type);
    freeReplyObject(r);
    expect_bulk(CMD("GET w"), "2");

    expect_ok(CMD("WATCH w"));
    expect_ok(CMD("UNWATCH"));
    expect_ok(skv_cmd(c2, "SET w 4"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET w 5"), "QUEUED");
    r = take_array(CMD("EXEC"));
    cr_expect_eq(r->elements, 1);
    freeReplyObject(r);
    expect_bulk(CMD("GET w"), "5");
    redisFree(c2);
}
