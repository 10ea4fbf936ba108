/* (being written) */
#include "domain.h"

const cmd_def cmd_user_table[] = {
    CMD_TABLE_END,
};
