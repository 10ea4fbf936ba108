/* What stagekv-dump and stagekv-restore share: redis-cli's connection
 * flags, the connection, progress on a terminal, the record checksum of
 * the dump format (server/domain/dump.h describes the format). */
#ifndef STAGEKV_TOOL_H
#define STAGEKV_TOOL_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define DUMP_FORMAT "stagekv-dump"
#define DUMP_VERSION 1

typedef struct tool_opts {
    const char *host;
    int port;
    const char *password;
} tool_opts;

/* -h host, -p port, -a password at argv[*i]: 1 taken (*i moved past the
 * value), 0 not one of them, -1 a missing or bad value (printed). */
int tool_conn_arg(tool_opts *o, int argc, char **argv, int *i, const char *prog);
/* Connects (and AUTHs); NULL after printing why. */
redisContext *tool_connect(const tool_opts *o, const char *prog);
/* A reply of cmd that is not an error, or NULL after printing it. */
redisReply *tool_cmd(redisContext *c, const char *prog, const char *fmt, ...);

/* FNV-1a 32 bits: the "c" of a record is this hash of the line's bytes
 * before `,"c":` (must match server/domain/dump.c). */
uint32_t tool_fnv(const char *p, size_t n);
double tool_now(void); /* seconds, monotonic */

/* Progress on stderr, only when stderr is a terminal: items, bytes, rate,
 * ETA (from done/total of whatever unit total counts; total 0: no ETA). */
typedef struct progress {
    int on;
    double t0, last;
    const char *what;
} progress;
void progress_init(progress *p, const char *what);
void progress_show(progress *p, int64_t items, int64_t bytes, int64_t done, int64_t total, int force);
void progress_end(progress *p, int64_t items, int64_t bytes);

#endif
