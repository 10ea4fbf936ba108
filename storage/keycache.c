#include "keycache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define WAYS 4

typedef struct slot {
    uint8_t gen;     /* live when == the cache's gen; 0 never is */
    uint8_t len;
    uint8_t present;
    uint8_t tag;     /* top byte of the hash: most mismatches end here */
    char key[KEYCACHE_MAX_KEY];
} slot;

_Static_assert(sizeof(slot) == KEYCACHE_SLOT_BYTES, "a slot is 32 bytes");

struct keycache {
    slot *slots;
    size_t mask; /* sets - 1 */
    uint8_t gen;
    uint8_t victim; /* round-robin way to replace in a full set */
};

keycache *keycache_new(size_t bytes) {
    if (bytes == 0) return NULL;
    size_t sets = 1;
    while (sets * 2 * WAYS * sizeof(slot) <= bytes) sets *= 2;
    keycache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->slots = calloc(sets * WAYS, sizeof(slot));
    if (!c->slots) {
        free(c);
        return NULL;
    }
    c->mask = sets - 1;
    c->gen = 1;
    return c;
}

void keycache_free(keycache *c) {
    if (!c) return;
    free(c->slots);
    free(c);
}

uint64_t keycache_hash(const char *k, size_t kl) { return XXH3_64bits(k, kl); }

static slot *set_of(const keycache *c, uint64_t h) { return c->slots + (h & c->mask) * WAYS; }

static int same(const slot *sl, uint8_t gen, uint8_t tag, const char *k, size_t kl) {
    return sl->gen == gen && sl->tag == tag && sl->len == kl && memcmp(sl->key, k, kl) == 0;
}

int keycache_get(const keycache *c, uint64_t h, const char *k, size_t kl) {
    if (kl > KEYCACHE_MAX_KEY) return -1;
    const slot *set = set_of(c, h);
    uint8_t tag = (uint8_t)(h >> 56);
    for (int w = 0; w < WAYS; w++)
        if (same(&set[w], c->gen, tag, k, kl)) return set[w].present;
    return -1;
}

void keycache_set(keycache *c, uint64_t h, const char *k, size_t kl, int present) {
    if (kl > KEYCACHE_MAX_KEY) return;
    assert(h == keycache_hash(k, kl));
    slot *set = set_of(c, h);
    uint8_t tag = (uint8_t)(h >> 56);
    slot *free_slot = NULL;
    for (int w = 0; w < WAYS; w++) {
        if (same(&set[w], c->gen, tag, k, kl)) {
            set[w].present = (uint8_t)(present != 0);
            return;
        }
        if (!free_slot && set[w].gen != c->gen) free_slot = &set[w];
    }
    slot *sl = free_slot ? free_slot : &set[c->victim++ % WAYS];
    sl->gen = c->gen;
    sl->len = (uint8_t)kl;
    sl->present = (uint8_t)(present != 0);
    sl->tag = tag;
    memcpy(sl->key, k, kl);
}

void keycache_prefetch(const keycache *c, uint64_t h) {
    const slot *set = set_of(c, h);
    __builtin_prefetch(set);
    __builtin_prefetch((const char *)set + 64);
}

void keycache_clear(keycache *c) {
    if (++c->gen == 0) { /* wrapped: old slots could look live again */
        memset(c->slots, 0, (c->mask + 1) * WAYS * sizeof(slot));
        c->gen = 1;
    }
}

size_t keycache_slots(const keycache *c) { return c ? (c->mask + 1) * WAYS : 0; }
