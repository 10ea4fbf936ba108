/* Newest-first pages of domain documents: the one walker behind every
 * [AFTER id] [LIMIT n] list, over the documents themselves or over a meta
 * index that points at them. Handler-side helpers: they reply the array
 * (or an error) to the client themselves.
 */
#ifndef STAGEKV_DOMAIN_LIST_H
#define STAGEKV_DOMAIN_LIST_H

#include "domain.h"

/* Called for each item; return 1 to include it, 0 to skip, -1 on error. */
typedef int (*dom_list_filter)(client *c, const char *key, size_t kl, const char *val, size_t vl, void *arg);
/* Replies an array of the documents under prefix (data CF, db 0), newest
 * first (descending key order), honouring AFTER (exclusive: the key
 * prefix||after) and LIMIT; filter may be NULL. Returns 0 or -1 (replied). */
int dom_list_docs(client *c, const dkey *prefix, const dom_page *pg, dom_list_filter filter, void *arg);
/* Builds the document key of a meta index entry (suffix = the entry's key
 * after the index prefix, val = its value): 1, or 0 to skip the entry. */
typedef int (*dom_index_resolve)(const char *suffix, size_t sl, const char *val, size_t vl, dkey *doc, void *arg);
/* Replies the documents a meta index points at, newest first (descending
 * index key order), with AFTER (exclusive, index_prefix||after) and LIMIT;
 * entries whose document is missing are skipped. 0, or -1 (replied). */
int dom_list_index(client *c, const dkey *index_prefix, const dom_page *pg, dom_index_resolve resolve, void *arg);

/* The same in ascending index key order (AFTER continues after
 * index_prefix||after in that order), for lists ordered by key (USER.LIST). */
int dom_list_index_asc(client *c, const dkey *index_prefix, const dom_page *pg, dom_index_resolve resolve, void *arg);

/* Replies doc as its JSON text (a bulk string, the encoder of the stored
 * documents). 0, or -1 (replied: out of memory). */
int dom_reply_doc(client *c, const json_t *doc);

#endif
