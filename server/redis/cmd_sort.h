#ifndef STAGEKV_CMD_SORT_H
#define STAGEKV_CMD_SORT_H

#include "commands.h"

extern const cmd_family sort_family;

#endif
