/* (being written) */
#include "domain.h"

const cmd_def cmd_email_table[] = {
    CMD_TABLE_END,
};
