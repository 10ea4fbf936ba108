/* End-to-end tests of MSG.* (SPEC §4.5) against a real stagekv-server:
 * reply shapes and every refusal, the two participants fixed by the first
 * message, the documents under messages:{conv}:{id} and
 * conversations:{conv}:details, HISTORY paging, CONVERSATIONS in order of
 * latest activity, exact unread counts (also under concurrent senders and
 * readers), IDEMP, the write guard, WATCH and a restart. */
#include "e2e_json.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

TestSuite(msg, .init = up, .fini = down);

/* An array of conversation details whose convs are exactly the n names. */
#define expect_convs(r, n, ...) expect_docs(r, "conv", n, __VA_ARGS__)

static long long dbsize(void) {
    redisReply *r = skv_cmd(c, "DBSIZE");
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/* The unread count of conv in uid's MSG.CONVERSATIONS (-1: not listed). */
static long long conv_unread(const char *uid, const char *conv) {
    redisReply *r = skv_cmd(c, "MSG.CONVERSATIONS %s LIMIT 1000", uid);
    long long v = -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (!strcmp(jfind(r->element[i]->str, "conv"), conv)) v = jfind_int(r->element[i]->str, "unread");
    freeReplyObject(r);
    return v;
}

/* MSG.SEND with a binary-safe text. */
static redisReply *send_text(const char *conv, const char *from, const char *to, const char *text, size_t len) {
    const char *argv[] = {"MSG.SEND", conv, from, to, text};
    size_t lens[] = {8, strlen(conv), strlen(from), strlen(to), len};
    return skv_cmdargv(c, 5, argv, lens);
}

/* ---- documents ------------------------------------------------------------------- */

Test(msg, send_writes_the_message_and_the_details) {
    char id1[17], id2[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob %s", "hello bob"), id1);
    redisReply *r = skv_cmd(c, "KV.GET messages:c1:%s", id1);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    char want[512];
    snprintf(want, sizeof want,
             "{\"id\":\"%s\",\"conv\":\"c1\",\"from\":\"alice\",\"to\":\"bob\",\"text\":\"hello bob\",\"read\":false,"
             "\"created_at\":\"",
             id1);
    cr_expect(strncmp(r->str, want, strlen(want)) == 0, "%s", r->str);
    char created1[32];
    snprintf(created1, sizeof created1, "%s", jfind(r->str, "created_at"));
    cr_expect(strlen(created1) == 24 && created1[10] == 'T' && created1[23] == 'Z', "%s", created1);
    freeReplyObject(r);

    r = skv_cmd(c, "KV.GET conversations:c1:details");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    snprintf(want, sizeof want,
             "{\"conv\":\"c1\",\"participants\":[\"alice\",\"bob\"],\"last_message\":{\"id\":\"%s\",\"from\":\"alice\","
             "\"text\":\"hello bob\",\"created_at\":\"%s\"},\"created_at\":\"%s\",\"updated_at\":\"%s\"}",
             id1, created1, created1, created1);
    cr_expect_str_eq(r->str, want);
    freeReplyObject(r);

    /* the answer, the other way round: the participants stay as fixed */
    expect_id(skv_cmd(c, "MSG.SEND c1 bob alice %s", "hi alice"), id2);
    cr_expect(strcmp(id2, id1) > 0, "%s after %s", id2, id1);
    r = skv_cmd(c, "KV.GET messages:c1:%s", id2);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    cr_expect_str_eq(jfind(r->str, "from"), "bob");
    cr_expect_str_eq(jfind(r->str, "to"), "alice");
    cr_expect(strstr(r->str, "\"read\":false"), "%s", r->str);
    char created2[32];
    snprintf(created2, sizeof created2, "%s", jfind(r->str, "created_at"));
    freeReplyObject(r);
    r = skv_cmd(c, "KV.GET conversations:c1:details");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    cr_expect(strstr(r->str, "\"participants\":[\"alice\",\"bob\"]"), "%s", r->str);
    char lm[64];
    jfind_in(r->str, "\"last_message\"", "id", lm, sizeof lm);
    cr_expect_str_eq(lm, id2, "%s", r->str);
    jfind_in(r->str, "\"last_message\"", "from", lm, sizeof lm);
    cr_expect_str_eq(lm, "bob", "%s", r->str);
    jfind_in(r->str, "\"last_message\"", "text", lm, sizeof lm);
    cr_expect_str_eq(lm, "hi alice", "%s", r->str);
    cr_expect_str_eq(jfind(r->str, "updated_at"), created2, "%s", r->str);
    cr_expect(strstr(r->str, created1), "the details keep their created_at: %s", r->str);
    freeReplyObject(r);

    /* two messages and the details are the only keys: counters and indexes
     * are engine-internal */
    cr_expect_eq(dbsize(), 3);
    r = skv_cmd(c, "KV.GETBYPREFIX messages:c1:");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "%zu", r->elements);
    freeReplyObject(r);
    r = skv_cmd(c, "SCAN 0 COUNT 1000");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->element[1]->elements, 3);
    freeReplyObject(r);
}

Test(msg, text_goes_in_through_the_json_encoder) {
    static const char *const texts[] = {
        "say \"hi\" \\ back\nslash / tab\t cr\r",
        "\x01\x1f control bytes",
        "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x8e\xb5 (2, 3 and 4 bytes)",
        "{\"read\":true,\"to\":\"mallory\"}",
        "</script><script>alert(1)</script>",
        "\",\"read\":true,\"x\":\"",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char id[17], out[512];
        expect_id(send_text("c1", "alice", "bob", texts[i], strlen(texts[i])), id);
        redisReply *r = skv_cmd(c, "KV.GET messages:c1:%s", id);
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
        jfind_in(r->str, NULL, "text", out, sizeof out);
        cr_expect_str_eq(out, texts[i], "text %zu stored as %s", i, r->str);
        cr_expect_str_eq(jfind(r->str, "to"), "bob", "%s", r->str);
        cr_expect(strstr(r->str, "\"read\":false,\"created_at\""), "%s", r->str);
        freeReplyObject(r);
        r = skv_cmd(c, "KV.GET conversations:c1:details");
        jfind_in(r->str, "\"last_message\"", "text", out, sizeof out);
        cr_expect_str_eq(out, texts[i], "details %s", r->str);
        freeReplyObject(r);
    }
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 6);
    expect_int(skv_cmd(c, "MSG.UNREAD mallory"), 0);

    /* 65536 bytes is the largest text, multi-byte characters included */
    size_t max = 65536;
    char *big = malloc(max + 2);
    cr_assert(big);
    for (size_t i = 0; i < max; i += 4) memcpy(big + i, "\xf0\x9f\x8e\xb5", 4);
    char id[17];
    big[max] = 0;
    expect_id(send_text("c1", "bob", "alice", big, max), id);
    redisReply *r = skv_cmd(c, "MSG.HISTORY c1 LIMIT 1");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    cr_expect(strstr(r->element[0]->str, big) != NULL, "the large text is stored unchanged");
    freeReplyObject(r);
    memset(big, 'x', max + 1);
    expect_error(send_text("c1", "bob", "alice", big, max + 1), "INVALID text must be 1 to 65536 bytes");
    free(big);
}

Test(msg, bad_text_writes_nothing) {
    static const struct {
        const char *p;
        size_t n;
    } bad[] = {
        {"", 0},
        {"\xff", 1},
        {"ok \xc3", 4},              /* truncated sequence */
        {"\xc0\xaf", 2},             /* overlong '/' */
        {"\xe0\x80\xaf", 3},         /* overlong, 3 bytes */
        {"\xed\xa0\x80", 3},         /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 4},     /* beyond U+10FFFF */
        {"\x80 continuation", 15},
        {"nul\0inside", 10},
        {"\0", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_error(send_text("c1", "alice", "bob", bad[i].p, bad[i].n),
                     "INVALID text must be 1 to 65536 bytes of UTF-8 without NUL");
        expect_error(send_text("c1", "alice", "bob", bad[i].p, bad[i].n), "INVALID text");
    }
    cr_expect_eq(dbsize(), 0);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 0);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice"), 0, "");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS bob"), 0, "");
    /* no refusal fixed the participants of c1 */
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 carol dave %s", "first"), id);
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob %s", "late"), "INVALID conversation 'c1' is between 'carol' and 'dave'");
}

/* ---- participants ----------------------------------------------------------------- */

Test(msg, participants_are_fixed_by_the_first_message) {
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob %s", "one"), id);
    static const char *const wrong[][2] = {{"carol", "bob"}, {"alice", "carol"}, {"carol", "alice"},
                                           {"bob", "carol"}, {"carol", "dave"},  {"Alice", "bob"}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        expect_error(skv_cmd(c, "MSG.SEND c1 %s %s %s", wrong[i][0], wrong[i][1], "intruder"),
                     "INVALID conversation 'c1' is between 'alice' and 'bob'");
    expect_error(skv_cmd(c, "MSG.SEND c1 alice alice %s", "me"), "INVALID a message to oneself ('alice')");
    expect_error(skv_cmd(c, "MSG.SEND c2 carol carol %s", "me"), "INVALID a message to oneself ('carol')");
    /* nothing of the refusals is anywhere */
    cr_expect_eq(dbsize(), 2);
    redisReply *r = skv_cmd(c, "MSG.HISTORY c1");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    freeReplyObject(r);
    expect_int(skv_cmd(c, "MSG.UNREAD carol"), 0);
    expect_int(skv_cmd(c, "MSG.UNREAD alice"), 0);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 1);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS carol"), 0, "");
    expect_convs(skv_cmd(c, "MSG.HISTORY c2"), 0, "");
    /* both directions between the two stay open */
    expect_id(skv_cmd(c, "MSG.SEND c1 bob alice %s", "two"), id);
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob %s", "three"), id);
    r = skv_cmd(c, "KV.GET conversations:c1:details");
    cr_expect(strstr(r->str, "\"participants\":[\"alice\",\"bob\"]"), "%s", r->str);
    freeReplyObject(r);
    /* the same users may have other conversations */
    expect_id(skv_cmd(c, "MSG.SEND c2 bob alice %s", "elsewhere"), id);
    r = skv_cmd(c, "KV.GET conversations:c2:details");
    cr_expect(strstr(r->str, "\"participants\":[\"bob\",\"alice\"]"), "%s", r->str);
    freeReplyObject(r);
}

/* ---- arguments -------------------------------------------------------------------- */

static const char *const bad_ids[] = {"a:b", ":", "a b", "caf\xc3\xa9", "_system", "_x", "a*", "a/b",
                                      "0123456789012345678901234567890123456789012345678901234567890123x"};

Test(msg, bad_ids_are_refused_everywhere) {
    char want[160];
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        const char *b = bad_ids[i];
        snprintf(want, sizeof want, "INVALID id '%.64s", b); /* a longer one is shown cut */
        expect_error(skv_cmd(c, "MSG.SEND %s alice bob hi", b), want);
        expect_error(skv_cmd(c, "MSG.SEND c1 %s bob hi", b), want);
        expect_error(skv_cmd(c, "MSG.SEND c1 alice %s hi", b), want);
        expect_error(skv_cmd(c, "MSG.SEND %s alice bob hi IDEMP k", b), want);
        expect_error(skv_cmd(c, "MSG.HISTORY %s", b), want);
        expect_error(skv_cmd(c, "MSG.HISTORY c1 AFTER %s", b), want);
        expect_error(skv_cmd(c, "MSG.READ %s bob", b), want);
        expect_error(skv_cmd(c, "MSG.READ c1 %s", b), want);
        expect_error(skv_cmd(c, "MSG.CONVERSATIONS %s", b), want);
        expect_error(skv_cmd(c, "MSG.CONVERSATIONS alice AFTER %s", b), want);
        expect_error(skv_cmd(c, "MSG.UNREAD %s", b), want);
    }
    /* the empty id (hiredis's %s cannot send it) */
    const char *argv[] = {"MSG.SEND", "", "alice", "bob", "hi"};
    size_t lens[] = {8, 0, 5, 3, 2};
    expect_error(skv_cmdargv(c, 5, argv, lens), "INVALID id ''");
    const char *uargv[] = {"MSG.UNREAD", ""};
    size_t ulens[] = {10, 0};
    expect_error(skv_cmdargv(c, 2, uargv, ulens), "INVALID id ''");
    cr_expect_eq(dbsize(), 0);
    /* 64 bytes of every allowed character is an id */
    const char *id64 = "Az09_.-456789012345678901234567890123456789012345678901234567890123";
    char conv[65];
    snprintf(conv, sizeof conv, "%.64s", id64);
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND %s %s %s hi", conv, conv, "b-o.b_2"), id);
    expect_int(skv_cmd(c, "MSG.UNREAD b-o.b_2"), 1);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS %s", conv), 1, conv);
}

Test(msg, arity_options_and_limits) {
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob"), "ERR wrong number of arguments for 'msg.send' command");
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob hi extra"), "ERR syntax error");
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob hi IDEMP"), "ERR syntax error");
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob hi IDEMP k extra"), "ERR syntax error");
    expect_error(skv_cmd(c, "MSG.HISTORY"), "ERR wrong number of arguments for 'msg.history' command");
    expect_error(skv_cmd(c, "MSG.READ c1"), "ERR wrong number of arguments for 'msg.read' command");
    expect_error(skv_cmd(c, "MSG.READ c1 bob x"), "ERR wrong number of arguments for 'msg.read' command");
    expect_error(skv_cmd(c, "MSG.CONVERSATIONS"), "ERR wrong number of arguments for 'msg.conversations' command");
    expect_error(skv_cmd(c, "MSG.UNREAD"), "ERR wrong number of arguments for 'msg.unread' command");
    expect_error(skv_cmd(c, "MSG.UNREAD a b"), "ERR wrong number of arguments for 'msg.unread' command");
    cr_expect_eq(dbsize(), 0);
    static const char *const lists[][2] = {{"MSG.HISTORY", "c1"}, {"MSG.CONVERSATIONS", "alice"}};
    for (size_t i = 0; i < 2; i++) {
        expect_error(skv_cmd(c, "%s %s LIMIT 0", lists[i][0], lists[i][1]), "INVALID LIMIT '0'");
        expect_error(skv_cmd(c, "%s %s LIMIT -1", lists[i][0], lists[i][1]), "INVALID LIMIT '-1'");
        expect_error(skv_cmd(c, "%s %s LIMIT 1001", lists[i][0], lists[i][1]), "INVALID LIMIT '1001'");
        expect_error(skv_cmd(c, "%s %s LIMIT abc", lists[i][0], lists[i][1]), "INVALID LIMIT 'abc'");
        expect_error(skv_cmd(c, "%s %s LIMIT", lists[i][0], lists[i][1]), "ERR syntax error");
        expect_error(skv_cmd(c, "%s %s AFTER", lists[i][0], lists[i][1]), "ERR syntax error");
        expect_error(skv_cmd(c, "%s %s UNREAD", lists[i][0], lists[i][1]), "ERR syntax error");
        expect_error(skv_cmd(c, "%s %s BOGUS 1", lists[i][0], lists[i][1]), "ERR syntax error");
        expect_convs(skv_cmd(c, "%s %s LIMIT 1000", lists[i][0], lists[i][1]), 0, "");
        expect_convs(skv_cmd(c, "%s %s limit 1 after x", lists[i][0], lists[i][1]), 0, "");
    }
    /* unknown owners: empty answers, not errors */
    expect_int(skv_cmd(c, "MSG.UNREAD nobody"), 0);
    expect_int(skv_cmd(c, "MSG.READ nothing nobody"), 0);
    cr_expect_eq(dbsize(), 0);
    /* GETKEYS: the conversation (IDEMP's scope) for MSG.SEND, the owner else */
    redisReply *r = skv_cmd(c, "COMMAND GETKEYS MSG.SEND c7 alice bob hi IDEMP k");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && !strcmp(r->element[0]->str, "c7"));
    freeReplyObject(r);
    r = skv_cmd(c, "COMMAND GETKEYS MSG.CONVERSATIONS alice LIMIT 5");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && !strcmp(r->element[0]->str, "alice"));
    freeReplyObject(r);
}

/* ---- lists ------------------------------------------------------------------------ */

Test(msg, history_pages_newest_first) {
    enum { N = 57 };
    char ids[N][17], rev[N][17];
    for (int i = 0; i < N; i++) expect_id(skv_cmd(c, "MSG.SEND c1 %s %s m%d", i % 3 ? "alice" : "bob",
                                                  i % 3 ? "bob" : "alice", i),
                                          ids[i]);
    for (int i = 0; i < N; i++) memcpy(rev[i], ids[N - 1 - i], 17);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1"), 50, rev); /* default LIMIT 50 */
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 LIMIT 1000"), N, rev);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 LIMIT 3"), 3, rev);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER %s LIMIT 3", rev[2]), 3, rev + 3);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 LIMIT 3 AFTER %s", rev[5]), 3, rev + 6);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER %s", rev[N - 2]), 1, rev + N - 1);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER %s", rev[N - 1]), 0, rev);
    /* an AFTER that is no message: continues where it would sit */
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER ffffffffffffffff LIMIT 2"), 2, rev);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER 0 LIMIT 2"), 0, rev);
    char mid[18];
    snprintf(mid, sizeof mid, "%s0", rev[10]); /* sorts just after rev[10], before rev[9] */
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 AFTER %s LIMIT 2", mid), 2, rev + 10);
    /* a walk by pages of 7 visits every message once, in order */
    char after[17] = "";
    int seen = 0;
    for (;;) {
        redisReply *r = after[0] ? skv_cmd(c, "MSG.HISTORY c1 AFTER %s LIMIT 7", after) : skv_cmd(c, "MSG.HISTORY c1 LIMIT 7");
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++, seen++) {
            cr_expect_str_eq(jfind(r->element[i]->str, "id"), rev[seen]);
            cr_expect_str_eq(jfind(r->element[i]->str, "conv"), "c1");
            char t[16];
            snprintf(t, sizeof t, "m%d", N - 1 - seen);
            cr_expect_str_eq(jfind(r->element[i]->str, "text"), t);
        }
        if (n) snprintf(after, sizeof after, "%s", jfind(r->element[n - 1]->str, "id"));
        freeReplyObject(r);
        if (n < 7) break;
    }
    cr_expect_eq(seen, N);
    /* other conversations are apart; an unknown one is empty */
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c10 alice bob x"), id);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c10"), 1, &id);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1 LIMIT 1"), 1, rev);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c"), 0, rev);
}

Test(msg, conversations_by_latest_activity) {
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob x"), id);
    expect_id(skv_cmd(c, "MSG.SEND c2 carol alice x"), id);
    expect_id(skv_cmd(c, "MSG.SEND c3 alice dave x"), id);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice"), 3, "c3", "c2", "c1");
    /* an older conversation gets a new message: it comes first */
    expect_id(skv_cmd(c, "MSG.SEND c1 bob alice y"), id);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice"), 3, "c1", "c3", "c2");
    expect_id(skv_cmd(c, "MSG.SEND c2 alice carol y"), id);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice"), 3, "c2", "c1", "c3");
    /* the others see their own conversations only */
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS bob"), 1, "c1");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS carol"), 1, "c2");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS dave"), 1, "c3");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS erin"), 0, "");
    /* paging: AFTER conv continues after it in this order */
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice LIMIT 1"), 1, "c2");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice AFTER c2 LIMIT 1"), 1, "c1");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice LIMIT 1 AFTER c1"), 1, "c3");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice AFTER c1"), 1, "c3");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice AFTER c3"), 0, "");
    /* a conversation that is not alice's is no position in her list */
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS alice AFTER c9"), 0, "");
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS bob AFTER c2"), 0, "");
    /* each entry is the details document plus alice's unread count */
    redisReply *r = skv_cmd(c, "MSG.CONVERSATIONS alice");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    static const char *const order[] = {"c2", "c1", "c3"};
    static const long long unread[] = {1, 1, 0}; /* carol's first, bob's second message */
    for (size_t i = 0; i < 3; i++) {
        redisReply *d = skv_cmd(c, "KV.GET conversations:%s:details", order[i]);
        cr_assert_eq(d->type, REDIS_REPLY_STRING);
        char want[512];
        snprintf(want, sizeof want, "%.*s,\"unread\":%lld}", (int)d->len - 1, d->str, unread[i]);
        cr_expect_str_eq(r->element[i]->str, want);
        freeReplyObject(d);
    }
    freeReplyObject(r);
    /* many conversations: the order holds over pages */
    enum { M = 30 };
    for (int i = 0; i < M; i++) expect_id(skv_cmd(c, "MSG.SEND d%02d zed u%d x", i, i), id);
    expect_id(skv_cmd(c, "MSG.SEND d05 u5 zed again"), id);
    char after[8] = "";
    int seen = 0;
    for (;;) {
        r = after[0] ? skv_cmd(c, "MSG.CONVERSATIONS zed AFTER %s LIMIT 4", after)
                     : skv_cmd(c, "MSG.CONVERSATIONS zed LIMIT 4");
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++, seen++) {
            char want[16];
            int k = seen == 0 ? 5 : M - seen - (M - seen <= 5 ? 1 : 0);
            snprintf(want, sizeof want, "d%02d", k);
            cr_expect_str_eq(jfind(r->element[i]->str, "conv"), want, "entry %d", seen);
        }
        if (n) snprintf(after, sizeof after, "%s", jfind(r->element[n - 1]->str, "conv"));
        freeReplyObject(r);
        if (n < 4) break;
    }
    cr_expect_eq(seen, M);
}

/* ---- unread ------------------------------------------------------------------------- */

Test(msg, unread_per_conversation_and_total) {
    char id[17], to_alice[17];
    for (int i = 0; i < 3; i++) expect_id(skv_cmd(c, "MSG.SEND c1 alice bob a%d", i), id);
    for (int i = 0; i < 2; i++) expect_id(skv_cmd(c, "MSG.SEND c2 carol bob c%d", i), id);
    expect_id(skv_cmd(c, "MSG.SEND c1 bob alice b0"), to_alice);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 5);
    expect_int(skv_cmd(c, "MSG.UNREAD alice"), 1);
    expect_int(skv_cmd(c, "MSG.UNREAD carol"), 0);
    cr_expect_eq(conv_unread("bob", "c1"), 3);
    cr_expect_eq(conv_unread("bob", "c2"), 2);
    cr_expect_eq(conv_unread("alice", "c1"), 1);
    cr_expect_eq(conv_unread("carol", "c2"), 0);

    /* READ by someone else changes nothing */
    expect_int(skv_cmd(c, "MSG.READ c1 carol"), 0);
    expect_int(skv_cmd(c, "MSG.READ c2 alice"), 0);
    expect_int(skv_cmd(c, "MSG.READ c9 bob"), 0);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 5);
    redisReply *r = skv_cmd(c, "MSG.HISTORY c1");
    for (size_t i = 0; i < r->elements; i++)
        cr_expect(strstr(r->element[i]->str, "\"read\":false"), "%s", r->element[i]->str);
    freeReplyObject(r);

    /* bob reads c1: his three, not the one he sent to alice */
    expect_int(skv_cmd(c, "MSG.READ c1 bob"), 3);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 2);
    expect_int(skv_cmd(c, "MSG.UNREAD alice"), 1);
    cr_expect_eq(conv_unread("bob", "c1"), 0);
    cr_expect_eq(conv_unread("bob", "c2"), 2);
    cr_expect_eq(conv_unread("alice", "c1"), 1);
    r = skv_cmd(c, "MSG.HISTORY c1");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4);
    for (size_t i = 0; i < r->elements; i++) {
        const char *d = r->element[i]->str;
        int to_bob = !strcmp(jfind(d, "to"), "bob");
        cr_expect(strstr(d, to_bob ? "\"read\":true" : "\"read\":false") != NULL, "%s", d);
    }
    freeReplyObject(r);
    r = skv_cmd(c, "KV.GET messages:c1:%s", to_alice);
    cr_expect(strstr(r->str, "\"read\":false"), "%s", r->str);
    freeReplyObject(r);
    expect_int(skv_cmd(c, "MSG.READ c1 bob"), 0); /* nothing left */
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 2);

    /* a new message after READ is unread again */
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob a3"), id);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 3);
    cr_expect_eq(conv_unread("bob", "c1"), 1);
    expect_int(skv_cmd(c, "MSG.READ c2 bob"), 2);
    expect_int(skv_cmd(c, "MSG.READ c1 bob"), 1);
    expect_int(skv_cmd(c, "MSG.READ c1 alice"), 1);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 0);
    expect_int(skv_cmd(c, "MSG.UNREAD alice"), 0);
    cr_expect_eq(conv_unread("bob", "c2"), 0);
    cr_expect_eq(dbsize(), 9); /* 7 messages, 2 details: READ adds no key */
}

Test(msg, counts_survive_a_restart) {
    char id[17];
    for (int i = 0; i < 4; i++) expect_id(skv_cmd(c, "MSG.SEND c1 alice bob %d", i), id);
    expect_id(skv_cmd(c, "MSG.SEND c2 carol bob x"), id);
    expect_int(skv_cmd(c, "MSG.READ c2 bob"), 1);
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 4);
    cr_expect_eq(conv_unread("bob", "c1"), 4);
    cr_expect_eq(conv_unread("bob", "c2"), 0);
    expect_convs(skv_cmd(c, "MSG.CONVERSATIONS bob"), 2, "c2", "c1");
    expect_int(skv_cmd(c, "MSG.READ c1 bob"), 4);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 0);
}

/* ---- IDEMP, the write guard, WATCH --------------------------------------------------- */

Test(msg, idemp_retry_is_safe) {
    char id[17], again[17], other[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob hello IDEMP k1"), id);
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob hello IDEMP k1"), again);
    cr_expect_str_eq(again, id);
    expect_id(skv_cmd(c, "msg.send c1 alice bob hello idemp k1"), again);
    cr_expect_str_eq(again, id);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 1);
    expect_id_list(skv_cmd(c, "MSG.HISTORY c1"), 1, &id);
    /* the same key for another request */
    expect_error(skv_cmd(c, "MSG.SEND c1 alice bob bye IDEMP k1"), "CONFLICT IDEMP key 'k1'");
    expect_error(skv_cmd(c, "MSG.SEND c1 bob alice hello IDEMP k1"), "CONFLICT");
    /* the scope is the conversation: k1 is fresh in c2 */
    expect_id(skv_cmd(c, "MSG.SEND c2 alice bob hello IDEMP k1"), other);
    cr_expect_str_neq(other, id);
    /* a refused call records nothing: its key is still free */
    expect_error(skv_cmd(c, "MSG.SEND c1 carol bob hi IDEMP k2"), "INVALID conversation");
    expect_error(skv_cmd(c, "MSG.SEND c1 alice alice hi IDEMP k2"), "INVALID a message to oneself");
    expect_id(skv_cmd(c, "MSG.SEND c1 bob alice hi IDEMP k2"), other);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 2);
    expect_int(skv_cmd(c, "MSG.UNREAD alice"), 1);
    redisReply *r = skv_cmd(c, "MSG.HISTORY c1");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    freeReplyObject(r);
    const char *argv[] = {"MSG.SEND", "c1", "alice", "bob", "x", "IDEMP", ""};
    size_t lens[] = {8, 2, 5, 3, 1, 5, 0};
    expect_error(skv_cmdargv(c, 7, argv, lens), "INVALID IDEMP key");
}

Test(msg, documents_belong_to_the_engine) {
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob hi"), id);
    static const char *const owned = "ERR key '";
    expect_error(skv_cmd(c, "KV.SET messages:x:y {}"), "ERR key 'messages:x:y' is owned by the domain engine");
    expect_error(skv_cmd(c, "KV.SET messages:c1:%s {}", id), owned);
    expect_error(skv_cmd(c, "KV.SET conversations:c1:details {}"), owned);
    expect_error(skv_cmd(c, "KV.DEL messages:c1:%s", id), owned);
    expect_error(skv_cmd(c, "KV.PATCH messages:c1:%s {\"read\":true}", id), owned);
    expect_error(skv_cmd(c, "KV.DELBYPREFIX conversations:"), owned);
    expect_error(skv_cmd(c, "SET messages:c1:%s x", id), owned);
    expect_error(skv_cmd(c, "DEL conversations:c1:details"), owned);
    /* reads are allowed */
    redisReply *r = skv_cmd(c, "KV.GET messages:c1:%s", id);
    cr_expect(r->type == REDIS_REPLY_STRING && strstr(r->str, "\"read\":false"));
    freeReplyObject(r);
    r = skv_cmd(c, "KV.GETBYPREFIX conversations:");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              !strcmp(r->element[0]->str, "conversations:c1:details"));
    freeReplyObject(r);
    expect_int(skv_cmd(c, "KV.COUNT messages:c1:"), 1);
    expect_int(skv_cmd(c, "MSG.UNREAD bob"), 1);
}

Test(msg, domain_writes_invalidate_watch) {
    char id[17];
    expect_id(skv_cmd(c, "MSG.SEND c1 alice bob hi"), id);
    redisContext *c2 = skv_connect(&srv);
    static const char *const keys[] = {"conversations:c1:details", NULL};
    for (size_t i = 0; keys[i]; i++) {
        expect_status(skv_cmd(c, "WATCH %s", keys[i]), "OK");
        expect_status(skv_cmd(c, "MULTI"), "OK");
        expect_status(skv_cmd(c, "KV.GET %s", keys[i]), "QUEUED");
        expect_id(skv_cmd(c2, "MSG.SEND c1 bob alice again"), id);
        redisReply *r = skv_cmd(c, "EXEC");
        cr_expect(r->type == REDIS_REPLY_NIL, "EXEC after MSG.SEND: type %d", r->type);
        freeReplyObject(r);
    }
    /* MSG.READ rewrites the documents it marks */
    char key[64];
    snprintf(key, sizeof key, "messages:c1:%s", id);
    expect_status(skv_cmd(c, "WATCH %s", key), "OK");
    expect_status(skv_cmd(c, "MULTI"), "OK");
    expect_status(skv_cmd(c, "KV.GET %s", key), "QUEUED");
    expect_int(skv_cmd(c2, "MSG.READ c1 alice"), 1);
    redisReply *r = skv_cmd(c, "EXEC");
    cr_expect(r->type == REDIS_REPLY_NIL, "EXEC after MSG.READ: type %d", r->type);
    freeReplyObject(r);
    redisFree(c2);
}

/* ---- concurrency --------------------------------------------------------------------- */

#define CUSERS 6
#define CCONVS (CUSERS * (CUSERS - 1) / 2)
#define SENDERS 6
#define READERS 4
#define PER_SENDER 240
#define PER_READER 300

static void pair_of(int k, int *a, int *b) {
    *a = 0;
    *b = 1;
    for (int i = 0; i < CUSERS; i++)
        for (int j = i + 1; j < CUSERS; j++)
            if (k-- == 0) {
                *a = i;
                *b = j;
                return;
            }
}

typedef struct cworker {
    int port, id, reader;
    pthread_barrier_t *start;
    long long marked; /* MSG.READ replies summed */
    long long sent;
    char err[200];
} cworker;

static void *cworker_main(void *arg) {
    cworker *w = arg;
    redisContext *cc = redisConnect("127.0.0.1", w->port);
    if (!cc || cc->err) snprintf(w->err, sizeof w->err, "connect failed");
    else redisSetTimeout(cc, (struct timeval){30, 0});
    pthread_barrier_wait(w->start);
    if (w->err[0]) {
        if (cc) redisFree(cc);
        return NULL;
    }
    unsigned seed = 12345u + (unsigned)w->id;
    int n = w->reader ? PER_READER : PER_SENDER;
    for (int i = 0; i < n && !w->err[0]; i++) {
        redisReply *r;
        if (w->reader) {
            int k = rand_r(&seed) % CCONVS, u = rand_r(&seed) % CUSERS;
            r = redisCommand(cc, "MSG.READ p%d u%d", k, u);
            if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0) w->marked += r->integer;
            else snprintf(w->err, sizeof w->err, "reader %d: MSG.READ -> %s", w->id, r ? rstr(r) : cc->errstr);
            if (r) freeReplyObject(r);
            r = redisCommand(cc, "MSG.UNREAD u%d", u);
            if (!r || r->type != REDIS_REPLY_INTEGER || r->integer < 0)
                snprintf(w->err, sizeof w->err, "reader %d: MSG.UNREAD -> %s", w->id, r ? rstr(r) : cc->errstr);
        } else {
            int k = (w->id * 5 + i) % CCONVS, a, b;
            pair_of(k, &a, &b);
            if ((i / CCONVS + w->id) % 2) {
                int t = a;
                a = b;
                b = t;
            }
            r = redisCommand(cc, "MSG.SEND p%d u%d u%d t%d-%d", k, a, b, w->id, i);
            if (r && r->type == REDIS_REPLY_STRING && r->len == 16) w->sent++;
            else snprintf(w->err, sizeof w->err, "sender %d: MSG.SEND -> %s", w->id, r ? rstr(r) : cc->errstr);
        }
        if (r) freeReplyObject(r);
    }
    redisFree(cc);
    return NULL;
}

Test(msg, unread_exact_under_concurrency, .timeout = 120) {
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, SENDERS + READERS);
    cworker ws[SENDERS + READERS];
    pthread_t th[SENDERS + READERS];
    for (int t = 0; t < SENDERS + READERS; t++) {
        ws[t] = (cworker){.port = srv.port, .id = t, .reader = t >= SENDERS, .start = &bar};
        cr_assert(pthread_create(&th[t], NULL, cworker_main, &ws[t]) == 0);
    }
    for (int t = 0; t < SENDERS + READERS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    long long sent = 0, marked = 0;
    for (int t = 0; t < SENDERS + READERS; t++) {
        cr_expect(ws[t].err[0] == 0, "%s", ws[t].err);
        sent += ws[t].sent;
        marked += ws[t].marked;
    }
    cr_assert_eq(sent, SENDERS * PER_SENDER);
    cr_expect(marked > 0, "the readers marked nothing: the test would prove little");

    /* count from the documents */
    long long unread[CUSERS][CCONVS] = {{0}}, total = 0, read = 0;
    for (int k = 0; k < CCONVS; k++) {
        int a, b;
        pair_of(k, &a, &b);
        redisReply *r = skv_cmd(c, "MSG.HISTORY p%d LIMIT 1000", k);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        for (size_t i = 0; i < r->elements; i++) {
            const char *d = r->element[i]->str, *to = jfind(d, "to");
            int u = to[0] == 'u' ? atoi(to + 1) : -1;
            cr_assert(u == a || u == b, "p%d: message to '%s': %s", k, to, d);
            if (strstr(d, "\"read\":false")) unread[u][k]++;
            else read++;
            total++;
        }
        freeReplyObject(r);
        /* the participants are the pair, the last message the newest */
        r = skv_cmd(c, "KV.GET conversations:p%d:details", k);
        char want[64], want2[64];
        snprintf(want, sizeof want, "\"participants\":[\"u%d\",\"u%d\"]", a, b);
        snprintf(want2, sizeof want2, "\"participants\":[\"u%d\",\"u%d\"]", b, a);
        cr_expect(strstr(r->str, want) || strstr(r->str, want2), "%s", r->str);
        freeReplyObject(r);
    }
    cr_expect_eq(total, sent);
    cr_expect_eq(read, marked, "%lld documents read, MSG.READ replies sum to %lld", read, marked);
    for (int u = 0; u < CUSERS; u++) {
        long long sum = 0;
        for (int k = 0; k < CCONVS; k++) sum += unread[u][k];
        char uid[8];
        snprintf(uid, sizeof uid, "u%d", u);
        redisReply *r = skv_cmd(c, "MSG.UNREAD %s", uid);
        cr_expect(r->type == REDIS_REPLY_INTEGER && r->integer == sum, "%s: MSG.UNREAD %lld, documents %lld", uid,
                  r->integer, sum);
        freeReplyObject(r);
        r = skv_cmd(c, "MSG.CONVERSATIONS %s LIMIT 1000", uid);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_expect_eq(r->elements, CUSERS - 1, "%s is in %zu conversations", uid, r->elements);
        char prev[64] = "gggggggggggggggg";
        for (size_t i = 0; i < r->elements; i++) {
            const char *d = r->element[i]->str;
            const char *conv = jfind(d, "conv");
            int k = atoi(conv + 1);
            cr_expect_eq(jfind_int(d, "unread"), unread[u][k], "%s %s: unread %lld, documents %lld", uid, conv,
                         jfind_int(d, "unread"), unread[u][k]);
            char lm[64];
            jfind_in(d, "\"last_message\"", "id", lm, sizeof lm);
            cr_expect(strcmp(lm, prev) < 0, "%s: conversations out of order at %zu", uid, i);
            snprintf(prev, sizeof prev, "%s", lm);
            redisReply *h = skv_cmd(c, "MSG.HISTORY %s LIMIT 1", conv);
            cr_expect(h->elements == 1 && !strcmp(jfind(h->element[0]->str, "id"), lm), "%s: last_message %s", conv,
                      lm);
            freeReplyObject(h);
        }
        freeReplyObject(r);
    }
    /* and every count goes to zero when everyone reads everything */
    long long rest = 0;
    for (int k = 0; k < CCONVS; k++) {
        int a, b;
        pair_of(k, &a, &b);
        int us[2] = {a, b};
        for (int j = 0; j < 2; j++) {
            redisReply *r = skv_cmd(c, "MSG.READ p%d u%d", k, us[j]);
            cr_expect_eq(r->integer, unread[us[j]][k]);
            rest += r->integer;
            freeReplyObject(r);
        }
    }
    cr_expect_eq(rest + marked, sent);
    for (int u = 0; u < CUSERS; u++) expect_int(skv_cmd(c, "MSG.UNREAD u%d", u), 0);
}

/* ---- MSG.DELETE, MSG.EDIT, MSG.CONVERSATION --------------------------------------- */

/* The details' last message id of conv ("" when null or absent). */
static const char *last_id(const char *conv) {
    static char out[64];
    char *d = take_bulk_or_nil(CMD("KV.GET conversations:%s:details", conv));
    out[0] = 0;
    const char *lm = d ? strstr(d, "\"last_message\":{") : NULL;
    if (lm) snprintf(out, sizeof out, "%s", jfind(lm, "id"));
    free(d);
    return out;
}

Test(msg, delete_own_message_only) {
    char m1[17], m2[17], m3[17];
    expect_id(CMD("MSG.SEND cv a b one"), m1);
    expect_id(CMD("MSG.SEND cv b a two"), m2);
    expect_id(CMD("MSG.SEND cv a b three"), m3);
    expect_int(CMD("MSG.UNREAD b"), 2);
    cr_expect_eq(conv_unread("b", "cv"), 2);
    /* another's message, a missing one, bad ids */
    expect_int(CMD("MSG.DELETE cv b %s", m1), 0);
    expect_int(CMD("MSG.DELETE cv a %s", m2), 0);
    expect_int(CMD("MSG.DELETE cv a ffffffffffffffff"), 0);
    expect_int(CMD("MSG.DELETE other a %s", m1), 0);
    expect_error(CMD("MSG.DELETE cv a x:y"), "INVALID");
    expect_error(CMD("MSG.DELETE c:v a %s", m1), "INVALID");
    expect_error(CMD("MSG.DELETE cv a"), "ERR");
    cr_expect_eq(kv_count(c, "messages:cv:"), 3);
    /* the last message (unread): counts and the last message follow */
    expect_int(CMD("MSG.DELETE cv a %s", m3), 1);
    expect_int(CMD("MSG.DELETE cv a %s", m3), 0);
    expect_int(CMD("MSG.UNREAD b"), 1);
    cr_expect_eq(conv_unread("b", "cv"), 1);
    cr_expect_str_eq(last_id("cv"), m2);
    expect_docs(CMD("MSG.HISTORY cv"), "id", 2, m2, m1);
    /* the other side's deletes */
    expect_int(CMD("MSG.DELETE cv b %s", m2), 1);
    cr_expect_str_eq(last_id("cv"), m1);
    expect_int(CMD("MSG.UNREAD a"), 0);
    expect_int(CMD("MSG.DELETE cv a %s", m1), 1);
    cr_expect_str_eq(last_id("cv"), "");
    expect_int(CMD("MSG.UNREAD b"), 0);
    cr_expect_eq(conv_unread("b", "cv"), 0);
    cr_expect_eq(kv_count(c, "messages:cv:"), 0);
    /* the conversation stays, and takes new messages */
    expect_id(CMD("MSG.SEND cv b a again"), m1);
    cr_expect_str_eq(last_id("cv"), m1);
    expect_int(CMD("MSG.UNREAD a"), 1);
}

/* A read message's delete leaves the counts; the conversation list is
 * ordered by the new last message. */
Test(msg, delete_keeps_the_list_order) {
    char m1[17], m2[17], m3[17];
    expect_id(CMD("MSG.SEND c1 a b x"), m1);
    expect_id(CMD("MSG.SEND c2 a c y"), m2);
    expect_id(CMD("MSG.SEND c1 a b z"), m3);
    expect_int(CMD("MSG.READ c1 b"), 2);
    expect_convs(CMD("MSG.CONVERSATIONS a"), 2, "c1", "c2");
    expect_int(CMD("MSG.DELETE c1 a %s", m3), 1);
    expect_int(CMD("MSG.UNREAD b"), 0);
    expect_convs(CMD("MSG.CONVERSATIONS a"), 2, "c2", "c1");
    expect_convs(CMD("MSG.CONVERSATIONS b"), 1, "c1");
    expect_convs(CMD("MSG.CONVERSATIONS a AFTER c2"), 1, "c1");
}

Test(msg, edit_own_message_only) {
    char m1[17], m2[17];
    expect_id(CMD("MSG.SEND cv a b hello"), m1);
    expect_id(CMD("MSG.SEND cv b a hi"), m2);
    expect_error(CMD("MSG.EDIT cv b %s hacked", m1), "NOTFOUND");
    expect_error(CMD("MSG.EDIT cv a ffffffffffffffff x"), "NOTFOUND");
    expect_error(CMD("MSG.EDIT cv a %s %b", m1, "", (size_t)0), "INVALID");
    expect_error(CMD("MSG.EDIT cv a %s %b", m1, "a\0b", (size_t)3), "INVALID");
    expect_error(CMD("MSG.EDIT cv a x:y text"), "INVALID");
    expect_error(CMD("MSG.EDIT cv a %s", m1), "ERR");
    char *doc = take_bulk(CMD("MSG.EDIT cv a %s %s", m1, "привет \"мир\""));
    cr_expect_str_eq(jstr(doc, "id"), m1);
    cr_expect_str_eq(jstr(doc, "text"), "привет \"мир\"");
    cr_expect(is_iso_ms(jstr(doc, "edited_at")), "%s", doc);
    cr_expect_eq(jtype(doc, "read"), 'f');
    free(doc);
    doc = take_bulk(CMD("KV.GET messages:cv:%s", m1));
    cr_expect_str_eq(jstr(doc, "text"), "привет \"мир\"");
    free(doc);
    expect_int(CMD("MSG.UNREAD b"), 1); /* an edit is not a new message */
    /* the last message's text follows an edit of the last message only */
    char *d = take_bulk(CMD("KV.GET conversations:cv:details"));
    cr_expect_str_eq(jfind(strstr(d, "\"last_message\""), "text"), "hi");
    free(d);
    free(take_bulk(CMD("MSG.EDIT cv b %s bye", m2)));
    d = take_bulk(CMD("KV.GET conversations:cv:details"));
    cr_expect_str_eq(jfind(strstr(d, "\"last_message\""), "text"), "bye");
    cr_expect_str_eq(jfind(strstr(d, "\"last_message\""), "id"), m2);
    free(d);
}

Test(msg, conversation_in_one_call) {
    char m[5][17];
    for (int i = 0; i < 5; i++) expect_id(CMD("MSG.SEND cv %s %s t%d", i % 2 ? "b" : "a", i % 2 ? "a" : "b", i), m[i]);
    char *doc = take_bulk(CMD("MSG.CONVERSATION cv b"));
    jval v;
    cr_assert(jget(doc, "conversation", &v) == 1, "%s", doc);
    cr_expect_str_eq(jfind(doc, "conv"), "cv");
    cr_expect_eq(jint(doc, "unread"), 3);
    cr_expect(strstr(doc, "\"participants\":[\"a\",\"b\"]"), "%s", doc);
    /* the messages newest first */
    const char *p = strstr(doc, "\"messages\":[");
    cr_assert(p, "%s", doc);
    for (int i = 4; i >= 0; i--) {
        char want[40];
        snprintf(want, sizeof want, "\"id\":\"%s\"", m[i]);
        const char *q = strstr(p, want);
        cr_expect(q, "message %d in %s", i, doc);
        if (q) p = q;
    }
    free(doc);
    doc = take_bulk(CMD("MSG.CONVERSATION cv a LIMIT 2"));
    cr_expect_eq(jint(doc, "unread"), 2);
    cr_expect(strstr(doc, m[4]) && strstr(doc, m[3]) && !strstr(doc, m[2]) && !strstr(strstr(doc, "\"messages\""), m[1]),
              "%s", doc);
    free(doc);
    expect_nil(CMD("MSG.CONVERSATION nosuch a"));
    expect_nil(CMD("MSG.CONVERSATION cv z")); /* not a participant */
    expect_error(CMD("MSG.CONVERSATION cv a LIMIT 0"), "INVALID");
    expect_error(CMD("MSG.CONVERSATION cv a AFTER %s", m[1]), "ERR syntax error");
    expect_error(CMD("MSG.CONVERSATION c:v a"), "INVALID");
    expect_error(CMD("MSG.CONVERSATION cv"), "ERR");
    expect_int(CMD("MSG.READ cv b"), 3);
    doc = take_bulk(CMD("MSG.CONVERSATION cv b LIMIT 1"));
    cr_expect_eq(jint(doc, "unread"), 0);
    free(doc);
}

/* USER.DELETE after edits and deletes leaves the other side exact. */
Test(msg, delete_and_edit_then_user_delete) {
    char m1[17], m2[17], m3[17];
    expect_id(CMD("MSG.SEND cv a b one"), m1);
    expect_id(CMD("MSG.SEND cv b a two"), m2);
    expect_id(CMD("MSG.SEND cv a b three"), m3);
    expect_int(CMD("MSG.DELETE cv a %s", m1), 1);
    free(take_bulk(CMD("MSG.EDIT cv a %s edited", m3)));
    take_int(CMD("USER.DELETE a"));
    expect_int(CMD("MSG.UNREAD b"), 0);
    expect_docs(CMD("MSG.HISTORY cv"), "id", 1, m2);
    cr_expect_str_eq(last_id("cv"), m2);
    char *doc = take_bulk(CMD("MSG.CONVERSATION cv b"));
    cr_expect_eq(jint(doc, "unread"), 0);
    free(doc);
}
