#ifndef STAGEKV_CMD_KV_H
#define STAGEKV_CMD_KV_H

#include "commands.h"

extern const cmd_family kv_family;

#endif
