/* Unit tests of the ACL rule parser and matcher (server/core/acl_rules.c)
 * on a small fake command table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl_rules.h"

/* ---- a fake command table ------------------------------------------------------- */

static uint64_t cat(const char *name) {
    int i = acl_cat_find(name, strlen(name));
    cr_assert(i >= 0, "category %s", name);
    return 1ull << i;
}

typedef struct fake_cmd {
    const char *name;
    const char *cats; /* space-separated */
} fake_cmd;

static const fake_cmd fake[] = {
    {"get", "read string fast"},
    {"set", "write string slow"},
    {"incr", "write string fast"},
    {"ping", "fast connection"},
    {"config", "slow"},
    {"config|get", "admin dangerous slow"},
    {"config|set", "admin dangerous slow"},
    {"client", "slow connection"},
    {"client|id", "slow connection"},
    {"client|kill", "admin dangerous slow connection"},
    {"coins.add", "write coins domain slow"},
    {"coins.balance", "read coins domain fast"},
    {NULL, NULL},
};

static uint64_t cats_of(const fake_cmd *f) {
    uint64_t m = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", f->cats);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) m |= cat(t);
    return m;
}

static int nsubs_of(const char *name) {
    int n = 0;
    size_t l = strlen(name);
    for (const fake_cmd *f = fake; f->name; f++)
        if (strlen(f->name) > l && !strncmp(f->name, name, l) && f->name[l] == '|') n++;
    return n;
}

static int f_lookup(void *arg, const char *name, size_t len, uint64_t *cats, int *nsubs) {
    (void)arg;
    for (const fake_cmd *f = fake; f->name; f++)
        if (strlen(f->name) == len && !strncasecmp(f->name, name, len)) {
            *cats = cats_of(f);
            *nsubs = nsubs_of(f->name);
            return 1;
        }
    return 0;
}

static const char *f_sub(void *arg, const char *name, size_t len, int i, uint64_t *cats) {
    (void)arg;
    for (const fake_cmd *f = fake; f->name; f++)
        if (strlen(f->name) > len && !strncasecmp(f->name, name, len) && f->name[len] == '|' && i-- == 0) {
            *cats = cats_of(f);
            return f->name;
        }
    return NULL;
}

static const acl_resolver R = {f_lookup, f_sub, NULL};

static acl_user *user(const char *rules) {
    acl_user *u = acl_user_new("u", 1);
    cr_assert(u);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", rules);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        const char *err = NULL;
        cr_assert_eq(acl_user_apply(u, t, strlen(t), &R, &err), 0, "rule '%s': %s", t, err);
    }
    return u;
}

static const char *apply_err(acl_user *u, const char *tok) {
    const char *err = NULL;
    if (acl_user_apply(u, tok, strlen(tok), &R, &err) == 0) return NULL;
    return err;
}

static int can(const acl_user *u, const char *name) {
    for (const fake_cmd *f = fake; f->name; f++)
        if (!strcmp(f->name, name)) return acl_user_cmd_ok(u, name, strlen(name), cats_of(f));
    cr_assert_fail("no fake command %s", name);
    return 0;
}

static void expect_cmds(const acl_user *u, const char *want) {
    char *d = acl_user_describe_cmds(u);
    cr_expect_str_eq(d, want);
    free(d);
}

/* ---- tests ---------------------------------------------------------------------------- */

Test(acl_rules, categories_and_groups) {
    cr_expect_geq(acl_cat_count(), 32);
    cr_expect_eq(acl_cat_find("KEYSPACE", 8), 0, "case-insensitive");
    cr_expect_eq(acl_cat_find("nope", 4), -1);
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("generic")), "keyspace");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("hash")), "hash", "a group named as a category is it");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("sortedset")), "sortedset");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("pubsub")), "pubsub");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("entity")), "content");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("tickets")), "support");
    cr_expect_str_eq(acl_cat_name(acl_cat_of_group("coins")), "coins");
    cr_expect_eq(acl_cat_of_group("server"), -1);
}

Test(acl_rules, new_user_is_off_and_denied_everything) {
    acl_user *u = user("");
    cr_expect_not(u->on);
    cr_expect_not(can(u, "get"));
    cr_expect_not(acl_user_key_ok(u, "k", 1, 0, ACL_PERM_R));
    cr_expect_not(acl_user_channel_ok(u, "ch", 2, 0));
    cr_expect_not(acl_user_pass_ok(u, "", 0), "no password, not nopass");
    char *d = acl_user_describe(u);
    cr_expect_str_eq(d, "user u off resetchannels -@all");
    free(d);
    acl_user_free(u);
}

Test(acl_rules, passwords_hashed_and_checked) {
    acl_user *u = user("on >one >two");
    cr_expect_eq(u->npass, 2);
    cr_expect(acl_user_pass_ok(u, "one", 3));
    cr_expect(acl_user_pass_ok(u, "two", 3));
    cr_expect_not(acl_user_pass_ok(u, "three", 5));
    cr_expect_not(acl_user_pass_ok(u, "on", 2), "a prefix of a password is not it");
    cr_expect_null(apply_err(u, "<one"));
    cr_expect_not(acl_user_pass_ok(u, "one", 3));
    cr_expect_str_eq(apply_err(u, "<one"), "The password you are trying to remove from the user does not exist");
    /* #hash: the SHA-256 of "passwd4" (Redis's own test value) */
    const char *h = "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6";
    char tok[80];
    snprintf(tok, sizeof tok, "#%s", h);
    cr_expect_null(apply_err(u, tok));
    cr_expect(acl_user_pass_ok(u, "passwd4", 7));
    char *d = acl_user_describe(u);
    cr_expect(strstr(d, h) != NULL, "the hash is shown: %s", d);
    cr_expect(strstr(d, "passwd4") == NULL && strstr(d, "two ") == NULL, "never the password: %s", d);
    free(d);
    snprintf(tok, sizeof tok, "!%s", h);
    cr_expect_null(apply_err(u, tok));
    cr_expect_not(acl_user_pass_ok(u, "passwd4", 7));
    const char *bad = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    cr_expect_str_eq(apply_err(u, "#34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e"), bad);
    cr_expect_str_eq(apply_err(u, "#34344E4D60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6"), bad);
    cr_expect_null(apply_err(u, "nopass"));
    cr_expect(acl_user_pass_ok(u, "anything", 8));
    cr_expect_eq(u->npass, 0, "nopass drops the passwords");
    cr_expect_null(apply_err(u, ">x"));
    cr_expect_not(u->nopass, "a password ends nopass");
    cr_expect_null(apply_err(u, "resetpass"));
    cr_expect_not(acl_user_pass_ok(u, "x", 1));
    cr_expect_not(acl_user_pass_ok(u, "", 0));
    acl_user_free(u);
}

Test(acl_rules, constant_time_hash_compare) {
    unsigned char a[ACL_HASH_LEN], b[ACL_HASH_LEN];
    acl_hash_password("secret", 6, a);
    memcpy(b, a, sizeof b);
    cr_expect(acl_hash_eq(a, b));
    for (int i = 0; i < ACL_HASH_LEN; i++) { /* a difference anywhere, first byte or last, is seen */
        b[i] ^= 1;
        cr_expect_not(acl_hash_eq(a, b), "byte %d", i);
        b[i] ^= 1;
    }
    char hex[2 * ACL_HASH_LEN + 1];
    acl_hash_password("", 0, a);
    acl_hash_hex(a, hex);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of ''");
}

Test(acl_rules, commands_and_categories_last_rule_wins) {
    acl_user *u = user("+@all -@string +incr");
    cr_expect(can(u, "ping"));
    cr_expect_not(can(u, "get"));
    cr_expect(can(u, "incr"));
    expect_cmds(u, "+@all -@string +incr");
    acl_user_free(u);
    u = user("-@all +@read");
    cr_expect(can(u, "get"));
    cr_expect(can(u, "coins.balance"));
    cr_expect_not(can(u, "coins.add"));
    cr_expect_not(can(u, "set"));
    acl_user_free(u);
    u = user("allcommands -@admin");
    cr_expect_not(can(u, "config|set"));
    cr_expect(can(u, "client|id"));
    cr_expect_not(can(u, "client|kill"));
    acl_user_free(u);
    u = user("+@coins -coins.add");
    cr_expect(can(u, "coins.balance"));
    cr_expect_not(can(u, "coins.add"));
    acl_user_free(u);
}

Test(acl_rules, subcommands_and_folding) {
    acl_user *u = user("+@all -client +client|id");
    cr_expect(can(u, "client|id"));
    cr_expect_not(can(u, "client|kill"));
    expect_cmds(u, "+@all -client +client|id");
    acl_user_free(u);
    /* Redis 7.0's folding: a rule that changes nothing is not kept, a rule on
     * a command replaces earlier rules on it and its subcommands */
    u = user("+config|get");
    expect_cmds(u, "-@all +config|get");
    cr_expect_null(apply_err(u, "+config"));
    expect_cmds(u, "-@all +config");
    cr_expect(can(u, "config|set"));
    cr_expect_null(apply_err(u, "+@all"));
    cr_expect_null(apply_err(u, "+client|id"));
    expect_cmds(u, "+@all");
    cr_expect_null(apply_err(u, "-config|set"));
    expect_cmds(u, "+@all -config|set");
    cr_expect(can(u, "config|get"));
    cr_expect_not(can(u, "config|set"));
    cr_expect_null(apply_err(u, "-config"));
    expect_cmds(u, "+@all -config");
    cr_expect_null(apply_err(u, "nocommands"));
    expect_cmds(u, "-@all");
    cr_expect_not(can(u, "ping"));
    const char *unknown = "Unknown command or category name in ACL";
    cr_expect_str_eq(apply_err(u, "+nosuch"), unknown);
    cr_expect_str_eq(apply_err(u, "+@nosuch"), unknown);
    cr_expect_str_eq(apply_err(u, "+config|nosuch"), unknown);
    cr_expect_str_eq(apply_err(u, "+config|get|x"), "Allowing first-arg of a subcommand is not supported");
    cr_expect_str_eq(apply_err(u, "+get|key1|key2"), unknown);
    cr_expect(strstr(apply_err(u, "+get|x"), "first-arg") != NULL);
    cr_expect_str_eq(apply_err(u, "(~x +get)"), "Selectors are not supported (stagekv)");
    expect_cmds(u, "-@all");
    acl_user_free(u);
}

Test(acl_rules, keys_patterns_and_permissions) {
    acl_user *u = user("~users:u1:* %R~pub:* %W~log:*");
    cr_expect(acl_user_key_ok(u, "users:u1:base", 13, 0, ACL_PERM_RW));
    cr_expect_not(acl_user_key_ok(u, "users:u2:base", 13, 0, ACL_PERM_R));
    cr_expect(acl_user_key_ok(u, "pub:x", 5, 0, ACL_PERM_R));
    cr_expect_not(acl_user_key_ok(u, "pub:x", 5, 0, ACL_PERM_W), "%%R is read only");
    cr_expect(acl_user_key_ok(u, "log:x", 5, 0, ACL_PERM_W));
    cr_expect_not(acl_user_key_ok(u, "log:x", 5, 0, ACL_PERM_RW), "%%W is write only");
    /* prefixes: covered only by a pattern ending in '*' that matches the prefix */
    cr_expect(acl_user_key_ok(u, "users:u1:", 9, 1, ACL_PERM_RW));
    cr_expect_not(acl_user_key_ok(u, "users:", 6, 1, ACL_PERM_R), "a wider prefix is not covered");
    cr_expect_not(acl_user_key_ok(u, "users:u1", 8, 1, ACL_PERM_R), "users:u1* holds users:u10:");
    char *d = acl_user_describe_keys(u);
    cr_expect_str_eq(d, "~users:u1:* %R~pub:* %W~log:*");
    free(d);
    acl_user_free(u);
    u = user("~exact");
    cr_expect(acl_user_key_ok(u, "exact", 5, 0, ACL_PERM_R));
    cr_expect_not(acl_user_key_ok(u, "exact", 5, 1, ACL_PERM_R), "a literal pattern covers no prefix");
    cr_expect_not(acl_user_key_ok(u, "exact:1", 7, 0, ACL_PERM_R));
    acl_user_free(u);
    u = user("~a\\*");
    cr_expect_not(acl_user_key_ok(u, "a", 1, 1, ACL_PERM_R), "an escaped '*' is a literal");
    acl_user_free(u);
    u = user("allkeys");
    cr_expect(acl_user_key_ok(u, "anything", 8, 1, ACL_PERM_RW));
    cr_expect(strstr(apply_err(u, "~x"), "'allkeys'") != NULL, "a pattern after allkeys is refused");
    cr_expect_null(apply_err(u, "resetkeys"));
    cr_expect_not(acl_user_key_ok(u, "anything", 8, 0, ACL_PERM_R));
    cr_expect_null(apply_err(u, "~*"));
    cr_expect(u->allkeys, "~* is allkeys");
    cr_expect_null(apply_err(u, "resetkeys"));
    cr_expect_str_eq(apply_err(u, "%X~k"), "Syntax error");
    cr_expect_str_eq(apply_err(u, "%R"), "Syntax error");
    acl_user_free(u);
}

Test(acl_rules, channels) {
    acl_user *u = user("&news:* &chat");
    cr_expect(acl_user_channel_ok(u, "news:1", 6, 0));
    cr_expect(acl_user_channel_ok(u, "chat", 4, 0));
    cr_expect_not(acl_user_channel_ok(u, "other", 5, 0));
    cr_expect(acl_user_channel_ok(u, "news:*", 6, 1), "a pattern must be the user's own, literally");
    cr_expect_not(acl_user_channel_ok(u, "news:1*", 7, 1));
    char *d = acl_user_describe_chans(u);
    cr_expect_str_eq(d, "&news:* &chat");
    free(d);
    cr_expect_null(apply_err(u, "allchannels"));
    cr_expect(acl_user_channel_ok(u, "anything", 8, 1));
    cr_expect(strstr(apply_err(u, "&x"), "'allchannels'") != NULL);
    cr_expect_null(apply_err(u, "resetchannels"));
    cr_expect_not(acl_user_channel_ok(u, "news:1", 6, 0));
    acl_user_free(u);
}

Test(acl_rules, reset_and_keywords) {
    acl_user *u = user("on nopass allkeys allchannels allcommands skip-sanitize-payload");
    char *d = acl_user_describe(u);
    cr_expect_str_eq(d, "user u on nopass skip-sanitize-payload ~* &* +@all");
    free(d);
    cr_expect_null(apply_err(u, "RESET"));
    d = acl_user_describe(u);
    cr_expect_str_eq(d, "user u off sanitize-payload resetchannels -@all");
    free(d);
    cr_expect_str_eq(apply_err(u, "bogus"), "Syntax error");
    cr_expect_null(apply_err(u, "OFF"));
    acl_user_free(u);
}

/* The description is rules: applied to a new user it gives the same user. */
Test(acl_rules, describe_round_trip) {
    acl_user *u = user("on >pw ~a:* %R~b:* &c:* +@all -@admin +config|get -coins.add");
    char *d = acl_user_describe(u);
    acl_user *v = acl_user_new("u", 1);
    char *copy = strdup(d);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save), n++) {
        if (n < 2) continue; /* "user u" */
        const char *err = NULL;
        cr_assert_eq(acl_user_apply(v, t, strlen(t), &R, &err), 0, "%s: %s", t, err);
    }
    char *d2 = acl_user_describe(v);
    cr_expect_str_eq(d2, d);
    cr_expect(acl_user_pass_ok(v, "pw", 2));
    acl_user *w = acl_user_dup(v);
    char *d3 = acl_user_describe(w);
    cr_expect_str_eq(d3, d);
    free(d);
    free(d2);
    free(d3);
    free(copy);
    acl_user_free(u);
    acl_user_free(v);
    acl_user_free(w);
}

Test(acl_rules, usernames) {
    cr_expect(acl_valid_username("web", 3));
    cr_expect_not(acl_valid_username("a a", 3));
    cr_expect_not(acl_valid_username("a\0b", 3));
    cr_expect_not(acl_valid_username("", 0));
}

/* Fuzz finding: a '*' inside an unclosed [class] is no wildcard, so the
 * pattern covers no prefix. */
Test(acl_rules, star_inside_a_class_covers_no_prefix) {
    acl_user *u = user("~a[b*");
    cr_expect_not(acl_user_key_ok(u, "ab", 2, 1, ACL_PERM_R));
    acl_user_free(u);
    u = user("~a[b]*");
    cr_expect(acl_user_key_ok(u, "ab", 2, 1, ACL_PERM_R));
    cr_expect(acl_user_key_ok(u, "abzz", 4, 0, ACL_PERM_R));
    acl_user_free(u);
}
