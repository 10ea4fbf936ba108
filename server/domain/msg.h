/* Conversations (SPEC §4.5): MSG.SEND, MSG.HISTORY, MSG.READ,
 * MSG.CONVERSATIONS, MSG.UNREAD. The keys are described at the top of
 * cmd_msg.c; what other families need is here.
 */
#ifndef STAGEKV_MSG_H
#define STAGEKV_MSG_H

#include <stdint.h>

#include "domain.h"

/* The unread messages addressed to uid, over all its conversations, O(1)
 * (meta "mutotal:{uid}"; 0 for none), for DASHBOARD.GET. 0 ok, -1 after
 * replying an error. */
int msg_unread_total(client *c, const char *uid, int64_t *out);

/* USER.DELETE (a dom_purge_fn): removes uid's side of its conversations,
 * in the command's batch:
 *   - every message uid sent (messages:{conv}:{id}, found through the sent
 *     index "msent:{uid}:"), with the recipient's unread entries and
 *     counters for them (the other side's counts stay exact);
 *   - uid's unread index and counters, its conversation list and pointers,
 *     its sent index (all meta, by the prefixes of uid);
 *   - in each conversation whose last message was uid's, the details'
 *     last_message becomes the newest remaining message (null when none
 *     remains) and the other participant's list entry follows it;
 *   - a conversation whose other participant holds no list entry any more
 *     (deleted before) goes entirely: its details and any message left.
 * Messages uid received stay (the other side's messages), with uid as an
 * opaque id in "to" and in the participants of the details. Adds the data
 * keys removed (messages, details) to *removed. 0 ok, -1 replied. First
 * exercised by USER.DELETE. */
int msg_purge_user(client *c, const char *uid, int64_t *removed);

#endif
