/* A scratch directory for a test's store: made under /tmp, removed with
 * everything in it at teardown. */
#ifndef STAGEKV_UNIT_TMPDIR_H
#define STAGEKV_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static inline int unit_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* buf gets "/tmp/stagekv-<tag>-XXXXXX", created; NULL when it cannot be. */
static inline char *unit_tmpdir_make(char *buf, size_t n, const char *tag) {
    snprintf(buf, n, "/tmp/stagekv-%s-XXXXXX", tag);
    return mkdtemp(buf);
}

static inline void unit_tmpdir_remove(const char *dir) { nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

#endif
