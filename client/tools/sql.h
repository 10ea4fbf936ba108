/* stagekv-dump --sql DIR: PostgreSQL COPY files for docs/schema.sql. */
#ifndef STAGEKV_TOOL_SQL_H
#define STAGEKV_TOOL_SQL_H

#include <hiredis/hiredis.h>
#include <stdint.h>

/* The records of a consistent dump, page by page (dump.c): fn gets whole
 * record lines. 0, or -1 after printing why. */
typedef int (*page_fn)(const char *p, size_t n, int64_t lines, void *arg);
int dump_pages(redisContext *c, const char *prefix, int batch, page_fn fn, void *arg, int64_t *total_keys);

/* Writes DIR/<table>.copy and DIR/load.sql; the exit code (0 ok, 1 failed,
 * 3 documents reported as violating the schema: DIR/report.txt). */
int sql_export(redisContext *c, const char *dir, const char *prefix);

#endif
