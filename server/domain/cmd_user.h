#ifndef STAGEKV_CMD_USER_H
#define STAGEKV_CMD_USER_H

#include "commands.h"

extern const cmd_family user_family;

#endif
