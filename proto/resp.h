/* RESP2 request parser and reply writer.
 *
 * Pure and I/O-free: bytes in, argument slices out. The parser is a
 * resumable state machine over the caller's buffer: the caller passes the
 * unconsumed bytes of its input buffer, starting at the first byte of the
 * pending request, every time; the parser remembers how far it got (as
 * offsets, so the caller may grow or move its buffer between calls, as long
 * as the pending request's bytes keep their offsets from the start).
 *
 * Limits are fields, set after resp_parser_init. No globals; one allocation
 * for the argv array, grown on demand and reused for every request.
 */
#ifndef STAGEKV_RESP_H
#define STAGEKV_RESP_H

#include <stddef.h>
#include <stdint.h>

/* A view of bytes owned by someone else. */
typedef struct resp_slice {
    const char *ptr;
    size_t len;
} resp_slice;

typedef enum resp_status {
    RESP_OK = 0,    /* one request complete: argv/argc set, *consumed bytes */
    RESP_AGAIN = 1, /* incomplete: call again with more bytes */
    RESP_ERROR = 2, /* protocol error: resp_parser_error() says which */
} resp_status;

typedef enum resp_error {
    RESP_ERR_NONE = 0,
    RESP_ERR_MULTIBULK_LEN,   /* invalid multibulk length */
    RESP_ERR_BULK_LEN,        /* invalid bulk length */
    RESP_ERR_EXPECTED_DOLLAR, /* expected '$', got 'x' */
    RESP_ERR_INLINE_TOO_BIG,  /* too big inline request */
    RESP_ERR_MULTIBULK_TOO_BIG, /* too big mbulk count string */
    RESP_ERR_BULK_TOO_BIG_STR,  /* too big bulk count string */
    RESP_ERR_UNBALANCED_QUOTES, /* unbalanced quotes in request */
    RESP_ERR_NOMEM,
} resp_error;

typedef struct resp_parser {
    /* limits (Redis names in comments) */
    int64_t max_bulk_len;      /* proto-max-bulk-len, default 512 MB */
    int64_t max_multibulk_len; /* elements per request, default 1024*1024*1024 - 1 (INT_MAX) */
    size_t max_inline_len;     /* inline request line, default 64 KB */

    /* output of the last RESP_OK: slices into the caller's buffer */
    resp_slice *argv;
    int argc;

    /* private state */
    int argv_cap;
    int kind;           /* 0 = unknown, '*' multibulk, 'i' inline */
    int64_t mb_left;    /* bulks still to read */
    int64_t bulk_len;   /* -1 while reading a bulk header */
    size_t pos;         /* bytes of the pending request parsed so far */
    size_t *offs;       /* argument offsets from the request start */
    size_t offs_cap;
    resp_error err;
    char err_byte;      /* the byte for RESP_ERR_EXPECTED_DOLLAR */
    char *inline_buf;   /* unescaped inline arguments live here */
    size_t inline_cap;
} resp_parser;

void resp_parser_init(resp_parser *p);
void resp_parser_free(resp_parser *p);
/* Forget any partial request (after an error, or on reset). */
void resp_parser_reset(resp_parser *p);

/* Parse one request from buf[0..len). On RESP_OK, p->argv[0..argc) are
 * valid until the next call, *consumed is the request's byte length; an
 * empty inline line gives RESP_OK with argc == 0 (skip it). On RESP_AGAIN
 * nothing is consumed yet; *need (if not NULL) is a hint of how many bytes
 * in total the pending request needs at least (0 if unknown), so the caller
 * can reserve room for a big bulk in one go. */
resp_status resp_parse(resp_parser *p, const char *buf, size_t len,
                       size_t *consumed, size_t *need);

resp_error resp_parser_error(const resp_parser *p);
/* Redis's exact text, without the leading '-' and trailing CRLF, e.g.
 * "ERR Protocol error: invalid bulk length". Written into out (NUL-terminated). */
void resp_error_text(const resp_parser *p, char *out, size_t cap);

/* ---- reply writer ---------------------------------------------------- */

/* Growable byte buffer, binary safe. */
typedef struct resp_buf {
    char *data;
    size_t len;
    size_t cap;
} resp_buf;

void resp_buf_init(resp_buf *b);
void resp_buf_free(resp_buf *b);
/* Make room for n more bytes; returns the write position or NULL. */
char *resp_buf_reserve(resp_buf *b, size_t n);
int resp_buf_append(resp_buf *b, const void *p, size_t n);
void resp_buf_clear(resp_buf *b); /* len = 0, keeps capacity */

/* Each returns 0, or -1 when out of memory. Error and status texts must not
 * contain CR or LF (resp_add_error replaces them with spaces). */
int resp_add_status(resp_buf *b, const char *s);            /* +s */
int resp_add_error(resp_buf *b, const char *s, size_t n);   /* -s */
int resp_add_errorf(resp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int resp_add_int(resp_buf *b, int64_t v);                   /* :v */
int resp_add_bulk(resp_buf *b, const void *p, size_t n);    /* $n p */
int resp_add_bulkstr(resp_buf *b, const char *s);
/* The one integer parser (Redis's string2ll rules: optional '-', no '+',
 * no spaces, no leading zeros, within int64). 0 ok, -1 not an integer. */
int resp_parse_ll(const char *p, size_t n, int64_t *out);

int resp_add_null(resp_buf *b);                             /* $-1 */
int resp_add_null_array(resp_buf *b);                       /* *-1 */
int resp_add_array(resp_buf *b, int64_t n);                 /* *n */
/* RESP3 push header (>n): out-of-band data such as pub/sub messages. */
int resp_add_push(resp_buf *b, int64_t n);                  /* >n */
int resp_add_double(resp_buf *b, double d);                 /* bulk, Redis %.17g style */

/* Writes at most cap-1 bytes of s into out, CR/LF replaced by spaces and
 * truncated to max bytes (with "..." when cut); for errors that echo input. */
void resp_sanitize(char *out, size_t cap, const char *s, size_t n, size_t max);

#endif
