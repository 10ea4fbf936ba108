/* End-to-end tests of pub/sub (core/pubsub.c, redis/cmd_pubsub.c) against
 * a real stagekv-server: SUBSCRIBE/PUBLISH/UNSUBSCRIBE counts, patterns,
 * PUBSUB introspection, RESP3 pushes (raw socket: hiredis 0.14 has no push
 * type), the RESP2 subscribed-mode rules, a subscriber that never reads
 * (closed by the pubsub output limit while everyone else goes on), MONITOR
 * and keyspace notifications. */
#include "harness.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

SKV_FIXTURE();

TestSuite(pubsub, .init = up, .fini = down);

/* The next reply on a subscriber's connection (asserted to come). */
static redisReply *next_reply(redisContext *s) {
    void *r = NULL;
    cr_assert(redisGetReply(s, &r) == REDIS_OK && r, "no message: %s", s->errstr);
    return r;
}

/* A message or confirmation: an array of bulks (and a final integer when
 * count >= 0); kind, a, b are the bulks (b NULL: 3 elements). */
#define expect_push(s, kind, a, b, count) expect_push_at(SKV_AT, (s), (kind), (a), (b), (count))
static void expect_push_at(const char *file, int line, redisContext *s, const char *kind, const char *a,
                           const char *b, long long count) {
    redisReply *r = next_reply(s);
    size_t n = count >= 0 ? 3 : (b ? 4 : 3);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s:%d: type %d (%s)", file, line, r->type, rstr(r));
    cr_assert_eq(r->elements, n, "%s:%d: %zu elements", file, line, r->elements);
    cr_expect_str_eq(r->element[0]->str, kind, "%s:%d: kind", file, line);
    if (a) cr_expect_str_eq(rstr(r->element[1]), a, "%s:%d: name", file, line);
    else cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL, "%s:%d: a nil name", file, line);
    if (count >= 0) {
        cr_expect_eq(r->element[2]->type, REDIS_REPLY_INTEGER, "%s:%d: count type", file, line);
        cr_expect_eq(r->element[2]->integer, count, "%s:%d: count %lld", file, line, r->element[2]->integer);
    } else {
        cr_expect_str_eq(rstr(r->element[2]), b ? b : "", "%s:%d: 3rd", file, line);
    }
    freeReplyObject(r);
}
#define expect_message(s, ch, msg) expect_message_at(SKV_AT, (s), (ch), (msg))
static void expect_message_at(const char *file, int line, redisContext *s, const char *ch, const char *msg) {
    redisReply *r = next_reply(s);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "%s:%d: not a message (type %d)", file, line, r->type);
    cr_expect_str_eq(r->element[0]->str, "message", "%s:%d", file, line);
    cr_expect_str_eq(r->element[1]->str, ch, "%s:%d", file, line);
    cr_expect_str_eq(r->element[2]->str, msg, "%s:%d", file, line);
    freeReplyObject(r);
}
#define expect_pmessage(s, pat, ch, msg) expect_pmessage_at(SKV_AT, (s), (pat), (ch), (msg))
static void expect_pmessage_at(const char *file, int line, redisContext *s, const char *pat, const char *ch,
                               const char *msg) {
    redisReply *r = next_reply(s);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "%s:%d: not a pmessage (type %d, %zu)", file, line,
              r->type, r->elements);
    cr_expect_str_eq(r->element[0]->str, "pmessage", "%s:%d", file, line);
    cr_expect_str_eq(r->element[1]->str, pat, "%s:%d", file, line);
    cr_expect_str_eq(r->element[2]->str, ch, "%s:%d", file, line);
    cr_expect_str_eq(r->element[3]->str, msg, "%s:%d", file, line);
    freeReplyObject(r);
}

static void send_cmd(redisContext *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cr_assert(redisvAppendCommand(s, fmt, ap) == REDIS_OK);
    va_end(ap);
}

Test(pubsub, subscribe_publish_unsubscribe_counts) {
    redisContext *s = skv_connect(&srv);
    send_cmd(s, "SUBSCRIBE chan1 chan2 chan1");
    expect_push(s, "subscribe", "chan1", NULL, 1);
    expect_push(s, "subscribe", "chan2", NULL, 2);
    expect_push(s, "subscribe", "chan1", NULL, 2); /* already subscribed: the count stays */
    expect_int(CMD("PUBLISH chan1 hello"), 1);
    expect_int(CMD("PUBLISH chan2 world"), 1);
    expect_int(CMD("PUBLISH nobody x"), 0);
    expect_message(s, "chan1", "hello");
    expect_message(s, "chan2", "world");
    /* binary-safe payloads */
    expect_int(CMD("PUBLISH chan1 %b", "a\0\r\nb", (size_t)5), 1);
    redisReply *m = next_reply(s);
    cr_assert_eq(m->elements, 3);
    cr_expect(m->element[2]->len == 5 && memcmp(m->element[2]->str, "a\0\r\nb", 5) == 0);
    freeReplyObject(m);
    send_cmd(s, "UNSUBSCRIBE chan1 never");
    expect_push(s, "unsubscribe", "chan1", NULL, 1);
    expect_push(s, "unsubscribe", "never", NULL, 1);
    expect_int(CMD("PUBLISH chan1 hello"), 0);
    expect_int(CMD("PUBLISH chan2 again"), 1);
    expect_message(s, "chan2", "again");
    send_cmd(s, "UNSUBSCRIBE");
    expect_push(s, "unsubscribe", "chan2", NULL, 0);
    expect_int(CMD("PUBLISH chan2 x"), 0);
    /* out of subscribed mode: any command again */
    send_cmd(s, "SET k v");
    expect_ok(next_reply(s));
    /* with nothing subscribed, a bare (P)UNSUBSCRIBE still answers once */
    send_cmd(s, "UNSUBSCRIBE");
    expect_push(s, "unsubscribe", NULL, NULL, 0);
    send_cmd(s, "PUNSUBSCRIBE");
    expect_push(s, "punsubscribe", NULL, NULL, 0);
    redisFree(s);
}

Test(pubsub, two_subscribers_and_patterns) {
    redisContext *a = skv_connect(&srv), *b = skv_connect(&srv);
    send_cmd(a, "SUBSCRIBE news.art");
    expect_push(a, "subscribe", "news.art", NULL, 1);
    send_cmd(a, "PSUBSCRIBE news.* other.[ab]?");
    expect_push(a, "psubscribe", "news.*", NULL, 2);
    expect_push(a, "psubscribe", "other.[ab]?", NULL, 3);
    send_cmd(b, "PSUBSCRIBE news.*");
    expect_push(b, "psubscribe", "news.*", NULL, 1);
    /* a gets it twice (channel and pattern), b once: three receivers */
    expect_int(CMD("PUBLISH news.art hello"), 3);
    expect_message(a, "news.art", "hello");
    expect_pmessage(a, "news.*", "news.art", "hello");
    expect_pmessage(b, "news.*", "news.art", "hello");
    expect_int(CMD("PUBLISH other.bz x"), 1);
    expect_int(CMD("PUBLISH other.cz x"), 0);
    expect_int(CMD("PUBLISH newsXart x"), 0);
    expect_pmessage(a, "other.[ab]?", "other.bz", "x");
    send_cmd(a, "PUNSUBSCRIBE news.*");
    expect_push(a, "punsubscribe", "news.*", NULL, 2);
    expect_int(CMD("PUBLISH news.sport y"), 1);
    expect_pmessage(b, "news.*", "news.sport", "y");
    send_cmd(a, "PUNSUBSCRIBE");
    expect_push(a, "punsubscribe", "other.[ab]?", NULL, 1);
    send_cmd(a, "UNSUBSCRIBE");
    expect_push(a, "unsubscribe", "news.art", NULL, 0);
    redisFree(a);
    redisFree(b);
}

/* PUBSUB CHANNELS as a sorted, comma-joined string. */
static void channels(const char *pattern, char *out, size_t cap) {
    redisReply *r = pattern ? ARRAY("PUBSUB CHANNELS %s", pattern) : ARRAY("PUBSUB CHANNELS");
    const char *names[16];
    size_t n = r->elements < 16 ? r->elements : 16;
    for (size_t i = 0; i < n; i++) names[i] = r->element[i]->str;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        strncat(out, names[i], cap - strlen(out) - 2);
        if (i + 1 < n) strcat(out, ",");
    }
    freeReplyObject(r);
}

Test(pubsub, introspection) {
    char list[256];
    channels(NULL, list, sizeof list);
    cr_expect_str_eq(list, "");
    expect_int(CMD("PUBSUB NUMPAT"), 0);
    redisContext *a = skv_connect(&srv), *b = skv_connect(&srv);
    send_cmd(a, "SUBSCRIBE x1 x2 y1");
    for (int i = 0; i < 3; i++) freeReplyObject(next_reply(a));
    send_cmd(b, "SUBSCRIBE x1");
    freeReplyObject(next_reply(b));
    send_cmd(a, "PSUBSCRIBE p* q*");
    send_cmd(b, "PSUBSCRIBE p*");
    for (int i = 0; i < 2; i++) freeReplyObject(next_reply(a));
    freeReplyObject(next_reply(b));
    channels(NULL, list, sizeof list);
    cr_expect_str_eq(list, "x1,x2,y1");
    channels("x*", list, sizeof list);
    cr_expect_str_eq(list, "x1,x2");
    redisReply *r = ARRAY("PUBSUB NUMSUB x1 x2 none");
    cr_assert_eq(r->elements, 6);
    cr_expect_str_eq(r->element[0]->str, "x1");
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_INTEGER); /* numbers, not strings (Redis #1561) */
    cr_expect_eq(r->element[1]->integer, 2);
    cr_expect_eq(r->element[3]->integer, 1);
    cr_expect_eq(r->element[5]->integer, 0);
    freeReplyObject(r);
    expect_len(CMD("PUBSUB NUMSUB"), 0);
    expect_int(CMD("PUBSUB NUMPAT"), 2); /* distinct patterns */
    expect_error(CMD("PUBSUB NOPE"), "ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.");
    expect_error(CMD("PUBSUB NUMPAT extra"), "ERR wrong number of arguments for 'pubsub|numpat' command");
    /* CLIENT LIST shows the counts and the P flag; TYPE pubsub selects them */
    char *list_all = take_bulk(CMD("CLIENT LIST TYPE pubsub"));
    cr_expect(strstr(list_all, "flags=P db=0 sub=3 psub=2 "), "%s", list_all);
    cr_expect(strstr(list_all, "flags=P db=0 sub=1 psub=1 "), "%s", list_all);
    size_t lines = 0;
    for (const char *p = list_all; (p = strchr(p, '\n')); p++) lines++;
    cr_expect_eq(lines, 2, "%s", list_all);
    free(list_all);
    /* a closed subscriber leaves everything */
    redisFree(a);
    cr_expect(skv_wait_int(c, 1, SKV_WAIT_MS, "PUBSUB NUMPAT"), "a's patterns still counted");
    channels(NULL, list, sizeof list);
    cr_expect_str_eq(list, "x1");
    /* CLIENT KILL TYPE pubsub closes the subscribers only */
    expect_int(CMD("CLIENT KILL TYPE pubsub"), 1);
    cr_expect(skv_wait_int(c, 0, SKV_WAIT_MS, "PUBSUB NUMPAT"));
    redisFree(b);
}

/* Reads from fd until want's length arrived (or timeout) and compares. */
#define expect_bytes(fd, want) expect_bytes_at(SKV_AT, (fd), (want))
static void expect_bytes_at(const char *file, int line, int fd, const char *want) {
    size_t wl = strlen(want), got = 0;
    char buf[4096];
    long long end = mono_ms() + SKV_WAIT_MS;
    while (got < wl && got < sizeof buf - 1 && mono_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    buf[got] = 0;
    cr_expect_str_eq(buf, want, "%s:%d: raw bytes", file, line);
}

static void send_raw(int fd, const char *s) { cr_assert_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s)); }

/* Skips the HELLO 3 reply (a map): reads until its last field (modules). */
static void skip_hello(int fd) {
    char buf[1024];
    size_t got = 0;
    long long end = mono_ms() + SKV_WAIT_MS;
    while (mono_ms() < end && got < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        buf[got] = 0;
        if (strstr(buf, "modules\r\n*0\r\n")) return;
    }
    cr_assert_fail("no HELLO 3 reply: %s", buf);
}

Test(pubsub, resp3_pushes) {
    int fd = raw_connect(srv.port);
    send_raw(fd, "HELLO 3\r\n");
    skip_hello(fd);
    send_raw(fd, "SUBSCRIBE ch\r\n");
    expect_bytes(fd, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    send_raw(fd, "PSUBSCRIBE c*\r\n");
    expect_bytes(fd, ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
    expect_int(CMD("PUBLISH ch hi"), 2);
    expect_bytes(fd, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
                     ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    /* RESP3: no subscribed-mode restriction, replies and pushes interleave */
    send_raw(fd, "SET k v\r\nGET k\r\nPING\r\n");
    expect_bytes(fd, "+OK\r\n$1\r\nv\r\n+PONG\r\n");
    send_raw(fd, "UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\n");
    expect_bytes(fd, ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n"
                     ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
    /* CLIENT REPLY OFF drops replies, never pushes (as Redis 7) */
    send_raw(fd, "CLIENT REPLY OFF\r\nSUBSCRIBE z\r\nGET k\r\n");
    expect_bytes(fd, ">3\r\n$9\r\nsubscribe\r\n$1\r\nz\r\n:1\r\n");
    expect_int(CMD("PUBLISH z m"), 1);
    expect_bytes(fd, ">3\r\n$7\r\nmessage\r\n$1\r\nz\r\n$1\r\nm\r\n");
    close(fd);
}

Test(pubsub, resp2_subscribed_mode) {
    int fd = raw_connect(srv.port);
    send_raw(fd, "SUBSCRIBE x\r\n");
    expect_bytes(fd, "*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n");
    send_raw(fd, "GET a\r\n");
    expect_bytes(fd, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                     "allowed in this context\r\n");
    send_raw(fd, "CLIENT LIST\r\n");
    expect_bytes(fd, "-ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                     "RESET are allowed in this context\r\n");
    /* PING answers like a message in this mode */
    send_raw(fd, "PING\r\nPING hi\r\n");
    expect_bytes(fd, "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    /* RESET leaves subscribed mode (and the channel) */
    send_raw(fd, "RESET\r\n");
    expect_bytes(fd, "+RESET\r\n");
    redisReply *r = ARRAY("PUBSUB NUMSUB x");
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[1]->integer, 0, "RESET kept the subscription");
    freeReplyObject(r);
    send_raw(fd, "SET a 1\r\nGET a\r\nPING\r\n");
    expect_bytes(fd, "+OK\r\n$1\r\n1\r\n+PONG\r\n");
    /* QUIT is allowed while subscribed */
    send_raw(fd, "PSUBSCRIBE p*\r\nQUIT\r\n");
    expect_bytes(fd, "*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n+OK\r\n");
    close(fd);
}

/* A subscriber that never reads: its unsent messages pass the pubsub hard
 * limit and it is closed, while the publisher and other clients are
 * served all along and a reading subscriber gets every message. */
Test(pubsub, slow_subscriber_is_disconnected) {
    expect_ok(CMD("CONFIG SET client-output-buffer-limit %s", "pubsub 1mb 512kb 60"));
    redisReply *g = ARRAY("CONFIG GET client-output-buffer-limit");
    cr_expect(strstr(g->element[1]->str, "pubsub 1048576 524288 60"), "%s", g->element[1]->str);
    freeReplyObject(g);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small); /* a small window: the server's buffer fills */
    close(fd);
    fd = raw_connect(srv.port);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    send_raw(fd, "SUBSCRIBE firehose\r\n");
    expect_bytes(fd, "*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n");
    redisContext *reader = skv_connect(&srv);
    send_cmd(reader, "SUBSCRIBE firehose");
    freeReplyObject(next_reply(reader));
    static char payload[64 * 1024];
    memset(payload, 'x', sizeof payload);
    /* 64 MB in all: far more than the socket buffers and the limit hold */
    int sent = 0, closed_at = -1;
    long long t0 = mono_ms();
    for (int i = 0; i < 1024; i++, sent++) {
        redisReply *r = CMD("PUBLISH firehose %b", payload, sizeof payload);
        cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "PUBLISH: %s", rstr(r));
        if (r->integer == 1 && closed_at < 0) closed_at = i;
        freeReplyObject(r);
        redisReply *m = next_reply(reader);
        cr_assert(m->type == REDIS_REPLY_ARRAY && m->elements == 3 && m->element[2]->len == sizeof payload,
                  "the reading subscriber lost message %d", i);
        freeReplyObject(m);
        if (closed_at >= 0 && i > closed_at + 4) break;
    }
    cr_expect(closed_at > 0, "the subscriber that never reads was never disconnected");
    /* the server did not wait for it: 1 MB of limit is ~16 messages past the socket buffers */
    cr_expect(closed_at < 1000, "closed only after %d messages", closed_at);
    cr_log_info("non-reading subscriber closed after %d messages of 64 KB, %lld ms", closed_at, mono_ms() - t0);
    expect_status(CMD("PING"), "PONG");
    redisReply *r = ARRAY("PUBSUB NUMSUB firehose");
    cr_expect_eq(r->element[1]->integer, 1, "the closed subscriber is still subscribed");
    freeReplyObject(r);
    /* the server dropped the connection (its socket still holds what the
     * kernel had accepted; draining that through a 4 KB window is slow) */
    cr_expect_eq(info_field(c, "clients", "connected_clients"), 2, "the slow subscriber's connection is still open");
    close(fd);
    redisFree(reader);
    (void)sent;
}

/* MONITOR: Redis's line format (arguments as the client sent them, quoted
 * and escaped), AUTH and HELLO passwords redacted, admin commands not
 * shown, MULTI/EXEC in execution order. */
Test(pubsub, monitor) {
    redisContext *m = skv_connect(&srv);
    send_cmd(m, "MONITOR");
    expect_ok(next_reply(m));
    expect_ok(CMD("SET %s %s", "k", "a\"b\n"));
    expect_error(CMD("AUTH secret"), "ERR AUTH");
    freeReplyObject(CMD("HELLO 2 AUTH default pw"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("GET k"), "QUEUED");
    freeReplyObject(CMD("EXEC"));
    freeReplyObject(CMD("CONFIG GET port")); /* admin: not shown */
    expect_int(CMD("PUBLISH ch %s", "x y"), 0);
    const char *want[] = {"\"SET\" \"k\" \"a\\\"b\\n\"", "\"AUTH\" \"(redacted)\"",
                          "\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"", "\"MULTI\"", "\"GET\" \"k\"",
                          "\"EXEC\"", "\"PUBLISH\" \"ch\" \"x y\""};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        redisReply *r = next_reply(m);
        cr_assert_eq(r->type, REDIS_REPLY_STATUS, "line %zu: type %d", i, r->type);
        long sec, usec;
        int db, port, off = 0;
        char ip[64];
        cr_expect(sscanf(r->str, "%ld.%6ld [%d %63[0-9.]:%d] %n", &sec, &usec, &db, ip, &port, &off) == 5 && off > 0,
                  "line %zu: %s", i, r->str);
        cr_expect_eq(db, 0);
        cr_expect_str_eq(ip, "127.0.0.1");
        cr_expect(strcmp(r->str + off, want[i]) == 0, "line %zu: '%s', want '%s'", i, r->str + off, want[i]);
        freeReplyObject(r);
    }
    /* MONITOR is refused inside MULTI */
    expect_ok(CMD("MULTI"));
    expect_error(CMD("MONITOR"), "ERR Command not allowed inside a transaction");
    freeReplyObject(CMD("DISCARD"));
    redisFree(m);
}

/* The next keyspace message on s: "channel|payload". */
static void expect_event(redisContext *s, const char *channel, const char *payload) {
    expect_pmessage(s, "__key*__:*", channel, payload);
}

Test(pubsub, keyspace_notifications) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KEA"));
    expect_strs(CMD("CONFIG GET notify-keyspace-events"), 2, "notify-keyspace-events", "AKE");
    expect_ok(CMD("CONFIG SET notify-keyspace-events gKE$x"));
    expect_strs(CMD("CONFIG GET notify-keyspace-events"), 2, "notify-keyspace-events", "g$xKE");
    expect_error(CMD("CONFIG SET notify-keyspace-events KEQ"), "ERR");
    redisContext *s = skv_connect(&srv);
    send_cmd(s, "PSUBSCRIBE __key*__:*");
    freeReplyObject(next_reply(s));
    expect_ok(CMD("SET foo bar"));
    expect_event(s, "__keyspace@0__:foo", "set");
    expect_event(s, "__keyevent@0__:set", "foo");
    expect_int(CMD("EXPIRE foo 100"), 1);
    expect_event(s, "__keyspace@0__:foo", "expire");
    expect_event(s, "__keyevent@0__:expire", "foo");
    /* a failed command publishes nothing: the next event is the DEL's */
    expect_error(CMD("INCR foo"), "ERR value is not an integer");
    expect_int(CMD("DEL foo nosuchkey"), 1);
    expect_event(s, "__keyspace@0__:foo", "del");
    expect_event(s, "__keyevent@0__:del", "foo");
    /* inside EXEC: the failed command's events are dropped, the others kept */
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET n 1"), "QUEUED");
    expect_status(CMD("INCRBYFLOAT n notanumber"), "QUEUED");
    expect_status(CMD("INCRBY n 5"), "QUEUED");
    freeReplyObject(CMD("EXEC"));
    expect_event(s, "__keyspace@0__:n", "set");
    expect_event(s, "__keyevent@0__:set", "n");
    expect_event(s, "__keyspace@0__:n", "incrby");
    expect_event(s, "__keyevent@0__:incrby", "n");
    /* another database, and only keyevents of expired keys */
    expect_ok(CMD("CONFIG SET notify-keyspace-events Ex"));
    expect_ok(CMD("SELECT 3"));
    expect_ok(CMD("PSETEX shortlived 50 v"));
    expect_event(s, "__keyevent@3__:expired", "shortlived");
    expect_ok(CMD("CONFIG SET notify-keyspace-events En"));
    expect_ok(CMD("SET fresh 1"));
    expect_ok(CMD("SET fresh 2")); /* not new any more */
    expect_ok(CMD("SET fresh2 1"));
    expect_event(s, "__keyevent@3__:new", "fresh");
    expect_event(s, "__keyevent@3__:new", "fresh2");
    /* off again: nothing */
    expect_ok(CMD("CONFIG SET notify-keyspace-events %s", ""));
    expect_ok(CMD("SET quiet 1"));
    expect_int(CMD("PUBLISH __keyevent@3__:marker end"), 1);
    expect_pmessage(s, "__key*__:*", "__keyevent@3__:marker", "end");
    redisFree(s);
}

/* `timeout` closes idle clients, never subscribers (as Redis). */
Test(pubsub, idle_timeout_spares_subscribers) {
    expect_ok(CMD("CONFIG SET timeout 1"));
    redisContext *idle = skv_connect(&srv), *s = skv_connect(&srv);
    freeReplyObject(skv_cmd(idle, "PING"));
    send_cmd(s, "SUBSCRIBE quiet");
    freeReplyObject(next_reply(s));
    long long end = mono_ms() + SKV_WAIT_MS;
    while (info_field(c, "clients", "connected_clients") > 2 && mono_ms() < end) msleep(100);
    cr_expect_eq(info_field(c, "clients", "connected_clients"), 2, "the idle plain client was not closed");
    expect_int(CMD("PUBLISH quiet still-here"), 1);
    expect_message(s, "quiet", "still-here");
    redisFree(idle);
    redisFree(s);
}

/* ACL channel permissions (&pattern) apply to SUBSCRIBE, PSUBSCRIBE and
 * PUBLISH; a refused command changes nothing. */
Test(pubsub, acl_channels) {
    expect_ok(CMD("ACL SETUSER feed on >pw +@all ~* resetchannels &news.*"));
    redisContext *u = skv_connect(&srv);
    expect_ok(skv_cmd(u, "AUTH feed pw"));
    expect_error_eq(skv_cmd(u, "PUBLISH other x"),
                    "NOPERM this user has no permissions to access one of the channels used as arguments");
    expect_int(skv_cmd(u, "PUBLISH news.a x"), 0);
    expect_error(skv_cmd(u, "SUBSCRIBE news.a secret"), "NOPERM");
    expect_error(skv_cmd(u, "PSUBSCRIBE news.a*"), "NOPERM"); /* a pattern must be one of the user's own */
    redisReply *r = ARRAY("PUBSUB NUMSUB news.a");
    cr_expect_eq(r->element[1]->integer, 0, "a refused SUBSCRIBE subscribed");
    freeReplyObject(r);
    send_cmd(u, "PSUBSCRIBE news.*");
    expect_push(u, "psubscribe", "news.*", NULL, 1);
    expect_int(CMD("PUBLISH news.b hi"), 1);
    expect_pmessage(u, "news.*", "news.b", "hi");
    redisFree(u);
}
