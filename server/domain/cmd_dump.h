#ifndef STAGEKV_CMD_DUMP_H
#define STAGEKV_CMD_DUMP_H

#include "commands.h"

struct dom_engine;

/* DUMP.BEGIN, DUMP.SCAN, DUMP.END, DUMP.RESTORE (dump.h: the format). */
extern const cmd_family dump_family;
/* Releases every open dump cursor (the engine's free, before the store closes). */
void dump_cursors_free(struct dom_engine *e);

#endif
