/* End-to-end storage faults: DEBUG FAULT (enable-debug-fault yes) makes the
 * store's batch write, WAL write/fsync or reads fail with EIO or ENOSPC.
 *
 *   - a failed batch write: every reply of the group is an error naming the
 *     errno, nothing of the group is written (keys, DBSIZE, domain counters,
 *     IDEMP records), reads go on, the next write works;
 *   - a failed WAL write/fsync: the group's replies are errors (never +OK)
 *     and what the group wrote is put back (readers and a restart see the
 *     state before it), later writes get -MISCONF until a sync succeeds
 *     again, reads go on, and the server takes writes again once the fault
 *     is cleared;
 *   - a failed read: the command errors and writes nothing;
 *   - without the option, DEBUG FAULT does not exist for clients. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

static void up_faults(void) {
    const char *extra[] = {"--enable-debug-fault", "yes", "--enable-debug-command", "yes", NULL};
    up_with(extra);
}

static void up_faults_always(void) {
    const char *extra[] = {"--enable-debug-fault", "yes", "--enable-debug-command", "yes", "--fsync", "always", NULL};
    up_with(extra);
}

/* Sends n commands in one pipeline (one write, so one loop iteration reads
 * them all) and returns the replies. */
static void pipeline(redisContext *ctx, int n, const char *const *cmds, redisReply **out) {
    for (int i = 0; i < n; i++) cr_assert(redisAppendCommand(ctx, cmds[i]) == REDIS_OK);
    for (int i = 0; i < n; i++) {
        cr_assert(redisGetReply(ctx, (void **)&out[i]) == REDIS_OK, "reply %d: %s", i, ctx->errstr);
    }
}

static long long info_ll(const char *section, const char *name) { return info_field(c, section, name); }

static int wait_writes_accepted(long ms) { return skv_wait_writes_accepted(c, ms); }

static void up_debug_only(void) {
    const char *extra[] = {"--enable-debug-command", "yes", NULL};
    up_with(extra);
}

Test(faults, disabled_without_the_option, .init = up_debug_only, .fini = down) {
    expect_error(CMD("DEBUG FAULT WRITE EIO"), "ERR DEBUG FAULT is disabled");
    expect_ok(CMD("SET k v"));
    expect_bulk(CMD("GET k"), "v");
}

Test(faults, bad_arguments, .init = up_faults, .fini = down) {
    expect_error(CMD("DEBUG FAULT DISK EIO"), "ERR DEBUG FAULT: the operation must be");
    expect_error(CMD("DEBUG FAULT WRITE EPERM"), "ERR DEBUG FAULT: the error must be");
    expect_error(CMD("DEBUG FAULT WRITE EIO 0"), "ERR DEBUG FAULT: count must be");
    expect_error(CMD("DEBUG FAULT WRITE EIO x"), "ERR DEBUG FAULT: count must be");
    expect_error(CMD("DEBUG FAULT WRITE EIO 1 2"), "ERR syntax error");
    expect_error(CMD("DEBUG FAULT WRITE"), "ERR wrong number of arguments");
    /* nothing was armed by the refused calls */
    expect_ok(CMD("SET k v"));
}

/* A blocked BLPOP served by a push of a group whose batch write fails:
 * its pop was in that batch, so its reply is the error as well (not the
 * element, which was never pushed), and it leaves the queue. */
Test(faults, failed_batch_write_fails_a_served_blocked_pop, .init = up_faults, .fini = down) {
    redisContext *a = skv_connect(&srv);
    cr_assert(redisAppendCommand(a, "BLPOP q 0") == REDIS_OK);
    for (int done = 0; !done;) cr_assert_eq(redisBufferWrite(a, &done), REDIS_OK);
    long long t0 = mono_ms();
    while (info_ll("clients", "blocked_clients") != 1) {
        cr_assert_lt(mono_ms() - t0, SKV_WAIT_MS, "BLPOP never blocked");
        msleep(10);
    }
    expect_ok(CMD("DEBUG FAULT WRITE EIO 1"));
    expect_error(CMD("RPUSH q x"), "ERR storage error");
    void *r = NULL;
    cr_assert_eq(redisGetReply(a, &r), REDIS_OK, "no reply: %s", a->errstr);
    redisReply *rr = r;
    cr_expect_eq(rr->type, REDIS_REPLY_ERROR, "the served pop of the failed group replied type %d (%s)", rr->type,
                 rstr(rr));
    cr_expect(strstr(rstr(rr), "EIO") != NULL, "got '%s'", rstr(rr));
    freeReplyObject(rr);
    expect_int(CMD("EXISTS q"), 0);
    cr_expect_eq(info_ll("clients", "blocked_clients"), 0);
    /* the connection is in step: its next command gets its own reply */
    expect_int(skv_cmd(a, "RPUSH q y"), 1);
    expect_bulk(CMD("LPOP q"), "y");
    redisFree(a);
}

Test(faults, failed_batch_write_fails_the_whole_group, .init = up_faults, .fini = down) {
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("SET n 10"));
    long long dbsize = take_int(CMD("DBSIZE"));
    expect_ok(CMD("DEBUG FAULT WRITE EIO 1"));
    /* writes and a read of the same group: all become the error */
    const char *cmds[] = {"SET b 2", "INCR n", "GET a", "DEL a", "MSET x 1 y 2"};
    redisReply *r[5];
    pipeline(c, 5, cmds, r);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(r[i]->type, REDIS_REPLY_ERROR, "reply %d of the failed group has type %d (%s)", i,
                     r[i]->type, rstr(r[i]));
        cr_expect(strstr(rstr(r[i]), "storage error") && strstr(rstr(r[i]), "EIO"),
                  "reply %d does not name the storage error and errno: %s", i, rstr(r[i]));
        freeReplyObject(r[i]);
    }
    /* nothing of the group happened */
    expect_int(CMD("DBSIZE"), dbsize);
    expect_nil(CMD("GET b"));
    expect_nil(CMD("GET x"));
    expect_bulk(CMD("GET a"), "1");
    expect_bulk(CMD("GET n"), "10");
    /* the fault was for one write: the next one works, counts stay exact */
    expect_int(CMD("INCR n"), 11);
    expect_ok(CMD("SET b 2"));
    expect_int(CMD("DBSIZE"), dbsize + 1);
    cr_expect_geq(info_ll("persistence", "wal_failed_replies"), 5);
    cr_expect_eq(info_ll("persistence", "storage_faults_injected"), 1);
}

Test(faults, enospc_is_named, .init = up_faults, .fini = down) {
    expect_ok(CMD("DEBUG FAULT WRITE ENOSPC"));
    for (int i = 0; i < 3; i++) {
        redisReply *r = CMD("SET k%d v", i);
        cr_expect_eq(r->type, REDIS_REPLY_ERROR);
        cr_expect(strstr(rstr(r), "ENOSPC") && strstr(rstr(r), "No space left"), "got '%s'", rstr(r));
        freeReplyObject(r);
    }
    expect_int(CMD("DBSIZE"), 0);
    expect_ok(CMD("DEBUG FAULT WRITE OFF"));
    expect_ok(CMD("SET k v"));
    expect_int(CMD("DBSIZE"), 1);
}

Test(faults, domain_command_writes_nothing, .init = up_faults, .fini = down) {
    expect_int(CMD("COINS.ADD u1 100 seed"), 100);
    char id[17];
    assert_id(CMD("TRACK.CREATE u1 {\"t\":1}"), id);
    expect_ok(CMD("DEBUG FAULT WRITE EIO 3"));
    expect_error(CMD("COINS.SPEND u1 30 buy IDEMP k1"), "ERR storage error");
    expect_error(CMD("TRACK.CREATE u1 {\"t\":2}"), "ERR storage error");
    expect_error(CMD("DONATION.SEND u1 u2 5"), "ERR storage error");
    /* balances, ledger, counters, lists: as before */
    expect_int(CMD("COINS.BALANCE u1"), 100);
    expect_int(CMD("COINS.BALANCE u2"), 0);
    expect_ok(CMD("COINS.VERIFY u1"));
    expect_int(CMD("TRACK.COUNT u1"), 1);
    expect_len(CMD("TRACK.LIST u1"), 1);
    expect_len(CMD("COINS.HISTORY u1"), 1);
    expect_int(CMD("DONATION.TOTAL u2"), 0);
    expect_int(CMD("NOTIFY.UNREAD u2"), 0);
    char *dash = take_bulk(CMD("DASHBOARD.GET u1"));
    cr_expect(strstr(dash, "\"tracks\":1") && strstr(dash, "\"coins\":100"), "dashboard %s", dash);
    free(dash);
    /* the IDEMP key was not recorded by the failed call: its retry runs */
    expect_int(CMD("COINS.SPEND u1 30 buy IDEMP k1"), 70);
    expect_int(CMD("COINS.SPEND u1 30 buy IDEMP k1"), 70);
    expect_ok(CMD("COINS.VERIFY u1"));
}

Test(faults, failed_read_errors_and_writes_nothing, .init = up_faults, .fini = down) {
    expect_ok(CMD("SET n 5"));
    expect_ok(CMD("DEBUG FAULT READ EIO 1"));
    redisReply *r = CMD("INCR n");
    cr_expect_eq(r->type, REDIS_REPLY_ERROR);
    cr_expect(strstr(rstr(r), "storage error") && strstr(rstr(r), "EIO"), "got '%s'", rstr(r));
    freeReplyObject(r);
    expect_bulk(CMD("GET n"), "5");
    expect_int(CMD("INCR n"), 6);
    /* a read fault on every read: reads fail, the server stays up */
    expect_ok(CMD("DEBUG FAULT READ EIO"));
    expect_error(CMD("GET n"), "ERR storage error");
    expect_error(CMD("KV.GETBYPREFIX n"), "ERR storage error");
    expect_ok(CMD("DEBUG FAULT READ OFF"));
    expect_bulk(CMD("GET n"), "6");
}

/* fsync always: the group's own sync fails */
Test(faults, failed_wal_sync_stops_writes_until_it_recovers, .init = up_faults_always, .fini = down) {
    expect_ok(CMD("SET old v"));
    expect_int(CMD("COINS.ADD u1 50 seed"), 50);
    expect_ok(CMD("SET n 7"));
    expect_ok(CMD("DEBUG FAULT SYNC EIO"));
    const char *cmds[] = {"SET a 1", "GET old", "INCR n", "DEL old", "COINS.ADD u1 25 more", "TRACK.CREATE u1 {}"};
    redisReply *r[6];
    pipeline(c, 6, cmds, r);
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(r[i]->type, REDIS_REPLY_ERROR, "reply %d: type %d (%s)", i, r[i]->type, rstr(r[i]));
        cr_expect(strstr(rstr(r[i]), "WAL write failed, nothing was written") && strstr(rstr(r[i]), "EIO"),
                  "reply %d: %s", i, rstr(r[i]));
        freeReplyObject(r[i]);
    }
    /* the group is gone: keys, counts, ledger, domain counters */
    expect_nil(CMD("GET a"));
    expect_bulk(CMD("GET old"), "v");
    expect_bulk(CMD("GET n"), "7");
    expect_int(CMD("DBSIZE"), 4); /* old, n, coins:u1:balance, its ledger row */
    expect_int(CMD("COINS.BALANCE u1"), 50);
    expect_len(CMD("COINS.HISTORY u1"), 1);
    expect_int(CMD("TRACK.COUNT u1"), 0);
    expect_ok(CMD("COINS.VERIFY u1"));
    /* writes are refused, plain and domain, from any client */
    expect_error(CMD("SET b 2"), "MISCONF Errors writing to the WAL");
    expect_error(CMD("COINS.SPEND u1 5 x"), "MISCONF");
    redisContext *other = skv_connect(&srv);
    expect_error(skv_cmd(other, "SET c 3"), "MISCONF");
    /* reads go on */
    expect_bulk(skv_cmd(other, "GET old"), "v");
    expect_int(skv_cmd(other, "COINS.BALANCE u1"), 50);
    expect_status(skv_cmd(other, "PING"), "PONG");
    {
        redisReply *ir = CMD("INFO persistence");
        cr_expect(strstr(rstr(ir), "aof_last_write_status:err"), "INFO: %s", rstr(ir));
        freeReplyObject(ir);
    }
    /* still failing a second later: the retry keeps failing */
    msleep(1200);
    expect_error(CMD("SET b 2"), "MISCONF");
    /* the fault clears: writes come back within the cron's retry */
    expect_ok(CMD("DEBUG FAULT SYNC OFF"));
    cr_assert(wait_writes_accepted(5000), "writes still refused 5 s after the fault cleared");
    expect_ok(CMD("SET b 2"));
    expect_int(CMD("COINS.SPEND u1 5 x"), 45);
    expect_ok(CMD("COINS.VERIFY u1"));
    {
        redisReply *ir = CMD("INFO persistence");
        cr_expect(strstr(rstr(ir), "aof_last_write_status:ok"), "INFO: %s", rstr(ir));
        freeReplyObject(ir);
    }
    redisFree(other);
    /* what was acknowledged survives a restart */
    cr_expect_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    expect_bulk(CMD("GET b"), "2");
    expect_bulk(CMD("GET old"), "v");
    expect_nil(CMD("GET a"));
    expect_bulk(CMD("GET n"), "7");
    expect_int(CMD("COINS.BALANCE u1"), 45);
    expect_int(CMD("TRACK.COUNT u1"), 0);
    expect_ok(CMD("COINS.VERIFY u1"));
}

/* the undo also holds when the process dies before the WAL recovers:
 * recovery replays nothing of the failed group */
Test(faults, failed_group_absent_after_kill9, .init = up_faults_always, .fini = down) {
    expect_ok(CMD("SET keep 1"));
    expect_ok(CMD("DEBUG FAULT SYNC ENOSPC"));
    expect_error(CMD("SET lost 1"), "ERR WAL write failed, nothing was written");
    expect_nil(CMD("GET lost"));
    skv_kill9(&srv);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    expect_nil(CMD("GET lost"));
    expect_bulk(CMD("GET keep"), "1");
    expect_int(CMD("DBSIZE"), 1);
}

/* a range deletion (FLUSHDB) in a failed group comes back key by key */
Test(faults, failed_group_with_range_deletion_is_put_back, .init = up_faults_always, .fini = down) {
    for (int i = 0; i < 50; i++) expect_ok(CMD("SET k%d v%d", i, i));
    expect_ok(CMD("DEBUG FAULT SYNC EIO 1"));
    expect_error(CMD("FLUSHDB"), "ERR WAL write failed, nothing was written");
    expect_int(CMD("DBSIZE"), 50);
    expect_bulk(CMD("GET k17"), "v17");
    expect_len(CMD("KEYS *"), 50);
    cr_assert(wait_writes_accepted(5000), "writes still refused 5 s after a one-shot fault");
    cr_expect_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    expect_int(CMD("DBSIZE"), 51); /* with the probe key */
    expect_bulk(CMD("GET k49"), "v49");
}

/* fsync everysec: the background sync fails, so writes acknowledged since
 * the last sync may not be on disk: writes stop as well. */
Test(faults, failed_background_sync_stops_writes, .init = up_faults, .fini = down) {
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("DEBUG FAULT SYNC ENOSPC"));
    long long dl = mono_ms() + 5000;
    int refused = 0;
    while (!refused && mono_ms() < dl) {
        redisReply *r = CMD("SET a 1");
        if (r->type == REDIS_REPLY_ERROR) {
            cr_expect(strstr(rstr(r), "ENOSPC") != NULL, "got '%s'", rstr(r));
            refused = 1;
        } else {
            cr_expect_eq(r->type, REDIS_REPLY_STATUS, "got type %d (%s)", r->type, rstr(r));
        }
        freeReplyObject(r);
        msleep(100);
    }
    cr_assert(refused, "writes still accepted 5 s after the WAL sync started failing");
    expect_error(CMD("SET a 2"), "MISCONF");
    expect_bulk(CMD("GET a"), "1");
    expect_ok(CMD("DEBUG FAULT ALL OFF"));
    cr_assert(wait_writes_accepted(5000), "writes still refused 5 s after the fault cleared");
    expect_ok(CMD("SET a 3"));
    expect_bulk(CMD("GET a"), "3");
}
