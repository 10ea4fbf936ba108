#ifndef STAGEKV_CMD_DOMAIN_H
#define STAGEKV_CMD_DOMAIN_H

#include "commands.h"

/* DOMAIN.CHECK, DOMAIN.REBUILD (rebuild.h). */
extern const cmd_family domain_admin_family;

#endif
