/* The donation model (SPEC §4.4): DONATION.SEND as one step, the records
 * and the artist's figures. Key layout and invariants: donation.c.
 * Functions return -1 with the reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_DONATION_H
#define STAGEKV_DONATION_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define DONATION_MESSAGE_MAX 4096

/* Keys (uid: a valid id; id: a server id). */
void donation_key_doc(dkey *k, const char *uid, const char *id); /* donations:{uid}:{id} */
void donation_key_user(dkey *k, const char *uid);                /* donations:{uid}: */
void donation_key_stats(dkey *k, const char *uid);               /* meta donstat:{uid} */
void donation_key_sent(dkey *k, const char *from, const char *id); /* meta dsent:{from}:{id} */
void donation_key_sent_index(dkey *k, const char *from);         /* meta dsent:{from}: */
/* DONATION.GET's read: the donation id (a valid id; one that is not a
 * server id is simply absent) received by uid, a new reference, or NULL
 * when absent (*failed = 1 on a storage error). */
json_t *donation_get(struct dom_engine *e, const char *uid, const char *id, int *failed);
/* For DONATION.SENT (dom_list_index over donation_key_sent_index): resolves
 * a sender-index entry (suffix: the donation id, value: the artist) to the
 * artist's record. */
int donation_sent_resolve(const char *id, size_t il, const char *to, size_t tl, dkey *doc, void *arg);

/* Donations received by uid: their count and total coins, 0 and 0 for
 * none; O(1), for DONATION.TOTAL and DASHBOARD.GET. */
int donation_stats(struct dom_engine *e, const char *uid, int64_t *count, int64_t *total);

/* DONATION.SEND's step: moves amount from `from` to `to` as a transfer
 * (reason "donation" on both rows), writes the record, the artist's
 * figures, the donor's sender-index entry and a notification for the
 * artist, all in the command's batch.
 * message: text (checked by the caller) or NULL for JSON null. The new
 * donation's id goes to id_out. Refusals: INVALID (to oneself, a total
 * that would pass 2^63-1, the ledger's), INSUFFICIENT_FUNDS. */
/* The import's record of a donation received (stagekv-import): the
 * document, the figures and the donor's index as DONATION.SEND writes
 * them, but no coins move (the imported ledger holds them) and no
 * notification is made (the imported notifications hold it). id: the old
 * id or NULL: kept when it is a server id (CONFLICT when it exists), else
 * the donation gets a new one and keeps it as "legacy_id"; msg: a JSON
 * string or null. */
int donation_import(struct dom_engine *e, const char *to, const char *from, int64_t amount, json_t *msg,
                    const char *id);
int donation_send(struct dom_engine *e, const char *from, const char *to, int64_t amount, const char *message,
                  char id_out[DOM_ID_HEX + 1]);

/* USER.DELETE's step (registered as "donation"): removes the donations uid
 * received ("donations:{uid}:", one prefix delete), its figures and its
 * sender index ("dsent:{uid}:", the donations it sent).
 * Donations uid sent stay in the artists' records, with uid as an opaque
 * donor id (SPEC §4.2). */
int donation_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
