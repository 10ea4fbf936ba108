#include <stdio.h>

#include "sql.h"

int sql_export(redisContext *c, const char *dir, const char *prefix) {
    (void)c;
    (void)prefix;
    fprintf(stderr, "stagekv-dump: --sql %s: not implemented yet\n", dir);
    return 1;
}
