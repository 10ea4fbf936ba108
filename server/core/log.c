/* Logging: Redis-like levels, to stderr or the logfile option. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <execinfo.h>
#include <signal.h>

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

#if !defined(__SANITIZE_ADDRESS__)
/* A fatal signal leaves a trace in the log (as Redis's bug report does),
 * then takes its default action (core dump, exit status). Only
 * async-signal-safe calls: write(2) and backtrace_symbols_fd. */
static void on_fatal(int sig) {
    int fd = log_fp ? fileno(log_fp) : STDERR_FILENO;
    static const char head[] = "# stagekv crashed by signal ";
    char num[4] = {(char)('0' + sig / 10 % 10), (char)('0' + sig % 10), '\n', 0};
    if (write(fd, head, sizeof head - 1) < 0 || write(fd, num, 3) < 0) { /* nothing more to do */ }
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, fd);
    signal(sig, SIG_DFL);
    raise(sig);
}

#endif

void server_log_crashes(void) {
#if !defined(__SANITIZE_ADDRESS__)
    void *warm[1];
    backtrace(warm, 1); /* loads libgcc now, not inside the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
#endif
}
