/* End-to-end tests of COINS.* (SPEC §4.3): reply shapes, every error code,
 * the ledger rows, IDEMP, the write guard, COINS.VERIFY on a sound and on a
 * tampered ledger, and the fsync of every coin movement. */
#include "e2e_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

#define MAX "9223372036854775807"

/* Every bad amount, for every command that takes one. */
static const char *const bad_amounts[] = {"0", "-1", "1.5", "abc", "9223372036854775808", "", " 1", "1e3", NULL};

/* Bad ids: SPEC §4 (':', spaces, non-ASCII, empty, 65 bytes, leading '_'). */
static const char *const bad_ids[] = {"a:b", "a b", "caf\xc3\xa9", "", "_x", "_system",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};

TestSuite(coins, .init = up, .fini = down);

/* An array of two integers (COINS.TRANSFER: the new balances [from, to]). */
#define expect_pair(r, a, b) expect_pair_l(__LINE__, (r), (a), (b))
static void expect_pair_l(int line, redisReply *r, long long a, long long b) {
    cr_expect_eq(r->type, REDIS_REPLY_ARRAY, "line %d: expected [%lld, %lld], got type %d (%s)", line, a, b, r->type,
                 rstr(r));
    if (r->type == REDIS_REPLY_ARRAY) {
        cr_expect_eq(r->elements, 2, "line %d: %zu elements", line, r->elements);
        if (r->elements == 2) {
            cr_expect(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == a &&
                          r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == b,
                      "line %d: expected [%lld, %lld], got [%lld, %lld]", line, a, b, r->element[0]->integer,
                      r->element[1]->integer);
        }
    }
    freeReplyObject(r);
}

Test(coins, balance_add_spend) {
    expect_int(CMD("COINS.BALANCE u"), 0);
    expect_int(CMD("COINS.ADD u 10 %s", "gift"), 10);
    expect_int(CMD("COINS.ADD u 5 %s", "more"), 15);
    expect_int(CMD("COINS.SPEND u 3 %s", "tip"), 12);
    expect_int(CMD("COINS.BALANCE u"), 12);
    expect_int(CMD("COINS.SPEND u 12 %s", "all"), 0);
    expect_int(CMD("COINS.BALANCE u"), 0);
    expect_error_eq(CMD("COINS.SPEND u 1 r"), "INSUFFICIENT_FUNDS balance 0, need 1");
    /* the balance key is a JSON integer, readable by KV.GET and GET */
    expect_int(CMD("COINS.ADD u 7 r"), 7);
    expect_bulk(CMD("KV.GET coins:u:balance"), "7");
    expect_bulk(CMD("GET coins:u:balance"), "7");
    expect_int(CMD("COINS.ADD v " MAX " r"), INT64_MAX);
    expect_int(CMD("COINS.BALANCE v"), INT64_MAX);
    expect_status(CMD("COINS.VERIFY u"), "OK");
    expect_status(CMD("COINS.VERIFY v"), "OK");
}

Test(coins, rows_of_add_and_spend) {
    expect_int(CMD("COINS.ADD u 10 %s", "top up"), 10);
    expect_int(CMD("COINS.SPEND u 4 %s", "sticker"), 6);
    size_t n;
    char **rows = coins_history(c, "u", &n);
    cr_assert_eq(n, 2);
    expect_row(rows[0], -4, 6, "sticker", NULL);
    expect_row(rows[1], 10, 10, "top up", "_system");
    cr_expect(strcmp(jstr(rows[0], "id"), jstr(rows[1], "id")) > 0, "newest first");
    /* the row is stored under its id, as KV.GET shows */
    char key[100];
    snprintf(key, sizeof key, "coins:u:transactions:%s", jstr(rows[1], "id"));
    expect_bulk(CMD("KV.GET %s", key), rows[1]);
    free_rows(rows);
    /* no row on _system's side for an ADD */
    expect_len(CMD("COINS.HISTORY _system"), 0);
    expect_int(CMD("COINS.BALANCE _system"), 0);
    expect_int(CMD("KV.COUNT coins:u:transactions:"), 2);
}

Test(coins, bad_amounts_write_nothing) {
    expect_int(CMD("COINS.ADD a 10 r"), 10);
    for (const char *const *b = bad_amounts; *b; b++) {
        char want[200];
        snprintf(want, sizeof want, "INVALID amount '%s'", *b);
        expect_error(CMD("COINS.ADD a %s r", *b), want);
        expect_error(CMD("COINS.SPEND a %s r", *b), want);
        expect_error(CMD("COINS.TRANSFER a b %s r", *b), want);
    }
    expect_int(CMD("COINS.BALANCE a"), 10);
    expect_int(CMD("COINS.BALANCE b"), 0);
    expect_int(CMD("KV.COUNT coins:"), 2); /* a's balance and its one row */
}

Test(coins, balance_past_max_is_invalid) {
    expect_int(CMD("COINS.ADD u " MAX " r"), INT64_MAX);
    expect_error_eq(CMD("COINS.ADD u 1 r"), "INVALID balance of 'u' would pass 9223372036854775807");
    expect_int(CMD("COINS.BALANCE u"), INT64_MAX);
    expect_len(CMD("COINS.HISTORY u"), 1);
    /* a transfer into a full account: refused on both sides */
    expect_int(CMD("COINS.ADD v 5 r"), 5);
    expect_error_eq(CMD("COINS.TRANSFER v u 1 r"), "INVALID balance of 'u' would pass 9223372036854775807");
    expect_int(CMD("COINS.BALANCE v"), 5);
    expect_len(CMD("COINS.HISTORY v"), 1);
    expect_len(CMD("COINS.HISTORY u"), 1);
    /* spending all of it and adding it back is fine */
    expect_int(CMD("COINS.SPEND u " MAX " r"), 0);
    expect_int(CMD("COINS.ADD u " MAX " r"), INT64_MAX);
    expect_status(CMD("COINS.VERIFY u"), "OK");
    expect_status(CMD("COINS.VERIFY v"), "OK");
}

Test(coins, insufficient_funds_changes_nothing) {
    expect_int(CMD("COINS.ADD u 5 r"), 5);
    expect_error_eq(CMD("COINS.SPEND u 8 r"), "INSUFFICIENT_FUNDS balance 5, need 8");
    expect_error_eq(CMD("COINS.SPEND u " MAX " r"), "INSUFFICIENT_FUNDS balance 5, need " MAX);
    expect_error_eq(CMD("COINS.TRANSFER u v 6 r"), "INSUFFICIENT_FUNDS balance 5, need 6");
    expect_error_eq(CMD("COINS.SPEND nobody 1 r"), "INSUFFICIENT_FUNDS balance 0, need 1");
    expect_int(CMD("COINS.BALANCE u"), 5);
    expect_int(CMD("COINS.BALANCE v"), 0);
    expect_len(CMD("COINS.HISTORY u"), 1);
    expect_len(CMD("COINS.HISTORY v"), 0);
    expect_int(CMD("EXISTS coins:nobody:balance"), 0);
    expect_int(CMD("COINS.SPEND u 5 r"), 0);
}

Test(coins, transfer) {
    expect_int(CMD("COINS.ADD a 10 r"), 10);
    expect_pair(CMD("COINS.TRANSFER a b 4 %s", "for lunch"), 6, 4);
    expect_pair(CMD("COINS.TRANSFER b a 1 %s", "change"), 3, 7); /* [from, to] */
    size_t na, nb;
    char **ra = coins_history(c, "a", &na), **rb = coins_history(c, "b", &nb);
    cr_assert_eq(na, 3);
    cr_assert_eq(nb, 2);
    expect_row(ra[0], 1, 7, "change", "b");
    expect_row(ra[1], -4, 6, "for lunch", "b");
    expect_row(ra[2], 10, 10, "r", "_system");
    expect_row(rb[0], -1, 3, "change", "a");
    expect_row(rb[1], 4, 4, "for lunch", "a");
    free_rows(ra);
    free_rows(rb);
    expect_error_eq(CMD("COINS.TRANSFER a a 1 r"), "INVALID a transfer to oneself ('a')");
    expect_int(CMD("COINS.BALANCE a"), 7);
    expect_len(CMD("COINS.HISTORY a"), 3);
    expect_error_eq(CMD("COINS.TRANSFER a b 8 r"), "INSUFFICIENT_FUNDS balance 7, need 8");
    expect_error_eq(CMD("COINS.TRANSFER a _system 1 r"), "INVALID id '_system'");
    expect_error_eq(CMD("COINS.TRANSFER _system a 1 r"), "INVALID id '_system'");
    expect_error_eq(CMD("COINS.TRANSFER a b:c 1 r"), "INVALID id 'b:c'");
    expect_int(CMD("COINS.BALANCE a"), 7);
    expect_int(CMD("COINS.BALANCE b"), 3);
    expect_status(CMD("COINS.VERIFY a"), "OK");
    expect_status(CMD("COINS.VERIFY b"), "OK");
    /* COMMAND GETKEYS sees both uids */
    redisReply *r = ARRAY("COMMAND GETKEYS COINS.TRANSFER a b 1 r");
    cr_expect(r->elements == 2 && strcmp(r->element[0]->str, "a") == 0 && strcmp(r->element[1]->str, "b") == 0);
    freeReplyObject(r);
}

Test(coins, history_paging) {
    /* 7 rows: balances 1, 3, 6, 10, 15, 21, 28 */
    for (int i = 1; i <= 7; i++) expect_int(CMD("COINS.ADD u %d r%d", i, i), i * (i + 1) / 2);
    size_t n;
    char **all = coins_history(c, "u", &n);
    cr_assert_eq(n, 7);
    for (int i = 0; i < 7; i++) {
        int k = 7 - i; /* newest first */
        char reason[8];
        snprintf(reason, sizeof reason, "r%d", k);
        expect_row(all[i], k, k * (k + 1) / 2, reason, "_system");
    }
    expect_len(CMD("COINS.HISTORY u"), 7); /* default LIMIT 50 */
    /* pages of 3 with AFTER the last id of the previous page */
    char after[17] = "";
    size_t seen = 0;
    for (int page = 0; page < 4; page++) {
        redisReply *r = page ? ARRAY("COINS.HISTORY u AFTER %s LIMIT 3", after) : ARRAY("COINS.HISTORY u LIMIT 3");
        size_t want = page < 2 ? 3 : page == 2 ? 1 : 0;
        cr_assert_eq(r->elements, want, "page %d: %zu rows", page, r->elements);
        for (size_t i = 0; i < r->elements; i++) cr_expect_str_eq(r->element[i]->str, all[seen + i]);
        seen += r->elements;
        if (r->elements) snprintf(after, sizeof after, "%s", jstr(all[seen - 1], "id"));
        freeReplyObject(r);
    }
    cr_expect_eq(seen, 7);
    /* options in any order, case-insensitive; AFTER need not exist */
    redisReply *r = ARRAY("COINS.HISTORY u limit 2 after %s", jstr(all[0], "id"));
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[0]->str, all[1]);
    freeReplyObject(r);
    expect_len(CMD("COINS.HISTORY u AFTER 0000000000000000"), 0);
    r = ARRAY("COINS.HISTORY u AFTER ffffffffffffffff LIMIT 1");
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(r->element[0]->str, all[0]);
    freeReplyObject(r);
    expect_len(CMD("COINS.HISTORY u LIMIT 1000"), 7);
    expect_len(CMD("COINS.HISTORY nobody"), 0);
    free_rows(all);
    /* bad options */
    expect_error(CMD("COINS.HISTORY u LIMIT 0"), "INVALID LIMIT '0'");
    expect_error(CMD("COINS.HISTORY u LIMIT -1"), "INVALID LIMIT '-1'");
    expect_error(CMD("COINS.HISTORY u LIMIT 1001"), "INVALID LIMIT '1001'");
    expect_error(CMD("COINS.HISTORY u LIMIT abc"), "INVALID LIMIT 'abc'");
    expect_error_eq(CMD("COINS.HISTORY u AFTER a:b"), "INVALID id 'a:b'");
    expect_error_eq(CMD("COINS.HISTORY u LIMIT"), "ERR syntax error");
    expect_error_eq(CMD("COINS.HISTORY u BEFORE x"), "ERR syntax error");
}

Test(coins, system_account_is_read_only) {
    expect_int(CMD("COINS.BALANCE _system"), 0);
    expect_len(CMD("COINS.HISTORY _system"), 0);
    expect_status(CMD("COINS.VERIFY _system"), "OK");
    expect_error_eq(CMD("COINS.ADD _system 1 r"), "INVALID id '_system'");
    expect_error_eq(CMD("COINS.SPEND _system 1 r"), "INVALID id '_system'");
    /* only the exact name: other '_' ids stay refused by the readers */
    expect_error_eq(CMD("COINS.BALANCE _systemx"), "INVALID id '_systemx'");
    expect_error_eq(CMD("COINS.HISTORY _other"), "INVALID id '_other'");
    expect_error_eq(CMD("COINS.VERIFY _SYSTEM"), "INVALID id '_SYSTEM'");
    expect_int(CMD("DBSIZE"), 0);
}

Test(coins, bad_ids) {
    for (const char *const *b = bad_ids; *b; b++) {
        char want[120]; /* ids past 64 bytes are shown cut, with "..." */
        snprintf(want, sizeof want, "INVALID id '%.64s%s'", *b, strlen(*b) > 64 ? "..." : "");
        expect_error_eq(CMD("COINS.ADD %s 1 r", *b), want);
        expect_error_eq(CMD("COINS.SPEND %s 1 r", *b), want);
        expect_error_eq(CMD("COINS.TRANSFER %s ok 1 r", *b), want);
        expect_error_eq(CMD("COINS.TRANSFER ok %s 1 r", *b), want);
        if (strcmp(*b, "_system") == 0) continue; /* readable */
        expect_error_eq(CMD("COINS.BALANCE %s", *b), want);
        expect_error_eq(CMD("COINS.HISTORY %s", *b), want);
        expect_error_eq(CMD("COINS.VERIFY %s", *b), want);
    }
    expect_int(CMD("DBSIZE"), 0);
    /* 64 bytes is fine */
    expect_int(CMD("COINS.ADD %s 1 r", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 1);
}

Test(coins, arity_and_syntax) {
    expect_error_eq(CMD("COINS.ADD u 5"), "ERR wrong number of arguments for 'coins.add' command");
    expect_error_eq(CMD("COINS.SPEND u"), "ERR wrong number of arguments for 'coins.spend' command");
    expect_error_eq(CMD("COINS.TRANSFER a b 1"), "ERR wrong number of arguments for 'coins.transfer' command");
    expect_error_eq(CMD("COINS.BALANCE"), "ERR wrong number of arguments for 'coins.balance' command");
    expect_error_eq(CMD("COINS.BALANCE a b"), "ERR wrong number of arguments for 'coins.balance' command");
    expect_error_eq(CMD("COINS.VERIFY a b"), "ERR wrong number of arguments for 'coins.verify' command");
    expect_error_eq(CMD("COINS.HISTORY"), "ERR wrong number of arguments for 'coins.history' command");
    expect_error_eq(CMD("COINS.ADD u 5 r extra"), "ERR syntax error");
    expect_error_eq(CMD("COINS.ADD u 5 r IDEMP"), "ERR syntax error");
    expect_error_eq(CMD("COINS.SPEND u 5 r x y"), "ERR syntax error");
    expect_error_eq(CMD("COINS.TRANSFER a b 5 r extra"), "ERR syntax error");
    expect_int(CMD("DBSIZE"), 0);
}

Test(coins, reasons_are_text) {
    /* a reason that would forge a member if it were pasted into the row */
    const char *forge = "\",\"amount\":9e9";
    expect_int(CMD("COINS.ADD u 3 %s", forge), 3);
    const char *odd = "line1\nline2\t\"quoted\" back\\slash caf\xc3\xa9 \xf0\x9f\x8e\xb5 {\"x\":1}";
    expect_int(CMD("COINS.SPEND u 1 %s", odd), 2);
    size_t n;
    char **rows = coins_history(c, "u", &n);
    cr_assert_eq(n, 2);
    expect_row(rows[1], 3, 3, forge, "_system");
    expect_row(rows[0], -1, 2, odd, NULL);
    free_rows(rows);
    /* not text: invalid UTF-8, a NUL byte; too long; empty */
    const char *const want = "INVALID reason must be 1 to 1024 bytes of UTF-8 text without NUL";
    expect_error_eq(CMD("COINS.ADD u 1 %s", "bad \xff byte"), want);
    expect_error_eq(CMD("COINS.ADD u 1 %s", "\xc3"), want);
    expect_error_eq(CMD("COINS.ADD u 1 %b", "a\0b", (size_t)3), want);
    expect_error_eq(CMD("COINS.ADD u 1 %s", ""), want);
    char big[1026];
    memset(big, 'x', 1025);
    big[1025] = 0;
    expect_error_eq(CMD("COINS.ADD u 1 %s", big), want);
    expect_error_eq(CMD("COINS.TRANSFER u v 1 %s", big), want);
    big[1024] = 0;
    expect_int(CMD("COINS.ADD u 1 %s", big), 3);
    expect_len(CMD("COINS.HISTORY u"), 3);
    expect_status(CMD("COINS.VERIFY u"), "OK");
}

Test(coins, idemp) {
    /* the same key and arguments 3 times: applied once, the same reply */
    for (int i = 0; i < 3; i++) expect_int(CMD("COINS.ADD u 5 r IDEMP k1"), 5);
    expect_int(CMD("COINS.BALANCE u"), 5);
    expect_len(CMD("COINS.HISTORY u"), 1);
    /* the same key with other arguments */
    expect_error(CMD("COINS.ADD u 6 r IDEMP k1"), "CONFLICT");
    expect_error(CMD("COINS.ADD u 5 other IDEMP k1"), "CONFLICT");
    expect_error(CMD("COINS.SPEND u 5 r IDEMP k1"), "CONFLICT");
    expect_int(CMD("COINS.BALANCE u"), 5);
    /* scoped to the owner: another uid may use the same key */
    expect_int(CMD("COINS.ADD v 5 r IDEMP k1"), 5);
    /* a failed SPEND records nothing: its retry runs again */
    expect_error_eq(CMD("COINS.SPEND u 100 r IDEMP s1"), "INSUFFICIENT_FUNDS balance 5, need 100");
    expect_error_eq(CMD("COINS.SPEND u 100 r IDEMP s1"), "INSUFFICIENT_FUNDS balance 5, need 100");
    expect_int(CMD("COINS.ADD u 100 r"), 105);
    expect_int(CMD("COINS.SPEND u 100 r IDEMP s1"), 5);
    expect_int(CMD("COINS.SPEND u 100 r IDEMP s1"), 5);
    expect_int(CMD("COINS.BALANCE u"), 5);
    /* transfers: the array is replayed; IDEMP may come first among options */
    for (int i = 0; i < 3; i++) expect_pair(CMD("COINS.TRANSFER u v 2 r IDEMP t1"), 3, 7);
    expect_int(CMD("COINS.BALANCE u"), 3);
    expect_int(CMD("COINS.BALANCE v"), 7);
    expect_len(CMD("COINS.HISTORY u"), 4);
    expect_len(CMD("COINS.HISTORY v"), 2);
    /* a bad IDEMP key */
    expect_error(CMD("COINS.ADD u 1 r IDEMP %s", ""), "INVALID IDEMP key");
    expect_status(CMD("COINS.VERIFY u"), "OK");
    expect_status(CMD("COINS.VERIFY v"), "OK");
}

Test(coins, write_guard) {
    expect_int(CMD("COINS.ADD u 5 r"), 5);
    size_t n;
    char **rows = coins_history(c, "u", &n);
    char rowkey[100];
    snprintf(rowkey, sizeof rowkey, "coins:u:transactions:%s", jstr(rows[0], "id"));
#define GUARD(k) "ERR key '" k "' is owned by the domain engine; use its commands"
    expect_error_eq(CMD("SET coins:u:balance 500"), GUARD("coins:u:balance"));
    expect_error_eq(CMD("DEL coins:u:balance"), GUARD("coins:u:balance"));
    expect_error_eq(CMD("KV.SET coins:u:balance 500"), GUARD("coins:u:balance"));
    expect_error_eq(CMD("INCRBY coins:u:balance 500"), GUARD("coins:u:balance"));
    char want[200];
    snprintf(want, sizeof want, "ERR key '%s' is owned by the domain engine; use its commands", rowkey);
    expect_error_eq(CMD("KV.DEL %s", rowkey), want);
    expect_error_eq(CMD("SET %s x", rowkey), want);
    expect_error_eq(CMD("KV.DELBYPREFIX coins:u:"), GUARD("coins:u:"));
    /* reads stay allowed */
    expect_bulk(CMD("GET coins:u:balance"), "5");
    expect_bulk(CMD("KV.GET %s", rowkey), rows[0]);
    expect_int(CMD("COINS.BALANCE u"), 5);
    expect_status(CMD("COINS.VERIFY u"), "OK");
    free_rows(rows);
}

Test(coins, multi_exec) {
    /* each command of EXEC stands alone: the failed SPEND drops only itself */
    expect_status(CMD("MULTI"), "OK");
    expect_status(CMD("COINS.ADD u 5 r"), "QUEUED");
    expect_status(CMD("COINS.SPEND u 100 r"), "QUEUED");
    expect_status(CMD("COINS.SPEND u 2 r"), "QUEUED");
    redisReply *r = ARRAY("EXEC");
    cr_assert_eq(r->elements, 3);
    cr_expect(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 5);
    cr_expect(r->element[1]->type == REDIS_REPLY_ERROR &&
              strcmp(r->element[1]->str, "INSUFFICIENT_FUNDS balance 5, need 100") == 0);
    cr_expect(r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 3);
    freeReplyObject(r);
    expect_len(CMD("COINS.HISTORY u"), 2);
    expect_status(CMD("COINS.VERIFY u"), "OK");
}

/* A mixed sequence, then COINS.VERIFY on every account, then a restart
 * after SIGKILL: nothing acknowledged is lost and the ledger still holds. */
Test(coins, verify_after_mixed_sequence_and_crash) {
    const char *users[] = {"a", "b", "c"};
    expect_int(CMD("COINS.ADD a 100 r"), 100);
    expect_int(CMD("COINS.ADD b 50 r"), 50);
    long long bal[3] = {100, 50, 0};
    for (int i = 0; i < 60; i++) {
        int x = i % 3, y = (i + 1) % 3;
        long long amt = i % 7 + 1;
        redisReply *r;
        switch (i % 4) {
        case 0:
            expect_int(CMD("COINS.ADD %s %lld r", users[x], amt), bal[x] + amt);
            bal[x] += amt;
            break;
        case 1:
        case 2:
            r = CMD("COINS.TRANSFER %s %s %lld r", users[x], users[y], amt);
            if (bal[x] >= amt) {
                bal[x] -= amt;
                bal[y] += amt;
                expect_pair(r, bal[x], bal[y]);
            } else {
                expect_error(r, "INSUFFICIENT_FUNDS");
            }
            break;
        default:
            r = CMD("COINS.SPEND %s %lld r", users[x], amt);
            if (bal[x] >= amt) {
                bal[x] -= amt;
                expect_int(r, bal[x]);
            } else {
                expect_error(r, "INSUFFICIENT_FUNDS");
            }
        }
    }
    for (int u = 0; u < 3; u++) {
        expect_status(CMD("COINS.VERIFY %s", users[u]), "OK");
        expect_int(CMD("COINS.BALANCE %s", users[u]), bal[u]);
    }
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    for (int u = 0; u < 3; u++) {
        expect_status(CMD("COINS.VERIFY %s", users[u]), "OK");
        expect_int(CMD("COINS.BALANCE %s", users[u]), bal[u]);
    }
}

/* Coin movements are fsynced before their reply even with fsync no; reads
 * and refused movements are not. */
Test(coins, movers_are_synced_in_every_mode) {
    redisFree(c);
    skv_cleanup(&srv);
    static const char *const extra[] = {"--fsync", "no", NULL};
    up_with(extra);
    long long s0 = info_field(c, "persistence", "wal_syncs");
    expect_int(CMD("COINS.ADD u 5 r"), 5);
    long long s1 = info_field(c, "persistence", "wal_syncs");
    cr_expect_gt(s1, s0, "COINS.ADD was not synced (%lld -> %lld)", s0, s1);
    expect_int(CMD("COINS.BALANCE u"), 5);
    expect_error(CMD("COINS.SPEND u 50 r"), "INSUFFICIENT_FUNDS");
    expect_status(CMD("SET plain 1"), "OK");
    long long s2 = info_field(c, "persistence", "wal_syncs");
    cr_expect_eq(s2, s1, "a read, a refused SPEND or a plain SET synced (%lld -> %lld)", s1, s2);
    expect_pair(CMD("COINS.TRANSFER u v 1 r"), 4, 1);
    long long s3 = info_field(c, "persistence", "wal_syncs");
    cr_expect_gt(s3, s2, "COINS.TRANSFER was not synced");
    expect_int(CMD("COINS.SPEND u 1 r"), 3);
    long long s4 = info_field(c, "persistence", "wal_syncs");
    cr_expect_gt(s4, s3, "COINS.SPEND was not synced");
    /* inside MULTI too */
    expect_status(CMD("MULTI"), "OK");
    expect_status(CMD("COINS.ADD u 1 r"), "QUEUED");
    expect_len(CMD("EXEC"), 1);
    cr_expect_gt(info_field(c, "persistence", "wal_syncs"), s4, "COINS.ADD in EXEC was not synced");
}

/* COINS.VERIFY names the broken invariant when the ledger is edited around
 * the engine (domain-write-guard no). */
Test(coins, verify_reports_tampering) {
    redisFree(c);
    skv_cleanup(&srv);
    static const char *const extra[] = {"--domain-write-guard", "no", NULL};
    up_with(extra);
    expect_int(CMD("COINS.ADD u 10 r"), 10);
    expect_int(CMD("COINS.ADD u 5 r"), 15);
    expect_status(CMD("COINS.VERIFY u"), "OK");
    size_t n;
    char **rows = coins_history(c, "u", &n);
    cr_assert_eq(n, 2);
    char newest[17], oldest[17], key[100], text[300];
    snprintf(newest, sizeof newest, "%s", jstr(rows[0], "id"));
    snprintf(oldest, sizeof oldest, "%s", jstr(rows[1], "id"));
    char *good_row = strdup(rows[0]);
    free_rows(rows);

    /* balance != sum of rows */
    expect_status(CMD("KV.SET coins:u:balance 999"), "OK");
    expect_error_eq(CMD("COINS.VERIFY u"), "ERR ledger of 'u' is broken: balance 999 != sum of 2 rows 15");
    /* balance < 0 */
    expect_status(CMD("KV.SET coins:u:balance -5"), "OK");
    expect_error_eq(CMD("COINS.VERIFY u"), "ERR ledger of 'u' is broken: balance -5 < 0");
    /* the ledger refuses to build on a bad balance */
    expect_error(CMD("COINS.ADD u 1 r"), "ERR stored balance at 'coins:u:balance'");
    expect_status(CMD("KV.SET coins:u:balance %s", "\"abc\""), "OK");
    expect_error_eq(CMD("COINS.VERIFY u"), "ERR ledger of 'u' is broken: balance at 'coins:u:balance' is not an integer");
    expect_error(CMD("COINS.BALANCE u"), "ERR stored balance at 'coins:u:balance' is not an integer");
    expect_status(CMD("KV.SET coins:u:balance 15"), "OK");
    expect_status(CMD("COINS.VERIFY u"), "OK");

    /* a row whose balance_after does not chain */
    snprintf(key, sizeof key, "coins:u:transactions:%s", newest);
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"amount\":5,\"balance_after\":20,\"reason\":\"r\",\"created_at\":\"x\",\"counterparty\":null}",
             newest);
    expect_status(CMD("KV.SET %s %s", key, text), "OK");
    snprintf(text, sizeof text, "ERR ledger of 'u' is broken: row %s: balance_after 20 != previous 10 + amount 5",
             newest);
    expect_error_eq(CMD("COINS.VERIFY u"), text);
    /* malformed rows */
    struct {
        const char *json, *why;
    } bad[] = {
        {"[1]", "not a JSON object"},
        {"{\"id\":\"%s\",\"amount\":\"5\",\"balance_after\":15,\"reason\":\"r\",\"created_at\":\"x\",\"counterparty\":null}",
         "\"amount\" is not a non-zero integer"},
        {"{\"id\":\"%s\",\"amount\":0,\"balance_after\":10,\"reason\":\"r\",\"created_at\":\"x\",\"counterparty\":null}",
         "\"amount\" is not a non-zero integer"},
        {"{\"id\":\"%s\",\"amount\":5,\"balance_after\":15.0,\"reason\":\"r\",\"created_at\":\"x\",\"counterparty\":null}",
         "\"balance_after\" is not an integer"},
        {"{\"id\":\"%s\",\"amount\":5,\"balance_after\":15,\"created_at\":\"x\",\"counterparty\":null}",
         "\"reason\" is not a string"},
        {"{\"id\":\"%s\",\"amount\":5,\"balance_after\":15,\"reason\":\"r\",\"counterparty\":null}",
         "\"created_at\" is not a string"},
        {"{\"id\":\"%s\",\"amount\":5,\"balance_after\":15,\"reason\":\"r\",\"created_at\":\"x\",\"counterparty\":7}",
         "\"counterparty\" is neither a uid nor null"},
        {"{\"id\":\"0000000000000001\",\"amount\":5,\"balance_after\":15,\"reason\":\"r\",\"created_at\":\"x\","
         "\"counterparty\":null}",
         "\"id\" is not the id of its key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, bad[i].json, newest);
        expect_status(CMD("KV.SET %s %s", key, text), "OK");
        char want[300];
        snprintf(want, sizeof want, "ERR ledger of 'u' is broken: row %s: malformed (%s)", newest, bad[i].why);
        expect_error_eq(CMD("COINS.VERIFY u"), want);
    }
    expect_status(CMD("SET %s %s", key, "not json"), "OK");
    snprintf(text, sizeof text, "ERR ledger of 'u' is broken: row %s: malformed (not JSON)", newest);
    expect_error_eq(CMD("COINS.VERIFY u"), text);
    /* put it back: sound again */
    expect_status(CMD("KV.SET %s %s", key, good_row), "OK");
    expect_status(CMD("COINS.VERIFY u"), "OK");
    /* a row with a negative balance_after */
    snprintf(key, sizeof key, "coins:u:transactions:%s", oldest);
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"amount\":-10,\"balance_after\":-10,\"reason\":\"r\",\"created_at\":\"x\","
             "\"counterparty\":null}",
             oldest);
    expect_status(CMD("KV.SET %s %s", key, text), "OK");
    snprintf(text, sizeof text, "ERR ledger of 'u' is broken: row %s: balance_after -10 < 0", oldest);
    expect_error_eq(CMD("COINS.VERIFY u"), text);
    /* a row deleted: the chain breaks at the next one */
    expect_int(CMD("DEL %s", key), 1);
    snprintf(text, sizeof text, "ERR ledger of 'u' is broken: row %s: balance_after 15 != previous 0 + amount 5",
             newest);
    expect_error_eq(CMD("COINS.VERIFY u"), text);
    free(good_row);
}

/* Reasons and donation messages are any UTF-8 text (Cyrillic too). */
Test(coins, utf8_reasons_and_messages) {
    expect_int(CMD("COINS.ADD u1 50 %s", "пополнение счёта"), 50);
    expect_int(CMD("COINS.SPEND u1 5 %s", "подписка: месяц"), 45);
    char d[17];
    expect_id(CMD("DONATION.SEND u1 art 10 MESSAGE %s", "спасибо за концерт!"), d);
    size_t n;
    char **rows = coins_history(c, "u1", &n);
    cr_assert_eq(n, 3);
    cr_expect_str_eq(jfind(rows[1], "reason"), "подписка: месяц");
    cr_expect_str_eq(jfind(rows[2], "reason"), "пополнение счёта");
    free_rows(rows);
    char *doc = take_bulk(CMD("DONATION.GET art %s", d));
    cr_expect_str_eq(jstr(doc, "message"), "спасибо за концерт!");
    free(doc);
    expect_error(CMD("COINS.ADD u1 5 %s", "\xd0"), "INVALID"); /* not UTF-8 */
    expect_status(CMD("COINS.VERIFY u1"), "OK");
}
