/* The payment model (SPEC §4.4): external payments, their dedup and their
 * credit. Key layout and invariants: payment.c. Functions return -1 with
 * the reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_PAYMENT_H
#define STAGEKV_PAYMENT_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define PAYMENT_PROVIDER_MAX 64
#define PAYMENT_EXTERNAL_ID_MAX 255

/* Keys (uid: a valid id; id: a server id). */
void payment_key_doc(dkey *k, const char *uid, const char *id); /* payments:{uid}:transactions:{id} */
void payment_key_list(dkey *k, const char *uid);                /* payments:{uid}:transactions: */
void payment_key_user(dkey *k, const char *uid);                /* payments:{uid}: */
/* meta "paydedup:" provider "\0" external_id (1..64 and 1..255 bytes) */
void payment_key_dedup(dkey *k, const char *provider, size_t pl, const char *external_id, size_t xl);

/* PAYMENT.RECORD's step: records doc (an object whose server-owned fields
 * were stripped; stamped in place, not consumed) for uid, with its dedup record when it has
 * "provider" and "external_id", and with credit > 0 adds that many coins
 * (ledger row "payment", counterparty "_system") in the same batch; the
 * document records the coins credited as "credited": N (0 without CREDIT;
 * server-owned: a client value is replaced), which a refund takes back. The new
 * id goes to id_out. INVALID for a malformed pair, CONFLICT for a pair
 * already recorded (nothing written). */
int payment_record(struct dom_engine *e, const char *uid, json_t *doc, int64_t credit,
                   char id_out[DOM_ID_HEX + 1]);

/* The statuses PAYMENT.STATUS knows. A document without "status" counts as
 * pending. */
#define PAYMENT_STATUS_PENDING "pending"

/* PAYMENT.GET's read: the document of uid's payment id (a valid id; one
 * that is not a server id is simply absent), a new reference, or NULL
 * when absent (*failed = 1 on a storage error, ks->err). */
json_t *payment_get(struct dom_engine *e, const char *uid, const char *id, int *failed);

/* PAYMENT.STATUS's step: moves uid's payment id to status (pending,
 * succeeded, failed, refunded; else INVALID). Allowed: pending ->
 * succeeded | failed, succeeded -> refunded; the same status again changes
 * nothing; any other move is INVALID. A refund of a payment whose
 * document records "credited": N > 0 takes the N coins back through the
 * ledger (reason "refund", counterparty "_system") in the same batch;
 * INSUFFICIENT_FUNDS when the balance is below N (a refund never pushes a
 * balance below zero: the operator resolves it), and nothing changes.
 * NOTFOUND when there is no such payment. *doc_out: the new (or unchanged)
 * document, a new reference. */
int payment_set_status(struct dom_engine *e, const char *uid, const char *id, const char *status, json_t **doc_out);

/* USER.DELETE's step (registered as "payment"): removes every key under
 * "payments:{uid}:" (the transactions; the methods of PAYMETHOD went in
 * the entity step just before) in the step's batch. The dedup records
 * survive: they hold no personal data and must keep refusing resent
 * webhooks. */
int payment_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
