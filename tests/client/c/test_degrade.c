/* Graceful degradation, honestly: what is absent reads as NULL or an empty
 * array with SKV_OK; a server that cannot be reached is a transport error
 * after the retries, never an empty result. */
#include "support.h"

#include <string.h>

static ts_server srv;
static skv_client *c;
static skv_error e;

#define OK(call) ts_ok((call), &e)
#define FAILS(call, code) ts_expect((call), (code), &e)

static void up(void) {
    ts_start(&srv, NULL);
    c = ts_open(&srv);
}

static void down(void) {
    skv_close(c);
    c = NULL;
    ts_cleanup(&srv);
}

TestSuite(degrade, .init = up, .fini = down, .timeout = 60);

/* (list by address: the call fills it, and C does not order argument evaluation) */
static void expect_empty(skv_status st, json_t **lp, const char *what) {
    json_t *list = *lp;
    ts_ok(st, &e);
    cr_assert(json_is_array(list), "%s: an array", what);
    cr_assert_eq(json_array_size(list), 0, "%s: empty", what);
    json_decref(list);
}

Test(degrade, absent_reads_as_null_or_empty) {
    json_t *d = (json_t *)1, *l = NULL;
    long long n = -1;
    char uid[SKV_ID_SIZE] = "x";
    OK(skv_get_user(c, "ghost", &d, &e));
    cr_assert_null(d);
    OK(skv_get_track(c, "ghost", "0000000000000001", &d, &e));
    cr_assert_null(d);
    OK(skv_get_ticket(c, "0000000000000001", &d, &e));
    cr_assert_null(d);
    OK(skv_kv_get(c, "nothing:here", &d, &e));
    cr_assert_null(d);
    OK(skv_get_uid_by_email(c, "ghost@example.com", uid, &e));
    cr_assert_str_eq(uid, "");
    expect_empty(skv_get_user_tracks(c, "ghost", NULL, &l, &e), &l, "tracks");
    expect_empty(skv_get_user_concerts(c, "ghost", NULL, &l, &e), &l, "concerts");
    expect_empty(skv_get_coin_history(c, "ghost", NULL, &l, &e), &l, "coin history");
    expect_empty(skv_get_messages(c, "ghost", NULL, &l, &e), &l, "messages");
    expect_empty(skv_get_conversations(c, "ghost", NULL, &l, &e), &l, "conversations");
    expect_empty(skv_get_notifications(c, "ghost", NULL, 1, &l, &e), &l, "notifications");
    expect_empty(skv_get_donations(c, "ghost", NULL, &l, &e), &l, "donations");
    expect_empty(skv_get_payments(c, "ghost", NULL, &l, &e), &l, "payments");
    expect_empty(skv_get_email_subscriptions(c, "ghost", &l, &e), &l, "subscriptions");
    expect_empty(skv_get_email_history(c, "ghost", NULL, &l, &e), &l, "email history");
    expect_empty(skv_get_user_tickets(c, "ghost", NULL, &l, &e), &l, "tickets");
    expect_empty(skv_get_active_banners(c, NULL, &l, &e), &l, "active banners");
    expect_empty(skv_get_promoted_concerts(c, NULL, &l, &e), &l, "promoted concerts");
    expect_empty(skv_get_analytics(c, "tracks", "ghost", "2026-01-01", "2026-01-31", &l, &e), &l, "analytics");
    expect_empty(skv_kv_get_by_prefix(c, "nothing:", NULL, &l, &e), &l, "prefix");
    OK(skv_get_balance(c, "ghost", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_get_unread_count(c, "ghost", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_count_user_tracks(c, "ghost", &n, &e));
    cr_assert_eq(n, 0);
    OK(skv_get_settings(c, "ghost", "privacy", &d, &e));
    cr_assert(json_is_object(d) && json_object_size(d) == 0);
    json_decref(d);
}

/* The server goes away: every read reports SKV_IO after its attempts and
 * leaves the output NULL, so it cannot be mistaken for "nothing there". */
Test(degrade, server_down_is_an_error_not_empty) {
    json_t *d = NULL, *l = (json_t *)1;
    long long n = 12345;
    char id[SKV_ID_SIZE];
    json_t *doc = json_pack("{s:s}", "title", "x");
    OK(skv_create_track(c, "art", doc, id, &e));
    ts_stop(&srv);

    FAILS(skv_get_user_tracks(c, "art", NULL, &l, &e), SKV_IO);
    cr_assert_null(l, "no list on a transport error");
    cr_assert_eq(e.attempts, 3, "a read is tried max_attempts times");
    cr_assert(skv_is_transport(e.code));
    cr_assert(e.msg[0], "a message says why");
    FAILS(skv_get_user(c, "art", &d, &e), SKV_IO);
    cr_assert_null(d);
    FAILS(skv_kv_get(c, "cfg", &d, &e), SKV_IO);
    FAILS(skv_get_balance(c, "art", &n, &e), SKV_IO);
    cr_assert_eq(n, 12345, "outputs are untouched on failure");
    FAILS(skv_spend_coins(c, "art", 1, "x", &n, &e), SKV_IO);
    cr_assert_eq(e.attempts, 3, "an IDEMP write is retried too");
    FAILS(skv_create_track(c, "art", doc, id, &e), SKV_IO);
    cr_assert_str_eq(id, "");
    cr_assert(!skv_connected(c));

    /* a new client cannot even open */
    skv_client *c2 = (skv_client *)1;
    skv_options o = ts_options(srv.port);
    FAILS(skv_open(&o, &c2, &e), SKV_IO);
    cr_assert_null(c2);
    cr_assert_eq(e.attempts, 3);

    /* back on the same port and dir: the old client reconnects by itself */
    ts_restart(&srv);
    OK(skv_get_user_tracks(c, "art", NULL, &l, &e));
    cr_assert_eq(json_array_size(l), 1, "the track written before the outage");
    json_decref(l);
    json_decref(doc);
}
