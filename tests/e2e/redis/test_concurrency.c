/* End-to-end concurrency: read-modify-write commands from many connections
 * at once lose no update (KV.PATCH on one document, INCR on one counter). */
#include "harness.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static skv_server srv;
static void up(void) { skv_start(&srv, NULL); }
static void down(void) { skv_cleanup(&srv); }

#define NTHREADS 8

typedef struct worker {
    int port, id, n;
    pthread_barrier_t *start;
    int errors;        /* replies of the wrong type */
    long long *values; /* INCR replies */
    char err[160];
} worker;

static redisContext *worker_connect(worker *w) {
    redisContext *c = redisConnect("127.0.0.1", w->port);
    if (!c || c->err) {
        snprintf(w->err, sizeof w->err, "connect: %.100s", c ? c->errstr : "?");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, (struct timeval){20, 0});
    return c;
}

static void *patch_main(void *arg) {
    worker *w = arg;
    redisContext *c = worker_connect(w);
    pthread_barrier_wait(w->start);
    if (!c) return NULL;
    char patch[64];
    for (int i = 0; i < w->n; i++) {
        snprintf(patch, sizeof patch, "{\"f%d_%d\": %d}", w->id, i, i);
        redisReply *r = redisCommand(c, "KV.PATCH doc %s", patch);
        if (!r) {
            snprintf(w->err, sizeof w->err, "client %d patch %d: %.100s", w->id, i, c->errstr);
            break;
        }
        if (r->type != REDIS_REPLY_STRING || r->str[0] != '{') {
            if (w->errors++ == 0)
                snprintf(w->err, sizeof w->err, "client %d patch %d: reply type %d '%.80s'", w->id, i, r->type,
                         r->str ? r->str : "");
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* Number of members of the top-level JSON object in s, -1 if s is not one. */
static long count_members(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    if (*s != '{') return -1;
    int depth = 0, in_str = 0;
    long commas = 0, nonempty = 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = 0;
            continue;
        }
        if (*p == '"') { in_str = 1; if (depth == 1) nonempty = 1; }
        else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') depth--;
        else if (*p == ',' && depth == 1) commas++;
    }
    return nonempty ? commas + 1 : 0;
}

/* Value of member "name" (an integer) in a flat JSON object; 0 if found. */
static int member_int(const char *doc, const char *name, long long *out) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(doc, pat);
    if (!p) return -1;
    p += strlen(pat);
    while (isspace((unsigned char)*p)) p++;
    if (*p != ':') return -1;
    p++;
    char *end;
    *out = strtoll(p, &end, 10);
    return end == p ? -1 : 0;
}

Test(concurrency, kv_patch_no_lost_update, .init = up, .fini = down, .timeout = 60) {
    enum { PER = 200 };
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, NTHREADS);
    worker ws[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        ws[t] = (worker){.port = srv.port, .id = t, .n = PER, .start = &bar};
        cr_assert(pthread_create(&th[t], NULL, patch_main, &ws[t]) == 0);
    }
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    for (int t = 0; t < NTHREADS; t++) {
        cr_expect(ws[t].err[0] == 0, "%s", ws[t].err);
        cr_expect_eq(ws[t].errors, 0);
    }
    redisContext *c = skv_connect(&srv);
    redisReply *r = skv_cmd(c, "KV.GET doc");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "KV.GET doc type %d", r->type);
    long members = count_members(r->str);
    int missing = 0, wrong = 0;
    char name[32];
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER; i++) {
            snprintf(name, sizeof name, "f%d_%d", t, i);
            long long v;
            if (member_int(r->str, name, &v) != 0) {
                if (missing++ < 5) cr_log_error("field %s lost", name);
            } else if (v != i) {
                wrong++;
            }
        }
    }
    cr_expect_eq(missing, 0, "%d of %d fields lost by concurrent KV.PATCH", missing, NTHREADS * PER);
    cr_expect_eq(wrong, 0, "%d fields with a wrong value", wrong);
    cr_expect_eq(members, NTHREADS * PER, "document has %ld members, expected %d", members, NTHREADS * PER);
    freeReplyObject(r);
    redisFree(c);
}

static void *incr_main(void *arg) {
    worker *w = arg;
    redisContext *c = worker_connect(w);
    pthread_barrier_wait(w->start);
    if (!c) return NULL;
    for (int i = 0; i < w->n; i++) {
        redisReply *r = redisCommand(c, "INCR counter");
        if (!r) {
            snprintf(w->err, sizeof w->err, "client %d INCR %d: %.100s", w->id, i, c->errstr);
            break;
        }
        if (r->type != REDIS_REPLY_INTEGER) {
            if (w->errors++ == 0) snprintf(w->err, sizeof w->err, "client %d INCR %d: reply type %d", w->id, i, r->type);
        } else {
            w->values[i] = r->integer;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static int cmpll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

Test(concurrency, incr_exact_total, .init = up, .fini = down, .timeout = 60) {
    enum { PER = 1000 };
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, NTHREADS);
    long long *vals = calloc(NTHREADS * PER, sizeof *vals);
    worker ws[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        ws[t] = (worker){.port = srv.port, .id = t, .n = PER, .start = &bar, .values = vals + t * PER};
        cr_assert(pthread_create(&th[t], NULL, incr_main, &ws[t]) == 0);
    }
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    for (int t = 0; t < NTHREADS; t++) {
        cr_expect(ws[t].err[0] == 0, "%s", ws[t].err);
        cr_expect_eq(ws[t].errors, 0);
        /* each client sees its own increments in increasing order */
        for (int i = 1; i < PER; i++)
            if (vals[t * PER + i] <= vals[t * PER + i - 1]) {
                cr_expect_fail("client %d: INCR replies not increasing at %d (%lld then %lld)", t, i,
                               vals[t * PER + i - 1], vals[t * PER + i]);
                break;
            }
    }
    /* every value 1..8000 handed out exactly once */
    qsort(vals, NTHREADS * PER, sizeof *vals, cmpll);
    int dup_or_gap = 0;
    for (int i = 0; i < NTHREADS * PER; i++)
        if (vals[i] != i + 1) { dup_or_gap = i + 1; break; }
    cr_expect_eq(dup_or_gap, 0, "INCR replies are not exactly 1..%d (first mismatch at sorted index %d: %lld)",
                 NTHREADS * PER, dup_or_gap - 1, dup_or_gap ? vals[dup_or_gap - 1] : 0);
    free(vals);
    redisContext *c = skv_connect(&srv);
    expect_bulk(skv_cmd(c, "GET counter"), "8000");
    redisFree(c);
}
