#ifndef STAGEKV_CMD_BITS_H
#define STAGEKV_CMD_BITS_H

#include "commands.h"

extern const cmd_family bits_family;

#endif
