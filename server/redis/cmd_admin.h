#ifndef STAGEKV_CMD_ADMIN_H
#define STAGEKV_CMD_ADMIN_H

#include "commands.h"

extern const cmd_family admin_family;

#endif
