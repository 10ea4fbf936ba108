/* Every helper of libstagekv against a real server, with its reply shape:
 * the seven KV operations and one or more calls of each domain helper. */
#include "support.h"

#include <stdio.h>
#include <string.h>

static ts_server srv;
static skv_client *c;
static skv_error e;

static void up(void) {
    ts_start(&srv, NULL);
    c = ts_open(&srv);
}

static void down(void) {
    skv_close(c);
    c = NULL;
    ts_cleanup(&srv);
}

TestSuite(helpers, .init = up, .fini = down, .timeout = 60);

#define OK(call) ts_ok((call), &e)
#define FAILS(call, code) ts_expect((call), (code), &e)

static const char *str_of(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    cr_assert(s, "no string member '%s'", k);
    return s;
}

static long long int_of(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_integer(v), "no integer member '%s'", k);
    return json_integer_value(v);
}

static json_t *doc(const char *text) {
    json_error_t je;
    json_t *d = json_loads(text, 0, &je);
    cr_assert(d, "bad test JSON %s: %s", text, je.text);
    return d;
}

/* ---- KV ----------------------------------------------------------------------------- */

Test(helpers, kv_seven_operations) {
    json_t *v = doc("{\"a\":[1,2,{\"b\":null}]}"), *got = NULL, *list = NULL;
    long long n = -1;
    OK(skv_kv_set(c, "cfg:site", v, &e));
    OK(skv_kv_get(c, "cfg:site", &got, &e));
    cr_assert(json_equal(v, got), "KV.GET returned another value");
    json_decref(got);
    /* any JSON value, not only objects */
    json_t *num = json_integer(42);
    OK(skv_kv_set(c, "cfg:n", num, &e));
    OK(skv_kv_get(c, "cfg:n", &got, &e));
    cr_assert(json_is_integer(got) && json_integer_value(got) == 42);
    json_decref(got);
    json_decref(num);

    json_t *pairs = doc("{\"cfg:x\":1,\"cfg:y\":\"two\",\"other:z\":true}");
    OK(skv_kv_mset(c, pairs, &e));
    json_decref(pairs);
    const char *keys[] = {"cfg:x", "cfg:missing", "cfg:y"};
    OK(skv_kv_mget(c, keys, 3, &list, &e));
    cr_assert_eq(json_array_size(list), 3);
    cr_assert_eq(json_integer_value(json_array_get(list, 0)), 1);
    cr_assert(json_is_null(json_array_get(list, 1)), "an absent key is JSON null");
    cr_assert_str_eq(json_string_value(json_array_get(list, 2)), "two");
    json_decref(list);

    /* getByPrefix pages through key order */
    OK(skv_kv_get_by_prefix(c, "cfg:", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 4);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "key"), "cfg:n");
    cr_assert_str_eq(str_of(json_array_get(list, 3), "key"), "cfg:y");
    json_decref(list);
    skv_kv_page page = {.after = "cfg:n", .limit = 2};
    OK(skv_kv_get_by_prefix(c, "cfg:", &page, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "key"), "cfg:site");
    cr_assert_str_eq(str_of(json_array_get(list, 1), "key"), "cfg:x");
    cr_assert(json_equal(json_object_get(json_array_get(list, 0), "value"), v));
    json_decref(list);

    OK(skv_kv_del(c, "cfg:site", &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_kv_del(c, "cfg:site", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_kv_get(c, "cfg:site", &got, &e));
    cr_assert_null(got, "a deleted key reads as NULL");
    OK(skv_kv_mdel(c, keys, 3, &n, &e));
    cr_assert_eq(n, 2);
    json_decref(v);
}

Test(helpers, kv_errors_are_typed) {
    json_t *got = NULL;
    redisReply *r = NULL;
    /* a plain SET value that is not JSON cannot be handed out as JSON */
    OK(skv_command(c, &r, &e, "SET", "raw", "not json", NULL));
    freeReplyObject(r);
    FAILS(skv_kv_get(c, "raw", &got, &e), SKV_PROTOCOL);
    cr_assert_null(got);
    /* the domain write guard is an -ERR */
    json_t *v = json_integer(1);
    FAILS(skv_kv_set(c, "coins:u:balance", v, &e), SKV_ERR);
    cr_assert(strstr(e.msg, "owned by the domain engine"), "%s", e.msg);
    json_decref(v);
}

/* ---- users ------------------------------------------------------------------------------ */

Test(helpers, users) {
    json_t *base = doc("{\"email\":\"Ann@Example.com\",\"name\":\"Ann\",\"role\":\"artist\"}"), *u = NULL;
    char uid[SKV_ID_SIZE];
    long long n = 0;
    OK(skv_create_user(c, "ann", base, &e));
    FAILS(skv_create_user(c, "ann", base, &e), SKV_CONFLICT);
    cr_assert(strncmp(e.msg, "CONFLICT", 8) == 0, "%s", e.msg);
    OK(skv_get_user(c, "ann", &u, &e));
    cr_assert_str_eq(str_of(u, "id"), "ann");
    cr_assert_str_eq(str_of(json_object_get(u, "base"), "name"), "Ann");
    cr_assert(json_is_object(json_object_get(u, "profile")) && json_is_object(json_object_get(u, "subscription")));
    json_decref(u);

    json_t *patch = doc("{\"bio\":\"songs\"}");
    OK(skv_update_user(c, "ann", "profile", patch, &u, &e));
    cr_assert_str_eq(str_of(u, "bio"), "songs");
    json_decref(u);
    FAILS(skv_update_user(c, "ann", "nosuch", patch, &u, &e), SKV_INVALID);
    cr_assert_null(u);
    json_decref(patch);

    OK(skv_get_uid_by_email(c, "ann@example.COM", uid, &e));
    cr_assert_str_eq(uid, "ann");
    OK(skv_get_uid_by_email(c, "nobody@example.com", uid, &e));
    cr_assert_str_eq(uid, "");
    OK(skv_get_user_by_email(c, "ANN@example.com", &u, &e));
    cr_assert_str_eq(str_of(u, "id"), "ann");
    json_decref(u);

    OK(skv_delete_user(c, "ann", &n, &e));
    cr_assert_geq(n, 1);
    OK(skv_get_user(c, "ann", &u, &e));
    cr_assert_null(u);
    OK(skv_get_user_by_email(c, "ann@example.com", &u, &e));
    cr_assert_null(u);
    FAILS(skv_get_user(c, "bad:id", &u, &e), SKV_INVALID);
    json_decref(base);
}

/* ---- entities: the named helpers of all eight namespaces --------------------------------- */

typedef struct named {
    const char *ns;
    skv_status (*create)(skv_client *, const char *, const json_t *, char *, skv_error *);
    skv_status (*get)(skv_client *, const char *, const char *, json_t **, skv_error *);
    skv_status (*list)(skv_client *, const char *, const skv_page *, json_t **, skv_error *);
    skv_status (*update)(skv_client *, const char *, const char *, const json_t *, json_t **, skv_error *);
    skv_status (*del)(skv_client *, const char *, const char *, long long *, skv_error *);
    skv_status (*count)(skv_client *, const char *, long long *, skv_error *);
} named;

#define NAMED(ns, one, many)                                                                           \
    {ns, skv_create_##one, skv_get_##one, skv_get_user_##many, skv_update_##one, skv_delete_##one, \
     skv_count_user_##many}

static const named all_entities[] = {
    NAMED("tracks", track, tracks),
    NAMED("videos", video, videos),
    NAMED("concerts", concert, concerts),
    NAMED("news", news, news),
    NAMED("banners", banner, banners),
    NAMED("promotion", promotion_campaign, promotion_campaigns),
    NAMED("pitching", pitching_submission, pitching_submissions),
    NAMED("payments", payment_method, payment_methods),
};

Test(helpers, entities_life_cycle) {
    json_t *d = doc("{\"title\":\"One\",\"id\":\"ignored\"}"), *patch = doc("{\"title\":\"Two\",\"x\":1}");
    for (size_t i = 0; i < sizeof all_entities / sizeof all_entities[0]; i++) {
        const named *t = &all_entities[i];
        char id1[SKV_ID_SIZE], id2[SKV_ID_SIZE];
        json_t *got = NULL, *list = NULL;
        long long n = -1;
        OK(t->create(c, "art", d, id1, &e));
        cr_assert_eq(strlen(id1), 16, "%s: id '%s'", t->ns, id1);
        OK(t->create(c, "art", d, id2, &e));
        cr_assert_gt(strcmp(id2, id1), 0, "%s: ids increase", t->ns);
        OK(t->get(c, "art", id1, &got, &e));
        cr_assert_str_eq(str_of(got, "id"), id1, "%s: the server owns id", t->ns);
        cr_assert_str_eq(str_of(got, "user_id"), "art");
        cr_assert_str_eq(str_of(got, "title"), "One");
        json_decref(got);
        OK(t->list(c, "art", NULL, &list, &e));
        cr_assert_eq(json_array_size(list), 2, "%s", t->ns);
        cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), id2, "%s: newest first", t->ns);
        json_decref(list);
        skv_page page = {.after = id2, .limit = 5};
        OK(t->list(c, "art", &page, &list, &e));
        cr_assert_eq(json_array_size(list), 1);
        cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), id1);
        json_decref(list);
        OK(t->update(c, "art", id1, patch, &got, &e));
        cr_assert_str_eq(str_of(got, "title"), "Two");
        cr_assert_eq(int_of(got, "x"), 1);
        json_decref(got);
        FAILS(t->update(c, "art", "00000000000000ff", patch, &got, &e), SKV_NOTFOUND);
        cr_assert_null(got);
        OK(t->count(c, "art", &n, &e));
        cr_assert_eq(n, 2, "%s", t->ns);
        OK(t->del(c, "art", id1, &n, &e));
        cr_assert_eq(n, 1);
        OK(t->del(c, "art", id1, &n, &e));
        cr_assert_eq(n, 0);
        OK(t->get(c, "art", id1, &got, &e));
        cr_assert_null(got, "%s: a deleted document reads as NULL", t->ns);
        OK(t->count(c, "art", &n, &e));
        cr_assert_eq(n, 1);
        /* the documents live under the seed's key patterns (SPEC §5) */
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s:art:", t->ns);
        OK(skv_kv_get_by_prefix(c, prefix, NULL, &list, &e));
        cr_assert_eq(json_array_size(list), 1, "%s: one document under %s", t->ns, prefix);
        json_decref(list);
    }
    json_decref(d);
    json_decref(patch);
}

Test(helpers, promoted_feeds_and_active_banners) {
    json_t *d = doc("{\"title\":\"gig\"}"), *list = NULL;
    char cid[SKV_ID_SIZE], nid[SKV_ID_SIZE], bid[SKV_ID_SIZE];
    long long n = -1;
    OK(skv_create_concert(c, "art", d, cid, &e));
    OK(skv_create_news(c, "art", d, nid, &e));
    OK(skv_promote_concert(c, "art", cid, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_promote_concert(c, "art", cid, &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_promote_news(c, "art", nid, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_get_promoted_concerts(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), cid);
    json_decref(list);
    OK(skv_get_promoted_news(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    json_decref(list);
    OK(skv_unpromote_concert(c, "art", cid, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_unpromote_news(c, "art", nid, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_get_promoted_concerts(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 0);
    json_decref(list);

    json_t *active = doc("{\"status\":\"active\"}");
    OK(skv_create_banner(c, "art", active, bid, &e));
    OK(skv_create_banner(c, "art", d, NULL, &e));
    OK(skv_get_active_banners(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), bid);
    json_decref(list);
    json_decref(active);
    json_decref(d);
}

Test(helpers, paid_promotion_and_pitching) {
    json_t *d = doc("{\"name\":\"push\"}");
    char id[SKV_ID_SIZE];
    long long bal = -1;
    OK(skv_add_coins(c, "art", 10, "top up", &bal, &e));
    OK(skv_create_paid_promotion_campaign(c, "art", d, 4, id, &e));
    OK(skv_get_balance(c, "art", &bal, &e));
    cr_assert_eq(bal, 6);
    OK(skv_create_paid_pitching_submission(c, "art", d, 6, id, &e));
    OK(skv_get_balance(c, "art", &bal, &e));
    cr_assert_eq(bal, 0);
    FAILS(skv_create_paid_pitching_submission(c, "art", d, 1, id, &e), SKV_INSUFFICIENT_FUNDS);
    cr_assert_str_eq(id, "");
    long long n = -1;
    OK(skv_count_user_pitching_submissions(c, "art", &n, &e));
    cr_assert_eq(n, 1, "a refused paid create writes nothing");
    json_decref(d);
}

/* ---- coins, donations, payments ----------------------------------------------------------- */

Test(helpers, coins) {
    long long bal = -1, a = -1, b = -1;
    json_t *list = NULL;
    OK(skv_get_balance(c, "fan", &bal, &e));
    cr_assert_eq(bal, 0);
    OK(skv_add_coins(c, "fan", 100, "top up", &bal, &e));
    cr_assert_eq(bal, 100);
    OK(skv_spend_coins(c, "fan", 30, "sticker", &bal, &e));
    cr_assert_eq(bal, 70);
    FAILS(skv_spend_coins(c, "fan", 71, "too much", &bal, &e), SKV_INSUFFICIENT_FUNDS);
    cr_assert(strstr(e.msg, "balance 70, need 71"), "%s", e.msg);
    cr_assert_eq(e.attempts, 1, "an error reply is an answer: not retried");
    FAILS(skv_spend_coins(c, "fan", 0, "zero", &bal, &e), SKV_INVALID);
    OK(skv_transfer_coins(c, "fan", "art", 20, "gift", &a, &b, &e));
    cr_assert_eq(a, 50);
    cr_assert_eq(b, 20);
    FAILS(skv_transfer_coins(c, "fan", "fan", 1, "self", &a, &b, &e), SKV_INVALID);
    OK(skv_get_coin_history(c, "fan", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 3);
    json_t *row = json_array_get(list, 0);
    cr_assert_eq(int_of(row, "amount"), -20);
    cr_assert_eq(int_of(row, "balance_after"), 50);
    cr_assert_str_eq(str_of(row, "reason"), "gift");
    cr_assert_str_eq(str_of(row, "counterparty"), "art");
    cr_assert(json_is_null(json_object_get(json_array_get(list, 1), "counterparty")), "SPEND: null counterparty");
    json_decref(list);
    skv_page page = {.limit = 1};
    OK(skv_get_coin_history(c, "fan", &page, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    json_decref(list);
    OK(skv_verify_coins(c, "fan", &e));
    OK(skv_verify_coins(c, "art", &e));
}

Test(helpers, donations) {
    char id[SKV_ID_SIZE];
    long long n = -1;
    json_t *list = NULL;
    OK(skv_add_coins(c, "fan", 50, "top up", NULL, &e));
    OK(skv_send_donation(c, "fan", "art", 15, "great show", id, &e));
    cr_assert_eq(strlen(id), 16);
    OK(skv_send_donation(c, "fan", "art", 5, NULL, NULL, &e));
    FAILS(skv_send_donation(c, "fan", "art", 500, NULL, id, &e), SKV_INSUFFICIENT_FUNDS);
    OK(skv_get_donations(c, "art", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    json_t *d = json_array_get(list, 1);
    cr_assert_str_eq(str_of(d, "from"), "fan");
    cr_assert_str_eq(str_of(d, "user_id"), "art");
    cr_assert_eq(int_of(d, "amount"), 15);
    cr_assert_str_eq(str_of(d, "message"), "great show");
    json_decref(list);
    OK(skv_get_donation_total(c, "art", &n, &e));
    cr_assert_eq(n, 20);
    OK(skv_get_unread_count(c, "art", &n, &e));
    cr_assert_eq(n, 2, "each donation notifies the artist");
}

Test(helpers, payments) {
    json_t *p = doc("{\"provider\":\"stripe\",\"external_id\":\"ch_1\",\"amount_cents\":500}"), *list = NULL;
    char id[SKV_ID_SIZE];
    long long bal = -1;
    OK(skv_record_payment(c, "fan", p, 50, id, &e));
    cr_assert_eq(strlen(id), 16);
    OK(skv_get_balance(c, "fan", &bal, &e));
    cr_assert_eq(bal, 50);
    /* a provider's resent webhook (a new call, so a new IDEMP key) */
    FAILS(skv_record_payment(c, "fan", p, 50, id, &e), SKV_CONFLICT);
    OK(skv_get_balance(c, "fan", &bal, &e));
    cr_assert_eq(bal, 50);
    OK(skv_get_payments(c, "fan", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "external_id"), "ch_1");
    json_decref(list);
    json_decref(p);
}

/* ---- messages, notifications, e-mail, tickets ------------------------------------------------ */

Test(helpers, messages) {
    char id[SKV_ID_SIZE];
    long long n = -1;
    json_t *list = NULL;
    OK(skv_send_message(c, "c1", "fan", "art", "hello", id, &e));
    cr_assert_eq(strlen(id), 16);
    OK(skv_send_message(c, "c1", "art", "fan", "hi back", NULL, &e));
    OK(skv_send_message(c, "c1", "fan", "art", "\"quoted\"\nline", NULL, &e));
    FAILS(skv_send_message(c, "c1", "fan", "other", "x", NULL, &e), SKV_INVALID);
    OK(skv_get_messages(c, "c1", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 3);
    json_t *m = json_array_get(list, 0);
    cr_assert_str_eq(str_of(m, "text"), "\"quoted\"\nline");
    cr_assert_str_eq(str_of(m, "conv"), "c1");
    cr_assert_str_eq(str_of(m, "to"), "art");
    cr_assert(json_is_false(json_object_get(m, "read")));
    json_decref(list);
    OK(skv_get_unread_message_count(c, "art", &n, &e));
    cr_assert_eq(n, 2);
    OK(skv_get_conversations(c, "art", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_eq(int_of(json_array_get(list, 0), "unread"), 2);
    json_decref(list);
    OK(skv_mark_as_read(c, "c1", "art", &n, &e));
    cr_assert_eq(n, 2);
    OK(skv_mark_as_read(c, "c1", "art", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_get_unread_message_count(c, "art", &n, &e));
    cr_assert_eq(n, 0);
}

Test(helpers, notifications) {
    json_t *d = doc("{\"type\":\"like\"}"), *list = NULL;
    char id1[SKV_ID_SIZE], id2[SKV_ID_SIZE];
    long long n = -1;
    OK(skv_create_notification(c, "art", d, id1, &e));
    OK(skv_create_notification(c, "art", d, id2, &e));
    OK(skv_get_unread_count(c, "art", &n, &e));
    cr_assert_eq(n, 2);
    OK(skv_mark_notification_as_read(c, "art", id1, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_mark_notification_as_read(c, "art", id1, &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_get_notifications(c, "art", NULL, 0, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(str_of(json_array_get(list, 1), "user_id"), "art");
    json_decref(list);
    OK(skv_get_notifications(c, "art", NULL, 1, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), id2);
    json_decref(list);
    OK(skv_mark_all_notifications_as_read(c, "art", &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_get_unread_count(c, "art", &n, &e));
    cr_assert_eq(n, 0);
    json_decref(d);
}

Test(helpers, email) {
    json_t *d = doc("{\"subject\":\"Welcome\"}"), *list = NULL;
    char id[SKV_ID_SIZE];
    long long n = -1;
    OK(skv_subscribe_email(c, "fan", "weekly", &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_subscribe_email(c, "fan", "weekly", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_subscribe_email(c, "fan", "alerts", &n, &e));
    OK(skv_get_email_subscriptions(c, "fan", &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(json_string_value(json_array_get(list, 0)), "alerts");
    cr_assert_str_eq(json_string_value(json_array_get(list, 1)), "weekly");
    json_decref(list);
    OK(skv_unsubscribe_email(c, "fan", "weekly", &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_log_email(c, "fan", d, id, &e));
    cr_assert_eq(strlen(id), 16);
    OK(skv_get_email_history(c, "fan", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "subject"), "Welcome");
    json_decref(list);
    json_decref(d);
}

Test(helpers, tickets) {
    json_t *d = doc("{\"subject\":\"help\",\"body\":\"login\"}"), *t = NULL, *list = NULL;
    char tid[SKV_ID_SIZE], rid[SKV_ID_SIZE];
    long long n = -1;
    OK(skv_open_ticket(c, "fan", d, tid, &e));
    OK(skv_reply_ticket(c, tid, "support", "try again", rid, &e));
    cr_assert_eq(strlen(rid), 16);
    OK(skv_get_ticket(c, tid, &t, &e));
    cr_assert_str_eq(str_of(t, "subject"), "help");
    json_t *msgs = json_object_get(t, "messages");
    cr_assert_eq(json_array_size(msgs), 1);
    cr_assert_str_eq(str_of(json_array_get(msgs, 0), "author"), "support");
    json_decref(t);
    OK(skv_get_user_tickets(c, "fan", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    json_decref(list);
    OK(skv_close_ticket(c, tid, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_close_ticket(c, tid, &n, &e));
    cr_assert_eq(n, 0);
    FAILS(skv_reply_ticket(c, tid, "fan", "again", rid, &e), SKV_INVALID);
    FAILS(skv_close_ticket(c, "00000000000000aa", &n, &e), SKV_NOTFOUND);
    OK(skv_get_ticket(c, "00000000000000aa", &t, &e));
    cr_assert_null(t);
    json_decref(d);
}

/* ---- settings, analytics, dashboard -------------------------------------------------------------- */

Test(helpers, settings) {
    json_t *s = NULL, *patch = doc("{\"theme\":\"dark\",\"lang\":\"de\"}");
    OK(skv_get_settings(c, "fan", "profile", &s, &e));
    cr_assert(json_is_object(s) && json_object_size(s) == 0, "never set: {}");
    json_decref(s);
    OK(skv_update_settings(c, "fan", "profile", patch, &s, &e));
    cr_assert_str_eq(str_of(s, "theme"), "dark");
    json_decref(s);
    json_t *unset = doc("{\"lang\":null}");
    OK(skv_update_settings(c, "fan", "profile", unset, &s, &e));
    cr_assert_null(json_object_get(s, "lang"), "merge patch: null removes");
    json_decref(s);
    OK(skv_get_settings(c, "fan", "profile", &s, &e));
    cr_assert_str_eq(str_of(s, "theme"), "dark");
    json_decref(s);
    FAILS(skv_get_settings(c, "fan", "colours", &s, &e), SKV_INVALID);
    cr_assert_null(s);
    json_decref(unset);
    json_decref(patch);
}

Test(helpers, analytics_and_dashboard) {
    long long v = -1;
    json_t *days = NULL, *dash = NULL, *d = doc("{\"t\":1}");
    char tid[SKV_ID_SIZE];
    OK(skv_create_track(c, "art", d, tid, &e));
    OK(skv_increment_analytics(c, "tracks", tid, "2026-03-01", "plays", 1, &v, &e));
    cr_assert_eq(v, 1);
    OK(skv_increment_analytics(c, "tracks", tid, "2026-03-01", "plays", 2, &v, &e));
    cr_assert_eq(v, 3);
    OK(skv_increment_analytics(c, "tracks", tid, "2026-03-03", "likes", 1, &v, &e));
    FAILS(skv_increment_analytics(c, "tracks", tid, "2026-02-30", "plays", 1, &v, &e), SKV_INVALID);
    OK(skv_get_analytics(c, "tracks", tid, "2026-03-01", "2026-03-31", &days, &e));
    cr_assert_eq(json_array_size(days), 2);
    cr_assert_str_eq(str_of(json_array_get(days, 0), "date"), "2026-03-01");
    cr_assert_eq(int_of(json_array_get(days, 0), "plays"), 3);
    cr_assert_eq(int_of(json_array_get(days, 1), "likes"), 1);
    json_decref(days);

    OK(skv_add_coins(c, "art", 7, "x", NULL, &e));
    OK(skv_get_dashboard(c, "art", &dash, &e));
    cr_assert_eq(int_of(dash, "tracks"), 1);
    cr_assert_eq(int_of(dash, "coins"), 7);
    cr_assert_eq(int_of(json_object_get(dash, "donations"), "count"), 0);
    cr_assert_eq(int_of(dash, "unread_notifications"), 0);
    json_decref(dash);
    json_decref(d);
}

/* ---- the operations of issue 9 part 3 ---------------------------------------------------- */

Test(helpers, payment_get_and_status) {
    json_t *p = doc("{\"provider\":\"stripe\",\"external_id\":\"ch_9\",\"status\":\"pending\"}"), *d = NULL;
    char id[SKV_ID_SIZE];
    long long bal = -1;
    OK(skv_record_payment(c, "fan", p, 30, id, &e));
    json_decref(p);
    OK(skv_get_payment(c, "fan", id, &d, &e));
    cr_assert(d);
    cr_assert_eq(int_of(d, "credited"), 30);
    json_decref(d);
    OK(skv_get_payment(c, "other", id, &d, &e));
    cr_assert_null(d, "another user's payment is absent");
    OK(skv_update_payment_status(c, "fan", id, "succeeded", &d, &e));
    cr_assert_str_eq(str_of(d, "status"), "succeeded");
    json_decref(d);
    FAILS(skv_update_payment_status(c, "fan", id, "pending", &d, &e), SKV_INVALID);
    OK(skv_spend_coins(c, "fan", 10, "shop", NULL, &e));
    FAILS(skv_update_payment_status(c, "fan", id, "refunded", &d, &e), SKV_INSUFFICIENT_FUNDS);
    OK(skv_add_coins(c, "fan", 10, "top up", NULL, &e));
    OK(skv_update_payment_status(c, "fan", id, "refunded", &d, &e));
    cr_assert_str_eq(str_of(d, "status"), "refunded");
    json_decref(d);
    OK(skv_get_balance(c, "fan", &bal, &e));
    cr_assert_eq(bal, 0);
    FAILS(skv_update_payment_status(c, "fan", "ffffffffffffffff", "failed", &d, &e), SKV_NOTFOUND);
}

Test(helpers, donation_get_and_sent) {
    char d1[SKV_ID_SIZE], d2[SKV_ID_SIZE];
    json_t *d = NULL, *list = NULL;
    OK(skv_add_coins(c, "fan", 50, "top up", NULL, &e));
    OK(skv_send_donation(c, "fan", "art", 15, "спасибо", d1, &e));
    OK(skv_send_donation(c, "fan", "art2", 5, NULL, d2, &e));
    OK(skv_get_donation(c, "art", d1, &d, &e));
    cr_assert_str_eq(str_of(d, "message"), "спасибо");
    json_decref(d);
    OK(skv_get_donation(c, "art2", d1, &d, &e));
    cr_assert_null(d);
    OK(skv_get_sent_donations(c, "fan", NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), d2);
    cr_assert_str_eq(str_of(json_array_get(list, 1), "user_id"), "art");
    json_decref(list);
    skv_page pg = {d2, 0};
    OK(skv_get_sent_donations(c, "fan", &pg, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    json_decref(list);
}

Test(helpers, notification_and_message_deletes) {
    char n1[SKV_ID_SIZE], m1[SKV_ID_SIZE], m2[SKV_ID_SIZE];
    long long n = -1;
    json_t *d = NULL, *note = doc("{\"t\":1}");
    OK(skv_create_notification(c, "u", note, n1, &e));
    json_decref(note);
    OK(skv_delete_notification(c, "u", n1, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_delete_notification(c, "u", n1, &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_get_unread_count(c, "u", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_send_message(c, "cv", "a", "b", "hello", m1, &e));
    OK(skv_send_message(c, "cv", "a", "b", "typo", m2, &e));
    OK(skv_edit_message(c, "cv", "a", m2, "fixed", &d, &e));
    cr_assert_str_eq(str_of(d, "text"), "fixed");
    str_of(d, "edited_at");
    json_decref(d);
    FAILS(skv_edit_message(c, "cv", "b", m2, "not mine", &d, &e), SKV_NOTFOUND);
    OK(skv_delete_message(c, "cv", "b", m1, &n, &e));
    cr_assert_eq(n, 0, "another's message is not deleted");
    OK(skv_delete_message(c, "cv", "a", m1, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_get_conversation(c, "cv", "b", 0, &d, &e));
    cr_assert(d);
    cr_assert_eq(int_of(d, "unread"), 1);
    cr_assert_eq(json_array_size(json_object_get(d, "messages")), 1);
    cr_assert_str_eq(str_of(json_object_get(d, "conversation"), "conv"), "cv");
    json_decref(d);
    OK(skv_get_conversation(c, "cv", "a", 1, &d, &e));
    cr_assert_eq(int_of(d, "unread"), 0);
    json_decref(d);
    OK(skv_get_conversation(c, "nosuch", "a", 0, &d, &e));
    cr_assert_null(d);
}

Test(helpers, tickets_users_and_feeds) {
    char t1[SKV_ID_SIZE], t2[SKV_ID_SIZE], tr[SKV_ID_SIZE];
    long long n = -1;
    json_t *list = NULL, *empty = doc("{}");
    OK(skv_open_ticket(c, "u1", empty, t1, &e));
    OK(skv_open_ticket(c, "u2", empty, t2, &e));
    OK(skv_close_ticket(c, t1, &n, &e));
    OK(skv_get_open_tickets(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), t2);
    json_decref(list);
    OK(skv_reopen_ticket(c, t1, &n, &e));
    cr_assert_eq(n, 1);
    OK(skv_reopen_ticket(c, t1, &n, &e));
    cr_assert_eq(n, 0);
    FAILS(skv_reopen_ticket(c, "nosuch", &n, &e), SKV_NOTFOUND);
    OK(skv_get_open_tickets(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    json_decref(list);
    json_t *b = doc("{\"email\":\"b@x.io\",\"role\":\"fan\"}"), *a = doc("{\"email\":\"a@x.io\",\"role\":\"artist\"}");
    OK(skv_create_user(c, "bob", b, &e));
    OK(skv_create_user(c, "alice", a, &e));
    json_decref(a);
    json_decref(b);
    OK(skv_list_users(c, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), "alice");
    json_decref(list);
    skv_page pg = {"alice", 0};
    OK(skv_list_users(c, &pg, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), "bob");
    json_decref(list);
    OK(skv_create_track(c, "u1", empty, tr, &e));
    OK(skv_get_feed(c, SKV_TRACK, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_of(json_array_get(list, 0), "id"), tr);
    json_decref(list);
    OK(skv_get_feed(c, SKV_NEWS, NULL, &list, &e));
    cr_assert_eq(json_array_size(list), 0);
    json_decref(list);
    json_decref(empty);
}
