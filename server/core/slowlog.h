/* SLOWLOG's ring of the slowest commands, filled by dispatch (slowlog.c). */
#ifndef STAGEKV_SLOWLOG_H
#define STAGEKV_SLOWLOG_H

#include <stdint.h>

#include "commands.h"

void slowlog_push(client *c, uint64_t usec);
void slowlog_free(server *s);
/* SLOWLOG GET|LEN|RESET|HELP */
int slowlog_command(client *c);

#endif
