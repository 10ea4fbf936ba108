/* End-to-end tests of PAYMENT.RECORD and PAYMENT.LIST (SPEC §4.4) against a
 * real stagekv-server: documents, the (provider, external_id) dedup, CREDIT
 * through the ledger, IDEMP, paging, and every refusal writing nothing. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

/* The balance: COINS.BALANCE when it is there, else the ledger's document. */
static long long balance(const char *uid) {
    redisReply *r = skv_cmd(c, "COINS.BALANCE %s", uid);
    long long v = -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        v = r->integer;
    } else if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "unknown command")) {
        freeReplyObject(r);
        r = skv_cmd(c, "KV.GET coins:%s:balance", uid);
        v = r->type == REDIS_REPLY_NIL ? 0 : r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    }
    freeReplyObject(r);
    return v;
}

#define PAY(ext) "{\"provider\":\"stripe\",\"external_id\":\"" ext "\",\"amount_cents\":999}"

TestSuite(payments, .init = up, .fini = down);

Test(payments, record_stores_the_document) {
    char id[17], key[64];
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s",
                      "{\"provider\":\"stripe\",\"external_id\":\"ev_1\",\"amount_cents\":999,\"meta\":{\"a\":[1]},"
                      "\"id\":\"forged\",\"user_id\":\"u9\",\"created_at\":\"1999\"}"),
              id);
    snprintf(key, sizeof key, "payments:u1:transactions:%s", id);
    redisReply *r = skv_cmd(c, "KV.GET %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    cr_expect_str_eq(jfind(r->str, "id"), id);
    cr_expect_str_eq(jfind(r->str, "user_id"), "u1");
    cr_expect_str_eq(jfind(r->str, "provider"), "stripe");
    cr_expect_str_eq(jfind(r->str, "external_id"), "ev_1");
    cr_expect(strstr(r->str, "\"amount_cents\":999") && strstr(r->str, "\"meta\":{\"a\":[1]}"), "%s", r->str);
    cr_expect_eq(strlen(jfind(r->str, "created_at")), 24, "%s", r->str);
    cr_expect(!strstr(r->str, "forged") && !strstr(r->str, "u9") && !strstr(r->str, "1999"), "%s", r->str);
    freeReplyObject(r);
    /* without CREDIT no coin moves; the dedup record is not a key */
    cr_expect_eq(balance("u1"), 0);
    cr_expect_eq(kv_count(c, "coins:"), 0);
    r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 1);
    freeReplyObject(r);
    char want[1][17];
    memcpy(want[0], id, 17);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1"), 1, want);
}

Test(payments, credit_goes_through_the_ledger) {
    char id[17];
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 500", PAY("ev_1")), id);
    cr_expect_eq(balance("u1"), 500);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s credit 25", PAY("ev_2")), id);
    cr_expect_eq(balance("u1"), 525);
    cr_expect_eq(kv_count(c, "coins:u1:transactions:"), 2);
    redisReply *r = skv_cmd(c, "KV.GETBYPREFIX coins:u1:transactions:");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 4);
    for (size_t i = 1; i < 4; i += 2) {
        const char *row = r->element[i]->str;
        cr_expect_str_eq(jfind(row, "reason"), "payment", "%s", row);
        cr_expect_str_eq(jfind(row, "counterparty"), "_system", "%s", row);
    }
    cr_expect(strstr(r->element[1]->str, "\"amount\":500") && strstr(r->element[1]->str, "\"balance_after\":500"),
              "%s", r->element[1]->str);
    cr_expect(strstr(r->element[3]->str, "\"amount\":25") && strstr(r->element[3]->str, "\"balance_after\":525"),
              "%s", r->element[3]->str);
    freeReplyObject(r);
    /* the largest credit, then one past 2^63-1: refused by the ledger, and
     * the payment is not recorded either (one batch) */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u2 %s CREDIT 9223372036854775807", PAY("ev_3")), id);
    cr_expect_eq(balance("u2"), 9223372036854775807LL);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u2 %s CREDIT 1", PAY("ev_4")), "INVALID");
    cr_expect_eq(balance("u2"), 9223372036854775807LL);
    cr_expect_eq(kv_count(c, "payments:u2:"), 1);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u3 %s CREDIT 1", PAY("ev_4")), id); /* ev_4 was not consumed */
}

Test(payments, bad_credit_writes_nothing) {
    static const char *const bad[] = {"0", "-5", "1.5", "abc", "9223372036854775808", "", "+5", " 5", "1e3",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisReply *r = skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT %s", PAY("ev_1"), bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID amount '", 16) == 0, "CREDIT '%s' -> %s",
                  bad[i], rstr(r));
        freeReplyObject(r);
    }
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT", PAY("ev_1")), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDITS 5", PAY("ev_1")), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s 5", PAY("ev_1")), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 0 IDEMP k", PAY("ev_1")), "INVALID amount '0'");
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    cr_expect_eq(balance("u1"), 0);
    /* nothing was recorded: neither the pair nor the IDEMP key is used up */
    char id[17];
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 5 IDEMP k", PAY("ev_1")), id);
    cr_expect_eq(balance("u1"), 5);
}

Test(payments, webhook_delivered_twice) {
    char id1[17], id2[17], id3[17];
    /* without IDEMP: the second delivery is refused, from any uid */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 100", PAY("ev_1")), id1);
    char msg[160];
    snprintf(msg, sizeof msg, "CONFLICT payment provider 'stripe' external_id 'ev_1' is already recorded as %s", id1);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 100", PAY("ev_1")), msg);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", PAY("ev_1")), msg);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u2 %s CREDIT 100", PAY("ev_1")), msg);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 100 IDEMP fresh",
                         "{\"provider\":\"stripe\",\"external_id\":\"ev_1\",\"other\":1}"),
                 msg);
    cr_expect_eq(balance("u1"), 100);
    cr_expect_eq(balance("u2"), 0);
    cr_expect_eq(kv_count(c, "payments:"), 1);
    /* with the same IDEMP key: the same id is replayed, credited once */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 40 IDEMP wh-2", PAY("ev_2")), id2);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 40 IDEMP wh-2", PAY("ev_2")), id3);
    cr_expect_str_eq(id3, id2);
    cr_expect_eq(balance("u1"), 140);
    /* another key for the same pair, or the same key for another request */
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 40 IDEMP wh-2b", PAY("ev_2")), "CONFLICT payment provider");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 41 IDEMP wh-2", PAY("ev_2")), "CONFLICT IDEMP key 'wh-2'");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 40", PAY("ev_2")), "CONFLICT payment provider");
    cr_expect_eq(balance("u1"), 140);
    cr_expect_eq(kv_count(c, "payments:u1:transactions:"), 2);
    /* providers are separate namespaces, and the key cannot be split
     * ambiguously: (a, bc) and (ab, c) are two payments */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"paypal\",\"external_id\":\"ev_1\"}"), id3);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"a\",\"external_id\":\"bc\"}"), id3);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"ab\",\"external_id\":\"c\"}"), id3);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"external_id\":\"c\",\"provider\":\"ab\"}"), "CONFLICT");
    /* the pair is compared exactly (case matters) */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", PAY("EV_1")), id3);
    /* the dedup record outlives a restart */
    cr_expect_eq(skv_stop(&srv), 0);
    redisFree(c);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u3 %s CREDIT 100", PAY("ev_1")), msg);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 40 IDEMP wh-2", PAY("ev_2")), id3);
    cr_expect_str_eq(id3, id2);
    cr_expect_eq(balance("u1"), 140);
}

Test(payments, pair_validation) {
    char id[17];
    static const char *const bad[] = {
        "{\"provider\":\"stripe\",\"external_id\":12345}",
        "{\"provider\":null,\"external_id\":\"ev\"}",
        "{\"provider\":\"stripe\",\"external_id\":\"\"}",
        "{\"provider\":\"\",\"external_id\":\"ev\"}",
        "{\"provider\":[\"stripe\"],\"external_id\":\"ev\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s CREDIT 5", bad[i]),
                     "INVALID \"provider\" and \"external_id\" must be strings of 1 to 64 and 1 to 255 bytes");
    char json[700], s[300];
    memset(s, 'x', 256);
    s[256] = 0;
    snprintf(json, sizeof json, "{\"provider\":\"stripe\",\"external_id\":\"%s\"}", s);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", json), "INVALID \"provider\"");
    snprintf(json, sizeof json, "{\"provider\":\"%.65s\",\"external_id\":\"e\"}", s);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", json), "INVALID \"provider\"");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"s\",\"external_id\":\"e\""), "INVALID invalid JSON");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", "[1]"), "INVALID document must be a JSON object");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"a\":\"\\u0000\"}"), "INVALID");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"a\":1,\"a\":2}"), "INVALID duplicate member name");
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    cr_expect_eq(balance("u1"), 0);
    /* the longest parts, non-ASCII, '\0'-free by construction */
    s[255] = 0;
    snprintf(json, sizeof json, "{\"provider\":\"%.64s\",\"external_id\":\"%s\"}", s, s);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", json), id);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u2 %s", json), "CONFLICT");
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"b\xc3\xa4nk\",\"external_id\":\"\xe2\x82\xac" "1\"}"),
              id);
    expect_error(skv_cmd(c, "PAYMENT.RECORD u2 %s", "{\"provider\":\"b\xc3\xa4nk\",\"external_id\":\"\xe2\x82\xac" "1\"}"),
                 "CONFLICT");
    /* without both members there is no pair: no dedup */
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"cash\"}"), id);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"provider\":\"cash\"}"), id);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{\"external_id\":7}"), id);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", "{}"), id);
    cr_expect_eq(kv_count(c, "payments:u1:transactions:"), 6);
}

Test(payments, list_pages_newest_first) {
    char ids[7][17], rev[7][17];
    for (int i = 0; i < 7; i++) {
        char json[80];
        snprintf(json, sizeof json, "{\"provider\":\"p\",\"external_id\":\"e%d\"}", i);
        expect_id(skv_cmd(c, "PAYMENT.RECORD u1 %s", json), ids[i]);
        if (i) cr_expect(strcmp(ids[i], ids[i - 1]) > 0, "ids grow: %s after %s", ids[i], ids[i - 1]);
    }
    for (int i = 0; i < 7; i++) memcpy(rev[i], ids[6 - i], 17);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1"), 7, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 LIMIT 3"), 3, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 AFTER %s LIMIT 3", rev[2]), 3, rev + 3);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 limit 3 after %s", rev[5]), 1, rev + 6);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 AFTER %s", rev[6]), 0, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 AFTER ffffffffffffffff LIMIT 1"), 1, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 AFTER 0"), 0, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 LIMIT 1000"), 7, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1 LIMIT 1"), 1, rev);
    /* an absent owner: an empty array; others' payments are not listed */
    expect_id_list(skv_cmd(c, "PAYMENT.LIST nobody"), 0, rev);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u"), 0, rev);
    expect_id(skv_cmd(c, "PAYMENT.RECORD u10 {}"), ids[0]);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1"), 7, rev);
    /* refusals */
    static const char *const limits[] = {"0", "-1", "1001", "x", "1.5", ""};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        redisReply *r = skv_cmd(c, "PAYMENT.LIST u1 LIMIT %s", limits[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID LIMIT '", 15) == 0, "LIMIT '%s' -> %s",
                  limits[i], rstr(r));
        freeReplyObject(r);
    }
    expect_error(skv_cmd(c, "PAYMENT.LIST u1 AFTER a:b"), "INVALID id 'a:b'");
    expect_error(skv_cmd(c, "PAYMENT.LIST u1 LIMIT"), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.LIST u1 UNREAD"), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.LIST u1 FROM 1"), "ERR syntax error");
    expect_error(skv_cmd(c, "PAYMENT.LIST"), "ERR wrong number of arguments");
}

Test(payments, list_leaves_out_payment_methods) {
    skv_cleanup(&srv);
    redisFree(c);
    static const char *const extra[] = {"--domain-write-guard", "no", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    char id[17], want[1][17];
    expect_id(skv_cmd(c, "PAYMENT.RECORD u1 {}"), id);
    memcpy(want[0], id, 17);
    redisReply *r = skv_cmd(c, "KV.SET payments:u1:method:zzzzzzzzzzzzzzzz %s", "{\"id\":\"zzzzzzzzzzzzzzzz\"}");
    freeReplyObject(r);
    r = skv_cmd(c, "KV.SET payments:u1:transactionsX %s", "{\"id\":\"x\"}");
    freeReplyObject(r);
    cr_expect_eq(kv_count(c, "payments:u1:"), 3);
    expect_id_list(skv_cmd(c, "PAYMENT.LIST u1"), 1, want);
}

Test(payments, bad_ids) {
    static const char *const bad[] = {"a:b", "a b", "", "_system", "\xc3\xbc", "payments:u1", "a\r\nb"};
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = 0;
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        const char *id = i < sizeof bad / sizeof bad[0] ? bad[i] : long_id;
        const char *rargv[] = {"PAYMENT.RECORD", id, PAY("ev_1"), "CREDIT", "5"};
        const char *largv[] = {"PAYMENT.LIST", id};
        size_t rl[] = {14, strlen(id), strlen(PAY("ev_1")), 6, 1}, ll[] = {12, strlen(id)};
        expect_error(skv_cmdargv(c, 5, rargv, rl), "INVALID id '");
        expect_error(skv_cmdargv(c, 2, largv, ll), "INVALID id '");
        const char *iargv[] = {"PAYMENT.RECORD", id, PAY("ev_1"), "IDEMP", "k"};
        size_t il[] = {14, strlen(id), strlen(PAY("ev_1")), 5, 1};
        expect_error(skv_cmdargv(c, 5, iargv, il), "INVALID id '");
    }
    expect_error(skv_cmd(c, "PAYMENT.RECORD _system {} CREDIT 5"), "INVALID id '_system'");
    expect_error(skv_cmd(c, "PAYMENT.RECORD u1"), "ERR wrong number of arguments");
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    /* the pair was never consumed */
    char id[17];
    expect_id(skv_cmd(c, "PAYMENT.RECORD %s %s CREDIT 5", long_id + 1, PAY("ev_1")), id);
    cr_expect_eq(balance(long_id + 1), 5);
    r = skv_cmd(c, "COMMAND GETKEYS PAYMENT.RECORD u7 {} CREDIT 5");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && strcmp(r->element[0]->str, "u7") == 0);
    freeReplyObject(r);
}

/* ---- PAYMENT.GET and PAYMENT.STATUS ------------------------------------------ */

Test(payments, get_returns_the_document_or_nil) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s CREDIT 40", PAY("ev_g")), id);
    char *doc = take_bulk(CMD("PAYMENT.GET u1 %s", id));
    cr_expect_str_eq(jstr(doc, "id"), id);
    cr_expect_str_eq(jstr(doc, "user_id"), "u1");
    cr_expect_eq(jint(doc, "credited"), 40);
    free(doc);
    /* the credited amount is the server's: a client value is replaced */
    expect_id(CMD("PAYMENT.RECORD u1 %s", "{\"credited\":1000}"), id);
    doc = take_bulk(CMD("PAYMENT.GET u1 %s", id));
    cr_expect_eq(jint(doc, "credited"), 0);
    free(doc);
    expect_nil(CMD("PAYMENT.GET u2 %s", id));           /* another user's */
    expect_nil(CMD("PAYMENT.GET u1 ffffffffffffffff")); /* absent */
    expect_nil(CMD("PAYMENT.GET u1 not-an-id"));        /* a valid id, never a payment's */
    expect_error(CMD("PAYMENT.GET u1 a:b"), "INVALID");
    expect_error(CMD("PAYMENT.GET u:1 %s", id), "INVALID");
}

Test(payments, status_transitions) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s", "{\"status\":\"pending\",\"amount_cents\":5}"), id);
    char *doc = take_bulk(CMD("PAYMENT.STATUS u1 %s succeeded", id));
    cr_expect_str_eq(jstr(doc, "status"), "succeeded");
    cr_expect_eq(jint(doc, "amount_cents"), 5);
    char upd[32];
    snprintf(upd, sizeof upd, "%s", jstr(doc, "updated_at"));
    free(doc);
    /* the same status again: the document unchanged */
    doc = take_bulk(CMD("PAYMENT.STATUS u1 %s succeeded", id));
    cr_expect_str_eq(jstr(doc, "updated_at"), upd);
    free(doc);
    expect_error(CMD("PAYMENT.STATUS u1 %s pending", id), "INVALID");
    expect_error(CMD("PAYMENT.STATUS u1 %s failed", id), "INVALID");
    expect_error(CMD("PAYMENT.STATUS u1 %s done", id), "INVALID");
    doc = take_bulk(CMD("PAYMENT.STATUS u1 %s refunded", id));
    cr_expect_str_eq(jstr(doc, "status"), "refunded");
    free(doc);
    expect_error(CMD("PAYMENT.STATUS u1 %s succeeded", id), "INVALID");
    /* no status counts as pending; failed is final */
    expect_id(CMD("PAYMENT.RECORD u1 {}"), id);
    doc = take_bulk(CMD("PAYMENT.STATUS u1 %s failed", id));
    cr_expect_str_eq(jstr(doc, "status"), "failed");
    free(doc);
    expect_error(CMD("PAYMENT.STATUS u1 %s succeeded", id), "INVALID");
    expect_error(CMD("PAYMENT.STATUS u1 %s refunded", id), "INVALID");
    /* absent, another user's, bad ids, arity, options */
    expect_error(CMD("PAYMENT.STATUS u2 %s failed", id), "NOTFOUND");
    expect_error(CMD("PAYMENT.STATUS u1 ffffffffffffffff failed"), "NOTFOUND");
    expect_error(CMD("PAYMENT.STATUS u1 x:y failed"), "INVALID");
    expect_error(CMD("PAYMENT.STATUS u1 %s", id), "ERR");
    expect_error(CMD("PAYMENT.STATUS u1 %s failed EXTRA", id), "ERR syntax error");
}

Test(payments, refund_takes_the_credit_back) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s CREDIT 300", "{\"status\":\"succeeded\"}"), id);
    cr_expect_eq(balance("u1"), 300);
    char *doc = take_bulk(CMD("PAYMENT.STATUS u1 %s refunded", id));
    cr_expect_str_eq(jstr(doc, "status"), "refunded");
    free(doc);
    cr_expect_eq(balance("u1"), 0);
    size_t n;
    char **rows = coins_history(c, "u1", &n);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(jfind(rows[0], "reason"), "refund");
    cr_expect_eq(jfind_int(rows[0], "amount"), -300);
    cr_expect_str_eq(jfind(rows[0], "counterparty"), "_system");
    free_rows(rows);
    expect_status(CMD("COINS.VERIFY u1"), "OK");
    /* refunded again: unchanged, no coin moves */
    free(take_bulk(CMD("PAYMENT.STATUS u1 %s refunded", id)));
    cr_expect_eq(balance("u1"), 0);
    expect_status(CMD("COINS.VERIFY u1"), "OK");
}

/* A refund never pushes a balance below zero: refused, nothing changes. */
Test(payments, refund_below_the_credit_is_refused) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s CREDIT 100", "{\"status\":\"succeeded\"}"), id);
    expect_int(CMD("COINS.SPEND u1 60 shop"), 40);
    expect_error(CMD("PAYMENT.STATUS u1 %s refunded", id), "INSUFFICIENT_FUNDS");
    cr_expect_eq(balance("u1"), 40);
    char *doc = take_bulk(CMD("PAYMENT.GET u1 %s", id));
    cr_expect_str_eq(jstr(doc, "status"), "succeeded");
    free(doc);
    expect_status(CMD("COINS.VERIFY u1"), "OK");
    expect_int(CMD("COINS.ADD u1 60 topup"), 100);
    free(take_bulk(CMD("PAYMENT.STATUS u1 %s refunded", id)));
    cr_expect_eq(balance("u1"), 0);
}

Test(payments, status_idemp) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s CREDIT 50", "{\"status\":\"succeeded\"}"), id);
    char *a = take_bulk(CMD("PAYMENT.STATUS u1 %s refunded IDEMP r1", id));
    char *b = take_bulk(CMD("PAYMENT.STATUS u1 %s refunded IDEMP r1", id));
    cr_expect_str_eq(a, b);
    free(a);
    free(b);
    cr_expect_eq(balance("u1"), 0);
    expect_error(CMD("PAYMENT.STATUS u1 %s failed IDEMP r1", id), "CONFLICT");
}

/* A refund's coins are on disk before its reply. */
Test(payments, refund_survives_kill9) {
    char id[17];
    expect_id(CMD("PAYMENT.RECORD u1 %s CREDIT 70", "{\"status\":\"succeeded\"}"), id);
    free(take_bulk(CMD("PAYMENT.STATUS u1 %s refunded", id)));
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    cr_expect_eq(balance("u1"), 0);
    expect_status(CMD("COINS.VERIFY u1"), "OK");
    char *doc = take_bulk(CMD("PAYMENT.GET u1 %s", id));
    cr_expect_str_eq(jstr(doc, "status"), "refunded");
    free(doc);
}
