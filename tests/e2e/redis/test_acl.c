/* End-to-end tests of ACL (server/core/acl.c, server/redis/cmd_acl.c,
 * server/domain/acl_keys.c) against a real server: every rule kind,
 * AUTH and HELLO AUTH, domain commands confined to one user's keys, ACL
 * LOG, the aclfile (save, load, a bad line at start), protected CONFIG SET
 * and DEBUG. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

static char acldir[64], aclpath[128];

static void make_acldir(void) {
    snprintf(acldir, sizeof acldir, "/tmp/stagekv-acl-XXXXXX");
    cr_assert(mkdtemp(acldir));
    snprintf(aclpath, sizeof aclpath, "%s/users.acl", acldir);
}

static void drop_acldir(void) {
    unlink(aclpath);
    rmdir(acldir);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static void up_aclfile(void) {
    make_acldir();
    const char *extra[] = {"--aclfile", aclpath, NULL};
    up_with(extra);
}

static void down_aclfile(void) {
    down();
    drop_acldir();
}

/* A new connection authenticated as user. */
static redisContext *as(const char *user, const char *pass) {
    redisContext *x = skv_connect(&srv);
    expect_ok(skv_cmd(x, "AUTH %s %s", user, pass));
    return x;
}

static const char *NOPERM_KEYS = "NOPERM this user has no permissions to access one of the keys used as arguments";

/* A field of a flat RESP2 map. */
static redisReply *field(redisReply *m, const char *name) {
    cr_assert_eq(m->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        if (!strcmp(m->element[i]->str, name)) return m->element[i + 1];
    cr_assert_fail("no field %s", name);
    return NULL;
}

Test(acl, default_user_and_whoami, .init = up, .fini = down) {
    expect_bulk(CMD("ACL WHOAMI"), "default");
    expect_strs(CMD("ACL USERS"), 1, "default");
    expect_strs(CMD("ACL LIST"), 1, "user default on nopass ~* &* +@all");
    expect_error_eq(CMD("ACL DELUSER default"), "ERR The 'default' user cannot be removed");
    expect_error_eq(CMD("AUTH pw"), "ERR AUTH <password> called without any password configured for the default "
                                    "user. Are you sure your configuration is correct?");
    expect_ok(CMD("AUTH default anything")); /* nopass: any password */
    expect_error(CMD("ACL SETUSER %s", "a b"), "ERR Usernames can't contain spaces or null characters");
    expect_error_eq(CMD("ACL NOPE"), "ERR unknown subcommand 'NOPE'. Try ACL HELP.");
    expect_error_eq(CMD("ACL HELP x"), "ERR wrong number of arguments for 'acl|help' command");
    redisReply *h = ARRAY("ACL HELP");
    cr_expect_gt(h->elements, 10);
    freeReplyObject(h);
}

Test(acl, passwords_and_auth, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER newuser >passwd1"));
    redisContext *x = skv_connect(&srv);
    const char *wrong = "WRONGPASS invalid username-password pair or user is disabled.";
    expect_error_eq(skv_cmd(x, "AUTH newuser passwd1"), wrong); /* new users start off */
    expect_ok(CMD("ACL SETUSER newuser on +acl"));
    expect_ok(skv_cmd(x, "AUTH newuser passwd1"));
    expect_bulk(skv_cmd(x, "ACL WHOAMI"), "newuser");
    expect_ok(CMD("ACL SETUSER newuser >passwd2"));
    expect_ok(skv_cmd(x, "AUTH newuser passwd1"));
    expect_ok(skv_cmd(x, "AUTH newuser passwd2"));
    /* wrong passwords of the same length and of other lengths: the same answer */
    expect_error_eq(skv_cmd(x, "AUTH newuser passwd3"), wrong);
    expect_error_eq(skv_cmd(x, "AUTH newuser p"), wrong);
    expect_error_eq(skv_cmd(x, "AUTH nosuchuser passwd1"), wrong);
    expect_ok(CMD("ACL SETUSER newuser <passwd1"));
    expect_error_eq(skv_cmd(x, "AUTH newuser passwd1"), wrong);
    expect_error(CMD("ACL SETUSER newuser <passwd1"),
                 "ERR Error in ACL SETUSER modifier '<passwd1': The password you are trying to remove");
    /* #hash and !hash: SHA-256 of "passwd4" */
    const char *h = "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6";
    expect_ok(CMD("ACL SETUSER newuser #%s", h));
    expect_ok(skv_cmd(x, "AUTH newuser passwd4"));
    redisReply *g = ARRAY("ACL GETUSER newuser");
    redisReply *pw = field(g, "passwords");
    int seen = 0;
    for (size_t i = 0; i < pw->elements; i++) {
        seen |= !strcmp(pw->element[i]->str, h);
        cr_expect(strstr(pw->element[i]->str, "passwd") == NULL, "a password shown in clear");
    }
    cr_expect(seen, "the hash is listed");
    freeReplyObject(g);
    expect_error(CMD("ACL SETUSER newuser #abc"), "ERR Error in ACL SETUSER modifier '#abc': The password hash must");
    expect_ok(CMD("ACL SETUSER newuser !%s", h));
    expect_error_eq(skv_cmd(x, "AUTH newuser passwd4"), wrong);
    expect_ok(CMD("ACL SETUSER newuser nopass"));
    expect_ok(skv_cmd(x, "AUTH newuser zipzap"));
    expect_ok(CMD("ACL SETUSER newuser resetpass"));
    expect_error_eq(skv_cmd(x, "AUTH newuser zipzap"), wrong);
    expect_ok(CMD("ACL SETUSER newuser >p off"));
    expect_error_eq(skv_cmd(x, "AUTH newuser p"), wrong);
    /* HELLO AUTH */
    expect_ok(CMD("ACL SETUSER newuser on"));
    redisContext *y = skv_connect(&srv);
    expect_error_eq(skv_cmd(y, "HELLO 2 AUTH newuser wrong"), wrong);
    redisReply *r = skv_cmd(y, "HELLO 2 AUTH newuser p");
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "HELLO AUTH: %s", rstr(r));
    freeReplyObject(r);
    expect_bulk(skv_cmd(y, "ACL WHOAMI"), "newuser");
    redisFree(x);
    redisFree(y);
}

Test(acl, requirepass_is_the_default_users_password, .init = up, .fini = down) {
    down();
    const char *extra[] = {"--requirepass", "s3cret", "--enable-protected-configs", "yes", NULL};
    up_with(extra);
    expect_error_eq(CMD("GET k"), "NOAUTH Authentication required.");
    expect_ok(CMD("AUTH s3cret"));
    redisReply *l = ARRAY("ACL LIST");
    cr_expect(strstr(l->element[0]->str, "user default on #") == l->element[0]->str, "%s",
              l->element[0]->str);
    freeReplyObject(l);
    expect_ok(CMD("CONFIG SET requirepass other"));
    redisContext *x = skv_connect(&srv);
    expect_error(skv_cmd(x, "AUTH s3cret"), "WRONGPASS");
    expect_ok(skv_cmd(x, "AUTH default other"));
    redisFree(x);
    expect_ok(CMD("CONFIG SET requirepass %s", ""));
    x = skv_connect(&srv);
    expect_status(skv_cmd(x, "PING"), "PONG"); /* nopass again: no AUTH needed */
    redisFree(x);
    /* the default user off: new connections are not authenticated */
    expect_ok(CMD("ACL SETUSER default off"));
    x = skv_connect(&srv);
    expect_error_eq(skv_cmd(x, "PING"), "NOAUTH Authentication required.");
    redisFree(x);
    expect_ok(CMD("ACL SETUSER default on"));
}

Test(acl, command_rules, .init = up, .fini = down) {
    const char *noperm_get = "NOPERM this user has no permissions to run the 'get' command";
    expect_ok(CMD("ACL SETUSER u on nopass allkeys"));
    redisContext *x = as("u", "x");
    expect_error_eq(skv_cmd(x, "GET k"), noperm_get); /* no commands by default */
    expect_ok(CMD("ACL SETUSER u +get"));
    expect_nil(skv_cmd(x, "GET k"));
    expect_error_eq(skv_cmd(x, "SET k v"), "NOPERM this user has no permissions to run the 'set' command");
    expect_ok(CMD("ACL SETUSER u +@string"));
    expect_ok(skv_cmd(x, "SET k v"));
    expect_ok(CMD("ACL SETUSER u -@string +incr"));
    expect_error_eq(skv_cmd(x, "GET k"), noperm_get);
    expect_int(skv_cmd(x, "INCR n"), 1);
    expect_ok(CMD("ACL SETUSER u allcommands -@admin"));
    expect_error_eq(skv_cmd(x, "CONFIG GET port"),
                    "NOPERM this user has no permissions to run the 'config|get' command");
    expect_ok(CMD("ACL SETUSER u +config|get"));
    redisReply *r = ARRAY("CONFIG GET port");
    freeReplyObject(r);
    r = skv_cmd(x, "CONFIG GET port");
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "+config|get: %s", rstr(r));
    freeReplyObject(r);
    expect_error_eq(skv_cmd(x, "CONFIG SET maxclients 10"),
                    "NOPERM this user has no permissions to run the 'config|set' command");
    redisReply *g = ARRAY("ACL GETUSER u");
    cr_expect_str_eq(field(g, "commands")->str, "+@all -@admin +config|get");
    cr_expect_str_eq(field(g, "keys")->str, "~*");
    freeReplyObject(g);
    expect_ok(CMD("ACL SETUSER u -client +client|id"));
    r = skv_cmd(x, "CLIENT ID");
    cr_expect_eq(r->type, REDIS_REPLY_INTEGER, "+client|id: %s", rstr(r));
    freeReplyObject(r);
    expect_error_eq(skv_cmd(x, "CLIENT KILL 1.2.3.4:5"),
                    "NOPERM this user has no permissions to run the 'client|kill' command");
    expect_ok(CMD("ACL SETUSER u nocommands"));
    expect_error_eq(skv_cmd(x, "INCR n"), "NOPERM this user has no permissions to run the 'incr' command");
    /* AUTH, HELLO, QUIT, RESET work for every user */
    expect_ok(skv_cmd(x, "AUTH u x"));
    expect_error(CMD("ACL SETUSER u +nosuch"),
                 "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
    expect_error(CMD("ACL SETUSER u +@nosuch"), "ERR Error in ACL SETUSER modifier '+@nosuch'");
    expect_error(CMD("ACL SETUSER u +config|get|x"), "ERR Error in ACL SETUSER modifier");
    /* all or nothing: a bad rule leaves the user as it was, a new user uncreated */
    expect_error(CMD("ACL SETUSER u +get bogus"), "ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
    expect_error_eq(skv_cmd(x, "GET k"), noperm_get);
    expect_error(CMD("ACL SETUSER fresh on bogus"), "ERR");
    expect_nil(CMD("ACL GETUSER fresh"));
    /* reset */
    expect_ok(CMD("ACL SETUSER u reset"));
    expect_strs(CMD("ACL LIST"), 2, "user default on nopass ~* &* +@all",
                "user u off sanitize-payload resetchannels -@all");
    redisFree(x);
}

Test(acl, key_rules, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER u on nopass +@all ~foo:* %%R~ro:* %%W~wo:*"));
    redisContext *x = as("u", "x");
    expect_ok(skv_cmd(x, "SET foo:1 a"));
    expect_error_eq(skv_cmd(x, "SET bar:1 b"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "MSET foo:2 a bar:2 b"), NOPERM_KEYS);
    expect_ok(CMD("SET ro:1 r"));
    expect_bulk(skv_cmd(x, "GET ro:1"), "r");
    expect_error_eq(skv_cmd(x, "SET ro:1 w"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "GET wo:1"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "INCR wo:1"), NOPERM_KEYS); /* a write that replies what it read needs both */
    expect_int(skv_cmd(x, "DEL foo:1"), 1);
    /* KV.* prefixes are ranges: a prefix wider than the pattern is refused */
    expect_ok(CMD("ACL SETUSER u resetkeys ~users:u1:*"));
    redisReply *r = skv_cmd(x, "KV.GETBYPREFIX users:u1:");
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    freeReplyObject(r);
    expect_error_eq(skv_cmd(x, "KV.GETBYPREFIX users:"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "KV.COUNT users:u"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "SET foo:1 a"), NOPERM_KEYS);
    expect_ok(CMD("ACL SETUSER u allkeys"));
    expect_ok(skv_cmd(x, "SET bar:1 b"));
    expect_error(CMD("ACL SETUSER u ~x"), "ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the *");
    expect_ok(CMD("ACL SETUSER u resetkeys"));
    expect_error_eq(skv_cmd(x, "GET bar:1"), NOPERM_KEYS);
    redisFree(x);
}

Test(acl, channel_rules_are_kept, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER u &news:* &chat"));
    redisReply *g = ARRAY("ACL GETUSER u");
    cr_expect_str_eq(field(g, "channels")->str, "&news:* &chat");
    freeReplyObject(g);
    expect_ok(CMD("ACL SETUSER u allchannels"));
    g = ARRAY("ACL GETUSER u");
    cr_expect_str_eq(field(g, "channels")->str, "&*");
    freeReplyObject(g);
    expect_error(CMD("ACL SETUSER u &x"), "ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the *");
    expect_ok(CMD("ACL SETUSER u resetchannels"));
    g = ARRAY("ACL GETUSER u");
    cr_expect_str_eq(field(g, "channels")->str, "");
    freeReplyObject(g);
}

/* The platform's row-level security: an account confined to one user's rows. */
Test(acl, domain_commands_confined_to_one_user, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER app1 on >pw +@domain -@admin ~users:u1:* ~coins:u1:* ~tracks:u1:* "
                  "~donations:u1:* ~notifications:u1:*"));
    redisContext *x = as("app1", "pw");
    expect_int(skv_cmd(x, "COINS.ADD u1 100 gift"), 100);
    expect_error_eq(skv_cmd(x, "COINS.ADD u2 100 gift"), NOPERM_KEYS);
    expect_int(skv_cmd(x, "COINS.BALANCE u1"), 100);
    expect_error_eq(skv_cmd(x, "COINS.BALANCE u2"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "COINS.TRANSFER u1 u2 5 x"), NOPERM_KEYS); /* touches coins:u2: */
    expect_error_eq(skv_cmd(x, "DONATION.SEND u1 u2 5"), NOPERM_KEYS);
    char id[17];
    assert_id(skv_cmd(x, "TRACK.CREATE u1 {\"title\":\"a\"}"), id);
    expect_error_eq(skv_cmd(x, "TRACK.CREATE u2 {\"title\":\"a\"}"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "TRACK.LIST u2"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "VIDEO.LIST u1"), NOPERM_KEYS); /* videos:u1: is not granted */
    expect_ok(skv_cmd(x, "USER.CREATE u1 {\"email\":\"a@b.c\",\"name\":\"A\",\"role\":\"fan\"}"));
    expect_error_eq(skv_cmd(x, "USER.GET u2"), NOPERM_KEYS);
    expect_error_eq(skv_cmd(x, "USER.DELETE u1"), NOPERM_KEYS); /* needs every family of u1 */
    expect_error_eq(skv_cmd(x, "USER.LIST"), "NOPERM this user has no permissions to run the 'user.list' command");
    expect_error_eq(skv_cmd(x, "GET users:u1:base"), "NOPERM this user has no permissions to run the 'get' command");
    /* a failed check wrote nothing */
    expect_int(CMD("COINS.BALANCE u2"), 0);
    expect_int(CMD("TRACK.COUNT u2"), 0);
    /* a read-only account: %R~ keys refuse the writes */
    expect_ok(CMD("ACL SETUSER ro1 on >pw +@domain %%R~coins:u1:*"));
    redisContext *y = as("ro1", "pw");
    expect_int(skv_cmd(y, "COINS.BALANCE u1"), 100);
    expect_error_eq(skv_cmd(y, "COINS.SPEND u1 1 x"), NOPERM_KEYS);
    /* DRYRUN says the same without running */
    expect_bulk(CMD("ACL DRYRUN app1 COINS.SPEND u2 1 x"), "This user has no permissions to access the 'coins:u2:*' key");
    expect_ok(CMD("ACL DRYRUN app1 COINS.SPEND u1 1 x"));
    expect_int(CMD("COINS.BALANCE u1"), 100);
    expect_bulk(CMD("ACL DRYRUN app1 GET k"), "This user has no permissions to run the 'get' command");
    expect_error_eq(CMD("ACL DRYRUN nobody GET k"), "ERR User 'nobody' not found");
    expect_error_eq(CMD("ACL DRYRUN app1 NOSUCH k"), "ERR Command 'NOSUCH' not found");
    expect_error_eq(CMD("ACL DRYRUN app1 GET"), "ERR wrong number of arguments for 'get' command");
    redisFree(x);
    redisFree(y);
}

Test(acl, categories_in_command_info_and_acl_cat, .init = up, .fini = down) {
    redisReply *r = ARRAY("COMMAND INFO coins.spend");
    redisReply *cats = r->element[0]->element[6];
    int coins = 0, domain = 0, write = 0;
    for (size_t i = 0; i < cats->elements; i++) {
        coins |= !strcmp(cats->element[i]->str, "@coins");
        domain |= !strcmp(cats->element[i]->str, "@domain");
        write |= !strcmp(cats->element[i]->str, "@write");
    }
    cr_expect(coins && domain && write, "COINS.SPEND's categories");
    freeReplyObject(r);
    r = ARRAY("ACL CAT");
    const char *want[] = {"keyspace", "read", "write", "admin", "dangerous", "connection", "pubsub", "hash",
                          "users", "content", "coins", "payments", "messaging", "notifications", "email",
                          "support", "settings", "analytics", "domain"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (size_t i = 0; i < r->elements; i++) found |= !strcmp(r->element[i]->str, want[w]);
        cr_expect(found, "ACL CAT lacks %s", want[w]);
    }
    freeReplyObject(r);
    r = ARRAY("ACL CAT support");
    int ticket = 0, get = 0;
    for (size_t i = 0; i < r->elements; i++) {
        ticket |= !strcmp(r->element[i]->str, "ticket.open");
        get |= !strcmp(r->element[i]->str, "get");
    }
    cr_expect(ticket && !get, "@support is the TICKET.* commands");
    freeReplyObject(r);
    r = ARRAY("ACL CAT keyspace");
    for (size_t i = 0; i < r->elements; i++) cr_expect_str_neq(r->element[i]->str, "set");
    freeReplyObject(r);
    r = ARRAY("ACL CAT dangerous");
    int flushall = 0, config_set = 0;
    for (size_t i = 0; i < r->elements; i++) {
        flushall |= !strcmp(r->element[i]->str, "flushall");
        config_set |= !strcmp(r->element[i]->str, "config|set");
    }
    cr_expect(flushall && config_set);
    freeReplyObject(r);
    expect_error_eq(CMD("ACL CAT NON_EXISTS"), "ERR Unknown category 'NON_EXISTS'");
    expect_error_eq(CMD("ACL CAT a b"), "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.");
    /* GENPASS: getrandom, hex, default 256 bits */
    char *a = take_bulk(CMD("ACL GENPASS")), *b = take_bulk(CMD("ACL GENPASS"));
    cr_expect_eq(strlen(a), 64);
    cr_expect_str_neq(a, b);
    free(a);
    free(b);
    a = take_bulk(CMD("ACL GENPASS 5"));
    cr_expect_eq(strlen(a), 2);
    free(a);
    expect_error(CMD("ACL GENPASS -236"), "ERR ACL GENPASS argument must be the number");
    expect_error(CMD("ACL GENPASS 5000"), "ERR ACL GENPASS argument must be the number");
}

Test(acl, log_of_denials, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER antirez >foo on +set ~object:1234 +multi +exec"));
    redisContext *x = as("antirez", "foo");
    expect_error(skv_cmd(x, "GET foo"), "NOPERM");
    redisReply *l = ARRAY("ACL LOG");
    cr_assert_eq(l->elements, 1);
    redisReply *e = l->element[0];
    cr_expect_eq(e->elements, 20, "Redis 7's fields");
    cr_expect_eq(field(e, "count")->integer, 1);
    cr_expect_str_eq(field(e, "reason")->str, "command");
    cr_expect_str_eq(field(e, "context")->str, "toplevel");
    cr_expect_str_eq(field(e, "object")->str, "get");
    cr_expect_str_eq(field(e, "username")->str, "antirez");
    cr_expect(strstr(field(e, "client-info")->str, "user=antirez") != NULL);
    cr_expect(strstr(field(e, "client-info")->str, "cmd=get") != NULL, "%s", field(e, "client-info")->str);
    freeReplyObject(l);
    /* equal denials are one entry with a count */
    expect_error(skv_cmd(x, "GET foo"), "NOPERM");
    expect_error(skv_cmd(x, "GET foo"), "NOPERM");
    l = ARRAY("ACL LOG");
    cr_expect_eq(l->elements, 1);
    cr_expect_eq(field(l->element[0], "count")->integer, 3);
    freeReplyObject(l);
    /* a key, newest first */
    expect_error_eq(skv_cmd(x, "SET somekeynotallowed 1"), NOPERM_KEYS);
    l = ARRAY("ACL LOG");
    cr_expect_str_eq(field(l->element[0], "reason")->str, "key");
    cr_expect_str_eq(field(l->element[0], "object")->str, "somekeynotallowed");
    freeReplyObject(l);
    /* a queued command: context multi */
    expect_ok(skv_cmd(x, "MULTI"));
    expect_error(skv_cmd(x, "INCR foo"), "NOPERM");
    expect_error(skv_cmd(x, "EXEC"), "EXECABORT");
    l = ARRAY("ACL LOG 1");
    cr_expect_eq(l->elements, 1);
    cr_expect_str_eq(field(l->element[0], "context")->str, "multi");
    cr_expect_str_eq(field(l->element[0], "object")->str, "incr");
    freeReplyObject(l);
    /* failed AUTH */
    expect_error(skv_cmd(x, "AUTH antirez wrong"), "WRONGPASS");
    l = ARRAY("ACL LOG");
    cr_expect_str_eq(field(l->element[0], "reason")->str, "auth");
    cr_expect_str_eq(field(l->element[0], "object")->str, "AUTH");
    cr_expect_str_eq(field(l->element[0], "username")->str, "antirez");
    freeReplyObject(l);
    expect_ok(CMD("ACL LOG RESET"));
    expect_len(CMD("ACL LOG"), 0);
    /* limited to acllog-max-len */
    expect_ok(CMD("CONFIG SET acllog-max-len 5"));
    for (int j = 0; j < 10; j++) expect_error(skv_cmd(x, "SET obj:%d 1", j), "NOPERM");
    expect_len(CMD("ACL LOG"), 5);
    expect_len(CMD("ACL LOG 2"), 2);
    expect_error(CMD("ACL LOG -1"), "ERR value is out of range");
    redisFree(x);
}

/* Rules changed between MULTI and EXEC are checked again at EXEC (Redis). */
Test(acl, exec_checks_again, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER u on nopass +multi +exec +incr allkeys"));
    redisContext *x = as("u", "x");
    expect_ok(skv_cmd(x, "MULTI"));
    expect_status(skv_cmd(x, "INCR n"), "QUEUED");
    expect_ok(CMD("ACL SETUSER u -incr"));
    redisReply *r = skv_cmd(x, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->element[0]->type, REDIS_REPLY_ERROR);
    cr_expect(strstr(r->element[0]->str, "NOPERM") != NULL);
    freeReplyObject(r);
    expect_nil(CMD("GET n"));
    redisFree(x);
}

Test(acl, deluser_disconnects_its_clients, .init = up, .fini = down) {
    expect_ok(CMD("ACL SETUSER gone on nopass +@all allkeys"));
    expect_ok(CMD("ACL SETUSER other on nopass +@all"));
    redisContext *x = as("gone", "x");
    redisContext *y = as("gone", "x");
    expect_int(skv_cmd(x, "ACL DELUSER gone other nobody"), 2);
    redisReply *r = redisCommand(x, "PING");
    cr_expect(r == NULL, "the deleting client is closed after its reply");
    if (r) freeReplyObject(r);
    r = redisCommand(y, "PING");
    cr_expect(r == NULL, "another client of the user is closed");
    if (r) freeReplyObject(r);
    expect_strs(CMD("ACL USERS"), 1, "default");
    redisFree(x);
    redisFree(y);
}

Test(acl, aclfile_save_load_and_restart, .init = up_aclfile, .fini = down_aclfile) {
    expect_ok(CMD("ACL SETUSER web on >webpw +@domain -@admin ~users:* ~coins:*"));
    expect_ok(CMD("ACL SAVE"));
    char *text = NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cat %s", aclpath);
    cr_assert_eq(run_cmd(cmd, &text), 0);
    cr_expect(strstr(text, "user web on #") != NULL, "%s", text);
    cr_expect(strstr(text, "webpw") == NULL, "a password in clear in the file");
    free(text);
    /* ACL LOAD replaces the users by the file's */
    expect_ok(CMD("ACL SETUSER extra on nopass"));
    expect_ok(CMD("ACL LOAD"));
    expect_strs(CMD("ACL USERS"), 2, "default", "web");
    /* a bad line: ACL LOAD changes nothing and names the line */
    write_file(aclpath, "user default on nopass ~* &* +@all\nuser web on >x +nosuchcmd\n");
    expect_error(CMD("ACL LOAD"), "ERR ");
    redisReply *r = CMD("ACL LOAD");
    cr_expect(strstr(rstr(r), "users.acl:2:") != NULL, "%s", rstr(r));
    freeReplyObject(r);
    expect_strs(CMD("ACL USERS"), 2, "default", "web");
    /* saved users survive a restart */
    expect_ok(CMD("ACL SAVE"));
    redisFree(c);
    c = NULL;
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_strs(CMD("ACL USERS"), 2, "default", "web");
    redisContext *x = as("web", "webpw");
    expect_int(skv_cmd(x, "COINS.ADD u1 5 x"), 5);
    expect_error_eq(skv_cmd(x, "TRACK.LIST u1"), NOPERM_KEYS);
    redisFree(x);
}

/* A bad line at start is a startup error that names the line. */
Test(acl, aclfile_bad_line_stops_the_start) {
    make_acldir();
    write_file(aclpath, "user default on nopass ~* &* +@all\n\nuser web on +@nosuch\n");
    char cmd[512], data[128];
    snprintf(data, sizeof data, "%s/data", acldir);
    snprintf(cmd, sizeof cmd, "timeout 20 %s --port 1 --dir %s --aclfile %s 2>&1", STAGEKV_SERVER_BIN, data, aclpath);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    cr_expect_neq(rc, 0, "the server started with a bad aclfile");
    cr_expect(strstr(out, "users.acl:3:") != NULL, "the line is not named: %s", out);
    cr_expect(strstr(out, "+@nosuch") != NULL, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", acldir);
    run_cmd(cmd, NULL);
}

Test(acl, aclfile_without_file_configured, .init = up, .fini = down) {
    expect_error(CMD("ACL SAVE"), "ERR This Redis instance is not configured to use an ACL file.");
    expect_error(CMD("ACL LOAD"), "ERR This Redis instance is not configured to use an ACL file.");
}

Test(acl, protected_configs_and_debug, .init = up, .fini = down) {
    const char *refused = "ERR CONFIG SET failed (possibly related to argument '%s') - can't set protected config";
    char want[200];
    const char *names[] = {"domain-write-guard", "requirepass", "fsync", "appendfsync", "batch-commits"};
    const char *values[] = {"no", "x", "no", "no", "no"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(want, sizeof want, refused, names[i]);
        expect_error_eq(CMD("CONFIG SET %s %s", names[i], values[i]), want);
    }
    redisReply *r = ARRAY("CONFIG GET domain-write-guard");
    cr_expect_str_eq(r->element[1]->str, "yes", "a refused CONFIG SET changed it");
    freeReplyObject(r);
    /* all or nothing: a protected option beside a plain one changes neither */
    snprintf(want, sizeof want, refused, "domain-write-guard");
    expect_error_eq(CMD("CONFIG SET maxclients 50 domain-write-guard no"), want);
    r = ARRAY("CONFIG GET maxclients");
    cr_expect_str_neq(r->element[1]->str, "50");
    freeReplyObject(r);
    expect_ok(CMD("CONFIG SET maxclients 50")); /* not protected */
    expect_error(CMD("CONFIG SET dir /tmp"), "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set immutable");
    expect_error(CMD("CONFIG SET enable-protected-configs yes"), "ERR CONFIG SET failed");
    expect_error_eq(CMD("DEBUG SLEEP 0"),
                    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
                    "can run it from a local connection, otherwise you need to set this option in the "
                    "configuration file, and then restart the server.");
    /* CONFIG needs @admin: a user without it cannot even try */
    expect_ok(CMD("ACL SETUSER app on nopass +@all -@admin"));
    redisContext *x = as("app", "x");
    expect_error_eq(skv_cmd(x, "CONFIG SET domain-write-guard no"),
                    "NOPERM this user has no permissions to run the 'config|set' command");
    redisFree(x);
    /* "local": allowed from loopback, which this connection is */
    down();
    const char *extra[] = {"--enable-protected-configs", "local", "--enable-debug-command", "local", NULL};
    up_with(extra);
    expect_ok(CMD("CONFIG SET domain-write-guard no"));
    expect_ok(CMD("DEBUG SLEEP 0"));
    r = ARRAY("CONFIG GET enable-protected-configs");
    cr_expect_str_eq(r->element[1]->str, "local");
    freeReplyObject(r);
}

/* The service accounts of docs/security.md, loaded from an aclfile. */
Test(acl, documented_service_accounts) {
    make_acldir();
    write_file(aclpath,
               "user default off resetkeys resetchannels -@all\n"
               "user web on >webpw ~users:* ~settings:* ~coins:* ~donations:* ~payments:* ~tracks:* ~videos:* "
               "~concerts:* ~news:* ~banners:* ~promotion:* ~pitching:* ~messages:* ~conversations:* "
               "~notifications:* ~email:* ~tickets:* ~analytics:* resetchannels -@all +@domain -@admin +ping "
               "+hello +client|setname\n"
               "user analytics on >anpw %R~* resetchannels -@all +@analytics -@write +ping\n"
               "user support on >suppw ~tickets:* %R~users:* resetchannels -@all +@support +user.get +ping\n"
               "user admin on >adminpw ~* &* +@all\n");
    const char *extra[] = {"--aclfile", aclpath, NULL};
    skv_start(&srv, extra);
    redisContext *anon = skv_connect(&srv);
    expect_error_eq(skv_cmd(anon, "PING"), "NOAUTH Authentication required.");
    expect_error(skv_cmd(anon, "AUTH x"), "WRONGPASS"); /* the default user is off */
    redisFree(anon);
    c = as("admin", "adminpw");
    redisContext *web = as("web", "webpw"), *an = as("analytics", "anpw"), *sup = as("support", "suppw");
    const char *noperm = "NOPERM this user has no permissions to run the '";
    /* web: the domain commands, no admin, no plain data commands */
    expect_int(skv_cmd(web, "COINS.ADD u1 10 x"), 10);
    char id[17], ticket[17];
    assert_id(skv_cmd(web, "TRACK.CREATE u1 {\"t\":1}"), id);
    expect_int(skv_cmd(web, "ANALYTICS.INCR tracks %s 2026-01-01 plays", id), 1);
    assert_id(skv_cmd(web, "TICKET.OPEN u1 {\"subject\":\"s\"}"), ticket);
    expect_error(skv_cmd(web, "USER.LIST"), noperm);
    expect_error(skv_cmd(web, "TICKET.OPEN.LIST"), noperm);
    expect_error(skv_cmd(web, "CONFIG GET port"), noperm);
    expect_error(skv_cmd(web, "GET users:u1:base"), noperm);
    expect_error(skv_cmd(web, "KV.GET users:u1:base"), noperm);
    expect_error(skv_cmd(web, "ACL LIST"), noperm);
    /* analytics: reads of @analytics only */
    redisReply *r = skv_cmd(an, "ANALYTICS.RANGE tracks %s 2026-01-01 2026-01-31", id);
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    freeReplyObject(r);
    r = skv_cmd(an, "DASHBOARD.GET u1");
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    freeReplyObject(r);
    expect_error(skv_cmd(an, "ANALYTICS.INCR tracks %s 2026-01-01 plays", id), noperm);
    expect_error(skv_cmd(an, "COINS.BALANCE u1"), noperm);
    /* support: TICKET.* and reading users */
    r = skv_cmd(sup, "TICKET.GET %s", ticket);
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    freeReplyObject(r);
    assert_id(skv_cmd(sup, "TICKET.REPLY %s staff hello", ticket), id);
    r = skv_cmd(sup, "TICKET.OPEN.LIST");
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    freeReplyObject(r);
    expect_nil(skv_cmd(sup, "USER.GET u9"));
    expect_error(skv_cmd(sup, "USER.UPDATE u1 base {}"), noperm);
    expect_error(skv_cmd(sup, "COINS.ADD u1 1 x"), noperm);
    /* admin: everything */
    r = ARRAY("USER.LIST");
    freeReplyObject(r);
    expect_int(CMD("COINS.BALANCE u1"), 10);
    redisFree(web);
    redisFree(an);
    redisFree(sup);
    down_aclfile();
}
