#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static const char *word(int code) {
    switch (code) {
    case ST_WRONGTYPE: return "WRONGTYPE";
    case ST_INVALID: return "INVALID";
    case ST_NOTFOUND: return "NOTFOUND";
    case ST_INSUFFICIENT_FUNDS: return "INSUFFICIENT_FUNDS";
    case ST_CONFLICT: return "CONFLICT";
    default: return "ERR";
    }
}

int st_fail(status *st, int code, const char *fmt, ...) {
    int n = snprintf(st->msg, sizeof st->msg, "%s ", word(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg + n, sizeof st->msg - (size_t)n, fmt, ap);
    va_end(ap);
    st->code = code == ST_OK ? ST_ERR : code;
    return -1;
}

int st_storage(status *st, char *err) {
    st_fail(st, ST_STORAGE, "storage error: %s", err ? err : "unknown");
    free(err);
    return -1;
}
