/* Shared machinery of the domain commands (SPEC §4).
 *
 * Every domain command is "read, check, one WriteBatch": it reads through
 * the command context (ks->tx), checks every invariant, and only then
 * writes; it fails with nothing committed, or replies after everything it
 * wrote joined the batch. Commands run one at a time on the loop thread,
 * so that read-check-write is atomic against every other command.
 *
 * The engine (this header: ids, documents, meta entries, keys, the
 * USER.DELETE registry) and the models (ledger.c, msg.c, ...) take a
 * `struct dom_engine *` and return -1 with the reason in e->ks->err
 * (dom_fail); they never reply, and see no server.h. The handlers (cmd_*.c)
 * and the handler-side helpers that take a `client *` (domain_args.h:
 * arguments and code-word replies; domain_list.h: paged lists; idemp.h:
 * IDEMP around dispatch) reply.
 *
 * Documents live in the data CF of database 0 under the seed's key
 * patterns (user-visible: KV.GET, KV.GETBYPREFIX, DBSIZE count them).
 * Counters, indexes, feeds, IDEMP records and the id high-water mark live
 * in the meta CF (engine-internal): see docs/keys.md for every pattern.
 */
#ifndef STAGEKV_DOMAIN_H
#define STAGEKV_DOMAIN_H

#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "db.h"

#define DOM_ID_MAX 64
#define DOM_ID_HEX 16  /* a server id: 16 lowercase hex digits */
#define DOM_KEY_MAX 512 /* every domain key is built from validated ids */
#define DOM_LIMIT_DEFAULT 50
#define DOM_LIMIT_MAX 1000

struct dom_engine;

/* ---- USER.DELETE (SPEC §4.2) ---------------------------------------------------
 * Each family that keeps data of a user registers a purge function from its
 * cmd_family init: it removes, in the command's batch, every document and
 * internal entry it holds for uid (found through per-user prefixes and
 * indexes, never a scan of the whole keyspace), and adds the number of
 * user-visible (data CF) keys it removed to *removed. -1 with e->ks->err. */
typedef int (*dom_purge_fn)(struct dom_engine *e, const char *uid, int64_t *removed);

/* The families that purge, in the order USER.DELETE runs them (the engine
 * fixes it, not the order of the families' init): see domain.c. */
#define DOM_PURGE_MAX 16

/* The engine's state, hung on the server (s->dom). A test builds one on
 * its own keyspace (need_sync and max_document_size may then be NULL). */
struct dom_engine {
    keyspace *ks;      /* the server's: every read and write of the engine goes through ks->tx */
    uint64_t last_id;  /* id high-water mark, persisted in the meta CF */
    int *need_sync;    /* set when coins move: the WAL is fsynced before the reply */
    const long long *max_document_size; /* the live config value (CONFIG SET changes it) */
    dom_purge_fn purge[DOM_PURGE_MAX];  /* by slot of the fixed order */
    /* Live events (docs/pubsub.md): queued with the command's writes and
     * published by core once they are durable, dropped if the command
     * fails. Installed by the engine's init; NULL in a test without a
     * server (events then go nowhere). */
    void (*publish)(void *ctx, const char *ch, size_t chl, const char *msg, size_t ml);
    /* 0 when nobody is subscribed to anything, so that no event is built
     * (its JSON costs more than some commands); NULL: always build. */
    int (*listening)(void *ctx);
    void *publish_ctx;
    struct dom_rebuild *rebuild;        /* DOMAIN.REBUILD's job (cmd_domain.c), or NULL; freed with the engine */
    struct dom_dump *dumps;             /* open DUMP.BEGIN cursors (cmd_dump.c); released with the engine */
    uint64_t next_dump;
};

/* Publishes {"event": event, "data": data} (compact JSON) on the channel
 * after the running command commits; data is borrowed. An event that
 * cannot be built is dropped (pub/sub is at most once), the write stands. */
void dom_publish(struct dom_engine *e, const char *channel, const char *event, json_t *data);

/* Fails with a code word: `return dom_fail(e, ST_INVALID, "amount ...")`. */
#define dom_fail(e, code, ...) st_fail(&(e)->ks->err, (code), __VA_ARGS__)

/* The document size limit (max-document-size; 1 MB without a server). */
long long dom_max_document_size(const struct dom_engine *e);

/* Registers family's purge (family: one of the names of the fixed order,
 * e.g. "ledger"; each once). */
void dom_register_purge(struct dom_engine *e, const char *family, dom_purge_fn fn);
/* Runs every registered purge for uid in the fixed order. 0, or -1 with
 * e->ks->err (the command then writes nothing). */
int dom_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

/* The engine as a family without commands: its init loads the high-water
 * mark, registers the owned prefixes with the write guard and installs the
 * IDEMP hooks; its cron reclaims old IDEMP records. */
extern const cmd_family domain_engine_family;

/* ---- identifiers -------------------------------------------------------- */
/* 1-64 bytes of [A-Za-z0-9_.-], not starting with '_'. */
int dom_valid_id(const char *p, size_t n);
/* For the key builders' asserts: s is a valid, NUL-terminated id. */
#define DOM_ASSERT_ID(s) assert(dom_valid_id((s), strlen(s)))
/* ... and a server id (16 lowercase hex digits). */
int dom_is_server_id(const char *p, size_t n);
/* 1 with its value in *v when p[0..n) is a server id, else 0. */
int dom_server_id_value(const char *p, size_t n, uint64_t *v);
#define DOM_ID_BUF (DOM_ID_MAX + 1)
/* A new server id: (ms << 16) | seq, strictly increasing across the server
 * and across restarts; the high-water mark is written in the command's
 * batch. */
uint64_t dom_new_id(struct dom_engine *e);
void dom_format_id(char out[DOM_ID_HEX + 1], uint64_t id);
/* ISO-8601 UTC with milliseconds: 2026-11-25T13:35:14.123Z */
void dom_iso_time(char out[32], uint64_t ms);
uint64_t dom_id_ms(uint64_t id);
/* The creation time of a new id for its document: the id's millisecond,
 * or now when the clock is ahead (ids may run ahead after a burst). */
void dom_id_time(char out[32], uint64_t id);
/* The meta key of the high-water mark (dumped: it cannot be rebuilt). */
struct dkey;
void dom_key_hwm(struct dkey *k);
/* An id kept from imported data (stagekv-import): when it is a server id
 * above the high-water mark, the mark moves up to it (in the command's
 * batch), so no later id can equal it. 0, or -1 (INVALID) for a server id
 * more than a day ahead of the clock, which would push every later id. */
int dom_see_id(struct dom_engine *e, const char *id);
/* Startup: load the high-water mark. */
int dom_load(struct dom_engine *e, char **err);

/* ---- arguments ---------------------------------------------------------- */
/* A name (an e-mail list's, ...): 1..DOM_NAME_MAX bytes of valid UTF-8
 * without NUL or control characters (C0, DEL, C1); with key_safe, no ':'
 * either (for a name that becomes part of a key). Ids stay ASCII
 * (dom_valid_id); a name need not be one. 1 valid, 0 not. */
#define DOM_NAME_MAX 64
int dom_valid_name(const char *p, size_t n, int key_safe);

/* Text that goes into a document (messages, reasons, subjects): min..max
 * bytes of valid UTF-8 without NUL. 1 valid, 0 not. */
int dom_valid_text(const char *p, size_t n, size_t min, size_t max);
/* Removes the server-owned fields (id, user_id, created_at, updated_at). */
void dom_strip_owned(json_t *doc);

/* Paging options: [AFTER id] [LIMIT n] [UNREAD] in any order, from argv[start]. */
typedef struct dom_page {
    const char *after;   /* NULL when absent */
    size_t after_len;
    int64_t limit;
    int unread;
    int64_t size_hint; /* entries in the whole list when the handler knows
                        * (an entity list's count), else 0; only a guess
                        * for how to read it, never trusted for what */
    uint64_t first_hint, last_hint; /* the list's lowest and highest ids
                        * as its count record remembers them (0: not
                        * known); a guess of the same kind */
} dom_page;

/* ---- keys --------------------------------------------------------------- */
typedef struct dkey {
    char buf[DOM_KEY_MAX];
    size_t len;
} dkey;
/* The primitives of the models' key builders (one builder per index, in
 * the model that owns it); both assert that the key fits DOM_KEY_MAX,
 * which validated ids (<= 64 bytes) guarantee. */
void dkey_fmt(dkey *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dkey_append(dkey *k, const char *p, size_t n);

/* ---- documents (data CF, database 0) -------------------------------------- */
/* Reads and parses a JSON document: returns it (new reference) or NULL
 * when absent; *failed = 1 on an error (ks->err). */
json_t *dom_get_doc(keyspace *ks, const dkey *k, int *failed);
/* Raw bytes of a document: 1 found (v filled), 0 absent, -1 error (ks->err). */
int dom_get_raw(keyspace *ks, const dkey *k, db_value *v);
/* Encodes and writes a document; existed: as for db_put (-1 = unknown). */
int dom_put_doc(keyspace *ks, const dkey *k, const json_t *doc, int existed);
int dom_put_raw(keyspace *ks, const dkey *k, const char *p, size_t n, int existed);
int dom_del(keyspace *ks, const dkey *k); /* 1 deleted, 0 absent, -1 error */
/* Sets id, user_id (when uid), created_at and updated_at = now. */
void dom_stamp_new(json_t *doc, uint64_t id, const char *uid);
void dom_stamp_update(json_t *doc);

/* ---- engine-internal data (meta CF) ----------------------------------------- */
/* Integers: absent reads as 0. Return -1 with ks->err on a storage error. */
int meta_get_i64(keyspace *ks, const dkey *k, int64_t *out);
void meta_put_i64(keyspace *ks, const dkey *k, int64_t v);
/* Adds delta and writes the result (deletes the key when it becomes 0). */
int meta_add_i64(keyspace *ks, const dkey *k, int64_t delta, int64_t *result);
/* Raw values: 1 found, 0 absent, -1 error (ks->err). */
int meta_get(keyspace *ks, const dkey *k, store_val *v);
void meta_put(keyspace *ks, const dkey *k, const char *v, size_t vl);
void meta_del(keyspace *ks, const dkey *k);
/* Deletes every meta key under prefix (one range deletion). */
void meta_del_prefix(keyspace *ks, const dkey *prefix);
/* Collects the meta entries under prefix, in key order, for a caller that
 * writes afterwards (no write may happen while an iterator of the command
 * context is open). fn gets the key after the prefix and the value;
 * returns 0 to go on, 1 to stop, -1 to fail (with ks->err). 0 or -1. */
typedef int (*meta_visit_fn)(const char *rest, size_t rl, const char *val, size_t vl, void *arg);
int meta_scan(keyspace *ks, const dkey *prefix, meta_visit_fn fn, void *arg);

#endif
