#ifndef STAGEKV_CMD_ZSET_H
#define STAGEKV_CMD_ZSET_H

#include "commands.h"

extern const cmd_family zset_family;

#endif
