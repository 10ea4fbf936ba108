#ifndef STAGEKV_CMD_SET_H
#define STAGEKV_CMD_SET_H

#include "commands.h"

extern const cmd_family set_family;

#endif
