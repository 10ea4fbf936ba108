#ifndef STAGEKV_CMD_USERDEL_H
#define STAGEKV_CMD_USERDEL_H

#include "commands.h"

extern const cmd_family userdel_family;

#endif
