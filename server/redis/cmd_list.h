#ifndef STAGEKV_CMD_LIST_H
#define STAGEKV_CMD_LIST_H

#include "commands.h"

extern const cmd_family list_family;

#endif
