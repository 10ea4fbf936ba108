/* End-to-end tests of EMAIL.* (SPEC §4.5): list subscriptions (one
 * document, names in byte order, :1/:0 membership replies), the e-mail log
 * (EMAIL.LOG, EMAIL.HISTORY), IDEMP, and the bad inputs of SPEC §4. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

TestSuite(email, .init = up, .fini = down);

#define ID64 "x123456789012345678901234567890123456789012345678901234567890123"
static const char *const bad_ids[] = {"a:b", "a b", "caf\xc3\xa9", "", "_news", "-x\n", ID64 "4"};
/* List names are UTF-8 names (1-64 bytes, no control characters, no ':'):
 * these are not. */
static const char *const bad_names[] = {"a:b", "", "-x\n", "tab\there", "del\x7f", "c1\xc2\x85", "bad\xff",
                                        "\xd0", ID64 "4"};

/* KV.GET key: the value (free() it) or NULL when absent. */
#define kv_get(key) take_bulk_or_nil(CMD("KV.GET %s", (key)))

Test(email, subscriptions_in_byte_order) {
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 0, NULL);
    expect_int(CMD("EMAIL.SUBSCRIBE u news"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u news"), 0);
    const char *add[] = {"beta", "Zeta", "alpha", "a.b", "A-1", "news.2", "9", ID64};
    for (size_t i = 0; i < sizeof add / sizeof *add; i++) expect_int(CMD("EMAIL.SUBSCRIBE u %s", add[i]), 1);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 9, "9", "A-1", "Zeta", "a.b", "alpha", "beta", "news", "news.2", ID64);
    /* one document at the seed key */
    char *doc = kv_get("email:u:subscriptions");
    cr_assert(doc);
    cr_expect_str_eq(jstr(doc, "user_id"), "u", "%s", doc);
    cr_expect(is_iso_ms(jstr(doc, "updated_at")), "%s", doc);
    cr_expect_eq(jcount(doc), 3, "%s", doc);
    cr_expect(strstr(doc, "\"lists\":[\"9\",\"A-1\",\"Zeta\",\"a.b\",\"alpha\",\"beta\",\"news\",\"news.2\",\"" ID64
                          "\"]"),
              "%s", doc);
    /* a :0 reply writes nothing (the document, updated_at included, stays) */
    expect_int(CMD("EMAIL.SUBSCRIBE u alpha"), 0);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u nope"), 0);
    char *same = kv_get("email:u:subscriptions");
    cr_expect_str_eq(same, doc);
    free(same);
    free(doc);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u beta"), 1);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u beta"), 0);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u Alpha"), 0); /* names are case-sensitive */
    expect_int(CMD("EMAIL.UNSUBSCRIBE u 9"), 1);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u %s", ID64), 1);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 6, "A-1", "Zeta", "a.b", "alpha", "news", "news.2");
    /* another user is apart */
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS v"), 0, NULL);
    expect_int(CMD("EMAIL.SUBSCRIBE v news"), 1);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS v"), 1, "news");
    expect_int(CMD("EMAIL.UNSUBSCRIBE v alpha"), 0);
    /* the last unsubscription removes the document */
    const char *rest[] = {"A-1", "Zeta", "a.b", "alpha", "news", "news.2"};
    for (size_t i = 0; i < 6; i++) expect_int(CMD("EMAIL.UNSUBSCRIBE u %s", rest[i]), 1);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 0, NULL);
    cr_expect_null(kv_get("email:u:subscriptions"));
    expect_int(CMD("EMAIL.UNSUBSCRIBE u news"), 0);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS v"), 1, "news");
    expect_int(CMD("DBSIZE"), 1);
}

Test(email, subscriptions_are_capped) {
    for (int i = 0; i < 1000; i++) expect_int(CMD("EMAIL.SUBSCRIBE u l%04d", i), 1);
    expect_error_eq(CMD("EMAIL.SUBSCRIBE u more"), "INVALID too many e-mail lists (max 1000)");
    expect_int(CMD("EMAIL.SUBSCRIBE u l0500"), 0); /* already: still :0 at the cap */
    redisReply *r = ARRAY("EMAIL.SUBSCRIPTIONS u");
    cr_expect_eq(r->elements, 1000u);
    for (size_t i = 1; i < r->elements; i++)
        cr_expect(strcmp(r->element[i - 1]->str, r->element[i]->str) < 0, "%s then %s", r->element[i - 1]->str,
                  r->element[i]->str);
    freeReplyObject(r);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u l0000"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u more"), 1);
}

Test(email, bad_inputs_write_nothing) {
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        const char *b = bad_ids[i];
        expect_error(CMD("EMAIL.SUBSCRIBE %s news", b), "INVALID id '");
        expect_error(CMD("EMAIL.UNSUBSCRIBE %s news", b), "INVALID id '");
        expect_error(CMD("EMAIL.SUBSCRIPTIONS %s", b), "INVALID id '");
        expect_error(CMD("EMAIL.LOG %s {}", b), "INVALID id '");
        expect_error(CMD("EMAIL.HISTORY %s", b), "INVALID id '");
        expect_error(CMD("EMAIL.HISTORY u AFTER %s", b), "INVALID id '");
    }
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        expect_error(CMD("EMAIL.SUBSCRIBE u %s", bad_names[i]), "INVALID name '");
        expect_error(CMD("EMAIL.UNSUBSCRIBE u %s", bad_names[i]), "INVALID name '");
    }
    expect_error(CMD("EMAIL.SUBSCRIBE u %s", "a:b"), "INVALID name 'a:b'");
    expect_error(CMD("EMAIL.LOG u %s", "{\"a\":"), "INVALID invalid JSON");
    expect_error(CMD("EMAIL.LOG u %s", "nope"), "INVALID invalid JSON");
    expect_error_eq(CMD("EMAIL.LOG u %s", "[]"), "INVALID document must be a JSON object");
    expect_error_eq(CMD("EMAIL.LOG u %s", "42"), "INVALID document must be a JSON object");
    expect_error(CMD("EMAIL.LOG u %s", "{\"s\":\"\\u0000\"}"), "INVALID document contains");
    expect_error_eq(CMD("EMAIL.LOG u {} FOO"), "ERR syntax error");
    expect_error_eq(CMD("EMAIL.LOG u"), "ERR wrong number of arguments for 'email.log' command");
    expect_error_eq(CMD("EMAIL.SUBSCRIBE u"), "ERR wrong number of arguments for 'email.subscribe' command");
    expect_error_eq(CMD("EMAIL.SUBSCRIBE u a b"), "ERR wrong number of arguments for 'email.subscribe' command");
    expect_error_eq(CMD("EMAIL.UNSUBSCRIBE u"), "ERR wrong number of arguments for 'email.unsubscribe' command");
    expect_error_eq(CMD("EMAIL.SUBSCRIPTIONS u v"),
                    "ERR wrong number of arguments for 'email.subscriptions' command");
    expect_error_eq(CMD("EMAIL.HISTORY"), "ERR wrong number of arguments for 'email.history' command");
    expect_error(CMD("EMAIL.HISTORY u LIMIT 0"), "INVALID LIMIT");
    expect_error(CMD("EMAIL.HISTORY u LIMIT -1"), "INVALID LIMIT");
    expect_error(CMD("EMAIL.HISTORY u LIMIT 1001"), "INVALID LIMIT");
    expect_error_eq(CMD("EMAIL.HISTORY u UNREAD"), "ERR syntax error");
    expect_error_eq(CMD("EMAIL.HISTORY u LIMIT"), "ERR syntax error");
    expect_int(CMD("DBSIZE"), 0);
}

Test(email, log_and_history) {
    char id[4][17];
    assert_id(CMD("EMAIL.LOG u %s", "{\"to\":\"u@example.com\",\"subject\":\"Hi \\\"there\\\"\",\"template\":"
                                    "\"welcome\",\"id\":\"x\",\"user_id\":\"v\",\"created_at\":1}"),
              id[0]);
    for (int i = 1; i < 4; i++) assert_id(CMD("EMAIL.LOG u {\"i\":%d}", i), id[i]);
    char key[80];
    snprintf(key, sizeof key, "email:u:history:%s", id[0]);
    char *doc = kv_get(key);
    cr_assert(doc, "no document at %s", key);
    cr_expect_str_eq(jstr(doc, "to"), "u@example.com", "%s", doc);
    cr_expect_str_eq(jstr(doc, "subject"), "Hi \"there\"", "%s", doc);
    cr_expect_str_eq(jstr(doc, "id"), id[0], "%s", doc);
    cr_expect_str_eq(jstr(doc, "user_id"), "u", "%s", doc);
    cr_expect(is_iso_ms(jstr(doc, "created_at")), "%s", doc);
    cr_expect(is_iso_ms(jstr(doc, "updated_at")), "%s", doc);
    cr_expect_eq(jcount(doc), 7, "%s", doc);
    redisReply *r = ARRAY("EMAIL.HISTORY u");
    cr_assert_eq(r->elements, 4u);
    cr_expect_str_eq(r->element[3]->str, doc, "the stored bytes");
    freeReplyObject(r);
    free(doc);
    expect_ids(CMD("EMAIL.HISTORY u"), 4, id[3], id[2], id[1], id[0]);
    expect_ids(CMD("EMAIL.HISTORY u LIMIT 2"), 2, id[3], id[2]);
    expect_ids(CMD("EMAIL.HISTORY u LIMIT 2 AFTER %s", id[2]), 2, id[1], id[0]);
    expect_ids(CMD("EMAIL.HISTORY u AFTER %s", id[0]), 0, NULL);
    expect_ids(CMD("EMAIL.HISTORY u after 0 limit 1000"), 0, NULL);
    expect_ids(CMD("EMAIL.HISTORY nobody"), 0, NULL);
    /* subscriptions share the prefix email:u: but are not history */
    expect_int(CMD("EMAIL.SUBSCRIBE u news"), 1);
    expect_ids(CMD("EMAIL.HISTORY u LIMIT 1"), 1, id[3]);
    expect_int(CMD("KV.COUNT email:u:"), 5);
    expect_int(CMD("KV.COUNT email:u:history:"), 4);
    expect_ids(CMD("EMAIL.HISTORY v"), 0, NULL);
}

Test(email, idemp_log) {
    char a[17], b[17];
    assert_id(CMD("EMAIL.LOG u {\"s\":1} IDEMP k"), a);
    expect_bulk(CMD("EMAIL.LOG u {\"s\":1} IDEMP k"), a);
    expect_error(CMD("EMAIL.LOG u {\"s\":2} IDEMP k"), "CONFLICT");
    expect_int(CMD("KV.COUNT email:u:history:"), 1);
    assert_id(CMD("EMAIL.LOG v {\"s\":1} IDEMP k"), b);
    cr_expect_str_neq(a, b);
    expect_error(CMD("EMAIL.LOG u {\"s\": IDEMP k2"), "INVALID");
    assert_id(CMD("EMAIL.LOG u {\"s\":3} IDEMP k2"), b);
    expect_int(CMD("KV.COUNT email:u:history:"), 2);
}

Test(email, write_guard_and_durability) {
    expect_error(CMD("KV.SET email:u:subscriptions {}"), "ERR key 'email:u:subscriptions' is owned by the domain engine");
    expect_error(CMD("KV.SET email:u:history:1 {}"), "ERR key");
    expect_int(CMD("EMAIL.SUBSCRIBE u b"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u a"), 1);
    char id[17];
    assert_id(CMD("EMAIL.LOG u {}"), id);
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 2, "a", "b");
    expect_ids(CMD("EMAIL.HISTORY u"), 1, id);
}

/* List names are UTF-8: Cyrillic, spaces, accents; byte order; 64 bytes. */
Test(email, utf8_list_names) {
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "новости"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "новости"), 0);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "концерты и туры"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "café"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "_weekly"), 1);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", "news"), 1);
    /* 32 two-byte letters = 64 bytes: the longest name; 65 bytes is not */
    char longest[80] = "", over[96];
    for (int i = 0; i < 32; i++) strcat(longest, "я");
    snprintf(over, sizeof over, "%sx", longest);
    expect_int(CMD("EMAIL.SUBSCRIBE u %s", longest), 1);
    expect_error(CMD("EMAIL.SUBSCRIBE u %s", over), "INVALID name '");
    /* byte order: ASCII first, then Latin-1 letters, then Cyrillic */
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 6, "_weekly", "caf\xc3\xa9", "news", "концерты и туры", "новости",
                longest);
    /* the document holds them as JSON text */
    char *d = kv_get("email:u:subscriptions");
    cr_assert(d);
    cr_expect(strstr(d, "\"новости\""), "%s", d);
    free(d);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u %s", "новости"), 1);
    expect_int(CMD("EMAIL.UNSUBSCRIBE u %s", "новости"), 0);
    expect_strs(CMD("EMAIL.SUBSCRIPTIONS u"), 5, "_weekly", "caf\xc3\xa9", "news", "концерты и туры", longest);
    /* USER.DELETE takes them with the rest */
    take_int(CMD("USER.DELETE u"));
    expect_len(CMD("EMAIL.SUBSCRIPTIONS u"), 0);
}
