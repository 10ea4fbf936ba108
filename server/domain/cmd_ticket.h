#ifndef STAGEKV_CMD_TICKET_H
#define STAGEKV_CMD_TICKET_H

#include "commands.h"

extern const cmd_family ticket_family;

#endif
