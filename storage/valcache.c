#include "valcache.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4

typedef struct vslot {
    uint64_t h;
    uint64_t off; /* of the entry in the ring's byte stream; 0 = empty */
} vslot;

_Static_assert(sizeof(vslot) * WAYS == 64, "a set is one cache line");

typedef struct ent_hdr {
    uint32_t vlen;
    uint8_t klen;
    uint8_t pad[3];
} ent_hdr;

struct valcache {
    char *ring;
    uint64_t rsize;
    /* Offsets count every byte ever appended (plus rsize, so 0 is never
     * one): the entry at off sits at ring[off % rsize]. */
    uint64_t head;  /* where the next entry goes */
    uint64_t floor; /* entries below it were cleared */
    vslot *slots;
    size_t mask; /* sets - 1 */
    unsigned victim;
};

valcache *valcache_new(size_t bytes) {
    if (bytes < 64 * 1024) bytes = 64 * 1024;
    size_t sets = 1;
    while (sets * 2 * sizeof(vslot) * WAYS <= bytes / 5) sets *= 2;
    size_t rsize = (bytes - sets * sizeof(vslot) * WAYS) & ~(size_t)7;
    valcache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->slots = calloc(sets * WAYS, sizeof(vslot));
    c->ring = malloc(rsize);
    if (!c->slots || !c->ring) {
        valcache_free(c);
        return NULL;
    }
    c->rsize = rsize;
    c->head = c->floor = rsize;
    c->mask = sets - 1;
    return c;
}

void valcache_free(valcache *c) {
    if (!c) return;
    free(c->slots);
    free(c->ring);
    free(c);
}

/* Not cleared and not yet overwritten by the ring wrapping round. */
static int live(const valcache *c, uint64_t off) { return off >= c->floor && off + c->rsize >= c->head; }

static vslot *set_of(const valcache *c, uint64_t h) { return c->slots + (h & c->mask) * WAYS; }

static const ent_hdr *hdr_at(const valcache *c, uint64_t off) {
    return (const ent_hdr *)(c->ring + off % c->rsize);
}

/* The live slot of k, or NULL. */
static vslot *find(const valcache *c, uint64_t h, const char *k, size_t kl) {
    vslot *set = set_of(c, h);
    h += !h; /* 0 marks an empty slot */
    for (int w = 0; w < WAYS; w++) {
        if (set[w].h != h || !live(c, set[w].off)) continue;
        const ent_hdr *e = hdr_at(c, set[w].off);
        if (e->klen == kl && memcmp(e + 1, k, kl) == 0) return &set[w];
    }
    return NULL;
}

int valcache_get(const valcache *c, uint64_t h, const char *k, size_t kl, const char **v, size_t *vl) {
    if (kl > VALCACHE_MAX_KEY) return 0;
    const vslot *sl = find(c, h, k, kl);
    if (!sl) return 0;
    const ent_hdr *e = hdr_at(c, sl->off);
    *v = (const char *)(e + 1) + kl;
    *vl = e->vlen;
    return 1;
}

void valcache_forget(valcache *c, uint64_t h, const char *k, size_t kl) {
    if (kl > VALCACHE_MAX_KEY) return; /* never put */
    vslot *sl = find(c, h, k, kl);
    if (sl) *sl = (vslot){0, 0};
}

void valcache_put(valcache *c, uint64_t h, const char *k, size_t kl, const char *v, size_t vl) {
    uint64_t esz = (sizeof(ent_hdr) + kl + vl + 7) & ~(uint64_t)7;
    if (kl > VALCACHE_MAX_KEY || vl > VALCACHE_MAX_VALUE || esz > c->rsize / 8) {
        valcache_forget(c, h, k, kl);
        return;
    }
    vslot *sl = find(c, h, k, kl); /* before the append, which may overwrite its entry */
    uint64_t pos = c->head % c->rsize;
    if (pos + esz > c->rsize) { /* entries never wrap: skip the ring's tail */
        c->head += c->rsize - pos;
        pos = 0;
    }
    uint64_t off = c->head;
    ent_hdr *e = (ent_hdr *)(c->ring + pos);
    *e = (ent_hdr){.vlen = (uint32_t)vl, .klen = (uint8_t)kl};
    memcpy(e + 1, k, kl);
    memcpy((char *)(e + 1) + kl, v, vl);
    c->head += esz;
    if (!sl) {
        vslot *set = set_of(c, h);
        for (int w = 0; w < WAYS && !sl; w++)
            if (!set[w].off || !live(c, set[w].off)) sl = &set[w];
        if (!sl) sl = &set[c->victim++ % WAYS];
    }
    *sl = (vslot){h + !h, off};
}

void valcache_prefetch(const valcache *c, uint64_t h) { __builtin_prefetch(set_of(c, h)); }

void valcache_clear(valcache *c) { c->floor = c->head; }

size_t valcache_bytes(const valcache *c) { return c ? (size_t)c->rsize : 0; }
