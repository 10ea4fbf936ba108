#ifndef STAGEKV_CMD_PUBSUB_H
#define STAGEKV_CMD_PUBSUB_H

#include "commands.h"

extern const cmd_family pubsub_family;

#endif
