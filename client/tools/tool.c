#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

int tool_conn_arg(tool_opts *o, int argc, char **argv, int *i, const char *prog) {
    const char *a = argv[*i];
    if (strcmp(a, "-h") && strcmp(a, "-p") && strcmp(a, "-a")) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, a);
        return -1;
    }
    const char *v = argv[++*i];
    if (a[1] == 'h') o->host = v;
    else if (a[1] == 'a') o->password = v;
    else {
        char *end;
        long p = strtol(v, &end, 10);
        if (*end || p < 1 || p > 65535) {
            fprintf(stderr, "%s: bad port '%s'\n", prog, v);
            return -1;
        }
        o->port = (int)p;
    }
    return 1;
}

redisContext *tool_connect(const tool_opts *o, const char *prog) {
    const char *host = o->host ? o->host : "127.0.0.1";
    int port = o->port ? o->port : 6379;
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        fprintf(stderr, "%s: cannot connect to %s:%d: %s\n", prog, host, port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    if (o->password) {
        redisReply *r = tool_cmd(c, prog, "AUTH %s", o->password);
        if (!r) {
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    return c;
}

redisReply *tool_cmd(redisContext *c, const char *prog, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "%s: connection error: %s\n", prog, c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "%s: server: %s\n", prog, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

uint32_t tool_fnv(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

double tool_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(progress *p, const char *what) {
    p->on = isatty(STDERR_FILENO);
    p->t0 = p->last = tool_now();
    p->what = what;
}

void progress_show(progress *p, int64_t items, int64_t bytes, int64_t done, int64_t total, int force) {
    if (!p->on) return;
    double now = tool_now();
    if (!force && now - p->last < 0.25) return;
    p->last = now;
    double el = now - p->t0 > 1e-6 ? now - p->t0 : 1e-6;
    char eta[32] = "?";
    if (total > 0 && done > 0 && done <= total)
        snprintf(eta, sizeof eta, "%.0fs", (double)(total - done) * el / (double)done);
    fprintf(stderr, "\r%s: %lld keys, %.1f MB, %.0f keys/s, ETA %s    ", p->what, (long long)items,
            (double)bytes / 1e6, (double)items / el, eta);
}

void progress_end(progress *p, int64_t items, int64_t bytes) {
    if (!p->on) return;
    progress_show(p, items, bytes, 0, 0, 1);
    fputc('\n', stderr);
}
