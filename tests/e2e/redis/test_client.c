/* End-to-end tests of the CLIENT subcommands and RESET
 * (server/redis/cmd_client.c). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

Test(client, client_name_id_list_info, .init = up, .fini = down) {
    expect_nil(CMD("CLIENT GETNAME"));
    expect_ok(CMD("CLIENT SETNAME myconn"));
    expect_bulk(CMD("CLIENT GETNAME"), "myconn");
    long long id = take_int(CMD("CLIENT ID"));
    cr_expect(id > 0, "CLIENT ID %lld", id);
    char *list = take_bulk(CMD("CLIENT LIST"));
    cr_expect(list && strstr(list, "name=myconn"), "CLIENT LIST: %s", list ? list : "");
    free(list);
    char *info = take_bulk(CMD("CLIENT INFO"));
    char want[64];
    snprintf(want, sizeof want, "id=%lld ", id);
    cr_expect(info && strstr(info, "name=myconn") && strncmp(info, want, strlen(want)) == 0, "CLIENT INFO: %s",
              info ? info : "");
    free(info);
}

Test(client, client_kill, .init = up, .fini = down) {
    redisContext *c2 = skv_connect(&srv);
    long long id2 = take_int(skv_cmd(c2, "CLIENT ID"));
    long long id1 = take_int(CMD("CLIENT ID"));
    cr_expect_neq(id1, id2);
    expect_int(CMD("CLIENT KILL ID %lld", id2), 1);
    redisReply *r = redisCommand(c2, "PING");
    cr_expect(r == NULL, "killed connection still answered: type %d %s", r ? r->type : -1, r ? rstr(r) : "");
    if (r) freeReplyObject(r);
    redisFree(c2);
    expect_status(CMD("PING"), "PONG");
    expect_int(CMD("CLIENT KILL ID %lld", id2), 0);
}

Test(client, client_reply_off, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    cr_assert(fd >= 0);
    const char *req = "CLIENT REPLY OFF\r\nSET x 1\r\nCLIENT REPLY ON\r\nGET x\r\n";
    size_t n = 0;
    int closed = 0;
    char *out = raw_roundtrip(fd, req, strlen(req), 1000, &n, &closed);
    cr_expect_str_eq(out, "+OK\r\n$1\r\n1\r\n");
    cr_expect(!closed);
    free(out);
    /* SKIP then ON: ON answers, and so does what follows (Redis's "unset SKIP flag") */
    req = "CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\nCLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n";
    out = raw_roundtrip(fd, req, strlen(req), 1000, &n, &closed);
    cr_expect_str_eq(out, "+OK\r\n+PONG\r\n$1\r\nb\r\n");
    free(out);
    close(fd);
}

Test(client, reset, .init = up, .fini = down) {
    expect_ok(CMD("SELECT 4"));
    expect_ok(CMD("SET only4 v"));
    expect_ok(CMD("CLIENT SETNAME n"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("RESET"), "RESET");
    expect_nil(CMD("GET only4"));
    expect_nil(CMD("CLIENT GETNAME"));
    expect_error_eq(CMD("EXEC"), "ERR EXEC without MULTI");
    expect_ok(CMD("SELECT 4"));
    expect_bulk(CMD("GET only4"), "v");
}
