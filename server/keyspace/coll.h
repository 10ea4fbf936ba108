/* Collections (hash, list, set, sorted set) on top of the keyspace.
 *
 * One metadata record per key in the data CF (the key itself: type,
 * expiry, then version, size and, for lists, head and tail indexes), so
 * TYPE, EXISTS, DBSIZE, SCAN, EXPIRE, WATCH and the key counts treat a
 * collection as any key; one record per element in the elem CF under
 * db || keylen || key || version || kind (storage/encoding.h). Deleting,
 * overwriting or expiring the metadata drops the whole collection in O(1):
 * the elements of a version no metadata names are invisible (every read
 * goes through the current version) and the elem CF's compaction filter
 * removes them. Sizes are kept in the metadata: HLEN, SCARD, ZCARD, LLEN
 * are one read.
 *
 * Versions come from a counter that never repeats (max(last + 1, now in
 * microseconds), its high-water mark persisted in the meta CF with each new
 * collection), so a recreated key never sees a former life's elements.
 *
 * Everything is written through ks->tx (the command's batch). Do not write
 * while a store_iter of the batch is open: collect, close, then write.
 */
#ifndef STAGEKV_COLL_H
#define STAGEKV_COLL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define COLL_LIST_START (UINT64_C(1) << 63) /* head = tail of a new list */

typedef struct coll {
    int db;                /* logical database */
    const char *key;       /* borrowed from the caller */
    size_t kl;
    unsigned type;         /* ENC_TYPE_* */
    int found;             /* a live collection of this type is stored */
    int present;           /* an entry is stored (perhaps expired): for the key count */
    int64_t expire_ms;
    uint64_t version;
    int64_t size;
    uint64_t head, tail;   /* lists: elements at indexes [head, tail) */
    char *kbuf;            /* element keys are built here */
    size_t kcap, pl;       /* pl: length of the prefix without the kind byte */
} coll;

/* Opens key k of db as a collection of type. 1 found, 0 absent (c is then
 * an empty collection with a fresh version, ready to be written), -1 error
 * (ST_WRONGTYPE when another type lives there). Release with coll_free
 * whatever the result. */
int coll_open(keyspace *ks, int db, const char *k, size_t kl, unsigned type, coll *c);
void coll_free(coll *c);
/* Opens k as a new, empty collection of type whatever is stored there
 * (a destination that commands like SINTERSTORE overwrite). 0 ok, -1 error. */
int coll_create(keyspace *ks, int db, const char *k, size_t kl, unsigned type, coll *c);
/* Makes c an empty collection of a new version (the old elements become
 * orphans): for commands that overwrite a destination key. */
void coll_reset(keyspace *ks, coll *c);

/* The element key of (kind, member); valid until the next call on c. NULL
 * when out of memory. */
const char *coll_key(coll *c, char kind, const char *m, size_t ml, size_t *len);
/* 1 found (v filled: release with store_val_free), 0 absent, -1 error. */
int coll_get(keyspace *ks, coll *c, char kind, const char *m, size_t ml, store_val *v);
int coll_put(keyspace *ks, coll *c, char kind, const char *m, size_t ml, const char *v, size_t vl);
int coll_del(keyspace *ks, coll *c, char kind, const char *m, size_t ml);
/* Deletes the elements of kind with members in [lo, hi) as one range
 * tombstone. 0 ok, -1 error. */
int coll_del_range(keyspace *ks, coll *c, char kind, const char *lo, size_t ll, const char *hi, size_t hl);
/* Writes the metadata (size, head, tail) back; a collection whose size
 * dropped to 0 is deleted, as Redis deletes empty collections. */
int coll_save(keyspace *ks, coll *c);

/* An iterator over the elements of one kind, in member byte order. The
 * member of the current key is store_iter_key past coll_prefix_len(c). */
store_iter *coll_iter(keyspace *ks, coll *c, char kind);
static inline size_t coll_prefix_len(const coll *c) { return c->pl + 1; }
/* The same over members [lo, hi) only (hl 0: to the end of the kind): the
 * iterator never walks the deletion marks outside (popped list ends). */
store_iter *coll_iter_range(keyspace *ks, coll *c, char kind, const char *lo, size_t ll, const char *hi, size_t hl);
const char *coll_iter_member(const coll *c, store_iter *it, size_t *ml);

/* Elements read into memory, for commands that write what they read
 * (pops, moves, set algebra): members and values in one buffer. */
typedef struct coll_item { size_t mo, ml, vo, vl; } coll_item;
typedef struct coll_items {
    resp_buf buf;
    coll_item *it;
    size_t n, cap;
} coll_items;
/* Reads up to max (< 0: all) elements of kind, in order (reverse: from the
 * end). 0 ok, -1 error. Free with coll_items_free in every case. */
int coll_collect(keyspace *ks, coll *c, char kind, int64_t max, int reverse, coll_items *out);
/* Appends one element (a member and a value the caller owns). 0 / -1 OOM. */
int coll_items_add(coll_items *ci, const char *m, size_t ml, const char *v, size_t vl);
void coll_items_init(coll_items *ci);
void coll_items_free(coll_items *ci);
/* One random element of kind, appended to out: uniform up to 1024
 * elements (a walk), beyond that a seek to random bytes (O(log n), not
 * uniform). 1 found, 0 empty, -1 error. */
int coll_random(keyspace *ks, coll *c, char kind, coll_items *out);
static inline const char *coll_item_m(const coll_items *ci, size_t i) { return ci->buf.data + ci->it[i].mo; }
static inline const char *coll_item_v(const coll_items *ci, size_t i) { return ci->buf.data + ci->it[i].vo; }

/* Copies the collection of (sdb, src) to (ddb, dst) under a new version,
 * with the same expiry (dst_present: an entry is stored at dst, for the
 * key count). O(elements), as in Redis. 0 ok, -1 error. */
int coll_clone(keyspace *ks, int sdb, const char *src, size_t sl, unsigned type,
               int ddb, const char *dst, size_t dl, int dst_present);

/* Redis's answer to commands that find another type at a key. */
#define COLL_WRONGTYPE "Operation against a key holding the wrong kind of value"

#endif
