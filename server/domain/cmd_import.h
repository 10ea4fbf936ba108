/* IMPORT.* (stagekv-import --from hosted, docs/migration.md). */
#ifndef STAGEKV_CMD_IMPORT_H
#define STAGEKV_CMD_IMPORT_H

#include "commands.h"

extern const cmd_family import_family;

#endif
