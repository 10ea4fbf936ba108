/* The import's mapper (server/domain/import.c): every one of the seed's 44
 * patterns maps, with its normalized plan; every kind of refusal names
 * why. Pure: no keyspace, no server. */
#include <criterion/criterion.h>
#include <string.h>

#include "import.h"

#define MAXDOC (1024 * 1024)

static int map(const char *key, const char *val, imp_plan *p, char *why) {
    return import_map(key, strlen(key), val, strlen(val), MAXDOC, p, why, 400);
}

/* Maps and expects success; returns the plan (caller frees). */
static imp_plan ok(const char *key, const char *val, imp_kind kind) {
    imp_plan p;
    char why[400] = "";
    cr_assert_eq(map(key, val, &p, why), 0, "%s: refused: %s", key, why);
    cr_assert_eq(p.pat->kind, kind, "%s: kind %s, want %s", key, import_kind_name(p.pat->kind), import_kind_name(kind));
    return p;
}

/* Maps and expects a refusal whose reason contains part. */
static void refused(const char *key, const char *val, const char *part) {
    imp_plan p;
    char why[400] = "";
    cr_assert_eq(map(key, val, &p, why), -1, "%s %s: mapped, want a refusal with '%s'", key, val, part);
    cr_assert(strstr(why, part), "%s %s: reason '%s' lacks '%s'", key, val, why, part);
}

Test(import, the_table_has_44_patterns_each_once) {
    size_t n = 0;
    for (const imp_pattern *p; (p = import_pattern_at(n)) != NULL; n++) {
        for (size_t j = 0; j < n; j++) cr_assert_str_neq(import_pattern_at(j)->pattern, p->pattern);
        cr_assert(p->kind == IMP_DERIVED ? p->phase == 0 : (p->phase == 1 || p->phase == 2), "%s", p->pattern);
    }
    cr_assert_eq(n, 44);
}

/* One good record per pattern: every pattern is reachable and maps. */
Test(import, every_pattern_maps) {
    static const struct { const char *key, *val; } recs[] = {
        {"users:u1:base", "{\"email\":\"a@b.c\",\"role\":\"fan\"}"},
        {"users:u1:profile", "{\"bio\":\"x\"}"},
        {"users:u1:subscription", "{\"plan\":\"pro\"}"},
        {"users:email:a@b.c", "\"u1\""},
        {"users:list", "[\"u1\"]"},
        {"settings:u1:profile", "{}"},
        {"settings:u1:security", "{}"},
        {"settings:u1:notifications", "{}"},
        {"settings:u1:privacy", "{}"},
        {"settings:u1:payment_methods", "{}"},
        {"coins:u1:balance", "5"},
        {"coins:u1:transactions", "[{\"amount\":5}]"},
        {"donations:u1:list", "[{\"from\":\"u2\",\"amount\":5}]"},
        {"donations:u1:sent", "[]"},
        {"donations:u1:total", "5"},
        {"payments:u1:transactions", "[{\"provider\":\"p\",\"external_id\":\"x\"}]"},
        {"payments:u1:methods", "[{\"id\":\"pm1\"}]"},
        {"tracks:u1:list", "[{\"id\":\"t1\"}]"},
        {"videos:u1:list", "[]"},
        {"concerts:public:promoted", "[\"c1\"]"},
        {"concerts:u1:list", "[]"},
        {"news:public:promoted", "[{\"id\":\"n1\",\"user_id\":\"u1\"}]"},
        {"news:u1:list", "[]"},
        {"banners:active:list", "[]"},
        {"banners:u1:list", "[]"},
        {"promotion:u1:list", "[]"},
        {"pitching:u1:list", "[]"},
        {"analytics:tracks:t1:2024-02-29", "{\"plays\":1}"},
        {"analytics:concerts:c1:2024-01-01", "{}"},
        {"messages:c1", "[{\"from\":\"a\",\"to\":\"b\",\"text\":\"hi\"}]"},
        {"messages:u1:unread", "[\"c1\"]"},
        {"messages:u1:unread_count", "0"},
        {"conversations:c1:details", "{}"},
        {"conversations:u1:list", "[]"},
        {"notifications:u1", "[{\"text\":\"x\"}]"},
        {"notifications:u1:unread", "[1]"},
        {"notifications:u1:unread_count", "1"},
        {"email:u1:subscriptions", "[\"news\"]"},
        {"email:u1:history", "[{\"subject\":\"s\"}]"},
        {"tickets:open:list", "[]"},
        {"tickets:u1:list", "[]"},
        {"tickets:tk1:details", "{\"user_id\":\"u1\"}"},
        {"tickets:tk1:messages", "[{\"author\":\"u1\",\"text\":\"t\"}]"},
        {"dashboard:u1:stats", "{}"},
    };
    cr_assert_eq(sizeof recs / sizeof recs[0], 44);
    int seen[44] = {0};
    for (size_t i = 0; i < 44; i++) {
        imp_plan p;
        char why[400] = "";
        cr_assert_eq(map(recs[i].key, recs[i].val, &p, why), 0, "%s: %s", recs[i].key, why);
        size_t at = 0;
        while (import_pattern_at(at) != p.pat) at++;
        seen[at]++;
        import_plan_free(&p);
    }
    for (size_t i = 0; i < 44; i++) cr_assert_eq(seen[i], 1, "pattern %s", import_pattern_at(i)->pattern);
}

Test(import, entities_keep_valid_ids_and_strip_owned_fields) {
    imp_plan p = ok("tracks:u1:list",
                    "[{\"id\":\"t1\",\"title\":\"a\",\"user_id\":\"u1\",\"created_at\":\"2024\"},"
                    "{\"id\":\"bad id\",\"title\":\"b\"},{\"id\":7},{\"title\":\"c\"}]",
                    IMP_ENTITIES);
    cr_assert_eq(p.items, 4);
    json_t *e0 = json_array_get(p.value, 0), *e1 = json_array_get(p.value, 1);
    cr_assert_str_eq(json_string_value(json_object_get(e0, "id")), "t1");
    json_t *d0 = json_object_get(e0, "doc");
    cr_assert_null(json_object_get(d0, "id"));
    cr_assert_null(json_object_get(d0, "user_id"));
    cr_assert_null(json_object_get(d0, "created_at"));
    cr_assert_str_eq(json_string_value(json_object_get(d0, "legacy_created_at")), "2024");
    cr_assert(json_is_null(json_object_get(e1, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(e1, "doc"), "legacy_id")), "bad id");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p.value, 2), "id")), "7");
    cr_assert(json_is_null(json_object_get(json_array_get(p.value, 3), "id")));
    cr_assert_eq(p.pat->ns, &entity_ns_track);
    import_plan_free(&p);
}

Test(import, ledger_rows_signs_opening_and_sum) {
    imp_plan p = ok("coins:u1:transactions",
                    "[{\"amount\":-40},{\"amount\":100,\"type\":\"credit\",\"reason\":\"buy\"},"
                    "{\"amount\":30,\"type\":\"spend\",\"counterparty\":\"u2\"}]",
                    IMP_LEDGER);
    cr_assert_eq(p.amount, 30);
    cr_assert_eq(p.low, -40);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(p.value, 2), "delta")), -30);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p.value, 0), "reason")), "import");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p.value, 1), "reason")), "buy");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p.value, 2), "counterparty")), "u2");
    cr_assert_eq(p.pat->phase, 1);
    import_plan_free(&p);
}

Test(import, balance_is_phase_two) {
    imp_plan p = ok("coins:u1:balance", "1250", IMP_BALANCE);
    cr_assert_eq(p.amount, 1250);
    cr_assert_eq(p.pat->phase, 2);
    import_plan_free(&p);
    p = ok("coins:u1:balance", "0", IMP_BALANCE);
    import_plan_free(&p);
}

Test(import, double_encoded_values_are_decoded_once) {
    imp_plan p = ok("videos:u1:list", "\"[{\\\"id\\\":\\\"v1\\\"}]\"", IMP_ENTITIES);
    cr_assert_eq(p.items, 1);
    import_plan_free(&p);
    refused("videos:u1:list", "\"[{\\\"id\\\":\"", "the string value holds invalid JSON");
}

Test(import, tickets_and_messages) {
    imp_plan p = ok("tickets:tk1:details",
                    "{\"id\":\"tk1\",\"user_id\":\"u1\",\"subject\":\"s\",\"status\":\"resolved\","
                    "\"messages\":[{\"author\":\"u1\",\"text\":\"x\"}]}",
                    IMP_TICKET);
    cr_assert(json_is_true(json_object_get(p.value, "closed")));
    cr_assert_eq(json_array_size(json_object_get(p.value, "replies")), 1);
    cr_assert_null(json_object_get(json_object_get(p.value, "doc"), "status"));
    cr_assert_null(json_object_get(json_object_get(p.value, "doc"), "messages"));
    import_plan_free(&p);
    p = ok("messages:c1", "[{\"sender_id\":\"a\",\"recipient_id\":\"b\",\"content\":\"hi\",\"read\":true}]",
           IMP_MESSAGES);
    cr_assert(json_is_true(json_object_get(json_array_get(p.value, 0), "read")));
    import_plan_free(&p);
}

Test(import, refusals_name_why) {
    refused("sessions:abc", "{}", "unknown key pattern");
    refused("tracks:u1:list:extra:more", "[]", "unknown key pattern");
    refused("tracks:u1:list", "{\"title\":\"x\"}", "wrong shape");
    refused("tracks:u1:list", "[1]", "element 0 is not a JSON object");
    refused("tracks:u1:list", "[{\"id\":\"a\"},{\"id\":\"a\"}]", "repeats id 'a'");
    refused("tracks:u1:list", "[{\"user_id\":\"u2\"}]", "not the key's owner");
    refused("tracks:u 1:list", "[]", "bad id 'u 1'");
    refused("tracks:_sys:list", "[]", "bad id");
    refused("tracks:u1:list", "[{\"a\":1,\"a\":2}]", "duplicate member name");
    refused("tracks:u1:list", "[{\"a\":\"\\u0000\"}]", "\\u0000");
    refused("tracks:u1:list", "[{", "invalid JSON");
    refused("coins:u1:balance", "-1", "negative balance");
    refused("coins:u1:balance", "1.5", "not an integer");
    refused("coins:u1:balance", "true", "wrong shape");
    refused("coins:u1:balance", "\"12a\"", "the string value holds invalid JSON");
    refused("coins:u1:balance", "99999999999999999999", "64 bits");
    refused("coins:u1:transactions", "[{\"amount\":0}]", "non-zero integer");
    refused("coins:u1:transactions", "[{\"amount\":-9223372036854775808}]", "non-zero integer");
    refused("coins:u1:transactions", "[{\"amount\":9223372036854775807},{\"amount\":1}]", "overflows");
    refused("coins:u1:transactions", "[{\"amount\":-9223372036854775807},{\"amount\":9223372036854775807},{\"amount\":1}]",
            "overflows");
    refused("coins:u1:transactions", "[{\"amount\":5,\"type\":\"credit\"},{\"amount\":-5,\"type\":\"credit\"}]",
            "a credit with a negative amount");
    refused("coins:u1:transactions", "[{\"amount\":5,\"type\":\"gift\"}]", "unknown type");
    refused("coins:u1:transactions", "[{\"amount\":5,\"counterparty\":\"a:b\"}]", "bad id in counterparty");
    refused("donations:u1:list", "[{\"from\":\"u2\",\"amount\":-5}]", "amount");
    refused("donations:u1:list", "[{\"from\":\"u1\",\"amount\":5}]", "oneself");
    refused("donations:u1:list", "[{\"amount\":5}]", "bad id in from");
    refused("payments:u1:transactions", "[{\"status\":\"weird\"}]", "unknown status");
    refused("analytics:tracks:t1:2023-02-29", "{}", "bad date");
    refused("analytics:tracks:t1:2024-01-01", "{\"Plays\":1}", "field 'Plays'");
    refused("analytics:tracks:t1:2024-01-01", "{\"plays\":-1}", "non-negative");
    refused("analytics:tracks:t1:2024-01-01", "{\"date\":\"2024-01-02\"}", "not the key's day");
    refused("messages:c1", "[{\"from\":\"a\",\"to\":\"a\",\"text\":\"x\"}]", "oneself");
    refused("messages:c1", "[{\"from\":\"a\",\"to\":\"b\",\"text\":\"\"}]", "text must be");
    refused("notifications:u1", "[{\"read\":\"yes\"}]", "\"read\" must be");
    refused("notifications:u1:unread", "[\"a b\"]", "bad id");
    refused("email:u1:subscriptions", "[\"a:b\"]", "list name");
    refused("tickets:tk1:details", "{\"subject\":\"s\"}", "bad id in user_id");
    refused("tickets:tk1:details", "{\"user_id\":\"u1\",\"id\":\"tk2\"}", "not the key's ticket");
    refused("tickets:tk1:details", "{\"user_id\":\"u1\",\"status\":\"lost\"}", "unknown status");
    refused("tickets:tk1:messages", "[{\"author\":\"u1\"}]", "text must be");
    refused("users:u1:base", "[]", "wrong shape");
    refused("users:u1:base", "{\"id\":\"u2\"}", "not the key's user");
    refused("concerts:public:promoted", "[{\"title\":\"no id\"}]", "bad id");
    refused("messages:u1:unread_count", "-1", "wrong shape");
    refused("dashboard:u1:stats", "[]", "wrong shape");
}

Test(import, element_too_large_or_too_deep) {
    char deep[200], *p = deep;
    p += sprintf(p, "[{\"a\":");
    for (int i = 0; i < 66; i++) *p++ = '[';
    for (int i = 0; i < 66; i++) *p++ = ']';
    sprintf(p, "}]");
    refused("tracks:u1:list", deep, "nested too deeply");
    imp_plan pl;
    char why[400];
    const char *big = "[{\"text\":\"0123456789012345678901234567890123456789\"}]";
    cr_assert_eq(import_map("tracks:u1:list", 14, big, strlen(big), 20, &pl, why, sizeof why), -1);
    cr_assert(strstr(why, "too large"), "%s", why);
}
