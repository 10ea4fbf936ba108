/* (being written) */
#include "domain.h"

const cmd_def cmd_settings_table[] = {
    CMD_TABLE_END,
};
