/* (being written) */
#include "domain.h"

const cmd_def cmd_msg_table[] = {
    CMD_TABLE_END,
};
