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

#endif
