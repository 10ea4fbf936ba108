/* The domain engine's pure parts: the key builders of every model (exact
 * bytes, so a refactoring cannot move a key under the stored data), ids,
 * and the IDEMP fingerprint. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analytics.h"
#include "domain.h"
#include "donation.h"
#include "email.h"
#include "entity.h"
#include "idemp.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "payment.h"
#include "settings.h"
#include "ticket.h"
#include "user.h"

static void expect_key(const dkey *k, const char *want, size_t wl) {
    cr_assert_eq(k->len, wl, "length %zu, want %zu (%.*s)", k->len, wl, (int)k->len, k->buf);
    cr_assert(memcmp(k->buf, want, wl) == 0, "key '%.*s', want '%.*s'", (int)k->len, k->buf, (int)wl, want);
}
#define EXPECT(k, lit) expect_key((k), (lit), sizeof(lit) - 1)

static const char ID[] = "0190f3a1c2d40000";

Test(keys, ledger) {
    dkey k;
    ledger_key_balance(&k, "u1");
    EXPECT(&k, "coins:u1:balance");
    ledger_key_balance(&k, LEDGER_SYSTEM_UID);
    EXPECT(&k, "coins:_system:balance");
    ledger_key_row(&k, "u1", ID);
    EXPECT(&k, "coins:u1:transactions:0190f3a1c2d40000");
    ledger_key_rows(&k, "u1");
    EXPECT(&k, "coins:u1:transactions:");
    ledger_key_user(&k, "u1");
    EXPECT(&k, "coins:u1:");
    cr_assert(ledger_valid_uid("_system", 7));
    cr_assert(!ledger_valid_uid("_other", 6));
}

Test(keys, donation_payment) {
    dkey k;
    donation_key_doc(&k, "a1", ID);
    EXPECT(&k, "donations:a1:0190f3a1c2d40000");
    donation_key_user(&k, "a1");
    EXPECT(&k, "donations:a1:");
    donation_key_stats(&k, "a1");
    EXPECT(&k, "donstat:a1");
    payment_key_doc(&k, "u1", ID);
    EXPECT(&k, "payments:u1:transactions:0190f3a1c2d40000");
    payment_key_list(&k, "u1");
    EXPECT(&k, "payments:u1:transactions:");
    payment_key_user(&k, "u1");
    EXPECT(&k, "payments:u1:");
    payment_key_dedup(&k, "stripe", 6, "ch_1", 4);
    EXPECT(&k, "paydedup:stripe\0ch_1"); /* the NUL splits the pair */
}

Test(keys, entity) {
    dkey k;
    entity_key_doc(&k, &entity_ns_track, "u1", ID);
    EXPECT(&k, "tracks:u1:0190f3a1c2d40000");
    entity_key_doc(&k, &entity_ns_paymethod, "u1", ID);
    EXPECT(&k, "payments:u1:method:0190f3a1c2d40000");
    entity_key_user(&k, &entity_ns_promo, "u1");
    EXPECT(&k, "promotion:u1:");
    entity_key_count(&k, &entity_ns_paymethod, "u1");
    EXPECT(&k, "count:payment_methods:u1");
    entity_key_owner(&k, &entity_ns_concert, ID);
    EXPECT(&k, "owner:concerts:0190f3a1c2d40000");
    entity_key_feed(&k, &entity_ns_banner, ID);
    EXPECT(&k, "feed:banners:0190f3a1c2d40000");
    entity_key_feed_index(&k, &entity_ns_news);
    EXPECT(&k, "feed:news:");
    cr_assert_eq(entity_ns_find("CONCERT"), &entity_ns_concert);
    cr_assert_null(entity_ns_find("album"));
}

Test(keys, analytics_notify_email_settings_user) {
    dkey k;
    analytics_key_day(&k, "tracks", "t1", "2026-11-25");
    EXPECT(&k, "analytics:tracks:t1:2026-11-25");
    analytics_key_entity(&k, "concerts", "c1");
    EXPECT(&k, "analytics:concerts:c1:");
    notify_key_doc(&k, "u1", ID);
    EXPECT(&k, "notifications:u1:0190f3a1c2d40000");
    notify_key_unread(&k, "u1", ID);
    EXPECT(&k, "nunread:u1:0190f3a1c2d40000");
    notify_key_unread_index(&k, "u1");
    EXPECT(&k, "nunread:u1:");
    notify_key_count(&k, "u1");
    EXPECT(&k, "ncount:u1");
    email_key_subscriptions(&k, "u1");
    EXPECT(&k, "email:u1:subscriptions");
    email_key_log(&k, "u1", ID);
    EXPECT(&k, "email:u1:history:0190f3a1c2d40000");
    email_key_user(&k, "u1");
    EXPECT(&k, "email:u1:");
    settings_key_section(&k, "u1", "privacy");
    EXPECT(&k, "settings:u1:privacy");
    user_key_section(&k, "u1", "base");
    EXPECT(&k, "users:u1:base");
    user_key_user(&k, "u1");
    EXPECT(&k, "users:u1:");
    user_key_email(&k, "Ann.Lee@Example.COM", 19);
    EXPECT(&k, "email:ann.lee@example.com");
}

Test(keys, msg_ticket) {
    dkey k;
    msg_key_message(&k, "cv", ID);
    EXPECT(&k, "messages:cv:0190f3a1c2d40000");
    msg_key_details(&k, "cv");
    EXPECT(&k, "conversations:cv:details");
    msg_key_list_entry(&k, "u1", ID, DOM_ID_HEX, "cv", 2);
    EXPECT(&k, "mconv:u1:0190f3a1c2d40000:cv");
    msg_key_pointer(&k, "u1", "cv", 2);
    EXPECT(&k, "mconvp:u1:cv");
    msg_key_unread(&k, "u2", "cv", ID);
    EXPECT(&k, "munread:u2:cv:0190f3a1c2d40000");
    msg_key_unread_conv(&k, "u2", "cv");
    EXPECT(&k, "munread:u2:cv:");
    msg_key_count(&k, "u2", "cv");
    EXPECT(&k, "mucount:u2:cv");
    msg_key_total(&k, "u2");
    EXPECT(&k, "mutotal:u2");
    msg_key_sent(&k, "u1", "cv", ID);
    EXPECT(&k, "msent:u1:cv:0190f3a1c2d40000");
    ticket_key_details(&k, ID);
    EXPECT(&k, "tickets:0190f3a1c2d40000:details");
    ticket_key_reply(&k, "t1", ID);
    EXPECT(&k, "tickets:t1:messages:0190f3a1c2d40000");
    ticket_key_index_entry(&k, "u1", "t1");
    EXPECT(&k, "tk:u1:t1");
    ticket_key_count(&k, "t1");
    EXPECT(&k, "tkr:t1");
}

Test(keys, idemp) {
    dkey r, t;
    idemp_key_record(&r, "u1", 2, "k-1", 3);
    EXPECT(&r, "idemp:u1:k-1");
    idemp_key_reclaim(&t, 0x0102030405060708ull, &r);
    EXPECT(&t, "idempt:\x01\x02\x03\x04\x05\x06\x07\x08u1:k-1");
}

Test(keys, longest_ids_fit) {
    char id[DOM_ID_MAX + 1];
    memset(id, 'a', DOM_ID_MAX);
    id[DOM_ID_MAX] = 0;
    dkey k;
    msg_key_unread(&k, id, id, id); /* the longest builder of validated ids */
    cr_assert_eq(k.len, strlen("munread:") + 3 * DOM_ID_MAX + 2);
    cr_assert_lt(k.len, (size_t)DOM_KEY_MAX);
}

/* ---- ids ------------------------------------------------------------------ */

Test(ids, valid) {
    cr_assert(dom_valid_id("u1", 2));
    cr_assert(dom_valid_id("A.b-c_9", 7));
    cr_assert(!dom_valid_id("", 0));
    cr_assert(!dom_valid_id("_system", 7), "'_' first is reserved");
    cr_assert(!dom_valid_id("a:b", 3), "':' would reach into another key");
    cr_assert(!dom_valid_id("a b", 3));
    char long_id[DOM_ID_MAX + 1];
    memset(long_id, 'x', sizeof long_id);
    cr_assert(dom_valid_id(long_id, DOM_ID_MAX));
    cr_assert(!dom_valid_id(long_id, DOM_ID_MAX + 1));
}

Test(ids, format) {
    char out[DOM_ID_HEX + 1];
    dom_format_id(out, 0x0190f3a1c2d40001ull);
    cr_assert_str_eq(out, "0190f3a1c2d40001");
    cr_assert(dom_is_server_id(out, strlen(out)));
    dom_format_id(out, 1);
    cr_assert_str_eq(out, "0000000000000001");
    cr_assert(!dom_is_server_id("0190F3A1C2D40001", 16), "lower case only");
    cr_assert(!dom_is_server_id("0190f3a1c2d4000", 15));
    cr_assert_eq(dom_id_ms((uint64_t)1764000000000 << 16 | 7), 1764000000000ull);
}

/* ---- IDEMP fingerprint ------------------------------------------------------ */

static void fp_of(const char *const *args, int n, uint64_t fp[2]) {
    resp_slice a[8];
    for (int i = 0; i < n; i++) a[i] = (resp_slice){args[i], strlen(args[i])};
    idemp_fingerprint(a, n, fp);
}

Test(idemp, fingerprint) {
    static const char *const x[] = {"COINS.ADD", "u1", "5", "gift"};
    static const char *const same[] = {"coins.add", "u1", "5", "gift"};
    static const char *const shifted[] = {"coins.add", "u1", "5g", "ift"};
    static const char *const other[] = {"coins.add", "u1", "6", "gift"};
    uint64_t a[2], b[2], c[2], d[2];
    fp_of(x, 4, a);
    fp_of(same, 4, b);
    fp_of(shifted, 4, c);
    fp_of(other, 4, d);
    cr_assert(a[0] == b[0] && a[1] == b[1], "same request (the name in any case) -> same fingerprint");
    cr_assert(a[0] != c[0] || a[1] != c[1], "an argument boundary moved -> another fingerprint");
    cr_assert(a[0] != d[0] || a[1] != d[1], "another amount -> another fingerprint");
    /* SHA-256 of the length-prefixed arguments: a fixed value, so a change
     * of the hashed input (which would make every stored record conflict)
     * shows here. */
    static const char *const one[] = {"ping"};
    uint64_t p[2];
    fp_of(one, 1, p);
    /* python3: hashlib.sha256(bytes(7) + b"\x04" + b"ping").hexdigest()[:32] */
    cr_assert_eq(p[0], 0x8268d9a6f0a88f4full);
    cr_assert_eq(p[1], 0x4f2582c7d4c6f3e2ull);
}

/* The stamps' ISO-8601 form, against gmtime_r + strftime at the edges of
 * every field and at pseudo-random instants up to the year 9999. */
Test(keys, iso_time_matches_strftime) {
    static const uint64_t edges[] = {0, 999, 1000, 59999, 86399999, 951782400000ull /* 2000-02-29 */,
                                     1798761599999ull /* 2026-12-31T23:59:59.999 */, 253402300799999ull};
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        uint64_t ms;
        if (i < (int)(sizeof edges / sizeof edges[0])) {
            ms = edges[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ms = x % 253402300800000ull; /* before year 10000 */
        }
        char got[32], want[40], date[32];
        dom_iso_time(got, ms);
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want, sizeof want, "%s.%03uZ", date, (unsigned)(ms % 1000));
        cr_assert_str_eq(got, want, "ms %llu", (unsigned long long)ms);
    }
}

/* dkey_fmt's two directives, as printf has them: %.*s stops at the width
 * or at a NUL, whichever comes first; text around them is copied. */
Test(keys, dkey_fmt_directives) {
    dkey k;
    char raw[5] = {'x', 'y', 'z', 'z', 'y'}; /* no NUL */
    dkey_fmt(&k, "a%.*sb", 3, raw);
    EXPECT(&k, "axyzb");
    dkey_fmt(&k, "%s:%.*s:%s", "", 9, "ab", "tail");
    EXPECT(&k, ":ab:tail");
    cr_assert_eq(k.buf[k.len], '\0');
    dkey_fmt(&k, "plain");
    EXPECT(&k, "plain");
}
