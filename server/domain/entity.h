/* The generic entity engine (SPEC §4.1): one set of handlers driven by a
 * table of namespaces (TRACK, VIDEO, CONCERT, NEWS, BANNER, PROMO, PITCH,
 * PAYMETHOD). Each command row carries its namespace in cmd_def.data.
 *
 * Keys of a namespace with key prefix P, sub-prefix S and meta name M:
 *   data CF  P ":" uid ":" S id       the document (JSON object), e.g.
 *                                     tracks:u1:0190f3a1c2d40000,
 *                                     payments:u1:method:0190f3a1c2d40000
 *   meta CF  "count:" M ":" uid       i64: documents of uid (absent = 0)
 *   meta CF  "owner:" M ":" id        uid: id -> owner (TRACK, CONCERT)
 *   meta CF  "feed:" M ":" id         uid: public index of the documents that
 *                                     match the namespace's index predicate
 *                                     (CONCERT/NEWS: "promoted": true;
 *                                     BANNER: "status": "active")
 * Counters, the owner index and the feeds are derived from the documents
 * (the promoted state is the document's "promoted" field), so they can be
 * rebuilt from them.
 */
#ifndef STAGEKV_ENTITY_H
#define STAGEKV_ENTITY_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

typedef struct entity_ns entity_ns;

/* A maintenance hook, run in the command's batch after the document is
 * written (create, update) or deleted. old_doc is NULL on create (and on a
 * delete of a stored value that is not JSON), new_doc NULL on delete.
 * uid and id are validated ids. Returns 0, or -1 after replying an error
 * (the command then fails and writes nothing). */
typedef int (*entity_hook)(client *c, const entity_ns *ns, const char *uid, const char *id,
                           const json_t *old_doc, const json_t *new_doc);

/* One kind of derived data, maintained by its hooks (any may be NULL). */
typedef struct entity_hooks {
    entity_hook on_create, on_update, on_delete;
} entity_hooks;

/* The public index of a namespace: a document is in it when its field
 * equals the string `equals`, or, with equals NULL, is JSON true. */
typedef struct entity_index {
    const char *field;
    const char *equals;
} entity_index;

#define ENTITY_MAX_HOOKS 3

struct entity_ns {
    const char *name;         /* command prefix, lower case: "track" */
    const char *prefix;       /* document key prefix: "tracks" */
    const char *sub;          /* between uid and id: "" or "method:" */
    const char *meta;         /* name in count:/owner:/feed: meta keys */
    const char *table;        /* the seed's SQL table */
    const char *cost_reason;  /* CREATE takes [COST coins], ledger reason; or NULL */
    const entity_index *index;/* public index (feed:M:id), or NULL */
    const entity_hooks *hooks[ENTITY_MAX_HOOKS + 1]; /* NULL-terminated, run in order */
    /* Delete hook of the ANALYTICS module (set for TRACK and CONCERT, NULL
     * elsewhere). When set, it runs after the hooks on every delete of a document
     * of this namespace (NS.DELETE and entity_purge_user) and must remove
     * the analytics rows keyed by the id (analytics:<meta>:{id}:...). */
    entity_hook analytics_on_delete;
};

/* The namespace table: idx from 0 until NULL (for USER.DELETE). */
const entity_ns *entity_ns_at(size_t idx);
/* By command prefix ("track", case-insensitive), or NULL. */
const entity_ns *entity_ns_find(const char *name);

/* Document key of id, and the listing prefix of uid (P ":" uid ":" S). */
void entity_doc_key(dkey *k, const entity_ns *ns, const char *uid, const char *id);
void entity_uid_prefix(dkey *k, const entity_ns *ns, const char *uid);

/* The O(1) document count of uid in a namespace (by command prefix, e.g.
 * "track"), for DASHBOARD.GET. 0 ok; -1 after replying an error. */
int entity_count(client *c, const char *ns_name, const char *uid, int64_t *out);

/* Deletes one document with its derived data (counter, hooks, analytics
 * hook), in the command's batch. 1 deleted, 0 absent, -1 replied. */
int entity_delete(client *c, const entity_ns *ns, const char *uid, const char *id);

/* Deletes every document of uid in ns with its derived data (for
 * USER.DELETE): hooks and the analytics hook run per document, the
 * documents go as one range deletion, the counter is removed. Adds the
 * number of documents removed to *removed. 0 ok, -1 replied. Used by
 * USER.DELETE (cmd_userdel.c). */
int entity_purge_user(client *c, const entity_ns *ns, const char *uid, int64_t *removed);

#endif
