/* (being written) */
#include "domain.h"

const cmd_def cmd_userdel_table[] = {
    CMD_TABLE_END,
};
