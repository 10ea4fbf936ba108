/* SLOWLOG's ring of the slowest commands, filled by dispatch (slowlog.c). */
#ifndef STAGEKV_SLOWLOG_H
#define STAGEKV_SLOWLOG_H

#include <stdint.h>

#include "commands.h"

void slowlog_push(client *c, uint64_t usec);
void slowlog_free(server *s);
/* SLOWLOG GET [count] | LEN | RESET | HELP: the subcommand rows' handlers
 * (rows in redis/cmd_admin.c). */
int slowlog_get_command(client *c);
int slowlog_len_command(client *c);
int slowlog_reset_command(client *c);
int slowlog_help_command(client *c);

#endif
