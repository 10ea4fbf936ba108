/* (being written) */
#include "domain.h"

const cmd_def cmd_notify_table[] = {
    CMD_TABLE_END,
};
