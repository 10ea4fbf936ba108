/* End-to-end durability: clean restart after SIGTERM, and kill -9 while a
 * writer has batches in flight, in every fsync mode. Every acknowledged
 * write must survive; DBSIZE (a maintained counter) must agree with the
 * keys actually present; KV.MSET is all-or-nothing across the crash. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static skv_server srv;
static void down(void) { skv_cleanup(&srv); }

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walks the keyspace with SCAN; returns the number of distinct keys. */
static long long scan_count(redisContext *c) {
    size_t cap = 4096, n = 0;
    char **keys = malloc(cap * sizeof *keys);
    char cursor[64] = "0";
    int rounds = 0;
    do {
        redisReply *r = skv_cmd(c, "SCAN %s COUNT 1000", cursor);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "SCAN reply type %d", r->type);
        cr_assert(r->element[0]->type == REDIS_REPLY_STRING);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements; i++) {
            if (n == cap) keys = realloc(keys, (cap *= 2) * sizeof *keys);
            keys[n++] = strdup(ks->element[i]->str);
        }
        freeReplyObject(r);
        cr_assert(++rounds < 100000, "SCAN does not end");
    } while (strcmp(cursor, "0") != 0);
    qsort(keys, n, sizeof *keys, cmpstr);
    long long distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0) distinct++;
    for (size_t i = 0; i < n; i++) free(keys[i]);
    free(keys);
    return distinct;
}

static long long dbsize(redisContext *c) {
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* ---- clean restart ------------------------------------------------------------- */

Test(durability, restart_after_sigterm, .fini = down, .timeout = 60) {
    skv_start(&srv, NULL);
    redisContext *c = skv_connect(&srv);
    for (int i = 0; i < 1000; i++) redisAppendCommand(c, "SET dur:%04d value-%d", i, i * 13);
    for (int i = 0; i < 1000; i++) {
        redisReply *r;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
        expect_status(r, "OK");
    }
    redisFree(c);
    int code = skv_stop(&srv);
    cr_assert_eq(code, 0, "exit status after SIGTERM: %d (see %s)", code, srv.log);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(skv_cmd(c, "DBSIZE"), 1000);
    for (int i = 0; i < 1000; i++) redisAppendCommand(c, "GET dur:%04d", i);
    char want[32];
    for (int i = 0; i < 1000; i++) {
        redisReply *r;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
        snprintf(want, sizeof want, "value-%d", i * 13);
        expect_bulk(r, want);
    }
    cr_expect_eq(scan_count(c), 1000);
    redisFree(c);
}

/* ---- kill -9 while writing ---------------------------------------------------------- */

#define BATCH 100
#define MAX_BATCHES 4000

typedef struct writer {
    int port;
    const char *tag;
    /* acked[b] = number of leading +OK replies of batch b (BATCH when whole) */
    int acked[MAX_BATCHES];
    atomic_int batches_acked; /* whole batches acknowledged */
    atomic_int batches_sent;
    int bad_replies;
    char err[128];
} writer;

static void *writer_main(void *arg) {
    writer *w = arg;
    redisContext *c = redisConnect("127.0.0.1", w->port);
    if (!c || c->err) {
        snprintf(w->err, sizeof w->err, "connect: %.60s", c ? c->errstr : "?");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, (struct timeval){10, 0});
    /* Two batches in flight: batch b+1 is sent before b's replies are read. */
    int next_send = 0;
    for (int b = 0; b < MAX_BATCHES; b++) {
        while (next_send < MAX_BATCHES && next_send <= b + 1) {
            for (int i = 0; i < BATCH; i++)
                redisAppendCommand(c, "SET k:%s:%05d:%03d v:%d:%d:%s", w->tag, next_send, i, next_send, i,
                                   "padding-padding-padding-padding");
            atomic_store(&w->batches_sent, ++next_send);
        }
        for (int i = 0; i < BATCH; i++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
                snprintf(w->err, sizeof w->err, "batch %d reply %d: %.60s", b, i, c->errstr);
                redisFree(c);
                return NULL;
            }
            if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) w->acked[b] = i + 1;
            else w->bad_replies++;
            freeReplyObject(r);
            if (w->acked[b] != i + 1) break;
        }
        if (w->acked[b] != BATCH) break;
        atomic_store(&w->batches_acked, b + 1);
    }
    redisFree(c);
    return NULL;
}

static uint64_t seed_rng(void) {
    const char *env = getenv("STAGEKV_KILL_SEED");
    return env ? strtoull(env, NULL, 0) : 0x6b696c6cULL;
}

/* Checks every key the writers of cycles 0..ncyc-1 may have written: the
 * acknowledged ones must be there with their value. Returns the number of
 * keys present, adds unacknowledged-but-present ones to *extra. */
static long long verify_writers(redisContext *c, writer **ws, int ncyc, long long *extra) {
    long long missing = 0, wrong = 0, present = 0;
    char want[96];
    *extra = 0;
    for (int cy = 0; cy < ncyc; cy++) {
        writer *w = ws[cy];
        int sent = atomic_load(&w->batches_sent);
        for (int b = 0; b < sent; b++) {
            for (int i = 0; i < BATCH; i++) redisAppendCommand(c, "GET k:%s:%05d:%03d", w->tag, b, i);
            for (int i = 0; i < BATCH; i++) {
                redisReply *r;
                cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "%s", c->errstr);
                snprintf(want, sizeof want, "v:%d:%d:%s", b, i, "padding-padding-padding-padding");
                if (r->type == REDIS_REPLY_STRING) {
                    present++;
                    if (strcmp(r->str, want) != 0) wrong++;
                    if (i >= w->acked[b]) (*extra)++;
                } else if (i < w->acked[b]) {
                    if (missing++ < 5) cr_log_error("acknowledged key k:%s:%05d:%03d lost", w->tag, b, i);
                }
                freeReplyObject(r);
            }
        }
    }
    cr_expect_eq(missing, 0, "%lld acknowledged keys lost after kill -9", missing);
    cr_expect_eq(wrong, 0, "%lld keys with a wrong value after kill -9", wrong);
    return present;
}

#define CYCLES 4

/* CYCLES rounds on one data dir: start a writer, kill -9 the server at a
 * random moment, restart, verify everything written so far. */
static void kill9_during_writes(const char *mode, unsigned seed_off) {
    const char *extra[] = {"--fsync", mode, NULL};
    skv_start(&srv, extra);
    uint64_t seed = seed_rng() + seed_off;
    srand((unsigned)seed);
    cr_log_info("fsync %s: seed 0x%llx (set STAGEKV_KILL_SEED to replay)", mode, (unsigned long long)seed);
    writer *ws[CYCLES];
    char tags[CYCLES][32];
    for (int cy = 0; cy < CYCLES; cy++) {
        int kill_after = 3 + rand() % 40; /* whole batches acknowledged */
        int extra_us = rand() % 3000;     /* then a random delay */
        writer *w = ws[cy] = calloc(1, sizeof *w);
        snprintf(tags[cy], sizeof tags[cy], "%s%d", mode, cy);
        w->port = srv.port;
        w->tag = tags[cy];
        pthread_t th;
        cr_assert(pthread_create(&th, NULL, writer_main, w) == 0);
        long long t0 = mono_ms();
        while (atomic_load(&w->batches_acked) < kill_after && mono_ms() - t0 < 20000 && w->err[0] == 0) usleep(200);
        usleep((useconds_t)extra_us);
        int acked_at_kill = atomic_load(&w->batches_acked);
        skv_kill9(&srv);
        pthread_join(th, NULL);
        cr_assert(acked_at_kill >= kill_after, "writer only got %d batches acknowledged (%s)", acked_at_kill,
                  w->err);
        cr_expect_eq(w->bad_replies, 0, "writer saw %d non-OK replies", w->bad_replies);
        long long acked_keys = 0;
        for (int b = 0; b < MAX_BATCHES; b++) acked_keys += w->acked[b];

        skv_restart(&srv);
        redisContext *c = skv_connect(&srv);
        long long unacked = 0;
        long long present = verify_writers(c, ws, cy + 1, &unacked);
        long long n_scan = scan_count(c), n_db = dbsize(c);
        cr_log_info("fsync %s cycle %d: killed after %d acked batches + %d us, %d sent; %lld keys acked; "
                    "after restart SCAN %lld, DBSIZE %lld, %lld unacked present",
                    mode, cy, acked_at_kill, extra_us, atomic_load(&w->batches_sent), acked_keys, n_scan, n_db,
                    unacked);
        fprintf(stderr, "kill -9 fsync=%s cycle %d: acked %lld keys this cycle; SCAN %lld DBSIZE %lld (+%lld unacked)\n",
                mode, cy, acked_keys, n_scan, n_db, unacked);
        cr_expect_eq(n_scan, present, "fsync %s: SCAN sees %lld keys, GET finds %lld", mode, n_scan, present);
        cr_expect_eq(n_db, n_scan, "fsync %s cycle %d: DBSIZE %lld but SCAN counts %lld keys after kill -9", mode,
                     cy, n_db, n_scan);
        redisFree(c);
    }
    /* the counter keeps agreeing after more writes */
    redisContext *c = skv_connect(&srv);
    long long n0 = scan_count(c);
    expect_status(skv_cmd(c, "SET after:crash 1"), "OK");
    expect_int(skv_cmd(c, "DEL k:%s:00000:000", tags[0]), 1);
    expect_int(skv_cmd(c, "DEL k:%s:00000:000", tags[0]), 0);
    cr_expect_eq(dbsize(c), n0);
    cr_expect_eq(scan_count(c), n0);
    redisFree(c);
    for (int cy = 0; cy < CYCLES; cy++) free(ws[cy]);
}

Test(durability, kill9_during_writes_fsync_always, .fini = down, .timeout = 60) { kill9_during_writes("always", 1); }
Test(durability, kill9_during_writes_fsync_everysec, .fini = down, .timeout = 60) {
    kill9_during_writes("everysec", 2);
}
Test(durability, kill9_during_writes_fsync_no, .fini = down, .timeout = 60) { kill9_during_writes("no", 3); }

/* ---- KV.MSET all-or-nothing across kill -9 ----------------------------------------- */

#define GENS 20000
#define GEN_KEYS 10

typedef struct mset_writer {
    int port;
    atomic_int gens_acked; /* generations 0..n-1 acknowledged */
    atomic_int gens_sent;
    int bad_replies;
    char err[128];
} mset_writer;

static void *mset_main(void *arg) {
    mset_writer *w = arg;
    redisContext *c = redisConnect("127.0.0.1", w->port);
    if (!c || c->err) {
        snprintf(w->err, sizeof w->err, "connect failed");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, (struct timeval){10, 0});
    const char *argv[1 + 2 * GEN_KEYS];
    char kbuf[GEN_KEYS][32], vbuf[GEN_KEYS][96];
    int sent = 0;
    /* keep 8 generations in flight */
    for (int g = 0; g < GENS; g++) {
        while (sent < GENS && sent < g + 8) {
            argv[0] = "KV.MSET";
            for (int j = 0; j < GEN_KEYS; j++) {
                snprintf(kbuf[j], sizeof kbuf[j], "gen:%05d:%d", sent, j);
                snprintf(vbuf[j], sizeof vbuf[j], "{\"gen\":%d,\"j\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}", sent, j);
                argv[1 + 2 * j] = kbuf[j];
                argv[2 + 2 * j] = vbuf[j];
            }
            redisAppendCommandArgv(c, 1 + 2 * GEN_KEYS, argv, NULL);
            atomic_store(&w->gens_sent, ++sent);
        }
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) break;
        int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
        if (!ok) {
            w->bad_replies++;
            snprintf(w->err, sizeof w->err, "gen %d: reply type %d %s", g, r->type, r->str ? r->str : "");
        }
        freeReplyObject(r);
        if (!ok) break;
        atomic_store(&w->gens_acked, g + 1);
    }
    redisFree(c);
    return NULL;
}

Test(durability, kv_mset_atomic_across_kill9, .fini = down, .timeout = 60) {
    skv_start(&srv, NULL);
    uint64_t seed = seed_rng() + 4;
    srand((unsigned)seed);
    int kill_after = 50 + rand() % 400;
    mset_writer *w = calloc(1, sizeof *w);
    w->port = srv.port;
    pthread_t th;
    cr_assert(pthread_create(&th, NULL, mset_main, w) == 0);
    long long t0 = mono_ms();
    while (atomic_load(&w->gens_acked) < kill_after && mono_ms() - t0 < 20000 && w->err[0] == 0) usleep(100);
    usleep((useconds_t)(rand() % 2000));
    int acked = atomic_load(&w->gens_acked);
    skv_kill9(&srv);
    pthread_join(th, NULL);
    int sent = atomic_load(&w->gens_sent);
    cr_assert_eq(w->bad_replies, 0, "KV.MSET failed: %s", w->err);
    cr_assert(acked >= kill_after, "only %d generations acknowledged", acked);

    skv_restart(&srv);
    redisContext *c = skv_connect(&srv);
    int partial = 0, lost = 0, complete = 0;
    long long keys = 0;
    for (int g = 0; g < sent + 8 && g < GENS; g++) {
        const char *argv[1 + GEN_KEYS];
        char kbuf[GEN_KEYS][32];
        argv[0] = "KV.MGET";
        for (int j = 0; j < GEN_KEYS; j++) {
            snprintf(kbuf[j], sizeof kbuf[j], "gen:%05d:%d", g, j);
            argv[1 + j] = kbuf[j];
        }
        redisReply *r = skv_cmdargv(c, 1 + GEN_KEYS, argv, NULL);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == GEN_KEYS, "KV.MGET reply type %d", r->type);
        int present = 0;
        for (int j = 0; j < GEN_KEYS; j++) {
            if (r->element[j]->type != REDIS_REPLY_STRING) continue;
            present++;
            char want[96];
            snprintf(want, sizeof want, "{\"gen\":%d,\"j\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}", g, j);
            cr_expect_str_eq(r->element[j]->str, want);
        }
        freeReplyObject(r);
        keys += present;
        if (present == GEN_KEYS) complete++;
        else if (present != 0) {
            if (partial++ < 5) cr_log_error("generation %d has %d of %d keys after kill -9", g, present, GEN_KEYS);
        }
        if (g < acked && present != GEN_KEYS) lost++;
    }
    cr_log_info("KV.MSET: %d generations acked, %d sent at kill; %d complete after restart", acked, sent, complete);
    fprintf(stderr, "kv.mset kill -9: acked %d gens, sent %d, complete after restart %d, partial %d\n", acked, sent,
            complete, partial);
    cr_expect_eq(partial, 0, "%d KV.MSET generations partially present after kill -9", partial);
    cr_expect_eq(lost, 0, "%d acknowledged KV.MSET generations incomplete after kill -9", lost);
    cr_expect_eq(dbsize(c), keys, "DBSIZE disagrees with the keys present");
    cr_expect_eq(scan_count(c), keys);
    redisFree(c);
    free(w);
}

/* ---- memtable-insert-hints: prefix deletes key by key, a crash's WAL ---------- */

static void set_range(redisContext *c, const char *prefix, int from, int to, const char *val) {
    for (int i = from; i < to; i++) redisAppendCommand(c, "SET %s%04d %s", prefix, i, val);
    for (int i = from; i < to; i++) {
        redisReply *r;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
        expect_status(r, "OK");
    }
}

static void check_hinted_state(redisContext *c) {
    expect_int(skv_cmd(c, "DBSIZE"), 300 + 100 + 300);
    cr_expect_eq(scan_count(c), 700);
    expect_int(skv_cmd(c, "KV.COUNT u:"), 100);
    expect_bulk(skv_cmd(c, "GET u:0050"), "again");
    expect_nil(skv_cmd(c, "GET u:0150"));
    expect_bulk(skv_cmd(c, "GET k:0299"), "v");
    expect_bulk(skv_cmd(c, "GET t:0000"), "v");
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    expect_int(skv_cmd(c, "DBSIZE"), 10);
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
}

Test(durability, insert_hints_prefix_deletes_across_kill9, .fini = down, .timeout = 60) {
    const char *extra[] = {"--memtable-insert-hints", "yes", "--fsync", "always", NULL};
    skv_start(&srv, extra);
    redisContext *c = skv_connect(&srv);
    set_range(c, "k:", 0, 300, "v");
    set_range(c, "u:", 0, 300, "v");
    set_range(c, "t:", 0, 300, "v");
    expect_int(skv_cmd(c, "KV.DELBYPREFIX u:"), 300);
    set_range(c, "u:", 0, 100, "again"); /* after the delete, in the same memtable */
    expect_status(skv_cmd(c, "SELECT 1"), "OK");
    set_range(c, "x:", 0, 50, "v");
    expect_status(skv_cmd(c, "FLUSHDB"), "OK"); /* a 1-byte-begin tombstone among hinted puts */
    set_range(c, "y:", 0, 10, "v");
    expect_status(skv_cmd(c, "SELECT 0"), "OK");
    check_hinted_state(c);
    redisFree(c);
    skv_kill9(&srv); /* the WAL holds it all: the next start replays it with the hints off */
    skv_restart(&srv);
    c = skv_connect(&srv);
    check_hinted_state(c);
    set_range(c, "z:", 0, 20, "v");
    expect_int(skv_cmd(c, "KV.DELBYPREFIX z:"), 20);
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    check_hinted_state(c);
    redisFree(c);
}
