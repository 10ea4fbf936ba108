/* What the cache tests (test_keycache.c, test_valcache.c) share: a store
 * in a temporary directory, and one step of their random walks over it.
 *
 * walk_step: for r in [0, 100), a write, a txn
 * operation or a store-wide change on k (and e, the end of a range) of
 * column family cf:
 *   put v, delete, range delete [k, e), savepoint, rollback to it, commit,
 *   clear, compact-range (an out-of-txn range deletion), undo of the
 *   unflushed commits, WAL flush;
 * r >= WALK_OPS does nothing, for the caller's own steps. The store must
 * have undo on (store_set_undo). */
#ifndef STAGEKV_TEST_STORE_WALK_H
#define STAGEKV_TEST_STORE_WALK_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"

static char walk_dir[64];
static inline int walk_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* A new store with the given key and value cache sizes (0 = off). */
static inline store *open_store(size_t kc_bytes, size_t vc_bytes) {
    strcpy(walk_dir, "/tmp/stagekv-cache-XXXXXX");
    cr_assert_not_null(mkdtemp(walk_dir));
    store_options o = {.dir = walk_dir, .block_cache_bytes = 8u << 20, .create_if_missing = 1,
                       .key_cache_bytes = kc_bytes, .value_cache_bytes = vc_bytes};
    store *s = NULL;
    char *err = NULL;
    cr_assert_eq(store_open(&s, &o, &err), 0, "%s", err ? err : "?");
    return s;
}
static inline void close_store(store *s) {
    store_close(s);
    nftw(walk_dir, walk_rm, 16, FTW_DEPTH | FTW_PHYS);
}

#define WALK_OPS 93

static inline void walk_step(store *s, store_txn *t, int cf, unsigned r, const char *k, size_t kl, const char *e,
                             size_t el, const char *v, size_t vl) {
    if (r < 40) {
        store_put(t, cf, k, kl, v, vl);
    } else if (r < 55) {
        store_del(t, cf, k, kl);
    } else if (r < 58) {
        store_del_range(t, cf, k, kl, e, el);
    } else if (r < 63) {
        store_txn_savepoint(t);
    } else if (r < 68) {
        store_txn_rollback_to_savepoint(t);
    } else if (r < 85) {
        char *err = NULL;
        cr_assert_eq(store_commit(t, &err), 0, "%s", err ? err : "?");
    } else if (r < 88) {
        store_txn_clear(t);
    } else if (r < 89) {
        cr_assert_eq(store_compact_range(s, cf, k, kl, e, el, NULL), 0);
    } else if (r < 91) {
        cr_assert_eq(store_undo_unflushed(s, NULL), 0);
    } else if (r < WALK_OPS) {
        cr_assert_eq(store_flush_wal(s, 0, NULL), 0);
        store_undo_forget(s);
    }
}

#endif
