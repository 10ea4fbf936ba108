/* The coin ledger (SPEC §4.3), used by COINS.*, DONATION.SEND,
 * PAYMENT.RECORD CREDIT and the COST of PROMO/PITCH.CREATE.
 *
 * Keys (data CF, database 0, user-visible):
 *   coins:{uid}:balance                 the balance as a JSON integer (decimal text)
 *   coins:{uid}:transactions:{id}       one ledger row (JSON object):
 *     {"id", "amount" (signed), "balance_after", "reason", "created_at",
 *      "counterparty" (uid string or null)}
 * Invariants: balance >= 0; balance = sum of the user's rows; a transfer
 * moves exactly its amount between two accounts or nothing.
 */
#ifndef STAGEKV_LEDGER_H
#define STAGEKV_LEDGER_H

#include <stdint.h>

#include "domain.h"

/* The system account: the counterparty of ADD and CREDIT rows (no row on
 * its side for those), and the receiver of deleted users' balances. */
#define LEDGER_SYSTEM_UID "_system"

/* Reads a balance (0 when the user has none). -1 after replying an error. */
int ledger_balance(client *c, const char *uid, int64_t *out);

/* Appends one ledger row for uid with a signed delta, and writes the new
 * balance, in the command's batch. Refuses (reply, -1, nothing written)
 * with "-INSUFFICIENT_FUNDS balance N, need M" when the balance would go
 * below 0, and "-INVALID ..." when it would pass 2^63-1. counterparty NULL
 * = JSON null. The command's reply waits for an fsync of the WAL, in every
 * fsync mode (coins move). row_id may be NULL; else gets the row's id. */
int ledger_apply(client *c, const char *uid, int64_t delta, const char *reason,
                 const char *counterparty, int64_t *new_balance, uint64_t *row_id);

/* Moves amount (1..2^63-1) from `from` to `to` (two different uids): one row
 * on each side with the same reason, each naming the other side as its
 * counterparty. Both sides are checked before anything is written
 * (-INSUFFICIENT_FUNDS for the payer, -INVALID when the payee's balance
 * would pass 2^63-1 or from == to); synced like ledger_apply. The new
 * balances go to *from_balance and *to_balance (either may be NULL). */
int ledger_transfer(client *c, const char *from, const char *to, int64_t amount, const char *reason,
                    int64_t *from_balance, int64_t *to_balance);

/* The operator's check behind COINS.VERIFY: reads the balance and every row
 * of uid (oldest first). 1 when the invariants hold; 0 when one is broken,
 * with why filled ("balance -5 < 0", "balance 9 != sum of rows 5", "row
 * <id>: balance_after 20 != previous 10 + amount 5", "row <id>: malformed
 * (...)"); -1 after replying a storage error. */
int ledger_verify(client *c, const char *uid, char *why, size_t cap);

/* Donations received by uid (DONATION.SEND, in cmd_coins.c): their count
 * and total coins, 0 and 0 for none; O(1) (meta "donstat:{uid}"), for
 * DASHBOARD.GET. -1 after replying an error. */
int donation_stats(client *c, const char *uid, int64_t *count, int64_t *total);

/* USER.DELETE (a dom_purge_fn): moves uid's balance, when positive, to
 * LEDGER_SYSTEM_UID (one row on _system's side, reason "user.delete",
 * counterparty uid: the user's own side is removed with the rest of its
 * ledger in the same batch), then removes every key under "coins:{uid}:"
 * (balance and rows, one range deletion) and adds their number to
 * *removed. Refuses (-1, replied) when the stored balance is corrupt or
 * _system's balance would pass 2^63-1. First exercised by USER.DELETE. */
int ledger_purge_user(client *c, const char *uid, int64_t *removed);

/* USER.DELETE (a dom_purge_fn, in cmd_coins.c): removes the donations uid
 * received ("donations:{uid}:", one range deletion) and its figures (meta
 * "donstat:{uid}"). Donations uid sent stay in the artists' records, with
 * uid as an opaque donor id (SPEC §4.2). First exercised by USER.DELETE. */
int donation_purge_user(client *c, const char *uid, int64_t *removed);

#endif
