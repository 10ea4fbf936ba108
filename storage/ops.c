/* Operations outside a transaction (store.h): properties, checkpoints,
 * and range deletions compacted away by a worker thread the store owns
 * (started by the first store_compact_range, stopped by store_close). */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static void job_free(compact_job *j) {
    free(j->start);
    free(j->end);
    free(j);
}

char *store_property(store *s, int cf, const char *name) {
    return rocksdb_property_value_cf(s->db, s->cf[cf], name);
}

int store_property_int(store *s, int cf, const char *name, uint64_t *out) {
    return rocksdb_property_int_cf(s->db, s->cf[cf], name, out) == 0 ? 0 : -1;
}

int store_checkpoint(store *s, const char *path, char **err) {
    /* push buffered WAL first so the copied WAL has every commit */
    if (store_flush_wal(s, 0, err)) return -1;
    char *rerr = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(s->db, &rerr);
    if (rerr) {
        store_set_err(err, "checkpoint", rerr);
        return -1;
    }
    rocksdb_checkpoint_create(cp, path, 0, &rerr); /* 0: flush memtables first */
    rocksdb_checkpoint_object_destroy(cp);
    if (rerr) {
        store_set_err(err, "checkpoint", rerr);
        return -1;
    }
    return 0;
}

static void *compact_worker(void *arg) {
    store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stopping && !s->jobs_head) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stopping) break;
        compact_job *j = s->jobs_head;
        s->jobs_head = j->next;
        if (!s->jobs_head) s->jobs_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        rocksdb_compact_range_cf(s->db, s->cf[j->cf], j->start, j->sl, j->end, j->el);
        job_free(j);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int store_compact_range(store *s, int cf, const char *start, size_t sl,
                        const char *end, size_t el, char **err) {
    char *to_end = NULL;
    assert(!s->wtxn); /* the caller took the group in flight's result */
    if (!end || !el) { /* to the end of the column family */
        el = store_cf_end_key(s, NULL, cf, start, sl, &to_end);
        if (!el) return 0; /* nothing there */
        end = to_end;
    }
    if (enc_bytes_cmp(start, sl, end, el) >= 0) {
        free(to_end);
        return 0;
    }
    if (store_fault_fires(s, STORE_FAULT_WRITE, "compact_range", err)) {
        free(to_end);
        return -1;
    }
    char *rerr = NULL;
    if (store_range_by_keys(s, cf, sl)) {
        store_txn *t = store_txn_new(s);
        if (!t) {
            free(to_end);
            if (err) *err = strdup("compact_range: out of memory");
            return -1;
        }
        store_del_range(t, cf, start, sl, end, el);
        int r = store_commit(t, err);
        store_txn_free(t);
        if (r < 0) {
            free(to_end);
            return -1;
        }
    } else {
        store_undo_begin(s);
        store_prefetch_drop(s);
        rocksdb_delete_range_cf(s->db, s->wo, s->cf[cf], start, sl, end, el, &rerr);
        if (rerr) {
            free(to_end);
            store_set_err(err, "compact_range", rerr);
            return -1;
        }
        store_undo_log_range(s, cf, start, sl, end, el);
        store_caches_clear_cf(s, cf);
        atomic_fetch_add_explicit(&s->unflushed, sl + el + 16, memory_order_relaxed);
        if (s->touch_fn && cf == STORE_CF_DATA) s->touch_fn(s->touch_arg, start, sl, end, el);
    }

    compact_job *j = calloc(1, sizeof *j);
    if (!j) { /* deleted; the compaction is only an optimisation */
        free(to_end);
        return 0;
    }
    j->cf = cf;
    j->sl = sl;
    j->el = el;
    j->start = malloc(sl ? sl : 1);
    j->end = malloc(el);
    if (!j->start || !j->end) {
        job_free(j);
        free(to_end);
        return 0;
    }
    if (sl) memcpy(j->start, start, sl);
    memcpy(j->end, end, el);
    free(to_end);
    pthread_mutex_lock(&s->mu);
    if (!s->worker_started && !s->stopping) {
        if (pthread_create(&s->worker, NULL, compact_worker, s) == 0) s->worker_started = 1;
    }
    if (!s->worker_started) {
        pthread_mutex_unlock(&s->mu);
        job_free(j);
        return 0;
    }
    if (s->jobs_tail) s->jobs_tail->next = j;
    else s->jobs_head = j;
    s->jobs_tail = j;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void store_compact_all(store *s, int cf) {
    store_async_settle(s);
    rocksdb_compact_range_cf(s->db, s->cf[cf], NULL, 0, NULL, 0);
}

void store_stop_worker(store *s) {
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    compact_job *j = s->jobs_head;
    s->jobs_head = s->jobs_tail = NULL;
    pthread_cond_broadcast(&s->cv);
    int started = s->worker_started;
    s->worker_started = 0;
    pthread_mutex_unlock(&s->mu);
    while (j) {
        compact_job *n = j->next;
        job_free(j);
        j = n;
    }
    if (started) {
        /* make a running CompactRange return early */
        if (s->db) rocksdb_disable_manual_compaction(s->db);
        pthread_join(s->worker, NULL);
    }
}
