#ifndef STAGEKV_CMD_EXPIRE_H
#define STAGEKV_CMD_EXPIRE_H

#include "commands.h"

extern const cmd_family expire_family;

#endif
