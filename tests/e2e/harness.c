#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* 1 once our server has logged that it listens: a test binary running
 * beside another one may lose the race for a port that free_port saw free
 * (ours then exits), and must not talk to the other binary's server. No
 * command is sent for this, so commandstats stay the test's own. */
static int ready_lines(const skv_server *s) {
    FILE *f = fopen(s->log, "r"); /* appended by every (re)start */
    if (!f) return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, " ready on ") != NULL;
    fclose(f);
    return n;
}

/* 0 started; 1 the port was taken by another server (retry on another). */
static int spawn_once(skv_server *s) {
    int ready_before = ready_lines(s);
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[64];
    int n = 0;
    argv[n++] = STAGEKV_SERVER_BIN;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    for (int i = 0; i < s->nextra && n < 62; i++) argv[n++] = s->extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) { dup2(fd, 2); dup2(fd, 1); }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 500; i++) { /* up to 10 s (sanitizer builds start slowly) */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            FILE *f = fopen(s->log, "r");
            char line[512];
            int lost = 0; /* the port went to someone else: try another */
            while (f && !lost && fgets(line, sizeof line, f)) lost = strstr(line, "cannot listen on") != NULL;
            if (f) fclose(f);
            if (lost) return 1;
            cr_assert_fail("stagekv-server exited during start (see %s)", s->log);
        }
        if (ready_lines(s) > ready_before) {
            redisContext *c = redisConnect("127.0.0.1", s->port);
            int ok = 0;
            if (c && !c->err) {
                redisReply *r = redisCommand(c, "PING");
                ok = r != NULL;
                if (r) freeReplyObject(r);
            }
            if (c) redisFree(c);
            if (ok) return 0;
        }
        usleep(20000);
    }
    cr_assert_fail("stagekv-server did not answer PING on port %d", s->port);
    return 0;
}

static void spawn(skv_server *s) {
    for (int attempt = 0; attempt < 8; attempt++) {
        if (spawn_once(s) == 0) return;
        s->port = free_port();
    }
    cr_assert_fail("no free port for stagekv-server after 8 attempts");
}

void skv_start(skv_server *s, const char *const *extra) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/stagekv-e2e-XXXXXX");
    cr_assert(mkdtemp(s->dir) != NULL);
    snprintf(s->log, sizeof s->log, "%s.log", s->dir);
    for (; extra && extra[s->nextra] && s->nextra < 32; s->nextra++) s->extra[s->nextra] = strdup(extra[s->nextra]);
    /* STAGEKV_E2E_ARGS: options for every server of the run, before the
     * test's own (which win): CMake runs suites again with some */
    const char *env = getenv("STAGEKV_E2E_ARGS");
    if (env && *env) {
        char *copy = strdup(env), *save = NULL, *mine[32];
        int n = s->nextra;
        memcpy(mine, s->extra, sizeof(char *) * (size_t)n);
        s->nextra = 0;
        for (char *w = strtok_r(copy, " ", &save); w && s->nextra < 16; w = strtok_r(NULL, " ", &save))
            s->extra[s->nextra++] = strdup(w);
        for (int i = 0; i < n && s->nextra < 32; i++) s->extra[s->nextra++] = mine[i];
        free(copy);
    }
    s->port = free_port();
    spawn(s);
}

void skv_restart(skv_server *s) {
    cr_assert(s->pid == 0, "server still running");
    spawn(s);
}

/* The end of the server's log on stderr: why it exited badly. */
static void log_tail(const skv_server *s, int code) {
    fprintf(stderr, "stagekv-server exited with status %d; the end of %s:\n", code, s->log);
    FILE *f = fopen(s->log, "r");
    if (!f) return;
    static char ring[40][512];
    int n = 0;
    while (fgets(ring[n % 40], sizeof ring[0], f)) n++;
    fclose(f);
    for (int i = n > 40 ? n - 40 : 0; i < n; i++) fprintf(stderr, "  %s", ring[i % 40]);
}

int skv_stop(skv_server *s) {
    if (!s->pid) return -1;
    kill(s->pid, SIGTERM);
    int st = 0;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 0) log_tail(s, code); /* CI keeps only the test's output */
    return code;
}

void skv_kill9(skv_server *s) {
    if (!s->pid) return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void skv_cleanup(skv_server *s) {
    if (s->pid) {
        int code = skv_stop(s);
        cr_expect_eq(code, 0, "server exit status %d (see %s)", code, s->log);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0) { /* best effort */ }
    for (int i = 0; i < s->nextra; i++) free(s->extra[i]);
    s->nextra = 0;
}

redisContext *skv_connect(const skv_server *s) {
    struct timeval tv = {30, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    cr_assert(c && !c->err, "connect: %s", c ? c->errstr : "?");
    redisSetTimeout(c, tv);
    return c;
}

redisReply *skv_cmd(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "no reply to '%s': %s", fmt, c->errstr);
    return r;
}

redisReply *skv_cmdargv(redisContext *c, int argc, const char **argv, const size_t *lens) {
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    cr_assert(r != NULL, "no reply: %s", c->errstr);
    return r;
}

/* ---- assertions on one reply ---------------------------------------------------------- */

/* The file's name without its directory, for messages. */
static const char *base(const char *file) {
    const char *s = strrchr(file, '/');
    return s ? s + 1 : file;
}

void expect_status_at(const char *file, int line, redisReply *r, const char *s) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_STATUS, "%s:%d: expected +%s, got type %d (%s)", file, line, s, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_STATUS)
        cr_expect_str_eq(r->str, s, "%s:%d: got +%s, expected +%s", file, line, r->str, s);
    freeReplyObject(r);
}

void expect_int_at(const char *file, int line, redisReply *r, long long v) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_INTEGER, "%s:%d: expected :%lld, got type %d (%s)", file, line, v, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_INTEGER)
        cr_expect_eq(r->integer, v, "%s:%d: expected :%lld, got :%lld", file, line, v, r->integer);
    freeReplyObject(r);
}

void expect_bulk_at(const char *file, int line, redisReply *r, const char *s) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s:%d: expected bulk '%s', got type %d (%s)", file, line, s, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_STRING)
        cr_expect_str_eq(r->str, s, "%s:%d: got '%s', expected '%s'", file, line, r->str, s);
    freeReplyObject(r);
}

void expect_bulk_bin_at(const char *file, int line, redisReply *r, const char *p, size_t n) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s:%d: expected bulk of %zu bytes, got type %d (%s)", file, line, n,
                 r->type, rstr(r));
    if (r->type == REDIS_REPLY_STRING) {
        cr_expect_eq(r->len, n, "%s:%d: length %zu, expected %zu", file, line, r->len, n);
        if (r->len == n)
            cr_expect(memcmp(r->str, p, n) == 0, "%s:%d: bulk bytes differ: '%s'", file, line, r->str);
    }
    freeReplyObject(r);
}

void expect_nil_at(const char *file, int line, redisReply *r) {
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "%s:%d: expected nil, got type %d (%s)", base(file), line, r->type,
                 rstr(r));
    freeReplyObject(r);
}

void expect_error_at(const char *file, int line, redisReply *r, const char *prefix) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "%s:%d: expected error '%s...', got type %d (%s)", file, line, prefix,
                 r->type, rstr(r));
    if (r->type == REDIS_REPLY_ERROR)
        cr_expect(strncmp(r->str, prefix, strlen(prefix)) == 0, "%s:%d: error '%s' does not start with '%s'", file,
                  line, r->str, prefix);
    freeReplyObject(r);
}

void expect_error_eq_at(const char *file, int line, redisReply *r, const char *text) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "%s:%d: expected error '%s', got type %d (%s)", file, line, text,
                 r->type, rstr(r));
    if (r->type == REDIS_REPLY_ERROR)
        cr_expect_str_eq(r->str, text, "%s:%d: got -%s, expected -%s", file, line, r->str, text);
    freeReplyObject(r);
}

void expect_len_at(const char *file, int line, redisReply *r, size_t n) {
    file = base(file);
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: expected an array, got type %d (%s)", file, line, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_ARRAY)
        cr_expect_eq(r->elements, n, "%s:%d: %zu elements, expected %zu", file, line, r->elements, n);
    freeReplyObject(r);
}

void expect_strs_at(const char *file, int line, redisReply *r, size_t n, const char *const *want) {
    file = base(file);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: expected an array, got type %d (%s)", file, line, r->type,
                 rstr(r));
    cr_expect_eq(r->elements, n, "%s:%d: %zu elements, expected %zu", file, line, r->elements, n);
    for (size_t i = 0; i < n && i < r->elements; i++) {
        cr_expect_eq(r->element[i]->type, REDIS_REPLY_STRING, "%s:%d: element %zu has type %d", file, line, i,
                     r->element[i]->type);
        if (r->element[i]->type == REDIS_REPLY_STRING)
            cr_expect_str_eq(r->element[i]->str, want[i], "%s:%d: element %zu is '%s', expected '%s'", file, line,
                             i, r->element[i]->str, want[i]);
    }
    freeReplyObject(r);
}

void expect_id_at(const char *file, int line, redisReply *r, char out[17], int fatal) {
    file = base(file);
    out[0] = 0;
    if (fatal) {
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s:%d: expected an id, got type %d (%s)", file, line, r->type,
                     rstr(r));
        cr_assert(is_id(r->str), "%s:%d: '%s' is not an id", file, line, r->str);
    } else {
        cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s:%d: expected an id, got type %d (%s)", file, line, r->type,
                     rstr(r));
        if (r->type == REDIS_REPLY_STRING) cr_expect(is_id(r->str), "%s:%d: '%s' is not an id", file, line, r->str);
    }
    if (r->type == REDIS_REPLY_STRING) snprintf(out, 17, "%s", r->str);
    freeReplyObject(r);
}

/* ---- taking a value out of a reply ------------------------------------------------------ */

/* A bulk reply as a malloc()ed string; NULL for nil when nil_ok. */
static char *take_string(const char *file, int line, redisReply *r, int nil_ok) {
    cr_assert(r->type == REDIS_REPLY_STRING || (nil_ok && r->type == REDIS_REPLY_NIL),
              "%s:%d: expected a bulk reply%s, got type %d (%s)", base(file), line, nil_ok ? " or nil" : "", r->type,
              rstr(r));
    char *s = r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    freeReplyObject(r);
    return s;
}

char *take_bulk_at(const char *file, int line, redisReply *r) { return take_string(file, line, r, 0); }

char *take_bulk_or_nil_at(const char *file, int line, redisReply *r) { return take_string(file, line, r, 1); }

long long take_int_at(const char *file, int line, redisReply *r) {
    cr_expect_eq(r->type, REDIS_REPLY_INTEGER, "%s:%d: expected an integer, got type %d (%s)", base(file), line,
                 r->type, rstr(r));
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

redisReply *take_array_at(const char *file, int line, redisReply *r) {
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: expected an array, got type %d (%s)", base(file), line,
                 r->type, rstr(r));
    return r;
}

/* ---- the usual fixture -------------------------------------------------------------------- */

void skv_up(skv_server *s, redisContext **c, const char *const *extra) {
    skv_start(s, extra);
    *c = skv_connect(s);
}

void skv_down(skv_server *s, redisContext **c) {
    if (*c) redisFree(*c);
    *c = NULL;
    skv_cleanup(s);
}

/* ---- small things several tests need -------------------------------------------------- */

int is_id(const char *s) {
    if (strlen(s) != 16) return 0;
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int is_iso_ms(const char *s) {
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof pat - 1) return 0;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i]) return 0;
    return 1;
}

long long info_field(redisContext *c, const char *section, const char *name) {
    redisReply *r = skv_cmd(c, "INFO %s", section);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    char pat[100];
    snprintf(pat, sizeof pat, "\n%s:", name);
    const char *p = strstr(r->str, pat);
    cr_assert(p, "INFO %s has no %s", section, name);
    long long v = atoll(p + strlen(pat));
    freeReplyObject(r);
    return v;
}

long long kv_count(redisContext *c, const char *prefix) {
    redisReply *r = skv_cmd(c, "KV.COUNT %s", prefix);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

int skv_alive(skv_server *s) {
    if (!s->pid) return 0;
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
        cr_log_error("server died: %s %d (log %s)", WIFSIGNALED(st) ? "signal" : "exit",
                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), s->log);
        s->pid = 0;
        return 0;
    }
    return 1;
}

long long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void msleep(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int wait_reply(redisContext *c, long timeout_ms, int want_nil, long long want, const char *fmt, va_list ap) {
    long long deadline = mono_ms() + timeout_ms;
    for (;;) {
        va_list aq;
        va_copy(aq, ap);
        redisReply *r = redisvCommand(c, fmt, aq);
        va_end(aq);
        cr_assert(r != NULL, "no reply to '%s': %s", fmt, c->errstr);
        int done = want_nil ? r->type == REDIS_REPLY_NIL : (r->type == REDIS_REPLY_INTEGER && r->integer == want);
        freeReplyObject(r);
        if (done) return 1;
        if (mono_ms() >= deadline) return 0;
        msleep(20);
    }
}

int skv_wait_nil(redisContext *c, long timeout_ms, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int ok = wait_reply(c, timeout_ms, 1, 0, fmt, ap);
    va_end(ap);
    return ok;
}

int skv_wait_int(redisContext *c, long long want, long timeout_ms, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int ok = wait_reply(c, timeout_ms, 0, want, fmt, ap);
    va_end(ap);
    return ok;
}

/* 1 when the reply in hand came before the TTL started at since ran out. */
static int within(const char *file, int line, long long since, long ttl_ms, redisReply *r) {
    long long elapsed = mono_ms() - since;
    if (elapsed < ttl_ms) return 1;
    cr_log_warn("%s:%d: %lld ms passed (TTL %ld ms): not checked", base(file), line, elapsed, ttl_ms);
    freeReplyObject(r);
    return 0;
}

void expect_bulk_within_at(const char *file, int line, long long since, long ttl_ms, redisReply *r, const char *s) {
    if (within(file, line, since, ttl_ms, r)) expect_bulk_at(file, line, r, s);
}

void expect_int_within_at(const char *file, int line, long long since, long ttl_ms, redisReply *r, long long v) {
    if (within(file, line, since, ttl_ms, r)) expect_int_at(file, line, r, v);
}

int raw_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "raw connect: %s", strerror(errno));
    return fd;
}

char *raw_roundtrip(int fd, const void *buf, size_t len, int timeout_ms, size_t *outlen, int *closed) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += (size_t)n;
    }
    size_t cap = 4096, got = 0;
    char *out = malloc(cap + 1);
    *closed = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) break;
        if (got == cap) out = realloc(out, (cap *= 2) + 1);
        ssize_t n = recv(fd, out + got, cap - got, 0);
        if (n <= 0) { *closed = 1; break; }
        got += (size_t)n;
    }
    out[got] = 0;
    if (outlen) *outlen = got;
    return out;
}

int run_cmd(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while ((n = fread(buf + got, 1, cap - got, p)) > 0) {
        got += n;
        if (got == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    buf[got] = 0;
    int st = pclose(p);
    if (out) *out = buf; else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int skv_wait_writes_accepted(redisContext *c, long ms) {
    long long dl = mono_ms() + ms;
    while (mono_ms() < dl) {
        redisReply *r = skv_cmd(c, "SET probe 1");
        int ok = r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (ok) return 1;
        msleep(50);
    }
    return 0;
}
