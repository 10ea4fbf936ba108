/* The engine-internal indexes of issue 9 part 3, checked in the meta CF
 * itself (e2e tests only see them through the lists, which skip entries
 * whose document is gone): each one is written by the command that makes
 * its document and removed by every command that ends it, USER.DELETE's
 * purge steps included. The models run on an engine built on a temporary
 * store, without a server. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "domain.h"
#include "donation.h"
#include "entity.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "payment.h"
#include "rebuild.h"
#include "ticket.h"
#include "user.h"
#include "../unit_tmpdir.h"

static char tmpdir[256];
static store *st;
static keyspace ks;
static struct dom_engine eng, *e = &eng;

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "domops"));
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&st, &o, &err), 0, "store_open: %s", err ? err : "?");
    cr_assert_eq(ks_init(&ks, st, &err), 0, "ks_init: %s", err ? err : "?");
    memset(&eng, 0, sizeof eng);
    eng.ks = &ks;
    cr_assert_eq(dom_load(e, &err), 0);
}

static void teardown(void) {
    ks_free(&ks);
    store_close(st);
    unit_tmpdir_remove(tmpdir);
}

TestSuite(domain_ops, .init = setup, .fini = teardown);

/* The meta value at the key printed from fmt: 1 with its text in out, 0 absent. */
static int meta_at(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int meta_at(char *out, size_t cap, const char *fmt, ...) {
    dkey k;
    va_list ap;
    va_start(ap, fmt);
    k.len = (size_t)vsnprintf(k.buf, sizeof k.buf, fmt, ap);
    va_end(ap);
    store_val v;
    int r = meta_get(&ks, &k, &v);
    cr_assert_geq(r, 0);
    if (r == 1) {
        snprintf(out, cap, "%.*s", (int)v.len, v.ptr);
        store_val_free(&v);
    }
    return r;
}

static json_t *obj(const char *text) {
    json_error_t je;
    json_t *d = json_loads(text, 0, &je);
    cr_assert_not_null(d, "%s", je.text);
    return d;
}

#define OK(call) cr_assert_geq((call), 0, "%s: %s", #call, ks.err.msg)

Test(domain_ops, open_ticket_index) {
    char t1[17], t2[17], v[80];
    json_t *f = obj("{}");
    OK(ticket_open(e, "u1", f, t1));
    OK(ticket_open(e, "u2", f, t2));
    json_decref(f);
    cr_expect(meta_at(v, sizeof v, "tkopen:%s", t1) == 1 && !strcmp(v, "u1"));
    cr_expect_eq(ticket_close(e, t1), 1);
    cr_expect_eq(meta_at(v, sizeof v, "tkopen:%s", t1), 0, "closed: out of the index");
    cr_expect_eq(ticket_reopen(e, t1), 1);
    cr_expect(meta_at(v, sizeof v, "tkopen:%s", t1) == 1 && !strcmp(v, "u1"), "reopened: back");
    cr_expect_eq(ticket_reopen(e, t1), 0);
    int64_t n = 0;
    OK(ticket_purge_user(e, "u1", &n));
    cr_expect_eq(meta_at(v, sizeof v, "tkopen:%s", t1), 0, "USER.DELETE: gone");
    cr_expect_eq(meta_at(v, sizeof v, "tkopen:%s", t2), 1, "another user's stays");
    cr_expect_eq(ticket_reopen(e, t1), -1);
    cr_expect_eq(ks.err.code, ST_NOTFOUND);
}

Test(domain_ops, user_index) {
    char v[8];
    json_t *b = obj("{\"email\":\"a@x.io\",\"role\":\"fan\"}");
    OK(user_create(e, "alice", b));
    json_decref(b);
    cr_expect_eq(meta_at(v, sizeof v, "ulist:alice"), 1);
    int64_t n = 0;
    OK(user_purge_user(e, "alice", &n));
    cr_expect_eq(meta_at(v, sizeof v, "ulist:alice"), 0);
}

Test(domain_ops, all_feed_of_the_namespaces_that_list_it) {
    const entity_ns *with[] = {&entity_ns_track, &entity_ns_video, &entity_ns_concert, &entity_ns_news};
    char id[17], id2[17], v[80];
    for (size_t i = 0; i < 4; i++) {
        json_t *d = obj("{\"promoted\":true}");
        OK(entity_create(e, with[i], "u1", d, 0, id));
        json_decref(d);
        d = obj("{}");
        OK(entity_create(e, with[i], "u1", d, 0, id2));
        json_decref(d);
        cr_expect(meta_at(v, sizeof v, "all:%s:%s", with[i]->meta, id) == 1 && !strcmp(v, "u1"), "%s", with[i]->name);
        cr_expect_eq(entity_delete(e, with[i], "u1", id), 1);
        cr_expect_eq(meta_at(v, sizeof v, "all:%s:%s", with[i]->meta, id), 0, "%s: delete", with[i]->name);
        int64_t n = 0;
        OK(entity_purge_user(e, "u1", &n));
        cr_expect_eq(meta_at(v, sizeof v, "all:%s:%s", with[i]->meta, id2), 0, "%s: purge", with[i]->name);
    }
    json_t *d = obj("{}");
    OK(entity_create(e, &entity_ns_banner, "u1", d, 0, id));
    json_decref(d);
    cr_expect_eq(meta_at(v, sizeof v, "all:banners:%s", id), 0, "BANNER keeps no feed of every document");
}

Test(domain_ops, sender_index) {
    char d1[17], v[80];
    OK(ledger_apply(e, "fan", 100, "topup", LEDGER_SYSTEM_UID, NULL, NULL));
    OK(donation_send(e, "fan", "art", 10, NULL, d1));
    cr_expect(meta_at(v, sizeof v, "dsent:fan:%s", d1) == 1 && !strcmp(v, "art"));
    int64_t n = 0;
    OK(donation_purge_user(e, "art", &n));
    cr_expect_eq(meta_at(v, sizeof v, "dsent:fan:%s", d1), 1, "the artist's purge leaves the donor's index");
    OK(donation_purge_user(e, "fan", &n));
    cr_expect_eq(meta_at(v, sizeof v, "dsent:fan:%s", d1), 0);
}

Test(domain_ops, notify_delete_keeps_the_counter) {
    uint64_t a, b;
    char as[17], bs[17], v[32];
    json_t *d = obj("{}");
    OK(notify_create(e, "u", d, &a));
    OK(notify_create(e, "u", d, &b));
    json_decref(d);
    dom_format_id(as, a);
    dom_format_id(bs, b);
    int64_t n;
    cr_expect_eq(notify_delete(e, "u", as), 1);
    OK(notify_unread_count(e, "u", &n));
    cr_expect_eq(n, 1);
    cr_expect_eq(meta_at(v, sizeof v, "nunread:u:%s", as), 0);
    cr_expect_eq(notify_mark_read(e, "u", bs), 1);
    cr_expect_eq(notify_delete(e, "u", bs), 1);
    OK(notify_unread_count(e, "u", &n));
    cr_expect_eq(n, 0);
    cr_expect_eq(notify_delete(e, "u", bs), 0);
}

Test(domain_ops, refund_moves_coins_or_nothing) {
    char id[17];
    json_t *d = obj("{\"status\":\"succeeded\"}"), *out = NULL;
    OK(payment_record(e, "u", d, 50, id));
    json_decref(d);
    OK(ledger_apply(e, "u", -10, "shop", NULL, NULL, NULL));
    cr_expect_eq(payment_set_status(e, "u", id, "refunded", &out), -1);
    cr_expect_eq(ks.err.code, ST_INSUFFICIENT_FUNDS);
    cr_expect_null(out);
    int64_t bal;
    OK(ledger_balance(e, "u", &bal));
    cr_expect_eq(bal, 40);
    OK(ledger_apply(e, "u", 10, "topup", LEDGER_SYSTEM_UID, NULL, NULL));
    OK(payment_set_status(e, "u", id, "refunded", &out));
    cr_expect_str_eq(json_string_value(json_object_get(out, "status")), "refunded");
    json_decref(out);
    OK(ledger_balance(e, "u", &bal));
    cr_expect_eq(bal, 0);
    char why[128];
    cr_expect_eq(ledger_verify(e, "u", why, sizeof why), 1, "%s", why);
}

/* The count record of uid's tracks: its length (0 absent), count and hints. */
static size_t count_rec(const char *uid, int64_t *n, uint64_t *first, uint64_t *last) {
    dkey k;
    entity_key_count(&k, &entity_ns_track, uid);
    store_val v;
    int r = meta_get(&ks, &k, &v);
    cr_assert_geq(r, 0);
    *n = 0;
    *first = *last = 0;
    if (r == 0) return 0;
    size_t len = v.len;
    entity_count_decode(v.ptr, v.len, n, first, last);
    store_val_free(&v);
    return len;
}

static uint64_t idval(const char *id) {
    uint64_t v = 0;
    cr_assert(dom_server_id_value(id, strlen(id), &v), "%s", id);
    return v;
}

/* Runs DOMAIN.CHECK (fix 0) or DOMAIN.REBUILD (fix 1) of the tracks to its
 * end: the findings. */
static int64_t walk_tracks(int fix) {
    rb_walk w;
    cr_assert_eq(rb_walk_init(&w, "tracks"), 0);
    for (int i = 0; !w.done; i++) {
        cr_assert_lt(i, 1000);
        OK(rb_walk_step(e, &w, fix, 64, NULL, NULL));
    }
    return w.findings;
}

/* count:tracks:{uid} carries the lowest and highest id of the user's tracks
 * as hints for TRACK.LIST (entity.c): creates widen them, deletes leave
 * them stale, an id that is not a server id drops them; DOMAIN.CHECK
 * checks the count only, and DOMAIN.REBUILD refreshes the hints without a
 * finding. */
Test(domain_ops, track_count_record_hints) {
    char id[4][17];
    int64_t n;
    uint64_t f, l;
    for (int i = 0; i < 3; i++) {
        json_t *d = obj("{}");
        OK(entity_create(e, &entity_ns_track, "h", d, 0, id[i]));
        json_decref(d);
    }
    cr_expect_eq(count_rec("h", &n, &f, &l), ENTITY_COUNT_HINTED_LEN);
    cr_expect(n == 3 && f == idval(id[0]) && l == idval(id[2]), "%lld %llx %llx", (long long)n,
              (unsigned long long)f, (unsigned long long)l);
    /* the newest deleted: the hints stay, stale */
    cr_expect_eq(entity_delete(e, &entity_ns_track, "h", id[2]), 1);
    count_rec("h", &n, &f, &l);
    cr_expect(n == 2 && f == idval(id[0]) && l == idval(id[2]));
    int64_t cnt;
    OK(entity_count(e, &entity_ns_track, "h", &cnt));
    cr_expect_eq(cnt, 2);
    cr_expect_eq(walk_tracks(0), 0, "stale hints are no finding");
    cr_expect_eq(walk_tracks(1), 0);
    count_rec("h", &n, &f, &l);
    cr_expect(n == 2 && f == idval(id[0]) && l == idval(id[1]), "rebuilt hints");
    /* an imported id that is not a server id drops them, for good */
    json_t *d = obj("{}");
    OK(entity_import(e, &entity_ns_track, "h", d, "imp-1"));
    json_decref(d);
    cr_expect_eq(count_rec("h", &n, &f, &l), ENTITY_COUNT_LEN);
    cr_expect_eq(n, 3);
    d = obj("{}");
    OK(entity_create(e, &entity_ns_track, "h", d, 0, id[3]));
    json_decref(d);
    cr_expect_eq(count_rec("h", &n, &f, &l), ENTITY_COUNT_LEN);
    cr_expect_eq(n, 4);
    cr_expect_eq(walk_tracks(1), 0);
    cr_expect_eq(count_rec("h", &n, &f, &l), ENTITY_COUNT_LEN, "a list with an imported id has no hints");
    /* emptied, then a new first document: hints again */
    const char *all[] = {id[0], id[1], id[3], "imp-1"};
    for (size_t i = 0; i < 4; i++) cr_expect_eq(entity_delete(e, &entity_ns_track, "h", all[i]), 1);
    cr_expect_eq(count_rec("h", &n, &f, &l), 0);
    d = obj("{}");
    OK(entity_create(e, &entity_ns_track, "h", d, 0, id[0]));
    json_decref(d);
    cr_expect_eq(count_rec("h", &n, &f, &l), ENTITY_COUNT_HINTED_LEN);
    cr_expect(n == 1 && f == idval(id[0]) && l == f);
    /* a wrong count is still a finding, hints or not */
    dkey k;
    char b[ENTITY_COUNT_HINTED_LEN];
    entity_key_count(&k, &entity_ns_track, "h");
    meta_put(&ks, &k, b, entity_count_encode(b, 7, f, l));
    cr_expect_eq(walk_tracks(0), 1);
    cr_expect_eq(walk_tracks(1), 1);
    cr_expect_eq(walk_tracks(0), 0);
    count_rec("h", &n, &f, &l);
    cr_expect_eq(n, 1);
}
