/* How a call below the handlers says why it failed.
 *
 * The keyspace, the domain engine and the models never write replies: a
 * failing call returns -1 and leaves a status in the context it was given
 * (keyspace.err), the way hiredis keeps err/errstr in its context. Handlers
 * and dispatch turn it into the error reply (reply_fail). The message is
 * the whole error line without the leading '-', code word first, as SPEC §4
 * gives them: "INVALID amount '-1' ...", "ERR storage error: ...".
 */
#ifndef STAGEKV_STATUS_H
#define STAGEKV_STATUS_H

enum st_code {
    ST_OK = 0,
    ST_ERR,                /* -ERR: generic, Redis's texts */
    ST_WRONGTYPE,
    ST_NOMEM,
    ST_STORAGE,            /* RocksDB failed: "ERR storage error: ..." */
    ST_INVALID,
    ST_NOTFOUND,
    ST_INSUFFICIENT_FUNDS,
    ST_CONFLICT,
};

typedef struct status {
    int code;
    char msg[512];
} status;

/* Sets the status: msg = code word, ' ', the formatted text (ST_ERR and
 * ST_STORAGE use the word "ERR"). Returns -1 so that callers can write
 * `return st_fail(...)`. */
int st_fail(status *st, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ST_STORAGE from a RocksDB error string, which it frees. Returns -1. */
int st_storage(status *st, char *err);
static inline void st_clear(status *st) { st->code = ST_OK; st->msg[0] = 0; }
static inline int st_failed(const status *st) { return st->code != ST_OK; }

#endif
