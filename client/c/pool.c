/* A fixed-size pool of clients for threaded callers. Connections are
 * opened on demand (so a pool can be made while the server is away) and
 * share one command map, loaded by the first. A client that comes back
 * broken is closed; its slot is refilled by the next checkout. */
#include "skv_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct skv_pool {
    pthread_mutex_t mu;
    pthread_cond_t back; /* a client came back or a slot freed */
    skv_options opt;     /* its strings point at own[] */
    char *own[4];
    int max;
    int total; /* open clients: idle and checked out */
    int nidle;
    skv_client **idle;
    skv_cmdmap *map; /* set once by the first connection */
};

static const char *keep(const char *s, char **slot, int *oom) {
    if (!s) return NULL;
    if (!(*slot = strdup(s))) *oom = 1;
    return *slot;
}

skv_status skv_pool_new(const skv_options *o, int max_size, skv_pool **out, skv_error *err) {
    skv_status st = SKV_OOM;
    int oom = 0, mu = 0, cv = 0;
    pthread_condattr_t ca;
    assert(out && max_size > 0);
    *out = NULL;
    skv_pool *p = calloc(1, sizeof *p);
    if (!p) goto out;
    if (o) p->opt = *o;
    else skv_options_init(&p->opt);
    p->opt.host = keep(p->opt.host, &p->own[0], &oom);
    p->opt.unix_path = keep(p->opt.unix_path, &p->own[1], &oom);
    p->opt.username = keep(p->opt.username, &p->own[2], &oom);
    p->opt.password = keep(p->opt.password, &p->own[3], &oom);
    p->max = max_size;
    if (oom || !(p->idle = calloc((size_t)max_size, sizeof *p->idle))) goto out;
    if (pthread_mutex_init(&p->mu, NULL) != 0) goto out;
    mu = 1;
    /* timed waits on the monotonic clock: a clock step must not stretch them */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    cv = pthread_cond_init(&p->back, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!cv) goto out;
    *out = p;
    p = NULL;
    st = SKV_OK;
    skv__ok(err);
out:
    if (p) {
        if (mu) pthread_mutex_destroy(&p->mu);
        for (int i = 0; i < 4; i++) free(p->own[i]);
        free(p->idle);
        free(p);
    }
    if (st != SKV_OK) skv__fail(err, st, "out of memory");
    return st;
}

static struct timespec deadline(int timeout_ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += timeout_ms / 1000;
    t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

skv_status skv_pool_get(skv_pool *p, int timeout_ms, skv_client **out, skv_error *err) {
    skv_status st;
    struct timespec until = deadline(timeout_ms < 0 ? 0 : timeout_ms);
    assert(p && out);
    *out = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->nidle == 0 && p->total >= p->max) {
        int r = timeout_ms < 0 ? pthread_cond_wait(&p->back, &p->mu) : pthread_cond_timedwait(&p->back, &p->mu, &until);
        if (r == ETIMEDOUT && p->nidle == 0 && p->total >= p->max) {
            pthread_mutex_unlock(&p->mu);
            return skv__fail(err, SKV_TIMEOUT, "no pool connection came back within %d ms", timeout_ms);
        }
    }
    if (p->nidle > 0) {
        *out = p->idle[--p->nidle];
        pthread_mutex_unlock(&p->mu);
        skv__ok(err);
        return SKV_OK;
    }
    /* a free slot: connect outside the lock */
    p->total++;
    skv_cmdmap *map = p->map;
    pthread_mutex_unlock(&p->mu);
    st = skv__open(&p->opt, map, out, err);
    pthread_mutex_lock(&p->mu);
    if (st != SKV_OK) {
        p->total--;
        pthread_cond_signal(&p->back);
    } else if (!p->map) {
        p->map = skv__cmdmap_ref((*out)->map);
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

void skv_pool_put(skv_pool *p, skv_client *c) {
    assert(p);
    if (!c) return;
    pthread_mutex_lock(&p->mu);
    assert(p->nidle < p->total);
    int broken = !skv_connected(c);
    if (broken) p->total--;
    else p->idle[p->nidle++] = c;
    pthread_cond_signal(&p->back);
    pthread_mutex_unlock(&p->mu);
    if (broken) skv_close(c);
}

void skv_pool_free(skv_pool *p) {
    if (!p) return;
    assert(p->nidle == p->total && "skv_pool_free with clients checked out");
    for (int i = 0; i < p->nidle; i++) skv_close(p->idle[i]);
    skv__cmdmap_unref(p->map);
    pthread_cond_destroy(&p->back);
    pthread_mutex_destroy(&p->mu);
    for (int i = 0; i < 4; i++) free(p->own[i]);
    free(p->idle);
    free(p);
}
