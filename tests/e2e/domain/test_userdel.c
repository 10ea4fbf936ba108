/* End-to-end tests of USER.DELETE (SPEC §4.2) against a real stagekv-server:
 * a user with data in every namespace is removed entirely, in one step
 * (:N = the data keys it had, counted before), with every counter, index
 * and feed; its coins go to _system through the ledger; the other user of
 * its conversations, donations and tickets keeps its side byte for byte;
 * payment dedup records survive; the deletion survives kill -9, and a kill
 * at any moment leaves the user either whole or gone. */
#include "harness.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

SKV_FIXTURE();

TestSuite(userdel, .init = up, .fini = down);

static void reconnect_after_kill9(void) {
    redisFree(c);
    c = NULL;
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
}

#define expect_empty(r) expect_len((r), 0)

/* ---- the platform's users ------------------------------------------------------------ */

#define A "alice-7f"
#define B "bob-3c"
#define C_ "carol-9d" /* has a conversation with A only; deleted before A */
#define D "dave-2e"   /* has a conversation with B only */
#define A_EMAIL "Alice.7F@Example.COM"
#define CONV_AB "dm." A "." B
#define CONV_AC "dm." A "." C_
#define CONV_DB "dm." D "." B

/* The ids of one user's documents. */
typedef struct user_ids {
    char track[17], video[17], concert[17], news[17], banner[17], promo[17], pitch[17], paymethod[17], ticket[17];
} user_ids;

/* The data-CF prefixes that hold only uid's keys. */
static const char *const own_prefixes[] = {"users",     "settings", "coins",     "donations", "payments",
                                           "tracks",    "videos",   "concerts",  "news",      "banners",
                                           "promotion", "pitching", "notifications", "email"};
#define N_OWN (sizeof own_prefixes / sizeof own_prefixes[0])
static const char *const namespaces[] = {"TRACK", "VIDEO", "CONCERT", "NEWS", "BANNER", "PROMO", "PITCH", "PAYMETHOD"};

#define N_NS (sizeof namespaces / sizeof namespaces[0])

/* A reply that must be a JSON document (USER.UPDATE, SETTINGS.SET). */
#define expect_json(r) expect_json_l(__LINE__, (r))
static void expect_json_l(int line, redisReply *r) {
    cr_expect(r->type == REDIS_REPLY_STRING && r->str[0] == '{', "line %d: expected JSON, got type %d (%s)", line,
              r->type, rstr(r));
    freeReplyObject(r);
}

/* Data in every namespace for uid, with IDEMP keys used; its balance ends
 * at 1000 - 100 (SPEND) - 10 (PROMO COST) + 50 (PAYMENT CREDIT) = 940. */
static void populate(const char *uid, const char *email, user_ids *ids) {
    char doc[256], id[17];
    snprintf(doc, sizeof doc, "{\"email\":\"%s\",\"name\":\"%s\",\"role\":\"artist\"}", email, uid);
    expect_ok(CMD("USER.CREATE %s %s IDEMP u1", uid, doc));
    expect_json(CMD("USER.UPDATE %s profile %s", uid, "{\"bio\":\"plays bass\"}"));
    expect_json(CMD("USER.UPDATE %s subscription %s", uid, "{\"plan\":\"pro\"}"));
    expect_id(CMD("TRACK.CREATE %s %s IDEMP t1", uid, "{\"title\":\"song\"}"), ids->track);
    expect_id(CMD("VIDEO.CREATE %s %s", uid, "{\"title\":\"clip\"}"), ids->video);
    expect_id(CMD("CONCERT.CREATE %s %s", uid, "{\"city\":\"Oslo\"}"), ids->concert);
    expect_int(CMD("CONCERT.PROMOTE %s %s", uid, ids->concert), 1);
    expect_id(CMD("NEWS.CREATE %s %s", uid, "{\"title\":\"tour\"}"), ids->news);
    expect_int(CMD("NEWS.PROMOTE %s %s", uid, ids->news), 1);
    expect_id(CMD("BANNER.CREATE %s %s", uid, "{\"status\":\"active\"}"), ids->banner);
    expect_int(CMD("COINS.ADD %s 1000 seed IDEMP add1", uid), 1000);
    expect_int(CMD("COINS.SPEND %s 100 shop", uid), 900);
    expect_id(CMD("PROMO.CREATE %s %s COST 10 IDEMP p1", uid, "{\"budget\":10}"), ids->promo);
    expect_id(CMD("PITCH.CREATE %s %s", uid, "{\"to\":\"radio\"}"), ids->pitch);
    expect_id(CMD("PAYMETHOD.CREATE %s %s", uid, "{\"kind\":\"card\",\"last4\":\"4242\"}"), ids->paymethod);
    expect_int(CMD("ANALYTICS.INCR tracks %s 2026-03-01 plays 5", ids->track), 5);
    expect_int(CMD("ANALYTICS.INCR tracks %s 2026-03-02 plays", ids->track), 1);
    expect_int(CMD("ANALYTICS.INCR concerts %s 2026-03-01 views 7", ids->concert), 7);
    snprintf(doc, sizeof doc, "{\"provider\":\"stripe\",\"external_id\":\"evt_%s\",\"amount_cents\":499}", uid);
    expect_id(CMD("PAYMENT.RECORD %s %s CREDIT 50 IDEMP pay1", uid, doc), id);
    expect_id(CMD("NOTIFY.CREATE %s %s", uid, "{\"kind\":\"welcome\"}"), id);
    expect_int(CMD("EMAIL.SUBSCRIBE %s news", uid), 1);
    expect_id(CMD("EMAIL.LOG %s %s IDEMP e1", uid, "{\"subject\":\"welcome\"}"), id);
    expect_id(CMD("TICKET.OPEN %s %s", uid, "{\"subject\":\"help\"}"), ids->ticket);
    expect_id(CMD("TICKET.REPLY %s %s %s", ids->ticket, uid, "my card failed"), id);
    expect_id(CMD("TICKET.REPLY %s support1 %s", ids->ticket, "we are on it"), id);
    expect_json(CMD("SETTINGS.SET %s privacy %s", uid, "{\"public\":false}"));
}

/* The keys that belong to uid alone: its own prefixes, the analytics rows of
 * its track and concert, its ticket. want_each: 1 = every prefix holds keys
 * (so a later 0 means something), 0 = every prefix is empty. Returns the
 * sum. */
static long long count_own(const char *uid, const user_ids *ids, int want_each) {
    char p[N_OWN + 3][128];
    size_t n = 0;
    for (; n < N_OWN; n++) snprintf(p[n], sizeof p[n], "%s:%s:", own_prefixes[n], uid);
    snprintf(p[n++], sizeof p[0], "analytics:tracks:%s:", ids->track);
    snprintf(p[n++], sizeof p[0], "analytics:concerts:%s:", ids->concert);
    snprintf(p[n++], sizeof p[0], "tickets:%s:", ids->ticket);
    long long sum = 0;
    for (size_t i = 0; i < n; i++) {
        long long k = take_int(CMD("KV.COUNT %s", p[i]));
        if (want_each) cr_expect_gt(k, 0, "no keys under %s", p[i]);
        else cr_expect_eq(k, 0, "%lld keys left under %s", k, p[i]);
        sum += k;
    }
    return sum;
}

/* ---- snapshots of the user who stays ---------------------------------------------------- */

typedef struct text {
    char *p;
    size_t n;
} text;

static void text_add(text *t, const char *s, size_t n) {
    t->p = realloc(t->p, t->n + n + 2);
    cr_assert(t->p);
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n++] = '\n';
    t->p[t->n] = 0;
}

static void text_reply(text *t, redisReply *r) {
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; i++) text_reply(t, r->element[i]);
    else if (r->type == REDIS_REPLY_INTEGER) {
        char b[32];
        text_add(t, b, (size_t)snprintf(b, sizeof b, ":%lld", r->integer));
    } else if (r->type == REDIS_REPLY_NIL) text_add(t, "(nil)", 5);
    else text_add(t, r->str, r->len);
}

/* Every document of uid's own prefixes, ticket and analytics rows (keys and
 * bytes), its counters and O(1) figures, except what its conversations with
 * the deleted user change. */
static char *snapshot(const char *uid, const user_ids *ids) {
    text t = {0};
    char p[128];
    for (size_t i = 0; i < N_OWN + 3; i++) {
        if (i < N_OWN) snprintf(p, sizeof p, "%s:%s:", own_prefixes[i], uid);
        else if (i == N_OWN) snprintf(p, sizeof p, "analytics:tracks:%s:", ids->track);
        else if (i == N_OWN + 1) snprintf(p, sizeof p, "analytics:concerts:%s:", ids->concert);
        else snprintf(p, sizeof p, "tickets:%s:", ids->ticket);
        redisReply *r = CMD("KV.GETBYPREFIX %s", p);
        cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements > 0, "nothing under %s", p);
        text_reply(&t, r);
        freeReplyObject(r);
    }
    static const char *const figures[] = {"USER.GET %s", "COINS.BALANCE %s", "COINS.VERIFY %s", "DONATION.TOTAL %s",
                                          "NOTIFY.UNREAD %s", "EMAIL.SUBSCRIPTIONS %s", "TICKET.LIST %s",
                                          "SETTINGS.GET %s privacy"};
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        redisReply *r = CMD(figures[i], uid);
        text_reply(&t, r);
        freeReplyObject(r);
    }
    for (size_t i = 0; i < N_NS; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "%s.COUNT %%s", namespaces[i]);
        redisReply *r = CMD(cmd, uid);
        cr_expect(r->type == REDIS_REPLY_INTEGER && r->integer == 1, "%s of %s: %lld", cmd, uid, r->integer);
        text_reply(&t, r);
        freeReplyObject(r);
    }
    redisReply *r = CMD("KV.GETBYPREFIX %s", "conversations:" CONV_DB ":");
    text_reply(&t, r);
    freeReplyObject(r);
    return t.p;
}

/* Whether a feed (CONCERT.PROMOTED, ...) lists a document naming s. */
static int feed_mentions(const char *cmd, const char *s) {
    redisReply *r = CMD("%s LIMIT 1000", cmd);
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "%s: type %d (%s)", cmd, r->type, rstr(r));
    int found = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) found |= strstr(r->element[i]->str, s) != NULL;
    freeReplyObject(r);
    return found;
}

/* ---- the checks after A's deletion ------------------------------------------------------- */

/* Walks the whole keyspace (SCAN, GET): A's uid is left only where SPEC
 * §4.2 keeps it as an opaque id in other users' records, and in the name
 * of the shared conversation, whose remaining messages are all B's. A's
 * e-mail address is nowhere. */
static void scan_for_traces(const user_ids *b) {
    char tk[64];
    snprintf(tk, sizeof tk, "tickets:%s:messages:", b->ticket);
    const char *const allowed[] = {"donations:" B ":",        "coins:" B ":transactions:",
                                   "coins:_system:transactions:", "notifications:" B ":",
                                   "messages:" CONV_AB ":",   "conversations:" CONV_AB ":details",
                                   tk};
    char cursor[32] = "0";
    long long keys = 0;
    do {
        redisReply *r = CMD("SCAN %s COUNT 200", cursor);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "SCAN: type %d", r->type);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            redisReply *v = CMD("GET %s", k);
            const char *val = v->type == REDIS_REPLY_STRING ? v->str : "";
            keys++;
            if (strstr(k, A))
                cr_expect(!strncmp(k, "messages:" CONV_AB ":", strlen("messages:" CONV_AB ":")) ||
                              !strcmp(k, "conversations:" CONV_AB ":details"),
                          "key %s left", k);
            if (!strncmp(k, "messages:" CONV_AB ":", strlen("messages:" CONV_AB ":")))
                cr_expect(strstr(val, "\"from\":\"" B "\"") != NULL, "A's message %s left: %s", k, val);
            if (strstr(val, A)) {
                int ok = 0;
                for (size_t j = 0; j < sizeof allowed / sizeof allowed[0]; j++)
                    ok |= !strncmp(k, allowed[j], strlen(allowed[j]));
                cr_expect(ok, "%s names A: %s", k, val);
            }
            cr_expect(!strcasestr(k, A_EMAIL) && !strcasestr(val, A_EMAIL), "A's e-mail under %s", k);
            freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0"));
    cr_expect_gt(keys, 20, "SCAN saw %lld keys", keys);
}

static void check_a_gone(const user_ids *a, const user_ids *b, long long sys_balance, long long a_balance) {
    cr_expect_eq(count_own(A, a, 0), 0);
    expect_int(CMD("KV.COUNT %s", "messages:" CONV_AC ":"), 0);
    expect_nil(CMD("KV.GET %s", "conversations:" CONV_AC ":details"));
    for (size_t i = 0; i < N_NS; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "%s.COUNT %%s", namespaces[i]);
        expect_int(CMD(cmd, A), 0);
        snprintf(cmd, sizeof cmd, "%s.LIST %%s", namespaces[i]);
        expect_empty(CMD(cmd, A));
    }
    cr_expect(!feed_mentions("CONCERT.PROMOTED", A) && !feed_mentions("NEWS.PROMOTED", A) &&
                  !feed_mentions("BANNER.ACTIVE", A),
              "a feed still lists A's documents");
    cr_expect(feed_mentions("CONCERT.PROMOTED", b->concert) && feed_mentions("NEWS.PROMOTED", b->news) &&
                  feed_mentions("BANNER.ACTIVE", b->banner),
              "a feed lost B's documents");
    expect_nil(CMD("USER.GET %s", A));
    expect_nil(CMD("USER.BYEMAIL %s", A_EMAIL));
    expect_nil(CMD("USER.BYEMAIL %s", "alice.7f@example.com"));
    expect_int(CMD("NOTIFY.UNREAD %s", A), 0);
    expect_empty(CMD("NOTIFY.LIST %s", A));
    expect_int(CMD("MSG.UNREAD %s", A), 0);
    expect_empty(CMD("MSG.CONVERSATIONS %s", A));
    expect_int(CMD("COINS.BALANCE %s", A), 0);
    expect_empty(CMD("COINS.HISTORY %s", A));
    expect_int(CMD("DONATION.TOTAL %s", A), 0);
    expect_empty(CMD("DONATION.LIST %s", A));
    expect_empty(CMD("PAYMENT.LIST %s", A));
    expect_empty(CMD("EMAIL.SUBSCRIPTIONS %s", A));
    expect_empty(CMD("EMAIL.HISTORY %s", A));
    char *s = take_bulk_or_nil(CMD("SETTINGS.GET %s privacy", A));
    cr_expect(s && !strcmp(s, "{}"), "settings: %s", s ? s : "(nil)");
    free(s);
    expect_nil(CMD("TICKET.GET %s", a->ticket));
    expect_empty(CMD("TICKET.LIST %s", A));
    expect_empty(CMD("ANALYTICS.RANGE tracks %s 2026-03-01 2026-03-31", a->track));
    expect_empty(CMD("ANALYTICS.RANGE concerts %s 2026-03-01 2026-03-31", a->concert));
    s = take_bulk_or_nil(CMD("DASHBOARD.GET %s", A));
    cr_expect(s && strstr(s, "\"tracks\":0") && strstr(s, "\"unread_messages\":0") && !strpbrk(s, "123456789"),
              "dashboard: %s", s ? s : "(nil)");
    free(s);
    /* the coins went to _system through one ledger row */
    expect_int(CMD("COINS.BALANCE _system"), sys_balance);
    expect_ok(CMD("COINS.VERIFY _system"));
    redisReply *r = CMD("COINS.HISTORY _system LIMIT 1");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "_system history: type %d", r->type);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        char amount[64];
        snprintf(amount, sizeof amount, "\"amount\":%lld,", a_balance);
        const char *row = r->element[0]->str;
        cr_expect(strstr(row, amount) && strstr(row, "\"reason\":\"user.delete\"") &&
                      strstr(row, "\"counterparty\":\"" A "\""),
                  "_system row: %s", row);
    }
    freeReplyObject(r);
    scan_for_traces(b);
}

/* B keeps everything: its documents and figures byte for byte, its side of
 * the shared conversation (whose last message falls back to B's), the
 * donation A sent it and A's reply on its ticket; only the unread count of
 * A's removed messages is gone from its figures. */
static void check_b_kept(const user_ids *b, const char *snap, const char *m_ba1, const char *m_ba2,
                         const char *m_a_on_b_ticket) {
    char *now = snapshot(B, b);
    cr_expect_str_eq(now, snap, "B changed");
    free(now);
    expect_int(CMD("MSG.UNREAD %s", B), 1); /* D's message; A's two are gone */
    char *s = take_bulk_or_nil(CMD("DASHBOARD.GET %s", B));
    cr_expect(s && strstr(s, "\"tracks\":1,\"videos\":1,\"concerts\":1,\"news\":1,\"coins\":955,") &&
                  strstr(s, "\"donations\":{\"count\":1,\"total\":40}") && strstr(s, "\"unread_notifications\":2") &&
                  strstr(s, "\"unread_messages\":1"),
              "dashboard of B: %s", s ? s : "(nil)");
    free(s);
    redisReply *r = CMD("MSG.HISTORY %s", CONV_AB);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "history: type %d, %zu", r->type, r->elements);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        cr_expect(strstr(r->element[0]->str, m_ba2) && strstr(r->element[1]->str, m_ba1), "history: %s / %s",
                  r->element[0]->str, r->element[1]->str);
    freeReplyObject(r);
    s = take_bulk_or_nil(CMD("KV.GET %s", "conversations:" CONV_AB ":details"));
    char want[64];
    snprintf(want, sizeof want, "\"last_message\":{\"id\":\"%s\"", m_ba2);
    cr_expect(s && strstr(s, "\"participants\":[\"" A "\",\"" B "\"]") && strstr(s, want), "details: %s",
              s ? s : "(nil)");
    free(s);
    r = CMD("MSG.CONVERSATIONS %s", B); /* AB's activity fell back before D's message */
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "conversations: type %d", r->type);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        cr_expect(strstr(r->element[0]->str, "\"conv\":\"" CONV_DB "\"") &&
                      strstr(r->element[1]->str, "\"conv\":\"" CONV_AB "\"") &&
                      strstr(r->element[1]->str, "\"unread\":0"),
                  "conversations: %s / %s", r->element[0]->str, r->element[1]->str);
    freeReplyObject(r);
    r = CMD("DONATION.LIST %s", B);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && strstr(r->element[0]->str, "\"from\":\"" A "\"") &&
                  strstr(r->element[0]->str, "\"amount\":40"),
              "donations of B: type %d", r->type);
    freeReplyObject(r);
    s = take_bulk_or_nil(CMD("TICKET.GET %s", b->ticket));
    cr_expect(s && strstr(s, m_a_on_b_ticket) && strstr(s, "\"author\":\"" A "\""), "B's ticket: %s", s ? s : "(nil)");
    free(s);
}

/* ---- the proof -------------------------------------------------------------------- */

Test(userdel, removes_every_trace_and_keeps_the_other_side, .timeout = 120) {
    user_ids a, b;
    char id[17], m_ab1[17], m_ba1[17], m_ba2[17], m_db[17], m_ab2[17], on_b_ticket[17];
    populate(A, A_EMAIL, &a);
    populate(B, "bob@example.com", &b);
    expect_id(CMD("DONATION.SEND %s %s 40 MESSAGE %s IDEMP d1", A, B, "for the tour"), id);
    expect_id(CMD("DONATION.SEND %s %s 25 MESSAGE %s", B, A, "thanks"), id);
    expect_id(CMD("MSG.SEND %s %s %s %s IDEMP m1", CONV_AB, A, B, "hi b"), m_ab1);
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_AB, B, A, "hi a"), m_ba1);
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_AB, B, A, "fine"), m_ba2);
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_DB, D, B, "yo"), m_db);
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_AB, A, B, "how are you"), m_ab2);
    expect_id(CMD("TICKET.REPLY %s %s %s", b.ticket, A, "same problem here"), on_b_ticket);
    /* C talks with A only and leaves first: A's leaving then ends that
     * conversation entirely (details and A's message) */
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_AC, C_, A, "from c"), id);
    expect_id(CMD("MSG.SEND %s %s %s %s", CONV_AC, A, C_, "to c"), id);
    expect_int(CMD("USER.DELETE %s", C_), 1); /* C's one message */

    expect_int(CMD("COINS.BALANCE %s", A), 925); /* 940 - 40 + 25 */
    expect_int(CMD("COINS.BALANCE %s", B), 955);
    expect_int(CMD("MSG.UNREAD %s", B), 3);
    long long sys0 = take_int(CMD("COINS.BALANCE _system"));
    /* A's keys: its own ranges, the two messages it sent B, and the A-C
     * conversation (A's message and the details) */
    long long want = count_own(A, &a, 1);
    expect_int(CMD("KV.COUNT %s", "messages:" CONV_AB ":"), 4);
    expect_int(CMD("KV.COUNT %s", "messages:" CONV_AC ":"), 1);
    expect_int(CMD("KV.COUNT %s", "conversations:" CONV_AC ":"), 1);
    want += 2 + 2;
    long long size0 = take_int(CMD("DBSIZE"));
    char *snap_b = snapshot(B, &b);

    expect_int(CMD("USER.DELETE %s", A), want);
    /* the keys went, and _system gained exactly one ledger row (+ its balance key when new) */
    expect_int(CMD("DBSIZE"), size0 - want + 1 + (sys0 == 0));
    check_a_gone(&a, &b, sys0 + 925, 925);
    check_b_kept(&b, snap_b, m_ba1, m_ba2, on_b_ticket);

    /* a provider's resent webhook is still recognised */
    expect_error(CMD("PAYMENT.RECORD %s %s", B, "{\"provider\":\"stripe\",\"external_id\":\"evt_" A "\"}"),
                 "CONFLICT");
    expect_error(CMD("DEL %s", "users:" B ":base"), "ERR key 'users:" B ":base' is owned by the domain engine");

    /* acknowledged means durable: the same state after kill -9 */
    reconnect_after_kill9();
    check_a_gone(&a, &b, sys0 + 925, 925);
    check_b_kept(&b, snap_b, m_ba1, m_ba2, on_b_ticket);
    free(snap_b);

    /* again, and a user who never existed: nothing to remove */
    expect_int(CMD("USER.DELETE %s", A), 0);
    expect_int(CMD("USER.DELETE %s", "nobody-0"), 0);
    expect_int(CMD("COINS.BALANCE _system"), sys0 + 925);

    /* A's internal entries are gone too: a new A starts from nothing */
    expect_ok(CMD("USER.CREATE %s %s", A, "{\"email\":\"alice2@example.com\",\"role\":\"fan\"}"));
    expect_nil(CMD("USER.BYEMAIL %s", A_EMAIL)); /* an index entry left behind would name the new A */
    expect_ok(CMD("USER.CREATE %s %s", "erin-1a", "{\"email\":\"" A_EMAIL "\",\"role\":\"fan\"}"));
    expect_int(CMD("COINS.ADD %s 1000 seed IDEMP add1", A), 1000);
    expect_int(CMD("KV.COUNT coins:%s:transactions:", A), 1); /* ran again: not a replay */
    expect_id(CMD("TRACK.CREATE %s %s IDEMP t1", A, "{\"title\":\"new\"}"), id); /* no -CONFLICT */
    cr_expect_str_neq(id, a.track);
    expect_int(CMD("TRACK.COUNT %s", A), 1);
    expect_int(CMD("CONCERT.COUNT %s", A), 0);
    expect_int(CMD("NOTIFY.UNREAD %s", A), 0);
    /* the IDEMP record of the old PAYMENT.RECORD is gone (no replay of its
     * id), the dedup record is not */
    expect_error(CMD("PAYMENT.RECORD %s %s CREDIT 50 IDEMP pay1", A,
                     "{\"provider\":\"stripe\",\"external_id\":\"evt_" A "\",\"amount_cents\":499}"),
                 "CONFLICT payment provider 'stripe'");
}

/* ---- refusals and edges --------------------------------------------------------------------- */

Test(userdel, refuses_bad_ids_and_writes_nothing) {
    char id[17];
    expect_id(CMD("TRACK.CREATE %s %s", "u1", "{}"), id);
    expect_int(CMD("COINS.ADD u1 5 r"), 5);
    long long size0 = take_int(CMD("DBSIZE"));
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = 0;
    const char *const bad[] = {"", "u1:x", "u1 x", "_system", "_u1", long_id, "caf\xc3\xa9", "u1*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {"USER.DELETE", bad[i]};
        size_t lens[] = {11, strlen(bad[i])};
        expect_error(skv_cmdargv(c, 2, argv, lens), "INVALID id '");
    }
    expect_error(CMD("USER.DELETE"), "ERR wrong number of arguments for 'user.delete' command");
    expect_error(CMD("USER.DELETE u1 u1"), "ERR wrong number of arguments for 'user.delete' command");
    expect_int(CMD("DBSIZE"), size0);
    expect_int(CMD("TRACK.COUNT u1"), 1);
    expect_int(CMD("COINS.BALANCE _system"), 0);
    expect_int(CMD("USER.DELETE %s", "ghost"), 0);
    expect_int(CMD("DBSIZE"), size0);
}

Test(userdel, a_uid_is_exact_not_a_prefix) {
    char id[17];
    const char *const near[] = {"ann", "ann.b", "ann-", "ann_", "anna"};
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        char doc[128];
        snprintf(doc, sizeof doc, "{\"email\":\"%s@example.com\",\"role\":\"fan\"}", near[i]);
        expect_ok(CMD("USER.CREATE %s %s", near[i], doc));
        expect_id(CMD("TRACK.CREATE %s %s IDEMP k", near[i], "{}"), id);
        expect_id(CMD("NOTIFY.CREATE %s %s", near[i], "{}"), id);
        expect_int(CMD("COINS.ADD %s 3 r", near[i]), 3);
    }
    /* base, track, notification, balance, ledger row */
    expect_int(CMD("USER.DELETE ann"), 5);
    expect_int(CMD("COINS.BALANCE _system"), 3);
    for (size_t i = 1; i < sizeof near / sizeof near[0]; i++) {
        expect_int(CMD("TRACK.COUNT %s", near[i]), 1);
        expect_int(CMD("NOTIFY.UNREAD %s", near[i]), 1);
        expect_int(CMD("COINS.BALANCE %s", near[i]), 3);
        expect_int(CMD("KV.COUNT users:%s:", near[i]), 1);
        expect_id(CMD("TRACK.CREATE %s %s IDEMP k", near[i], "{}"), id); /* replayed, not -CONFLICT */
        expect_int(CMD("TRACK.COUNT %s", near[i]), 1);
    }
    char *s = take_bulk_or_nil(CMD("USER.BYEMAIL %s", "ann.b@example.com"));
    cr_expect(s && !strcmp(s, "ann.b"), "%s", s ? s : "(nil)");
    free(s);
}

/* Owners need not exist (SPEC §4): data without USER.CREATE is deleted as
 * well. With the write guard off (a migration aid), a stored base may name
 * an address whose index entry is another user's: that entry stays. */
Test(userdel, owners_without_a_user_and_foreign_index_entries) {
    down();
    const char *const extra[] = {"--domain-write-guard", "no", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    char id[17];
    expect_id(CMD("TRACK.CREATE %s %s", "solo", "{}"), id);
    expect_id(CMD("EMAIL.LOG %s %s", "solo", "{}"), id);
    expect_int(CMD("COINS.ADD solo 7 r"), 7);
    expect_int(CMD("USER.DELETE solo"), 4); /* track, e-mail, balance, row */
    expect_int(CMD("COINS.BALANCE _system"), 7);
    expect_int(CMD("DBSIZE"), 2); /* _system's balance and row */

    expect_ok(CMD("USER.CREATE %s %s", "eve", "{\"email\":\"Eve@x.io\",\"role\":\"fan\"}"));
    expect_ok(CMD("KV.SET %s %s", "users:mallory:base", "{\"id\":\"mallory\",\"email\":\"eve@X.IO\",\"role\":\"fan\"}"));
    expect_ok(CMD("SET %s %s", "users:zed:base", "not json"));
    expect_int(CMD("USER.DELETE mallory"), 1);
    expect_int(CMD("USER.DELETE zed"), 1);
    char *s = take_bulk_or_nil(CMD("USER.BYEMAIL %s", "EVE@x.io"));
    cr_expect(s && !strcmp(s, "eve"), "%s", s ? s : "(nil)");
    free(s);
}

/* A refusal in the middle (here: _system's balance would pass 2^63-1 when
 * it takes the user's coins) fails the whole command: nothing is removed. */
Test(userdel, a_refused_step_deletes_nothing) {
    char id[17];
    expect_int(CMD("COINS.ADD %s 9223372036854775807 r", "rich"), INT64_MAX);
    expect_int(CMD("USER.DELETE %s", "rich"), 2); /* balance and row */
    expect_int(CMD("COINS.BALANCE _system"), INT64_MAX);
    expect_ok(CMD("USER.CREATE %s %s", "y1", "{\"email\":\"y1@example.com\",\"role\":\"fan\"}"));
    expect_id(CMD("TRACK.CREATE %s %s", "y1", "{}"), id);
    expect_id(CMD("NOTIFY.CREATE %s %s", "y1", "{}"), id);
    expect_int(CMD("COINS.ADD %s 1 r", "y1"), 1);
    long long size0 = take_int(CMD("DBSIZE"));
    expect_error(CMD("USER.DELETE %s", "y1"), "INVALID");
    expect_int(CMD("DBSIZE"), size0);
    expect_int(CMD("TRACK.COUNT y1"), 1);
    expect_int(CMD("NOTIFY.UNREAD y1"), 1);
    expect_int(CMD("COINS.BALANCE y1"), 1);
    expect_int(CMD("COINS.BALANCE _system"), INT64_MAX);
    char *s = take_bulk_or_nil(CMD("USER.BYEMAIL %s", "y1@example.com"));
    cr_expect(s && !strcmp(s, "y1"), "%s", s ? s : "(nil)");
    free(s);
    expect_ok(CMD("COINS.VERIFY _system"));
    expect_ok(CMD("COINS.VERIFY y1"));
    /* with no coins left, nothing has to move */
    expect_int(CMD("COINS.SPEND y1 1 r"), 0);
    expect_int(CMD("USER.DELETE %s", "y1"), 6); /* base, track, notification, balance, two rows */
    expect_int(CMD("COINS.BALANCE _system"), INT64_MAX);
}

Test(userdel, invalidates_watch_and_runs_in_multi) {
    char id1[17], id2[17];
    expect_id(CMD("TRACK.CREATE %s %s", "w1", "{}"), id1);
    expect_id(CMD("TRACK.CREATE %s %s", "w2", "{}"), id2);
    redisContext *other = skv_connect(&srv);
    expect_ok(CMD("WATCH tracks:w1:%s", id1)); /* removed by a range deletion */
    expect_int(skv_cmd(other, "USER.DELETE w1"), 1);
    expect_ok(CMD("MULTI"));
    freeReplyObject(CMD("PING"));
    redisReply *r = CMD("EXEC");
    cr_expect_eq(r->type, REDIS_REPLY_NIL, "EXEC after a watched key was deleted: type %d", r->type);
    freeReplyObject(r);
    /* inside MULTI it runs in EXEC */
    expect_ok(CMD("MULTI"));
    freeReplyObject(CMD("USER.DELETE w2"));
    r = CMD("EXEC");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_INTEGER &&
                  r->element[0]->integer == 1,
              "EXEC: type %d", r->type);
    freeReplyObject(r);
    expect_int(CMD("TRACK.COUNT w2"), 0);
    redisFree(other);
}

/* ---- all or nothing across kill -9 ------------------------------------------------------------ */

#define BIG_TRACKS 1500
#define BIG_NOTES 200
#define BIG_DAYS 100
#define BIG_MAILS 50
#define BIG_COINS 777

/* Sends one command without reading its reply (pipelined). */
static void append(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cr_assert_eq(redisvAppendCommand(c, fmt, ap), REDIS_OK);
    va_end(ap);
}

/* Reads n pipelined replies; the first one's text into first (may be NULL). */
static void drain(int n, char first[17]) {
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_expect(r->type != REDIS_REPLY_ERROR, "pipelined reply %d: %s", i, rstr(r));
        if (i == 0 && first) snprintf(first, 17, "%s", rstr(r));
        freeReplyObject(r);
    }
}

/* A user with a few thousand keys: the deletion takes long enough for a
 * kill to land before, during or after it. */
static void populate_big(const char *uid, char track0[17]) {
    char doc[128];
    snprintf(doc, sizeof doc, "{\"email\":\"%s@example.com\",\"role\":\"artist\"}", uid);
    append("TRACK.CREATE %s %s", uid, "{\"title\":\"t\"}");
    drain(1, track0);
    append("USER.CREATE %s %s", uid, doc);
    for (int i = 1; i < BIG_TRACKS; i++) append("TRACK.CREATE %s %s", uid, "{\"title\":\"t\"}");
    for (int i = 0; i < BIG_NOTES; i++) append("NOTIFY.CREATE %s %s", uid, "{\"kind\":\"n\"}");
    for (int i = 0; i < BIG_DAYS; i++) append("ANALYTICS.INCR tracks %s 2026-%02d-%02d plays", track0, 1 + i / 28, 1 + i % 28);
    for (int i = 0; i < BIG_MAILS; i++) append("EMAIL.LOG %s %s", uid, "{\"subject\":\"s\"}");
    append("COINS.ADD %s %d seed", uid, BIG_COINS);
    drain(1 + BIG_TRACKS - 1 + BIG_NOTES + BIG_DAYS + BIG_MAILS + 1, NULL);
}

/* What USER.DELETE changes, as numbers: the user's keys per range, its
 * counters, its balance, its e-mail index entry, and _system's balance. */
enum { M_USERS, M_TRACKS, M_NOTES, M_COINS, M_EMAIL, M_ANALYTICS, M_TRACK_COUNT, M_UNREAD, M_BALANCE, M_BYEMAIL,
       M_SYSTEM, M_N };

static void measure(const char *uid, const char *track0, long long m[M_N]) {
    m[M_USERS] = take_int(CMD("KV.COUNT users:%s:", uid));
    m[M_TRACKS] = take_int(CMD("KV.COUNT tracks:%s:", uid));
    m[M_NOTES] = take_int(CMD("KV.COUNT notifications:%s:", uid));
    m[M_COINS] = take_int(CMD("KV.COUNT coins:%s:", uid));
    m[M_EMAIL] = take_int(CMD("KV.COUNT email:%s:", uid));
    m[M_ANALYTICS] = take_int(CMD("KV.COUNT analytics:tracks:%s:", track0));
    m[M_TRACK_COUNT] = take_int(CMD("TRACK.COUNT %s", uid));
    m[M_UNREAD] = take_int(CMD("NOTIFY.UNREAD %s", uid));
    m[M_BALANCE] = take_int(CMD("COINS.BALANCE %s", uid));
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", uid);
    redisReply *r = CMD("USER.BYEMAIL %s", email);
    m[M_BYEMAIL] = r->type == REDIS_REPLY_STRING && !strcmp(r->str, uid);
    freeReplyObject(r);
    m[M_SYSTEM] = take_int(CMD("COINS.BALANCE _system"));
}

Test(userdel, a_kill_at_any_moment_leaves_all_or_nothing, .timeout = 280) {
    static const int delays_us[] = {0, 2000, 10000, 25000, 50000, 100000, 250000};
    int kept = 0, gone = 0;
    for (size_t round = 0; round < sizeof delays_us / sizeof delays_us[0]; round++) {
        char uid[32], track0[17];
        snprintf(uid, sizeof uid, "big-%zu", round);
        populate_big(uid, track0);
        long long pre[M_N], post[M_N], want_gone[M_N] = {0};
        measure(uid, track0, pre);
        cr_assert(pre[M_TRACKS] == BIG_TRACKS && pre[M_TRACK_COUNT] == BIG_TRACKS && pre[M_NOTES] == BIG_NOTES &&
                      pre[M_UNREAD] == BIG_NOTES && pre[M_ANALYTICS] == BIG_DAYS && pre[M_EMAIL] == BIG_MAILS &&
                      pre[M_BALANCE] == BIG_COINS && pre[M_BYEMAIL] == 1 && pre[M_USERS] == 1,
                  "round %zu: population", round);
        want_gone[M_SYSTEM] = pre[M_SYSTEM] + BIG_COINS;

        char req[128];
        int n = snprintf(req, sizeof req, "*2\r\n$11\r\nUSER.DELETE\r\n$%zu\r\n%s\r\n", strlen(uid), uid);
        int fd = raw_connect(srv.port);
        cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
        if (delays_us[round]) usleep((useconds_t)delays_us[round]);
        reconnect_after_kill9();
        close(fd);

        measure(uid, track0, post);
        int is_kept = !memcmp(post, pre, sizeof pre), is_gone = !memcmp(post, want_gone, sizeof post);
        cr_expect(is_kept || is_gone,
                  "round %zu (kill after %d us): partial state: users %lld tracks %lld notes %lld coins %lld email "
                  "%lld analytics %lld count %lld unread %lld balance %lld byemail %lld _system %lld (was %lld)",
                  round, delays_us[round], post[M_USERS], post[M_TRACKS], post[M_NOTES], post[M_COINS],
                  post[M_EMAIL], post[M_ANALYTICS], post[M_TRACK_COUNT], post[M_UNREAD], post[M_BALANCE],
                  post[M_BYEMAIL], post[M_SYSTEM], pre[M_SYSTEM]);
        expect_ok(CMD("COINS.VERIFY _system"));
        expect_ok(CMD("COINS.VERIFY %s", uid));
        if (is_kept) { /* the deletion never committed: it still works in full */
            kept++;
            long long all = pre[M_USERS] + pre[M_TRACKS] + pre[M_NOTES] + pre[M_COINS] + pre[M_EMAIL] + pre[M_ANALYTICS];
            expect_int(CMD("USER.DELETE %s", uid), all);
            measure(uid, track0, post);
            cr_expect(!memcmp(post, want_gone, sizeof post), "round %zu: not gone after a second USER.DELETE", round);
        } else if (is_gone) {
            gone++;
            expect_int(CMD("USER.DELETE %s", uid), 0);
        }
    }
    cr_log_info("kill -9 during USER.DELETE: %d rounds kept the user, %d found it gone", kept, gone);
}
