/* The notification model (SPEC §4.4-4.5): the one function that creates
 * them (used by DONATION.SEND and NOTIFY.CREATE) and the ones that mark them
 * read (NOTIFY.READ, NOTIFY.READALL). Only this module writes the keys
 * below. Functions return -1 with the reason in e->ks->err; nothing here
 * replies.
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

/* Keys (uid: a valid id; id: a valid id, a server id for new ones). */
void notify_key_doc(dkey *k, const char *uid, const char *id); /* notifications:{uid}:{id} */
void notify_key_user(dkey *k, const char *uid);                /* notifications:{uid}: */
void notify_key_unread(dkey *k, const char *uid, const char *id); /* meta nunread:{uid}:{id} */
void notify_key_unread_index(dkey *k, const char *uid);        /* meta nunread:{uid}: */
void notify_key_count(dkey *k, const char *uid);               /* meta ncount:{uid} */

/* Creates a notification from doc (an object; the server-owned fields are
 * set here, in doc itself: not consumed, but changed). 0 ok (id_out may be
 * NULL), -1. */
int notify_create(struct dom_engine *e, const char *uid, json_t *doc, uint64_t *id_out);

/* The import's create (stagekv-import): as notify_create, with the id the
 * old data carried (id: a valid id, or NULL for a new one; CONFLICT when
 * uid has it already) and its read flag. */
int notify_import(struct dom_engine *e, const char *uid, json_t *doc, const char *id, int read);

/* Marks notification id of uid read (uid and id: validated ids,
 * NUL-terminated). Returns 1 when the document changed, 0 when it was
 * already read or does not exist under uid (a foreign id is simply absent
 * there), -1. */
int notify_mark_read(struct dom_engine *e, const char *uid, const char *id);

/* Marks every unread notification of uid read, walking the unread index
 * only (never the read documents); *changed gets the number of documents
 * changed. The index entries and the counter go in the same batch. */
int notify_read_all(struct dom_engine *e, const char *uid, int64_t *changed);

/* NOTIFY.DELETE's step: removes notification id of uid with its unread
 * entry (the counter follows). 1 deleted, 0 absent (or another user's). */
int notify_delete(struct dom_engine *e, const char *uid, const char *id);
/* For NOTIFY.LIST ... UNREAD (dom_list_index over notify_key_unread_index):
 * resolves an unread-index entry of uid (arg: the uid) to its document. */
int notify_unread_resolve(const char *id, size_t il, const char *val, size_t vl, dkey *doc, void *uid);

/* The unread counter of uid, O(1). */
int notify_unread_count(struct dom_engine *e, const char *uid, int64_t *out);

/* USER.DELETE's step (registered as "notify"): removes uid's notifications
 * (data "notifications:{uid}:", one prefix delete, counted into *removed),
 * its unread index ("nunread:{uid}:", one range deletion) and counter. */
int notify_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
