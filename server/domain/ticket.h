/* Support tickets (SPEC §4.5): TICKET.OPEN, REPLY, GET, LIST, CLOSE in
 * cmd_ticket.c. A ticket is reachable by its id alone (support staff answer
 * it) and listed for its owner through an index.
 *
 * Keys:
 *   data CF  tickets:{ticket}:details         {"id", "user_id" (the owner),
 *                                              "status": "open"|"closed",
 *                                              "created_at", "updated_at",
 *                                              ["closed_at"], + the client's
 *                                              fields (subject, body, ...)}
 *   data CF  tickets:{ticket}:messages:{id}   one reply: {"id", "ticket",
 *                                              "author", "text", "created_at"}
 *   meta CF  "tk:" uid ":" ticket -> ""       the owner's index (TICKET.LIST,
 *                                              USER.DELETE)
 *   meta CF  "tkr:" ticket -> i64             replies of the ticket (its cap)
 */
#ifndef STAGEKV_TICKET_H
#define STAGEKV_TICKET_H

#include <stdint.h>

#include "domain.h"

/* USER.DELETE (a dom_purge_fn): removes every ticket uid opened, with all
 * its replies (whoever wrote them) and its reply counter, found through the
 * owner's index "tk:{uid}:", then the index itself. Replies uid wrote to
 * other users' tickets stay there, with uid as an opaque author id. Adds the
 * number of data keys removed (details + replies) to *removed. 0 ok, -1
 * replied. First exercised by USER.DELETE. */
int ticket_purge_user(client *c, const char *uid, int64_t *removed);

#endif
