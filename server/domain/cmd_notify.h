#ifndef STAGEKV_CMD_NOTIFY_H
#define STAGEKV_CMD_NOTIFY_H

#include "commands.h"

extern const cmd_family notify_family;

#endif
