/* The entity model (SPEC §4.1): one engine for TRACK, VIDEO, CONCERT, NEWS,
 * BANNER, PROMO, PITCH and PAYMETHOD, driven by a table of namespaces. Key
 * layout and invariants: entity.c. Functions return -1 with the reason in
 * e->ks->err; nothing here replies.
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
 * uid and id are validated ids. 0, or -1 (the command then writes nothing). */
typedef int (*entity_hook)(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
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

#define ENTITY_MAX_HOOKS 4

struct entity_ns {
    const char *name;         /* command prefix, lower case: "track" */
    const char *prefix;       /* document key prefix: "tracks" */
    const char *sub;          /* between uid and id: "" or "method:" */
    const char *meta;         /* name in count:/owner:/feed: meta keys (and analytics:) */
    const char *table;        /* the seed's SQL table */
    const char *cost_reason;  /* CREATE takes [COST coins], ledger reason; or NULL */
    const entity_index *index;/* public index (feed:M:id), or NULL */
    const entity_hooks *hooks[ENTITY_MAX_HOOKS + 1]; /* NULL-terminated, run in order */
};

/* The namespaces (for the command rows' data). */
extern const entity_ns entity_ns_track, entity_ns_video, entity_ns_concert, entity_ns_news, entity_ns_banner,
    entity_ns_promo, entity_ns_pitch, entity_ns_paymethod;

/* The namespace table: idx from 0 until NULL. */
const entity_ns *entity_ns_at(size_t idx);
/* By command prefix ("track", case-insensitive), or NULL. */
const entity_ns *entity_ns_find(const char *name);

/* Keys (uid, id: valid ids). */
void entity_key_doc(dkey *k, const entity_ns *ns, const char *uid, const char *id); /* P:{uid}:S{id} */
void entity_key_user(dkey *k, const entity_ns *ns, const char *uid);  /* P:{uid}:S (the list) */
void entity_key_count(dkey *k, const entity_ns *ns, const char *uid); /* meta count:M:{uid} */
void entity_key_owner(dkey *k, const entity_ns *ns, const char *id);  /* meta owner:M:{id} */
void entity_key_feed(dkey *k, const entity_ns *ns, const char *id);   /* meta feed:M:{id} */
void entity_key_feed_index(dkey *k, const entity_ns *ns);             /* meta feed:M: */
void entity_key_all(dkey *k, const entity_ns *ns, const char *id);    /* meta all:M:{id} */
void entity_key_all_index(dkey *k, const entity_ns *ns);              /* meta all:M: */

/* The hooks of the public newest-first feed of every document of a
 * namespace (TRACK.FEED & co): all:M:{id} -> uid, put on create, removed on
 * delete and purge. A namespace has the feed when the table lists them. */
extern const entity_hooks entity_all_hooks;

/* The derived data a document of ns has (DOMAIN.CHECK/REBUILD): a feed
 * entry (the namespace's index predicate holds), an owner entry, an all:
 * entry. */
int entity_index_matches(const entity_ns *ns, const json_t *doc);
int entity_keeps_owner(const entity_ns *ns);
int entity_keeps_all(const entity_ns *ns);

/* For CONCERT.PROMOTED & co (dom_list_index over entity_key_feed_index,
 * and NS.FEED over entity_key_all_index, which has the same shape; arg:
 * the entity_ns): resolves a feed entry to its document. */
int entity_feed_resolve(const char *id, size_t il, const char *uid, size_t ul, dkey *doc, void *arg);

/* CREATE: writes doc (an object, server-owned fields stripped; stamped in
 * place, not consumed) as a new document of uid, with its counter and
 * hooks; cost > 0 first spends that many coins (ledger reason
 * ns->cost_reason; INSUFFICIENT_FUNDS creates nothing). id_out: the id. */
int entity_create(struct dom_engine *e, const entity_ns *ns, const char *uid, json_t *doc, int64_t cost,
                  char id_out[DOM_ID_HEX + 1]);

/* The import's CREATE (stagekv-import): like entity_create, with the id the
 * old data carried (a valid id) and no cost. CONFLICT when uid already has
 * that document, or another user's document of the namespace holds the id
 * in an index keyed by the id alone (owner:, all:, feed:). */
int entity_import(struct dom_engine *e, const entity_ns *ns, const char *uid, json_t *doc, const char *id);

/* The stored bytes of a document: 1 found (v filled; db_value_free), 0 absent. */
int entity_get_raw(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, db_value *v);

/* UPDATE: RFC 7386 merge patch (an object) on the stored document; the new
 * document's text goes to *text (malloc()ed, *tl bytes). NOTFOUND when
 * there is none, INVALID when the result passes max-document-size. */
int entity_update(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, json_t *patch,
                  char **text, size_t *tl);

/* PROMOTE (on = 1) / UNPROMOTE (on = 0): sets the index field of uid's
 * document through the update path. 1 changed, 0 already so or uid has no
 * such document, -1. */
int entity_set_promoted(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, int on);

/* Deletes one document with its derived data (counter, hooks), in the
 * command's batch. 1 deleted, 0 absent, -1. */
int entity_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id);

/* The O(1) document count of uid in a namespace. */
int entity_count(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t *out);
/* ... with the count record's hint ids, the lowest and highest id of the
 * documents (0 and 0 when it has none): guesses for reading the list,
 * never facts (entity.c). */
int entity_count_hints(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t *n, uint64_t *first,
                       uint64_t *last);
/* The count record's value: the count (8 bytes), or the count and the two
 * hint ids (24); encode leaves the ids out when either is 0. DOMAIN.CHECK
 * compares the count only. */
#define ENTITY_COUNT_LEN 8
#define ENTITY_COUNT_HINTED_LEN 24
void entity_count_decode(const char *v, size_t vl, int64_t *n, uint64_t *first, uint64_t *last);
size_t entity_count_encode(char out[ENTITY_COUNT_HINTED_LEN], int64_t n, uint64_t first, uint64_t last);

/* USER.DELETE's step (registered as "entity"): every namespace's documents
 * of uid with their derived data (hooks per document, the documents as one
 * prefix delete, the counter). *removed gets every data key that went,
 * the analytics rows of the hooks included. */
int entity_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
