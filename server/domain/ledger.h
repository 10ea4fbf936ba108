/* The coin ledger model (SPEC §4.3): the only code that writes a balance or
 * a ledger row. Key layout and invariants: ledger.c.
 *
 * Every function takes the engine (its keyspace holds the command context)
 * and returns -1 with the reason in e->ks->err (code words as the replies
 * give them: "INSUFFICIENT_FUNDS balance N, need M", "INVALID ...");
 * nothing here replies.
 */
#ifndef STAGEKV_LEDGER_H
#define STAGEKV_LEDGER_H

#include <stdint.h>

#include "domain.h"

/* The system account: the counterparty of ADD and CREDIT rows (no row on
 * its side for those), and the receiver of deleted users' balances. */
#define LEDGER_SYSTEM_UID "_system"

/* 1 when p[0..n) names an account: a valid id, or LEDGER_SYSTEM_UID. */
int ledger_valid_uid(const char *p, size_t n);

/* Keys (uid: ledger_valid_uid; id: a server id). */
void ledger_key_balance(dkey *k, const char *uid);          /* coins:{uid}:balance */
void ledger_key_row(dkey *k, const char *uid, const char *id); /* coins:{uid}:transactions:{id} */
void ledger_key_rows(dkey *k, const char *uid);             /* coins:{uid}:transactions: */
void ledger_key_user(dkey *k, const char *uid);             /* coins:{uid}: */

/* Reads a balance (0 when the user has none). 0, or -1 (ks->err: a storage
 * error or a stored balance that is not an integer). */
int ledger_balance(struct dom_engine *e, const char *uid, int64_t *out);

/* Appends one ledger row for uid with a signed delta, and writes the new
 * balance, in the command's batch. Refuses (-1, nothing written) with
 * "INSUFFICIENT_FUNDS balance N, need M" when the balance would go below 0,
 * and "INVALID ..." when it would pass 2^63-1 or delta is 0. counterparty
 * NULL = JSON null. Coins move: the WAL is fsynced before the reply, in
 * every fsync mode. new_balance and row_id may be NULL. */
int ledger_apply(struct dom_engine *e, const char *uid, int64_t delta, const char *reason,
                 const char *counterparty, int64_t *new_balance, uint64_t *row_id);

/* Moves amount (1..2^63-1) from `from` to `to` (two different uids): one row
 * on each side with the same reason, each naming the other side as its
 * counterparty. Both sides are checked before anything is written
 * (INSUFFICIENT_FUNDS for the payer, INVALID when the payee's balance would
 * pass 2^63-1 or from == to). The new balances go to *from_balance and
 * *to_balance (either may be NULL). */
int ledger_transfer(struct dom_engine *e, const char *from, const char *to, int64_t amount, const char *reason,
                    int64_t *from_balance, int64_t *to_balance);

/* The operator's check behind COINS.VERIFY: reads the balance and every row
 * of uid (oldest first). 1 when the invariants hold; 0 when one is broken,
 * with why filled ("balance -5 < 0", "balance 9 != sum of rows 5", "row
 * <id>: balance_after 20 != previous 10 + amount 5", "row <id>: malformed
 * (...)"); -1 on a storage error (ks->err). */
int ledger_verify(struct dom_engine *e, const char *uid, char *why, size_t cap);

/* USER.DELETE's step (registered as "ledger"): moves uid's balance, when
 * positive, to LEDGER_SYSTEM_UID (one row on _system's side, reason
 * "user.delete", counterparty uid: the user's own side is removed with the
 * rest of its ledger in the same batch), then removes every key under
 * "coins:{uid}:" (one prefix delete) and adds their number to *removed.
 * Refuses when the stored balance is corrupt or _system's balance would
 * pass 2^63-1. */
int ledger_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
