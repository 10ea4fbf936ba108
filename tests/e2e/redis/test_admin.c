/* End-to-end tests of the administration commands
 * (server/redis/cmd_admin.c): SLOWLOG LASTSAVE BGSAVE. */
#include "harness.h"

#include <dirent.h>
#include <string.h>
#include <time.h>

SKV_FIXTURE();

static int has_backup(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "backup-", 7)) found = 1;
    closedir(d);
    return found;
}

Test(admin, slowlog, .init = up, .fini = down) {
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than 0"));
    expect_ok(CMD("SET a 1"));
    long long n = take_int(CMD("SLOWLOG LEN"));
    cr_expect(n >= 1, "SLOWLOG LEN %lld", n);
    redisReply *r = take_array(CMD("SLOWLOG GET 1"));
    cr_expect_eq(r->elements, 1, "SLOWLOG GET 1: %zu entries", r->elements);
    if (r->elements >= 1) {
        cr_expect_eq(r->element[0]->type, REDIS_REPLY_ARRAY);
        cr_expect_eq(r->element[0]->elements, 6, "entry fields %zu", r->element[0]->elements);
    }
    freeReplyObject(r);
    /* with the threshold at 0 SLOWLOG RESET would log itself (as in Redis) */
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than -1"));
    expect_ok(CMD("SLOWLOG RESET"));
    expect_int(CMD("SLOWLOG LEN"), 0);
}

Test(admin, lastsave_bgsave, .init = up, .fini = down) {
    long long ls = take_int(CMD("LASTSAVE"));
    long long now = (long long)time(NULL);
    cr_expect(ls > now - 3600 && ls <= now + 5, "LASTSAVE %lld, now %lld", ls, now);
    cr_expect(!has_backup(srv.dir), "a backup before BGSAVE");
    expect_status(CMD("BGSAVE"), "Background saving started");
    long long end = mono_ms() + SKV_WAIT_MS;
    while (!has_backup(srv.dir) && mono_ms() < end) msleep(50);
    cr_expect(has_backup(srv.dir), "no backup-* in %s after %d ms", srv.dir, SKV_WAIT_MS);
}
