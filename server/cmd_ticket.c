/* (being written) */
#include "domain.h"

const cmd_def cmd_ticket_table[] = {
    CMD_TABLE_END,
};
