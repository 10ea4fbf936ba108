/* End-to-end tests of the command table as clients see it: subcommands
 * as rows ("client|kill") in COMMAND INFO/DOCS/LIST/COUNT/GETKEYS, key
 * specs, Redis 7's arity and unknown-subcommand errors, commandstats and
 * the slow log per subcommand, subcommands inside MULTI. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

/* A field of a flat RESP2 map (name, value, ...). */
static redisReply *map_get(redisReply *m, const char *name) {
    if (m->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        if (m->element[i]->type == REDIS_REPLY_STRING && strcmp(m->element[i]->str, name) == 0)
            return m->element[i + 1];
    return NULL;
}

static int array_has(const redisReply *a, const char *s) {
    if (a->type != REDIS_REPLY_ARRAY) return 0;
    for (size_t i = 0; i < a->elements; i++)
        if (a->element[i]->str && strcmp(a->element[i]->str, s) == 0) return 1;
    return 0;
}

/* The one COMMAND INFO entry of name (asserted): free the returned reply. */
static redisReply *info_of(const char *name, redisReply **entry) {
    redisReply *r = ARRAY("COMMAND INFO %s", name);
    cr_assert_eq(r->elements, 1);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_ARRAY, "COMMAND INFO %s: no entry", name);
    cr_assert_eq(r->element[0]->elements, 10, "COMMAND INFO %s: %zu elements", name, r->element[0]->elements);
    *entry = r->element[0];
    return r;
}

Test(command, info_of_a_subcommand, .init = up, .fini = down) {
    redisReply *e, *r = info_of("client|kill", &e);
    cr_expect_str_eq(e->element[0]->str, "client|kill");
    cr_expect_eq(e->element[1]->integer, -3, "arity counts CLIENT and KILL");
    cr_expect(array_has(e->element[2], "no_auth"));
    cr_expect_eq(e->element[3]->integer, 0);
    cr_expect_eq(e->element[8]->elements, 0, "no key specs");
    cr_expect_eq(e->element[9]->elements, 0, "a subcommand has no subcommands");
    freeReplyObject(r);
    /* case-insensitive, named as the table names it */
    r = info_of("CONFIG|GET", &e);
    cr_expect_str_eq(e->element[0]->str, "config|get");
    cr_expect_eq(e->element[1]->integer, -3);
    cr_expect(array_has(e->element[2], "admin"));
    freeReplyObject(r);
    /* a keyed subcommand: the key is argument 2 */
    r = info_of("object|encoding", &e);
    cr_expect_eq(e->element[1]->integer, 3);
    cr_expect_eq(e->element[3]->integer, 2);
    cr_expect_eq(e->element[4]->integer, 2);
    cr_expect_eq(e->element[5]->integer, 1);
    freeReplyObject(r);
    /* an unknown subcommand is a nil entry, as an unknown command */
    r = ARRAY("COMMAND INFO client|nope");
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
}

Test(command, info_of_a_parent_lists_its_subcommands, .init = up, .fini = down) {
    redisReply *e, *r = info_of("client", &e);
    cr_expect_eq(e->element[1]->integer, -2);
    redisReply *subs = e->element[9];
    cr_assert_eq(subs->type, REDIS_REPLY_ARRAY);
    const char *want[] = {"client|id", "client|getname", "client|setname", "client|list", "client|info",
                          "client|kill", "client|reply", "client|help"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (size_t i = 0; i < subs->elements; i++) {
            redisReply *s = subs->element[i];
            cr_assert_eq(s->type, REDIS_REPLY_ARRAY);
            cr_assert_eq(s->elements, 10, "a subcommand's entry is a full COMMAND INFO entry");
            if (strcmp(s->element[0]->str, want[w]) == 0) found = 1;
        }
        cr_expect(found, "COMMAND INFO client lacks %s", want[w]);
    }
    freeReplyObject(r);
    /* a plain command: none */
    r = info_of("get", &e);
    cr_expect_eq(e->element[9]->elements, 0);
    freeReplyObject(r);
}

Test(command, count_list_and_all, .init = up, .fini = down) {
    long long n = take_int(CMD("COMMAND COUNT"));
    /* COMMAND and COMMAND INFO without names: top-level commands only */
    redisReply *all = ARRAY("COMMAND");
    cr_expect_eq((long long)all->elements, n);
    for (size_t i = 0; i < all->elements; i++)
        cr_expect_null(strchr(all->element[i]->element[0]->str, '|'), "COMMAND lists %s",
                       all->element[i]->element[0]->str);
    freeReplyObject(all);
    all = ARRAY("COMMAND INFO");
    cr_expect_eq((long long)all->elements, n);
    freeReplyObject(all);
    /* COMMAND LIST: every name, subcommands after their parent */
    redisReply *l = ARRAY("COMMAND LIST");
    cr_expect_gt((long long)l->elements, n);
    size_t at = 0;
    while (at < l->elements && strcmp(l->element[at]->str, "slowlog") != 0) at++;
    cr_assert_lt(at + 1, l->elements, "COMMAND LIST lacks slowlog");
    cr_expect(strncmp(l->element[at + 1]->str, "slowlog|", 8) == 0, "after slowlog comes %s",
              l->element[at + 1]->str);
    cr_expect(array_has(l, "command|getkeys"));
    cr_expect(array_has(l, "memory|usage"));
    freeReplyObject(l);
    /* COMMAND DOCS: a subcommand alone, and under its parent */
    redisReply *d = ARRAY("COMMAND DOCS client|kill");
    cr_assert_eq(d->elements, 2);
    cr_expect_str_eq(d->element[0]->str, "client|kill");
    redisReply *v = map_get(d->element[1], "summary");
    cr_expect(v && v->len > 0);
    freeReplyObject(d);
    d = ARRAY("COMMAND DOCS config");
    cr_assert_eq(d->elements, 2);
    redisReply *subs = map_get(d->element[1], "subcommands");
    cr_assert(subs, "COMMAND DOCS config has no subcommands");
    cr_expect(map_get(subs, "config|set"), "config|set is not among CONFIG's docs");
    freeReplyObject(d);
}

/* One key spec of a COMMAND INFO entry, checked against Redis 7's shape. */
static void expect_spec(const char *cmd, const char *f1, const char *f2, long long index, long long lastkey,
                        long long keystep) {
    redisReply *e, *r = info_of(cmd, &e);
    redisReply *specs = e->element[8];
    cr_assert_eq(specs->elements, 1, "%s: %zu key specs", cmd, specs->elements);
    redisReply *s = specs->element[0];
    redisReply *flags = map_get(s, "flags");
    cr_assert(flags, "%s: no flags", cmd);
    cr_expect(array_has(flags, f1), "%s: no %s", cmd, f1);
    if (f2) cr_expect(array_has(flags, f2), "%s: no %s", cmd, f2);
    redisReply *bs = map_get(s, "begin_search");
    cr_assert(bs, "%s: no begin_search", cmd);
    cr_expect_str_eq(map_get(bs, "type")->str, "index");
    cr_expect_eq(map_get(map_get(bs, "spec"), "index")->integer, index, "%s: begin_search index", cmd);
    redisReply *fk = map_get(s, "find_keys");
    cr_assert(fk, "%s: no find_keys", cmd);
    cr_expect_str_eq(map_get(fk, "type")->str, "range");
    redisReply *spec = map_get(fk, "spec");
    cr_expect_eq(map_get(spec, "lastkey")->integer, lastkey, "%s: lastkey", cmd);
    cr_expect_eq(map_get(spec, "keystep")->integer, keystep, "%s: keystep", cmd);
    cr_expect_eq(map_get(spec, "limit")->integer, 0, "%s: limit", cmd);
    freeReplyObject(r);
}

Test(command, key_specs, .init = up, .fini = down) {
    expect_spec("get", "RO", "access", 1, 0, 1);
    expect_spec("set", "RW", "update", 1, 0, 1);
    expect_spec("mset", "OW", "update", 1, -1, 2);
    expect_spec("del", "RM", "delete", 1, -1, 1);
    expect_spec("exists", "RO", NULL, 1, -1, 1);
    expect_spec("rename", "RW", NULL, 1, 1, 1);
    expect_spec("kv.get", "RO", NULL, 1, 0, 1);
    expect_spec("object|encoding", "RO", NULL, 2, 0, 1);
    expect_spec("memory|usage", "RO", NULL, 2, 0, 1);
    redisReply *e, *r = info_of("ping", &e);
    cr_expect_eq(e->element[8]->elements, 0, "a keyless command has no key specs");
    freeReplyObject(r);
    /* in RESP3 the specs are maps (hiredis 0.14 can't read RESP3: check the bytes) */
    int fd = raw_connect(srv.port);
    size_t n;
    int closed;
    const char *req = "HELLO 3\r\nCOMMAND INFO get\r\n";
    char *out = raw_roundtrip(fd, req, strlen(req), 300, &n, &closed);
    const char *spec = "*1\r\n%3\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n"
                       "$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n"
                       "$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n"
                       "$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n";
    cr_expect(out && strstr(out, spec), "RESP3 key spec of GET not in: %s", out ? out : "");
    free(out);
    close(fd);
}

Test(command, subcommand_arity_errors, .init = up, .fini = down) {
    expect_error_eq(CMD("CLIENT KILL"), "ERR wrong number of arguments for 'client|kill' command");
    expect_error_eq(CMD("client id x"), "ERR wrong number of arguments for 'client|id' command");
    expect_error_eq(CMD("CLIENT SETNAME"), "ERR wrong number of arguments for 'client|setname' command");
    expect_error_eq(CMD("CLIENT"), "ERR wrong number of arguments for 'client' command");
    expect_error_eq(CMD("CONFIG RESETSTAT now"), "ERR wrong number of arguments for 'config|resetstat' command");
    expect_error_eq(CMD("OBJECT ENCODING"), "ERR wrong number of arguments for 'object|encoding' command");
    expect_error_eq(CMD("OBJECT ENCODING a b"), "ERR wrong number of arguments for 'object|encoding' command");
    expect_error_eq(CMD("SLOWLOG LEN 1"), "ERR wrong number of arguments for 'slowlog|len' command");
    expect_error_eq(CMD("MEMORY USAGE"), "ERR wrong number of arguments for 'memory|usage' command");
    expect_error_eq(CMD("LATENCY HISTORY"), "ERR wrong number of arguments for 'latency|history' command");
    expect_error_eq(CMD("DEBUG SLEEP"), "ERR wrong number of arguments for 'debug|sleep' command");
    expect_error_eq(CMD("COMMAND COUNT 1"), "ERR wrong number of arguments for 'command|count' command");
    /* a subcommand's own check of its variadic arguments, in Redis's words */
    expect_error_eq(CMD("SLOWLOG GET 1 2"),
                    "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.");
    expect_error_eq(CMD("MEMORY USAGE k SAMPLES"),
                    "ERR unknown subcommand or wrong number of arguments for 'USAGE'. Try MEMORY HELP.");
}

/* DEBUG HELP below: DEBUG needs enable-debug-command */
static void up_debug(void) {
    const char *extra[] = {"--enable-debug-command", "yes", NULL};
    up_with(extra);
}

Test(command, unknown_subcommand_errors, .init = up_debug, .fini = down) {
    const char *parents[] = {"CLIENT", "CONFIG", "COMMAND", "OBJECT", "SLOWLOG", "MEMORY", "LATENCY",
                             "DEBUG", "FUNCTION"};
    for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "ERR unknown subcommand 'nope'. Try %s HELP.", parents[i]);
        expect_error_eq(CMD("%s nope x", parents[i]), want);
        /* and the HELP it points at answers */
        redisReply *h = CMD("%s HELP", parents[i]);
        cr_expect_eq(h->type, REDIS_REPLY_ARRAY, "%s HELP: type %d (%s)", parents[i], h->type, rstr(h));
        freeReplyObject(h);
    }
    /* the parent as typed, the subcommand as given (CR/LF shown as spaces) */
    expect_error_eq(CMD("client %s", "a\r\nb"), "ERR unknown subcommand 'a  b'. Try CLIENT HELP.");
    /* a subcommand's full name is not a command of its own, as in Redis */
    expect_error_eq(CMD("CLIENT|ID"), "ERR unknown command 'CLIENT|ID', with args beginning with: ");
    expect_error_eq(CMD("COMMAND GETKEYS object|encoding k"), "ERR Invalid command specified");
    /* a plain command's argument is not a subcommand */
    expect_bulk(CMD("ECHO nope"), "nope");
}

Test(command, getkeys_resolves_subcommands, .init = up, .fini = down) {
    expect_strs(CMD("COMMAND GETKEYS OBJECT ENCODING k"), 1, "k");
    expect_strs(CMD("COMMAND GETKEYS memory usage k2"), 1, "k2");
    expect_error_eq(CMD("COMMAND GETKEYS CLIENT NOPE x"), "ERR Invalid command specified");
    expect_error_eq(CMD("COMMAND GETKEYS CLIENT ID"), "ERR The command has no key arguments");
    expect_error_eq(CMD("COMMAND GETKEYS OBJECT ENCODING"), "ERR Invalid number of arguments specified for command");
}

Test(command, commandstats_per_subcommand, .init = up, .fini = down) {
    take_int(CMD("CLIENT ID"));
    take_int(CMD("client id"));
    freeReplyObject(CMD("CONFIG GET port"));
    expect_nil(CMD("OBJECT ENCODING missing"));
    expect_error(CMD("CLIENT KILL"), "ERR wrong number");
    expect_error(CMD("CLIENT NOPE"), "ERR unknown subcommand");
    char *s = take_bulk(CMD("INFO commandstats"));
    cr_expect(strstr(s, "cmdstat_client|id:calls=2,"), "%s", s);
    cr_expect(strstr(s, "cmdstat_config|get:calls=1,"), "%s", s);
    cr_expect(strstr(s, "cmdstat_object|encoding:calls=1,"), "%s", s);
    cr_expect(strstr(s, "cmdstat_client|kill:calls=0,") && strstr(strstr(s, "cmdstat_client|kill:"), "rejected_calls=1"),
              "%s", s);
    cr_expect_null(strstr(s, "cmdstat_client:"), "the parent counts nothing: %s", s);
    cr_expect_null(strstr(s, "nope"), "%s", s);
    free(s);
    /* CONFIG RESETSTAT clears them */
    expect_ok(CMD("CONFIG RESETSTAT"));
    s = take_bulk(CMD("INFO commandstats"));
    cr_expect_null(strstr(s, "cmdstat_client|id:"), "%s", s);
    free(s);
}

Test(command, slowlog_and_client_list_name_subcommands, .init = up, .fini = down) {
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than 0"));
    take_int(CMD("CLIENT ID"));
    redisReply *r = ARRAY("SLOWLOG GET 1");
    cr_assert_eq(r->elements, 1);
    redisReply *args = r->element[0]->element[3];
    cr_assert_eq(args->elements, 2);
    cr_expect_str_eq(args->element[0]->str, "CLIENT");
    cr_expect_str_eq(args->element[1]->str, "ID");
    freeReplyObject(r);
    expect_ok(CMD("CONFIG SET slowlog-log-slower-than -1"));
    /* CLIENT LIST names the rows: this connection's running command, another's last */
    redisContext *c2 = skv_connect(&srv);
    expect_ok(skv_cmd(c2, "CLIENT SETNAME other"));
    char *list = take_bulk(CMD("CLIENT LIST"));
    char *mine = strstr(list, "cmd=client|list ");
    char *theirs = strstr(list, "name=other ");
    cr_expect(mine, "%s", list);
    cr_expect(theirs && strstr(theirs, "cmd=client|setname "), "%s", list);
    free(list);
    redisFree(c2);
}

Test(command, subcommands_in_multi, .init = up, .fini = down) {
    expect_ok(CMD("MULTI"));
    expect_status(CMD("CONFIG GET port"), "QUEUED");
    expect_status(CMD("CLIENT ID"), "QUEUED");
    redisReply *r = ARRAY("EXEC");
    cr_expect_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->element[1]->type, REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    /* an unknown subcommand or a wrong arity aborts the transaction */
    expect_ok(CMD("MULTI"));
    expect_error(CMD("CONFIG NOPE"), "ERR unknown subcommand");
    expect_error(CMD("EXEC"), "EXECABORT");
    expect_ok(CMD("MULTI"));
    expect_error(CMD("CLIENT SETNAME"), "ERR wrong number");
    expect_error(CMD("EXEC"), "EXECABORT");
}
