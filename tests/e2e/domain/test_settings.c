/* End-to-end tests of SETTINGS.* (SPEC §4.6): five sections, {} when never
 * set, RFC 7386 merge patches (null deletes), the document at
 * settings:{uid}:{section}, and the bad inputs of SPEC §4. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

TestSuite(settings, .init = up, .fini = down);

static const char *const sections[] = {"profile", "security", "notifications", "privacy", "payment_methods"};

#define ID64 "x123456789012345678901234567890123456789012345678901234567890123"
static const char *const bad_ids[] = {"a:b", "a b", "caf\xc3\xa9", "", "_system", "-x\n", ID64 "4"};

/* A bulk reply (asserted), kept: free() it. */
#define BULK(...) take_bulk(CMD(__VA_ARGS__))

/* The text of doc without its top-level "updated_at" member (which must be
 * there, a well-formed stamp): free() it. */
static char *without_stamp(const char *doc) {
    cr_expect(is_iso_ms(jstr(doc, "updated_at")), "%s", doc);
    static const char name[] = "\"updated_at\":\"";
    const char *p = strstr(doc, name);
    cr_assert(p, "%s", doc);
    size_t at = (size_t)(p - doc), len = sizeof name - 1 + 24 + 1; /* name, stamp, closing quote */
    if (doc[at - 1] == ',') at--, len++;     /* a member before it: drop its comma */
    else if (doc[at + len] == ',') len++;    /* the first member: drop the comma after */
    char *s = strdup(doc);
    memmove(s + at, s + at + len, strlen(s + at + len) + 1);
    return s;
}

/* SETTINGS.SET reply without its stamp equals want; GET and KV.GET return
 * the same bytes as the reply. */
#define expect_set(sec, patch, want) expect_set_l(__LINE__, (sec), (patch), (want))
static void expect_set_l(int line, const char *sec, const char *patch, const char *want) {
    char *doc = take_bulk_at(__FILE__, line, CMD("SETTINGS.SET u %s %s", sec, patch));
    char *bare = without_stamp(doc);
    cr_expect_str_eq(bare, want, "line %d: SETTINGS.SET u %s %s", line, sec, patch);
    char *got = take_bulk_at(__FILE__, line, CMD("SETTINGS.GET u %s", sec));
    cr_expect_str_eq(got, doc, "line %d: SETTINGS.GET", line);
    free(got);
    got = take_bulk_at(__FILE__, line, CMD("KV.GET settings:u:%s", sec));
    cr_expect_str_eq(got, doc, "line %d: KV.GET settings:u:%s", line, sec);
    free(got);
    free(bare);
    free(doc);
}

Test(settings, empty_until_set) {
    for (size_t i = 0; i < 5; i++) expect_bulk(CMD("SETTINGS.GET u %s", sections[i]), "{}");
    expect_bulk(CMD("SETTINGS.GET %s privacy", ID64), "{}");
    expect_int(CMD("DBSIZE"), 0); /* a GET writes nothing */
}

Test(settings, merge_patch_semantics) {
    expect_set("profile", "{\"theme\":\"dark\",\"lang\":\"en\",\"nested\":{\"a\":1,\"b\":2},\"n\":9007199254740993}",
               "{\"theme\":\"dark\",\"lang\":\"en\",\"nested\":{\"a\":1,\"b\":2},\"n\":9007199254740993}");
    /* null deletes a member, at any depth; nested objects merge; other
     * values (arrays too) replace; a null for an absent member is a no-op */
    expect_set("profile", "{\"lang\":null,\"nested\":{\"a\":null,\"c\":3},\"list\":[1,2],\"ghost\":null}",
               "{\"theme\":\"dark\",\"nested\":{\"b\":2,\"c\":3},\"n\":9007199254740993,\"list\":[1,2]}");
    expect_set("profile", "{\"list\":[3],\"nested\":\"flat\"}",
               "{\"theme\":\"dark\",\"nested\":\"flat\",\"n\":9007199254740993,\"list\":[3]}");
    expect_set("profile", "{\"nested\":{\"x\":null,\"y\":{\"z\":true}}}",
               "{\"theme\":\"dark\",\"nested\":{\"y\":{\"z\":true}},\"n\":9007199254740993,\"list\":[3]}");
    /* the empty patch only stamps */
    expect_set("profile", "{}", "{\"theme\":\"dark\",\"nested\":{\"y\":{\"z\":true}},\"n\":9007199254740993,\"list\":[3]}");
    /* server-owned fields of a patch are ignored */
    expect_set("profile", "{\"id\":\"x\",\"user_id\":\"v\",\"created_at\":\"c\",\"updated_at\":\"d\",\"theme\":null}",
               "{\"nested\":{\"y\":{\"z\":true}},\"n\":9007199254740993,\"list\":[3]}");
    /* deleting everything leaves the stamp only */
    expect_set("profile", "{\"nested\":null,\"n\":null,\"list\":null}", "{}");
    /* sections are apart */
    expect_bulk(CMD("SETTINGS.GET u security"), "{}");
    expect_bulk(CMD("SETTINGS.GET v profile"), "{}");
}

Test(settings, five_sections) {
    for (size_t i = 0; i < 5; i++) {
        char patch[100], want[100];
        snprintf(patch, sizeof patch, "{\"section\":\"%s\",\"k\":%zu}", sections[i], i);
        snprintf(want, sizeof want, "{\"section\":\"%s\",\"k\":%zu}", sections[i], i);
        expect_set(sections[i], patch, want);
    }
    expect_int(CMD("KV.COUNT settings:u:"), 5);
    /* section names are case-insensitive, stored lower-case */
    char *doc = BULK("SETTINGS.SET u PayMent_Methods {\"default\":\"pm1\"}");
    cr_expect_str_eq(jstr(doc, "default"), "pm1", "%s", doc);
    cr_expect_eq(jint(doc, "k"), 4, "%s", doc);
    char *kv = BULK("KV.GET settings:u:payment_methods");
    cr_expect_str_eq(kv, doc);
    free(kv);
    free(doc);
    expect_int(CMD("KV.COUNT settings:u:"), 5);
    expect_int(CMD("KV.COUNT settings:"), 5);
}

Test(settings, bad_inputs_write_nothing) {
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        expect_error(CMD("SETTINGS.GET %s profile", bad_ids[i]), "INVALID id '");
        expect_error(CMD("SETTINGS.SET %s profile {}", bad_ids[i]), "INVALID id '");
    }
    expect_error_eq(CMD("SETTINGS.GET %s profile", "a:b"), "INVALID id 'a:b'");
    const char *bad_sections[] = {"billing", "", "profiles", "profile:x", "prof", "base", "payment-methods"};
    for (size_t i = 0; i < sizeof bad_sections / sizeof *bad_sections; i++) {
        expect_error(CMD("SETTINGS.GET u %s", bad_sections[i]), "INVALID section '");
        expect_error(CMD("SETTINGS.SET u %s {}", bad_sections[i]), "INVALID section '");
    }
    expect_error_eq(CMD("SETTINGS.GET u billing"),
                    "INVALID section 'billing' (profile, security, notifications, privacy or payment_methods)");
    expect_error(CMD("SETTINGS.SET u profile %s", "{\"a\":"), "INVALID invalid JSON");
    expect_error(CMD("SETTINGS.SET u profile %s", "{} {}"), "INVALID invalid JSON");
    expect_error_eq(CMD("SETTINGS.SET u profile %s", "[]"), "INVALID document must be a JSON object");
    expect_error_eq(CMD("SETTINGS.SET u profile %s", "null"), "INVALID document must be a JSON object");
    expect_error_eq(CMD("SETTINGS.SET u profile %s", "\"x\""), "INVALID document must be a JSON object");
    expect_error_eq(CMD("SETTINGS.SET u profile %s", "7"), "INVALID document must be a JSON object");
    expect_error(CMD("SETTINGS.SET u profile %s", "{\"a\":1,\"a\":null}"), "INVALID duplicate member name");
    expect_error_eq(CMD("SETTINGS.SET u profile"), "ERR wrong number of arguments for 'settings.set' command");
    expect_error_eq(CMD("SETTINGS.SET u profile {} x"), "ERR wrong number of arguments for 'settings.set' command");
    expect_error_eq(CMD("SETTINGS.GET u"), "ERR wrong number of arguments for 'settings.get' command");
    expect_error_eq(CMD("SETTINGS.GET u profile x"), "ERR wrong number of arguments for 'settings.get' command");
    expect_int(CMD("DBSIZE"), 0);
    /* a failed SET leaves the section as it was */
    expect_set("privacy", "{\"public\":false}", "{\"public\":false}");
    char *before = BULK("KV.GET settings:u:privacy");
    expect_error(CMD("SETTINGS.SET u privacy %s", "{\"public\":tru}"), "INVALID invalid JSON");
    char *after = BULK("KV.GET settings:u:privacy");
    cr_expect_str_eq(after, before);
    free(before);
    free(after);
}

Test(settings, write_guard) {
    expect_error(CMD("KV.SET settings:u:profile {}"), "ERR key 'settings:u:profile' is owned by the domain engine");
    expect_error(CMD("KV.PATCH settings:u:profile {}"), "ERR key 'settings:u:profile' is owned");
    expect_error(CMD("SET settings:u:profile x"), "ERR key 'settings:u:profile' is owned");
    expect_error(CMD("KV.DELBYPREFIX settings:"), "ERR");
    expect_bulk(CMD("SETTINGS.GET u profile"), "{}");
    expect_int(CMD("DBSIZE"), 0);
}

/* A merge may grow a section past max-document-size: refused, unchanged. */
Test(settings, merged_size_is_capped) {
    down();
    up_with((const char *const[]){"--max-document-size", "100", NULL});
    char big[80];
    memset(big, 'x', 40);
    big[40] = 0;
    char *doc = BULK("SETTINGS.SET u security {\"a\":\"%s\"}", big);
    expect_error_eq(CMD("SETTINGS.SET u security {\"b\":\"%s\"}", big), "INVALID document too large (max 100 bytes)");
    char *now = BULK("SETTINGS.GET u security");
    cr_expect_str_eq(now, doc);
    free(now);
    free(doc);
}

Test(settings, durable) {
    expect_set("notifications", "{\"email\":false}", "{\"email\":false}");
    char *doc = BULK("SETTINGS.GET u notifications");
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_bulk(CMD("SETTINGS.GET u notifications"), doc);
    free(doc);
}
