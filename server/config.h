/* Configuration table access (the struct lives in server.h). */
#ifndef STAGEKV_CONFIG_H
#define STAGEKV_CONFIG_H

#include <stddef.h>

struct config;
/* Sets an option by name from text. runtime = CONFIG SET (immutable
 * options refused). 0 ok; -1 with a message in err. */
int config_set(struct config *c, const char *name, const char *val, int runtime, char *err, size_t cap);
/* Calls fn for every option whose name matches the glob pattern. */
void config_each(const struct config *c, const char *pat, size_t pl,
                 void (*fn)(void *arg, const char *name, const char *value), void *arg);
void server_log_level(int level);

#endif
