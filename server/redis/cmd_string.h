#ifndef STAGEKV_CMD_STRING_H
#define STAGEKV_CMD_STRING_H

#include "commands.h"

extern const cmd_family string_family;

#endif
