/* E-mail (SPEC §4.5): a user's list subscriptions and the log of e-mails
 * sent to them. Commands in cmd_email.c.
 *
 * Keys (data CF, database 0; no engine-internal entries):
 *   email:{uid}:subscriptions    {"user_id": uid, "lists": [names...],
 *                                 "updated_at"}: one document (SPEC §5), the
 *                                 list names (ids) sorted in byte order, no
 *                                 duplicates, at most EMAIL_LISTS_MAX; absent
 *                                 when the user has no subscription (the last
 *                                 EMAIL.UNSUBSCRIBE deletes it)
 *   email:{uid}:history:{id}     one logged e-mail: the caller's fields + id,
 *                                 user_id, created_at, updated_at
 * Everything of a user is under the prefix "email:{uid}:" (a uid holds no
 * ':'), which is how USER.DELETE finds it. The meta CF's "email:" entries
 * are USER's e-mail address index, another column family: no collision.
 */
#ifndef STAGEKV_EMAIL_H
#define STAGEKV_EMAIL_H

#include "domain.h"

#define EMAIL_LISTS_MAX 1000

/* USER.DELETE (a dom_purge_fn): removes every key under "email:{uid}:"
 * (subscriptions and history) with one range deletion; adds their number
 * to *removed. 0 ok, -1 replied. */
int email_purge_user(client *c, const char *uid, int64_t *removed);

#endif
