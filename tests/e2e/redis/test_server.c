/* End-to-end tests of the connection and server commands against a real
 * stagekv-server (server/redis/cmd_server.c): COMMAND INFO DBSIZE CONFIG
 * TIME SHUTDOWN and the unknown-command error, with Redis 7 texts.
 * Connection commands are in test_conn.c. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

SKV_FIXTURE();


#define expect_error_has(...) expect_error_has_l(__LINE__, __VA_ARGS__)
static void expect_error_has_l(int line, redisReply *r, const char *prefix, const char *part) {
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "line %d: expected error, got type %d (%s)", line, r->type, r->str ? r->str : "");
    if (r->type == REDIS_REPLY_ERROR) {
        cr_expect(strncmp(r->str, prefix, strlen(prefix)) == 0, "line %d: '%s' does not start with '%s'", line, r->str, prefix);
        if (part) cr_expect(strstr(r->str, part) != NULL, "line %d: '%s' does not contain '%s'", line, r->str, part);
    }
    freeReplyObject(r);
}

/* Looks a field up in a flat RESP2 map (name, value, name, value, ...). */
static redisReply *map_get(redisReply *m, const char *name) {
    if (m->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        if (m->element[i]->type == REDIS_REPLY_STRING && strcmp(m->element[i]->str, name) == 0)
            return m->element[i + 1];
    return NULL;
}

static int array_has(redisReply *a, const char *s) {
    if (!a || a->type != REDIS_REPLY_ARRAY) return 0;
    for (size_t i = 0; i < a->elements; i++)
        if ((a->element[i]->type == REDIS_REPLY_STRING || a->element[i]->type == REDIS_REPLY_STATUS) &&
            strcmp(a->element[i]->str, s) == 0)
            return 1;
    return 0;
}


/* ---- COMMAND ------------------------------------------------------------ */

Test(server, command_count_list, .init = up, .fini = down) {
    redisReply *cnt = skv_cmd(c, "COMMAND COUNT");
    cr_assert_eq(cnt->type, REDIS_REPLY_INTEGER);
    long long n = cnt->integer;
    freeReplyObject(cnt);
    cr_expect_gt(n, 30, "only %lld commands", n);

    redisReply *l = skv_cmd(c, "COMMAND LIST");
    cr_assert_eq(l->type, REDIS_REPLY_ARRAY);
    /* Redis 7 also lists container subcommands as "name|sub"; the top-level
     * names are exactly COMMAND COUNT of them */
    size_t top = 0;
    for (size_t i = 0; i < l->elements; i++) {
        cr_assert_eq(l->element[i]->type, REDIS_REPLY_STRING);
        if (!strchr(l->element[i]->str, '|')) top++;
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(l->element[i]->str, l->element[j]->str, "duplicate %s", l->element[i]->str);
    }
    cr_expect_eq((long long)top, n, "COMMAND LIST has %zu top-level names, COMMAND COUNT %lld", top, n);
    const char *must[] = {"get", "set", "del", "scan", "select", "ping", "command", "config", "info",
                          "kv.get", "kv.set", "kv.getbyprefix", "kv.patch"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_expect(array_has(l, must[i]), "COMMAND LIST lacks %s", must[i]);
    freeReplyObject(l);

    /* COMMAND alone: one entry per command */
    redisReply *all = skv_cmd(c, "COMMAND");
    cr_assert_eq(all->type, REDIS_REPLY_ARRAY);
    cr_expect_eq((long long)all->elements, n);
    freeReplyObject(all);
    expect_error_eq(skv_cmd(c, "COMMAND FOO"), "ERR unknown subcommand 'FOO'. Try COMMAND HELP.");
    /* the HELP that error points at exists: an array of status lines */
    redisReply *h = skv_cmd(c, "COMMAND HELP");
    cr_expect_eq(h->type, REDIS_REPLY_ARRAY, "COMMAND HELP: type %d (%s)", h->type, h->str ? h->str : "");
    if (h->type == REDIS_REPLY_ARRAY) cr_expect_gt(h->elements, 2);
    freeReplyObject(h);
}

Test(server, command_info, .init = up, .fini = down) {
    redisReply *r = skv_cmd(c, "COMMAND INFO get");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    redisReply *g = r->element[0];
    cr_assert_eq(g->type, REDIS_REPLY_ARRAY);
    cr_assert_geq(g->elements, 7);
    cr_expect_str_eq(g->element[0]->str, "get");
    cr_expect_eq(g->element[1]->type, REDIS_REPLY_INTEGER);
    cr_expect_eq(g->element[1]->integer, 2);
    cr_expect(array_has(g->element[2], "readonly"), "flags of get lack readonly");
    cr_expect(!array_has(g->element[2], "write"));
    cr_expect_eq(g->element[3]->integer, 1, "first key");
    cr_expect_eq(g->element[4]->integer, 1, "last key");
    cr_expect_eq(g->element[5]->integer, 1, "key step");
    cr_expect(array_has(g->element[6], "@read"));
    cr_expect(array_has(g->element[6], "@string"));
    freeReplyObject(r);

    /* several names, one unknown: a nil element in its place */
    r = skv_cmd(c, "COMMAND INFO SET nonexisting mset");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 3);
    redisReply *s = r->element[0];
    cr_assert_eq(s->type, REDIS_REPLY_ARRAY);
    cr_expect_str_eq(s->element[0]->str, "set");
    cr_expect_eq(s->element[1]->integer, -3);
    cr_expect(array_has(s->element[2], "write"));
    cr_expect_eq(s->element[3]->integer, 1);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL, "unknown command must give a nil element");
    redisReply *m = r->element[2];
    cr_assert_eq(m->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(m->element[1]->integer, -3);
    cr_expect_eq(m->element[3]->integer, 1);
    cr_expect_eq(m->element[4]->integer, -1);
    cr_expect_eq(m->element[5]->integer, 2);
    freeReplyObject(r);

    /* KV.* rows carry their flags too */
    r = skv_cmd(c, "COMMAND INFO kv.get kv.set");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
    cr_expect(array_has(r->element[0]->element[2], "readonly"), "kv.get is not readonly");
    cr_expect(array_has(r->element[1]->element[2], "write"), "kv.set is not write");
    cr_expect_eq(r->element[1]->element[3]->integer, 1);
    freeReplyObject(r);

    r = skv_cmd(c, "COMMAND INFO nonexisting");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
}

Test(server, command_docs, .init = up, .fini = down) {
    redisReply *r = skv_cmd(c, "COMMAND DOCS get");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, "get");
    redisReply *d = r->element[1];
    cr_assert_eq(d->type, REDIS_REPLY_ARRAY);
    redisReply *sum = map_get(d, "summary");
    cr_assert(sum, "COMMAND DOCS get has no summary");
    cr_expect(sum->type == REDIS_REPLY_STRING && sum->len > 0);
    redisReply *grp = map_get(d, "group");
    cr_assert(grp, "COMMAND DOCS get has no group");
    cr_expect_str_eq(grp->str, "string");
    freeReplyObject(r);
    /* unknown names are left out */
    r = skv_cmd(c, "COMMAND DOCS nonexisting");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements, 0);
    freeReplyObject(r);
}

Test(server, command_getkeys, .init = up, .fini = down) {
    expect_strs(skv_cmd(c, "COMMAND GETKEYS MSET a 1 b 2"), 2, "a", "b");
    expect_strs(skv_cmd(c, "COMMAND GETKEYS KV.MSET k1 {} k2 {}"), 2, "k1", "k2");
    expect_strs(skv_cmd(c, "COMMAND GETKEYS GET x"), 1, "x");
    expect_strs(skv_cmd(c, "COMMAND GETKEYS DEL x y z"), 3, "x", "y", "z");
    expect_strs(skv_cmd(c, "COMMAND GETKEYS SET k v EX 10"), 1, "k");
    expect_error_eq(skv_cmd(c, "COMMAND GETKEYS GET a b"), "ERR Invalid number of arguments specified for command");
    expect_error_eq(skv_cmd(c, "COMMAND GETKEYS PING x"), "ERR The command has no key arguments");
    expect_error_eq(skv_cmd(c, "COMMAND GETKEYS foo a"), "ERR Invalid command specified");
    expect_error_eq(skv_cmd(c, "COMMAND GETKEYS"), "ERR wrong number of arguments for 'command|getkeys' command");
    expect_error_eq(skv_cmd(c, "COMMAND GETKEYS SET"), "ERR wrong number of arguments for 'command|getkeys' command");
}

/* ---- INFO --------------------------------------------------------------- */

Test(server, info, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET a 1"), "OK");
    expect_status(skv_cmd(c, "SET b 1"), "OK");
    expect_status(skv_cmd(c, "SELECT 3"), "OK");
    expect_status(skv_cmd(c, "SET x 1"), "OK");
    redisReply *r = skv_cmd(c, "INFO");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "INFO type %d", r->type);
    const char *must[] = {"# Server\r\n", "redis_version:", "# Clients\r\n", "connected_clients:",
                          "# Memory\r\n", "used_memory:", "# Persistence\r\n", "# Stats\r\n",
                          "# Keyspace\r\n", "db0:keys=2,", "db3:keys=1,"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_expect(strstr(r->str, must[i]) != NULL, "INFO lacks '%s'", must[i]);
    char port[32];
    snprintf(port, sizeof port, "tcp_port:%d\r\n", srv.port);
    cr_expect(strstr(r->str, port) != NULL, "INFO lacks '%s'", port);
    cr_expect(strstr(r->str, "db1:") == NULL, "an empty database is listed in Keyspace");
    freeReplyObject(r);

    /* one section */
    r = skv_cmd(c, "INFO server");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_expect(strstr(r->str, "# Server") != NULL);
    cr_expect(strstr(r->str, "redis_version:") != NULL);
    cr_expect(strstr(r->str, "# Keyspace") == NULL);
    cr_expect(strstr(r->str, "# Memory") == NULL);
    freeReplyObject(r);

    r = skv_cmd(c, "INFO keyspace");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_expect(strstr(r->str, "# Keyspace") != NULL);
    cr_expect(strstr(r->str, "db0:keys=2,") != NULL);
    cr_expect(strstr(r->str, "# Server") == NULL);
    freeReplyObject(r);

    r = skv_cmd(c, "INFO storage");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_expect(strstr(r->str, "# Storage") != NULL, "INFO storage lacks the Storage section: %s", r->str);
    cr_expect(strstr(r->str, "# Server") == NULL);
    freeReplyObject(r);
}

/* ---- CONFIG ------------------------------------------------------------- */

#define expect_config(...) expect_config_l(__LINE__, __VA_ARGS__)
static void expect_config_l(int line, const char *name, const char *value) {
    redisReply *r = skv_cmd(c, "CONFIG GET %s", name);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "line %d: CONFIG GET %s type %d (%s)", line, name, r->type, r->str ? r->str : "");
    cr_assert_eq(r->elements, 2, "line %d: CONFIG GET %s: %zu elements", line, name, r->elements);
    cr_expect_str_eq(r->element[0]->str, name, "line %d", line);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_STRING, "line %d", line);
    if (value) cr_expect_str_eq(r->element[1]->str, value, "line %d: CONFIG GET %s", line, name);
    freeReplyObject(r);
}

Test(server, config_get, .init = up, .fini = down) {
    char port[16];
    snprintf(port, sizeof port, "%d", srv.port);
    expect_config("port", port);
    expect_config("maxclients", "10000");
    expect_config("dir", NULL);
    expect_config("save", NULL);
    expect_config("appendonly", NULL);
    redisReply *r = skv_cmd(c, "CONFIG GET appendonly");
    cr_assert_eq(r->elements, 2);
    cr_expect(strcmp(r->element[1]->str, "yes") == 0 || strcmp(r->element[1]->str, "no") == 0,
              "appendonly is '%s'", r->element[1]->str);
    freeReplyObject(r);

    r = skv_cmd(c, "CONFIG GET *");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements % 2, 0);
    cr_expect_geq(r->elements, 20, "CONFIG GET * has only %zu elements", r->elements);
    int seen_port = 0, seen_max = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        if (strcmp(r->element[i]->str, "port") == 0) seen_port = !strcmp(r->element[i + 1]->str, port);
        if (strcmp(r->element[i]->str, "maxclients") == 0) seen_max = 1;
    }
    cr_expect(seen_port && seen_max);
    freeReplyObject(r);

    /* glob patterns and several patterns (Redis 7) */
    r = skv_cmd(c, "CONFIG GET maxcl*");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements, 2);
    if (r->elements == 2) cr_expect_str_eq(r->element[0]->str, "maxclients");
    freeReplyObject(r);
    r = skv_cmd(c, "CONFIG GET port maxclients");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements, 4);
    freeReplyObject(r);
    r = skv_cmd(c, "CONFIG GET nonexisting-option");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->elements, 0);
    freeReplyObject(r);
    expect_error_eq(skv_cmd(c, "CONFIG GET"), "ERR wrong number of arguments for 'config|get' command");
    expect_error_eq(skv_cmd(c, "CONFIG FOO"), "ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
    r = skv_cmd(c, "CONFIG HELP");
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "CONFIG HELP: type %d (%s)", r->type, r->str ? r->str : "");
    if (r->type == REDIS_REPLY_ARRAY) cr_expect_gt(r->elements, 2);
    freeReplyObject(r);
}

Test(server, config_set, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "CONFIG SET maxclients 50"), "OK");
    expect_config("maxclients", "50");
    expect_error(skv_cmd(c, "CONFIG SET maxclients abc"),
                 "ERR CONFIG SET failed (possibly related to argument 'maxclients')");
    expect_config("maxclients", "50");

    redisReply *before = skv_cmd(c, "CONFIG GET dir");
    cr_assert_eq(before->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(before->elements, 2);
    expect_error_has(skv_cmd(c, "CONFIG SET dir /tmp"), "ERR", "immutable");
    redisReply *after = skv_cmd(c, "CONFIG GET dir");
    cr_assert_eq(after->elements, 2);
    cr_expect_str_eq(after->element[1]->str, before->element[1]->str, "dir changed by a refused CONFIG SET");
    cr_expect_str_neq(after->element[1]->str, "/tmp");
    freeReplyObject(before);
    freeReplyObject(after);

    expect_error_eq(skv_cmd(c, "CONFIG SET logfile x"),
                    "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config");
    expect_error_eq(skv_cmd(c, "CONFIG SET unknown-option 1"),
                    "ERR Unknown option or number of arguments for CONFIG SET - 'unknown-option'");
    expect_error_eq(skv_cmd(c, "CONFIG SET maxclients"), "ERR wrong number of arguments for 'config|set' command");
    /* several pairs at once, all or nothing; names are case-insensitive (Redis 7) */
    expect_status(skv_cmd(c, "CONFIG SET maxclients 60 timeout 0"), "OK");
    expect_config("maxclients", "60");
    expect_error_eq(skv_cmd(c, "CONFIG SET maxclients 70 unknown-x 1"),
                    "ERR Unknown option or number of arguments for CONFIG SET - 'unknown-x'");
    expect_config("maxclients", "60");
    expect_status(skv_cmd(c, "CONFIG SET MAXCLIENTS 55"), "OK");
    expect_config("maxclients", "55");
    /* the server still serves */
    expect_status(skv_cmd(c, "PING"), "PONG");
}

/* ---- TIME --------------------------------------------------------------- */

Test(server, time, .init = up, .fini = down) {
    long long now = (long long)time(NULL);
    redisReply *r = skv_cmd(c, "TIME");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->element[1]->type, REDIS_REPLY_STRING);
    char *end;
    long long sec = strtoll(r->element[0]->str, &end, 10);
    cr_expect(*end == 0 && r->element[0]->len > 0, "seconds '%s' is not an integer", r->element[0]->str);
    long long usec = strtoll(r->element[1]->str, &end, 10);
    cr_expect(*end == 0 && r->element[1]->len > 0, "microseconds '%s' is not an integer", r->element[1]->str);
    cr_expect(sec >= now - 5 && sec <= now + 5, "TIME %lld, local %lld", sec, now);
    cr_expect(usec >= 0 && usec < 1000000);
    freeReplyObject(r);
    expect_error_eq(skv_cmd(c, "TIME x"), "ERR wrong number of arguments for 'time' command");
}

/* ---- unknown commands --------------------------------------------------- */

Test(server, unknown_command, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "foo a b"), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    expect_error_eq(skv_cmd(c, "FOO"), "ERR unknown command 'FOO', with args beginning with: ");
    expect_error_eq(skv_cmd(c, "foo %s", ""), "ERR unknown command 'foo', with args beginning with: '' ");

    /* CR/LF in the name and in the arguments come back as spaces */
    const char *argv[] = {"fo\r\no", "a\r\nb", "c\nd"};
    expect_error_eq(skv_cmdargv(c, 3, argv, NULL),
                    "ERR unknown command 'fo  o', with args beginning with: 'a  b' 'c d' ");

    /* the name is cut at 128 bytes, the arguments once 128 bytes are shown */
    char name[201], a1[101], a2[101], want[600];
    memset(name, 'x', 200);
    name[200] = 0;
    memset(a1, 'a', 100);
    a1[100] = 0;
    memset(a2, 'b', 100);
    a2[100] = 0;
    const char *argv2[] = {name, a1, a2, "c"};
    snprintf(want, sizeof want, "ERR unknown command '%.128s', with args beginning with: '%s' '%.25s' ", name, a1,
             a2);
    expect_error_eq(skv_cmdargv(c, 4, argv2, NULL), want);
    expect_status(skv_cmd(c, "PING"), "PONG");
}

/* ---- SHUTDOWN ----------------------------------------------------------- */

static int wait_exit(pid_t pid, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    return -1;
}

Test(server, shutdown_exits_zero, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET k kept"), "OK");
    redisReply *r = redisCommand(c, "SHUTDOWN");
    /* Redis closes the connection without a reply on success */
    if (r) {
        cr_expect_neq(r->type, REDIS_REPLY_ERROR, "SHUTDOWN refused: %s", r->str);
        freeReplyObject(r);
    }
    int code = wait_exit(srv.pid, 10000);
    if (code == -1) {
        skv_kill9(&srv);
        cr_assert_fail("the server did not exit within 10 s of SHUTDOWN");
    }
    srv.pid = 0;
    cr_expect_eq(code, 0, "exit status %d after SHUTDOWN (see %s)", code, srv.log);
    redisFree(c);
    c = NULL;
    /* the acknowledged write survives */
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_bulk(skv_cmd(c, "GET k"), "kept");
}

Test(server, shutdown_nosave_exits_zero, .init = up, .fini = down) {
    redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");
    if (r) {
        cr_expect_neq(r->type, REDIS_REPLY_ERROR, "SHUTDOWN NOSAVE refused: %s", r->str);
        freeReplyObject(r);
    }
    int code = wait_exit(srv.pid, 10000);
    if (code == -1) {
        skv_kill9(&srv);
        cr_assert_fail("the server did not exit within 10 s of SHUTDOWN NOSAVE");
    }
    srv.pid = 0;
    cr_expect_eq(code, 0);
}

Test(server, sigterm_exits_zero, .init = up, .fini = down) {
    expect_status(skv_cmd(c, "SET k v"), "OK");
    cr_expect_eq(skv_stop(&srv), 0);
}

/* ---- INFO commandstats, DEBUG SLEEP (from the former test_compat.c) ---- */

static void up_debug(void) {
    const char *extra[] = {"--enable-debug-command", "yes", NULL};
    up_with(extra);
}

Test(server, info_commandstats_debug_sleep, .init = up_debug, .fini = down) {
    expect_nil(CMD("GET x"));
    char *s = take_bulk(CMD("INFO commandstats"));
    cr_expect(s && strstr(s, "cmdstat_get:calls=1,"), "INFO commandstats: %s", s ? s : "");
    free(s);
    expect_ok(CMD("DEBUG SLEEP 0"));
}

/* ---- the key cache (key-cache-size, INFO storage) ------------------------ */

/* Writes that ask the key cache whether their key existed keep DBSIZE exact,
 * with the cache on (the default) and off. */
static void key_count_stays_exact(void) {
    expect_status(CMD("SET kc:a 1"), "OK");
    expect_status(CMD("SET kc:a 2"), "OK"); /* an overwrite: no new key */
    expect_status(CMD("MSET kc:b 1 kc:a 3 kc:b 2"), "OK");
    expect_int(CMD("DBSIZE"), 2);
    expect_int(CMD("DEL kc:a"), 1);
    expect_status(CMD("SET kc:a 4"), "OK"); /* new again after the delete */
    expect_int(CMD("DBSIZE"), 2);
    expect_status(CMD("FLUSHDB"), "OK"); /* a range deletion clears the cache */
    expect_status(CMD("SET kc:a 5"), "OK");
    expect_int(CMD("DBSIZE"), 1);
}

Test(server, key_cache_on_by_default, .init = up, .fini = down) {
    cr_expect_eq(info_field(c, "storage", "key_cache_slots"), 2 << 20, "64 MB of 32-byte slots");
    cr_expect_eq(info_field(c, "memory", "rocksdb_block_cache_capacity"), 64LL << 20,
                 "block-cache-size (256 MB) less the key (64 MB) and value (128 MB) caches");
    long long hits = info_field(c, "storage", "key_cache_hits");
    key_count_stays_exact();
    cr_expect_gt(info_field(c, "storage", "key_cache_hits"), hits, "the writes never asked the cache");
    expect_error_has(CMD("CONFIG SET key-cache-size 1mb"), "ERR", "immutable");
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0); /* a clean stop flushes the memtables */
    skv_restart(&srv);               /* the cache starts empty: the count comes from disk */
    c = skv_connect(&srv);
    expect_int(CMD("DBSIZE"), 1);
    expect_status(CMD("SET kc:a 6"), "OK");
    expect_int(CMD("DBSIZE"), 1);
}

static void up_no_cache(void) {
    static const char *const extra[] = {"--key-cache-size", "0", NULL};
    up_with(extra);
}

Test(server, key_cache_off, .init = up_no_cache, .fini = down) {
    expect_config("key-cache-size", "0");
    cr_expect_eq(info_field(c, "memory", "rocksdb_block_cache_capacity"), 128LL << 20,
                 "the key cache's 64 MB go to the block cache");
    cr_expect_eq(info_field(c, "storage", "key_cache_slots"), 0);
    key_count_stays_exact();
    cr_expect_eq(info_field(c, "storage", "key_cache_hits"), 0);
}

static void up_index_outside(void) {
    static const char *const extra[] = {"--cache-index-and-filter-blocks", "no", NULL};
    up_with(extra);
}

/* Index and filter blocks held by the table readers instead of the block
 * cache: the tables written at the clean stop are read back through them. */
Test(server, index_and_filter_blocks_outside_the_cache, .init = up_index_outside, .fini = down) {
    expect_config("cache-index-and-filter-blocks", "no");
    expect_error_has(CMD("CONFIG SET cache-index-and-filter-blocks yes"), "ERR", "immutable");
    for (int i = 0; i < 2000; i++) expect_status(CMD("SET ix:%d v%d", i, i), "OK");
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0); /* a clean stop flushes the memtables into tables */
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(CMD("DBSIZE"), 2000);
    for (int i = 0; i < 2000; i += 7) {
        char want[16];
        snprintf(want, sizeof want, "v%d", i);
        expect_bulk(CMD("GET ix:%d", i), want);
    }
    expect_nil(CMD("GET ix:2000"));
}

/* ---- the value cache and pipelined reads read ahead ----------------------
 * (value-cache-size, storage/valcache.c; net.c read_ahead, store_prefetch)
 * Both are exact: every reply here is checked against what was written. */

/* Writes of every kind, each followed by reads of what it changed. */
static void values_stay_exact(void) {
    expect_status(CMD("SET vc:a 1"), "OK");
    expect_bulk(CMD("GET vc:a"), "1");
    expect_status(CMD("SET vc:a 2"), "OK");
    expect_bulk(CMD("GET vc:a"), "2");
    expect_int(CMD("INCR vc:a"), 3);
    expect_int(CMD("INCRBY vc:a 10"), 13);
    expect_bulk(CMD("GET vc:a"), "13");
    expect_int(CMD("APPEND vc:a x"), 3);
    expect_bulk(CMD("GET vc:a"), "13x");
    expect_int(CMD("DEL vc:a"), 1);
    expect_nil(CMD("GET vc:a"));
    expect_status(CMD("MSET vc:a 4 vc:b 5"), "OK");
    expect_bulk(CMD("GET vc:b"), "5");
    expect_int(CMD("PEXPIRE vc:b 1"), 1);
    msleep(5);
    expect_nil(CMD("GET vc:b"));
    expect_bulk(CMD("GETSET vc:a 6"), "4");
    expect_bulk(CMD("GET vc:a"), "6");
    expect_status(CMD("FLUSHDB"), "OK"); /* a range deletion clears the cache */
    expect_nil(CMD("GET vc:a"));
    expect_status(CMD("SET vc:a 7"), "OK");
    expect_bulk(CMD("GET vc:a"), "7");
}

Test(server, value_cache_on_by_default, .init = up, .fini = down) {
    cr_expect_gt(info_field(c, "storage", "value_cache_bytes"), 100 << 20, "128 MB in all");
    long long hits = info_field(c, "storage", "value_cache_hits");
    values_stay_exact();
    cr_expect_gt(info_field(c, "storage", "value_cache_hits"), hits + 5, "the reads never hit the cache");
    expect_error_has(CMD("CONFIG SET value-cache-size 1mb"), "ERR", "immutable");
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv); /* the cache starts empty: values come from disk */
    c = skv_connect(&srv);
    long long misses = info_field(c, "storage", "value_cache_misses");
    expect_bulk(CMD("GET vc:a"), "7");
    cr_expect_eq(info_field(c, "storage", "value_cache_misses"), misses + 1);
    expect_bulk(CMD("GET vc:a"), "7"); /* read once, then cached */
    cr_expect_eq(info_field(c, "storage", "value_cache_misses"), misses + 1);
}

static void up_no_value_cache(void) {
    static const char *const extra[] = {"--value-cache-size", "0", NULL};
    up_with(extra);
}

Test(server, value_cache_off, .init = up_no_value_cache, .fini = down) {
    expect_config("value-cache-size", "0");
    cr_expect_eq(info_field(c, "storage", "value_cache_bytes"), 0);
    values_stay_exact();
    cr_expect_eq(info_field(c, "storage", "value_cache_hits"), 0);
}

/* One pipeline of reads with writes among them: a read after a write of
 * its key must see the write, though the run before the write was read
 * ahead. The value cache is off, so the reads go to RocksDB. */
static void pipelined_reads_see_every_write(void) {
    for (int i = 0; i < 40; i++) expect_status(CMD("SET ra:%d v%d", i, i), "OK");
    expect_status(CMD("SET ra:gone x"), "OK");
    expect_int(CMD("PEXPIRE ra:gone 1"), 1);
    msleep(5);
    redisContext *w = skv_connect(&srv); /* another client's write between pipelines */
    long long used = info_field(c, "storage", "read_ahead_used");
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20; i++) redisAppendCommand(c, "GET ra:%d", i);
        redisAppendCommand(c, "SET ra:3 new%d", round);
        redisAppendCommand(c, "GET ra:3");
        redisAppendCommand(c, "MGET ra:3 ra:4 ra:none ra:gone");
        redisAppendCommand(c, "DEL ra:4");
        redisAppendCommand(c, "EXISTS ra:4 ra:5 ra:gone");
        redisAppendCommand(c, "GET ra:4");
        redisAppendCommand(c, "GET ra:gone");
        for (int i = 0; i < 20; i++) {
            redisReply *r = NULL;
            cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
            char want[16];
            if (i == 3 && round) snprintf(want, sizeof want, "new%d", round - 1);
            else snprintf(want, sizeof want, "v%d", i);
            if (i == 4 && round) expect_nil(r); /* deleted in round 0 */
            else expect_bulk(r, want);
        }
        redisReply *r = NULL;
        char want[16];
        snprintf(want, sizeof want, "new%d", round);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_status(r, "OK");
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_bulk(r, want);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 4);
        cr_expect_str_eq(r->element[0]->str, want);
        if (round == 0) cr_expect_str_eq(r->element[1]->str, "v4");
        else cr_expect_eq(r->element[1]->type, REDIS_REPLY_NIL);
        cr_expect_eq(r->element[2]->type, REDIS_REPLY_NIL);
        cr_expect_eq(r->element[3]->type, REDIS_REPLY_NIL, "an expired key read ahead is still expired");
        freeReplyObject(r);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_int(r, round == 0);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_int(r, 1);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_nil(r);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_nil(r);
        /* between pipelines, another client changes a key the next run reads */
        expect_status(skv_cmd(w, "SET ra:7 other%d", round), "OK");
        expect_bulk(CMD("GET ra:7"), round == 0 ? "other0" : round == 1 ? "other1" : "other2");
        expect_status(skv_cmd(w, "SET ra:7 v7"), "OK");
    }
    redisFree(w);
    cr_expect_gt(info_field(c, "storage", "read_ahead_used"), used + 20, "the pipelines were never read ahead");
}

/* Each command's writes in the group of its loop iteration (the default):
 * a read after a write in the same pipeline reads the pending batch. */
Test(server, pipelined_reads_read_ahead_and_see_every_write, .init = up_no_value_cache, .fini = down) {
    pipelined_reads_see_every_write();
}

static void up_unbatched(void) {
    static const char *const extra[] = {"--value-cache-size", "0", "--batch-commits", "no", NULL};
    up_with(extra);
}

/* Each command committed on its own: the write in the pipeline changes
 * what was read ahead, which must be dropped. */
Test(server, pipelined_reads_see_every_write_committed_alone, .init = up_unbatched, .fini = down) {
    pipelined_reads_see_every_write();
}

/* KV.* work on database 0 whatever the client selected: a run of reads
 * read ahead stays in one database, so every reply is the right one. An
 * MGET alone is read ahead too. */
Test(server, read_ahead_across_databases_and_a_lone_mget, .init = up_no_value_cache, .fini = down) {
    expect_status(CMD("KV.SET ra:doc {\"db\":0}"), "OK");
    expect_status(CMD("SELECT 3"), "OK");
    expect_status(CMD("SET ra:doc db3"), "OK");
    for (int i = 0; i < 8; i++) expect_status(CMD("SET ra:m%d m%d", i, i), "OK");
    long long used = info_field(c, "storage", "read_ahead_used");
    redisAppendCommand(c, "KV.GET ra:doc");
    redisAppendCommand(c, "GET ra:doc");
    redisAppendCommand(c, "KV.GET ra:doc");
    redisAppendCommand(c, "GET ra:doc");
    redisAppendCommand(c, "GET ra:m1");
    redisReply *r = NULL;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        if (i == 4) expect_bulk(r, "m1");
        else if (i % 2) expect_bulk(r, "db3");
        else expect_bulk(r, "{\"db\":0}");
    }
    redisReply *m = ARRAY("MGET ra:m0 ra:m1 ra:none ra:m7 ra:m3");
    cr_assert_eq(m->elements, 5);
    cr_expect_str_eq(m->element[0]->str, "m0");
    cr_expect_str_eq(m->element[1]->str, "m1");
    cr_expect_eq(m->element[2]->type, REDIS_REPLY_NIL);
    cr_expect_str_eq(m->element[3]->str, "m7");
    cr_expect_str_eq(m->element[4]->str, "m3");
    freeReplyObject(m);
    cr_expect_geq(info_field(c, "storage", "read_ahead_used"), used + 5, "the MGET alone was not read ahead");
}

/* Writes that only ask whether their keys exist (SET, MSET, SETNX) have
 * their cache lines loaded ahead, a run of their own kind: a pipeline that
 * alternates them with reads of the same keys gets every reply right,
 * whichever of the two kinds each run is, and DBSIZE stays exact. */
Test(server, pipelined_existence_writes_load_lines_and_keep_every_reply, .init = up, .fini = down) {
    long long lines = info_field(c, "storage", "read_ahead_lines");
    long long base = take_int(CMD("DBSIZE"));
    for (int round = 0; round < 3; round++) {
        redisAppendCommand(c, "SET rx:a a%d", round);
        redisAppendCommand(c, "SET rx:b b%d", round);
        redisAppendCommand(c, "MSET rx:c c%d rx:a A%d rx:e e%d", round, round, round);
        redisAppendCommand(c, "SETNX rx:b never");
        redisAppendCommand(c, "SETNX rx:d%d d%d", round, round);
        redisAppendCommand(c, "GET rx:a");
        redisAppendCommand(c, "GET rx:b");
        redisAppendCommand(c, "MGET rx:c rx:d%d rx:e", round);
        redisAppendCommand(c, "DEL rx:e");
        redisAppendCommand(c, "SET rx:e again%d", round);
        redisAppendCommand(c, "DBSIZE");
        redisReply *r = NULL;
        char want[32];
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
            expect_status(r, "OK");
        }
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_int(r, 0); /* rx:b exists */
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_int(r, 1);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        snprintf(want, sizeof want, "A%d", round);
        expect_bulk(r, want);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        snprintf(want, sizeof want, "b%d", round);
        expect_bulk(r, want);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 3);
        snprintf(want, sizeof want, "c%d", round);
        cr_expect_str_eq(r->element[0]->str, want);
        snprintf(want, sizeof want, "d%d", round);
        cr_expect_str_eq(r->element[1]->str, want);
        snprintf(want, sizeof want, "e%d", round);
        cr_expect_str_eq(r->element[2]->str, want);
        freeReplyObject(r);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_int(r, 1);
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        expect_status(r, "OK");
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        /* rx:a, rx:b, rx:c, rx:e and one rx:d<n> a round */
        expect_int(r, base + 4 + round + 1);
    }
    expect_bulk(CMD("GET rx:e"), "again2");
    cr_expect_geq(info_field(c, "storage", "read_ahead_lines"), lines + 3 * 5,
                  "the runs of SET, MSET and SETNX never had their lines loaded");
}

/* A long command ends the run scanned ahead (the scanning parser keeps its
 * argv small); what follows it is read as usual, and every reply is right. */
Test(server, a_long_command_ends_the_read_ahead_run, .init = up, .fini = down) {
    for (int i = 0; i < 300; i++) expect_status(CMD("SET rl:%d %d", i, i), "OK");
    const char *argv[302];
    size_t lens[302];
    char names[302][16];
    argv[0] = "MGET";
    lens[0] = 4;
    for (int i = 0; i < 300; i++) {
        lens[i + 1] = (size_t)snprintf(names[i], sizeof names[i], "rl:%d", i);
        argv[i + 1] = names[i];
    }
    redisAppendCommand(c, "GET rl:1");
    redisAppendCommand(c, "GET rl:2");
    redisAppendCommandArgv(c, 301, argv, lens);
    redisAppendCommand(c, "GET rl:299");
    redisAppendCommand(c, "GET rl:298");
    redisReply *r = NULL;
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    expect_bulk(r, "1");
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    expect_bulk(r, "2");
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 300);
    for (int i = 0; i < 300; i++) {
        char want[8];
        snprintf(want, sizeof want, "%d", i);
        cr_expect_str_eq(r->element[i]->str, want);
    }
    freeReplyObject(r);
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    expect_bulk(r, "299");
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    expect_bulk(r, "298");
}
