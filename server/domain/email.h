/* The e-mail model (SPEC §4.5): a user's list subscriptions and the log of
 * e-mails sent to them. Key layout and invariants: email.c. Functions
 * return -1 with the reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_EMAIL_H
#define STAGEKV_EMAIL_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define EMAIL_LISTS_MAX 1000

/* Keys (uid: a valid id; id: a server id). */
void email_key_subscriptions(dkey *k, const char *uid);     /* email:{uid}:subscriptions */
void email_key_log(dkey *k, const char *uid, const char *id); /* email:{uid}:history:{id} */
void email_key_history(dkey *k, const char *uid);           /* email:{uid}:history: */
void email_key_user(dkey *k, const char *uid);              /* email:{uid}: */

/* SUBSCRIBE (on = 1) / UNSUBSCRIBE (on = 0) uid to/from list (a valid id):
 * 1 the membership changed, 0 it already was so (nothing written). INVALID
 * past EMAIL_LISTS_MAX lists. */
int email_set_subscribed(struct dom_engine *e, const char *uid, const char *list, int on);

/* uid's list names in byte order: a new reference to an array of strings
 * (empty when none) in *lists. */
int email_subscriptions(struct dom_engine *e, const char *uid, json_t **lists);

/* EMAIL.LOG's step: doc (an object, server-owned fields stripped; stamped
 * in place, not consumed) as a new history entry; id_out: its id. */
int email_log(struct dom_engine *e, const char *uid, json_t *doc, char id_out[DOM_ID_HEX + 1]);

/* USER.DELETE's step (registered as "email"): every key under
 * "email:{uid}:" (subscriptions and history), one prefix delete. */
int email_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
