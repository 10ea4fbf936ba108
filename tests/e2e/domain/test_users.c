/* End-to-end tests of USER.CREATE, USER.BYEMAIL, USER.GET and USER.UPDATE
 * (SPEC §4.2) against a real stagekv-server. Replies are JSON texts; the
 * server's encoder is compact, so members are checked as "key":value
 * substrings. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

/* A bulk JSON reply holding every string of has[] and none of hasnt[]
 * (NULL-terminated lists, either may be NULL); returns the text (free()). */
#define expect_json(r, has, hasnt) expect_json_l(__LINE__, (r), (has), (hasnt))

static char *expect_json_l(int line, redisReply *r, const char *const *has, const char *const *hasnt) {
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "line %d: expected JSON, got type %d (%s)", line, r->type, rstr(r));
    char *text = strdup(r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    for (const char *const *p = has; p && *p; p++)
        cr_expect(strstr(text, *p) != NULL, "line %d: '%s' lacks '%s'", line, text, *p);
    for (const char *const *p = hasnt; p && *p; p++)
        cr_expect(strstr(text, *p) == NULL, "line %d: '%s' has '%s'", line, text, *p);
    return text;
}
#define S(...) ((const char *const[]){__VA_ARGS__, NULL})

static redisReply *create(const char *uid, const char *json) { return skv_cmd(c, "USER.CREATE %s %s", uid, json); }
static redisReply *byemail(const char *email) { return skv_cmd(c, "USER.BYEMAIL %s", email); }
static redisReply *update(const char *uid, const char *sec, const char *patch) {
    return skv_cmd(c, "USER.UPDATE %s %s %s", uid, sec, patch);
}

#define ANN "{\"email\":\"foo@x.com\",\"name\":\"Ann\",\"role\":\"artist\"}"
#define BEN "{\"email\":\"bar@x.com\",\"name\":\"Ben\",\"role\":\"fan\"}"

TestSuite(users, .init = up, .fini = down);

Test(users, create_get_and_the_documents) {
    expect_nil(skv_cmd(c, "USER.GET u1"));
    expect_status(create("u1", "{\"email\":\"Foo@X.com\",\"name\":\"Ann\",\"role\":\"artist\",\"extra\":[1,2],"
                               "\"id\":\"forged\",\"user_id\":\"x\",\"created_at\":\"1999\",\"updated_at\":\"1999\"}"),
                  "OK");
    char *u = expect_json(skv_cmd(c, "USER.GET u1"),
                          S("{\"id\":\"u1\",\"base\":{", "\"email\":\"Foo@X.com\"", "\"name\":\"Ann\"",
                            "\"role\":\"artist\"", "\"extra\":[1,2]", "\"profile\":{}", "\"subscription\":{}"),
                          S("forged", "user_id", "1999"));
    cr_expect_eq(strlen(jfind(u, "created_at")), 24, "created_at in %s", u);
    cr_expect_str_eq(jfind(u, "created_at"), jfind(u, "updated_at"));
    free(u);
    /* the base is a document under the seed's key; profile and subscription
     * are written by their first update only */
    free(expect_json(skv_cmd(c, "KV.GET users:u1:base"), S("\"id\":\"u1\"", "\"email\":\"Foo@X.com\""),
                     S("forged")));
    expect_nil(skv_cmd(c, "KV.GET users:u1:profile"));
    expect_nil(skv_cmd(c, "KV.GET users:u1:subscription"));
    redisReply *r = skv_cmd(c, "KV.COUNT users:u1:");
    cr_expect_eq(r->integer, 1);
    freeReplyObject(r);
    /* the email index is engine-internal: no key beside the user's */
    r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 1);
    freeReplyObject(r);
    expect_bulk(byemail("foo@x.com"), "u1");
    expect_nil(skv_cmd(c, "USER.GET u2"));
}

Test(users, create_conflicts_write_nothing) {
    expect_status(create("u1", ANN), "OK");
    expect_error(create("u1", ANN), "CONFLICT user 'u1' exists");
    expect_error(create("u1", BEN), "CONFLICT user 'u1' exists");
    expect_nil(byemail("bar@x.com")); /* the refused create indexed nothing */
    /* the same address in another case belongs to u1 */
    expect_error(create("u2", "{\"email\":\"FOO@x.com\",\"role\":\"fan\"}"),
                 "CONFLICT email 'FOO@x.com' belongs to another user");
    expect_nil(skv_cmd(c, "USER.GET u2"));
    expect_nil(skv_cmd(c, "KV.GET users:u2:base"));
    expect_status(create("u2", BEN), "OK");
    expect_bulk(byemail("bar@x.com"), "u2");
}

Test(users, byemail_is_case_insensitive_in_ascii_only) {
    expect_status(create("u1", "{\"email\":\"foo@x.com\",\"role\":\"fan\"}"), "OK");
    expect_bulk(byemail("Foo@X.com"), "u1");
    expect_bulk(byemail("FOO@X.COM"), "u1");
    expect_bulk(byemail("foo@x.com"), "u1");
    expect_nil(byemail("foo@x.co"));
    expect_nil(byemail("foo@x.com.au"));
    /* '+' and non-ASCII bytes are kept; only A-Z are folded */
    expect_status(create("u2", "{\"email\":\"Ann+Tag@X.com\",\"role\":\"admin\"}"), "OK");
    expect_bulk(byemail("ann+tag@x.com"), "u2");
    expect_nil(byemail("ann@x.com"));
    expect_status(create("u3", "{\"email\":\"j\xc3\xb6rg@x.com\",\"role\":\"fan\"}"), "OK");
    expect_bulk(byemail("J\xc3\xb6RG@X.COM"), "u3");
    expect_nil(byemail("j\xc3\x96rg@x.com")); /* Ö is not folded to ö */
    /* a quoted local part with '@': the last '@' splits */
    expect_status(create("u4", "{\"email\":\"\\\"a@b\\\"@x.com\",\"role\":\"fan\"}"), "OK");
    expect_bulk(byemail("\"A@B\"@x.com"), "u4");
}

Test(users, base_validation) {
    static const char *const bad[] = {
        "{\"name\":\"x\",\"role\":\"fan\"}",                              /* no email */
        "{\"email\":5,\"role\":\"fan\"}",                                 /* not a string */
        "{\"email\":null,\"role\":\"fan\"}",
        "{\"email\":\"\",\"role\":\"fan\"}",                              /* empty */
        "{\"email\":\"foo.x.com\",\"role\":\"fan\"}",                     /* no '@' */
        "{\"email\":\"@x.com\",\"role\":\"fan\"}",                        /* nothing before */
        "{\"email\":\"foo@\",\"role\":\"fan\"}",                          /* nothing after */
        "{\"email\":\"fo\\u0001o@x.com\",\"role\":\"fan\"}",              /* C0 control */
        "{\"email\":\"foo@x.com\\n\",\"role\":\"fan\"}",
        "{\"email\":\"fo\\u007fo@x.com\",\"role\":\"fan\"}",              /* DEL */
        "{\"email\":\"fo\\u0085o@x.com\",\"role\":\"fan\"}",              /* C1 control */
        "{\"email\":\"foo @x.com\",\"role\":\"fan\"}",                    /* whitespace */
        "{\"email\":\"foo@x.com\"}",                                      /* no role */
        "{\"email\":\"foo@x.com\",\"role\":\"owner\"}",                   /* unknown role */
        "{\"email\":\"foo@x.com\",\"role\":\"Fan\"}",
        "{\"email\":\"foo@x.com\",\"role\":\"fan\\u0000\"}",
        "{\"email\":\"foo@x.com\",\"role\":1}",
        "{\"email\":\"foo@x.com\",\"role\":\"fan\",\"name\":7}",          /* name not a string */
        "{\"email\":\"foo@x.com\",\"role\":\"fan\"",                      /* invalid JSON */
        "[\"foo@x.com\"]",                                                /* not an object */
        "\"foo@x.com\"",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisReply *r = create("u1", bad[i]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INVALID ", 8) == 0, "%s -> %s", bad[i], rstr(r));
        freeReplyObject(r);
    }
    expect_nil(skv_cmd(c, "KV.GET users:u1:base"));
    expect_nil(byemail("foo@x.com"));
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    /* 254 bytes is the longest address */
    char json[400], email[300];
    memset(email, 'a', 254);
    memcpy(email + 254 - 6, "@x.com", 7);
    snprintf(json, sizeof json, "{\"email\":\"%s\",\"role\":\"fan\"}", email);
    expect_status(create("u1", json), "OK");
    expect_bulk(byemail(email), "u1");
    memset(email, 'b', 249);
    memcpy(email + 249, "@x.com", 7); /* 255 bytes */
    snprintf(json, sizeof json, "{\"email\":\"%s\",\"role\":\"fan\"}", email);
    expect_error(create("u2", json), "INVALID email '");
    expect_error(byemail(email), "INVALID email '");
    expect_error(create("u2", "{\"email\":\"foo@x.com\",\"role\":\"owner\"}"),
                 "INVALID base needs \"role\": \"artist\", \"fan\" or \"admin\"");
    expect_error(create("u2", "{\"role\":\"fan\"}"), "INVALID base needs \"email\": a string");
    expect_error(create("u2", "{\"email\":\"x\",\"role\":\"fan\"}"), "INVALID email 'x' must contain '@'");
}

Test(users, byemail_refuses_what_cannot_be_an_address) {
    expect_error(byemail(""), "INVALID email '' must be 1 to 254 bytes");
    expect_error(byemail("nobody"), "INVALID email 'nobody' must contain '@'");
    expect_error(byemail("a\r\nb@x.com"), "INVALID email 'a  b@x.com' must not contain");
    const char *argv[] = {"USER.BYEMAIL", "a\0b@x.com"};
    size_t lens[] = {12, 9};
    expect_error(skv_cmdargv(c, 2, argv, lens), "INVALID email");
    expect_error(skv_cmd(c, "USER.BYEMAIL"), "ERR wrong number of arguments");
    expect_error(skv_cmd(c, "USER.BYEMAIL a@x b@x"), "ERR wrong number of arguments");
}

Test(users, update_sections_merge) {
    expect_status(create("u1", ANN), "OK");
    char *base0 = expect_json(skv_cmd(c, "KV.GET users:u1:base"), NULL, NULL);
    char created[64];
    snprintf(created, sizeof created, "%s", jfind(base0, "created_at"));

    free(expect_json(update("u1", "profile", "{\"bio\":\"hi\",\"links\":{\"a\":1,\"b\":2},\"id\":\"forged\"}"),
                     S("\"bio\":\"hi\"", "\"links\":{\"a\":1,\"b\":2}", "\"updated_at\":\""), S("forged", "\"id\"")));
    free(expect_json(update("u1", "PROFILE", "{\"links\":{\"a\":null,\"c\":3},\"bio\":null,\"x\":1}"),
                     S("\"links\":{\"b\":2,\"c\":3}", "\"x\":1"), S("bio", "\"a\":")));
    free(expect_json(skv_cmd(c, "KV.GET users:u1:profile"), S("\"links\":{\"b\":2,\"c\":3}"), NULL));
    free(expect_json(update("u1", "subscription", "{\"plan\":\"pro\",\"renews\":true}"),
                     S("\"plan\":\"pro\"", "\"renews\":true"), NULL));
    free(expect_json(update("u1", "subscription", "{\"renews\":false}"), S("\"plan\":\"pro\"", "\"renews\":false"),
                     NULL));
    free(expect_json(update("u1", "subscription", "{}"), S("\"plan\":\"pro\"", "\"renews\":false"), NULL));

    /* base: other fields stay, the server's fields cannot be changed */
    char *b = expect_json(update("u1", "base", "{\"name\":\"Bob\",\"id\":\"forged\",\"created_at\":\"1999\"}"),
                          S("\"id\":\"u1\"", "\"name\":\"Bob\"", "\"email\":\"foo@x.com\"", "\"role\":\"artist\""),
                          S("forged", "1999"));
    cr_expect_str_eq(jfind(b, "created_at"), created);
    free(b);
    free(base0);
    free(expect_json(update("u1", "base", "{\"name\":null,\"role\":\"admin\",\"city\":\"Oslo\"}"),
                     S("\"role\":\"admin\"", "\"city\":\"Oslo\""), S("name")));

    char *u = expect_json(skv_cmd(c, "USER.GET u1"),
                          S("{\"id\":\"u1\",\"base\":{", "\"city\":\"Oslo\"", "\"profile\":{\"links\":{\"b\":2,\"c\":3}",
                            "\"subscription\":{\"plan\":\"pro\",\"renews\":false"),
                          NULL);
    free(u);
}

Test(users, update_refusals_write_nothing) {
    expect_status(create("u1", ANN), "OK");
    char *before = expect_json(skv_cmd(c, "USER.GET u1"), NULL, NULL);
    expect_error(update("u1", "settings", "{}"), "INVALID section 'settings' (base, profile or subscription)");
    expect_error(update("u1", "", "{}"), "INVALID section ''");
    expect_error(update("u1", "profile", "{\"a\":"), "INVALID invalid JSON");
    expect_error(update("u1", "profile", "[1]"), "INVALID document must be a JSON object");
    expect_error(update("u1", "profile", "null"), "INVALID document must be a JSON object");
    expect_error(update("u1", "base", "{\"role\":\"boss\"}"), "INVALID base needs \"role\"");
    expect_error(update("u1", "base", "{\"role\":null}"), "INVALID base needs \"role\"");
    expect_error(update("u1", "base", "{\"email\":null}"), "INVALID base needs \"email\"");
    expect_error(update("u1", "base", "{\"email\":\"nope\"}"), "INVALID email 'nope' must contain '@'");
    expect_error(update("u1", "base", "{\"name\":[]}"), "INVALID \"name\" must be a string");
    char *after = expect_json(skv_cmd(c, "USER.GET u1"), NULL, NULL);
    cr_expect_str_eq(after, before);
    free(before);
    free(after);
    expect_bulk(byemail("foo@x.com"), "u1");
    /* an absent user: -NOTFOUND for every section, nothing written */
    expect_error(update("ghost", "base", "{\"email\":\"g@x.com\",\"role\":\"fan\"}"), "NOTFOUND user 'ghost'");
    expect_error(update("ghost", "profile", "{\"a\":1}"), "NOTFOUND user 'ghost'");
    expect_error(update("ghost", "subscription", "{\"a\":1}"), "NOTFOUND user 'ghost'");
    expect_nil(byemail("g@x.com"));
    redisReply *r = skv_cmd(c, "KV.COUNT users:ghost:");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    /* the section is required */
    expect_error(skv_cmd(c, "USER.UPDATE u1 {}"), "ERR wrong number of arguments");
    expect_error(skv_cmd(c, "USER.UPDATE u1 profile {} x"), "ERR wrong number of arguments");
}

Test(users, email_change_moves_the_index) {
    expect_status(create("u1", ANN), "OK");
    expect_status(create("u2", BEN), "OK");
    free(expect_json(update("u1", "base", "{\"email\":\"New@X.com\"}"), S("\"email\":\"New@X.com\""), NULL));
    expect_nil(byemail("foo@x.com"));
    expect_bulk(byemail("new@x.com"), "u1");
    /* another user's address, in any case: refused, nothing moves */
    expect_error(update("u1", "base", "{\"email\":\"BAR@x.com\",\"name\":\"Z\"}"),
                 "CONFLICT email 'BAR@x.com' belongs to another user");
    expect_bulk(byemail("new@x.com"), "u1");
    expect_bulk(byemail("bar@x.com"), "u2");
    free(expect_json(skv_cmd(c, "KV.GET users:u1:base"), S("\"email\":\"New@X.com\"", "\"name\":\"Ann\""), NULL));
    /* a change of case only keeps the entry */
    free(expect_json(update("u1", "base", "{\"email\":\"NEW@x.COM\"}"), S("\"email\":\"NEW@x.COM\""), NULL));
    expect_bulk(byemail("new@x.com"), "u1");
    /* the freed address can be taken by someone else */
    expect_status(create("u3", "{\"email\":\"FOO@X.COM\",\"role\":\"fan\"}"), "OK");
    expect_bulk(byemail("foo@x.com"), "u3");
    /* swapping through a free address */
    free(expect_json(update("u2", "base", "{\"email\":\"tmp@x.com\"}"), NULL, NULL));
    free(expect_json(update("u1", "base", "{\"email\":\"bar@x.com\"}"), NULL, NULL));
    expect_bulk(byemail("bar@x.com"), "u1");
    expect_bulk(byemail("tmp@x.com"), "u2");
    expect_nil(byemail("new@x.com"));
    /* it all survives a restart */
    cr_expect_eq(skv_stop(&srv), 0);
    redisFree(c);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_bulk(byemail("BAR@x.com"), "u1");
    expect_bulk(byemail("tmp@x.com"), "u2");
    expect_bulk(byemail("foo@x.com"), "u3");
    expect_nil(byemail("new@x.com"));
}

Test(users, bad_ids) {
    static const char *const bad[] = {"a:b", "a b", "", "_system", "\xc3\xbc", "users:u1:base", "a\r\nb"};
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = 0;
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        const char *id = i < sizeof bad / sizeof bad[0] ? bad[i] : long_id;
        const char *cargv[] = {"USER.CREATE", id, ANN};
        const char *gargv[] = {"USER.GET", id};
        const char *uargv[] = {"USER.UPDATE", id, "profile", "{}"};
        size_t cl[] = {11, strlen(id), strlen(ANN)}, gl[] = {8, strlen(id)}, ul[] = {11, strlen(id), 7, 2};
        expect_error(skv_cmdargv(c, 3, cargv, cl), "INVALID id '");
        expect_error(skv_cmdargv(c, 2, gargv, gl), "INVALID id '");
        expect_error(skv_cmdargv(c, 4, uargv, ul), "INVALID id '");
    }
    expect_error(skv_cmd(c, "USER.GET a:b"), "INVALID id 'a:b'");
    expect_nil(byemail("foo@x.com"));
    redisReply *r = skv_cmd(c, "DBSIZE");
    cr_expect_eq(r->integer, 0);
    freeReplyObject(r);
    /* 64 bytes and dots, dashes, underscores inside are fine */
    long_id[64] = 0;
    expect_status(create(long_id, ANN), "OK");
    expect_status(create("a.b-c_d", BEN), "OK");
    expect_bulk(byemail("bar@x.com"), "a.b-c_d");
}

Test(users, arity_options_and_idemp) {
    expect_error(skv_cmd(c, "USER.CREATE u1"), "ERR wrong number of arguments");
    expect_error(skv_cmd(c, "USER.CREATE u1 %s extra", ANN), "ERR syntax error");
    expect_error(skv_cmd(c, "USER.GET"), "ERR wrong number of arguments");
    expect_nil(skv_cmd(c, "USER.GET u1"));
    /* a retried create with IDEMP replays +OK; without it, -CONFLICT */
    expect_status(skv_cmd(c, "USER.CREATE u1 %s IDEMP k1", ANN), "OK");
    expect_status(skv_cmd(c, "USER.CREATE u1 %s IDEMP k1", ANN), "OK");
    expect_error(skv_cmd(c, "USER.CREATE u1 %s", ANN), "CONFLICT");
    expect_error(skv_cmd(c, "USER.CREATE u1 %s IDEMP k1", BEN), "CONFLICT IDEMP key 'k1'");
    expect_nil(byemail("bar@x.com"));
    /* COMMAND GETKEYS sees the uid */
    redisReply *r = skv_cmd(c, "COMMAND GETKEYS USER.UPDATE u7 base {}");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && strcmp(r->element[0]->str, "u7") == 0);
    freeReplyObject(r);
}

Test(users, merged_section_within_max_document_size) {
    skv_cleanup(&srv);
    redisFree(c);
    static const char *const extra[] = {"--max-document-size", "1024", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    expect_status(create("u1", ANN), "OK");
    char patch[800], big[700];
    memset(big, 'x', 600);
    big[600] = 0;
    snprintf(patch, sizeof patch, "{\"a\":\"%s\"}", big);
    free(expect_json(update("u1", "profile", patch), S("\"a\":\"xxx"), NULL));
    snprintf(patch, sizeof patch, "{\"b\":\"%s\"}", big); /* each patch fits; the merge does not */
    expect_error(update("u1", "profile", patch), "INVALID document too large (max 1024 bytes)");
    free(expect_json(skv_cmd(c, "KV.GET users:u1:profile"), S("\"a\":\"xxx"), S("\"b\"")));
}

/* An index entry whose user has no base (removed around the engine, with the
 * write guard off) names nobody: BYEMAIL says nil and the address is free. */
Test(users, stale_index_entry_is_ignored) {
    skv_cleanup(&srv);
    redisFree(c);
    static const char *const extra[] = {"--domain-write-guard", "no", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    expect_status(create("u1", ANN), "OK");
    redisReply *r = skv_cmd(c, "KV.DEL users:u1:base");
    freeReplyObject(r);
    expect_nil(byemail("foo@x.com"));
    expect_nil(skv_cmd(c, "USER.GET u1"));
    expect_error(update("u1", "profile", "{}"), "NOTFOUND");
    expect_status(create("u2", ANN), "OK");
    expect_bulk(byemail("FOO@x.com"), "u2");
}

/* ---- USER.LIST --------------------------------------------------------------------- */

Test(users, list_in_uid_byte_order) {
    const char *uids[] = {"bob", "Zed", "alice", "a.b", "carol-1", "_x"};
    for (int i = 0; i < 5; i++) {
        char js[128];
        snprintf(js, sizeof js, "{\"email\":\"%s@x.io\",\"role\":\"fan\",\"name\":\"%s\"}", uids[i], uids[i]);
        expect_ok(create(uids[i], js));
    }
    /* byte order: upper case before lower, '.' before letters */
    expect_docs(CMD("USER.LIST"), "id", 5, "Zed", "a.b", "alice", "bob", "carol-1");
    expect_docs(CMD("USER.LIST LIMIT 2"), "id", 2, "Zed", "a.b");
    expect_docs(CMD("USER.LIST AFTER a.b LIMIT 2"), "id", 2, "alice", "bob");
    expect_docs(CMD("USER.LIST AFTER alicf"), "id", 2, "bob", "carol-1"); /* AFTER need not exist */
    expect_len(CMD("USER.LIST AFTER zzz"), 0);
    /* the base documents */
    redisReply *r = ARRAY("USER.LIST LIMIT 1");
    cr_expect_str_eq(jstr(r->element[0]->str, "email"), "Zed@x.io");
    cr_expect_str_eq(jstr(r->element[0]->str, "role"), "fan");
    freeReplyObject(r);
    /* a refused create is not listed; USER.DELETE takes the entry */
    expect_error(create("bob", "{\"email\":\"b2@x.io\",\"role\":\"fan\"}"), "CONFLICT");
    expect_error(create("dave", "{\"email\":\"bob@x.io\",\"role\":\"fan\"}"), "CONFLICT");
    take_int(CMD("USER.DELETE alice"));
    take_int(CMD("USER.DELETE nobody"));
    expect_docs(CMD("USER.LIST"), "id", 4, "Zed", "a.b", "bob", "carol-1");
    expect_error(CMD("USER.LIST LIMIT 0"), "INVALID");
    expect_error(CMD("USER.LIST AFTER a:b"), "INVALID");
    expect_error(CMD("USER.LIST x"), "ERR syntax error");
    cr_expect_eq(kv_count(c, "ulist:"), 0);
}
