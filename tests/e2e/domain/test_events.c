/* End-to-end tests of the domain engine's live events (docs/pubsub.md):
 * NOTIFY.CREATE on notifications:{uid}, MSG.SEND on messages:{conv} and
 * the recipient's conversations:{uid}, coin moves on coins:{uid}, each
 * {"event": ..., "data": ...} in compact JSON; none for a failed command,
 * a failed command inside EXEC or an IDEMP replay; an event received means
 * its write survives kill -9. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

TestSuite(events, .init = up, .fini = down);

static redisContext *subscriber(const char *patterns) {
    redisContext *s = skv_connect(&srv);
    redisReply *r = skv_cmd(s, "PSUBSCRIBE %s", patterns);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "PSUBSCRIBE: %s", rstr(r));
    freeReplyObject(r);
    return s;
}

/* The next pmessage on s: asserts its channel, returns its payload
 * (malloc()ed). */
#define next_event(s, channel) next_event_at(SKV_AT, (s), (channel))
static char *next_event_at(const char *file, int line, redisContext *s, const char *channel) {
    void *v = NULL;
    cr_assert(redisGetReply(s, &v) == REDIS_OK && v, "%s:%d: no event: %s", file, line, s->errstr);
    redisReply *r = v;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "%s:%d: not a pmessage", file, line);
    cr_expect_str_eq(r->element[2]->str, channel, "%s:%d: channel", file, line);
    char *payload = strdup(r->element[3]->str);
    freeReplyObject(r);
    return payload;
}

/* The "data" object of an event payload whose "event" is name (a pointer
 * into payload). */
static const char *event_data(const char *payload, const char *name) {
    cr_expect_str_eq(jstr(payload, "event"), name, "payload %s", payload);
    cr_expect_eq(jcount(payload), 2, "payload has more than event and data: %s", payload);
    const char *d = strstr(payload, "\"data\":{");
    cr_assert(d, "no data object in %s", payload);
    return d + 7;
}

Test(events, coins_moves) {
    redisContext *s = subscriber("coins:*");
    expect_int(CMD("COINS.ADD u1 100 gift"), 100);
    char *p = next_event(s, "coins:u1");
    const char *d = event_data(p, "coins.moved");
    cr_expect_eq(jfind_int(d, "amount"), 100);
    cr_expect_eq(jfind_int(d, "balance_after"), 100);
    cr_expect_str_eq(jfind(d, "reason"), "gift");
    cr_expect_str_eq(jfind(d, "user_id"), "u1");
    cr_expect_str_eq(jfind(d, "counterparty"), "_system");
    cr_expect(is_id(jfind(d, "id")), "row id %s", jfind(d, "id"));
    free(p);
    /* refused: insufficient funds; no event (the next one is the spend after it) */
    expect_error(CMD("COINS.SPEND u1 1000 big"), "INSUFFICIENT_FUNDS");
    expect_error(CMD("COINS.TRANSFER u1 u1 5 self"), "INVALID");
    expect_int(CMD("COINS.SPEND u1 30 ticket"), 70);
    p = next_event(s, "coins:u1");
    d = event_data(p, "coins.moved");
    cr_expect_eq(jfind_int(d, "amount"), -30);
    cr_expect_eq(jfind_int(d, "balance_after"), 70);
    free(p);
    /* a transfer: one event per account, sender first */
    redisReply *r = ARRAY("COINS.TRANSFER u1 u2 20 split");
    freeReplyObject(r);
    p = next_event(s, "coins:u1");
    cr_expect_eq(jfind_int(event_data(p, "coins.moved"), "amount"), -20);
    cr_expect_str_eq(jfind(p, "counterparty"), "u2");
    free(p);
    p = next_event(s, "coins:u2");
    cr_expect_eq(jfind_int(event_data(p, "coins.moved"), "balance_after"), 20);
    free(p);
    /* a donation moves coins (both sides) and notifies the artist */
    freeReplyObject(CMD("DONATION.SEND u1 u2 5 MESSAGE thanks"));
    p = next_event(s, "coins:u1");
    cr_expect_str_eq(jfind(p, "reason"), "donation");
    free(p);
    p = next_event(s, "coins:u2");
    cr_expect_eq(jfind_int(p, "amount"), 5);
    free(p);
    /* an IDEMP replay changes nothing and publishes nothing */
    expect_int(CMD("COINS.ADD u3 7 promo IDEMP k1"), 7);
    expect_int(CMD("COINS.ADD u3 7 promo IDEMP k1"), 7);
    expect_int(CMD("COINS.ADD u3 1 marker"), 8);
    p = next_event(s, "coins:u3");
    cr_expect_eq(jfind_int(p, "amount"), 7);
    free(p);
    p = next_event(s, "coins:u3");
    cr_expect_str_eq(jfind(p, "reason"), "marker", "an IDEMP replay published again");
    free(p);
    /* in EXEC, the refused spend publishes nothing, the others do */
    expect_ok(CMD("MULTI"));
    expect_status(CMD("COINS.SPEND u3 1 a"), "QUEUED");
    expect_status(CMD("COINS.SPEND u3 1000 b"), "QUEUED");
    expect_status(CMD("COINS.SPEND u3 2 c"), "QUEUED");
    freeReplyObject(CMD("EXEC"));
    p = next_event(s, "coins:u3");
    cr_expect_str_eq(jfind(p, "reason"), "a");
    free(p);
    p = next_event(s, "coins:u3");
    cr_expect_str_eq(jfind(p, "reason"), "c");
    free(p);
    redisFree(s);
}

Test(events, notifications_and_messages) {
    redisContext *s = subscriber("*");
    char id[17];
    assert_id(CMD("NOTIFY.CREATE u2 %s", "{\"title\":\"New follower\",\"read\":true}"), id);
    char *p = next_event(s, "notifications:u2");
    const char *d = event_data(p, "notification.created");
    cr_expect_str_eq(jfind(d, "id"), id);
    cr_expect_str_eq(jfind(d, "user_id"), "u2");
    cr_expect_str_eq(jfind(d, "title"), "New follower");
    cr_expect(strstr(d, "\"read\":false"), "a new notification is unread: %s", d);
    free(p);
    /* refused (not an object): nothing */
    expect_error(CMD("NOTIFY.CREATE u2 %s", "[1]"), "INVALID");
    char mid[17];
    assert_id(CMD("MSG.SEND c1 u1 u2 hello"), mid);
    p = next_event(s, "messages:c1");
    d = event_data(p, "message.sent");
    cr_expect_str_eq(jfind(d, "id"), mid);
    cr_expect_str_eq(jfind(d, "from"), "u1");
    cr_expect_str_eq(jfind(d, "to"), "u2");
    cr_expect_str_eq(jfind(d, "text"), "hello");
    free(p);
    p = next_event(s, "conversations:u2");
    cr_expect_str_eq(jfind(event_data(p, "message.sent"), "id"), mid);
    free(p);
    /* a message into someone else's conversation is refused: nothing */
    expect_error(CMD("MSG.SEND c1 u1 u3 intruder"), "INVALID");
    assert_id(CMD("NOTIFY.CREATE u9 {}"), id);
    p = next_event(s, "notifications:u9");
    free(p);
    redisFree(s);
}

/* An event means its write is in the WAL: kill -9 right after receiving it
 * loses nothing. */
Test(events, event_implies_durable) {
    redisContext *s = subscriber("notifications:*");
    redisContext *w = skv_connect(&srv);
    redisAppendCommand(w, "NOTIFY.CREATE u5 %s", "{\"n\":1}");
    redisBufferWrite(w, &(int){0});
    char *p = next_event(s, "notifications:u5");
    char id[17];
    snprintf(id, sizeof id, "%s", jfind(p, "id"));
    free(p);
    skv_kill9(&srv);
    redisFree(s);
    redisFree(w);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    char *doc = take_bulk(CMD("KV.GET notifications:u5:%s", id));
    cr_expect_str_eq(jstr(doc, "id"), id);
    free(doc);
}

/* Events are built only while somebody subscribes (dom_publish asks
 * first): one exact SUBSCRIBE, made after a write that reached nobody, is
 * enough to get the next event. */
Test(events, an_exact_subscriber_alone_gets_events) {
    expect_int(CMD("COINS.ADD u7 5 before"), 5); /* nobody listening */
    redisContext *s = skv_connect(&srv);
    redisReply *r = skv_cmd(s, "SUBSCRIBE coins:u7");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "SUBSCRIBE: %s", rstr(r));
    freeReplyObject(r);
    expect_int(CMD("COINS.ADD u7 10 after"), 15);
    void *v = NULL;
    cr_assert(redisGetReply(s, &v) == REDIS_OK && v, "no event: %s", s->errstr);
    r = v;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "not a message");
    cr_expect_str_eq(r->element[0]->str, "message");
    cr_expect_str_eq(r->element[1]->str, "coins:u7");
    const char *d = event_data(r->element[2]->str, "coins.moved");
    cr_expect_eq(jfind_int(d, "amount"), 10);
    cr_expect_eq(jfind_int(d, "balance_after"), 15);
    freeReplyObject(r);
    redisFree(s);
}
