/* Connecting: host/port, unix socket, AUTH, SELECT, timeouts; the command
 * flags the client read from COMMAND INFO; error replies as typed codes. */
#include "support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ts_server srv;
static skv_error e;

#define OK(call) ts_ok((call), &e)
#define FAILS(call, code) ts_expect((call), (code), &e)

static void down(void) { ts_cleanup(&srv); }

/* DEBUG SLEEP stands in for a slow command: DEBUG needs enable-debug-command */
static void up(void) {
    const char *extra[] = {"--enable-debug-command", "yes", NULL};
    ts_start(&srv, extra);
}

TestSuite(connect, .fini = down, .timeout = 60);

static void expect_pong(skv_client *c) {
    redisReply *r = NULL;
    OK(skv_command(c, &r, &e, "PING", NULL));
    cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0);
    freeReplyObject(r);
}

Test(connect, host_port_and_command_flags, .init = up) {
    skv_client *c = ts_open(&srv);
    cr_assert(skv_connected(c));
    expect_pong(c);
    int f = skv_command_flags(c, "coins.spend");
    cr_assert(f & SKV_CMD_KNOWN && f & SKV_CMD_WRITE && f & SKV_CMD_IDEMP);
    cr_assert(!(f & SKV_CMD_RETRY_SAFE), "COINS.SPEND is safe only with IDEMP");
    f = skv_command_flags(c, "KV.SET");
    cr_assert(f & SKV_CMD_WRITE && f & SKV_CMD_RETRY_SAFE && !(f & SKV_CMD_IDEMP));
    f = skv_command_flags(c, "kv.get");
    cr_assert(f & SKV_CMD_READONLY && f & SKV_CMD_RETRY_SAFE);
    f = skv_command_flags(c, "incr");
    cr_assert(f == (SKV_CMD_KNOWN | SKV_CMD_WRITE), "INCR flags %d", f);
    f = skv_command_flags(c, "analytics.incr");
    cr_assert(!(f & (SKV_CMD_RETRY_SAFE | SKV_CMD_IDEMP | SKV_CMD_READONLY)));
    cr_assert_eq(skv_command_flags(c, "no.such"), 0);
    skv_close(c);
    skv_close(NULL);
}

Test(connect, unix_socket) {
    char path[300];
    snprintf(path, sizeof path, "/tmp/skv-cclient-%d.sock", (int)getpid());
    const char *extra[] = {"--unixsocket", path, NULL};
    ts_start(&srv, extra);
    skv_options o = ts_options(0);
    o.unix_path = path;
    skv_client *c = NULL;
    OK(skv_open(&o, &c, &e));
    expect_pong(c);
    long long bal = -1;
    OK(skv_add_coins(c, "fan", 3, "x", &bal, &e));
    cr_assert_eq(bal, 3);
    skv_close(c);
    unlink(path);
}

Test(connect, password) {
    const char *extra[] = {"--requirepass", "s3cret", NULL};
    ts_start(&srv, extra);
    skv_options o = ts_options(srv.port);
    skv_client *c = NULL;
    FAILS(skv_open(&o, &c, &e), SKV_ERR);
    cr_assert_null(c);
    cr_assert(strstr(e.msg, "NOAUTH"), "%s", e.msg);
    cr_assert_eq(e.attempts, 1, "a refusal is an answer: not retried");
    o.password = "wrong";
    FAILS(skv_open(&o, &c, &e), SKV_ERR);
    cr_assert_eq(e.attempts, 1);
    o.password = "s3cret";
    OK(skv_open(&o, &c, &e));
    expect_pong(c);
    skv_close(c);
    o.username = "default";
    OK(skv_open(&o, &c, &e));
    expect_pong(c);
    skv_close(c);
}

Test(connect, database, .init = up) {
    skv_options o = ts_options(srv.port);
    skv_client *d3 = NULL, *d0 = NULL;
    redisReply *r = NULL;
    o.db = 3;
    OK(skv_open(&o, &d3, &e));
    o.db = 0;
    OK(skv_open(&o, &d0, &e));
    OK(skv_command(d3, &r, &e, "SET", "k", "in3", NULL));
    freeReplyObject(r);
    OK(skv_command(d0, &r, &e, "GET", "k", NULL));
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "SET went to database 3");
    freeReplyObject(r);
    OK(skv_command(d3, &r, &e, "GET", "k", NULL));
    cr_assert_str_eq(r->str, "in3");
    freeReplyObject(r);
    /* KV.* and the domain always use database 0 (SPEC §2) */
    json_t *v = json_true(), *got = NULL;
    OK(skv_kv_set(d3, "flag", v, &e));
    OK(skv_kv_get(d0, "flag", &got, &e));
    cr_assert(json_is_true(got));
    json_decref(got);
    skv_close(d3);
    skv_close(d0);
}

Test(connect, command_timeout, .init = up) {
    skv_options o = ts_options(srv.port);
    o.command_timeout_ms = 300;
    skv_client *c = NULL;
    redisReply *r = NULL;
    OK(skv_open(&o, &c, &e));
    long long t0 = ts_ms();
    FAILS(skv_command(c, &r, &e, "DEBUG", "SLEEP", "1", NULL), SKV_TIMEOUT);
    long long took = ts_ms() - t0;
    cr_assert(skv_is_transport(SKV_TIMEOUT));
    cr_assert_eq(e.attempts, 1, "DEBUG is not retry-safe");
    cr_assert(took >= 250 && took < 900, "took %lld ms", took);
    cr_assert(!skv_connected(c), "a timed-out connection is dropped (its reply would come late)");
    ts_sleep_ms(900);
    expect_pong(c); /* reconnected */
    skv_close(c);
}

/* A listener whose accept queue is full drops new SYNs: connect hangs. */
Test(connect, connect_timeout) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 0) == 0);
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fill[i], F_SETFL, O_NONBLOCK);
        (void)!connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    ts_sleep_ms(100);
    skv_options o = ts_options(ntohs(a.sin_port));
    o.connect_timeout_ms = 300;
    o.max_attempts = 2;
    skv_client *c = NULL;
    long long t0 = ts_ms();
    skv_status st = skv_open(&o, &c, &e);
    long long took = ts_ms() - t0;
    /* a queue that took the SYN after all makes the first command time out */
    cr_assert(st == SKV_TIMEOUT, "%s: %s", skv_status_name(st), e.msg);
    cr_assert_null(c);
    cr_assert_eq(e.attempts, 2, "connecting is retried");
    cr_assert_lt(took, 5000 + 1000, "%lld ms", took);
    for (int i = 0; i < 4; i++) close(fill[i]);
    close(l);
}

Test(connect, error_replies_are_typed, .init = up) {
    skv_client *c = ts_open(&srv);
    redisReply *r = NULL;
    FAILS(skv_command(c, &r, &e, "TRACK.GET", "bad:id", "x", NULL), SKV_INVALID);
    cr_assert(strncmp(e.msg, "INVALID id", 10) == 0, "%s", e.msg);
    cr_assert_null(r);
    FAILS(skv_command(c, &r, &e, "TRACK.UPDATE", "u", "0000000000000001", "{}", NULL), SKV_NOTFOUND);
    FAILS(skv_command(c, &r, &e, "COINS.SPEND", "u", "1", "x", NULL), SKV_INSUFFICIENT_FUNDS);
    cr_assert(strstr(e.msg, "need 1"), "%s", e.msg);
    OK(skv_command(c, &r, &e, "USER.CREATE", "u", "{\"email\":\"a@b.c\",\"role\":\"fan\"}", NULL));
    freeReplyObject(r);
    FAILS(skv_command(c, &r, &e, "USER.CREATE", "u", "{\"email\":\"x@b.c\",\"role\":\"fan\"}", NULL), SKV_CONFLICT);
    FAILS(skv_command(c, &r, &e, "NO.SUCH", "x", NULL), SKV_ERR);
    cr_assert(strstr(e.msg, "unknown command"), "%s", e.msg);
    cr_assert_eq(e.attempts, 1, "unknown commands are not retried");
    FAILS(skv_command(c, &r, &e, "GET", NULL), SKV_ERR);
    cr_assert(strstr(e.msg, "wrong number of arguments"), "%s", e.msg);
    cr_assert_str_eq(skv_status_name(SKV_INSUFFICIENT_FUNDS), "SKV_INSUFFICIENT_FUNDS");
    cr_assert(!skv_is_transport(SKV_NOTFOUND) && skv_is_transport(SKV_IO));
    skv_close(c);
}

/* Each call gets its own IDEMP key: two calls are two movements. */
Test(connect, each_call_has_its_own_idemp_key, .init = up) {
    skv_client *c = ts_open(&srv);
    long long bal = -1;
    OK(skv_add_coins(c, "fan", 5, "same", &bal, &e));
    OK(skv_add_coins(c, "fan", 5, "same", &bal, &e));
    cr_assert_eq(bal, 10);
    /* too few arguments: no key appended, the server's arity error */
    redisReply *r = NULL;
    FAILS(skv_command(c, &r, &e, "COINS.ADD", "fan", "5", NULL), SKV_ERR);
    cr_assert(strstr(e.msg, "wrong number of arguments"), "%s", e.msg);
    skv_close(c);
}

/* The generic API is binary-safe. */
Test(connect, binary_safe_argv, .init = up) {
    skv_client *c = ts_open(&srv);
    redisReply *r = NULL;
    const char *set[] = {"SET", "bin\0key", "a\0b\r\nc"};
    const size_t setlen[] = {3, 7, 6};
    OK(skv_command_argv(c, 3, set, setlen, &r, &e));
    freeReplyObject(r);
    const char *get[] = {"GET", "bin\0key"};
    const size_t getlen[] = {3, 7};
    OK(skv_command_argv(c, 2, get, getlen, &r, &e));
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert(r->len == 6 && memcmp(r->str, "a\0b\r\nc", 6) == 0);
    freeReplyObject(r);
    skv_close(c);
}
