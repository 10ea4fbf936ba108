/* The store's fault hook (store_fault_set): an armed write fails the
 * commit and writes nothing, a sync fault keeps the buffered WAL for the
 * next flush, a read fault fails gets and iterators; counts run out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "../unit_tmpdir.h"

static char tmpdir[256];
static store *S;

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "fault"));
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "%s", err ? err : "?");
}

static void teardown(void) {
    store_close(S);
    unit_tmpdir_remove(tmpdir);
}

TestSuite(fault, .init = setup, .fini = teardown);

static int has(store_txn *t, const char *k) {
    store_val v;
    int r = store_get(t, STORE_CF_DATA, k, strlen(k), &v, NULL);
    store_val_free(&v);
    return r;
}

Test(fault, write_fault_writes_nothing_and_runs_out) {
    store_txn *t = store_txn_new(S);
    store_fault_set(S, STORE_FAULT_WRITE, EIO, 1);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    store_put(t, STORE_CF_META, "m", 1, "1", 1);
    char *err = NULL;
    cr_assert_eq(store_commit(t, &err), -1);
    cr_assert(err && strstr(err, "commit: IO error: injected fault") && strstr(err, "(EIO)"), "%s", err);
    free(err);
    cr_assert_eq(store_txn_count(t), 0, "the failed batch is dropped");
    cr_assert_eq(has(t, "a"), 0);
    cr_assert_eq(store_unflushed(S), 0);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0, "the fault was for one commit");
    cr_assert_eq(has(t, "a"), 1);
    cr_assert_eq(store_fault_hits(S), 1);
    store_txn_free(t);
}

Test(fault, sync_fault_keeps_the_wal_buffer) {
    store_txn *t = store_txn_new(S);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    uint64_t n = store_unflushed(S);
    cr_assert_gt(n, 0);
    store_fault_set(S, STORE_FAULT_SYNC, ENOSPC, -1);
    for (int i = 0; i < 3; i++) {
        char *err = NULL;
        cr_assert_eq(store_flush_wal(S, 1, &err), -1);
        cr_assert(err && strstr(err, "ENOSPC"), "%s", err);
        free(err);
        cr_assert_eq(store_unflushed(S), n, "the failed flush keeps what is to flush");
    }
    store_fault_set(S, STORE_FAULT_SYNC, 0, 0);
    cr_assert_eq(store_flush_wal(S, 1, NULL), 0);
    cr_assert_eq(store_unflushed(S), 0);
    store_txn_free(t);
}

Test(fault, read_fault_fails_gets_and_iterators) {
    store_txn *t = store_txn_new(S);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_fault_set(S, STORE_FAULT_READ, EIO, 2);
    store_val v;
    char *err = NULL;
    cr_assert_eq(store_get(t, STORE_CF_DATA, "a", 1, &v, &err), -1);
    cr_assert(err && strstr(err, "get: IO error"), "%s", err);
    free(err);
    store_iter *it = store_iter_new(t, STORE_CF_DATA, "", 0, NULL, 0);
    err = NULL;
    cr_assert_eq(store_iter_error(it, &err), -1);
    free(err);
    store_iter_free(it);
    cr_assert_eq(has(t, "a"), 1, "two reads were armed, the third works");
    store_txn_free(t);
}

static char *val_of(store_txn *t, int cf, const char *k) {
    store_val v;
    if (store_get(t, cf, k, strlen(k), &v, NULL) != 1) return NULL;
    char *s = malloc(v.len + 1);
    memcpy(s, v.ptr, v.len);
    s[v.len] = 0;
    store_val_free(&v);
    return s;
}

Test(fault, undo_puts_back_unflushed_commits) {
    store_set_undo(S, 1);
    store_txn *t = store_txn_new(S);
    store_put(t, STORE_CF_DATA, "a", 1, "1", 1);
    store_put(t, STORE_CF_DATA, "b", 1, "2", 1);
    for (int i = 0; i < 5; i++) {
        char k[8];
        snprintf(k, sizeof k, "r%d", i);
        store_put(t, STORE_CF_DATA, k, 2, "x", 1);
    }
    store_put(t, STORE_CF_META, "m", 1, "old", 3);
    cr_assert_eq(store_commit(t, NULL), 0);
    cr_assert_eq(store_flush_wal(S, 1, NULL), 0);
    store_undo_forget(S);
    /* two commits that are not flushed: overwrite, delete, add, range */
    store_put(t, STORE_CF_DATA, "a", 1, "changed", 7);
    store_del(t, STORE_CF_DATA, "b", 1);
    store_put(t, STORE_CF_META, "m", 1, "new", 3);
    cr_assert_eq(store_commit(t, NULL), 0);
    store_put(t, STORE_CF_DATA, "c", 1, "3", 1);
    store_del_range(t, STORE_CF_DATA, "r", 1, "s", 1);
    store_put(t, STORE_CF_DATA, "r2", 2, "y", 1);
    cr_assert_eq(store_commit(t, NULL), 0);
    cr_assert_eq(store_compact_range(S, STORE_CF_DATA, "a", 1, "b", 1, NULL), 0);
    cr_assert_null(val_of(t, STORE_CF_DATA, "a"));
    char *err = NULL;
    cr_assert_eq(store_undo_unflushed(S, &err), 0, "%s", err ? err : "");
    char *v;
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "a")), "1"); free(v);
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "b")), "2"); free(v);
    cr_assert_null(val_of(t, STORE_CF_DATA, "c"));
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "r2")), "x"); free(v);
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "r4")), "x"); free(v);
    cr_assert_str_eq((v = val_of(t, STORE_CF_META, "m")), "old"); free(v);
    /* after a reopen (the undo batch and the commits replayed together) */
    cr_assert_eq(store_flush_wal(S, 1, NULL), 0);
    store_undo_forget(S);
    store_txn_free(t);
    store_close(S);
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    cr_assert_eq(store_open(&S, &o, NULL), 0);
    t = store_txn_new(S);
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "a")), "1"); free(v);
    cr_assert_null(val_of(t, STORE_CF_DATA, "c"));
    cr_assert_str_eq((v = val_of(t, STORE_CF_DATA, "r3")), "x"); free(v);
    store_txn_free(t);
}

Test(fault, undo_refuses_when_off_or_overflowing) {
    char *err = NULL;
    cr_assert_eq(store_undo_unflushed(S, &err), -1);
    free(err);
    store_set_undo(S, 1);
    cr_assert_eq(store_undo_unflushed(S, NULL), 0, "nothing logged: nothing to do");
}
