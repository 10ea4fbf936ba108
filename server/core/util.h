/* Argument helpers: case-insensitive compare, numbers, glob, the option cursor. */
#ifndef STAGEKV_UTIL_H
#define STAGEKV_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "resp.h"

typedef struct client client;

/* ---- argument helpers (util.c) ------------------------------------------ */
int arg_eq(const resp_slice *a, const char *s);       /* case-insensitive */
int parse_ld(const char *p, size_t n, long double *out);
/* Parse an integer argument or reply "value is not an integer or out of range". */
int arg_ll_or_reply(client *c, const resp_slice *a, int64_t *out);
int ll_to_str(char *buf, int64_t v); /* returns length; buf >= 21 bytes */
int glob_match(const char *pat, size_t pl, const char *s, size_t sl, int nocase);

/* Option cursor: walks optional arguments after the fixed ones. */
typedef struct opt_cursor {
    client *c;
    int i;
} opt_cursor;
int opt_more(opt_cursor *o);
int opt_is(opt_cursor *o, const char *name);   /* consumes on match */
/* Consumes the next argument as the value of the option just matched;
 * replies a syntax error and returns -1 when missing. */
int opt_value(opt_cursor *o, resp_slice *out);
int opt_ll(opt_cursor *o, int64_t *out);       /* value as integer, replies on error */

#endif
