/* End-to-end tests of the expiry commands (server/redis/cmd_expire.c):
 * EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST,
 * their NX XX GT LT options, and lazy expiry of a due key. */
#include "harness.h"

#include <time.h>

SKV_FIXTURE();

Test(expire, ttl_basics, .init = up, .fini = down) {
    expect_int(CMD("TTL nope"), -2);
    expect_int(CMD("PTTL nope"), -2);
    expect_int(CMD("EXPIRETIME nope"), -2);
    expect_int(CMD("PEXPIRETIME nope"), -2);
    expect_ok(CMD("SET k v"));
    expect_int(CMD("TTL k"), -1);
    expect_int(CMD("PTTL k"), -1);
    expect_int(CMD("EXPIRETIME k"), -1);
    expect_int(CMD("PEXPIRETIME k"), -1);
    expect_int(CMD("EXPIRE nope 10"), 0);
    expect_int(CMD("PERSIST k"), 0);

    expect_int(CMD("EXPIRE k 100"), 1);
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL: %lld", t);
    expect_int(CMD("PEXPIRE k 50000"), 1);
    long long pt = take_int(CMD("PTTL k"));
    cr_expect(pt > 48000 && pt <= 50000, "PTTL: %lld", pt);

    long long at = (long long)time(NULL) + 1000;
    expect_int(CMD("EXPIREAT k %lld", at), 1);
    expect_int(CMD("EXPIRETIME k"), at);
    expect_int(CMD("PEXPIRETIME k"), at * 1000);
    expect_int(CMD("PEXPIREAT k %lld", at * 1000 + 500), 1);
    expect_int(CMD("PEXPIRETIME k"), at * 1000 + 500);

    expect_int(CMD("PERSIST k"), 1);
    expect_int(CMD("TTL k"), -1);
    expect_bulk(CMD("GET k"), "v");
}

Test(expire, expire_options, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("EXPIRE k 100 XX"), 0);
    expect_int(CMD("TTL k"), -1);
    expect_int(CMD("EXPIRE k 100 NX"), 1);
    expect_int(CMD("EXPIRE k 200 NX"), 0);
    expect_int(CMD("EXPIRE k 200 XX"), 1);
    expect_int(CMD("EXPIRE k 100 GT"), 0);
    expect_int(CMD("EXPIRE k 300 GT"), 1);
    expect_int(CMD("EXPIRE k 400 LT"), 0);
    expect_int(CMD("EXPIRE k 50 LT"), 1);
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 49 && t <= 50, "TTL after LT: %lld", t);
    /* no TTL counts as infinite: GT fails, LT succeeds */
    expect_ok(CMD("SET n v"));
    expect_int(CMD("EXPIRE n 100 GT"), 0);
    expect_int(CMD("TTL n"), -1);
    expect_int(CMD("EXPIRE n 100 LT"), 1);
    expect_error_eq(CMD("EXPIRE k 10 NX XX"), "ERR NX and XX, GT or LT options at the same time are not compatible");
}

Test(expire, expire_past_and_lazy, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("EXPIRE k -1"), 1);
    expect_int(CMD("EXISTS k"), 0);
    expect_ok(CMD("SET k2 v"));
    expect_int(CMD("EXPIREAT k2 1"), 1);
    expect_nil(CMD("GET k2"));

    long long t0 = mono_ms();
    expect_ok(CMD("SET other v"));
    expect_ok(CMD("SET t v PX 1000"));
    expect_int_within(t0, 1000, CMD("DBSIZE"), 2);
    cr_expect(skv_wait_nil(c, SKV_WAIT_MS, "GET t"), "t still there after %d ms", SKV_WAIT_MS);
    expect_int(CMD("EXISTS t"), 0);
    expect_int(CMD("DBSIZE"), 1);
}
