#ifndef STAGEKV_CMD_KEYS_H
#define STAGEKV_CMD_KEYS_H

#include "commands.h"

extern const cmd_family keys_family;

#endif
