#ifndef STAGEKV_CMD_CLIENT_H
#define STAGEKV_CMD_CLIENT_H

#include "commands.h"

extern const cmd_family client_family;

#endif
