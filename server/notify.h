/* Notifications (SPEC §4.4-4.5): the one function that creates them, used by
 * DONATION.SEND now and by NOTIFY.CREATE later.
 *
 * Keys:
 *   data CF  notifications:{uid}:{id}        the document: the caller's fields +
 *                                           id, user_id, read:false, created_at
 *   meta CF  "nunread:" uid ":" id  -> ""    unread index (one entry per unread doc)
 *   meta CF  "ncount:" uid          -> i64   unread counter (= entries of the index)
 */
#ifndef STAGEKV_NOTIFY_H
#define STAGEKV_NOTIFY_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

/* Creates a notification from doc (an object; the server-owned fields are
 * set here; doc is not consumed). 0 ok (id_out may be NULL), -1 replied. */
int notify_create(client *c, const char *uid, json_t *doc, uint64_t *id_out);

/* USER.DELETE (a dom_purge_fn): removes uid's notifications (data
 * "notifications:{uid}:", one range deletion, counted into *removed), its
 * unread index ("nunread:{uid}:", one range deletion) and counter
 * ("ncount:{uid}"). 0 ok, -1 replied. First exercised by USER.DELETE. */
int notify_purge_user(client *c, const char *uid, int64_t *removed);

#endif
