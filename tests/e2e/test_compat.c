/* End-to-end Redis 7 compatibility tests of commands without their own e2e
 * file: SETEX PSETEX GETEX GETDEL GETSET MSETNX GETRANGE SETRANGE
 * INCRBYFLOAT SETBIT GETBIT LCS, the EXPIRE family, RENAME RENAMENX COPY MOVE
 * SWAPDB RANDOMKEY TOUCH OBJECT, MULTI/EXEC/DISCARD/WATCH, CLIENT, RESET,
 * SLOWLOG LASTSAVE BGSAVE INFO commandstats DEBUG SLEEP. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

SKV_FIXTURE();

/* ---- strings ----------------------------------------------------------- */

Test(compat, setex_psetex, .init = up, .fini = down) {
    expect_ok(CMD("SETEX k 100 v"));
    expect_bulk(CMD("GET k"), "v");
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL after SETEX 100: %lld", t);
    expect_ok(CMD("PSETEX p 100000 v"));
    long long pt = take_int(CMD("PTTL p"));
    cr_expect(pt > 98000 && pt <= 100000, "PTTL after PSETEX 100000: %lld", pt);
    expect_error_eq(CMD("SETEX k 0 v"), "ERR invalid expire time in 'setex' command");
    expect_error_eq(CMD("SETEX k -1 v"), "ERR invalid expire time in 'setex' command");
    expect_error_eq(CMD("PSETEX k 0 v"), "ERR invalid expire time in 'psetex' command");
    /* the failed SETEX left the key as it was */
    expect_bulk(CMD("GET k"), "v");
}

Test(compat, getex_getdel_getset, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_bulk(CMD("GETEX k EX 100"), "v");
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL after GETEX EX 100: %lld", t);
    expect_bulk(CMD("GETEX k PERSIST"), "v");
    expect_int(CMD("TTL k"), -1);
    expect_nil(CMD("GETEX nope EX 10"));
    expect_int(CMD("EXISTS nope"), 0);

    expect_bulk(CMD("GETDEL k"), "v");
    expect_int(CMD("EXISTS k"), 0);
    expect_nil(CMD("GETDEL k"));

    expect_nil(CMD("GETSET g one"));
    expect_bulk(CMD("GETSET g two"), "one");
    expect_bulk(CMD("GET g"), "two");
}

Test(compat, msetnx, .init = up, .fini = down) {
    expect_int(CMD("MSETNX a 1 b 2"), 1);
    expect_bulk(CMD("GET a"), "1");
    expect_bulk(CMD("GET b"), "2");
    expect_int(CMD("MSETNX c 3 a 9"), 0);
    expect_nil(CMD("GET c"));
    expect_bulk(CMD("GET a"), "1");
    expect_int(CMD("DBSIZE"), 2);
}

Test(compat, getrange_setrange, .init = up, .fini = down) {
    expect_ok(CMD("SET s Hello"));
    expect_bulk(CMD("GETRANGE s 0 3"), "Hell");
    expect_bulk(CMD("GETRANGE s -3 -1"), "llo");
    expect_bulk(CMD("GETRANGE s 0 -1"), "Hello");
    expect_bulk(CMD("GETRANGE s 10 20"), "");
    expect_bulk(CMD("GETRANGE nope 0 5"), "");

    expect_int(CMD("SETRANGE s 6 World"), 11);
    expect_bulk_bin(CMD("GET s"), "Hello\0World", 11);
    expect_int(CMD("SETRANGE z 3 ab"), 5);
    expect_bulk_bin(CMD("GET z"), "\0\0\0ab", 5);
    expect_error_eq(CMD("SETRANGE s -1 x"), "ERR offset is out of range");
    redisReply *r = CMD("SETRANGE s 536870912 x");
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "SETRANGE 536870912: type %d (%s)", r->type, rstr(r));
    cr_expect(strstr(rstr(r), "maximum allowed size") != NULL, "SETRANGE 536870912: %s", rstr(r));
    freeReplyObject(r);
    expect_int(CMD("STRLEN s"), 11);
}

Test(compat, incrbyfloat, .init = up, .fini = down) {
    expect_ok(CMD("SET f 10.5"));
    expect_bulk(CMD("INCRBYFLOAT f 0.1"), "10.6");
    expect_bulk(CMD("GET f"), "10.6");
    expect_bulk(CMD("INCRBYFLOAT n 5"), "5");
    expect_ok(CMD("SET s abc"));
    expect_error_eq(CMD("INCRBYFLOAT s 1"), "ERR value is not a valid float");
    expect_error_eq(CMD("INCRBYFLOAT f abc"), "ERR value is not a valid float");
}

Test(compat, setbit_getbit, .init = up, .fini = down) {
    expect_int(CMD("SETBIT k 7 1"), 0);
    expect_bulk_bin(CMD("GET k"), "\x01", 1);
    expect_int(CMD("GETBIT k 7"), 1);
    expect_int(CMD("SETBIT k 7 0"), 1);
    expect_int(CMD("GETBIT k 7"), 0);
    expect_int(CMD("GETBIT k 1000"), 0);
    expect_int(CMD("GETBIT nope 3"), 0);
    expect_error_eq(CMD("SETBIT k 0 2"), "ERR bit is not an integer or out of range");
    expect_error_eq(CMD("SETBIT k -1 1"), "ERR bit offset is not an integer or out of range");
    expect_error_eq(CMD("GETBIT k -1"), "ERR bit offset is not an integer or out of range");
}

Test(compat, lcs, .init = up, .fini = down) {
    expect_ok(CMD("MSET key1 ohmytext key2 mynewtext"));
    expect_bulk(CMD("LCS key1 key2"), "mytext");
    expect_int(CMD("LCS key1 key2 LEN"), 6);
    expect_error(CMD("LCS key1 key2 LEN IDX"), "ERR");
}

/* ---- expiry ------------------------------------------------------------ */

Test(compat, ttl_basics, .init = up, .fini = down) {
    expect_int(CMD("TTL nope"), -2);
    expect_int(CMD("PTTL nope"), -2);
    expect_int(CMD("EXPIRETIME nope"), -2);
    expect_int(CMD("PEXPIRETIME nope"), -2);
    expect_ok(CMD("SET k v"));
    expect_int(CMD("TTL k"), -1);
    expect_int(CMD("PTTL k"), -1);
    expect_int(CMD("EXPIRETIME k"), -1);
    expect_int(CMD("PEXPIRETIME k"), -1);
    expect_int(CMD("EXPIRE nope 10"), 0);
    expect_int(CMD("PERSIST k"), 0);

    expect_int(CMD("EXPIRE k 100"), 1);
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 99 && t <= 100, "TTL: %lld", t);
    expect_int(CMD("PEXPIRE k 50000"), 1);
    long long pt = take_int(CMD("PTTL k"));
    cr_expect(pt > 48000 && pt <= 50000, "PTTL: %lld", pt);

    long long at = (long long)time(NULL) + 1000;
    expect_int(CMD("EXPIREAT k %lld", at), 1);
    expect_int(CMD("EXPIRETIME k"), at);
    expect_int(CMD("PEXPIRETIME k"), at * 1000);
    expect_int(CMD("PEXPIREAT k %lld", at * 1000 + 500), 1);
    expect_int(CMD("PEXPIRETIME k"), at * 1000 + 500);

    expect_int(CMD("PERSIST k"), 1);
    expect_int(CMD("TTL k"), -1);
    expect_bulk(CMD("GET k"), "v");
}

Test(compat, expire_options, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("EXPIRE k 100 XX"), 0);
    expect_int(CMD("TTL k"), -1);
    expect_int(CMD("EXPIRE k 100 NX"), 1);
    expect_int(CMD("EXPIRE k 200 NX"), 0);
    expect_int(CMD("EXPIRE k 200 XX"), 1);
    expect_int(CMD("EXPIRE k 100 GT"), 0);
    expect_int(CMD("EXPIRE k 300 GT"), 1);
    expect_int(CMD("EXPIRE k 400 LT"), 0);
    expect_int(CMD("EXPIRE k 50 LT"), 1);
    long long t = take_int(CMD("TTL k"));
    cr_expect(t >= 49 && t <= 50, "TTL after LT: %lld", t);
    /* no TTL counts as infinite: GT fails, LT succeeds */
    expect_ok(CMD("SET n v"));
    expect_int(CMD("EXPIRE n 100 GT"), 0);
    expect_int(CMD("TTL n"), -1);
    expect_int(CMD("EXPIRE n 100 LT"), 1);
    expect_error_eq(CMD("EXPIRE k 10 NX XX"), "ERR NX and XX, GT or LT options at the same time are not compatible");
}

Test(compat, expire_past_and_lazy, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("EXPIRE k -1"), 1);
    expect_int(CMD("EXISTS k"), 0);
    expect_ok(CMD("SET k2 v"));
    expect_int(CMD("EXPIREAT k2 1"), 1);
    expect_nil(CMD("GET k2"));

    expect_ok(CMD("SET other v"));
    expect_ok(CMD("SET t v PX 100"));
    expect_int(CMD("DBSIZE"), 2);
    msleep(300);
    expect_nil(CMD("GET t"));
    expect_int(CMD("EXISTS t"), 0);
    expect_int(CMD("DBSIZE"), 1);
}

/* ---- key space --------------------------------------------------------- */

Test(compat, rename_renamenx, .init = up, .fini = down) {
    expect_ok(CMD("SET a 1 EX 100"));
    expect_ok(CMD("RENAME a b"));
    expect_int(CMD("EXISTS a"), 0);
    expect_bulk(CMD("GET b"), "1");
    long long t = take_int(CMD("TTL b"));
    cr_expect(t >= 99 && t <= 100, "TTL kept by RENAME: %lld", t);
    expect_error_eq(CMD("RENAME nope x"), "ERR no such key");
    expect_ok(CMD("SET c 3"));
    expect_int(CMD("RENAMENX b c"), 0);
    expect_bulk(CMD("GET b"), "1");
    expect_bulk(CMD("GET c"), "3");
    expect_int(CMD("RENAMENX b d"), 1);
    expect_bulk(CMD("GET d"), "1");
    expect_int(CMD("EXISTS b"), 0);
}

Test(compat, copy, .init = up, .fini = down) {
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("SET b 2"));
    expect_int(CMD("COPY a b"), 0);
    expect_bulk(CMD("GET b"), "2");
    expect_int(CMD("COPY a b REPLACE"), 1);
    expect_bulk(CMD("GET b"), "1");
    expect_int(CMD("COPY a c"), 1);
    expect_bulk(CMD("GET c"), "1");
    expect_int(CMD("COPY nope x"), 0);
    expect_int(CMD("COPY a a2 DB 2"), 1);
    expect_int(CMD("EXISTS a2"), 0);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a2"), "1");
}

Test(compat, move, .init = up, .fini = down) {
    expect_ok(CMD("SET k v"));
    expect_int(CMD("MOVE k 3"), 1);
    expect_int(CMD("EXISTS k"), 0);
    expect_int(CMD("MOVE k 3"), 0);
    expect_ok(CMD("SELECT 3"));
    expect_bulk(CMD("GET k"), "v");
    expect_ok(CMD("SELECT 0"));
    expect_ok(CMD("SET k other"));
    expect_int(CMD("MOVE k 3"), 0);
    expect_bulk(CMD("GET k"), "other");
    expect_error_eq(CMD("MOVE k 99"), "ERR DB index is out of range");
    expect_error_eq(CMD("MOVE k x"), "ERR value is not an integer or out of range");
}

Test(compat, swapdb, .init = up, .fini = down) {
    expect_ok(CMD("SELECT 1"));
    expect_ok(CMD("SET a 1"));
    expect_ok(CMD("SWAPDB 1 2"));
    expect_nil(CMD("GET a"));
    expect_int(CMD("DBSIZE"), 0);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a"), "1");
    expect_int(CMD("DBSIZE"), 1);
    expect_error_eq(CMD("SWAPDB x 1"), "ERR invalid first DB index");

    cr_expect_eq(skv_stop(&srv), 0, "clean stop");
    redisFree(c);
    c = NULL;
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_ok(CMD("SELECT 2"));
    expect_bulk(CMD("GET a"), "1");
    expect_ok(CMD("SELECT 1"));
    expect_nil(CMD("GET a"));
}

Test(compat, randomkey_touch_object, .init = up, .fini = down) {
    expect_nil(CMD("RANDOMKEY"));
    expect_ok(CMD("MSET a 1 b 2"));
    char *k = take_bulk(CMD("RANDOMKEY"));
    cr_expect(k && (!strcmp(k, "a") || !strcmp(k, "b")), "RANDOMKEY: %s", k ? k : "(null)");
    free(k);
    expect_int(CMD("TOUCH a b nope"), 2);

    expect_ok(CMD("SET i 123"));
    expect_bulk(CMD("OBJECT ENCODING i"), "int");
    expect_ok(CMD("SET s hello"));
    expect_bulk(CMD("OBJECT ENCODING s"), "embstr");
    char big[101];
    memset(big, 'x', 100);
    big[100] = 0;
    expect_ok(CMD("SET r %s", big));
    expect_bulk(CMD("OBJECT ENCODING r"), "raw");
    expect_nil(CMD("OBJECT ENCODING nope"));
}

/* ---- transactions ------------------------------------------------------ */

Test(compat, multi_exec, .init = up, .fini = down) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_status(CMD("INCR a"), "QUEUED");
    expect_status(CMD("GET a"), "QUEUED");
    redisReply *r = take_array(CMD("EXEC"));
    cr_assert_eq(r->elements, 3, "EXEC elements %zu", r->elements);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_STATUS);
    cr_expect_str_eq(rstr(r->element[0]), "OK");
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_INTEGER);
    cr_expect_eq(r->element[1]->integer, 2);
    cr_expect_eq(r->element[2]->type, REDIS_REPLY_STRING);
    cr_expect_str_eq(rstr(r->element[2]), "2");
    freeReplyObject(r);

    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET b 1"), "QUEUED");
    expect_ok(CMD("DISCARD"));
    expect_int(CMD("EXISTS b"), 0);

    expect_error_eq(CMD("EXEC"), "ERR EXEC without MULTI");
    expect_error_eq(CMD("DISCARD"), "ERR DISCARD without MULTI");

    expect_ok(CMD("MULTI"));
    expect_error_eq(CMD("MULTI"), "ERR MULTI calls can not be nested");
    expect_error_eq(CMD("WATCH a"), "ERR WATCH inside MULTI is not allowed");
    expect_ok(CMD("DISCARD"));
}

Test(compat, multi_execabort, .init = up, .fini = down) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_error(CMD("NOSUCHCMD x"), "ERR unknown command");
    expect_error(CMD("EXEC"), "EXECABORT");
    expect_int(CMD("EXISTS a"), 0);
}

Test(compat, multi_runtime_error, .init = up, .fini = down) {
    expect_ok(CMD("SET s abc"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET a 1"), "QUEUED");
    expect_status(CMD("INCR s"), "QUEUED");
    expect_status(CMD("SET b 2"), "QUEUED");
    redisReply *r = take_array(CMD("EXEC"));
    cr_assert_eq(r->elements, 3, "EXEC elements %zu", r->elements);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_STATUS);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_ERROR);
    cr_expect_str_eq(rstr(r->element[1]), "ERR value is not an integer or out of range");
    cr_expect_eq(r->element[2]->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    expect_bulk(CMD("GET a"), "1");
    expect_bulk(CMD("GET b"), "2");
    expect_bulk(CMD("GET s"), "abc");
}

Test(compat, watch, .init = up, .fini = down) {
    redisContext *c2 = skv_connect(&srv);
    expect_ok(CMD("SET w 1"));
    expect_ok(CMD("WATCH w"));
    expect_ok(skv_cmd(c2, "SET w 2"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET w 3"), "QUEUED");
    redisReply *r = CMD("EXEC");
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "EXEC after a watched change: type %d", r->type);
    freeReplyObject(r);
    expect_bulk(CMD("GET w"), "2");

    expect_ok(CMD("WATCH w"));
    expect_ok(CMD("UNWATCH"));
    expect_ok(skv_cmd(c2, "SET w 4"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("SET w 5"), "QUEUED");
    r = take_array(CMD("EXEC"));
    cr_expect_eq(r->elements, 1);
    freeReplyObject(r);
    expect_bulk(CMD("GET w"), "5");
    redisFree(c2);
}

/* ---- connection -------------------------------------------------------- */

Test(compat, client_name_id_list_info, .init = up, .fini = down) {
    expect_nil(CMD("CLIENT GETNAME"));
    expect_ok(CMD("CLIENT SETNAME myconn"));
    expect_bulk(CMD("CLIENT GETNAME"), "myconn");
    long long id = take_int(CMD("CLIENT ID"));
    cr_expect(id > 0, "CLIENT ID %lld", id);
    char *list = take_bulk(CMD("CLIENT LIST"));
    cr_expect(list && strstr(list, "name=myconn"), "CLIENT LIST: %s", list ? list : "");
    free(list);
    char *info = take_bulk(CMD("CLIENT INFO"));
    char want[64];
    snprintf(want, sizeof want, "id=%lld ", id);
    cr_expect(info && strstr(info, "name=myconn") && strncmp(info, want, strlen(want)) == 0, "CLIENT INFO: %s",
              info ? info : "");
    free(info);
}

Test(compat, client_kill, .init = up, .fini = down) {
    redisContext *c2 = skv_connect(&srv);
    long long id2 = take_int(skv_cmd(c2, "CLIENT ID"));
    long long id1 = take_int(CMD("CLIENT ID"));
    cr_expect_neq(id1, id2);
    expect_int(CMD("CLIENT KILL ID %lld", id2), 1);
    redisReply *r = redisCommand(c2, "PING");
    cr_expect(r == NULL, "killed connection still answered: type %d %s", r ? r->type : -1, r ? rstr(r) : "");
    if (r) freeReplyObject(r);
    redisFree(c2);
    expect_status(CMD("PING"), "PONG");
    expect_int(CMD("CLIENT KILL ID %lld", id2), 0);
}

Test(compat, client_reply_off, .init = up, .fini = down) {
    int fd = raw_connect(srv.port);
    cr_assert(fd >= 0);
    const char *req = "CLIENT REPLY OFF\r\nSET x 1\r\nCLIENT REPLY ON\r\nGET x\r\n";
    size_t n = 0;
    int closed = 0;
    char *out = raw_roundtrip(fd, req, strlen(req), 1000, &n, &closed);
    cr_expect_str_eq(out, "+OK\r\n$1\r\n1\r\n");
    cr_expect(!closed);
    free(out);
    close(fd);
}

Test(compat, reset, .init = up, .fini = down) {
    expect_ok(CMD("SELECT 4"));
    expect_ok(CMD("SET only4 v"));
    expect_ok(CMD("CLIENT SETNAME n"));
    expect_ok(CMD("MULTI"));
    expect_status(CMD("RESET"), "RESET");
    expect_nil(CMD("GET only4"));
    expect_nil(CMD("CLIENT GETNAME"));
    expect_error_eq(CMD("EXEC"), "ERR EXEC without MULTI");
    expect_ok(CMD("SELECT 4"));
    expect_bulk(CMD("GET only4"), "v");
}

/* ---- server ------------------------------------------------------------ */

Test(compat, slowlog, .init = up, .fini = down) {
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than 0"));
    expect_ok(CMD("SET a 1"));
    long long n = take_int(CMD("SLOWLOG LEN"));
    cr_expect(n >= 1, "SLOWLOG LEN %lld", n);
    redisReply *r = take_array(CMD("SLOWLOG GET 1"));
    cr_expect_eq(r->elements, 1, "SLOWLOG GET 1: %zu entries", r->elements);
    if (r->elements >= 1) {
        cr_expect_eq(r->element[0]->type, REDIS_REPLY_ARRAY);
        cr_expect_eq(r->element[0]->elements, 6, "entry fields %zu", r->element[0]->elements);
    }
    freeReplyObject(r);
    /* with the threshold at 0 SLOWLOG RESET would log itself (as in Redis) */
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than -1"));
    expect_ok(CMD("SLOWLOG RESET"));
    expect_int(CMD("SLOWLOG LEN"), 0);
}

static int has_backup(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "backup-", 7)) found = 1;
    closedir(d);
    return found;
}

Test(compat, lastsave_bgsave, .init = up, .fini = down) {
    long long ls = take_int(CMD("LASTSAVE"));
    long long now = (long long)time(NULL);
    cr_expect(ls > now - 3600 && ls <= now + 5, "LASTSAVE %lld, now %lld", ls, now);
    cr_expect(!has_backup(srv.dir), "a backup before BGSAVE");
    expect_status(CMD("BGSAVE"), "Background saving started");
    long long end = mono_ms() + 5000;
    while (!has_backup(srv.dir) && mono_ms() < end) msleep(50);
    cr_expect(has_backup(srv.dir), "no backup-* in %s after 5 s", srv.dir);
}

Test(compat, info_commandstats_debug_sleep, .init = up, .fini = down) {
    expect_nil(CMD("GET x"));
    char *s = take_bulk(CMD("INFO commandstats"));
    cr_expect(s && strstr(s, "cmdstat_get:calls=1,"), "INFO commandstats: %s", s ? s : "");
    free(s);
    expect_ok(CMD("DEBUG SLEEP 0"));
}
