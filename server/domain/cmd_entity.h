#ifndef STAGEKV_CMD_ENTITY_H
#define STAGEKV_CMD_ENTITY_H

#include "commands.h"

extern const cmd_family entity_family;

#endif
