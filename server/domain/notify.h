/* Notifications (SPEC §4.4-4.5): the one function that creates them (used
 * by DONATION.SEND and NOTIFY.CREATE) and the ones that mark them read (used
 * by NOTIFY.READ and NOTIFY.READALL). Only this module writes the keys below.
 *
 * Keys:
 *   data CF  notifications:{uid}:{id}        the document: the caller's fields +
 *                                           id, user_id, read:false, created_at
 *                                           (read becomes true; nothing else changes)
 *   meta CF  "nunread:" uid ":" id  -> ""    unread index (one entry per unread doc)
 *   meta CF  "ncount:" uid          -> i64   unread counter (= entries of the index)
 *
 * Invariant (every write of a document, its index entry and the counter is
 * in one command's batch, so it holds across crashes too): an index entry
 * exists iff its document exists with read:false, and the counter equals
 * the number of index entries.
 */
#ifndef STAGEKV_NOTIFY_H
#define STAGEKV_NOTIFY_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

/* Creates a notification from doc (an object; the server-owned fields are
 * set here; doc is not consumed). 0 ok (id_out may be NULL), -1 replied. */
int notify_create(client *c, const char *uid, json_t *doc, uint64_t *id_out);

/* Marks notification id of uid read (uid and id: validated ids,
 * NUL-terminated). Returns 1 when the document changed, 0 when it was
 * already read or does not exist under uid (a foreign id is simply absent
 * there), -1 replied. */
int notify_mark_read(client *c, const char *uid, const char *id);

/* Marks every unread notification of uid read, walking the unread index
 * only (never the read documents); *changed gets the number of documents
 * changed. The index entries and the counter go in the same batch. 0 ok,
 * -1 replied. */
int notify_read_all(client *c, const char *uid, int64_t *changed);

/* Replies the array of uid's unread notifications, newest first, honouring
 * AFTER (exclusive) and LIMIT of pg: the unread index is walked backwards
 * and each entry's document read, O(log N + LIMIT). 0 ok, -1 replied. */
int notify_list_unread(client *c, const char *uid, const dom_page *pg);

/* The unread counter of uid, O(1). 0 ok, -1 replied. */
int notify_unread_count(client *c, const char *uid, int64_t *out);

/* USER.DELETE (a dom_purge_fn): removes uid's notifications (data
 * "notifications:{uid}:", one range deletion, counted into *removed), its
 * unread index ("nunread:{uid}:", one range deletion) and counter
 * ("ncount:{uid}"). 0 ok, -1 replied. First exercised by USER.DELETE. */
int notify_purge_user(client *c, const char *uid, int64_t *removed);

#endif
