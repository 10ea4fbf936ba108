/* End-to-end: the writer thread (writer-thread, writer-thread-min-writes).
 * With min-writes 1 every batch with a write goes to the writer thread
 * while the loop runs the next one, so these tests put many pipelining
 * clients against each other and check what must hold whatever the
 * interleaving:
 *   - a key's INCR replies are exactly 1..N (a batch that read a value the
 *     batch in flight wrote saw it: no lost or repeated increment), through
 *     the value cache's records, values too big for it, and hash fields;
 *   - every acknowledged write survives kill -9;
 *   - a failed WAL flush or batch write loses nothing acknowledged, and no
 *     acknowledged reply rests on a failed batch (the batch after it,
 *     which may have read it, fails too);
 *   - the same for the domain's coin moves (synced before their reply:
 *     a batch of them goes to the writer whatever its size) and message
 *     sends, whose derived data DOMAIN.CHECK finds consistent;
 *   - writer-thread no and the option's limits. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

#define CLIENTS 6
#define PER_CLIENT 300
#define KEYS 3

static void up_writer(void) {
    const char *extra[] = {"--writer-thread", "yes", "--writer-thread-min-writes", "1", NULL};
    up_with(extra);
}

static void up_writer_faults(void) {
    const char *extra[] = {"--writer-thread", "yes", "--writer-thread-min-writes", "1", "--enable-debug-fault", "yes",
                           "--enable-debug-command", "yes",
                           "--fsync", "always", NULL};
    up_with(extra);
}

static void up_no_writer(void) {
    const char *extra[] = {"--writer-thread", "no", "--writer-thread-min-writes", "1", NULL};
    up_with(extra);
}

/* Every client's pipeline is sent before any reply is read, so the server
 * reads them in whatever iterations the kernel hands them over. fmt gets
 * the key number (i % KEYS). Replies land in r[client][i]. */
static void storm(redisContext **cs, const char *fmt, redisReply *r[CLIENTS][PER_CLIENT]) {
    for (int k = 0; k < CLIENTS; k++)
        for (int i = 0; i < PER_CLIENT; i++) cr_assert(redisAppendCommand(cs[k], fmt, i % KEYS) == REDIS_OK);
    for (int k = 0; k < CLIENTS; k++) {
        int done = 0;
        while (!done) cr_assert(redisBufferWrite(cs[k], &done) == REDIS_OK, "%s", cs[k]->errstr);
    }
    for (int k = 0; k < CLIENTS; k++)
        for (int i = 0; i < PER_CLIENT; i++)
            cr_assert(redisGetReply(cs[k], (void **)&r[k][i]) == REDIS_OK, "client %d reply %d: %s", k, i,
                      cs[k]->errstr);
}

/* The integer replies for key key, each divided by unit, must be exactly
 * base+1..base+n (errors skipped and counted); returns n. */
static long long check_sequence(redisReply *r[CLIENTS][PER_CLIENT], int key, long long base, long long unit,
                                int *errors) {
    static char seen[CLIENTS * PER_CLIENT + 1];
    memset(seen, 0, sizeof seen);
    long long n = 0, max = 0;
    for (int k = 0; k < CLIENTS; k++)
        for (int i = key; i < PER_CLIENT; i += KEYS) {
            redisReply *x = r[k][i];
            if (x->type == REDIS_REPLY_ERROR) {
                (*errors)++;
                continue;
            }
            cr_assert_eq(x->type, REDIS_REPLY_INTEGER, "client %d reply %d: type %d (%s)", k, i, x->type, rstr(x));
            cr_assert_eq(x->integer % unit, 0, "client %d reply %d: %lld", k, i, x->integer);
            long long v = x->integer / unit - base;
            cr_assert(v >= 1 && v <= CLIENTS * PER_CLIENT, "client %d reply %d: %lld after %lld", k, i, v, base);
            cr_assert(!seen[v], "key %d: reply %lld came twice (an increment was lost)", key, v + base);
            seen[v] = 1;
            n++;
            if (v > max) max = v;
        }
    cr_assert_eq(max, n, "key %d: %lld increments acknowledged, but the highest reply is %lld", key, n, max + base);
    return n;
}

static void free_all(redisReply *r[CLIENTS][PER_CLIENT]) {
    for (int k = 0; k < CLIENTS; k++)
        for (int i = 0; i < PER_CLIENT; i++) freeReplyObject(r[k][i]);
}

static redisContext *cs[CLIENTS];
static redisReply *rs[CLIENTS][PER_CLIENT];

static void connect_all(void) {
    for (int k = 0; k < CLIENTS; k++) cs[k] = skv_connect(&srv);
}

static void close_all(void) {
    for (int k = 0; k < CLIENTS; k++) redisFree(cs[k]);
}

static void restart_kill9(void) {
    close_all();
    skv_kill9(&srv);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
}

/* A storm of fmt on fresh keys: each key's replies, divided by unit, must
 * be exactly 1..N (N its share of the storm), without an error; mirror:
 * they count down from N-1 to 0 instead (N - reply is 1..N). */
static void storm_exact(const char *fmt, long long unit, int mirror) {
    const long long n = CLIENTS * PER_CLIENT / KEYS;
    storm(cs, fmt, rs);
    for (int key = 0; key < KEYS; key++) {
        for (int k = 0; mirror && k < CLIENTS; k++)
            for (int i = key; i < PER_CLIENT; i += KEYS)
                if (rs[k][i]->type == REDIS_REPLY_INTEGER) rs[k][i]->integer = n - rs[k][i]->integer;
        int errors = 0;
        cr_expect_eq(check_sequence(rs, key, 0, unit, &errors), n);
        cr_expect_eq(errors, 0);
    }
    free_all(rs);
}

/* Three rounds of counters read and written by batches while the batch
 * before is on the writer thread, then kill -9: every acknowledged
 * increment is there. */
Test(writer, increments_are_exact_across_batches, .init = up_writer, .fini = down) {
    connect_all();
    long long total[KEYS] = {0};
    for (int round = 1; round <= 3; round++) {
        storm(cs, "INCR n%d", rs);
        for (int key = 0; key < KEYS; key++) {
            int errors = 0;
            total[key] += check_sequence(rs, key, total[key], 1, &errors);
            cr_expect_eq(errors, 0);
            cr_expect_eq(total[key], (long long)round * CLIENTS * PER_CLIENT / KEYS);
        }
        free_all(rs);
    }
    cr_expect_gt(info_field(c, "persistence", "writer_thread_groups"), 0);
    restart_kill9();
    char want[32];
    for (int key = 0; key < KEYS; key++) {
        snprintf(want, sizeof want, "%lld", total[key]);
        expect_bulk(CMD("GET n%d", key), want);
    }
}

/* Values past the value cache's limit and hash fields (the element column
 * family): a read of what the batch in flight wrote waits for the writer
 * instead of reading its records. */
Test(writer, big_values_and_hash_fields_are_exact, .init = up_writer, .fini = down) {
    connect_all();
    char fmt[160];
    memset(fmt, 0, sizeof fmt);
    strcpy(fmt, "APPEND big%d ");
    memset(fmt + strlen(fmt), 'x', 100); /* 41 appends pass the 4 KB the value cache keeps */
    storm_exact(fmt, 100, 0);
    for (int key = 0; key < KEYS; key++) expect_int(CMD("STRLEN big%d", key), 100LL * CLIENTS * PER_CLIENT / KEYS);
    storm_exact("HINCRBY h f%d 1", 1, 0);
    expect_int(CMD("HLEN h"), KEYS);
    restart_kill9();
    expect_int(CMD("STRLEN big1"), 100LL * CLIENTS * PER_CLIENT / KEYS);
    expect_bulk(CMD("HGET h f2"), "600");
}

static int wait_writes_accepted(long ms) { return skv_wait_writes_accepted(c, ms); }

/* The value of counter key (INCR's n%d, or a user's coin balance). */
static long long counter(int coins, int key) {
    redisReply *r = coins ? CMD("COINS.BALANCE wu%d", key) : CMD("GET n%d", key);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    cr_assert_geq(v, 0, "key %d: %s", key, rstr(r));
    freeReplyObject(r);
    return v;
}

/* DOMAIN.CHECK: the counters, indexes and feeds agree with the documents. */
static void expect_domain_consistent(void) {
    redisReply *r = CMD("DOMAIN.CHECK");
    cr_expect(r->type == REDIS_REPLY_STATUS || (r->type == REDIS_REPLY_ARRAY && r->elements == 0),
              "DOMAIN.CHECK: %s", r->type == REDIS_REPLY_ARRAY && r->elements ? rstr(r->element[0]) : rstr(r));
    freeReplyObject(r);
}

/* One failure (op: SYNC, the writer's WAL flush; WRITE, the batch write)
 * in the middle of the storm of fmt (INCR, or COINS.ADD when coins): the
 * acknowledged increments are exactly 1..n and n is what the database
 * keeps, also after kill -9. */
static void one_failure(const char *op, int coins) {
    const char *fmt = coins ? "COINS.ADD wu%d 1 r" : "INCR n%d";
    connect_all();
    storm(cs, fmt, rs); /* a first storm: the failure comes with data behind it */
    free_all(rs);
    expect_ok(CMD("DEBUG FAULT %s EIO 1", op));
    storm(cs, fmt, rs);
    long long total[KEYS];
    int errors = 0;
    for (int key = 0; key < KEYS; key++) total[key] = check_sequence(rs, key, CLIENTS * PER_CLIENT / KEYS, 1, &errors);
    free_all(rs);
    cr_expect_gt(errors, 0, "the fault failed no reply");
    cr_expect_eq(info_field(c, "persistence", "storage_faults_injected"), 1);
    cr_assert(wait_writes_accepted(10000), "writes still refused 10 s after a one-shot fault");
    for (int key = 0; key < KEYS; key++) cr_expect_eq(counter(coins, key), CLIENTS * PER_CLIENT / KEYS + total[key]);
    restart_kill9();
    for (int key = 0; key < KEYS; key++) cr_expect_eq(counter(coins, key), CLIENTS * PER_CLIENT / KEYS + total[key]);
    if (coins) expect_domain_consistent();
}

Test(writer, failed_wal_flush_acknowledges_nothing_it_lost, .init = up_writer_faults, .fini = down) {
    one_failure("SYNC", 0);
}

Test(writer, failed_batch_write_acknowledges_nothing_it_lost, .init = up_writer_faults, .fini = down) {
    one_failure("WRITE", 0);
}

Test(writer, failed_wal_flush_moves_no_coin_it_lost, .init = up_writer_faults, .fini = down) {
    one_failure("SYNC", 1);
}

Test(writer, failed_batch_write_moves_no_coin_it_lost, .init = up_writer_faults, .fini = down) {
    one_failure("WRITE", 1);
}

/* Coin moves (synced before their replies, in the default fsync mode
 * too) and message sends read what the batch on the writer wrote: each
 * balance's replies are exactly 1..N then N-1..0, nothing is lost by
 * kill -9, and the derived data stays consistent. */
Test(writer, coin_moves_and_messages_are_exact_across_batches, .init = up_writer, .fini = down) {
    connect_all();
    storm_exact("COINS.ADD wu%d 1 r", 1, 0);
    long long syncs = info_field(c, "persistence", "wal_syncs");
    cr_expect_gt(info_field(c, "persistence", "writer_thread_groups"), 0);
    storm_exact("COINS.SPEND wu%d 1 r", 1, 1);
    cr_expect_gt(info_field(c, "persistence", "wal_syncs"), syncs, "coin moves were not synced");
    storm(cs, "MSG.SEND wc%d alice bob hello", rs);
    for (int k = 0; k < CLIENTS; k++)
        for (int i = 0; i < PER_CLIENT; i++)
            cr_assert_eq(rs[k][i]->type, REDIS_REPLY_STRING, "client %d send %d: %s", k, i, rstr(rs[k][i]));
    free_all(rs);
    /* Past writer-thread-min-writes, a batch goes to the writer only when
     * it must be synced: coin moves do, INCRs (fsync everysec) do not. */
    expect_ok(CMD("CONFIG SET writer-thread-min-writes 1000000000"));
    long long groups = info_field(c, "persistence", "writer_thread_groups");
    storm(cs, "INCR n%d", rs);
    free_all(rs);
    cr_expect_eq(info_field(c, "persistence", "writer_thread_groups"), groups);
    storm(cs, "COINS.ADD wu%d 1 r", rs);
    free_all(rs);
    cr_expect_gt(info_field(c, "persistence", "writer_thread_groups"), groups);
    storm(cs, "COINS.SPEND wu%d 1 r", rs);
    free_all(rs);
    restart_kill9();
    for (int key = 0; key < KEYS; key++) cr_expect_eq(counter(1, key), 0);
    expect_int(CMD("MSG.UNREAD bob"), CLIENTS * PER_CLIENT);
    expect_domain_consistent();
}

/* One client runs WATCH/MULTI/INCR/EXEC among the others' pipelined
 * INCRs, through a one-shot WAL failure: its commands take the writer's
 * result first and commit on the loop, and neither they nor the pipelines
 * acknowledge an increment that is not kept. */
Test(writer, transactions_among_batches_through_a_failure, .init = up_writer_faults, .fini = down) {
    connect_all();
    enum { TX = 100, MAXV = 2 * CLIENTS * PER_CLIENT };
    static char seen[MAXV + 1];
    memset(seen, 0, sizeof seen);
    long long acked = 0, max = 0;
    expect_ok(CMD("DEBUG FAULT SYNC EIO 1"));
    /* the first storm meets the failure (and the refused writes after
     * it); the second runs once writes are accepted again */
    for (int storm_no = 0; storm_no < 2; storm_no++) {
        for (int k = 0; k < CLIENTS - 1; k++)
            for (int i = 0; i < PER_CLIENT; i++) cr_assert(redisAppendCommand(cs[k], "INCR n") == REDIS_OK);
        redisContext *tx = cs[CLIENTS - 1];
        for (int i = 0; i < TX; i++) {
            cr_assert(redisAppendCommand(tx, "WATCH w") == REDIS_OK);
            cr_assert(redisAppendCommand(tx, "MULTI") == REDIS_OK);
            cr_assert(redisAppendCommand(tx, "INCR n") == REDIS_OK);
            cr_assert(redisAppendCommand(tx, "EXEC") == REDIS_OK);
        }
        for (int k = 0; k < CLIENTS; k++) {
            int done = 0;
            while (!done) cr_assert(redisBufferWrite(cs[k], &done) == REDIS_OK);
        }
        for (int k = 0; k < CLIENTS; k++) {
            int n = k < CLIENTS - 1 ? PER_CLIENT : 4 * TX;
            for (int i = 0; i < n; i++) {
                redisReply *x = NULL;
                cr_assert(redisGetReply(cs[k], (void **)&x) == REDIS_OK, "%s", cs[k]->errstr);
                long long v = -1;
                if (k < CLIENTS - 1 && x->type == REDIS_REPLY_INTEGER) v = x->integer;
                if (k == CLIENTS - 1 && i % 4 == 3 && x->type == REDIS_REPLY_ARRAY && x->elements == 1 &&
                    x->element[0]->type == REDIS_REPLY_INTEGER)
                    v = x->element[0]->integer;
                freeReplyObject(x);
                if (v < 0) continue;
                cr_assert(v >= 1 && v <= MAXV, "reply %lld", v);
                cr_assert(!seen[v], "reply %lld came twice", v);
                seen[v] = 1;
                acked++;
                if (v > max) max = v;
            }
        }
        if (storm_no == 0) cr_assert(wait_writes_accepted(10000), "writes still refused 10 s after a one-shot fault");
    }
    cr_expect_gt(acked, 0);
    cr_expect_eq(max, acked, "%lld increments acknowledged, the highest reply is %lld", acked, max);
    cr_expect_eq(info_field(c, "persistence", "storage_faults_injected"), 1);
    char want[32];
    snprintf(want, sizeof want, "%lld", acked);
    expect_bulk(CMD("GET n"), want);
}

static void send_all(redisContext *x) {
    int done = 0;
    while (!done) cr_assert(redisBufferWrite(x, &done) == REDIS_OK, "%s", x->errstr);
}

/* A hand-over that fails dooms the rest of its loop iteration, and nothing
 * of it may commit: not even a command that commits at once because a
 * client started to WATCH after the failure (server_commit refuses while
 * the iteration is doomed). The loop sleeps while a and b send, so it
 * reads both in one iteration, a's first. */
Test(writer, nothing_commits_after_a_failed_hand_over_in_its_iteration, .init = up_writer_faults, .fini = down) {
    redisContext *a = skv_connect(&srv), *b = skv_connect(&srv), *z = skv_connect(&srv);
    expect_ok(CMD("DEBUG FAULT WRITE EIO 1"));
    cr_assert(redisAppendCommand(z, "DEBUG SLEEP 0.4") == REDIS_OK);
    send_all(z);
    msleep(100);
    cr_assert(redisAppendCommand(a, "INCR a") == REDIS_OK); /* handed over: the fault fires */
    send_all(a);
    msleep(100);
    cr_assert(redisAppendCommand(b, "WATCH w") == REDIS_OK);
    cr_assert(redisAppendCommand(b, "SET b 1") == REDIS_OK); /* a client watches: commits at once */
    send_all(b);
    redisReply *r = NULL;
    cr_assert(redisGetReply(z, (void **)&r) == REDIS_OK);
    cr_expect_eq(r->type, REDIS_REPLY_STATUS, "DEBUG SLEEP: %s", rstr(r));
    freeReplyObject(r);
    cr_assert(redisGetReply(a, (void **)&r) == REDIS_OK);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "INCR a: %s", rstr(r));
    freeReplyObject(r);
    cr_assert(redisGetReply(b, (void **)&r) == REDIS_OK); /* WATCH */
    freeReplyObject(r);
    cr_assert(redisGetReply(b, (void **)&r) == REDIS_OK);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "SET b in the doomed iteration: %s", rstr(r));
    freeReplyObject(r);
    cr_expect_eq(info_field(c, "persistence", "storage_faults_injected"), 1);
    expect_int(CMD("EXISTS a"), 0);
    expect_int(CMD("EXISTS b"), 0); /* its reply was an error: it must not be there */
    redisFree(a);
    redisFree(b);
    redisFree(z);
}

/* SIGTERM while pipelines are under way: a clean exit, and every
 * acknowledged increment is there after the restart. */
Test(writer, shutdown_under_load_keeps_what_it_acknowledged, .init = up_writer, .fini = down) {
    connect_all();
    for (int k = 0; k < CLIENTS; k++)
        for (int i = 0; i < PER_CLIENT; i++) cr_assert(redisAppendCommand(cs[k], "INCR n%d", i % KEYS) == REDIS_OK);
    for (int k = 0; k < CLIENTS; k++) {
        int done = 0;
        while (!done) cr_assert(redisBufferWrite(cs[k], &done) == REDIS_OK);
    }
    redisReply *first = NULL;
    cr_assert(redisGetReply(cs[0], (void **)&first) == REDIS_OK); /* the server is at work */
    freeReplyObject(first);
    cr_expect_eq(skv_stop(&srv), 0);
    long long max[KEYS] = {0};
    for (int k = 0; k < CLIENTS; k++)
        for (int i = k == 0 ? 1 : 0; i < PER_CLIENT; i++) {
            redisReply *x = NULL;
            if (redisGetReply(cs[k], (void **)&x) != REDIS_OK) break; /* closed: the rest never came */
            if (x->type == REDIS_REPLY_INTEGER && x->integer > max[i % KEYS]) max[i % KEYS] = x->integer;
            freeReplyObject(x);
        }
    close_all();
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    for (int key = 0; key < KEYS; key++) {
        redisReply *r = CMD("GET n%d", key);
        long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
        freeReplyObject(r);
        cr_expect_geq(v, max[key], "n%d is %lld after the restart, %lld was acknowledged", key, v, max[key]);
    }
}

Test(writer, off_commits_on_the_loop_and_the_options_are_checked, .init = up_no_writer, .fini = down) {
    connect_all();
    storm_exact("INCR n%d", 1, 0);
    close_all();
    cr_expect_eq(info_field(c, "persistence", "writer_thread_groups"), 0);
    expect_strs(CMD("CONFIG GET writer-thread"), 2, "writer-thread", "no");
    expect_error(CMD("CONFIG SET writer-thread yes"), "ERR");
    expect_error(CMD("CONFIG SET writer-thread-min-writes 0"), "ERR");
    expect_ok(CMD("CONFIG SET writer-thread-min-writes 500"));
    expect_strs(CMD("CONFIG GET writer-thread-min-writes"), 2, "writer-thread-min-writes", "500");
}
