/* End-to-end tests of the connection commands (server/redis/cmd_conn.c)
 * against a real stagekv-server: PING ECHO QUIT HELLO AUTH, with Redis 7
 * texts. (SELECT is exercised with the key space in test_keys.c.) */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

static void up_auth(void) {
    const char *extra[] = {"--requirepass", "secret", NULL};
    up_with(extra);
}

/* Looks a field up in a flat RESP2 map (name, value, name, value, ...). */
static redisReply *map_get(redisReply *m, const char *name) {
    if (m->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        if (m->element[i]->type == REDIS_REPLY_STRING && strcmp(m->element[i]->str, name) == 0)
            return m->element[i + 1];
    return NULL;
}

/* Checks a HELLO reply in RESP2 (a flat map). */
#define check_hello(...) check_hello_l(__LINE__, __VA_ARGS__)
static void check_hello_l(int line, redisReply *r) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: HELLO: type %d (%s)", line, r->type, r->str ? r->str : "");
    cr_expect_eq(r->elements, 14, "line %d: HELLO has %zu elements", line, r->elements);
    const char *names[] = {"server", "version", "proto", "id", "mode", "role", "modules"};
    for (size_t i = 0; i < 7 && 2 * i < r->elements; i++) {
        cr_expect_eq(r->element[2 * i]->type, REDIS_REPLY_STRING, "line %d", line);
        cr_expect_str_eq(r->element[2 * i]->str, names[i], "line %d: HELLO field %zu", line, i);
    }
    redisReply *v;
    cr_assert((v = map_get(r, "server")), "line %d: no server", line);
    cr_expect(v->type == REDIS_REPLY_STRING && v->len > 0, "line %d: server", line);
    cr_assert((v = map_get(r, "version")), "line %d: no version", line);
    cr_expect(v->type == REDIS_REPLY_STRING && v->len > 0, "line %d: version", line);
    cr_assert((v = map_get(r, "proto")), "line %d: no proto", line);
    cr_expect(v->type == REDIS_REPLY_INTEGER && v->integer == 2, "line %d: proto must be :2", line);
    cr_assert((v = map_get(r, "id")), "line %d: no id", line);
    cr_expect(v->type == REDIS_REPLY_INTEGER && v->integer > 0, "line %d: id must be a positive integer", line);
    cr_assert((v = map_get(r, "mode")), "line %d: no mode", line);
    cr_expect(v->type == REDIS_REPLY_STRING && strcmp(v->str, "standalone") == 0, "line %d: mode", line);
    cr_assert((v = map_get(r, "role")), "line %d: no role", line);
    cr_expect(v->type == REDIS_REPLY_STRING && strcmp(v->str, "master") == 0, "line %d: role", line);
    cr_assert((v = map_get(r, "modules")), "line %d: no modules", line);
    cr_expect(v->type == REDIS_REPLY_ARRAY, "line %d: modules", line);
    freeReplyObject(r);
}
/* ---- connection --------------------------------------------------------- */

Test(conn, ping_echo, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_bulk(skv_cmd(c, "PING %s", "hello world"), "hello world");
    expect_bulk(skv_cmd(c, "PING %s", ""), "");
    expect_error_eq(skv_cmd(c, "PING a b"), "ERR wrong number of arguments for 'ping' command");
    expect_bulk(skv_cmd(c, "ECHO %s", "hi there"), "hi there");
    redisReply *r = skv_cmd(c, "ECHO %b", "a\0b\r\n", (size_t)5);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_expect_eq(r->len, 5);
    cr_expect(memcmp(r->str, "a\0b\r\n", 5) == 0);
    freeReplyObject(r);
    expect_error_eq(skv_cmd(c, "ECHO"), "ERR wrong number of arguments for 'echo' command");
    expect_error_eq(skv_cmd(c, "ECHO a b"), "ERR wrong number of arguments for 'echo' command");
}

Test(conn, quit_closes, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    int closed = 0;
    size_t n = 0;
    char *out = raw_roundtrip(fd, "QUIT\r\n", 6, 2000, &n, &closed);
    cr_expect_str_eq(out, "+OK\r\n");
    cr_expect(closed, "the server did not close the connection after QUIT");
    free(out);
    close(fd);
    /* commands pipelined after QUIT are not run */
    fd = raw_connect(srv.port);
    const char *pipe = "*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n";
    out = raw_roundtrip(fd, pipe, strlen(pipe), 2000, &n, &closed);
    cr_expect_str_eq(out, "+OK\r\n");
    cr_expect(closed);
    free(out);
    close(fd);
    expect_int(skv_cmd(c, "EXISTS after"), 0);
    /* hiredis: QUIT answers OK, then the connection is gone */
    redisContext *c2 = skv_connect(&srv);
    expect_status(skv_cmd(c2, "QUIT"), "OK");
    redisReply *r = redisCommand(c2, "PING");
    cr_expect(r == NULL, "a command after QUIT got a reply");
    if (r) freeReplyObject(r);
    redisFree(c2);
}

Test(conn, hello, .init = up, .fini = down) {
    check_hello(skv_cmd(c, "HELLO"));
    check_hello(skv_cmd(c, "HELLO 2"));
    check_hello(skv_cmd(c, "HELLO 2 SETNAME myname"));
    /* HELLO 3 switches to RESP3 (hiredis 0.14 can't read it: check the bytes) */
    {
        int fd = raw_connect(srv.port);
        size_t n;
        int closed;
        const char *req = "HELLO 3\r\nPING\r\nCONFIG GET port\r\n", *head = "%7\r\n$6\r\nserver\r\n";
        char *out = raw_roundtrip(fd, req, strlen(req), 300, &n, &closed);
        cr_expect(strncmp(out, head, strlen(head)) == 0, "HELLO 3 reply: %s", out);
        cr_expect(strstr(out, "$5\r\nproto\r\n:3\r\n") != NULL, "proto 3 in: %s", out);
        cr_expect(strstr(out, "+PONG\r\n%1\r\n$4\r\nport\r\n") != NULL, "RESP3 map for CONFIG GET: %s", out);
        free(out);
        close(fd);
    }
    expect_error_eq(skv_cmd(c, "HELLO 4"), "NOPROTO unsupported protocol version");
    expect_error(skv_cmd(c, "HELLO 1"), "NOPROTO");
    expect_error_eq(skv_cmd(c, "HELLO abc"), "ERR Protocol version is not an integer or out of range");
    expect_error_eq(skv_cmd(c, "HELLO 2 FOO"), "ERR Syntax error in HELLO option 'FOO'");
    expect_error_eq(skv_cmd(c, "HELLO 2 AUTH default"), "ERR Syntax error in HELLO option 'AUTH'");
    expect_error_eq(skv_cmd(c, "HELLO 2 SETNAME"), "ERR Syntax error in HELLO option 'SETNAME'");
    /* still speaking RESP2 after the refusals */
    expect_status(skv_cmd(c, "SET k v"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v");
    /* two connections get distinct ids */
    redisContext *c2 = skv_connect(&srv);
    redisReply *a = skv_cmd(c, "HELLO 2"), *b = skv_cmd(c2, "HELLO 2");
    redisReply *ia = map_get(a, "id"), *ib = map_get(b, "id");
    cr_assert(ia && ib);
    cr_expect_neq(ia->integer, ib->integer);
    freeReplyObject(a);
    freeReplyObject(b);
    redisFree(c2);
}

Test(conn, auth_without_password, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "AUTH foo"),
                    "ERR AUTH <password> called without any password configured for the default user. "
                    "Are you sure your configuration is correct?");
    expect_error_eq(skv_cmd(c, "AUTH"), "ERR wrong number of arguments for 'auth' command");
    expect_status(skv_cmd(c, "PING"), "PONG");
}

Test(conn, requirepass, .init = up_auth, .fini = down) {
    expect_error_eq(skv_cmd(c, "PING"), "NOAUTH Authentication required.");
    expect_error_eq(skv_cmd(c, "GET k"), "NOAUTH Authentication required.");
    expect_error_eq(skv_cmd(c, "SET k v"), "NOAUTH Authentication required.");
    expect_error_eq(skv_cmd(c, "KV.GET k"), "NOAUTH Authentication required.");
    expect_error_eq(skv_cmd(c, "CONFIG GET port"), "NOAUTH Authentication required.");
    expect_error(skv_cmd(c, "HELLO 2"), "NOAUTH");
    expect_error_eq(skv_cmd(c, "AUTH wrong"), "WRONGPASS invalid username-password pair or user is disabled.");
    expect_error_eq(skv_cmd(c, "AUTH default wrong"),
                    "WRONGPASS invalid username-password pair or user is disabled.");
    expect_error_eq(skv_cmd(c, "AUTH bob secret"), "WRONGPASS invalid username-password pair or user is disabled.");
    expect_error_eq(skv_cmd(c, "AUTH a b c"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "GET k"), "NOAUTH Authentication required.");
    expect_status(skv_cmd(c, "AUTH secret"), "OK");
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_status(skv_cmd(c, "SET k v"), "OK");
    expect_bulk(skv_cmd(c, "GET k"), "v");
    check_hello(skv_cmd(c, "HELLO 2"));

    /* AUTH default secret */
    redisContext *c2 = skv_connect(&srv);
    expect_error_eq(skv_cmd(c2, "GET k"), "NOAUTH Authentication required.");
    expect_status(skv_cmd(c2, "AUTH default secret"), "OK");
    expect_bulk(skv_cmd(c2, "GET k"), "v");
    redisFree(c2);

    /* HELLO 2 AUTH default secret authenticates */
    redisContext *c3 = skv_connect(&srv);
    expect_error_eq(skv_cmd(c3, "HELLO 2 AUTH default wrong"),
                    "WRONGPASS invalid username-password pair or user is disabled.");
    expect_error_eq(skv_cmd(c3, "GET k"), "NOAUTH Authentication required.");
    check_hello(skv_cmd(c3, "HELLO 2 AUTH default secret"));
    expect_bulk(skv_cmd(c3, "GET k"), "v");
    redisFree(c3);

    /* QUIT works before AUTH */
    redisContext *c4 = skv_connect(&srv);
    expect_status(skv_cmd(c4, "QUIT"), "OK");
    redisFree(c4);
}
