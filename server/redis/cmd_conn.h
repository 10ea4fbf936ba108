#ifndef STAGEKV_CMD_CONN_H
#define STAGEKV_CMD_CONN_H

#include "commands.h"

extern const cmd_family conn_family;

#endif
