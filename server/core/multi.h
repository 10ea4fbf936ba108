/* MULTI/EXEC/DISCARD/WATCH/UNWATCH (multi.c). */
#ifndef STAGEKV_MULTI_H
#define STAGEKV_MULTI_H

#include "commands.h"

extern const cmd_family multi_family;

void multi_queue(client *c, const cmd_def *cmd);  /* replies +QUEUED */
void multi_client_gone(client *c);                /* on close/RESET: discard, unwatch */
void multi_free(server *s);
void watch_swapdb(server *s, int a, int b);

#endif
