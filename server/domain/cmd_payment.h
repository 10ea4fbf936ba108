#ifndef STAGEKV_CMD_PAYMENT_H
#define STAGEKV_CMD_PAYMENT_H

#include "commands.h"

extern const cmd_family payment_family;

#endif
