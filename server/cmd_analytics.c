/* (being written) */
#include "domain.h"

const cmd_def cmd_analytics_table[] = {
    CMD_TABLE_END,
};
