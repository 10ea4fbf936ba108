/* (being written) */
#include "domain.h"

const cmd_def cmd_payment_table[] = {
    CMD_TABLE_END,
};
