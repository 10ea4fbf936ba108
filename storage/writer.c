/* The writer thread: a group's RocksDB write (the WAL append and the
 * memtable inserts) and its WAL flush run beside the loop thread, which
 * meanwhile executes the next group.
 *
 * The next group reads through the one in flight: the caches take its
 * writes at the hand-over, and a point read of a key it wrote is answered
 * from its txn (the same records that answer a txn's reads of its own
 * writes). What cannot be answered so (an iterator, a snapshot, a value
 * the txn kept no copy of) waits for the writer instead, so nothing ever
 * reads the database half written. One group at most is in flight: its
 * result is taken (store_async_finish) before the next one is handed over.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static void *writer_main(void *arg) {
    store *s = arg;
    rocksdb_set_perf_level(1 /* kDisable: per thread, as on the loop thread */);
    pthread_mutex_lock(&s->wmu);
    for (;;) {
        while (!s->wjob && !s->wstop) pthread_cond_wait(&s->wcv, &s->wmu);
        if (!s->wjob) break; /* stopping, nothing queued */
        rocksdb_writebatch_t *wb = s->wbatch;
        int sync = s->wsync;
        pthread_mutex_unlock(&s->wmu);

        char *rerr = NULL, *err = NULL;
        int res = 0;
        size_t n;
        rocksdb_writebatch_data(wb, &n);
        rocksdb_write(s->db, s->wo, wb, &rerr);
        if (rerr) {
            store_set_err(&err, "commit", rerr);
            res = -1;
        } else {
            atomic_fetch_add_explicit(&s->unflushed, n, memory_order_relaxed);
            if (store_flush_wal(s, sync, &err) < 0) res = -2;
        }

        pthread_mutex_lock(&s->wmu);
        s->wres = res;
        s->werr = err;
        s->wjob = 0;
        s->wdone = 1;
        pthread_cond_broadcast(&s->wcv);
        void (*fn)(void *) = s->wnotify;
        void *fa = s->wnotify_arg;
        pthread_mutex_unlock(&s->wmu);
        if (fn) fn(fa);
        pthread_mutex_lock(&s->wmu);
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

int store_writer_start(store *s) {
    if (pthread_mutex_init(&s->wmu, NULL)) return -1;
    if (pthread_cond_init(&s->wcv, NULL)) {
        pthread_mutex_destroy(&s->wmu);
        return -1;
    }
    if (pthread_create(&s->wthread, NULL, writer_main, s)) {
        pthread_cond_destroy(&s->wcv);
        pthread_mutex_destroy(&s->wmu);
        return -1;
    }
    s->wthread_started = 1;
    return 0;
}

void store_writer_stop(store *s) {
    if (!s->wthread_started) return;
    if (s->wtxn) {
        char *err = NULL;
        store_async_finish(s, &err); /* its result was not taken: the WAL still has it, or never got it */
        free(err);
    }
    pthread_mutex_lock(&s->wmu);
    s->wstop = 1;
    pthread_cond_broadcast(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    pthread_join(s->wthread, NULL);
    pthread_cond_destroy(&s->wcv);
    pthread_mutex_destroy(&s->wmu);
    s->wthread_started = 0;
    store_txn_free(s->wspare);
    s->wspare = NULL;
    if (s->sorted_spare) rocksdb_writebatch_destroy(s->sorted_spare);
    s->sorted_spare = NULL;
}

void store_set_async_notify(store *s, void (*fn)(void *), void *arg) {
    assert(!s->wtxn);
    s->wnotify = fn;
    s->wnotify_arg = arg;
}

int store_commit_async(store_txn *t, int sync, char **err) {
    store *s = t->s;
    assert(!s->wtxn); /* the last group's result is taken first */
    /* Range deletions keep their place in the batch; the writer writes a
     * sorted copy (or a batch sorted already), and the overlay answers
     * point writes only. Such a group commits here, as before. */
    if (!s->wthread_started || t->oom || t->fail || store_txn_count(t) == 0 || t->nranges)
        return store_commit(t, err);
    if (!s->wspare) s->wspare = store_txn_new(s);
    if (!s->sorted_spare) s->sorted_spare = rocksdb_writebatch_create();
    if (!s->wspare || !s->sorted_spare) return store_commit(t, err);
    if (store_fault_fires(s, STORE_FAULT_WRITE, "commit", err)) {
        store_txn_clear(t); /* as a failed rocksdb_write: nothing written */
        return -1;
    }
    store_undo_begin(s);
    store_prefetch_drop(s); /* what it read is about to be old */
    rocksdb_writebatch_t *wb = store_sorted_batch(s, t->out); /* a copy: t->out stays as it is */

    /* The group moves into the spare txn object, and t takes the spare's
     * empty state: the next group's writes never touch the one in flight. */
    store_txn *f = s->wspare, tmp = *f;
    *f = *t;
    *t = tmp;
    s->wspare = NULL;
    if (wb) { /* the next group sorts into the other batch */
        s->sorted = s->sorted_spare;
        s->sorted_spare = NULL;
    } else {
        wb = f->out;
    }
    store_commit_touches(s, f); /* committed for the readers from here on */
    s->wtxn = f;
    s->wbatch = wb;
    s->wsettled = 0;
    pthread_mutex_lock(&s->wmu);
    s->wsync = sync;
    s->wres = 0;
    s->werr = NULL;
    s->wdone = 0;
    s->wjob = 1;
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    return 1;
}

int store_async_pending(const store *s) { return s->wtxn != NULL; }

uint64_t store_async_waits(const store *s) { return s->wwaits; }

int store_async_done(store *s) {
    if (!s->wtxn) return 0;
    if (s->wsettled) return 1;
    pthread_mutex_lock(&s->wmu);
    int d = s->wdone;
    pthread_mutex_unlock(&s->wmu);
    return d;
}

int store_async_settle(store *s) {
    if (!s->wtxn) return 0;
    if (!s->wsettled) {
        pthread_mutex_lock(&s->wmu);
        if (!s->wdone) s->wwaits++;
        while (!s->wdone) pthread_cond_wait(&s->wcv, &s->wmu);
        pthread_mutex_unlock(&s->wmu);
        s->wsettled = 1;
        if (s->wres != -1) {
            /* in the memtables: an undo of unflushed commits must know it */
            size_t n;
            const char *rep = rocksdb_writebatch_data(s->wbatch, &n);
            store_undo_log_rep(s, rep, n);
        } else {
            store_caches_clear(s); /* they took the group at the hand-over */
        }
    }
    return s->wres;
}

int store_async_finish(store *s, char **err) {
    if (!s->wtxn) return 0;
    int r = store_async_settle(s);
    store_txn *f = s->wtxn;
    if (s->wbatch != f->out) { /* the sorted copy, back as the spare */
        s->sorted_spare = store_batch_keep(s->wbatch);
        if (s->sorted_spare) rocksdb_writebatch_clear(s->sorted_spare);
    }
    s->wbatch = NULL;
    store_txn_clear(f);
    s->wspare = f;
    s->wtxn = NULL;
    s->wsettled = 0;
    if (r && err) *err = s->werr ? s->werr : strdup("commit: failed");
    else free(s->werr);
    s->werr = NULL;
    return r;
}

int store_inflight_get(store *s, int cf, uint64_t h, const char *k, size_t kl, store_val *v) {
    store_txn *f = s->wtxn;
    const struct wslot *w = wset_find(f, h);
    if (!w) return -2;
    int r = txn_record_value(f, w, cf, k, kl, v);
    if (r >= 0) return r;
    /* No copy kept (an element, a big value, a hash collision): the
     * database has it once the writer is done. */
    store_async_settle(s);
    return -2;
}
