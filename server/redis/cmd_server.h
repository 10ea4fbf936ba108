#ifndef STAGEKV_CMD_SERVER_H
#define STAGEKV_CMD_SERVER_H

#include "commands.h"

extern const cmd_family server_family;

#endif
