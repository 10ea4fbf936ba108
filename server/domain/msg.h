/* The conversation model (SPEC §4.5): MSG.SEND's step, read marks, the
 * conversation list and unread counts. Key layout and invariants: msg.c.
 * Functions return -1 with the reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_MSG_H
#define STAGEKV_MSG_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define MSG_TEXT_MAX 65536

/* Keys (conv, uid, id: valid ids; lastid: a server id as stored). */
void msg_key_message(dkey *k, const char *conv, const char *id);  /* messages:{conv}:{id} */
void msg_key_messages(dkey *k, const char *conv);                 /* messages:{conv}: */
void msg_key_details(dkey *k, const char *conv);                  /* conversations:{conv}:details */
void msg_key_list(dkey *k, const char *uid);                      /* meta mconv:{uid}: */
void msg_key_list_entry(dkey *k, const char *uid, const char *lastid, size_t ll, const char *conv,
                        size_t cl);                               /* meta mconv:{uid}:{lastid}:{conv} */
void msg_key_pointer(dkey *k, const char *uid, const char *conv, size_t cl); /* meta mconvp:{uid}:{conv} */
void msg_key_pointers(dkey *k, const char *uid);                  /* meta mconvp:{uid}: */
void msg_key_unread(dkey *k, const char *uid, const char *conv, const char *id); /* meta munread:{uid}:{conv}:{id} */
void msg_key_unread_conv(dkey *k, const char *uid, const char *conv); /* meta munread:{uid}:{conv}: */
void msg_key_unread_user(dkey *k, const char *uid);               /* meta munread:{uid}: */
void msg_key_count(dkey *k, const char *uid, const char *conv);   /* meta mucount:{uid}:{conv} */
void msg_key_counts(dkey *k, const char *uid);                    /* meta mucount:{uid}: */
void msg_key_total(dkey *k, const char *uid);                     /* meta mutotal:{uid} */
void msg_key_sent(dkey *k, const char *uid, const char *conv, const char *id); /* meta msent:{uid}:{conv}:{id} */
void msg_key_sent_user(dkey *k, const char *uid);                 /* meta msent:{uid}: */

/* MSG.SEND's step: text is the message as a JSON string (checked by the
 * caller; not consumed). The first message of conv fixes its participants;
 * one batch writes the message, the details, both users' list entries and
 * the recipient's unread entry and counters. INVALID to oneself or between
 * others than the conversation's two. id_out: the message id. */
int msg_send(struct dom_engine *e, const char *conv, const char *from, const char *to, json_t *text,
             char id_out[DOM_ID_HEX + 1]);

/* One message id of conv addressed to uid marked read (the import's read
 * flags, stagekv-import), with its unread entry and counters. 1 changed, 0
 * not unread for uid, -1. */
int msg_read_one(struct dom_engine *e, const char *conv, const char *uid, const char *id);

/* MSG.READ's step: marks the messages of conv addressed to uid read
 * (through uid's unread index); *changed gets how many. */
int msg_read(struct dom_engine *e, const char *conv, const char *uid, int64_t *changed);

/* One page of MSG.CONVERSATIONS: the encoded details documents, each with
 * "unread" (uid's count in it), latest activity first. */
typedef struct msg_page {
    char **docs;  /* malloc()ed texts */
    size_t *lens;
    int64_t n;
} msg_page;
void msg_page_free(msg_page *p);
/* Fills *out (release with msg_page_free) with uid's conversations after
 * pg->after (exclusive, in this order; none when it is not in uid's list),
 * at most pg->limit. Every read succeeds before the page is handed out. */
int msg_conversations(struct dom_engine *e, const char *uid, const dom_page *pg, msg_page *out);

/* The unread messages addressed to uid, over all its conversations, O(1)
 * (0 for none), for MSG.UNREAD and DASHBOARD.GET. */
int msg_unread_total(struct dom_engine *e, const char *uid, int64_t *out);

/* MSG.DELETE's step: deletes message id of conv when uid sent it, with its
 * sent-index entry and the recipient's unread entry and counters; when it
 * was the conversation's last message, the details' last_message becomes
 * the newest remaining one (null when none remains) and the participants'
 * list entries follow it. 1 deleted, 0 absent or not uid's. */
int msg_delete(struct dom_engine *e, const char *conv, const char *uid, const char *id);
/* MSG.EDIT's step: replaces the text (a JSON string, not consumed) of
 * uid's own message id in conv and stamps "edited_at"; the details'
 * last_message follows when it is that message. NOTFOUND when the message
 * is absent or another's. *doc_out: the new message document. */
int msg_edit(struct dom_engine *e, const char *conv, const char *uid, const char *id, json_t *text, json_t **doc_out);
/* MSG.CONVERSATION's read: {"conversation": details, "messages": [the
 * newest `limit` messages, newest first], "unread": uid's unread count in
 * conv}, a new reference in *out; NULL when conv does not exist or uid is
 * not one of its participants. */
int msg_conversation(struct dom_engine *e, const char *conv, const char *uid, int64_t limit, json_t **out);
/* USER.DELETE's step (registered as "msg"): removes uid's side of its
 * conversations, in the command's batch:
 *   - every message uid sent (found through the sent index "msent:{uid}:"),
 *     with the recipient's unread entries and counters for them (the other
 *     side's counts stay exact);
 *   - uid's unread index and counters, its conversation list and pointers,
 *     its sent index (all meta, by the prefixes of uid);
 *   - in each conversation whose last message was uid's, the details'
 *     last_message becomes the newest remaining message (null when none
 *     remains) and the other participant's list entry follows it;
 *   - a conversation whose other participant holds no list entry any more
 *     (deleted before) goes entirely: its details and any message left.
 * Messages uid received stay (the other side's messages), with uid as an
 * opaque id in "to" and in the participants of the details. Adds the data
 * keys removed (messages, details) to *removed. */
int msg_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
