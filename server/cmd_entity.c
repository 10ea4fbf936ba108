/* (being written) */
#include "domain.h"

const cmd_def cmd_entity_table[] = {
    CMD_TABLE_END,
};
