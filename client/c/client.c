/* One connection to stagekv and the retry policy.
 *
 * What may be repeated is the server's call, not ours: at connect the
 * client reads COMMAND INFO once and keeps each command's flags. A command
 * flagged readonly or retry_safe is retried as it is; one flagged idemp is
 * sent with "IDEMP <32 random hex digits>" (unless the caller gave a key)
 * and that same key goes with every retry, so the server applies it once
 * and replays its first reply (SPEC §4.3). Anything else (INCR,
 * ANALYTICS.INCR, unknown commands) is sent once: after a lost reply we
 * cannot know whether it ran. */
#include "skv_int.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

/* ---- errors ---------------------------------------------------------------------- */

const char *skv_status_name(skv_status s) {
    switch (s) {
    case SKV_OK: return "SKV_OK";
    case SKV_INVALID: return "SKV_INVALID";
    case SKV_NOTFOUND: return "SKV_NOTFOUND";
    case SKV_INSUFFICIENT_FUNDS: return "SKV_INSUFFICIENT_FUNDS";
    case SKV_CONFLICT: return "SKV_CONFLICT";
    case SKV_ERR: return "SKV_ERR";
    case SKV_IO: return "SKV_IO";
    case SKV_TIMEOUT: return "SKV_TIMEOUT";
    case SKV_PROTOCOL: return "SKV_PROTOCOL";
    case SKV_OOM: return "SKV_OOM";
    }
    return "SKV_?";
}

int skv_is_transport(skv_status s) { return s == SKV_IO || s == SKV_TIMEOUT || s == SKV_PROTOCOL; }

skv_status skv__fail(skv_error *err, skv_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void skv__ok(skv_error *err) {
    if (err) {
        err->code = SKV_OK;
        err->msg[0] = '\0';
    }
}

/* An error reply's kind from its code word (SPEC §4). */
static skv_status error_reply(const redisReply *r, skv_error *err) {
    static const struct {
        const char *word;
        skv_status code;
    } words[] = {{"INVALID", SKV_INVALID},
                 {"NOTFOUND", SKV_NOTFOUND},
                 {"INSUFFICIENT_FUNDS", SKV_INSUFFICIENT_FUNDS},
                 {"CONFLICT", SKV_CONFLICT}};
    skv_status code = SKV_ERR;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if (r->len >= n && memcmp(r->str, words[i].word, n) == 0 && (r->len == n || r->str[n] == ' ')) {
            code = words[i].code;
            break;
        }
    }
    return skv__fail(err, code, "%.*s", (int)r->len, r->str);
}

/* A dead context's kind; saved_errno is errno right after the failed call
 * (hiredis reports timeouts as I/O errors with EAGAIN or ETIMEDOUT). */
static skv_status ctx_error(const redisContext *ctx, int saved_errno, skv_error *err) {
    skv_status code;
    switch (ctx->err) {
    case REDIS_ERR_IO:
        code = saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ? SKV_TIMEOUT
                                                                                               : SKV_IO;
        break;
    case REDIS_ERR_PROTOCOL: code = SKV_PROTOCOL; break;
    case REDIS_ERR_OOM: code = SKV_OOM; break;
    default: code = SKV_IO; break; /* REDIS_ERR_EOF, REDIS_ERR_OTHER */
    }
    return skv__fail(err, code, "%s", ctx->errstr[0] ? ctx->errstr : "connection lost");
}

/* ---- randomness: IDEMP keys and jitter -------------------------------------------- */

static int rand_bytes(void *buf, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t r = getrandom((char *)buf + off, n - off, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        off += (size_t)r;
    }
    return 0;
}

/* 128 random bits as 32 lowercase hex digits. */
static int idemp_new_key(char key[33]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    if (rand_bytes(b, sizeof b) < 0) return -1;
    for (int i = 0; i < 16; i++) {
        key[2 * i] = hex[b[i] >> 4];
        key[2 * i + 1] = hex[b[i] & 15];
    }
    key[32] = '\0';
    return 0;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(retry-1))]. */
static void backoff_sleep(const skv_options *o, int retry) {
    uint64_t d = (uint64_t)o->backoff_base_ms;
    for (int i = 1; i < retry && d < (uint64_t)o->backoff_cap_ms; i++) d *= 2;
    if (d > (uint64_t)o->backoff_cap_ms) d = (uint64_t)o->backoff_cap_ms;
    uint32_t r;
    uint64_t ms = rand_bytes(&r, sizeof r) == 0 ? r % (d + 1) : d;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* ---- the command map -------------------------------------------------------------- */

typedef struct cmd_entry {
    char *name; /* lower case */
    int flags;
    int arity;
} cmd_entry;

struct skv_cmdmap {
    atomic_int refs;
    size_t mask; /* slots - 1, a power of two */
    cmd_entry *slot;
};

static uint32_t name_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)(s[i] | 0x20)) * 16777619u;
    return h;
}

static cmd_entry *cmdmap_find(const skv_cmdmap *m, const char *s, size_t n) {
    if (!m || n == 0) return NULL;
    for (size_t i = name_hash(s, n) & m->mask;; i = (i + 1) & m->mask) {
        cmd_entry *e = &m->slot[i];
        if (!e->name) return NULL;
        if (strlen(e->name) == n && strncasecmp(e->name, s, n) == 0) return e;
    }
}

skv_cmdmap *skv__cmdmap_ref(skv_cmdmap *m) {
    if (m) atomic_fetch_add(&m->refs, 1);
    return m;
}

void skv__cmdmap_unref(skv_cmdmap *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    for (size_t i = 0; i <= m->mask; i++) free(m->slot[i].name);
    free(m->slot);
    free(m);
}

static int flag_bit(const redisReply *f) {
    static const struct {
        const char *name;
        int bit;
    } bits[] = {{"readonly", SKV_CMD_READONLY},
                {"write", SKV_CMD_WRITE},
                {"idemp", SKV_CMD_IDEMP},
                {"retry_safe", SKV_CMD_RETRY_SAFE}};
    if (f->type != REDIS_REPLY_STATUS && f->type != REDIS_REPLY_STRING) return 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (strlen(bits[i].name) == f->len && strncasecmp(f->str, bits[i].name, f->len) == 0) return bits[i].bit;
    return 0;
}

/* Builds the map from a COMMAND / COMMAND INFO reply: rows of [name,
 * arity, flags, ...]; other rows (nil, odd shapes) are skipped. */
static skv_status cmdmap_build(const redisReply *r, skv_cmdmap **out, skv_error *err) {
    skv_status st = SKV_OOM;
    *out = NULL;
    if (r->type != REDIS_REPLY_ARRAY)
        return skv__fail(err, SKV_PROTOCOL, "COMMAND INFO replied type %d, not an array", r->type);
    skv_cmdmap *m = calloc(1, sizeof *m);
    if (!m) goto out;
    atomic_init(&m->refs, 1);
    size_t slots = 64;
    while (slots < 2 * r->elements + 2) slots *= 2;
    m->mask = slots - 1;
    if (!(m->slot = calloc(slots, sizeof *m->slot))) goto out;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *row = r->element[i];
        if (row->type != REDIS_REPLY_ARRAY || row->elements < 3 || row->element[0]->type != REDIS_REPLY_STRING ||
            row->element[1]->type != REDIS_REPLY_INTEGER || row->element[2]->type != REDIS_REPLY_ARRAY)
            continue;
        const redisReply *name = row->element[0];
        if (cmdmap_find(m, name->str, name->len)) continue;
        size_t j = name_hash(name->str, name->len) & m->mask;
        while (m->slot[j].name) j = (j + 1) & m->mask;
        cmd_entry *e = &m->slot[j];
        if (!(e->name = malloc(name->len + 1))) goto out;
        for (size_t k = 0; k < name->len; k++)
            e->name[k] = name->str[k] >= 'A' && name->str[k] <= 'Z' ? (char)(name->str[k] + 32) : name->str[k];
        e->name[name->len] = '\0';
        e->arity = (int)row->element[1]->integer;
        e->flags = SKV_CMD_KNOWN;
        for (size_t k = 0; k < row->element[2]->elements; k++) e->flags |= flag_bit(row->element[2]->element[k]);
        /* COMMAND INFO lists readonly as retry_safe; do not depend on it */
        if (e->flags & SKV_CMD_READONLY) e->flags |= SKV_CMD_RETRY_SAFE;
    }
    *out = m;
    m = NULL;
    st = SKV_OK;
out:
    skv__cmdmap_unref(m);
    if (st == SKV_OOM) skv__fail(err, st, "out of memory loading the command table");
    return st;
}

int skv_command_flags(const skv_client *c, const char *name) {
    assert(c && name);
    const cmd_entry *e = cmdmap_find(c->map, name, strlen(name));
    return e ? e->flags : 0;
}

/* ---- connecting ------------------------------------------------------------------------ */

void skv_options_init(skv_options *o) {
    assert(o);
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 6380;
    o->connect_timeout_ms = 2000;
    o->command_timeout_ms = 5000;
    o->max_attempts = 3;
    o->backoff_base_ms = 50;
    o->backoff_cap_ms = 1000;
}

static struct timeval ms_tv(int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* SIGPIPE from a write to a dead socket would kill the caller's process:
 * block it on this thread for the write and swallow what it raised (the
 * error comes back as EPIPE anyway). The process's own handler is untouched. */
typedef struct pipe_guard {
    sigset_t old;
    int was_pending;
} pipe_guard;

static void pipe_block(pipe_guard *g) {
    sigset_t s, pending;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

static void pipe_unblock(pipe_guard *g) {
    if (!g->was_pending) {
        sigset_t s, pending;
        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR) {}
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* One command on the raw context, no retry (the handshake). */
static redisReply *raw_cmd(skv_client *c, int argc, const char **argv, skv_status *st, skv_error *err) {
    pipe_guard g;
    pipe_block(&g);
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
    int saved = errno;
    pipe_unblock(&g);
    if (!r) {
        *st = ctx_error(c->ctx, saved, err);
    } else if (r->type == REDIS_REPLY_ERROR) {
        *st = error_reply(r, err);
        freeReplyObject(r);
        r = NULL;
    } else {
        *st = SKV_OK;
    }
    return r;
}

static void disconnect(skv_client *c) {
    if (c->ctx) redisFree(c->ctx);
    c->ctx = NULL;
}

/* Connects, AUTH, SELECT, and loads the command map if there is none. */
static skv_status reconnect(skv_client *c, skv_error *err) {
    skv_status st = SKV_OK;
    redisReply *r = NULL;
    const skv_options *o = &c->opt;
    struct timeval ctv = ms_tv(o->connect_timeout_ms);
    disconnect(c);
    c->ctx = o->unix_path ? redisConnectUnixWithTimeout(o->unix_path, ctv)
                          : redisConnectWithTimeout(o->host, o->port, ctv);
    int saved = errno;
    if (!c->ctx) {
        st = skv__fail(err, SKV_OOM, "out of memory connecting");
        goto out;
    }
    if (c->ctx->err) {
        st = ctx_error(c->ctx, saved, err);
        goto out;
    }
    if (redisSetTimeout(c->ctx, ms_tv(o->command_timeout_ms)) != REDIS_OK) {
        st = ctx_error(c->ctx, errno, err);
        goto out;
    }
    if (!o->unix_path) redisEnableKeepAlive(c->ctx);
    if (o->password) {
        const char *av[] = {"AUTH", o->username ? o->username : o->password, o->password};
        if (!(r = raw_cmd(c, o->username ? 3 : 2, av, &st, err))) goto out;
        freeReplyObject(r);
        r = NULL;
    }
    if (o->db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", o->db);
        const char *av[] = {"SELECT", db};
        if (!(r = raw_cmd(c, 2, av, &st, err))) goto out;
        freeReplyObject(r);
        r = NULL;
    }
    if (!c->map) {
        const char *av[] = {"COMMAND", "INFO"};
        if (!(r = raw_cmd(c, 2, av, &st, err))) {
            if (skv_is_transport(st)) goto out;
            /* a server without the all-commands form of COMMAND INFO */
            if (!(r = raw_cmd(c, 1, av, &st, err))) goto out;
        }
        st = cmdmap_build(r, &c->map, err);
    }
out:
    if (r) freeReplyObject(r);
    if (st != SKV_OK) disconnect(c);
    return st;
}

static char *dup_opt(const char *s, char **slot, int *oom) {
    if (!s) return NULL;
    if (!(*slot = strdup(s))) *oom = 1;
    return *slot;
}

skv_status skv__open(const skv_options *o, skv_cmdmap *map, skv_client **out, skv_error *err) {
    skv_status st = SKV_OK;
    skv_client *c = NULL;
    assert(out);
    *out = NULL;
    if (err) err->attempts = 0;
    if (!(c = calloc(1, sizeof *c))) {
        st = skv__fail(err, SKV_OOM, "out of memory");
        goto out;
    }
    skv_options_init(&c->opt);
    if (o) {
        int oom = 0;
        if (o->host) c->opt.host = dup_opt(o->host, &c->own[0], &oom);
        if (o->port) c->opt.port = o->port;
        c->opt.unix_path = dup_opt(o->unix_path, &c->own[1], &oom);
        c->opt.username = dup_opt(o->username, &c->own[2], &oom);
        c->opt.password = dup_opt(o->password, &c->own[3], &oom);
        c->opt.db = o->db;
        if (o->connect_timeout_ms > 0) c->opt.connect_timeout_ms = o->connect_timeout_ms;
        if (o->command_timeout_ms > 0) c->opt.command_timeout_ms = o->command_timeout_ms;
        if (o->max_attempts > 0) c->opt.max_attempts = o->max_attempts;
        if (o->backoff_base_ms > 0) c->opt.backoff_base_ms = o->backoff_base_ms;
        if (o->backoff_cap_ms > 0) c->opt.backoff_cap_ms = o->backoff_cap_ms;
        if (oom) {
            st = skv__fail(err, SKV_OOM, "out of memory");
            goto out;
        }
    }
    c->map = skv__cmdmap_ref(map);
    /* connecting is safe to repeat: the same policy as a read */
    for (int i = 1; i <= c->opt.max_attempts; i++) {
        if (i > 1) backoff_sleep(&c->opt, i - 1);
        if (err) err->attempts = i;
        st = reconnect(c, err);
        if (!skv_is_transport(st)) break;
    }
    if (st != SKV_OK) goto out;
    skv__ok(err);
    *out = c;
    c = NULL;
out:
    skv_close(c);
    return st;
}

skv_status skv_open(const skv_options *o, skv_client **out, skv_error *err) { return skv__open(o, NULL, out, err); }

void skv_close(skv_client *c) {
    if (!c) return;
    disconnect(c);
    skv__cmdmap_unref(c->map);
    for (size_t i = 0; i < sizeof c->own / sizeof c->own[0]; i++) free(c->own[i]);
    free(c);
}

int skv_connected(const skv_client *c) { return c && c->ctx && !c->ctx->err; }

/* ---- sending under the policy ------------------------------------------------------------ */

/* Whether an idle connection went bad while nobody used it: the server
 * closed it (a restart, CLIENT KILL, an idle timeout) or sent bytes nobody
 * asked for. Nothing has been sent on it, so reconnecting first is safe for
 * any command, and spares a command that is not retried a failure that has
 * nothing to do with it. A healthy RESP2 connection between commands has
 * nothing to read. */
static int stale(const redisContext *ctx) {
    struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

/* One attempt: (re)connect when needed, send, read. */
static skv_status attempt(skv_client *c, int argc, const char **argv, const size_t *len, redisReply **out,
                          skv_error *err) {
    skv_status st;
    pipe_guard g;
    if ((!skv_connected(c) || stale(c->ctx)) && (st = reconnect(c, err)) != SKV_OK) return st;
    pipe_block(&g);
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, len);
    int saved = errno;
    pipe_unblock(&g);
    if (!r) {
        st = ctx_error(c->ctx, saved, err);
        disconnect(c); /* a blocking hiredis context is unusable after an error */
        return st;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        st = error_reply(r, err);
        freeReplyObject(r);
        return st;
    }
    *out = r;
    return SKV_OK;
}

/* Whether the caller already put an IDEMP key in: options follow the
 * fixed arguments in name/value pairs, as the server reads them. */
static int has_idemp(int fixed, int argc, const char **argv, const size_t *len) {
    for (int i = fixed; i + 1 < argc; i += 2)
        if (len[i] == 5 && strncasecmp(argv[i], "idemp", 5) == 0) return 1;
    return 0;
}

/* The attempts a command gets under the server's flags. An idemp command
 * gets "IDEMP key" appended to av/al (two spare slots) unless it has one;
 * with too few arguments it is left to the server's arity error, once.
 * -1: no randomness for the key. */
static int plan(const skv_client *c, int *ac, const char **av, size_t *al, char key[33]) {
    const cmd_entry *e = cmdmap_find(c->map, av[0], al[0]);
    if (!e) return 1; /* not in the server's table: we know nothing about it */
    int fixed = e->arity < 0 ? -e->arity : e->arity;
    if ((e->flags & SKV_CMD_IDEMP) && *ac >= fixed) {
        if (!has_idemp(fixed, *ac, av, al)) {
            if (idemp_new_key(key) < 0) return -1;
            av[*ac] = "IDEMP";
            al[(*ac)++] = 5;
            av[*ac] = key;
            al[(*ac)++] = 32;
        }
        return c->opt.max_attempts;
    }
    return e->flags & (SKV_CMD_READONLY | SKV_CMD_RETRY_SAFE) ? c->opt.max_attempts : 1;
}

skv_status skv_command_argv(skv_client *c, int argc, const char **argv, const size_t *argvlen, redisReply **reply,
                            skv_error *err) {
    skv_status st = SKV_OK;
    const char **av = NULL;
    size_t *al = NULL;
    char key[33];
    int ac = argc, tries;
    assert(c && argc > 0 && argv && reply);
    *reply = NULL;
    if (err) err->attempts = 0;
    av = malloc(((size_t)argc + 2) * sizeof *av); /* two spare slots for IDEMP key */
    al = malloc(((size_t)argc + 2) * sizeof *al);
    if (!av || !al) {
        st = skv__fail(err, SKV_OOM, "out of memory");
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i];
        al[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    if ((tries = plan(c, &ac, av, al, key)) < 0) {
        st = skv__fail(err, SKV_ERR, "getrandom: %s", strerror(errno));
        goto out;
    }
    for (int i = 1; i <= tries; i++) {
        if (i > 1) backoff_sleep(&c->opt, i - 1);
        if (err) err->attempts = i;
        st = attempt(c, ac, av, al, reply, err);
        if (!skv_is_transport(st)) break;
    }
    if (st == SKV_OK) skv__ok(err);
out:
    free(av);
    free(al);
    return st;
}

skv_status skv_command(skv_client *c, redisReply **reply, skv_error *err, const char *arg0, ...) {
    va_list ap;
    int n = 1;
    assert(arg0);
    va_start(ap, arg0);
    while (va_arg(ap, const char *)) n++;
    va_end(ap);
    const char **argv = malloc((size_t)n * sizeof *argv);
    if (!argv) return skv__fail(err, SKV_OOM, "out of memory");
    argv[0] = arg0;
    va_start(ap, arg0);
    for (int i = 1; i < n; i++) argv[i] = va_arg(ap, const char *);
    va_end(ap);
    skv_status st = skv_command_argv(c, n, argv, NULL, reply, err);
    free(argv);
    return st;
}
