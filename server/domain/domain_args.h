/* Handler-side helpers of the domain commands: argument parsing and the
 * code-word error replies (SPEC §4). They take the client and reply;
 * models never include this header.
 */
#ifndef STAGEKV_DOMAIN_ARGS_H
#define STAGEKV_DOMAIN_ARGS_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"
#include "server.h"

/* A handler's engine. */
#define DOM(c) ((c)->srv->dom)

/* ---- errors (SPEC §4: a code word first) -------------------------------- */
void reply_invalid(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_notfound(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_conflict(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- arguments ---------------------------------------------------------- */
/* Replies "-INVALID id '<x>'" and returns -1 when a is not a valid id. */
int dom_check_id(client *c, const resp_slice *a);
/* Checks argv[i] as an id and copies it NUL-terminated into out. */
int dom_id_arg(client *c, int i, char out[DOM_ID_BUF]);
/* Nothing may follow the fixed arguments (dispatch has taken IDEMP off):
 * else "-ERR syntax error" and -1. */
int dom_no_options(client *c, int fixed);
/* Amount: an integer 1..2^63-1, else "-INVALID amount '<x>'". */
int dom_amount(client *c, const resp_slice *a, int64_t *out);
/* A JSON object document (or merge patch) within the limits (SPEC §4),
 * else -INVALID. The server-owned fields (id, user_id, created_at,
 * updated_at) are removed. */
json_t *dom_parse_doc(client *c, const resp_slice *a);
/* Paging options: [AFTER id] [LIMIT n] [UNREAD] in any order, from
 * argv[start]; allow_unread: whether UNREAD is accepted. Replies and
 * returns -1 on error (-INVALID for a bad LIMIT or AFTER id, -ERR syntax
 * error otherwise). */
int dom_parse_page(client *c, int start, dom_page *pg, int allow_unread);

#endif
