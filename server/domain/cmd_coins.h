#ifndef STAGEKV_CMD_COINS_H
#define STAGEKV_CMD_COINS_H

#include "commands.h"

extern const cmd_family coins_family;

#endif
