#ifndef STAGEKV_CMD_MSG_H
#define STAGEKV_CMD_MSG_H

#include "commands.h"

extern const cmd_family msg_family;

#endif
