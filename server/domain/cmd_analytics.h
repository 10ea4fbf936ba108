#ifndef STAGEKV_CMD_ANALYTICS_H
#define STAGEKV_CMD_ANALYTICS_H

#include "commands.h"

extern const cmd_family analytics_family;

#endif
