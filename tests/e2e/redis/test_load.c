/* End-to-end load and abusive clients, on loopback, bounded in time:
 *
 *   - 10 000 concurrent connections from this one process (non-blocking
 *     sockets, epoll): a PING on every one, every PONG back; maxclients
 *     refuses the next one with Redis's error, and takes one again after a
 *     client left;
 *   - a slowloris client (one byte a second, a request that never ends) is
 *     closed by `timeout`, a normal client beside it is not disturbed;
 *   - a request over client-query-buffer-limit (announced or sent) closes
 *     its connection; a request under it is served;
 *   - a client that never reads its replies is closed by the output buffer
 *     limit, or by `timeout` when its replies stall under that limit. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static skv_server srv;
static void down(void) { skv_cleanup(&srv); }

static long long stat_field(redisContext *c, const char *section, const char *name) {
    return info_field(c, section, name);
}

/* Polls INFO until connected_clients == want or ms passed; the last value. */
static long long wait_clients(redisContext *c, long long want, int ms) {
    long long dl = mono_ms() + ms, n;
    while ((n = info_field(c, "clients", "connected_clients")) != want && mono_ms() < dl) msleep(20);
    return n;
}

static int nb_socket(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- 10 000 connections ----------------------------------------------------- */

#define NCONN 10000
#define BATCH 256

static void up_10k(void) {
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < NCONN + 256)
        cr_skip_test("the hard open-files limit is %llu, below the %d this test needs",
                     (unsigned long long)rl.rlim_max, NCONN + 256);
    rl.rlim_cur = rl.rlim_max; /* the server inherits it and takes what it needs */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    const char *extra[] = {"--maxclients", "10001", NULL}; /* the 10 000 + the admin */
    skv_start(&srv, extra);
}

Test(load, ten_thousand_connections, .init = up_10k, .fini = down, .timeout = 120) {
    int *fds = malloc(NCONN * sizeof *fds);
    char *state = calloc(NCONN, 1); /* 0 connecting, 1 PING sent, 2 PONG got */
    size_t *got = calloc(NCONN, sizeof *got);
    int ep = epoll_create1(0);
    cr_assert_geq(ep, 0);
    long long t0 = mono_ms();
    /* connect in batches, each waited for, so the listen backlog never
     * overflows into SYN retries */
    for (int i = 0; i < NCONN; i += BATCH) {
        int n = i + BATCH <= NCONN ? BATCH : NCONN - i;
        struct pollfd pf[BATCH];
        for (int j = 0; j < n; j++) {
            fds[i + j] = nb_socket(srv.port);
            cr_assert_geq(fds[i + j], 0, "socket %d: %s", i + j, strerror(errno));
            pf[j] = (struct pollfd){.fd = fds[i + j], .events = POLLOUT};
        }
        int left = n;
        long long dl = mono_ms() + 10000;
        while (left > 0 && mono_ms() < dl) {
            cr_assert_geq(poll(pf, (nfds_t)n, 100), 0);
            for (int j = 0; j < n; j++) {
                if (pf[j].fd < 0 || !pf[j].revents) continue;
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(pf[j].fd, SOL_SOCKET, SO_ERROR, &err, &el);
                cr_assert_eq(err, 0, "connection %d: %s", i + j, strerror(err));
                pf[j].fd = -1;
                left--;
            }
        }
        cr_assert_eq(left, 0, "%d connections of batch %d not established in 10 s", left, i / BATCH);
    }
    long long t_conn = mono_ms() - t0;
    /* a PING on every connection, then collect every PONG */
    for (int i = 0; i < NCONN; i++) {
        ssize_t w = send(fds[i], "PING\r\n", 6, MSG_NOSIGNAL);
        cr_assert_eq(w, 6, "PING on connection %d: %s", i, strerror(errno));
        state[i] = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev), 0);
    }
    int pongs = 0, bad = 0;
    long long dl = mono_ms() + 60000;
    struct epoll_event evs[512];
    while (pongs + bad < NCONN && mono_ms() < dl) {
        int n = epoll_wait(ep, evs, 512, 200);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            char buf[64];
            ssize_t r = recv(fds[i], buf, sizeof buf, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                bad++;
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
                continue;
            }
            if (state[i] != 1) continue;
            if (memcmp(buf, "+PONG\r\n", (size_t)r < 7 ? (size_t)r : 7) != 0) {
                bad++;
                state[i] = 3;
                continue;
            }
            got[i] += (size_t)r;
            if (got[i] >= 7) {
                state[i] = 2;
                pongs++;
            }
        }
    }
    long long t_all = mono_ms() - t0;
    cr_log_info("10k connections: established in %lld ms, all PONGs after %lld ms", t_conn, t_all);
    cr_expect_eq(bad, 0, "%d connections closed or answered something else", bad);
    cr_expect_eq(pongs, NCONN, "%d PONGs of %d", pongs, NCONN);

    redisContext *admin = skv_connect(&srv);
    long long n = info_field(admin, "clients", "connected_clients");
    cr_expect_eq(n, NCONN + 1, "connected_clients %lld", n);
    /* maxclients 10001 is reached: the next connection is refused as Redis does */
    redisContext *extra = redisConnect("127.0.0.1", srv.port);
    cr_assert(extra && !extra->err);
    redisReply *rr = redisCommand(extra, "PING");
    if (rr) {
        cr_expect_eq(rr->type, REDIS_REPLY_ERROR);
        cr_expect_str_eq(rstr(rr), "ERR max number of clients reached");
        freeReplyObject(rr);
    } else {
        cr_expect(0, "no reply for the connection past maxclients: %s", extra->errstr);
    }
    redisFree(extra);
    long long rejected = stat_field(admin, "stats", "rejected_connections");
    cr_expect_geq(rejected, 1);
    /* one leaves, one more gets in */
    close(fds[0]);
    fds[0] = -1;
    cr_expect_eq(wait_clients(admin, NCONN, 10000), NCONN);
    redisContext *late = skv_connect(&srv);
    expect_status(skv_cmd(late, "PING"), "PONG");
    redisFree(late);
    for (int i = 1; i < NCONN; i++) close(fds[i]);
    cr_expect_eq(wait_clients(admin, 1, 20000), 1, "the closed connections are not all gone");
    expect_status(skv_cmd(admin, "PING"), "PONG");
    redisFree(admin);
    close(ep);
    free(fds);
    free(state);
    free(got);
}

/* ---- slowloris ------------------------------------------------------------------ */

static void up_timeout2(void) {
    const char *extra[] = {"--timeout", "2", NULL};
    skv_start(&srv, extra);
}

Test(load, slowloris_closed_by_timeout, .init = up_timeout2, .fini = down, .timeout = 60) {
    int slow = raw_connect(srv.port);
    redisContext *busy = skv_connect(&srv);
    /* a request that never ends: a bulk header, then one byte a second */
    const char *head = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n";
    cr_assert_eq(send(slow, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    long long t0 = mono_ms(), last_byte = 0, worst_ping = 0;
    int closed = 0;
    while (!closed && mono_ms() - t0 < 10000) {
        if (mono_ms() - last_byte >= 1000) {
            if (send(slow, "x", 1, MSG_NOSIGNAL) != 1) closed = 1;
            last_byte = mono_ms();
        }
        struct pollfd p = {.fd = slow, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            char b[16];
            if (recv(slow, b, sizeof b, 0) <= 0) closed = 1;
        }
        long long tp = mono_ms();
        redisReply *r = redisCommand(busy, "PING");
        cr_assert(r != NULL, "the busy client was disconnected: %s", busy->errstr);
        cr_expect_eq(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        if (mono_ms() - tp > worst_ping) worst_ping = mono_ms() - tp;
        msleep(100);
    }
    long long took = mono_ms() - t0;
    cr_log_info("slowloris closed after %lld ms; slowest PING beside it %lld ms", took, worst_ping);
    cr_expect(closed, "the slowloris client is still connected after %lld ms (timeout 2)", took);
    cr_expect_geq(took, 1500, "closed after only %lld ms", took);
    cr_expect_leq(took, 6000, "closed only after %lld ms", took);
    cr_expect_lt(worst_ping, 1000, "a PING beside the slowloris took %lld ms", worst_ping);
    cr_expect_geq(stat_field(busy, "stats", "client_idle_timeout_disconnections"), 1);
    close(slow);
    redisFree(busy);
}

/* ---- query buffer limit --------------------------------------------------------- */

static void up_qlimit(void) {
    const char *extra[] = {"--client-query-buffer-limit", "1mb", NULL};
    skv_start(&srv, extra);
}

Test(load, query_buffer_limit, .init = up_qlimit, .fini = down, .timeout = 60) {
    redisContext *c = skv_connect(&srv);
    expect_ok(skv_cmd(c, "CONFIG SET client-query-buffer-limit 1mb"));
    /* a value under the limit is served */
    size_t small = 900 * 1024;
    char *v = malloc(small);
    memset(v, 'a', small);
    const char *argv[] = {"SET", "k", v};
    size_t lens[] = {3, 1, small};
    expect_ok(skv_cmdargv(c, 3, argv, lens));
    free(v);
    /* announced over the limit: closed at once */
    int a = raw_connect(srv.port);
    const char *head = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n";
    size_t got;
    int closed;
    char *r = raw_roundtrip(a, head, strlen(head), 2000, &got, &closed);
    cr_expect(closed, "a 2 MB bulk announced with a 1 MB limit kept the connection (got '%s')", r);
    free(r);
    close(a);
    /* sent over the limit without an end (many arguments): closed too */
    int b = raw_connect(srv.port);
    char *big = malloc(2u << 20);
    size_t off = (size_t)sprintf(big, "*1000000\r\n");
    while (off + 16 < (2u << 20)) off += (size_t)sprintf(big + off, "$5\r\nxxxxx\r\n");
    r = raw_roundtrip(b, big, off, 2000, &got, &closed);
    cr_expect(closed, "2 MB of one unfinished request kept the connection");
    free(r);
    free(big);
    close(b);
    cr_expect_geq(stat_field(c, "stats", "client_query_buffer_limit_disconnections"), 2);
    expect_int(skv_cmd(c, "STRLEN k"), (long long)small);
    redisFree(c);
}

/* ---- a client that never reads ----------------------------------------------------- */

/* Sends n GETs of a 256 KB value on a socket that never reads; returns when
 * the server closed it (1) or ms passed (0). */
static int flood_without_reading(int fd, int n, int ms) {
    int rcv = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int sent = 0;
    long long dl = mono_ms() + ms;
    while (mono_ms() < dl) {
        while (sent < n && send(fd, "GET big\r\n", 9, MSG_NOSIGNAL) == 9) sent++;
        /* a close shows as a reset or EOF once the socket's buffers are
         * looked at; peek without consuming replies */
        char b;
        ssize_t r = recv(fd, &b, 1, MSG_PEEK);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
        if (send(fd, "", 0, MSG_NOSIGNAL) < 0 && errno == EPIPE) return 1;
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) return 1;
        msleep(50);
    }
    return 0;
}

static void set_big(redisContext *c) {
    size_t n = 256 * 1024;
    char *v = malloc(n);
    memset(v, 'b', n);
    const char *argv[] = {"SET", "big", v};
    size_t lens[] = {3, 3, n};
    expect_ok(skv_cmdargv(c, 3, argv, lens));
    free(v);
}

static void up_olimit(void) {
    const char *extra[] = {"--client-output-buffer-limit-bytes", "1mb", NULL};
    skv_start(&srv, extra);
}

Test(load, non_reader_closed_by_output_limit, .init = up_olimit, .fini = down, .timeout = 60) {
    redisContext *c = skv_connect(&srv);
    set_big(c);
    int fd = raw_connect(srv.port);
    long long t0 = mono_ms();
    int closed = flood_without_reading(fd, 400, 10000);
    cr_log_info("non-reader closed=%d after %lld ms", closed, mono_ms() - t0);
    close(fd);
    /* the server kept no more than the limit for it and serves the others */
    cr_expect_geq(stat_field(c, "stats", "client_output_buffer_limit_disconnections"), 1);
    cr_expect_eq(wait_clients(c, 1, 5000), 1);
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_int(skv_cmd(c, "STRLEN big"), 256 * 1024);
    redisFree(c);
}

Test(load, stalled_non_reader_closed_by_timeout, .init = up_timeout2, .fini = down, .timeout = 60) {
    redisContext *c = skv_connect(&srv);
    set_big(c);
    int fd = raw_connect(srv.port);
    /* under the (default, 512 MB) output limit: the server stops reading it
     * at 4 MB of backlog; its replies never drain, so it is idle */
    long long t0 = mono_ms();
    flood_without_reading(fd, 40, 1000);
    long long dl = mono_ms() + 8000, n;
    while ((n = stat_field(c, "stats", "client_idle_timeout_disconnections")) < 1 && mono_ms() < dl) {
        redisReply *r = skv_cmd(c, "PING"); /* the busy one stays */
        cr_expect_eq(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        msleep(100);
    }
    cr_log_info("stalled non-reader closed after %lld ms", mono_ms() - t0);
    cr_expect_geq(n, 1, "the stalled client was not closed by timeout 2 within 9 s");
    cr_expect_eq(wait_clients(c, 1, 5000), 1);
    close(fd);
    redisFree(c);
}
