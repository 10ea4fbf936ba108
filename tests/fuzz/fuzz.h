/* Shared by the fuzz targets: the libFuzzer entry points and an invariant
 * check that aborts (a crash libFuzzer records, and a failure the replay
 * binaries report under ctest). */
#ifndef STAGEKV_FUZZ_H
#define STAGEKV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* A small deterministic generator for choices derived from the input. */
typedef struct fuzz_rng {
    uint64_t s;
} fuzz_rng;

static inline uint32_t fuzz_next(fuzz_rng *r) {
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

/* Consumes up to n bytes of the input as a little-endian number. */
static inline uint64_t fuzz_take(const uint8_t **data, size_t *size, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && *size; i++) {
        v |= (uint64_t)**data << (8 * i);
        (*data)++;
        (*size)--;
    }
    return v;
}

#endif
