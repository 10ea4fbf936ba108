/* Logging: Redis-like levels, to stderr or the logfile option. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>

#include "log.h"

static int log_level = LL_NOTICE;
static FILE *log_fp;

void server_log_level(int level) { log_level = level; }

void server_log_open(const config *cfg) {
    log_level = cfg->loglevel;
    if (cfg->logfile && cfg->logfile[0]) {
        log_fp = fopen(cfg->logfile, "a");
        if (!log_fp) fprintf(stderr, "cannot open logfile '%s': %s\n", cfg->logfile, strerror(errno));
    }
}

void server_log(int level, const char *fmt, ...) {
    if (level < log_level) return;
    FILE *f = log_fp ? log_fp : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    strftime(ts, sizeof ts, "%d %b %Y %H:%M:%S", &tm);
    fprintf(f, "%d:M %s.%03d %c ", (int)getpid(), ts, (int)(tv.tv_usec / 1000), ".-*#"[level & 3]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}
