/* End-to-end harness: a real stagekv-server process on a free loopback
 * port with its own temporary data dir, driven through hiredis. */
#ifndef STAGEKV_HARNESS_H
#define STAGEKV_HARNESS_H

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <sys/types.h>

typedef struct skv_server {
    pid_t pid;
    int port;
    char dir[256];     /* temp data dir, removed by skv_cleanup */
    char log[300];     /* server's stderr goes here */
    char *extra[32];   /* extra --option value arguments, kept for restarts */
    int nextra;
} skv_server;

/* Starts a server; extra is a NULL-terminated list of "--opt", "value", ...
 * (may be NULL). Waits until it answers PING. Asserts on failure. */
void skv_start(skv_server *s, const char *const *extra);
/* Restarts on the same dir and port (after skv_stop or skv_kill9). */
void skv_restart(skv_server *s);
/* SIGTERM, wait; returns the exit status (expects 0 normally). */
int skv_stop(skv_server *s);
/* SIGKILL, wait. */
void skv_kill9(skv_server *s);
/* Stops if running, removes the dir. */
void skv_cleanup(skv_server *s);

redisContext *skv_connect(const skv_server *s);
/* Runs a command (printf-style hiredis format) and asserts a reply came. */
redisReply *skv_cmd(redisContext *c, const char *fmt, ...);
redisReply *skv_cmdargv(redisContext *c, int argc, const char **argv, const size_t *lens);

/* A reply's text for messages ("" when it has none). */
static inline const char *rstr(const redisReply *r) { return r->str ? r->str : ""; }

/* ---- assertions on one reply ---------------------------------------------
 * Each is a macro that passes the test's __FILE__ and __LINE__ on, so a
 * failure names the line of the command that made it ("test_kv.c:88:
 * expected +OK, got ..."). The functions behind them (name_at) take that
 * place first; a test file's own helper passes its caller's place on. Each
 * frees the reply. */
#define SKV_AT __FILE__, __LINE__

#define expect_status(r, s) expect_status_at(SKV_AT, (r), (s))
#define expect_ok(r) expect_status_at(SKV_AT, (r), "OK")
#define expect_int(r, v) expect_int_at(SKV_AT, (r), (v))
#define expect_bulk(r, s) expect_bulk_at(SKV_AT, (r), (s))
/* A bulk of exactly these n bytes (binary-safe). */
#define expect_bulk_bin(r, p, n) expect_bulk_bin_at(SKV_AT, (r), (p), (n))
#define expect_nil(r) expect_nil_at(SKV_AT, (r))
/* An error reply whose text starts with prefix. */
#define expect_error(r, prefix) expect_error_at(SKV_AT, (r), (prefix))
/* An error reply with exactly this text. */
#define expect_error_eq(r, text) expect_error_eq_at(SKV_AT, (r), (text))
/* An array of n elements. */
#define expect_len(r, n) expect_len_at(SKV_AT, (r), (n))
/* An array of exactly the n bulk strings given, in order. */
#define expect_strs(r, n, ...) expect_strs_at(SKV_AT, (r), (n), (const char *const[]){__VA_ARGS__})
/* A new id (is_id) in a bulk reply, copied into out ("" otherwise);
 * assert_id: the same, but a failure ends the test. */
#define expect_id(r, out) expect_id_at(SKV_AT, (r), (out), 0)
#define assert_id(r, out) expect_id_at(SKV_AT, (r), (out), 1)

void expect_status_at(const char *file, int line, redisReply *r, const char *s);
void expect_int_at(const char *file, int line, redisReply *r, long long v);
void expect_bulk_at(const char *file, int line, redisReply *r, const char *s);
void expect_bulk_bin_at(const char *file, int line, redisReply *r, const char *p, size_t n);
void expect_nil_at(const char *file, int line, redisReply *r);
void expect_error_at(const char *file, int line, redisReply *r, const char *prefix);
void expect_error_eq_at(const char *file, int line, redisReply *r, const char *text);
void expect_len_at(const char *file, int line, redisReply *r, size_t n);
void expect_strs_at(const char *file, int line, redisReply *r, size_t n, const char *const *want);
void expect_id_at(const char *file, int line, redisReply *r, char out[17], int fatal);

/* ---- taking a value out of a reply (asserted; the reply is freed) -------- */

/* A bulk reply as a malloc()ed string. */
#define take_bulk(r) take_bulk_at(SKV_AT, (r))
/* A bulk reply as a malloc()ed string, NULL for nil. */
#define take_bulk_or_nil(r) take_bulk_or_nil_at(SKV_AT, (r))
/* An integer reply (-1 after a failed expectation). */
#define take_int(r) take_int_at(SKV_AT, (r))
/* An array reply, kept for inspection: free it yourself. */
#define take_array(r) take_array_at(SKV_AT, (r))

char *take_bulk_at(const char *file, int line, redisReply *r);
char *take_bulk_or_nil_at(const char *file, int line, redisReply *r);
long long take_int_at(const char *file, int line, redisReply *r);
redisReply *take_array_at(const char *file, int line, redisReply *r);

/* ---- the usual fixture: a fresh server per test, one connection -----------
 * SKV_FIXTURE(); at file scope declares the file's server srv and its
 * connection c, and the fixture functions up(), up_with(extra) (options as
 * for skv_start) and down() for .init / .fini. CMD(...) runs a command on c
 * (skv_cmd), ARRAY(...) one whose reply must be an array (take_array). */
void skv_up(skv_server *s, redisContext **c, const char *const *extra);
void skv_down(skv_server *s, redisContext **c);

#define SKV_FIXTURE()                                                              \
    static skv_server srv;                                                         \
    static redisContext *c;                                                        \
    static inline void up_with(const char *const *extra) { skv_up(&srv, &c, extra); } \
    static inline void up(void) { skv_up(&srv, &c, NULL); }                        \
    static inline void down(void) { skv_down(&srv, &c); }                          \
    _Static_assert(1, "SKV_FIXTURE")
#define CMD(...) skv_cmd(c, __VA_ARGS__)
#define ARRAY(...) take_array(CMD(__VA_ARGS__))

/* ---- small things several tests need ------------------------------------- */

/* 16 lowercase hex digits (the ids the server makes). */
int is_id(const char *s);
/* ISO-8601 UTC with milliseconds: 2026-11-25T13:35:14.123Z */
int is_iso_ms(const char *s);
/* A figure of INFO section (e.g. "wal_syncs"), asserted present. */
long long info_field(redisContext *c, const char *section, const char *name);
/* KV.COUNT prefix: the count, -1 for another reply. */
long long kv_count(redisContext *c, const char *prefix);
/* Whether s's process still runs; when it has exited, logs how and clears
 * s->pid. */
int skv_alive(skv_server *s);
long long mono_ms(void);
void msleep(long ms);

/* ---- waiting for what the server does in its own time ---------------------
 * Expiry and background work are waited for with a bounded poll, not a fixed
 * sleep: a slow (sanitizer, busy 2-core) machine only makes the wait longer,
 * and a server that never does it still fails the test after SKV_WAIT_MS. */
#define SKV_WAIT_MS 10000
/* Runs the command every 20 ms until its reply is nil; 1 when it was within
 * timeout_ms, 0 otherwise (then the caller's expectation fails). */
int skv_wait_nil(redisContext *c, long timeout_ms, const char *fmt, ...);
/* The same until the reply is the integer want. */
int skv_wait_int(redisContext *c, long long want, long timeout_ms, const char *fmt, ...);
/* Checks that must hold only while a key's TTL has not run out: since is
 * mono_ms() taken before the key was written with a TTL of ttl_ms. When the
 * reply arrived before that, it is checked as expect_bulk / expect_int;
 * later (a stalled machine), the key may be gone and only a log line says
 * so. */
#define expect_bulk_within(since, ttl_ms, r, s) expect_bulk_within_at(SKV_AT, (since), (ttl_ms), (r), (s))
#define expect_int_within(since, ttl_ms, r, v) expect_int_within_at(SKV_AT, (since), (ttl_ms), (r), (v))
void expect_bulk_within_at(const char *file, int line, long long since, long ttl_ms, redisReply *r, const char *s);
void expect_int_within_at(const char *file, int line, long long since, long ttl_ms, redisReply *r, long long v);

/* Runs SET probe 1 every 50 ms until it is accepted (the WAL recovered
 * from an injected fault); 1 when it was within ms. */
int skv_wait_writes_accepted(redisContext *c, long ms);

/* Raw TCP: connect, send bytes, read what arrives within timeout_ms (until
 * the peer closes or nothing more comes). Returns a malloc()ed NUL-terminated
 * buffer and sets *closed when the server closed the connection. */
int raw_connect(int port);
char *raw_roundtrip(int fd, const void *buf, size_t len, int timeout_ms, size_t *outlen, int *closed);

/* Runs a shell command, returns its exit status; output captured into a
 * malloc()ed string if out is not NULL. */
int run_cmd(const char *cmd, char **out);

#endif
