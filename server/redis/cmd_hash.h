#ifndef STAGEKV_CMD_HASH_H
#define STAGEKV_CMD_HASH_H

#include "commands.h"

extern const cmd_family hash_family;

#endif
