/* Redis-like log levels to stderr or logfile. */
#ifndef STAGEKV_LOG_H
#define STAGEKV_LOG_H

#include "config.h"

enum { LL_DEBUG = 0, LL_VERBOSE, LL_NOTICE, LL_WARNING };
void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void server_log_open(const config *cfg);
void server_log_level(int level);
/* Fatal signals log a backtrace before the default action (normal builds). */
void server_log_crashes(void);

#endif
