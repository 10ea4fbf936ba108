/* A first end-to-end check that the harness and the server talk. */
#include "harness.h"

static skv_server srv;
static void up(void) { skv_start(&srv, NULL); }
static void down(void) { skv_cleanup(&srv); }

Test(smoke, ping_set_get, .init = up, .fini = down) {
    redisContext *c = skv_connect(&srv);
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_status(skv_cmd(c, "SET %s %s", "k", "v"), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "k"), "v");
    redisFree(c);
}
