/* Soak: mixed Redis and domain traffic from several connections for a set
 * time while the server's RSS is sampled from /proc. Fails when any request
 * fails (every reply is checked against what the client expects) or when an
 * RSS sample after the warm-up leaves ±10 % of the RSS at the end of the
 * warm-up (the mean of its first three samples). The heap in use (INFO
 * used_memory, malloc's own count) is reported beside it: a leak shows
 * there, allocator retention only in the RSS. Under ASan the RSS is
 * reported, not bounded (its shadow memory follows the heap's history).
 *
 * The workload stays in a steady state, so that a growing RSS means a leak,
 * not data: plain keys are overwritten in a fixed set, entities are created
 * and deleted, notifications read, tickets opened and closed; the ledger,
 * messages and analytics grow (as in production) into SST files, with a
 * small memtable and block cache so the engine's own memory is bounded.
 *
 *   STAGEKV_SOAK_SECONDS  traffic time (default 24: the CI run; bench/soak.sh
 *                         runs 600)
 *   STAGEKV_SOAK_REPORT   a file to write the samples and counts to
 *   STAGEKV_SEED          the workload's seed (default: the time) */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static skv_server srv;

#define NTHREADS 4
#define PIPE 16
#define NUSERS 64
#define NKEYS 5000

static atomic_int stop;
static atomic_llong total_ok, total_failed;
static atomic_llong fam_count[9];
static const char *const fam_name[9] = {"string", "kv", "coins", "entity", "msg", "notify", "ticket",
                                        "analytics", "userdel"};

typedef struct worker {
    int idx;
    unsigned seed;
    char first_error[256];
} worker;

static unsigned rnd(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xffffff;
}

/* What a reply must be. */
enum want { W_STATUS, W_INT, W_BULK, W_BULK_OR_NIL, W_ARRAY, W_ANY_OK };

typedef struct pending {
    enum want want;
    int fam;
    char cmd[48];
} pending;

static long rss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static int reply_ok(const redisReply *r, enum want w) {
    switch (w) {
    case W_STATUS: return r->type == REDIS_REPLY_STATUS;
    case W_INT: return r->type == REDIS_REPLY_INTEGER;
    case W_BULK: return r->type == REDIS_REPLY_STRING;
    case W_BULK_OR_NIL: return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL;
    case W_ARRAY: return r->type == REDIS_REPLY_ARRAY;
    case W_ANY_OK: return r->type != REDIS_REPLY_ERROR;
    }
    return 0;
}

/* Queues one random operation of the mix; some need the reply of an
 * earlier one (a created id), kept in the worker's small state. */
typedef struct wstate {
    char track_id[NUSERS][17];
    char ticket_id[NUSERS][17];
    long long balance[NUSERS]; /* this worker's users only: no one else spends them */
    unsigned gen[NUSERS];      /* USER.DELETEs so far: a reply of before is stale */
} wstate;

static void *run_worker(void *arg) {
    worker *w = arg;
    redisContext *ctx = redisConnect("127.0.0.1", srv.port);
    if (!ctx || ctx->err) {
        snprintf(w->first_error, sizeof w->first_error, "cannot connect");
        atomic_fetch_add(&total_failed, 1);
        return NULL;
    }
    wstate *st = calloc(1, sizeof *st);
    pending q[PIPE];
    char uid[32], other[32], val[128];
    while (!atomic_load(&stop)) {
        int n = 0;
        /* each user index belongs to one worker: u<worker>_<i> */
        for (; n < PIPE; n++) {
            pending *p = &q[n];
            int u = (int)(rnd(&w->seed) % NUSERS);
            snprintf(uid, sizeof uid, "u%d_%d", w->idx, u);
            /* a fixed counterpart: conversation c<w>_<u> is between these two */
            snprintf(other, sizeof other, "u%d_%d", (w->idx + 1) % NTHREADS, u);
            unsigned op = rnd(&w->seed) % 20;
            int k = (int)(rnd(&w->seed) % NKEYS);
            switch (op) {
            case 0: case 1: case 2:
                snprintf(val, sizeof val, "v%08u-%064d", rnd(&w->seed), 0);
                redisAppendCommand(ctx, "SET soak:%d %s", k, val);
                *p = (pending){W_STATUS, 0, "SET"};
                break;
            case 3: case 4:
                redisAppendCommand(ctx, "GET soak:%d", k);
                *p = (pending){W_BULK_OR_NIL, 0, "GET"};
                break;
            case 5:
                redisAppendCommand(ctx, "INCR soakctr:%d", k % 100);
                *p = (pending){W_INT, 0, "INCR"};
                break;
            case 6:
                redisAppendCommand(ctx, "KV.SET soakkv:%d {\"n\":%d,\"s\":\"x\"}", k, k);
                *p = (pending){W_STATUS, 1, "KV.SET"};
                break;
            case 7:
                redisAppendCommand(ctx, "KV.GETBYPREFIX soakkv:%d LIMIT 5", k % 10);
                *p = (pending){W_ARRAY, 1, "KV.GETBYPREFIX"};
                break;
            case 8: case 9:
                redisAppendCommand(ctx, "COINS.ADD %s %d soak", uid, 1 + k % 50);
                st->balance[u] += 1 + k % 50;
                *p = (pending){W_INT, 2, "COINS.ADD"};
                break;
            case 10:
                if (st->balance[u] >= 5) {
                    redisAppendCommand(ctx, "COINS.TRANSFER %s %s 5 soak", uid, other);
                    st->balance[u] -= 5;
                    *p = (pending){W_ARRAY, 2, "COINS.TRANSFER"};
                } else {
                    redisAppendCommand(ctx, "COINS.BALANCE %s", uid);
                    *p = (pending){W_INT, 2, "COINS.BALANCE"};
                }
                break;
            case 11:
                if (st->track_id[u][0]) {
                    redisAppendCommand(ctx, "TRACK.DELETE %s %s", uid, st->track_id[u]);
                    st->track_id[u][0] = 0;
                    *p = (pending){W_INT, 3, "TRACK.DELETE"};
                } else {
                    redisAppendCommand(ctx, "TRACK.CREATE %s {\"title\":\"t%d\"}", uid, k);
                    *p = (pending){W_BULK, 3, "TRACK.CREATE"};
                    snprintf(p->cmd, sizeof p->cmd, "TRACK.CREATE#%d#%u", u, st->gen[u]);
                }
                break;
            case 12:
                redisAppendCommand(ctx, "TRACK.LIST %s LIMIT 10", uid);
                *p = (pending){W_ARRAY, 3, "TRACK.LIST"};
                break;
            case 13:
                redisAppendCommand(ctx, "MSG.SEND c%d_%d %s %s hello%d", w->idx, u, uid, other, k);
                *p = (pending){W_BULK, 4, "MSG.SEND"};
                break;
            case 14:
                redisAppendCommand(ctx, "MSG.READ c%d_%d %s", w->idx, u, other);
                *p = (pending){W_INT, 4, "MSG.READ"};
                break;
            case 15:
                redisAppendCommand(ctx, "NOTIFY.CREATE %s {\"kind\":\"soak\"}", uid);
                *p = (pending){W_BULK, 5, "NOTIFY.CREATE"};
                break;
            case 16:
                redisAppendCommand(ctx, "NOTIFY.READALL %s", uid);
                *p = (pending){W_INT, 5, "NOTIFY.READALL"};
                break;
            case 17:
                if (st->ticket_id[u][0]) {
                    redisAppendCommand(ctx, "TICKET.CLOSE %s", st->ticket_id[u]);
                    st->ticket_id[u][0] = 0;
                    *p = (pending){W_INT, 6, "TICKET.CLOSE"};
                } else {
                    redisAppendCommand(ctx, "TICKET.OPEN %s {\"subject\":\"s\"}", uid);
                    *p = (pending){W_BULK, 6, "TICKET.OPEN"};
                    snprintf(p->cmd, sizeof p->cmd, "TICKET.OPEN#%d#%u", u, st->gen[u]);
                }
                break;
            case 18:
                redisAppendCommand(ctx, "ANALYTICS.INCR tracks t%d 2026-01-%02d plays", k % 200, 1 + k % 28);
                *p = (pending){W_INT, 7, "ANALYTICS.INCR"};
                break;
            default:
                if (rnd(&w->seed) % 4 == 0) {
                    /* the user leaves: every row of theirs goes, so the data
                     * stays bounded (a steady state) */
                    redisAppendCommand(ctx, "USER.DELETE %s", uid);
                    st->balance[u] = 0;
                    st->track_id[u][0] = st->ticket_id[u][0] = 0;
                    st->gen[u]++;
                    *p = (pending){W_INT, 8, "USER.DELETE"};
                } else {
                    redisAppendCommand(ctx, "DASHBOARD.GET %s", uid);
                    *p = (pending){W_BULK, 3, "DASHBOARD.GET"};
                }
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            redisReply *r = NULL;
            if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) {
                if (!w->first_error[0])
                    snprintf(w->first_error, sizeof w->first_error, "%s: connection: %s", q[i].cmd, ctx->errstr);
                atomic_fetch_add(&total_failed, n - i);
                atomic_store(&stop, 1);
                goto out;
            }
            if (!reply_ok(r, q[i].want)) {
                if (!w->first_error[0])
                    snprintf(w->first_error, sizeof w->first_error, "%s: reply type %d '%s'", q[i].cmd, r->type,
                             r->str ? r->str : "");
                atomic_fetch_add(&total_failed, 1);
            } else {
                atomic_fetch_add(&total_ok, 1);
                atomic_fetch_add(&fam_count[q[i].fam], 1);
                char *hash = strchr(q[i].cmd, '#');
                if (hash && r->type == REDIS_REPLY_STRING && r->len == 16 &&
                    (unsigned)strtoul(strchr(hash + 1, '#') + 1, NULL, 10) == st->gen[atoi(hash + 1)]) {
                    int u = atoi(hash + 1);
                    char *dst = q[i].cmd[1] == 'R' ? st->track_id[u] : st->ticket_id[u];
                    memcpy(dst, r->str, 16);
                    dst[16] = 0;
                }
            }
            freeReplyObject(r);
        }
    }
out:
    free(st);
    redisFree(ctx);
    return NULL;
}

static void down(void) { skv_cleanup(&srv); }

#define MAXSAMPLES 4096

Test(soak, mixed_traffic_rss_flat, .fini = down, .timeout = 3600) {
    const char *e = getenv("STAGEKV_SOAK_SECONDS");
    double secs = e ? atof(e) : 24;
    cr_assert(secs >= 20, "STAGEKV_SOAK_SECONDS must be at least 20");
    e = getenv("STAGEKV_SEED");
    unsigned seed = e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);
    /* Every bounded cache small, so that all of them are full (their pages
     * touched) within the warm-up: the key and value caches at their 64 MB
     * defaults fill at the rate of cache misses, which is slow when nothing
     * clears them, and would read as a leak. */
    const char *extra[] = {"--block-cache-size", "16mb", "--write-buffer-size", "1mb", "--key-cache-size", "4mb",
                           "--value-cache-size", "4mb", NULL};
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's quarantine of freed memory (256 MB) would grow the RSS for
     * minutes: keep it small so the figure measures the server */
    const char *ao = getenv("ASAN_OPTIONS");
    char aopts[512];
    snprintf(aopts, sizeof aopts, "%s%squarantine_size_mb=4", ao ? ao : "", ao && *ao ? ":" : "");
    setenv("ASAN_OPTIONS", aopts, 1);
#endif
    skv_start(&srv, extra);
    /* the memtables and the caches fill in the first seconds */
    double warm = secs * 0.2 < 14 ? 14 : secs * 0.2;
    double step = secs / 60 < 0.25 ? 0.25 : secs / 60;
    cr_log_info("soak: %.0f s, warm-up %.0f s, a sample every %.2f s, seed %u", secs, warm, step, seed);

    pthread_t th[NTHREADS];
    worker ws[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        ws[i] = (worker){.idx = i, .seed = seed + (unsigned)i * 7919u};
        cr_assert_eq(pthread_create(&th[i], NULL, run_worker, &ws[i]), 0);
    }
    static long samples[MAXSAMPLES];
    static double at[MAXSAMPLES];
    static long long ops_at[MAXSAMPLES], heap_at[MAXSAMPLES], readers_at[MAXSAMPLES];
    redisContext *mon = skv_connect(&srv); /* INFO memory beside the RSS */
    int ns = 0, first_after = -1;
    long long t0 = mono_ms();
    while (!atomic_load(&stop)) {
        double t = (double)(mono_ms() - t0) / 1000.0;
        if (t >= secs) break;
        if (ns < MAXSAMPLES) {
            at[ns] = t;
            samples[ns] = rss_kb(srv.pid);
            ops_at[ns] = atomic_load(&total_ok);
            heap_at[ns] = info_field(mon, "memory", "used_memory") / 1024;
            readers_at[ns] = info_field(mon, "memory", "rocksdb_table_readers") / 1024;
            if (first_after < 0 && t >= warm) first_after = ns;
            ns++;
        }
        msleep((long)(step * 1000));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    double elapsed = (double)(mono_ms() - t0) / 1000.0;
    redisFree(mon);

    FILE *rep = NULL;
    if ((e = getenv("STAGEKV_SOAK_REPORT")) && *e) rep = fopen(e, "w");
    long long ok = atomic_load(&total_ok), failed = atomic_load(&total_failed);
    char line[512];
    snprintf(line, sizeof line, "soak: %.1f s, seed %u, %lld requests ok (%.0f/s), %lld failed", elapsed, seed, ok,
             (double)ok / elapsed, failed);
    cr_log_info("%s", line);
    if (rep) fprintf(rep, "%s\n", line);
    for (int f = 0; f < 9; f++) {
        snprintf(line, sizeof line, "  %-10s %lld", fam_name[f], atomic_load(&fam_count[f]));
        cr_log_info("%s", line);
        if (rep) fprintf(rep, "%s\n", line);
    }
    for (int i = 0; i < NTHREADS; i++)
        cr_expect_eq(ws[i].first_error[0], 0, "worker %d: first failure: %s", i, ws[i].first_error);
    cr_expect_eq(failed, 0, "%lld requests failed", failed);
    cr_expect_gt(ok, 0, "no request was served");
    cr_assert(skv_alive(&srv), "the server died during the soak");

    cr_assert_geq(first_after, 0, "no sample after the warm-up");
    cr_assert_geq(ns - first_after, 3, "too few samples after the warm-up");
    double base = (samples[first_after] + samples[first_after + 1] + samples[first_after + 2]) / 3.0;
    long lo = samples[first_after], hi = lo;
    int worst = first_after;
    for (int i = 0; i < ns; i++) {
        int after = i >= first_after;
        snprintf(line, sizeof line, "  t=%7.1f s  rss=%7ld kB  heap=%7lld kB  table_readers=%6lld kB  requests=%lld%s",
                 at[i], samples[i], heap_at[i], readers_at[i], ops_at[i], after ? "" : "  (warm-up)");
        if (rep) fprintf(rep, "%s\n", line);
        if (!after) continue;
        if (samples[i] < lo) lo = samples[i];
        if (samples[i] > hi) hi = samples[i];
        if (labs(samples[i] - (long)base) > labs(samples[worst] - (long)base)) worst = i;
    }
    double drift = (samples[worst] - base) / base * 100.0;
    /* the heap in use, reported (it moves by a memtable, ~10 %, at each
     * flush in a short run) */
    double hbase = (heap_at[first_after] + heap_at[first_after + 1] + heap_at[first_after + 2]) / 3.0;
    double hworst = 0;
    for (int i = first_after; i < ns; i++) {
        double d = (heap_at[i] - hbase) / hbase * 100.0;
        if (d * d > hworst * hworst) hworst = d;
    }
    snprintf(line, sizeof line,
             "rss after warm-up: base %.0f kB, min %ld kB, max %ld kB, worst drift %+.1f %% at %.1f s; "
             "heap in use: base %.0f kB, worst drift %+.1f %%",
             base, lo, hi, drift, at[worst], hbase, hworst);
    cr_log_info("%s", line);
    if (rep) {
        fprintf(rep, "%s\n", line);
        fclose(rep);
    }
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's shadow memory and allocator caches grow with the heap's
     * history: the bound is checked in the normal build only */
    cr_log_info("ASan build: the ±10 %% RSS bound is not checked here (figures above for information)");
#else
    cr_expect(drift <= 10.0 && drift >= -10.0, "%s", line);
#endif

    /* the data the traffic left is consistent */
    redisContext *c = skv_connect(&srv);
    for (int w = 0; w < NTHREADS; w++)
        for (int u = 0; u < NUSERS; u++) {
            redisReply *r = skv_cmd(c, "COINS.VERIFY u%d_%d", w, u);
            cr_expect_eq(r->type, REDIS_REPLY_STATUS, "COINS.VERIFY u%d_%d: %s", w, u, rstr(r));
            freeReplyObject(r);
        }
    redisFree(c);
    cr_expect_eq(skv_stop(&srv), 0);
}
