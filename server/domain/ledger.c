/* The coin ledger (SPEC §4.3): the only code that writes a balance or a
 * ledger row. COINS.*, DONATION.SEND, PAYMENT.RECORD CREDIT and the COST of
 * PROMO/PITCH.CREATE all come through ledger_apply / ledger_transfer.
 *
 * Keys (data CF, database 0, user-visible, under the guarded "coins:"):
 *   coins:{uid}:balance              decimal text of the balance (a JSON integer)
 *   coins:{uid}:transactions:{id}    one row: {"id", "amount" (signed),
 *                                    "balance_after", "reason", "created_at",
 *                                    "counterparty" (uid or null)}
 * Row ids are server ids, so the rows of a user sort oldest first and
 * COINS.HISTORY lists them newest first with dom_list_docs.
 *
 * Invariants: balance >= 0; balance = sum of the user's rows; each row's
 * balance_after = the previous row's + its amount; a transfer writes both
 * rows or neither. They hold because every change checks first and then
 * writes the row and the balance in the command's one batch; COINS.VERIFY
 * (ledger_verify) re-derives them from the stored rows.
 *
 * Durability: a command that moves coins sets the engine's need_sync (the
 * server's flag), so the loop fsyncs the WAL before its reply whatever the
 * fsync mode (one fsync for every command of the loop iteration: group
 * commit).
 *
 * "_system" (the counterparty of ADD and CREDIT rows, and the account that
 * receives the balances of deleted users) is accepted here like any uid:
 * the commands decide who may name it.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"
#include "ledger.h"

static const char SYSTEM_UID[] = LEDGER_SYSTEM_UID;

/* ---- keys ---------------------------------------------------------------------- */

int ledger_valid_uid(const char *p, size_t n) {
    return dom_valid_id(p, n) || (n == sizeof SYSTEM_UID - 1 && memcmp(p, SYSTEM_UID, n) == 0);
}

#define ASSERT_UID(u) assert(ledger_valid_uid((u), strlen(u)))

void ledger_key_balance(dkey *k, const char *uid) {
    ASSERT_UID(uid);
    dkey_fmt(k, "coins:%s:balance", uid);
}

void ledger_key_row(dkey *k, const char *uid, const char *id) {
    ASSERT_UID(uid);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "coins:%s:transactions:%s", uid, id);
}

void ledger_key_rows(dkey *k, const char *uid) {
    ASSERT_UID(uid);
    dkey_fmt(k, "coins:%s:transactions:", uid);
}

void ledger_key_user(dkey *k, const char *uid) {
    ASSERT_UID(uid);
    dkey_fmt(k, "coins:%s:", uid);
}

/* One account as read before a change. */
typedef struct account {
    const char *uid;
    dkey key;          /* coins:{uid}:balance */
    int64_t balance;
    int exists;        /* the balance key is stored */
} account;

/* The stored balance text: 0 ok, -1 when it is not a decimal integer. */
static int parse_balance(const db_value *v, int64_t *out) {
    return resp_parse_ll(v->v.payload, v->v.len, out);
}

/* Reads uid's balance for a change. -1: a storage error, or a stored
 * balance that is not a non-negative integer (written around the engine
 * with domain-write-guard no: refuse to build on it). */
static int account_read(struct dom_engine *e, account *a, const char *uid) {
    a->uid = uid;
    ledger_key_balance(&a->key, uid);
    a->balance = 0;
    db_value v;
    int r = dom_get_raw(e->ks, &a->key, &v);
    if (r < 0) return -1;
    a->exists = r;
    if (r == 0) return 0;
    int bad = parse_balance(&v, &a->balance) < 0 || a->balance < 0;
    db_value_free(&v);
    if (bad)
        return dom_fail(e, ST_ERR, "stored balance at '%s' is not a non-negative integer (see COINS.VERIFY)",
                        a->key.buf);
    return 0;
}

/* Whether balance + delta stays within 0..2^63-1; fails with the refusal. */
static int account_check(struct dom_engine *e, const account *a, int64_t delta) {
    if (delta == 0) return dom_fail(e, ST_INVALID, "amount 0 (an integer from 1 to 9223372036854775807)");
    if (delta < 0 && a->balance < -delta)
        return dom_fail(e, ST_INSUFFICIENT_FUNDS, "balance %lld, need %lld", (long long)a->balance,
                        -(long long)delta);
    if (delta > 0 && a->balance > INT64_MAX - delta)
        return dom_fail(e, ST_INVALID, "balance of '%s' would pass 9223372036854775807", a->uid);
    return 0;
}

/* The reason as a JSON string (a new reference), or NULL (ks->err): it is
 * text, put into the row by the encoder, never by formatting. */
static json_t *reason_value(struct dom_engine *e, const char *reason) {
    json_t *r = reason ? json_string(reason) : NULL;
    if (!r) dom_fail(e, ST_INVALID, "reason must be UTF-8 text");
    return r;
}

/* Writes one row and the new balance of a checked account. */
static int account_write(struct dom_engine *e, account *a, int64_t delta, json_t *reason, const char *counterparty,
                         uint64_t *row_id) {
    int64_t nb = a->balance + delta; /* checked by account_check */
    uint64_t id = dom_new_id(e);
    char ids[DOM_ID_HEX + 1], ts[32];
    dom_format_id(ids, id);
    dom_id_time(ts, id);
    json_t *row = json_object();
    if (!row) return dom_fail(e, ST_NOMEM, "out of memory");
    json_object_set_new(row, "id", json_string(ids));
    json_object_set_new(row, "amount", json_integer(delta));
    json_object_set_new(row, "balance_after", json_integer(nb));
    json_object_set(row, "reason", reason);
    json_object_set_new(row, "created_at", json_string(ts));
    json_object_set_new(row, "counterparty", counterparty ? json_string(counterparty) : json_null());
    dkey rk;
    ledger_key_row(&rk, a->uid, ids);
    int r = dom_put_doc(e->ks, &rk, row, 0);
    if (r == 0) {
        /* coins:{uid} carries the row as COINS.HISTORY shows it, with its owner */
        char ch[DOM_KEY_MAX];
        snprintf(ch, sizeof ch, "coins:%s", a->uid);
        json_object_set_new(row, "user_id", json_string(a->uid));
        dom_publish(e, ch, "coins.moved", row);
    }
    json_decref(row);
    if (r < 0) return -1;
    char text[24];
    int n = ll_to_str(text, nb);
    if (dom_put_raw(e->ks, &a->key, text, (size_t)n, a->exists) < 0) return -1;
    a->balance = nb;
    a->exists = 1;
    if (row_id) *row_id = id;
    if (e->need_sync) *e->need_sync = 1; /* coins moved: fsync before the reply, every mode */
    return 0;
}

int ledger_balance(struct dom_engine *e, const char *uid, int64_t *out) {
    dkey k;
    ledger_key_balance(&k, uid);
    db_value v;
    *out = 0;
    int r = dom_get_raw(e->ks, &k, &v);
    if (r <= 0) return r;
    int bad = parse_balance(&v, out) < 0;
    db_value_free(&v);
    if (bad) return dom_fail(e, ST_ERR, "stored balance at '%s' is not an integer (see COINS.VERIFY)", k.buf);
    return 0;
}

int ledger_apply(struct dom_engine *e, const char *uid, int64_t delta, const char *reason, const char *counterparty,
                 int64_t *new_balance, uint64_t *row_id) {
    account a;
    if (account_read(e, &a, uid) < 0 || account_check(e, &a, delta) < 0) return -1;
    json_t *r = reason_value(e, reason);
    if (!r) return -1;
    int rc = account_write(e, &a, delta, r, counterparty, row_id);
    json_decref(r);
    if (rc == 0 && new_balance) *new_balance = a.balance;
    return rc;
}

int ledger_transfer(struct dom_engine *e, const char *from, const char *to, int64_t amount, const char *reason,
                    int64_t *from_balance, int64_t *to_balance) {
    if (strcmp(from, to) == 0) return dom_fail(e, ST_INVALID, "a transfer to oneself ('%s')", from);
    if (amount < 1)
        return dom_fail(e, ST_INVALID, "amount %lld (an integer from 1 to 9223372036854775807)", (long long)amount);
    account a, b;
    if (account_read(e, &a, from) < 0 || account_read(e, &b, to) < 0 || account_check(e, &a, -amount) < 0 ||
        account_check(e, &b, amount) < 0)
        return -1;
    json_t *r = reason_value(e, reason);
    if (!r) return -1;
    int rc = account_write(e, &a, -amount, r, to, NULL) < 0 || account_write(e, &b, amount, r, from, NULL) < 0
                 ? -1
                 : 0;
    json_decref(r);
    if (rc == 0) {
        if (from_balance) *from_balance = a.balance;
        if (to_balance) *to_balance = b.balance;
    }
    return rc;
}

/* ---- COINS.VERIFY ------------------------------------------------------------------ */

/* Checks one stored row against its key's id and the running balance.
 * Returns 1 ok (*running advanced), 0 broken (why filled). */
static int verify_row(const char *id, size_t idl, const char *p, size_t n, int64_t *running, char *why,
                      size_t cap) {
    char shown[80];
    resp_sanitize(shown, sizeof shown, id, idl, 64);
    char err[200];
    json_t *row = json_parse_any(p, n, err, sizeof err);
    const char *bad = NULL;
    json_t *f;
    if (!row) bad = "not JSON";
    else if (!json_is_object(row)) bad = "not a JSON object";
    else if (!(f = json_object_get(row, "id")) || !json_is_string(f) || json_string_length(f) != idl ||
             memcmp(json_string_value(f), id, idl) != 0)
        bad = "\"id\" is not the id of its key";
    else if (!(f = json_object_get(row, "amount")) || !json_is_integer(f) || json_integer_value(f) == 0)
        bad = "\"amount\" is not a non-zero integer";
    else if (!json_is_integer(json_object_get(row, "balance_after")))
        bad = "\"balance_after\" is not an integer";
    else if (!json_is_string(json_object_get(row, "reason")))
        bad = "\"reason\" is not a string";
    else if (!json_is_string(json_object_get(row, "created_at")))
        bad = "\"created_at\" is not a string";
    else if (!(f = json_object_get(row, "counterparty")) || !(json_is_string(f) || json_is_null(f)))
        bad = "\"counterparty\" is neither a uid nor null";
    if (bad) {
        snprintf(why, cap, "row %s: malformed (%s)", shown, bad);
        json_decref(row);
        return 0;
    }
    int64_t amount = json_integer_value(json_object_get(row, "amount"));
    int64_t after = json_integer_value(json_object_get(row, "balance_after"));
    json_decref(row);
    if (after < 0) {
        snprintf(why, cap, "row %s: balance_after %lld < 0", shown, (long long)after);
        return 0;
    }
    /* *running >= 0 here (checked on the previous row) */
    int overflow = amount > 0 && *running > INT64_MAX - amount;
    if (overflow || *running + amount != after) {
        snprintf(why, cap, "row %s: balance_after %lld != previous %lld + amount %lld", shown, (long long)after,
                 (long long)*running, (long long)amount);
        return 0;
    }
    *running = after;
    return 1;
}

int ledger_verify(struct dom_engine *e, const char *uid, char *why, size_t cap) {
    dkey bk;
    ledger_key_balance(&bk, uid);
    db_value v;
    int64_t balance = 0;
    int r = dom_get_raw(e->ks, &bk, &v);
    if (r < 0) return -1;
    if (r == 1) {
        int bad = parse_balance(&v, &balance) < 0;
        db_value_free(&v);
        if (bad) {
            snprintf(why, cap, "balance at '%s' is not an integer", bk.buf);
            return 0;
        }
    }
    if (balance < 0) {
        snprintf(why, cap, "balance %lld < 0", (long long)balance);
        return 0;
    }
    dkey prefix;
    ledger_key_rows(&prefix, uid);
    db_iter it;
    db_iter_open(&it, e->ks, 0, prefix.buf, prefix.len);
    const char *k;
    size_t kl;
    enc_value ev;
    int64_t sum = 0, rows = 0;
    int ok = 1;
    while (ok && (r = db_iter_next(&it, &k, &kl, &ev)) == 1) {
        ok = verify_row(k + prefix.len, kl - prefix.len, ev.payload, ev.len, &sum, why, cap);
        rows++;
    }
    db_iter_close(&it);
    if (r < 0) return dom_fail(e, ST_ERR, "storage error while iterating");
    if (!ok) return 0;
    if (balance != sum) {
        snprintf(why, cap, "balance %lld != sum of %lld rows %lld", (long long)balance, (long long)rows,
                 (long long)sum);
        return 0;
    }
    return 1;
}

/* ---- USER.DELETE ---------------------------------------------------------------- */

int ledger_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    account a;
    if (account_read(e, &a, uid) < 0) return -1;
    /* No coin disappears: _system receives the balance (checked, then written). */
    if (a.balance > 0 && ledger_apply(e, SYSTEM_UID, a.balance, "user.delete", uid, NULL, NULL) < 0) return -1;
    dkey prefix; /* a uid holds no ':', so this is exactly uid's ledger */
    ledger_key_user(&prefix, uid);
    int64_t n = db_delete_prefix(e->ks, 0, prefix.buf, prefix.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}
