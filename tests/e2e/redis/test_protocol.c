/* End-to-end RESP2 parsing tests over raw sockets: Redis 7's exact protocol
 * error texts (each followed by the server closing only that connection),
 * inline commands, deep pipelines, byte-at-a-time and delayed fragments, and
 * a fixed-seed garbage fuzz that must never take the server down. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static skv_server srv;
static void up(void) { skv_start(&srv, NULL); }
static void down(void) { skv_cleanup(&srv); }

/* ---- helpers -------------------------------------------------------------- */

/* Makes a printable copy of a reply (CR/LF shown as \r \n) for messages. */
static char *show(const char *s, size_t n) {
    size_t lim = n > 300 ? 300 : n;
    char *o = malloc(lim * 4 + 8);
    size_t j = 0;
    for (size_t i = 0; i < lim; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r') { o[j++] = '\\'; o[j++] = 'r'; }
        else if (ch == '\n') { o[j++] = '\\'; o[j++] = 'n'; }
        else if (ch < 32 || ch > 126) j += (size_t)sprintf(o + j, "\\x%02x", ch);
        else o[j++] = (char)ch;
    }
    if (lim < n) { memcpy(o + j, "...", 3); j += 3; }
    o[j] = 0;
    return o;
}

/* Sends out (non-blocking, while reading) and reads until want bytes came, the
 * peer closed, or timeout_ms passed. Returns a malloc()ed buffer. */
static char *xfer(int fd, const char *out, size_t outlen, size_t want, int timeout_ms, size_t *got_out,
                  int *closed) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    size_t cap = want + 4096, got = 0, off = 0;
    char *in = malloc(cap + 1);
    *closed = 0;
    long long deadline = mono_ms() + timeout_ms;
    while (got < want && !*closed) {
        long long left = deadline - mono_ms();
        if (left <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN | (off < outlen ? POLLOUT : 0)};
        if (poll(&p, 1, (int)(left > 100 ? 100 : left)) < 0) break;
        if ((p.revents & POLLOUT) && off < outlen) {
            ssize_t n = send(fd, out + off, outlen - off, MSG_NOSIGNAL);
            if (n > 0) off += (size_t)n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (got == cap) in = realloc(in, (cap *= 2) + 1);
            ssize_t n = recv(fd, in + got, cap - got, 0);
            if (n > 0) got += (size_t)n;
            else if (n == 0 || (errno != EAGAIN && errno != EINTR)) *closed = 1;
        }
    }
    fcntl(fd, F_SETFL, fl);
    in[got] = 0;
    *got_out = got;
    return in;
}

/* A bystander connection with a key of its own: after each protocol error it
 * must still answer, and see its data. */
static redisContext *bystander(void) {
    redisContext *c = skv_connect(&srv);
    expect_status(skv_cmd(c, "SET %s %s", "bystander", "still-here"), "OK");
    return c;
}

static void bystander_check(redisContext *c) {
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_bulk(skv_cmd(c, "GET %s", "bystander"), "still-here");
    redisContext *n = skv_connect(&srv);
    expect_status(skv_cmd(n, "PING"), "PONG");
    redisFree(n);
}

/* Sends a request on a fresh raw connection; expects exactly `reply` and
 * then the server closing that connection. */
static void expect_proto_error(const char *req, size_t reqlen, const char *reply) {
    redisContext *b = bystander();
    int fd = raw_connect(srv.port);
    size_t got = 0;
    int closed = 0;
    char *r = raw_roundtrip(fd, req, reqlen, 2000, &got, &closed);
    char *shown = show(r, got), *want = show(reply, strlen(reply));
    cr_expect(got == strlen(reply) && memcmp(r, reply, got) == 0, "request %.60s...: expected reply '%s', got '%s'",
              show(req, reqlen < 60 ? reqlen : 60), want, shown);
    cr_expect(closed, "server did not close the connection after '%s'", want);
    free(shown);
    free(want);
    free(r);
    close(fd);
    bystander_check(b);
    redisFree(b);
}

/* Sends on a fresh raw connection, reads for a short quiet period, expects
 * exactly `reply` and the connection still open. */
static void expect_raw(int fd, const char *req, const char *reply) {
    size_t got = 0;
    int closed = 0;
    char *r = xfer(fd, req, strlen(req), strlen(reply), 3000, &got, &closed);
    /* anything extra? */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (got == strlen(reply) && poll(&p, 1, 100) == 1) {
        char extra[256];
        ssize_t n = recv(fd, extra, sizeof extra, MSG_DONTWAIT);
        if (n == 0) closed = 1;
        else if (n > 0) { r = realloc(r, got + (size_t)n + 1); memcpy(r + got, extra, (size_t)n); got += (size_t)n; r[got] = 0; }
    }
    char *shown = show(r, got), *want = show(reply, strlen(reply)), *rq = show(req, strlen(req));
    cr_expect(got == strlen(reply) && memcmp(r, reply, got) == 0, "request '%s': expected '%s', got '%s'", rq, want,
              shown);
    cr_expect(!closed, "connection closed after '%s'", rq);
    free(shown);
    free(want);
    free(rq);
    free(r);
}

static size_t append_cmd(char **buf, size_t *len, size_t *cap, int argc, const char **argv) {
    size_t need = 32;
    for (int i = 0; i < argc; i++) need += strlen(argv[i]) + 32;
    if (*len + need > *cap) {
        while (*len + need > *cap) *cap = *cap ? *cap * 2 : 4096;
        *buf = realloc(*buf, *cap);
    }
    size_t start = *len;
    *len += (size_t)sprintf(*buf + *len, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) *len += (size_t)sprintf(*buf + *len, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    return *len - start;
}

/* ---- protocol errors, exact Redis 7 texts ------------------------------------ */

Test(protocol, invalid_multibulk_length_text, .init = up, .fini = down) {
    const char req[] = "*abc\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: invalid multibulk length\r\n");
}

Test(protocol, multibulk_length_over_int_max, .init = up, .fini = down) {
    const char req[] = "*100000000000\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: invalid multibulk length\r\n");
}

Test(protocol, bulk_length_over_proto_max, .init = up, .fini = down) {
    const char req[] = "*1\r\n$1073741824\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol, negative_bulk_length, .init = up, .fini = down) {
    const char req[] = "*1\r\n$-5\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol, non_numeric_bulk_length, .init = up, .fini = down) {
    const char req[] = "*2\r\n$3\r\nGET\r\n$x1\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol, too_big_mbulk_count_string, .init = up, .fini = down) {
    size_t n = 70 * 1024;
    char *req = malloc(n);
    req[0] = '*';
    memset(req + 1, '1', n - 1);
    expect_proto_error(req, n, "-ERR Protocol error: too big mbulk count string\r\n");
    free(req);
}

Test(protocol, too_big_bulk_count_string, .init = up, .fini = down) {
    size_t n = 70 * 1024;
    char *req = malloc(n);
    memcpy(req, "*1\r\n$", 5);
    memset(req + 5, '1', n - 5);
    expect_proto_error(req, n, "-ERR Protocol error: too big bulk count string\r\n");
    free(req);
}

Test(protocol, expected_dollar, .init = up, .fini = down) {
    const char req[] = "*1\r\nx\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: expected '$', got 'x'\r\n");
}

Test(protocol, too_big_inline_request, .init = up, .fini = down) {
    size_t n = 70 * 1024;
    char *req = malloc(n);
    memset(req, 'a', n);
    expect_proto_error(req, n, "-ERR Protocol error: too big inline request\r\n");
    free(req);
}

Test(protocol, unbalanced_quotes, .init = up, .fini = down) {
    const char req[] = "set \"a b\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: unbalanced quotes in request\r\n");
}

Test(protocol, closing_quote_not_followed_by_space, .init = up, .fini = down) {
    const char req[] = "SET q 'it''s'\r\n";
    expect_proto_error(req, sizeof req - 1, "-ERR Protocol error: unbalanced quotes in request\r\n");
}

Test(protocol, error_after_valid_commands_in_same_write, .init = up, .fini = down) {
    /* Replies to the commands before the bad one arrive first, then the error. */
    const char req[] = "*1\r\n$4\r\nPING\r\nPING\r\n*abc\r\n*1\r\n$4\r\nPING\r\n";
    expect_proto_error(req, sizeof req - 1, "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");
}

/* ---- inline commands ----------------------------------------------------------- */

Test(protocol, inline_commands, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    expect_raw(fd, "PING\r\n", "+PONG\r\n");
    expect_raw(fd, "PING\n", "+PONG\r\n");
    expect_raw(fd, "SET k \"hello world\"\r\n", "+OK\r\n");
    expect_raw(fd, "GET k\r\n", "$11\r\nhello world\r\n");
    expect_raw(fd, "  get   k  \r\n", "$11\r\nhello world\r\n");
    close(fd);
    redisContext *c = skv_connect(&srv);
    expect_bulk(skv_cmd(c, "GET k"), "hello world");
    redisFree(c);
}

Test(protocol, inline_quoted_escapes, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    expect_raw(fd, "SET e \"a\\x41\\n\\\"b\"\r\n", "+OK\r\n");
    expect_raw(fd, "GET e\r\n", "$5\r\naA\n\"b\r\n");
    expect_raw(fd, "SET s 'x y\\'z'\r\n", "+OK\r\n");
    expect_raw(fd, "GET s\r\n", "$5\r\nx y'z\r\n");
    close(fd);
}

Test(protocol, empty_lines_ignored, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    expect_raw(fd, "\r\n\r\nPING\r\n", "+PONG\r\n");
    expect_raw(fd, "\r\n", "");
    expect_raw(fd, "\n\n\r\n  \r\nPING\r\n\r\n", "+PONG\r\n");
    /* Redis also skips multibulk counts <= 0 */
    expect_raw(fd, "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
    close(fd);
}

/* ---- pipelines -------------------------------------------------------------- */

#define PIPE_N 10000

Test(protocol, pipeline_10000_sets_one_write, .init = up, .fini = down) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char k[32], v[48];
    for (int i = 0; i < PIPE_N; i++) {
        snprintf(k, sizeof k, "pipe:%05d", i);
        snprintf(v, sizeof v, "value-%d-%d", i, i * 7);
        const char *argv[] = {"SET", k, v};
        append_cmd(&buf, &len, &cap, 3, argv);
    }
    int fd = raw_connect(srv.port);
    /* one write() call for the whole pipeline */
    size_t off = 0;
    ssize_t first = send(fd, buf, len, MSG_NOSIGNAL);
    cr_assert(first > 0, "send: %s", strerror(errno));
    off = (size_t)first;
    size_t want = 5u * PIPE_N, got = 0;
    int closed = 0;
    char *r = xfer(fd, buf + off, len - off, want, 20000, &got, &closed);
    cr_expect_eq(got, want, "got %zu reply bytes of %zu (closed=%d)", got, want, closed);
    size_t bad = 0;
    for (size_t i = 0; i + 5 <= got; i += 5)
        if (memcmp(r + i, "+OK\r\n", 5) != 0) { bad = i / 5 + 1; break; }
    cr_expect_eq(bad, 0, "reply %zu is not +OK", bad ? bad - 1 : 0);
    free(r);

    /* then 10,000 GETs in one write: every reply in order */
    len = 0;
    size_t exp_len = 0, exp_cap = 1 << 20;
    char *exp = malloc(exp_cap);
    for (int i = 0; i < PIPE_N; i++) {
        snprintf(k, sizeof k, "pipe:%05d", i);
        snprintf(v, sizeof v, "value-%d-%d", i, i * 7);
        const char *argv[] = {"GET", k};
        append_cmd(&buf, &len, &cap, 2, argv);
        exp_len += (size_t)sprintf(exp + exp_len, "$%zu\r\n%s\r\n", strlen(v), v);
    }
    r = xfer(fd, buf, len, exp_len, 20000, &got, &closed);
    cr_expect_eq(got, exp_len, "GET pipeline: got %zu bytes of %zu", got, exp_len);
    size_t diff = 0;
    while (diff < got && diff < exp_len && r[diff] == exp[diff]) diff++;
    cr_expect(diff == exp_len && got == exp_len, "GET replies differ at byte %zu: got '%.40s' expected '%.40s'", diff,
              diff < got ? r + diff : "", exp + diff);
    free(r);
    free(exp);
    free(buf);
    close(fd);
    redisContext *c = skv_connect(&srv);
    expect_int(skv_cmd(c, "DBSIZE"), PIPE_N);
    redisFree(c);
}

Test(protocol, pipeline_one_byte_at_a_time, .init = up, .fini = down) {
    char *buf = NULL;
    size_t len = 0, cap = 0, exp_len = 0;
    char exp[4096];
    char k[32], v[32];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "byte:%d", i);
        snprintf(v, sizeof v, "v%d", i * i);
        const char *set[] = {"SET", k, v};
        const char *get[] = {"GET", k};
        append_cmd(&buf, &len, &cap, 3, set);
        append_cmd(&buf, &len, &cap, 2, get);
        exp_len += (size_t)sprintf(exp + exp_len, "+OK\r\n$%zu\r\n%s\r\n", strlen(v), v);
    }
    int fd = raw_connect(srv.port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t i = 0; i < len; i++) {
        cr_assert(send(fd, buf + i, 1, MSG_NOSIGNAL) == 1, "send byte %zu: %s", i, strerror(errno));
        usleep(150);
    }
    size_t got = 0;
    int closed = 0;
    char *r = xfer(fd, NULL, 0, exp_len, 5000, &got, &closed);
    char *shown = show(r, got), *want = show(exp, exp_len);
    cr_expect(got == exp_len && memcmp(r, exp, exp_len) == 0, "expected '%s' got '%s'", want, shown);
    cr_expect(!closed);
    free(shown);
    free(want);
    free(r);
    free(buf);
    close(fd);
}

/* No reply may arrive before the request is complete. */
static void expect_silence(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, ms);
    char tmp[128] = "";
    ssize_t got = n == 1 ? recv(fd, tmp, sizeof tmp - 1, MSG_DONTWAIT) : 0;
    cr_expect(n == 0, "server replied/closed before the request was complete: %zd bytes '%s'", got,
              got > 0 ? show(tmp, (size_t)got) : "");
}

Test(protocol, request_split_across_delayed_writes, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* cut inside the count, between \r and \n, inside a length, inside data */
    const char *parts[] = {"*", "3\r", "\n$3\r\nSE", "T\r\n$", "5\r\nspl", "it\r\n$11\r\nhello", " world\r", "\n"};
    size_t np = sizeof parts / sizeof parts[0];
    for (size_t i = 0; i < np; i++) {
        cr_assert(send(fd, parts[i], strlen(parts[i]), MSG_NOSIGNAL) == (ssize_t)strlen(parts[i]));
        if (i + 1 < np) expect_silence(fd, 120);
    }
    expect_raw(fd, "", "+OK\r\n");
    /* inline request split the same way */
    const char *iparts[] = {"GE", "T sp", "lit\r", "\n"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(send(fd, iparts[i], strlen(iparts[i]), MSG_NOSIGNAL) == (ssize_t)strlen(iparts[i]));
        if (i + 1 < 4) expect_silence(fd, 120);
    }
    expect_raw(fd, "", "$11\r\nhello world\r\n");
    /* a large bulk value arriving in pieces with pauses */
    size_t vlen = 300000;
    char *big = malloc(vlen + 64);
    int hl = sprintf(big, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", vlen);
    for (size_t i = 0; i < vlen; i++) big[hl + (int)i] = (char)('a' + i % 26);
    memcpy(big + hl + vlen, "\r\n", 2);
    size_t total = (size_t)hl + vlen + 2, off = 0, step = 70000;
    while (off < total) {
        size_t n = total - off < step ? total - off : step;
        size_t sent = 0;
        while (sent < n) {
            ssize_t w = send(fd, big + off + sent, n - sent, MSG_NOSIGNAL);
            cr_assert(w > 0);
            sent += (size_t)w;
        }
        off += n;
        if (off < total) expect_silence(fd, 80);
    }
    expect_raw(fd, "", "+OK\r\n");
    close(fd);
    redisContext *c = skv_connect(&srv);
    redisReply *r = skv_cmd(c, "GET big");
    cr_expect_eq(r->type, REDIS_REPLY_STRING);
    cr_expect_eq(r->len, vlen);
    cr_expect(r->len == vlen && memcmp(r->str, big + hl, vlen) == 0, "big value corrupted");
    freeReplyObject(r);
    redisFree(c);
    free(big);
}

/* ---- garbage --------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static const char *const tokens[] = {
    "*", "$", ":", "+", "-", "\r\n", "\r", "\n", "\"", "'", " ", "\\", "\\x4", "\\x", "0", "1", "-1", "2", "3",
    "-2147483649", "2147483647", "2147483648", "536870912", "536870913", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "99999999999999999999", "1e3", "0x10", "abc", "PING", "GET",
    "ECHO", "EXISTS", "STRLEN", "\x00", "\xff", "\xc3\x28", "*1\r\n$4\r\nPING\r\n", "*2\r\n$3\r\nGET\r\n",
    "*2\r\n$4\r\nECHO\r\n$", "$-1\r\n", "*-1\r\n", "*0\r\n", "*3\r\n", "$0\r\n\r\n", "$1000\r\n", "*1024\r\n",
    "\t", "{", "}",
};

static size_t make_garbage(char *buf, size_t cap) {
    size_t len = 0;
    int kind = (int)(rnd() % 5);
    if (kind == 0) { /* random bytes */
        size_t n = 1 + rnd() % (rnd() % 8 == 0 ? cap - 1 : 300);
        for (size_t i = 0; i < n; i++) buf[len++] = (char)(rnd() & 0xff);
    } else if (kind == 1) { /* random printable with line ends: inline junk */
        size_t n = 1 + rnd() % 2000;
        for (size_t i = 0; i < n && len < cap; i++) {
            uint64_t x = rnd() % 40;
            buf[len++] = x == 0 ? '\n' : x == 1 ? '\r' : x == 2 ? '"' : x == 3 ? '\'' : (char)(32 + rnd() % 95);
        }
    } else { /* RESP-ish token soup */
        size_t n = 1 + rnd() % 60;
        for (size_t i = 0; i < n; i++) {
            const char *t = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
            size_t tl = (t[0] == 0) ? 1 : strlen(t);
            if (len + tl >= cap) break;
            memcpy(buf + len, t, tl);
            len += tl;
        }
    }
    return len;
}

Test(protocol, garbage_never_crashes, .init = up, .fini = down, .timeout = 120) {
    unsigned long long seed = 0x5eed2024ULL;
    const char *env = getenv("STAGEKV_FUZZ_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    rng_state = seed ? seed : 1;
    cr_log_info("garbage fuzz seed 0x%llx (set STAGEKV_FUZZ_SEED to replay)", seed);
    fprintf(stderr, "garbage fuzz seed 0x%llx\n", seed);

    redisContext *c = skv_connect(&srv);
    for (int i = 0; i < 100; i++) expect_status(skv_cmd(c, "SET keep:%d val:%d", i, i * 31), "OK");
    redisFree(c);

    enum { CAP = 100 * 1024 };
    char *buf = malloc(CAP);
    int n_total = 300, batch = 50, kept_open_failures = 0, proto_errors = 0, replies = 0;
    long long t0 = mono_ms();
    for (int i = 0; i < n_total; i++) {
        size_t len = make_garbage(buf, CAP);
        int mode = (int)(rnd() % 4);
        int fd = raw_connect(srv.port);
        if (mode == 3) { /* send in small random chunks */
            size_t off = 0;
            while (off < len) {
                size_t n = 1 + rnd() % 64;
                if (n > len - off) n = len - off;
                if (send(fd, buf + off, n, MSG_NOSIGNAL) <= 0) break;
                off += n;
            }
        } else {
            size_t off = 0;
            int fl = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
            long long dl = mono_ms() + 2000;
            while (off < len && mono_ms() < dl) {
                ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
                if (n > 0) off += (size_t)n;
                else if (errno == EAGAIN) {
                    char sink[4096];
                    if (recv(fd, sink, sizeof sink, 0) == 0) break; /* closed by server */
                    struct pollfd p = {.fd = fd, .events = POLLOUT | POLLIN};
                    poll(&p, 1, 20);
                } else break;
            }
            fcntl(fd, F_SETFL, fl);
        }
        if (mode == 1) {
            /* half-close: the server must notice EOF and close its side */
            shutdown(fd, SHUT_WR);
            size_t got = 0;
            int closed = 0;
            char *r = raw_roundtrip(fd, "", 0, 2000, &got, &closed);
            if (got) replies++;
            if (strstr(r, "-ERR Protocol error")) proto_errors++;
            free(r);
            if (!closed) kept_open_failures++;
        } else if (mode == 2) {
            size_t got = 0;
            int closed = 0;
            char *r = raw_roundtrip(fd, "", 0, 20, &got, &closed);
            if (got) replies++;
            if (strstr(r, "-ERR Protocol error")) proto_errors++;
            free(r);
        } else if (mode == 3) {
            struct linger lg = {1, 0}; /* RST */
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fd);
        if ((i + 1) % batch == 0 || i + 1 == n_total) {
            cr_assert(skv_alive(&srv), "server died after garbage payload %d (seed 0x%llx)", i, seed);
            redisContext *p = redisConnectWithTimeout("127.0.0.1", srv.port, (struct timeval){5, 0});
            cr_assert(p && !p->err, "connect after payload %d (seed 0x%llx) failed", i, seed);
            redisSetTimeout(p, (struct timeval){5, 0});
            redisReply *r = redisCommand(p, "PING");
            cr_assert(r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0,
                      "no PONG after garbage payload %d (seed 0x%llx)", i, seed);
            freeReplyObject(r);
            redisFree(p);
        }
    }
    free(buf);
    cr_log_info("300 garbage payloads in %lld ms; %d read back a reply, %d a protocol error", mono_ms() - t0,
                replies, proto_errors);
    cr_expect_eq(kept_open_failures, 0, "%d half-closed connections were not closed by the server within 2 s",
                 kept_open_failures);
    c = skv_connect(&srv);
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_int(skv_cmd(c, "DBSIZE"), 100);
    char want[32];
    for (int i = 0; i < 100; i++) {
        snprintf(want, sizeof want, "val:%d", i * 31);
        expect_bulk(skv_cmd(c, "GET keep:%d", i), want);
    }
    redisFree(c);
}
