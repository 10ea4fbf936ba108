#ifndef STAGEKV_CMD_SETTINGS_H
#define STAGEKV_CMD_SETTINGS_H

#include "commands.h"

extern const cmd_family settings_family;

#endif
