/* End-to-end: keyspace notifications of the collection commands (hash,
 * list, set, sorted set) and of the generic commands on collections, with
 * Redis 7.0's event names, classes and order (docs/pubsub.md). A subscriber
 * on __keyspace@*__:* reads each event as "db key event"; every sequence
 * ends with a marker PUBLISHed after the commands, so an event too many (or
 * one of a command that changed nothing) fails the test as surely as a
 * missing one. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

SKV_FIXTURE();
TestSuite(keyevents, .init = up, .fini = down);

/* A subscriber on pattern pat; replies wait at most 5 s (a missing event
 * fails the test instead of hanging it). */
static redisContext *subscriber(const char *pat) {
    redisContext *s = skv_connect(&srv);
    cr_assert_eq(redisSetTimeout(s, (struct timeval){.tv_sec = 5}), REDIS_OK);
    redisReply *r = redisCommand(s, "PSUBSCRIBE %s", pat);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY, "PSUBSCRIBE failed");
    freeReplyObject(r);
    return s;
}

/* Reads the next pmessage as "db key event" (keyspace channel) or
 * "db event key" (keyevent channel). */
static void next_event(redisContext *s, char *out, size_t cap) {
    void *v = NULL;
    cr_assert(redisGetReply(s, &v) == REDIS_OK && v, "no event: %s", s->errstr);
    redisReply *r = v;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "not a pmessage");
    const char *ch = r->element[2]->str;
    int db = -1, off = 0;
    cr_assert(sscanf(ch, "__key%*[a-z]@%d__:%n", &db, &off) == 1 && off > 0, "channel %s", ch);
    snprintf(out, cap, "%d %s %s", db, ch + off, r->element[3]->str);
    freeReplyObject(r);
}

/* Expects exactly the events given, in order, then the marker (nothing in
 * between). */
#define expect_events(s, ...) expect_events_at(SKV_AT, (s), (const char *const[]){__VA_ARGS__, NULL})
static void expect_events_at(const char *file, int line, redisContext *s, const char *const *want) {
    expect_int(CMD("PUBLISH __keyspace@0__:marker end"), 1);
    char got[512];
    for (size_t i = 0;; i++) {
        next_event(s, got, sizeof got);
        const char *w = want[i] ? want[i] : "0 marker end";
        cr_assert_str_eq(got, w, "%s:%d: event %zu is '%s', want '%s'", file, line, i, got, w);
        if (!want[i]) return;
    }
}

static void wait_blocked(long long n) {
    long long t0 = mono_ms();
    while (info_field(c, "clients", "blocked_clients") != n) {
        cr_assert_lt(mono_ms() - t0, SKV_WAIT_MS, "blocked_clients never reached %lld", n);
        msleep(10);
    }
}

/* Sends a command on x without waiting for its reply. */
static void send_only(redisContext *x, const char *cmd) {
    redisAppendCommand(x, cmd);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(x, &done), REDIS_OK);
}

static void drop_reply(redisContext *x) {
    void *r = NULL;
    cr_assert_eq(redisGetReply(x, &r), REDIS_OK, "no reply: %s", x->errstr);
    freeReplyObject(r);
}

Test(keyevents, list_events) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = subscriber("__keyspace@*__:*");
    expect_int(CMD("RPUSH l a b c"), 3);
    expect_int(CMD("LPUSH l z"), 4);
    expect_int(CMD("LPUSHX nolist x"), 0); /* nothing pushed: no event */
    expect_int(CMD("RPUSHX l d"), 5);
    expect_int(CMD("LINSERT l BEFORE a y"), 6);
    expect_int(CMD("LINSERT l BEFORE nosuch y"), -1);
    expect_ok(CMD("LSET l 0 q"));
    expect_int(CMD("LREM l 0 y"), 1);
    expect_int(CMD("LREM l 0 nosuch"), 0);
    expect_ok(CMD("LTRIM l 0 1")); /* [q a] */
    expect_len(CMD("LPOP l 0"), 0);
    expect_bulk(CMD("RPOPLPUSH l l2"), "a");
    expect_bulk(CMD("LMOVE l l2 LEFT RIGHT"), "q"); /* l emptied: "del" */
    expect_bulk(CMD("RPOP l2"), "q");
    expect_len(CMD("LMPOP 1 l2 LEFT COUNT 5"), 2);
    expect_events(s, "0 l rpush", "0 l lpush", "0 l rpush", "0 l linsert", "0 l lset", "0 l lrem", "0 l ltrim",
                  "0 l2 lpush", "0 l rpop", "0 l2 rpush", "0 l lpop", "0 l del", "0 l2 rpop", "0 l2 lpop",
                  "0 l2 del");
    /* a served blocked pop emits as the command would */
    redisContext *b = skv_connect(&srv);
    send_only(b, "BLPOP bl 0");
    wait_blocked(1);
    expect_int(CMD("RPUSH bl x"), 1);
    drop_reply(b);
    send_only(b, "BLMOVE bsrc bdst RIGHT LEFT 0");
    wait_blocked(1);
    expect_int(CMD("RPUSH bsrc v"), 1);
    drop_reply(b);
    expect_events(s, "0 bl rpush", "0 bl lpop", "0 bl del", "0 bsrc rpush", "0 bdst lpush", "0 bsrc rpop",
                  "0 bsrc del");
    redisFree(b);
    redisFree(s);
}

Test(keyevents, set_events) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = subscriber("__keyspace@*__:*");
    expect_int(CMD("SADD s a b c"), 3);
    expect_int(CMD("SADD s a"), 0);
    expect_int(CMD("SREM s a nosuch"), 1);
    expect_int(CMD("SREM s nosuch"), 0);
    expect_int(CMD("SMOVE s s2 b"), 1);
    expect_int(CMD("SMOVE s s2 nosuch"), 0);
    expect_bulk(CMD("SPOP s"), "c"); /* the last member: "del" */
    expect_int(CMD("SADD s3 x y"), 2);
    expect_int(CMD("SADD s4 y z"), 2);
    expect_int(CMD("SINTERSTORE d s3 s4"), 1);
    expect_int(CMD("SUNIONSTORE d s3 s4"), 3);
    expect_int(CMD("SDIFFSTORE d s3 s3"), 0); /* empty result: d goes */
    expect_int(CMD("SDIFFSTORE d s3 s3"), 0); /* and nothing more when absent */
    expect_int(CMD("SINTERSTORE d s3 nosuch"), 0);
    expect_len(CMD("SPOP s4 0"), 0);
    expect_len(CMD("SPOP s3 5"), 2);
    expect_events(s, "0 s sadd", "0 s srem", "0 s srem", "0 s2 sadd", "0 s spop", "0 s del", "0 s3 sadd",
                  "0 s4 sadd", "0 d sinterstore", "0 d sunionstore", "0 d del", "0 s3 spop", "0 s3 del");
    /* SMOVE emptying its source, onto a member already there */
    expect_int(CMD("SADD m1 x"), 1);
    expect_int(CMD("SADD m2 x"), 1);
    expect_int(CMD("SMOVE m1 m2 x"), 1);
    expect_events(s, "0 m1 sadd", "0 m2 sadd", "0 m1 srem", "0 m1 del");
    redisFree(s);
}

Test(keyevents, zset_events) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = subscriber("__keyspace@*__:*");
    expect_int(CMD("ZADD z 1 a 2 b"), 2);
    expect_int(CMD("ZADD z 1 a"), 0); /* same score: no change, no event */
    expect_bulk(CMD("ZADD z INCR 5 a"), "6");
    expect_bulk(CMD("ZINCRBY z 0 a"), "6"); /* unchanged: no event */
    expect_bulk(CMD("ZINCRBY z 3 c"), "3");
    expect_int(CMD("ZREM z c nosuch"), 1);
    expect_int(CMD("ZREM z nosuch"), 0);
    expect_int(CMD("ZADD z 3 c 4 d 5 e"), 3);
    expect_int(CMD("ZREMRANGEBYSCORE z 3 3"), 1);
    expect_int(CMD("ZREMRANGEBYSCORE z 100 200"), 0);
    expect_int(CMD("ZREMRANGEBYRANK z 0 0"), 1); /* {d 4, e 5, a 6} */
    expect_len(CMD("ZPOPMIN z"), 2);
    expect_len(CMD("ZPOPMIN z 0"), 0);
    expect_len(CMD("ZPOPMAX z 10"), 4);
    expect_int(CMD("ZADD zl 0 a 0 b"), 2);
    expect_int(CMD("ZREMRANGEBYLEX zl [a [a"), 1);
    expect_events(s, "0 z zadd", "0 z zincr", "0 z zincr", "0 z zrem", "0 z zadd", "0 z zremrangebyscore",
                  "0 z zremrangebyrank", "0 z zpopmin", "0 z zpopmax", "0 z del", "0 zl zadd",
                  "0 zl zremrangebylex");
    expect_int(CMD("ZADD za 1 x 2 y"), 2);
    expect_int(CMD("ZADD zb 2 y 3 z"), 2);
    expect_int(CMD("ZUNIONSTORE zd 2 za zb"), 3);
    expect_int(CMD("ZINTERSTORE zd 2 za zb"), 1);
    expect_int(CMD("ZDIFFSTORE zd 2 za za"), 0); /* empty: zd goes */
    expect_int(CMD("ZRANGESTORE zr za 0 -1"), 2);
    expect_int(CMD("ZRANGESTORE zr za 5 10"), 0);
    expect_len(CMD("ZMPOP 1 zb MAX COUNT 1"), 2);
    expect_events(s, "0 za zadd", "0 zb zadd", "0 zd zunionstore", "0 zd zinterstore", "0 zd del",
                  "0 zr zrangestore", "0 zr del", "0 zb zpopmax");
    redisContext *b = skv_connect(&srv);
    send_only(b, "BZPOPMIN bz 0");
    wait_blocked(1);
    expect_int(CMD("ZADD bz 1 m"), 1);
    drop_reply(b);
    expect_events(s, "0 bz zadd", "0 bz zpopmin", "0 bz del");
    redisFree(b);
    redisFree(s);
}

Test(keyevents, hash_events) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = subscriber("__keyspace@*__:*");
    expect_int(CMD("HSET h f 1"), 1);
    expect_ok(CMD("HMSET h g 2"));
    expect_int(CMD("HSETNX h f 9"), 0);
    expect_int(CMD("HSETNX h n 1"), 1);
    expect_int(CMD("HINCRBY h f 2"), 3);
    expect_bulk(CMD("HINCRBYFLOAT h f 1.5"), "4.5");
    expect_int(CMD("HDEL h nosuch"), 0);
    expect_int(CMD("HDEL h f g"), 2);
    expect_int(CMD("HDEL h n"), 1);
    expect_error(CMD("HINCRBY h2 f notanumber"), "ERR");
    expect_events(s, "0 h hset", "0 h hset", "0 h hset", "0 h hincrby", "0 h hincrbyfloat", "0 h hdel", "0 h hdel",
                  "0 h del");
    redisFree(s);
}

/* Generic commands on collections; a failed command (and a failed command
 * in EXEC) emits nothing. */
Test(keyevents, generic_events_on_collections) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events KA"));
    redisContext *s = subscriber("__keyspace@*__:*");
    expect_int(CMD("RPUSH gl a"), 1);
    expect_int(CMD("EXPIRE gl 100"), 1);
    expect_error(CMD("SADD gl x"), "WRONGTYPE");
    expect_int(CMD("COPY gl gl2"), 1);
    expect_int(CMD("COPY gl gl4 DB 2"), 1);
    expect_ok(CMD("RENAME gl2 gl3"));
    expect_int(CMD("MOVE gl3 1"), 1);
    expect_int(CMD("PERSIST gl"), 1);
    expect_int(CMD("DEL gl"), 1);
    expect_ok(CMD("MULTI"));
    expect_status(CMD("HSET mh f v"), "QUEUED");
    expect_status(CMD("LPUSH mh x"), "QUEUED"); /* WRONGTYPE at EXEC */
    expect_status(CMD("HDEL mh f"), "QUEUED");
    freeReplyObject(CMD("EXEC"));
    expect_events(s, "0 gl rpush", "0 gl expire", "0 gl2 copy_to", "2 gl4 copy_to", "0 gl2 rename_from",
                  "0 gl3 rename_to", "0 gl3 move_from", "1 gl3 move_to", "0 gl persist", "0 gl del", "0 mh hset",
                  "0 mh hdel", "0 mh del");
    redisFree(s);
}

/* The classes mask events: Kl is list events only (not even the generic
 * "del"); Ez sends sorted set keyevents only; En the creation of keys. */
Test(keyevents, classes_mask_events) {
    expect_ok(CMD("CONFIG SET notify-keyspace-events Kl"));
    redisContext *s = subscriber("__key*@*__:*");
    expect_int(CMD("RPUSH ml a"), 1);
    expect_int(CMD("SADD ms a"), 1);
    expect_int(CMD("ZADD mz 1 a"), 1);
    expect_int(CMD("HSET mh f v"), 1);
    expect_ok(CMD("SET mstr v"));
    expect_bulk(CMD("LPOP ml"), "a");
    expect_int(CMD("DEL ms"), 1);
    expect_events(s, "0 ml rpush", "0 ml lpop");
    expect_ok(CMD("CONFIG SET notify-keyspace-events Ez"));
    expect_int(CMD("RPUSH ml a"), 1);
    expect_int(CMD("ZADD mz 2 b"), 1);
    expect_int(CMD("SADD ms a"), 1);
    expect_int(CMD("ZREM mz a"), 1);
    expect_events(s, "0 zadd mz", "0 zrem mz");
    expect_ok(CMD("CONFIG SET notify-keyspace-events En"));
    expect_int(CMD("RPUSH nl a"), 1);
    expect_int(CMD("RPUSH nl b"), 2); /* exists: not new */
    expect_int(CMD("HSET nh f v"), 1);
    expect_int(CMD("SADD ns a"), 1);
    expect_int(CMD("ZADD nz 1 a"), 1);
    expect_int(CMD("RPUSH one x"), 1);
    expect_bulk(CMD("RPOPLPUSH one one"), "x"); /* rotating a one-element list creates nothing */
    expect_bulk(CMD("LMOVE one one LEFT LEFT"), "x");
    expect_events(s, "0 new nl", "0 new nh", "0 new ns", "0 new nz", "0 new one");
    redisFree(s);
}
