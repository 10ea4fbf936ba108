/* Test support for libstagekv: a real stagekv-server per test (free port,
 * temp dir) and a fault-injecting TCP proxy. Own names (ts_) rather than
 * tests/e2e/harness: that harness's skv_* names would collide with the
 * library's. */
#ifndef SKV_TEST_SUPPORT_H
#define SKV_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <sys/types.h>

#include "stagekv.h"

typedef struct ts_server {
    pid_t pid;
    int port;
    char dir[256];
    char log[300];
    char *extra[16]; /* extra "--opt", "value" arguments, kept for restarts */
    int nextra;
} ts_server;

/* Starts a server (extra: NULL-terminated "--opt", "value", ... or NULL)
 * and waits until it answers. Asserts on failure. */
void ts_start(ts_server *s, const char *const *extra);
/* Starts it again on the same port and dir. */
void ts_restart(ts_server *s);
/* SIGTERM and wait. */
void ts_stop(ts_server *s);
/* Stops it if running and removes its dir. */
void ts_cleanup(ts_server *s);

/* Options for the server at port: short timeouts and backoff for tests. */
skv_options ts_options(int port);
/* skv_open on ts_options(s->port), asserted. */
skv_client *ts_open(const ts_server *s);

long long ts_ms(void);
void ts_sleep_ms(long ms);

/* Asserts st == want, printing err's message otherwise. */
#define ts_expect(st, want, err) \
    cr_assert_eq((st), (want), "%s, expected %s: %s", skv_status_name(st), skv_status_name(want), (err)->msg)
#define ts_ok(st, err) ts_expect(st, SKV_OK, err)

/* ---- the fault-injecting proxy --------------------------------------------------
 * Relays TCP between clients and the server. For the command named by
 * ts_proxy_drop_reply it forwards the request, waits until the server's
 * reply arrives (so the server has executed it) and then closes both sides
 * without passing the reply on: a reply lost after the fact. */
typedef struct ts_proxy ts_proxy;

ts_proxy *ts_proxy_start(int server_port);
int ts_proxy_port(const ts_proxy *p);
/* Drops the reply of the next `times` requests named cmd (case-insensitive). */
void ts_proxy_drop_reply(ts_proxy *p, const char *cmd, int times);
/* Requests named cmd (as set by ts_proxy_drop_reply) seen so far. */
int ts_proxy_seen(ts_proxy *p);
/* Replies dropped so far. */
int ts_proxy_dropped(ts_proxy *p);
void ts_proxy_stop(ts_proxy *p);

#endif
