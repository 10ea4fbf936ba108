/* The key cache: which short data-CF keys exist in the committed data.
 *
 * Every write needs to know whether its key existed (DBSIZE is exact), and
 * a RocksDB point lookup costs ~16k instructions even in a memtable-only
 * database. This cache answers that question in a few hundred. It is exact,
 * not a hint: the store updates it with every key of every commit and
 * clears it on anything it cannot follow key by key (range deletions, an
 * undo, a failed write), so a cached answer is always the committed truth.
 *
 * Layout: 4-way set-associative, 32-byte slots (a set is two cache lines),
 * keys of at most KEYCACHE_MAX_KEY bytes. A slot is live when its
 * generation byte equals the cache's, so a clear is one increment (and a
 * memset once every 255 clears). Single-threaded: the event loop only.
 */
#ifndef STAGEKV_KEYCACHE_H
#define STAGEKV_KEYCACHE_H

#include <stddef.h>
#include <stdint.h>

#define KEYCACHE_MAX_KEY 28
#define KEYCACHE_SLOT_BYTES 32

typedef struct keycache keycache;

/* A cache of at most `bytes` (rounded down to a power of two of sets, at
 * least one set). NULL when bytes is 0 or out of memory. */
keycache *keycache_new(size_t bytes);
void keycache_free(keycache *c); /* accepts NULL */

uint64_t keycache_hash(const char *k, size_t kl);

/* 1 cached as present, 0 cached as absent, -1 not cached (or kl too long).
 * h is keycache_hash(k, kl). */
int keycache_get(const keycache *c, uint64_t h, const char *k, size_t kl);
/* Records present (1) or absent (0); a key too long is ignored. */
void keycache_set(keycache *c, uint64_t h, const char *k, size_t kl, int present);
/* Starts loading the set of h into the CPU cache, for a keycache_set to
 * come (the commit of a write whose existence was known without asking). */
void keycache_prefetch(const keycache *c, uint64_t h);
/* Forgets everything, in O(1) (amortised). */
void keycache_clear(keycache *c);
size_t keycache_slots(const keycache *c);

#endif
