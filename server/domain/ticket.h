/* The support ticket model (SPEC §4.5). A ticket is reachable by its id
 * alone (support staff answer it) and listed for its owner through an
 * index. Key layout and invariants: ticket.c. Functions return -1 with the
 * reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_TICKET_H
#define STAGEKV_TICKET_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define TICKET_SUBJECT_MAX 256
#define TICKET_TEXT_MAX 16384
#define TICKET_REPLIES_MAX 1000

/* Keys (ticket, uid: valid ids; id: a server id). */
void ticket_key_details(dkey *k, const char *ticket);                 /* tickets:{ticket}:details */
void ticket_key_reply(dkey *k, const char *ticket, const char *id);   /* tickets:{ticket}:messages:{id} */
void ticket_key_replies(dkey *k, const char *ticket);                 /* tickets:{ticket}:messages: */
void ticket_key_ticket(dkey *k, const char *ticket);                  /* tickets:{ticket}: */
void ticket_key_index(dkey *k, const char *uid);                      /* meta tk:{uid}: */
void ticket_key_index_entry(dkey *k, const char *uid, const char *ticket); /* meta tk:{uid}:{ticket} */
void ticket_key_count(dkey *k, const char *ticket);                   /* meta tkr:{ticket} */
void ticket_key_open(dkey *k, const char *ticket);                    /* meta tkopen:{ticket} */
void ticket_key_open_index(dkey *k);                                  /* meta tkopen: */

/* TICKET.OPEN's step: a ticket for uid from the client's fields (an object,
 * the server-owned fields stripped; not consumed; "subject", when given,
 * a string of 1..256 bytes, else INVALID). id_out: the ticket id. */
int ticket_open(struct dom_engine *e, const char *uid, json_t *fields, char id_out[DOM_ID_HEX + 1]);

/* The import's steps (stagekv-import): TICKET.OPEN with the ticket id the
 * old data carried (t: a valid id; CONFLICT when it exists), and
 * TICKET.REPLY that a closed ticket takes too. */
int ticket_import(struct dom_engine *e, const char *uid, json_t *fields, const char *t);
int ticket_import_reply(struct dom_engine *e, const char *t, const char *author, const char *text, size_t tl);

/* TICKET.REPLY's step: a reply (text: checked UTF-8 of 1..16384 bytes) by
 * author to an open ticket; id_out: its id. NOTFOUND for a missing ticket,
 * INVALID for a closed one or one that has TICKET_REPLIES_MAX replies. */
int ticket_reply(struct dom_engine *e, const char *ticket, const char *author, const char *text, size_t tl,
                 char id_out[DOM_ID_HEX + 1]);

/* The details with a "messages" array of the replies, oldest first, as
 * text (malloc()ed, *tl bytes): 1, or 0 when there is no such ticket. */
int ticket_get(struct dom_engine *e, const char *ticket, char **text, size_t *tl);

/* TICKET.CLOSE's step: 1 closed now, 0 it already was; NOTFOUND. */
int ticket_close(struct dom_engine *e, const char *ticket);

/* TICKET.REOPEN's step: 1 reopened now (status open, closed_at removed,
 * updated_at and reopened_at now; back in the open index), 0 it already
 * was open; NOTFOUND. */
int ticket_reopen(struct dom_engine *e, const char *ticket);

/* For TICKET.OPEN.LIST (dom_list_index over ticket_key_open_index):
 * resolves an open-index entry to the ticket's details. */
int ticket_open_resolve(const char *t, size_t tl, const char *val, size_t vl, dkey *doc, void *arg);

/* For TICKET.LIST (dom_list_index over ticket_key_index): resolves an
 * owner's index entry to the ticket's details. */
int ticket_index_resolve(const char *t, size_t tl, const char *val, size_t vl, dkey *doc, void *arg);

/* USER.DELETE's step (registered as "ticket"): removes every ticket uid
 * opened, with all its replies (whoever wrote them) and its reply counter,
 * found through the owner's index, then the index itself. Replies uid
 * wrote to other users' tickets stay there, with uid as an opaque author
 * id. Adds the data keys removed (details + replies) to *removed. */
int ticket_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
