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

/* Assertions on one command's reply; each frees the reply. */
void expect_status(redisReply *r, const char *s);
void expect_int(redisReply *r, long long v);
void expect_bulk(redisReply *r, const char *s);
void expect_nil(redisReply *r);
/* Error reply whose text starts with prefix. */
void expect_error(redisReply *r, const char *prefix);

/* Raw TCP: connect, send bytes, read what arrives within timeout_ms (until
 * the peer closes or nothing more comes). Returns a malloc()ed NUL-terminated
 * buffer and sets *closed when the server closed the connection. */
int raw_connect(int port);
char *raw_roundtrip(int fd, const void *buf, size_t len, int timeout_ms, size_t *outlen, int *closed);

/* Runs a shell command, returns its exit status; output captured into a
 * malloc()ed string if out is not NULL. */
int run_cmd(const char *cmd, char **out);

#endif
