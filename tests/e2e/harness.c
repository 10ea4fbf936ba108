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

static void spawn(skv_server *s) {
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
        redisContext *c = redisConnect("127.0.0.1", s->port);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r != NULL;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (ok) return;
        } else if (c) {
            redisFree(c);
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            cr_assert_fail("stagekv-server exited during start (see %s)", s->log);
        }
        usleep(20000);
    }
    cr_assert_fail("stagekv-server did not answer PING on port %d", s->port);
}

void skv_start(skv_server *s, const char *const *extra) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/stagekv-e2e-XXXXXX");
    cr_assert(mkdtemp(s->dir) != NULL);
    snprintf(s->log, sizeof s->log, "%s.log", s->dir);
    for (; extra && extra[s->nextra] && s->nextra < 32; s->nextra++) s->extra[s->nextra] = strdup(extra[s->nextra]);
    s->port = free_port();
    spawn(s);
}

void skv_restart(skv_server *s) {
    cr_assert(s->pid == 0, "server still running");
    spawn(s);
}

int skv_stop(skv_server *s) {
    if (!s->pid) return -1;
    kill(s->pid, SIGTERM);
    int st = 0;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
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

void expect_status(redisReply *r, const char *s) {
    cr_expect_eq(r->type, REDIS_REPLY_STATUS, "expected status %s, got type %d (%s)", s, r->type,
                 r->str ? r->str : "");
    if (r->type == REDIS_REPLY_STATUS) cr_expect_str_eq(r->str, s);
    freeReplyObject(r);
}

void expect_int(redisReply *r, long long v) {
    cr_expect_eq(r->type, REDIS_REPLY_INTEGER, "expected :%lld, got type %d (%s)", v, r->type,
                 r->str ? r->str : "");
    if (r->type == REDIS_REPLY_INTEGER) cr_expect_eq(r->integer, v, "expected %lld got %lld", v, r->integer);
    freeReplyObject(r);
}

void expect_bulk(redisReply *r, const char *s) {
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "expected bulk '%s', got type %d (%s)", s, r->type,
                 r->str ? r->str : "");
    if (r->type == REDIS_REPLY_STRING) cr_expect_str_eq(r->str, s);
    freeReplyObject(r);
}

void expect_nil(redisReply *r) {
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "expected nil, got type %d (%s)", r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

void expect_error(redisReply *r, const char *prefix) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "expected error '%s...', got type %d (%s)", prefix, r->type,
                 r->str ? r->str : "");
    if (r->type == REDIS_REPLY_ERROR)
        cr_expect(strncmp(r->str, prefix, strlen(prefix)) == 0, "error '%s' does not start with '%s'", r->str,
                  prefix);
    freeReplyObject(r);
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
