#ifndef STAGEKV_CMD_KEYS_H
#define STAGEKV_CMD_KEYS_H

#include "commands.h"

extern const cmd_family keys_family;
/* cursor [MATCH pattern] [COUNT count] [TYPE type] from argv[at] (SCAN;
 * the xSCAN commands pass type NULL: no TYPE). Replies the error itself. */
int scan_args(client *c, int at, int64_t *cur, resp_slice *pat, int64_t *count, resp_slice *type);

#endif
