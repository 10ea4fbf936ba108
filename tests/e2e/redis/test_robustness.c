/* End-to-end robustness: bad commands keep the connection, many clients,
 * maxclients, a client that pipelines without reading, clients that vanish
 * mid-request or mid-pipeline, idle timeout. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static skv_server srv;
static void up(void) { skv_start(&srv, NULL); }
static void down(void) { skv_cleanup(&srv); }

/* VmRSS of a process in kB, -1 if unreadable. */
static long rss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kb;
}

/* connected_clients from INFO clients, -1 if absent. */
static long connected_clients(redisContext *c) {
    redisReply *r = skv_cmd(c, "INFO clients");
    long n = -1;
    if (r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "connected_clients:");
        if (p) n = strtol(p + strlen("connected_clients:"), NULL, 10);
    }
    freeReplyObject(r);
    return n;
}

/* Polls until connected_clients == want or ms passed; returns the last value. */
static long wait_clients(redisContext *c, long want, int ms) {
    long long dl = mono_ms() + ms;
    long n;
    while ((n = connected_clients(c)) != want && mono_ms() < dl) usleep(20000);
    return n;
}

/* PING with a wall-clock measurement; asserts PONG. */
static long long timed_ping(redisContext *c) {
    long long t = mono_ms();
    redisReply *r = redisCommand(c, "PING");
    long long dt = mono_ms() - t;
    cr_assert(r != NULL, "PING got no reply after %lld ms: %s", dt, c->errstr);
    cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0, "PING reply type %d", r->type);
    freeReplyObject(r);
    return dt;
}

static void raise_nofile(rlim_t want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- errors keep the connection ------------------------------------------------ */

static void expect_error_exact(redisReply *r, const char *text) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "expected error '%s', got type %d", text, r->type);
    if (r->type == REDIS_REPLY_ERROR) cr_expect_str_eq(r->str, text);
    freeReplyObject(r);
}

Test(robustness, unknown_command_keeps_connection, .init = up, .fini = down) {
    redisContext *c = skv_connect(&srv);
    expect_error_exact(skv_cmd(c, "NOSUCHCMD a b"),
                       "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ");
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_error_exact(skv_cmd(c, "FOOBAR"), "ERR unknown command 'FOOBAR', with args beginning with: ");
    expect_status(skv_cmd(c, "SET %s %s", "k", "v"), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "k"), "v");
    redisFree(c);
}

Test(robustness, wrong_arity_keeps_connection, .init = up, .fini = down) {
    redisContext *c = skv_connect(&srv);
    expect_error_exact(skv_cmd(c, "GET"), "ERR wrong number of arguments for 'get' command");
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_error(skv_cmd(c, "SET onlykey"), "ERR wrong number of arguments for 'set' command");
    expect_error(skv_cmd(c, "GET a b"), "ERR wrong number of arguments for 'get' command");
    expect_status(skv_cmd(c, "SET %s %s", "k", "v"), "OK");
    expect_bulk(skv_cmd(c, "GET %s", "k"), "v");
    /* also in the middle of a pipeline: the other replies keep their order */
    redisAppendCommand(c, "INCR n");
    redisAppendCommand(c, "BOGUS 1 2 3");
    redisAppendCommand(c, "INCR");
    redisAppendCommand(c, "INCR n");
    redisReply *r;
    cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
    expect_int(r, 1);
    cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
    expect_error(r, "ERR unknown command 'BOGUS'");
    cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
    expect_error(r, "ERR wrong number of arguments for 'incr' command");
    cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
    expect_int(r, 2);
    redisFree(c);
}

/* ---- many clients ------------------------------------------------------------------ */

#define NCLI 500

Test(robustness, five_hundred_simultaneous_clients, .init = up, .fini = down, .timeout = 60) {
    raise_nofile(NCLI * 2 + 100);
    redisContext **cs = calloc(NCLI, sizeof *cs);
    for (int i = 0; i < NCLI; i++) cs[i] = skv_connect(&srv);
    /* every client has a SET and a GET in flight at the same time */
    for (int i = 0; i < NCLI; i++) {
        redisAppendCommand(cs[i], "SET cli:%d v%d", i, i * 3);
        redisAppendCommand(cs[i], "GET cli:%d", i);
        int done = 0;
        while (!done) cr_assert(redisBufferWrite(cs[i], &done) == REDIS_OK, "write client %d", i);
    }
    redisContext *admin = skv_connect(&srv);
    long n = connected_clients(admin);
    cr_expect_geq(n, NCLI + 1, "connected_clients %ld with %d clients open", n, NCLI + 1);
    char want[32];
    for (int i = 0; i < NCLI; i++) {
        redisReply *r;
        cr_assert(redisGetReply(cs[i], (void **)&r) == REDIS_OK, "client %d: %s", i, cs[i]->errstr);
        expect_status(r, "OK");
        cr_assert(redisGetReply(cs[i], (void **)&r) == REDIS_OK, "client %d: %s", i, cs[i]->errstr);
        snprintf(want, sizeof want, "v%d", i * 3);
        expect_bulk(r, want);
    }
    /* a second round in the other order, each reading another client's key */
    for (int i = NCLI - 1; i >= 0; i--) {
        snprintf(want, sizeof want, "v%d", ((i + 1) % NCLI) * 3);
        expect_bulk(skv_cmd(cs[i], "GET cli:%d", (i + 1) % NCLI), want);
    }
    expect_int(skv_cmd(admin, "DBSIZE"), NCLI);
    for (int i = 0; i < NCLI; i++) redisFree(cs[i]);
    free(cs);
    long left = wait_clients(admin, 1, 5000);
    cr_expect_eq(left, 1, "connected_clients %ld after the 500 clients closed", left);
    redisFree(admin);
}

static void up_max5(void) {
    const char *extra[] = {"--maxclients", "5", NULL};
    skv_start(&srv, extra);
}

Test(robustness, maxclients_rejects_sixth, .init = up_max5, .fini = down) {
    /* the harness's start-up PING connection must be gone first */
    redisContext *cs[5];
    cs[0] = skv_connect(&srv);
    long n = wait_clients(cs[0], 1, 3000);
    cr_assert_eq(n, 1, "connected_clients %ld before the test", n);
    for (int i = 1; i < 5; i++) cs[i] = skv_connect(&srv);
    for (int i = 0; i < 5; i++) expect_status(skv_cmd(cs[i], "PING"), "PONG");

    int fd = raw_connect(srv.port);
    size_t got = 0;
    int closed = 0;
    char *r = raw_roundtrip(fd, "", 0, 2000, &got, &closed);
    cr_expect_str_eq(r, "-ERR max number of clients reached\r\n");
    cr_expect(closed, "6th connection was not closed");
    free(r);
    /* it stays closed even if it sends a command */
    r = raw_roundtrip(fd, "PING\r\n", 6, 500, &got, &closed);
    cr_expect(strstr(r, "PONG") == NULL, "rejected connection answered PING");
    free(r);
    close(fd);

    for (int i = 0; i < 5; i++) {
        expect_status(skv_cmd(cs[i], "SET m:%d x%d", i, i), "OK");
        expect_status(skv_cmd(cs[i], "PING"), "PONG");
    }
    expect_int(skv_cmd(cs[0], "DBSIZE"), 5);
    /* a slot freed is a slot available */
    redisFree(cs[4]);
    n = wait_clients(cs[0], 4, 3000);
    cr_expect_eq(n, 4, "connected_clients %ld after one of five left", n);
    cs[4] = skv_connect(&srv);
    expect_status(skv_cmd(cs[4], "PING"), "PONG");
    for (int i = 0; i < 5; i++) redisFree(cs[i]);
}

/* ---- a client that pipelines forever without reading ------------------------------- */

#define BIG_VALUE (100 * 1024)
#define FLOOD_MAX (200LL * 1024 * 1024)

Test(robustness, huge_pipeline_never_read, .init = up, .fini = down, .timeout = 90) {
    redisContext *c = skv_connect(&srv);
    char *big = malloc(BIG_VALUE);
    for (int i = 0; i < BIG_VALUE; i++) big[i] = (char)('A' + i % 23);
    expect_status(skv_cmd(c, "SET bigkey %b", big, (size_t)BIG_VALUE), "OK");
    long rss0 = rss_kb(srv.pid);

    const char one[] = "*2\r\n$3\r\nGET\r\n$6\r\nbigkey\r\n";
    size_t ol = sizeof one - 1, chunk = ol * 40000; /* 1 MB of GETs */
    char *buf = malloc(chunk);
    for (size_t i = 0; i < chunk; i += ol) memcpy(buf + i, one, ol);

    int bad = raw_connect(srv.port);
    fcntl(bad, F_SETFL, fcntl(bad, F_GETFL) | O_NONBLOCK);
    long long sent = 0, t0 = mono_ms(), last_progress = t0, next_ping = t0 + 300;
    long long worst_ping = 0;
    long max_rss = rss0;
    int server_closed = 0, stalled = 0;
    size_t off = 0;
    while (sent < FLOOD_MAX && mono_ms() - t0 < 20000) {
        ssize_t n = send(bad, buf + off, chunk - off, MSG_NOSIGNAL);
        long long now = mono_ms();
        if (n > 0) {
            sent += n;
            off = (off + (size_t)n) % chunk;
            last_progress = now;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (now - last_progress > 1500) { stalled = 1; break; }
            struct pollfd p = {.fd = bad, .events = POLLOUT};
            poll(&p, 1, 50);
        } else {
            server_closed = 1; /* EPIPE/ECONNRESET: the server dropped it */
            break;
        }
        if (now >= next_ping) {
            long long dt = timed_ping(c);
            if (dt > worst_ping) worst_ping = dt;
            long r = rss_kb(srv.pid);
            if (r > max_rss) max_rss = r;
            next_ping = mono_ms() + 300;
        }
    }
    cr_log_info("flood: %lld bytes (%lld GETs) sent in %lld ms, stalled=%d server_closed=%d", sent,
                sent / (long long)ol, mono_ms() - t0, stalled, server_closed);
    cr_assert(skv_alive(&srv), "server died during the flood");

    /* While the bad client is stalled (or was dropped), others are served. */
    for (int i = 0; i < 10; i++) {
        long long dt = timed_ping(c);
        if (dt > worst_ping) worst_ping = dt;
        long r = rss_kb(srv.pid);
        if (r > max_rss) max_rss = r;
        usleep(100000);
    }
    redisContext *c2 = skv_connect(&srv);
    long long tset = mono_ms();
    expect_status(skv_cmd(c2, "SET during flood"), "OK");
    expect_bulk(skv_cmd(c2, "GET during"), "flood");
    redisReply *g = skv_cmd(c2, "STRLEN bigkey");
    expect_int(g, BIG_VALUE);
    long long dt_set = mono_ms() - tset;
    cr_log_info("worst PING latency %lld ms, SET/GET/STRLEN on a new client %lld ms", worst_ping, dt_set);
    cr_log_info("server VmRSS: %ld kB before, max %ld kB during the flood", rss0, max_rss);
    fprintf(stderr, "huge pipeline: sent %lld bytes, stalled=%d closed_by_server=%d, worst PING %lld ms, "
                    "RSS before %ld kB, max %ld kB\n",
            sent, stalled, server_closed, worst_ping, rss0, max_rss);
    cr_expect_lt(worst_ping, 3000, "PING took %lld ms while a client flooded", worst_ping);
    cr_expect_lt(dt_set, 3000);
    cr_expect(max_rss > 0 && max_rss < 1024L * 1024, "server VmRSS %ld kB >= 1 GB", max_rss);

    /* Closing the bad client afterwards is fine, and the server lets it go. */
    close(bad);
    expect_status(skv_cmd(c, "PING"), "PONG");
    long n = wait_clients(c, 2, 5000);
    cr_expect_eq(n, 2, "connected_clients %ld 5 s after the flooding client closed (want 2)", n);
    usleep(300000);
    long rss_after = rss_kb(srv.pid);
    cr_log_info("server VmRSS %ld kB after the flooding client closed", rss_after);
    fprintf(stderr, "huge pipeline: RSS after close %ld kB\n", rss_after);
    expect_status(skv_cmd(c2, "PING"), "PONG");
    redisFree(c2);
    redisFree(c);
    free(buf);
    free(big);
}

/* ---- clients that vanish ----------------------------------------------------------- */

Test(robustness, disconnect_mid_request, .init = up, .fini = down) {
    redisContext *c = skv_connect(&srv);
    /* half a bulk */
    const char half[] = "*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabcdefghij";
    int fd = raw_connect(srv.port);
    cr_assert(send(fd, half, sizeof half - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof half - 1));
    usleep(50000);
    close(fd);
    /* half of a big bulk, then an abortive close (RST) */
    size_t blen = 4 << 20;
    char *b = malloc(blen);
    int hl = sprintf(b, "*3\r\n$3\r\nSET\r\n$4\r\nhal2\r\n$%d\r\n", 10 << 20);
    memset(b + hl, 'z', blen - (size_t)hl);
    fd = raw_connect(srv.port);
    size_t off = 0;
    while (off < blen) {
        ssize_t n = send(fd, b + off, blen - off, MSG_NOSIGNAL);
        cr_assert(n > 0, "send: %s", strerror(errno));
        off += (size_t)n;
    }
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    free(b);
    /* cut inside a length line and inside an inline command */
    const char *cuts[] = {"*3\r\n$3\r\nSET\r\n$1", "*2\r\n$3\r\nGET\r", "SET hal3 \"unfinished", "*"};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        fd = raw_connect(srv.port);
        cr_assert(send(fd, cuts[i], strlen(cuts[i]), MSG_NOSIGNAL) > 0);
        usleep(20000);
        close(fd);
    }
    usleep(100000);
    cr_assert(skv_alive(&srv));
    expect_status(skv_cmd(c, "PING"), "PONG");
    expect_nil(skv_cmd(c, "GET half"));
    expect_nil(skv_cmd(c, "GET hal2"));
    expect_nil(skv_cmd(c, "GET hal3"));
    expect_int(skv_cmd(c, "DBSIZE"), 0);
    long n = wait_clients(c, 1, 3000);
    cr_expect_eq(n, 1, "connected_clients %ld after the half requests' clients left", n);
    redisContext *c2 = skv_connect(&srv);
    expect_status(skv_cmd(c2, "SET %s %s", "after", "ok"), "OK");
    expect_bulk(skv_cmd(c, "GET after"), "ok");
    redisFree(c2);
    redisFree(c);
}

/* A pipeline of SETs, the client gone before reading a reply. The server
 * applies commands in order, so what landed is a prefix of the pipeline. */
Test(robustness, client_vanishes_during_pipeline, .init = up, .fini = down, .timeout = 60) {
    redisContext *c = skv_connect(&srv);
    enum { ROUNDS = 12, CMDS = 5000 };
    char *buf = malloc((size_t)CMDS * 64);
    for (int round = 0; round < ROUNDS; round++) {
        size_t len = 0;
        for (int i = 0; i < CMDS; i++) {
            char k[32], v[32];
            int kl = snprintf(k, sizeof k, "vp:%02d:%05d", round, i);
            int vl = snprintf(v, sizeof v, "%d", i);
            len += (size_t)sprintf(buf + len, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", kl, k, vl, v);
        }
        int fd = raw_connect(srv.port);
        /* send part or all of it, then vanish (half the rounds with a RST) */
        size_t upto = round % 3 == 0 ? len : len / (size_t)(2 + round % 3);
        size_t off = 0;
        while (off < upto) {
            ssize_t n = send(fd, buf + off, upto - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += (size_t)n;
        }
        if (round % 2) {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fd);
        expect_status(skv_cmd(c, "PING"), "PONG");
    }
    free(buf);
    /* a vanished client is closed once the server has read (and run) all
     * it sent: wait for that rather than a fixed time before counting */
    long n0 = wait_clients(c, 1, SKV_WAIT_MS);
    cr_expect_eq(n0, 1, "connected_clients %ld %d ms after the pipelining clients vanished", n0, SKV_WAIT_MS);
    cr_assert(skv_alive(&srv));
    /* prefix property per round, and DBSIZE agrees with what is there */
    long long present_total = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int present = 0, holes = 0, seen_missing = 0;
        for (int base = 0; base < CMDS; base += 500) {
            redisReply *r;
            for (int i = base; i < base + 500; i++) redisAppendCommand(c, "GET vp:%02d:%05d", round, i);
            for (int i = base; i < base + 500; i++) {
                cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
                if (r->type == REDIS_REPLY_STRING) {
                    char v[32];
                    snprintf(v, sizeof v, "%d", i);
                    cr_expect_str_eq(r->str, v, "vp:%02d:%05d has '%s'", round, i, r->str);
                    present++;
                    if (seen_missing) holes++;
                } else {
                    cr_expect_eq(r->type, REDIS_REPLY_NIL);
                    seen_missing = 1;
                }
                freeReplyObject(r);
            }
        }
        cr_expect_eq(holes, 0, "round %d: %d keys present after a missing one (not a prefix)", round, holes);
        present_total += present;
    }
    cr_log_info("vanishing pipelines: %lld of %d SETs applied", present_total, ROUNDS * CMDS);
    expect_int(skv_cmd(c, "DBSIZE"), present_total);
    long n = wait_clients(c, 1, 5000);
    cr_expect_eq(n, 1, "connected_clients %ld after the pipelining clients vanished", n);
    redisFree(c);
}

/* ---- idle timeout -------------------------------------------------------------------- */

static void up_timeout(void) {
    const char *extra[] = {"--timeout", "1", NULL};
    skv_start(&srv, extra);
}

Test(robustness, idle_client_disconnected, .init = up_timeout, .fini = down, .timeout = 30) {
    int idle = raw_connect(srv.port);
    size_t got = 0;
    int closed = 0;
    char *r = raw_roundtrip(idle, "PING\r\n", 6, 100, &got, &closed);
    cr_assert_str_eq(r, "+PONG\r\n");
    free(r);
    long long t0 = mono_ms();
    /* a busy client on the side, talking every 300 ms, must not be dropped */
    redisContext *busy = skv_connect(&srv);
    long long waited = 0;
    closed = 0;
    while (!closed && (waited = mono_ms() - t0) < 8000) {
        r = raw_roundtrip(idle, "", 0, 300, &got, &closed);
        cr_expect_eq(got, 0, "idle client received '%s'", r);
        free(r);
        redisReply *pr = redisCommand(busy, "PING");
        cr_assert(pr != NULL, "busy client was disconnected after %lld ms: %s", mono_ms() - t0, busy->errstr);
        freeReplyObject(pr);
    }
    cr_log_info("idle client closed after %lld ms (closed=%d)", waited, closed);
    cr_expect(closed, "idle client still connected after %lld ms with --timeout 1", waited);
    cr_expect_geq(waited, 900, "idle client closed after only %lld ms with --timeout 1", waited);
    cr_expect_leq(waited, 5000, "idle client closed only after %lld ms", waited);
    close(idle);
    /* keep the busy one going past the idle one's deadline */
    for (int i = 0; i < 8; i++) {
        usleep(300000);
        redisReply *pr = redisCommand(busy, "PING");
        cr_assert(pr != NULL, "busy client was disconnected: %s", busy->errstr);
        freeReplyObject(pr);
    }
    redisFree(busy);
}
