/* End-to-end tests of DONATION.* (SPEC §4.4): one atomic step moving the
 * coins, writing both ledger rows, the record, the artist's total and a
 * notification; or nothing at all. */
#include "e2e_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

#define MAX "9223372036854775807"

TestSuite(donations, .init = up, .fini = down);

/* The donation record donations:{to}:{id}: its fields (message NULL = null). */
static void check_record(const char *json, const char *id, const char *from, const char *to, long long amount,
                         const char *message) {
    cr_expect_str_eq(jstr(json, "id"), id, "%s", json);
    cr_expect_str_eq(jstr(json, "user_id"), to, "%s", json);
    cr_expect_str_eq(jstr(json, "from"), from, "%s", json);
    cr_expect_eq(jint(json, "amount"), amount, "%s", json);
    cr_expect(is_iso_ms(jstr(json, "created_at")), "%s", json);
    if (message) cr_expect_str_eq(jstr(json, "message"), message, "%s", json);
    else cr_expect_eq(jtype(json, "message"), 'n', "message not null: %s", json);
    cr_expect_eq(jcount(json), 6, "a donation record has 6 members: %s", json);
}

/* KV.GET of a key, asserted present; free() the result. */
#define kv_get(key) take_bulk(CMD("KV.GET %s", (key)))

/* The notifications of uid (KV.GETBYPREFIX): values only, oldest first. */
static char **notifications(const char *uid, size_t *n) {
    redisReply *r = CMD("KV.GETBYPREFIX notifications:%s:", uid);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    *n = r->elements / 2;
    char **out = calloc(*n + 1, sizeof *out);
    for (size_t i = 0; i < *n; i++) out[i] = strdup(r->element[2 * i + 1]->str);
    freeReplyObject(r);
    return out;
}

static void check_notification(const char *json, const char *to, const char *from, long long amount,
                               const char *donation_id, const char *message) {
    cr_expect_str_eq(jstr(json, "type"), "donation", "%s", json);
    cr_expect_str_eq(jstr(json, "user_id"), to, "%s", json);
    cr_expect_str_eq(jstr(json, "from"), from, "%s", json);
    cr_expect_eq(jint(json, "amount"), amount, "%s", json);
    cr_expect_str_eq(jstr(json, "donation_id"), donation_id, "%s", json);
    cr_expect_eq(jtype(json, "read"), 'f', "read is not false: %s", json);
    cr_expect(is_id(jstr(json, "id")), "%s", json);
    cr_expect(is_iso_ms(jstr(json, "created_at")), "%s", json);
    if (message) cr_expect_str_eq(jstr(json, "message"), message, "%s", json);
    else cr_expect_eq(jtype(json, "message"), 'n', "message not null: %s", json);
}

/* Nothing of a donation to `to` exists. */
static void expect_no_donation(const char *to) {
    expect_int(CMD("KV.COUNT donations:%s:", to), 0);
    expect_int(CMD("KV.COUNT notifications:%s:", to), 0);
    expect_int(CMD("DONATION.TOTAL %s", to), 0);
    expect_len(CMD("DONATION.LIST %s", to), 0);
}

Test(donations, send_moves_coins_and_writes_everything) {
    expect_int(CMD("COINS.ADD fan 100 r"), 100);
    char d1[17], d2[17];
    assert_id(CMD("DONATION.SEND fan artist 30 MESSAGE %s", "thanks!"), d1);
    expect_int(CMD("COINS.BALANCE fan"), 70);
    expect_int(CMD("COINS.BALANCE artist"), 30);
    /* both ledger rows, reason "donation", each naming the other side */
    size_t nf, na;
    char **rf = coins_history(c, "fan", &nf), **ra = coins_history(c, "artist", &na);
    cr_assert_eq(nf, 2);
    cr_assert_eq(na, 1);
    expect_row(rf[0], -30, 70, "donation", "artist");
    expect_row(ra[0], 30, 30, "donation", "fan");
    free_rows(rf);
    free_rows(ra);
    /* the record, by KV.GET and DONATION.LIST */
    char key[100];
    snprintf(key, sizeof key, "donations:artist:%s", d1);
    char *rec1 = kv_get(key);
    check_record(rec1, d1, "fan", "artist", 30, "thanks!");
    expect_int(CMD("DONATION.TOTAL artist"), 30);
    /* a second one, without a message */
    assert_id(CMD("DONATION.SEND fan artist 12"), d2);
    cr_expect(strcmp(d2, d1) > 0, "ids increase");
    snprintf(key, sizeof key, "donations:artist:%s", d2);
    char *rec2 = kv_get(key);
    check_record(rec2, d2, "fan", "artist", 12, NULL);
    expect_int(CMD("DONATION.TOTAL artist"), 42);
    redisReply *r = ARRAY("DONATION.LIST artist");
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, rec2, "newest first");
    cr_expect_str_eq(r->element[1]->str, rec1);
    freeReplyObject(r);
    r = ARRAY("DONATION.LIST artist LIMIT 1");
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(r->element[0]->str, rec2);
    freeReplyObject(r);
    r = ARRAY("DONATION.LIST artist AFTER %s LIMIT 5", d2);
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(r->element[0]->str, rec1);
    freeReplyObject(r);
    expect_len(CMD("DONATION.LIST artist AFTER %s", d1), 0);
    /* donations are received ones: the donor has none */
    expect_len(CMD("DONATION.LIST fan"), 0);
    expect_int(CMD("DONATION.TOTAL fan"), 0);
    /* a notification for the artist per donation, unread */
    size_t nn;
    char **notes = notifications("artist", &nn);
    cr_assert_eq(nn, 2);
    check_notification(notes[0], "artist", "fan", 30, d1, "thanks!");
    check_notification(notes[1], "artist", "fan", 12, d2, NULL);
    free_rows(notes);
    expect_int(CMD("KV.COUNT notifications:fan:"), 0);
    expect_status(CMD("COINS.VERIFY fan"), "OK");
    expect_status(CMD("COINS.VERIFY artist"), "OK");
    free(rec1);
    free(rec2);
    /* the artist can spend what it received */
    expect_int(CMD("COINS.SPEND artist 42 r"), 0);
}

Test(donations, insufficient_funds_writes_nothing) {
    expect_int(CMD("COINS.ADD fan 5 r"), 5);
    expect_error_eq(CMD("DONATION.SEND fan artist 10 MESSAGE hi"), "INSUFFICIENT_FUNDS balance 5, need 10");
    expect_error_eq(CMD("DONATION.SEND broke artist 1"), "INSUFFICIENT_FUNDS balance 0, need 1");
    expect_no_donation("artist");
    expect_int(CMD("COINS.BALANCE fan"), 5);
    expect_int(CMD("COINS.BALANCE artist"), 0);
    expect_len(CMD("COINS.HISTORY fan"), 1);
    expect_len(CMD("COINS.HISTORY artist"), 0);
    expect_int(CMD("DBSIZE"), 2); /* fan's balance and row */
}

Test(donations, to_oneself_is_invalid) {
    expect_int(CMD("COINS.ADD fan 5 r"), 5);
    expect_error_eq(CMD("DONATION.SEND fan fan 1"), "INVALID a donation to oneself ('fan')");
    expect_error_eq(CMD("DONATION.SEND fan fan 1 MESSAGE x"), "INVALID a donation to oneself ('fan')");
    expect_no_donation("fan");
    expect_int(CMD("COINS.BALANCE fan"), 5);
    expect_len(CMD("COINS.HISTORY fan"), 1);
}

Test(donations, messages_are_text) {
    expect_int(CMD("COINS.ADD fan 100 r"), 100);
    static const char *const msgs[] = {
        "say \"hi\"",
        "two\nlines\r\nand a\ttab",
        "back\\slash / slash",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb8 \xe6\x97\xa5\xe6\x9c\xac",
        "\",\"amount\":9e9,\"x\":\"",
        "{\"not\":\"an object\"}",
        "",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        char id[17], key[100];
        assert_id(CMD("DONATION.SEND fan artist 1 MESSAGE %s", msgs[i]), id);
        snprintf(key, sizeof key, "donations:artist:%s", id);
        char *rec = kv_get(key);
        check_record(rec, id, "fan", "artist", 1, msgs[i]);
        free(rec);
    }
    size_t nn;
    char **notes = notifications("artist", &nn);
    cr_assert_eq(nn, sizeof msgs / sizeof msgs[0]);
    for (size_t i = 0; i < nn; i++) cr_expect_str_eq(jstr(notes[i], "message"), msgs[i]);
    free_rows(notes);
    /* not text */
    const char *const want = "INVALID MESSAGE must be 0 to 4096 bytes of UTF-8 text without NUL";
    expect_error_eq(CMD("DONATION.SEND fan artist 1 MESSAGE %s", "bad \xff"), want);
    expect_error_eq(CMD("DONATION.SEND fan artist 1 MESSAGE %b", "a\0b", (size_t)3), want);
    char big[4098];
    memset(big, 'm', 4097);
    big[4097] = 0;
    expect_error_eq(CMD("DONATION.SEND fan artist 1 MESSAGE %s", big), want);
    big[4096] = 0;
    char id[17];
    assert_id(CMD("DONATION.SEND fan artist 1 MESSAGE %s", big), id);
    expect_int(CMD("DONATION.TOTAL artist"), 8);
    expect_int(CMD("COINS.BALANCE fan"), 92);
}

Test(donations, bad_arguments) {
    expect_int(CMD("COINS.ADD fan 100 r"), 100);
    static const char *const bad_ids[] = {"a:b", "a b", "\xc3\xa9", "", "_x", "_system",
                                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};
    for (const char *const *b = bad_ids; *b; b++) {
        char want[120];
        snprintf(want, sizeof want, "INVALID id '%.64s%s'", *b, strlen(*b) > 64 ? "..." : "");
        expect_error_eq(CMD("DONATION.SEND %s artist 1", *b), want);
        expect_error_eq(CMD("DONATION.SEND fan %s 1", *b), want);
        expect_error_eq(CMD("DONATION.LIST %s", *b), want);
        expect_error_eq(CMD("DONATION.TOTAL %s", *b), want);
    }
    static const char *const bad_amounts[] = {"0", "-1", "1.5", "abc", "9223372036854775808", "", NULL};
    for (const char *const *b = bad_amounts; *b; b++) {
        char want[120];
        snprintf(want, sizeof want, "INVALID amount '%s'", *b);
        expect_error(CMD("DONATION.SEND fan artist %s", *b), want);
    }
    expect_error_eq(CMD("DONATION.SEND fan artist 1 MESSAGE"), "ERR syntax error");
    expect_error_eq(CMD("DONATION.SEND fan artist 1 NOTE hi"), "ERR syntax error");
    expect_error_eq(CMD("DONATION.SEND fan artist 1 extra"), "ERR syntax error");
    expect_error_eq(CMD("DONATION.SEND fan artist"), "ERR wrong number of arguments for 'donation.send' command");
    expect_error_eq(CMD("DONATION.TOTAL"), "ERR wrong number of arguments for 'donation.total' command");
    expect_error_eq(CMD("DONATION.TOTAL a b"), "ERR wrong number of arguments for 'donation.total' command");
    expect_error_eq(CMD("DONATION.LIST"), "ERR wrong number of arguments for 'donation.list' command");
    expect_error(CMD("DONATION.LIST artist LIMIT 0"), "INVALID LIMIT '0'");
    expect_error(CMD("DONATION.LIST artist LIMIT -1"), "INVALID LIMIT '-1'");
    expect_error(CMD("DONATION.LIST artist LIMIT 1001"), "INVALID LIMIT '1001'");
    expect_error_eq(CMD("DONATION.LIST artist AFTER a:b"), "INVALID id 'a:b'");
    expect_error_eq(CMD("DONATION.LIST artist UNREAD"), "ERR syntax error");
    expect_no_donation("artist");
    expect_int(CMD("COINS.BALANCE fan"), 100);
    expect_len(CMD("COINS.HISTORY fan"), 1);
    /* the write guard keeps plain writes off the records */
    expect_error_eq(CMD("KV.SET donations:artist:x {}"),
                    "ERR key 'donations:artist:x' is owned by the domain engine; use its commands");
}

Test(donations, idemp) {
    expect_int(CMD("COINS.ADD fan 100 r"), 100);
    char first[17], again[17];
    assert_id(CMD("DONATION.SEND fan artist 10 MESSAGE hey IDEMP d1"), first);
    for (int i = 0; i < 2; i++) {
        assert_id(CMD("DONATION.SEND fan artist 10 MESSAGE hey IDEMP d1"), again);
        cr_expect_str_eq(again, first, "a retry gets the first id");
    }
    expect_error(CMD("DONATION.SEND fan artist 10 MESSAGE other IDEMP d1"), "CONFLICT");
    expect_error(CMD("DONATION.SEND fan artist 11 MESSAGE hey IDEMP d1"), "CONFLICT");
    expect_error(CMD("DONATION.SEND fan artist2 10 MESSAGE hey IDEMP d1"), "CONFLICT");
    /* IDEMP first, MESSAGE after: the same options */
    assert_id(CMD("DONATION.SEND fan artist 5 IDEMP d2 MESSAGE yo"), again);
    expect_int(CMD("COINS.BALANCE fan"), 85);
    expect_int(CMD("DONATION.TOTAL artist"), 15);
    expect_int(CMD("KV.COUNT donations:artist:"), 2);
    expect_int(CMD("KV.COUNT notifications:artist:"), 2);
    expect_len(CMD("COINS.HISTORY artist"), 2);
    /* a refused donation records nothing: its retry runs again */
    expect_error_eq(CMD("DONATION.SEND fan artist 500 IDEMP d3"), "INSUFFICIENT_FUNDS balance 85, need 500");
    expect_int(CMD("COINS.ADD fan 415 r"), 500);
    assert_id(CMD("DONATION.SEND fan artist 500 IDEMP d3"), again);
    expect_int(CMD("COINS.BALANCE fan"), 0);
    expect_int(CMD("DONATION.TOTAL artist"), 515);
}

Test(donations, overflow_writes_nothing) {
    /* the artist's balance would pass 2^63-1 */
    expect_int(CMD("COINS.ADD artist " MAX " r"), INT64_MAX);
    expect_int(CMD("COINS.ADD fan 10 r"), 10);
    expect_error_eq(CMD("DONATION.SEND fan artist 1"), "INVALID balance of 'artist' would pass " MAX);
    expect_no_donation("artist");
    expect_int(CMD("COINS.BALANCE fan"), 10);
    expect_len(CMD("COINS.HISTORY fan"), 1);
    /* the artist's donation total would pass 2^63-1 */
    expect_int(CMD("COINS.SPEND artist " MAX " r"), 0);
    expect_int(CMD("COINS.ADD rich " MAX " r"), INT64_MAX);
    char id[17];
    assert_id(CMD("DONATION.SEND rich artist " MAX), id);
    expect_int(CMD("DONATION.TOTAL artist"), INT64_MAX);
    expect_int(CMD("COINS.SPEND artist " MAX " r"), 0);
    expect_error_eq(CMD("DONATION.SEND fan artist 1"), "INVALID donation total of 'artist' would pass " MAX);
    expect_int(CMD("DONATION.TOTAL artist"), INT64_MAX);
    expect_int(CMD("KV.COUNT donations:artist:"), 1);
    expect_int(CMD("KV.COUNT notifications:artist:"), 1);
    expect_int(CMD("COINS.BALANCE fan"), 10);
    expect_status(CMD("COINS.VERIFY artist"), "OK");
    expect_status(CMD("COINS.VERIFY fan"), "OK");
}

/* Everything of a donation survives a SIGKILL right after its reply. */
Test(donations, durable) {
    expect_int(CMD("COINS.ADD fan 50 r"), 50);
    char id[17];
    assert_id(CMD("DONATION.SEND fan artist 20 MESSAGE %s", "kept"), id);
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(CMD("COINS.BALANCE fan"), 30);
    expect_int(CMD("COINS.BALANCE artist"), 20);
    expect_int(CMD("DONATION.TOTAL artist"), 20);
    redisReply *r = ARRAY("DONATION.LIST artist");
    cr_assert_eq(r->elements, 1);
    check_record(r->element[0]->str, id, "fan", "artist", 20, "kept");
    freeReplyObject(r);
    expect_int(CMD("KV.COUNT notifications:artist:"), 1);
    expect_status(CMD("COINS.VERIFY fan"), "OK");
    expect_status(CMD("COINS.VERIFY artist"), "OK");
}

/* ---- DONATION.GET and DONATION.SENT -------------------------------------------- */

Test(donations, get_and_sent) {
    expect_int(CMD("COINS.ADD fan 100 topup"), 100);
    expect_int(CMD("COINS.ADD fan2 100 topup"), 100);
    char d1[17], d2[17], d3[17], d4[17];
    expect_id(CMD("DONATION.SEND fan art1 10 MESSAGE hi"), d1);
    expect_id(CMD("DONATION.SEND fan art2 20"), d2);
    expect_id(CMD("DONATION.SEND fan2 art1 5"), d3);
    expect_id(CMD("DONATION.SEND fan art1 30"), d4);
    char *doc = take_bulk(CMD("DONATION.GET art1 %s", d1));
    cr_expect_str_eq(jstr(doc, "id"), d1);
    cr_expect_str_eq(jstr(doc, "from"), "fan");
    cr_expect_str_eq(jstr(doc, "user_id"), "art1");
    cr_expect_eq(jint(doc, "amount"), 10);
    cr_expect_str_eq(jstr(doc, "message"), "hi");
    free(doc);
    expect_nil(CMD("DONATION.GET art2 %s", d1)); /* another artist's */
    expect_nil(CMD("DONATION.GET fan %s", d1));  /* the donor holds no record */
    expect_nil(CMD("DONATION.GET art1 nosuch"));
    expect_error(CMD("DONATION.GET art1 a:b"), "INVALID");
    /* sent: the donor's, newest first, all artists */
    expect_docs(CMD("DONATION.SENT fan"), "id", 3, d4, d2, d1);
    expect_docs(CMD("DONATION.SENT fan LIMIT 2"), "id", 2, d4, d2);
    expect_docs(CMD("DONATION.SENT fan AFTER %s", d2), "id", 1, d1);
    expect_docs(CMD("DONATION.SENT fan2"), "id", 1, d3);
    expect_len(CMD("DONATION.SENT art1"), 0);
    expect_len(CMD("DONATION.SENT nobody"), 0);
    expect_error(CMD("DONATION.SENT fan LIMIT 0"), "INVALID");
    expect_error(CMD("DONATION.SENT f:an"), "INVALID");
    /* a refused donation writes no index entry */
    expect_error(CMD("DONATION.SEND fan2 art1 1000"), "INSUFFICIENT_FUNDS");
    expect_docs(CMD("DONATION.SENT fan2"), "id", 1, d3);
}

/* USER.DELETE of the donor removes its sender index; of an artist, the
 * records (the donor's entries for them are skipped). */
Test(donations, user_delete_purges_the_sender_index) {
    expect_int(CMD("COINS.ADD fan 100 topup"), 100);
    char d1[17], d2[17];
    expect_id(CMD("DONATION.SEND fan art1 10"), d1);
    expect_id(CMD("DONATION.SEND fan art2 20"), d2);
    take_int(CMD("USER.DELETE art2"));
    expect_docs(CMD("DONATION.SENT fan"), "id", 1, d1);
    take_int(CMD("USER.DELETE fan"));
    expect_len(CMD("DONATION.SENT fan"), 0);
    /* a new donor of the same uid starts from nothing */
    expect_int(CMD("COINS.ADD fan 5 topup"), 5);
    char d3[17];
    expect_id(CMD("DONATION.SEND fan art1 5"), d3);
    expect_docs(CMD("DONATION.SENT fan"), "id", 1, d3);
    /* the artist's record of the deleted donor stays */
    char *doc = take_bulk(CMD("DONATION.GET art1 %s", d1));
    cr_expect_str_eq(jstr(doc, "from"), "fan");
    free(doc);
}
