/* (being written) */
#include "domain.h"

const cmd_def cmd_coins_table[] = {
    CMD_TABLE_END,
};
