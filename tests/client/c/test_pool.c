/* The pool from several threads: no coin lost or doubled, the size bound
 * kept, waiting checkouts, broken connections replaced. */
#include "support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static ts_server srv;
static skv_error e;

#define OK(call) ts_ok((call), &e)
#define FAILS(call, code) ts_expect((call), (code), &e)

/* DEBUG SLEEP stands in for a slow command: DEBUG needs enable-debug-command */
static void up(void) {
    const char *extra[] = {"--enable-debug-command", "yes", NULL};
    ts_start(&srv, extra);
}
static void down(void) { ts_cleanup(&srv); }

TestSuite(pool, .init = up, .fini = down, .timeout = 90);

#define THREADS 8
#define ROUNDS 25
#define POOL_SIZE 3

typedef struct worker {
    skv_pool *pool;
    int failures;
    char why[300];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    skv_error err;
    json_t *d = json_pack("{s:s}", "type", "tip");
    for (int i = 0; i < ROUNDS; i++) {
        skv_client *c = NULL;
        long long bal;
        skv_status st = skv_pool_get(w->pool, -1, &c, &err);
        if (st == SKV_OK) st = skv_add_coins(c, "artist", 1, "tip", &bal, &err);
        if (st == SKV_OK) st = skv_create_notification(c, "artist", d, NULL, &err);
        if (st == SKV_OK) st = skv_get_balance(c, "artist", &bal, &err);
        if (st != SKV_OK) {
            w->failures++;
            snprintf(w->why, sizeof w->why, "%s: %s", skv_status_name(st), err.msg);
        }
        skv_pool_put(w->pool, c);
    }
    json_decref(d);
    return NULL;
}

static long long connected_clients(skv_client *c) {
    redisReply *r = NULL;
    OK(skv_command(c, &r, &e, "INFO", "clients", NULL));
    const char *p = strstr(r->str, "connected_clients:");
    cr_assert(p);
    long long n = atoll(p + strlen("connected_clients:"));
    freeReplyObject(r);
    return n;
}

Test(pool, threads_share_it) {
    skv_pool *p = NULL;
    skv_options o = ts_options(srv.port);
    OK(skv_pool_new(&o, POOL_SIZE, &p, &e));
    pthread_t t[THREADS];
    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].pool = p;
        cr_assert(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) cr_assert_eq(w[i].failures, 0, "thread %d: %s", i, w[i].why);

    skv_client *c = NULL;
    long long n = -1;
    json_t *list = NULL;
    OK(skv_pool_get(p, 1000, &c, &e));
    OK(skv_get_balance(c, "artist", &n, &e));
    cr_assert_eq(n, THREADS * ROUNDS);
    skv_page page = {.limit = 1000};
    OK(skv_get_coin_history(c, "artist", &page, &list, &e));
    cr_assert_eq(json_array_size(list), THREADS * ROUNDS, "one row per add");
    json_decref(list);
    OK(skv_get_unread_count(c, "artist", &n, &e));
    cr_assert_eq(n, THREADS * ROUNDS);
    OK(skv_verify_coins(c, "artist", &e));
    cr_assert_leq(connected_clients(c), POOL_SIZE, "the pool stays within its size");
    skv_pool_put(p, c);
    skv_pool_free(p);
}

Test(pool, checkout_waits_then_times_out) {
    skv_pool *p = NULL;
    skv_options o = ts_options(srv.port);
    skv_client *a = NULL, *b = NULL;
    OK(skv_pool_new(&o, 1, &p, &e));
    OK(skv_pool_get(p, 0, &a, &e));
    long long t0 = ts_ms();
    FAILS(skv_pool_get(p, 200, &b, &e), SKV_TIMEOUT);
    long long took = ts_ms() - t0;
    cr_assert(took >= 190 && took < 2000, "waited %lld ms", took);
    cr_assert_null(b);
    skv_pool_put(p, a);
    OK(skv_pool_get(p, 0, &b, &e));
    cr_assert_eq(a, b, "the same connection comes back");
    skv_pool_put(p, b);
    skv_pool_free(p);
}

/* Idle connections the server closed (a restart) are noticed before a
 * command goes out, so even a command that is never retried runs. */
Test(pool, stale_connections_after_a_restart) {
    skv_pool *p = NULL;
    skv_options o = ts_options(srv.port);
    skv_client *c = NULL, *c2 = NULL;
    redisReply *r = NULL;
    long long bal = -1;
    OK(skv_pool_new(&o, 2, &p, &e));
    OK(skv_pool_get(p, 0, &c, &e));
    OK(skv_pool_get(p, 0, &c2, &e));
    skv_pool_put(p, c);
    skv_pool_put(p, c2);
    ts_stop(&srv);
    ts_restart(&srv);
    OK(skv_pool_get(p, 0, &c, &e));
    OK(skv_pool_get(p, 0, &c2, &e));
    OK(skv_get_balance(c, "fan", &bal, &e));
    cr_assert_eq(e.attempts, 1, "reconnected before sending");
    OK(skv_command(c2, &r, &e, "INCR", "n", NULL));
    cr_assert_eq(e.attempts, 1);
    cr_assert_eq(r->integer, 1);
    freeReplyObject(r);
    skv_pool_put(p, c);
    skv_pool_put(p, c2);
    skv_pool_free(p);
}

/* A client that comes back broken is closed and its slot refilled. */
Test(pool, broken_connections_are_replaced) {
    skv_pool *p = NULL;
    skv_options o = ts_options(srv.port);
    o.command_timeout_ms = 300;
    skv_client *c = NULL, *x = NULL, *y = NULL;
    redisReply *r = NULL;
    OK(skv_pool_new(&o, 2, &p, &e));
    OK(skv_pool_get(p, 0, &c, &e));
    FAILS(skv_command(c, &r, &e, "DEBUG", "SLEEP", "0.6", NULL), SKV_TIMEOUT);
    cr_assert(!skv_connected(c));
    skv_pool_put(p, c); /* closed by the pool */
    OK(skv_pool_get(p, 0, &x, &e));
    OK(skv_pool_get(p, 0, &y, &e));
    cr_assert(skv_connected(x) && skv_connected(y));
    OK(skv_command(x, &r, &e, "INCR", "n", NULL));
    freeReplyObject(r);
    OK(skv_command(y, &r, &e, "INCR", "n", NULL));
    cr_assert_eq(r->integer, 2);
    freeReplyObject(r);
    skv_pool_put(p, x);
    skv_pool_put(p, y);
    skv_pool_free(p);
}

Test(pool, made_while_the_server_is_away) {
    skv_pool *p = NULL;
    skv_options o = ts_options(srv.port);
    skv_client *c = NULL;
    ts_stop(&srv);
    OK(skv_pool_new(&o, 2, &p, &e));
    FAILS(skv_pool_get(p, 0, &c, &e), SKV_IO);
    cr_assert_null(c);
    ts_restart(&srv);
    OK(skv_pool_get(p, 0, &c, &e));
    cr_assert(skv_command_flags(c, "coins.spend") & SKV_CMD_IDEMP, "flags loaded by the first connection");
    skv_pool_put(p, c);
    skv_pool_free(p);
}
