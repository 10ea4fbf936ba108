/* The value cache: recent committed values of short data-CF and meta-CF
 * keys (the store hashes the two apart), so that a read of one costs a
 * hash lookup instead of a RocksDB point lookup (memtable, filter, index
 * and data blocks through the LRU cache).
 *
 * Like the key cache it is exact, not a hint: the store puts every small
 * value it commits (and every value it reads from the database), forgets
 * a key on any other write of it, and clears everything on what it cannot
 * follow key by key. A hit is always the committed value.
 *
 * Layout: the entries (key and value) are appended to a ring of bytes, so
 * an insert never allocates; an index of 4-way sets (one cache line each)
 * maps a key's hash to its newest entry. An entry is live while the ring
 * has not wrapped over it and it is newer than the last clear, so eviction
 * is first-in first-out and a clear is O(1).
 *
 * A value returned by valcache_get points into the ring: it is good until
 * the next valcache_put. The store keeps a count of such values in use and
 * does not put while it is non-zero (it forgets the key instead). Single-
 * threaded: the event loop only.
 */
#ifndef STAGEKV_VALCACHE_H
#define STAGEKV_VALCACHE_H

#include <stddef.h>
#include <stdint.h>

#define VALCACHE_MAX_KEY 255
#define VALCACHE_MAX_VALUE 4096

typedef struct valcache valcache;

/* A cache of about `bytes` in all (ring and index; at least 64 kB), NULL
 * when out of memory. */
valcache *valcache_new(size_t bytes);
void valcache_free(valcache *c); /* accepts NULL */

/* h is keycache_hash(k, kl). 1 and *v, *vl set on a hit; 0 on a miss. */
int valcache_get(const valcache *c, uint64_t h, const char *k, size_t kl, const char **v, size_t *vl);
/* Records v as k's value. A key or value over the limits is forgotten. */
void valcache_put(valcache *c, uint64_t h, const char *k, size_t kl, const char *v, size_t vl);
/* Starts loading the index set of h into the CPU cache, for a put to come. */
void valcache_prefetch(const valcache *c, uint64_t h);
/* Forgets k. */
void valcache_forget(valcache *c, uint64_t h, const char *k, size_t kl);
/* Forgets everything, in O(1). */
void valcache_clear(valcache *c);
/* The ring's size in bytes (0 for NULL). */
size_t valcache_bytes(const valcache *c);

#endif
