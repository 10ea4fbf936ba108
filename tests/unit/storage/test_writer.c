/* storage/writer.c: store_commit_async, the overlay of the batch in flight,
 * and store_async_finish's results. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "../unit_tmpdir.h"

static char tmpdir[256];
static store *S;

static void open_store(int caches) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "writer"));
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1, .writer_thread = 1};
    if (caches) {
        o.key_cache_bytes = 1u << 20;
        o.value_cache_bytes = 1u << 20;
    }
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "store_open: %s", err ? err : "?");
    store_set_undo(S, 1);
}

static void with_caches(void) { open_store(1); }
static void without_caches(void) { open_store(0); }

static void teardown(void) {
    store_close(S);
    S = NULL;
    unit_tmpdir_remove(tmpdir);
}

static void put_s(store_txn *t, int cf, const char *k, const char *v) { store_put(t, cf, k, strlen(k), v, strlen(v)); }

static int get_is(store_txn *t, int cf, const char *k, const char *want) {
    store_val v;
    char *err = NULL;
    int r = store_get(t, cf, k, strlen(k), &v, &err);
    cr_assert_geq(r, 0, "get %s: %s", k, err ? err : "?");
    if (r == 0) return 0;
    int same = want && v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
    cr_expect(same, "%s is %.*s, want %s", k, (int)v.len, v.ptr, want ? want : "(absent)");
    store_val_free(&v);
    return 1;
}

static int async(store_txn *t, int sync) {
    char *err = NULL;
    int r = store_commit_async(t, sync, &err);
    cr_assert_geq(r, 0, "commit_async: %s", err ? err : "?");
    return r;
}

static int finish(char **err) {
    *err = NULL;
    return store_async_finish(S, err);
}

/* Reads of the next txn see the batch in flight: puts, deletes, values
 * with and without the caches' records, other column families. */
static void reads_through(void) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "gone", "x");
    put_s(t, STORE_CF_DATA, "old", "1");
    cr_assert_eq(store_commit(t, NULL), 0);
    char big[9000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    put_s(t, STORE_CF_DATA, "old", "2");
    put_s(t, STORE_CF_DATA, "new", "3");
    put_s(t, STORE_CF_DATA, "big", big);
    put_s(t, STORE_CF_META, "m", "4");
    put_s(t, STORE_CF_ELEM, "e", "5");
    store_del(t, STORE_CF_DATA, "gone", 4);
    cr_assert_eq(async(t, 0), 1);
    cr_assert(store_async_pending(S));
    cr_assert_eq(store_txn_count(t), 0, "t is empty after the hand-over");
    /* the next batch, before the writer is done or after: the same view */
    cr_expect(get_is(t, STORE_CF_DATA, "old", "2"));
    cr_expect(get_is(t, STORE_CF_DATA, "new", "3"));
    cr_expect(get_is(t, STORE_CF_DATA, "big", big));
    cr_expect(get_is(t, STORE_CF_META, "m", "4"));
    cr_expect(get_is(t, STORE_CF_ELEM, "e", "5"));
    cr_expect_not(get_is(t, STORE_CF_DATA, "gone", NULL));
    cr_expect_eq(store_exists(t, STORE_CF_DATA, "new", 3, NULL), 1);
    cr_expect_eq(store_exists(t, STORE_CF_DATA, "gone", 4, NULL), 0);
    /* its own writes come first */
    put_s(t, STORE_CF_DATA, "old", "own");
    cr_expect(get_is(t, STORE_CF_DATA, "old", "own"));
    /* an iterator waits for the writer and sees the batch */
    store_iter *it = store_iter_new(t, STORE_CF_DATA, "n", 1, "o", 1);
    store_iter_seek(it, "n", 1);
    cr_assert(store_iter_valid(it));
    size_t kl;
    const char *k = store_iter_key(it, &kl);
    cr_expect(kl == 3 && memcmp(k, "new", 3) == 0);
    store_iter_free(it);
    char *err;
    cr_expect_eq(finish(&err), 0, "%s", err ? err : "");
    cr_expect_not(store_async_pending(S));
    cr_expect(get_is(t, STORE_CF_DATA, "new", "3"));
    cr_expect(get_is(t, STORE_CF_DATA, "old", "own"));
    store_txn_clear(t);
    cr_expect(get_is(t, STORE_CF_DATA, "old", "2"));
    store_txn_free(t);
}

Test(writer, reads_through_the_batch_with_caches, .init = with_caches, .fini = teardown) { reads_through(); }
Test(writer, reads_through_the_batch_without_caches, .init = without_caches, .fini = teardown) { reads_through(); }

/* A batch with a range deletion, or nothing, commits on the caller's
 * thread (0); one already taken leaves nothing pending. */
Test(writer, ranges_and_empty_batches_commit_here, .init = with_caches, .fini = teardown) {
    store_txn *t = store_txn_new(S);
    cr_expect_eq(async(t, 0), 0);
    put_s(t, STORE_CF_DATA, "a1", "x");
    put_s(t, STORE_CF_DATA, "a2", "y");
    cr_assert_eq(store_commit(t, NULL), 0);
    store_del_range(t, STORE_CF_DATA, "a", 1, "b", 1);
    cr_expect_eq(async(t, 0), 0);
    cr_expect_not(store_async_pending(S));
    cr_expect_not(get_is(t, STORE_CF_DATA, "a1", NULL));
    char *err;
    cr_expect_eq(finish(&err), 0);
    store_txn_free(t);
}

/* While a batch is in flight, a plain commit is refused, not interleaved
 * with it (the undo of unflushed commits covers one batch at a time). */
Test(writer, plain_commit_refused_while_in_flight, .init = with_caches, .fini = teardown) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "a", "1");
    cr_assert_eq(async(t, 0), 1);
    put_s(t, STORE_CF_DATA, "b", "2");
    char *err = NULL;
    cr_expect_eq(store_commit(t, &err), -1);
    cr_expect(err && strstr(err, "writer thread"), "%s", err ? err : "");
    free(err);
    cr_expect_eq(finish(&err), 0);
    cr_expect(get_is(t, STORE_CF_DATA, "a", "1"));
    cr_expect_not(get_is(t, STORE_CF_DATA, "b", NULL));
    store_txn_free(t);
}

/* The batch write fails (-1): nothing of it is readable afterwards, not
 * even from the caches that took it at the hand-over. */
Test(writer, failed_write_leaves_nothing, .init = with_caches, .fini = teardown) {
    store_txn *t = store_txn_new(S);
    put_s(t, STORE_CF_DATA, "k", "old");
    cr_assert_eq(store_commit(t, NULL), 0);
    cr_assert_eq(store_flush_wal(S, 0, NULL), 0);
    store_undo_forget(S);
    store_fault_set(S, STORE_FAULT_WRITE, EIO, 1);
    put_s(t, STORE_CF_DATA, "k", "new");
    char *err = NULL;
    cr_expect_eq(store_commit_async(t, 0, &err), -1, "the fault fires at the hand-over");
    free(err);
    /* a fault in the writer itself: the WAL flush */
    store_fault_set(S, STORE_FAULT_SYNC, EIO, 1);
    put_s(t, STORE_CF_DATA, "k", "newer");
    cr_assert_eq(async(t, 1), 1);
    cr_expect(get_is(t, STORE_CF_DATA, "k", "newer"), "readers see it until its result is taken");
    cr_expect_eq(finish(&err), -2);
    cr_expect(err && strstr(err, "EIO"), "%s", err ? err : "");
    free(err);
    /* as the server does after a failed WAL flush: put back */
    cr_expect_eq(store_undo_unflushed(S, &err), 0, "%s", err ? err : "");
    cr_expect(get_is(t, STORE_CF_DATA, "k", "old"));
    store_txn_free(t);
}

/* Closing with a batch in flight writes it first. */
Test(writer, close_waits_for_the_batch, .init = with_caches, .fini = teardown) {
    store_txn *t = store_txn_new(S);
    for (int i = 0; i < 500; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%03d", i);
        put_s(t, STORE_CF_DATA, k, "v");
    }
    cr_assert_eq(async(t, 0), 1);
    store_txn_free(t);
    store_close(S);
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1, .writer_thread = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "%s", err ? err : "");
    t = store_txn_new(S);
    cr_expect(get_is(t, STORE_CF_DATA, "k499", "v"));
    store_txn_free(t);
}
