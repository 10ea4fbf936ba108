#ifndef STAGEKV_CMD_EMAIL_H
#define STAGEKV_CMD_EMAIL_H

#include "commands.h"

extern const cmd_family email_family;

#endif
