#ifndef STAGEKV_CMD_ACL_H
#define STAGEKV_CMD_ACL_H

#include "commands.h"

/* ACL SETUSER/GETUSER/DELUSER/LIST/USERS/WHOAMI/CAT/LOG/SAVE/LOAD/GENPASS/DRYRUN/HELP */
extern const cmd_family acl_family;

#endif
