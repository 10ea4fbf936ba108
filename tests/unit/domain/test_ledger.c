/* The ledger model (and the donation model on top of it) driven directly
 * on a temporary RocksDB store, without a server or a socket: the keyspace
 * and an engine are built here, the models are called as a handler would,
 * and the commit protocol is the one dispatch uses (a mark per command;
 * rollback on failure; ks_commit). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "domain.h"
#include "donation.h"
#include "ledger.h"
#include "notify.h"
#include "store.h"
#include "../unit_tmpdir.h"

static char dir[64];
static store *st;
static keyspace ks;
static struct dom_engine eng;
static int need_sync;

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(dir, sizeof dir, "ledger"));
    store_options o = {.dir = dir, .block_cache_bytes = 4u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&st, &o, &err), 0, "store_open: %s", err ? err : "?");
    cr_assert_eq(ks_init(&ks, st, &err), 0, "ks_init: %s", err ? err : "?");
    memset(&eng, 0, sizeof eng);
    eng.ks = &ks;
    eng.need_sync = &need_sync;
    cr_assert_eq(dom_load(&eng, &err), 0);
    need_sync = 0;
}

static void teardown(void) {
    ks_free(&ks);
    store_close(st);
    unit_tmpdir_remove(dir);
}

TestSuite(ledger, .init = setup, .fini = teardown);

/* One "command": a mark, the body, then keep (and commit) or roll back,
 * as cmd_exec does. Returns the body's result. */
typedef int (*body_fn)(void *arg);
static int run(body_fn fn, void *arg) {
    ks_mark m;
    ks_mark_begin(&ks, &m);
    st_clear(&ks.err);
    int r = fn(arg);
    if (r < 0) {
        ks_mark_rollback(&ks, &m);
        return r;
    }
    cr_assert_eq(ks_commit(&ks), 0, "commit: %s", ks.err.msg);
    return r;
}

typedef struct op {
    const char *uid, *to;
    int64_t delta;
    int64_t nb, tb;
} op;

static int do_apply(void *arg) {
    op *o = arg;
    return ledger_apply(&eng, o->uid, o->delta, "test", o->delta > 0 ? LEDGER_SYSTEM_UID : NULL, &o->nb, NULL);
}

static int do_transfer(void *arg) {
    op *o = arg;
    return ledger_transfer(&eng, o->uid, o->to, o->delta, "gift", &o->nb, &o->tb);
}

static int64_t balance(const char *uid) {
    int64_t b;
    cr_assert_eq(ledger_balance(&eng, uid, &b), 0);
    return b;
}

/* The number of stored ledger rows of uid. */
static int64_t count_rows(const char *uid) {
    dkey p;
    ledger_key_rows(&p, uid);
    db_iter it;
    const char *k;
    size_t kl;
    enc_value v;
    int64_t n = 0;
    db_iter_open(&it, &ks, 0, p.buf, p.len);
    while (db_iter_next(&it, &k, &kl, &v) == 1) n++;
    db_iter_close(&it);
    return n;
}

Test(ledger, add_spend_balance_rows) {
    op a = {.uid = "u1", .delta = 100};
    cr_assert_eq(run(do_apply, &a), 0);
    cr_assert_eq(a.nb, 100);
    cr_assert_eq(need_sync, 1, "coins moved: the reply waits for an fsync");
    op s = {.uid = "u1", .delta = -30};
    cr_assert_eq(run(do_apply, &s), 0);
    cr_assert_eq(s.nb, 70);
    cr_assert_eq(balance("u1"), 70);
    cr_assert_eq(count_rows("u1"), 2);
    /* the stored balance is the decimal text, the row a JSON document */
    dkey bk;
    ledger_key_balance(&bk, "u1");
    db_value v;
    cr_assert_eq(db_lookup(&ks, 0, bk.buf, bk.len, &v), 1);
    cr_assert_eq(v.v.len, 2);
    cr_assert(memcmp(v.v.payload, "70", 2) == 0);
    db_value_free(&v);
    char why[200];
    cr_assert_eq(ledger_verify(&eng, "u1", why, sizeof why), 1, "%s", why);
}

Test(ledger, insufficient_funds_writes_nothing) {
    op a = {.uid = "u1", .delta = 10};
    cr_assert_eq(run(do_apply, &a), 0);
    int64_t before = db_size(&ks, 0);
    op s = {.uid = "u1", .delta = -11};
    cr_assert_eq(run(do_apply, &s), -1);
    cr_assert_eq(ks.err.code, ST_INSUFFICIENT_FUNDS);
    cr_assert_str_eq(ks.err.msg, "INSUFFICIENT_FUNDS balance 10, need 11");
    cr_assert(ks_idle(&ks), "the refused command left nothing in the batch");
    cr_assert_eq(db_size(&ks, 0), before);
    cr_assert_eq(balance("u1"), 10);
    cr_assert_eq(count_rows("u1"), 1);
    /* a user without coins: nothing at all */
    op z = {.uid = "nobody", .delta = -1};
    cr_assert_eq(run(do_apply, &z), -1);
    cr_assert_str_eq(ks.err.msg, "INSUFFICIENT_FUNDS balance 0, need 1");
    cr_assert_eq(count_rows("nobody"), 0);
}

Test(ledger, transfer_moves_exactly_or_nothing) {
    op a = {.uid = "u1", .delta = 50};
    cr_assert_eq(run(do_apply, &a), 0);
    op t = {.uid = "u1", .to = "u2", .delta = 20};
    cr_assert_eq(run(do_transfer, &t), 0);
    cr_assert_eq(t.nb, 30);
    cr_assert_eq(t.tb, 20);
    cr_assert_eq(balance("u1") + balance("u2"), 50);
    cr_assert_eq(count_rows("u1"), 2);
    cr_assert_eq(count_rows("u2"), 1);
    op over = {.uid = "u1", .to = "u2", .delta = 31};
    cr_assert_eq(run(do_transfer, &over), -1);
    cr_assert_eq(ks.err.code, ST_INSUFFICIENT_FUNDS);
    cr_assert_eq(balance("u1"), 30);
    cr_assert_eq(balance("u2"), 20);
    cr_assert_eq(count_rows("u2"), 1, "no row on the payee's side either");
    op self = {.uid = "u1", .to = "u1", .delta = 1};
    cr_assert_eq(run(do_transfer, &self), -1);
    cr_assert_str_eq(ks.err.msg, "INVALID a transfer to oneself ('u1')");
    char why[200];
    cr_assert_eq(ledger_verify(&eng, "u1", why, sizeof why), 1, "%s", why);
    cr_assert_eq(ledger_verify(&eng, "u2", why, sizeof why), 1, "%s", why);
}

Test(ledger, balance_cap) {
    op a = {.uid = "u1", .delta = INT64_MAX};
    cr_assert_eq(run(do_apply, &a), 0);
    op b = {.uid = "u1", .delta = 1};
    cr_assert_eq(run(do_apply, &b), -1);
    cr_assert_eq(ks.err.code, ST_INVALID);
    cr_assert_str_eq(ks.err.msg, "INVALID balance of 'u1' would pass 9223372036854775807");
    cr_assert_eq(balance("u1"), INT64_MAX);
}

static int do_purge(void *arg) {
    int64_t *removed = arg;
    return ledger_purge_user(&eng, "u1", removed);
}

Test(ledger, purge_moves_the_balance_to_system) {
    op a = {.uid = "u1", .delta = 40};
    cr_assert_eq(run(do_apply, &a), 0);
    int64_t removed = 0;
    cr_assert_eq(run(do_purge, &removed), 0);
    cr_assert_eq(removed, 2, "the balance and the one row");
    cr_assert_eq(balance("u1"), 0);
    cr_assert_eq(balance(LEDGER_SYSTEM_UID), 40, "no coin disappears");
    cr_assert_eq(count_rows(LEDGER_SYSTEM_UID), 1);
    char why[200];
    cr_assert_eq(ledger_verify(&eng, LEDGER_SYSTEM_UID, why, sizeof why), 1, "%s", why);
}

Test(ledger, survives_reopen) {
    op a = {.uid = "u1", .delta = 7};
    cr_assert_eq(run(do_apply, &a), 0);
    uint64_t last = eng.last_id;
    ks_free(&ks);
    store_close(st);
    store_options o = {.dir = dir, .block_cache_bytes = 4u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&st, &o, &err), 0);
    cr_assert_eq(ks_init(&ks, st, &err), 0);
    memset(&eng, 0, sizeof eng);
    eng.ks = &ks;
    cr_assert_eq(dom_load(&eng, &err), 0);
    cr_assert_eq(eng.last_id, last, "the id high-water mark was committed with the row");
    cr_assert_eq(balance("u1"), 7);
    cr_assert_eq(count_rows("u1"), 1);
}

/* ---- donations: one step across three models ------------------------------------ */

typedef struct don {
    int64_t amount;
    char id[DOM_ID_HEX + 1];
} don;

static int do_donate(void *arg) {
    don *d = arg;
    return donation_send(&eng, "fan", "artist", d->amount, "bravo", d->id);
}

Test(ledger, donation_is_one_step) {
    op a = {.uid = "fan", .delta = 30};
    cr_assert_eq(run(do_apply, &a), 0);
    don d = {.amount = 12};
    cr_assert_eq(run(do_donate, &d), 0);
    cr_assert(dom_is_server_id(d.id, strlen(d.id)));
    cr_assert_eq(balance("fan"), 18);
    cr_assert_eq(balance("artist"), 12);
    int64_t count, total, unread;
    cr_assert_eq(donation_stats(&eng, "artist", &count, &total), 0);
    cr_assert_eq(count, 1);
    cr_assert_eq(total, 12);
    cr_assert_eq(notify_unread_count(&eng, "artist", &unread), 0);
    cr_assert_eq(unread, 1, "the artist is notified in the same batch");
    dkey k;
    donation_key_doc(&k, "artist", d.id);
    cr_assert_eq(db_exists(&ks, 0, k.buf, k.len), 1);

    /* refused: nothing of the four parts is written */
    int64_t before = db_size(&ks, 0);
    don big = {.amount = 19};
    cr_assert_eq(run(do_donate, &big), -1);
    cr_assert_str_eq(ks.err.msg, "INSUFFICIENT_FUNDS balance 18, need 19");
    cr_assert_eq(db_size(&ks, 0), before);
    cr_assert_eq(donation_stats(&eng, "artist", &count, &total), 0);
    cr_assert_eq(count, 1);
    cr_assert_eq(notify_unread_count(&eng, "artist", &unread), 0);
    cr_assert_eq(unread, 1);
    char why[200];
    cr_assert_eq(ledger_verify(&eng, "fan", why, sizeof why), 1, "%s", why);
    cr_assert_eq(ledger_verify(&eng, "artist", why, sizeof why), 1, "%s", why);
}
