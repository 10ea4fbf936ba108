/* RESP2 request parser and reply writer. See resp.h for the contract.
 *
 * Parser semantics follow Redis 7 (networking.c, processMultibulkBuffer and
 * processInlineBuffer; sds.c, sdssplitargs; util.c, string2ll):
 *
 *  - A request whose first byte is '*' is a multibulk request, anything else
 *    is an inline request.
 *  - Header lines ("*N", "$N") end at the first '\r'; the byte after it is
 *    required to be present but is not checked (Redis skips two bytes).
 *    While no '\r' is in sight, more than max_inline_len pending bytes of the
 *    line is an error.
 *  - Bulk data is followed by two bytes that are skipped unchecked.
 *  - Inline lines end at '\n' (an optional '\r' before it is stripped) and
 *    are split like sdssplitargs.
 *
 * Private state while a request is pending:
 *   kind      0 (nothing seen), '*' (multibulk) or 'i' (inline)
 *   pos       multibulk: offset of the next unparsed byte (start of the next
 *             header line, or of the current bulk's data when bulk_len >= 0);
 *             inline: bytes already scanned for '\n'
 *   mb_left   bulks still to read; -1 while the count line is unread
 *   bulk_len  length of the bulk being read, -1 while reading its header
 *   argc      arguments recorded so far (becomes the result on RESP_OK)
 *   offs      pairs (offset, length) per argument: offsets from the request
 *             start (multibulk) or into inline_buf (inline)
 *   err       sticky until resp_parser_reset
 */
#include "resp.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define RESP_DEFAULT_MAX_MULTIBULK ((int64_t)INT_MAX)
#define RESP_DEFAULT_MAX_INLINE ((size_t)64 * 1024)
#define RESP_INITIAL_ARGS 1024 /* cap on up-front reservation for a count */
#define RESP_LONG_STR_SIZE 21  /* Redis: longest string2ll input + 1 */

/* ---- parser ----------------------------------------------------------- */

void resp_parser_init(resp_parser *p) {
    memset(p, 0, sizeof *p);
    p->max_bulk_len = RESP_DEFAULT_MAX_BULK;
    p->max_multibulk_len = RESP_DEFAULT_MAX_MULTIBULK;
    p->max_inline_len = RESP_DEFAULT_MAX_INLINE;
    p->bulk_len = -1;
}

void resp_parser_free(resp_parser *p) {
    free(p->argv);
    free(p->offs);
    free(p->inline_buf);
    p->argv = NULL;
    p->offs = NULL;
    p->inline_buf = NULL;
    p->argv_cap = 0;
    p->offs_cap = 0;
    p->inline_cap = 0;
    resp_parser_reset(p);
}

/* Per-request state only; buffers and limits are kept. */
static void request_done(resp_parser *p) {
    p->kind = 0;
    p->mb_left = 0;
    p->bulk_len = -1;
    p->pos = 0;
}

void resp_parser_reset(resp_parser *p) {
    request_done(p);
    p->argc = 0;
    p->err = RESP_ERR_NONE;
    p->err_byte = 0;
}

resp_error resp_parser_error(const resp_parser *p) { return p->err; }

void resp_error_text(const resp_parser *p, char *out, size_t cap) {
    const char *msg = "";
    if (!out || cap == 0) return;
    switch (p->err) {
    case RESP_ERR_NONE: msg = ""; break;
    case RESP_ERR_MULTIBULK_LEN: msg = "ERR Protocol error: invalid multibulk length"; break;
    case RESP_ERR_BULK_LEN: msg = "ERR Protocol error: invalid bulk length"; break;
    case RESP_ERR_EXPECTED_DOLLAR: {
        char c = p->err_byte;
        /* Redis formats with %c, maps CR/LF to spaces, and (because the
         * result goes through a C string) stops at a NUL byte. */
        if (c == '\r' || c == '\n') c = ' ';
        if (c == '\0')
            snprintf(out, cap, "ERR Protocol error: expected '$', got '");
        else
            snprintf(out, cap, "ERR Protocol error: expected '$', got '%c'", c);
        return;
    }
    case RESP_ERR_INLINE_TOO_BIG: msg = "ERR Protocol error: too big inline request"; break;
    case RESP_ERR_MULTIBULK_TOO_BIG: msg = "ERR Protocol error: too big mbulk count string"; break;
    case RESP_ERR_BULK_TOO_BIG_STR: msg = "ERR Protocol error: too big bulk count string"; break;
    case RESP_ERR_UNBALANCED_QUOTES: msg = "ERR Protocol error: unbalanced quotes in request"; break;
    case RESP_ERR_NOMEM: msg = "ERR out of memory"; break;
    }
    snprintf(out, cap, "%s", msg);
}

static resp_status fail(resp_parser *p, resp_error e) {
    p->err = e;
    return RESP_ERROR;
}

/* Redis string2ll: optional '-', no '+', no leading zeros (except "0"),
 * no spaces, fewer than 21 bytes, within int64 range. */
int resp_parse_ll(const char *p, size_t n, int64_t *out) {
    if (n == 0 || n >= RESP_LONG_STR_SIZE) return -1;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return 0;
    }
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        if (++i == n) return -1;
    }
    if (p[i] < '1' || p[i] > '9') return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return -1;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)v;
    }
    return 0;
}

/* Room for `args` arguments in offs (two size_t each). */
static int offs_reserve(resp_parser *p, size_t args) {
    size_t want, cap;
    size_t *n;
    if (args > SIZE_MAX / (2 * sizeof(size_t))) return -1;
    want = args * 2;
    if (want <= p->offs_cap) return 0;
    cap = p->offs_cap ? p->offs_cap : 16;
    while (cap < want) cap = cap > SIZE_MAX / 4 / sizeof(size_t) ? want : cap * 2;
    n = realloc(p->offs, cap * sizeof(size_t));
    if (!n) return -1;
    p->offs = n;
    p->offs_cap = cap;
    return 0;
}

static int offs_push(resp_parser *p, size_t off, size_t len) {
    size_t i = (size_t)p->argc;
    if (p->argc == INT_MAX) return -1;
    if (2 * i + 2 > p->offs_cap && offs_reserve(p, i + 1) < 0) return -1;
    p->offs[2 * i] = off;
    p->offs[2 * i + 1] = len;
    p->argc++;
    return 0;
}

/* Turn the recorded offsets into slices based at `base`. */
static int make_argv(resp_parser *p, const char *base) {
    int i;
    if (p->argc > p->argv_cap) {
        int cap = p->argv_cap ? p->argv_cap : 16;
        resp_slice *n;
        while (cap < p->argc) cap = cap > INT_MAX / 2 ? p->argc : cap * 2;
        n = realloc(p->argv, (size_t)cap * sizeof(resp_slice));
        if (!n) return -1;
        p->argv = n;
        p->argv_cap = cap;
    }
    for (i = 0; i < p->argc; i++) {
        p->argv[i].ptr = base + p->offs[2 * (size_t)i];
        p->argv[i].len = p->offs[2 * (size_t)i + 1];
    }
    return 0;
}

/* Find the header line starting at p->pos. Returns 1 with *cr set when the
 * '\r' and one byte after it are present, 0 to wait, -1 when the pending
 * line is too long (no '\r' within max_inline_len bytes). */
static int header_line(const resp_parser *p, const char *buf, size_t len, size_t *cr) {
    const char *r = memchr(buf + p->pos, '\r', len - p->pos);
    if (!r) return len - p->pos > p->max_inline_len ? -1 : 0;
    *cr = (size_t)(r - buf);
    return *cr + 1 < len ? 1 : 0;
}

static resp_status parse_multibulk(resp_parser *p, const char *buf, size_t len,
                                   size_t *consumed, size_t *need) {
    size_t cr;
    int64_t ll;
    int r;

    if (p->mb_left < 0) { /* the "*N" line */
        int64_t max = p->max_multibulk_len < INT_MAX ? p->max_multibulk_len : INT_MAX;
        r = header_line(p, buf, len, &cr);
        if (r < 0) return fail(p, RESP_ERR_MULTIBULK_TOO_BIG);
        if (r == 0) return RESP_AGAIN;
        if (resp_parse_ll(buf + 1, cr - 1, &ll) < 0 || ll > max)
            return fail(p, RESP_ERR_MULTIBULK_LEN);
        p->pos = cr + 2;
        if (ll <= 0) { /* "*0" and "*-1": an empty request */
            *consumed = p->pos;
            p->argc = 0;
            request_done(p);
            return RESP_OK;
        }
        p->mb_left = ll;
        p->bulk_len = -1;
        if (offs_reserve(p, ll < RESP_INITIAL_ARGS ? (size_t)ll : RESP_INITIAL_ARGS) < 0)
            return fail(p, RESP_ERR_NOMEM);
    }

    while (p->mb_left > 0) {
        if (p->bulk_len < 0) { /* the "$N" line */
            r = header_line(p, buf, len, &cr);
            if (r < 0) return fail(p, RESP_ERR_BULK_TOO_BIG_STR);
            if (r == 0) return RESP_AGAIN;
            if (buf[p->pos] != '$') {
                p->err_byte = buf[p->pos];
                return fail(p, RESP_ERR_EXPECTED_DOLLAR);
            }
            if (resp_parse_ll(buf + p->pos + 1, cr - p->pos - 1, &ll) < 0 || ll < 0 ||
                ll > p->max_bulk_len)
                return fail(p, RESP_ERR_BULK_LEN);
            p->pos = cr + 2;
            p->bulk_len = ll;
        }
        /* the data and two unchecked trailing bytes */
        if (len - p->pos < (size_t)p->bulk_len + 2) {
            if (need) *need = p->pos + (size_t)p->bulk_len + 2;
            return RESP_AGAIN;
        }
        if (offs_push(p, p->pos, (size_t)p->bulk_len) < 0) return fail(p, RESP_ERR_NOMEM);
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->mb_left--;
    }

    if (make_argv(p, buf) < 0) return fail(p, RESP_ERR_NOMEM);
    *consumed = p->pos;
    request_done(p);
    return RESP_OK;
}

static int is_space(char c) { /* isspace() in the C locale */
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

/* sdssplitargs over s[0..n), which holds no NUL byte. Unescaped bytes go to
 * p->inline_buf (at least n bytes), (offset, length) pairs to p->offs.
 * Returns 0, -1 on unbalanced quotes, -2 when out of memory. */
static int split_args(resp_parser *p, const char *s, size_t n) {
    char *out = p->inline_buf;
    size_t i = 0, o = 0;
#define AT(k) ((k) < n ? s[(k)] : '\0')
    for (;;) {
        size_t start;
        int inq = 0, insq = 0, done = 0;
        while (i < n && is_space(s[i])) i++;
        if (i >= n) return 0;
        start = o;
        while (!done) {
            char c = AT(i);
            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' && is_hex(AT(i + 2)) && is_hex(AT(i + 3))) {
                    out[o++] = (char)(hex_val(AT(i + 2)) * 16 + hex_val(AT(i + 3)));
                    i += 3;
                } else if (c == '\\' && AT(i + 1)) {
                    char e;
                    i++;
                    switch (s[i]) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: e = s[i]; break;
                    }
                    out[o++] = e;
                } else if (c == '"') {
                    /* a closing quote must be followed by a space or the end */
                    if (AT(i + 1) && !is_space(AT(i + 1))) return -1;
                    done = 1;
                } else if (!c) {
                    return -1; /* unterminated quotes */
                } else {
                    out[o++] = c;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    out[o++] = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) && !is_space(AT(i + 1))) return -1;
                    done = 1;
                } else if (!c) {
                    return -1;
                } else {
                    out[o++] = c;
                }
            } else {
                switch (c) {
                case ' ': case '\n': case '\r': case '\t': case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: out[o++] = c; break;
                }
            }
            if (i < n) i++;
        }
        if (offs_push(p, start, o - start) < 0) return -2;
    }
#undef AT
}

static resp_status parse_inline(resp_parser *p, const char *buf, size_t len,
                                size_t *consumed) {
    const char *nl = memchr(buf + p->pos, '\n', len - p->pos);
    const char *z;
    size_t eol, linelen;
    int r;

    if (!nl) {
        if (len > p->max_inline_len) return fail(p, RESP_ERR_INLINE_TOO_BIG);
        p->pos = len; /* scanned; resume the search here */
        return RESP_AGAIN;
    }
    eol = (size_t)(nl - buf);
    linelen = eol > 0 && buf[eol - 1] == '\r' ? eol - 1 : eol;
    /* Redis splits a C string: a NUL byte ends the line's content */
    z = memchr(buf, '\0', linelen);
    if (z) linelen = (size_t)(z - buf);

    if (linelen + 1 > p->inline_cap) {
        size_t cap = p->inline_cap ? p->inline_cap : 64;
        char *b;
        while (cap < linelen + 1) cap = cap > SIZE_MAX / 2 ? linelen + 1 : cap * 2;
        b = realloc(p->inline_buf, cap);
        if (!b) return fail(p, RESP_ERR_NOMEM);
        p->inline_buf = b;
        p->inline_cap = cap;
    }
    p->argc = 0;
    r = split_args(p, buf, linelen);
    if (r == -1) return fail(p, RESP_ERR_UNBALANCED_QUOTES);
    if (r == -2 || make_argv(p, p->inline_buf) < 0) return fail(p, RESP_ERR_NOMEM);
    *consumed = eol + 1;
    request_done(p);
    return RESP_OK;
}

resp_status resp_parse(resp_parser *p, const char *buf, size_t len,
                       size_t *consumed, size_t *need) {
    size_t dummy;
    if (!consumed) consumed = &dummy;
    *consumed = 0;
    if (need) *need = 0;
    if (p->err != RESP_ERR_NONE) return RESP_ERROR; /* sticky until reset */

    if (p->kind == 0) {
        if (len == 0) return RESP_AGAIN;
        p->argc = 0;
        p->pos = 0;
        p->bulk_len = -1;
        if (buf[0] == '*') {
            p->kind = '*';
            p->mb_left = -1;
        } else {
            p->kind = 'i';
            p->mb_left = 0;
        }
    }
    if (len < p->pos) return RESP_AGAIN; /* fewer bytes than already parsed */
    return p->kind == '*' ? parse_multibulk(p, buf, len, consumed, need)
                          : parse_inline(p, buf, len, consumed);
}

/* ---- writer ------------------------------------------------------------ */

void resp_buf_init(resp_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void resp_buf_free(resp_buf *b) {
    free(b->data);
    resp_buf_init(b);
}

char *resp_buf_reserve(resp_buf *b, size_t n) {
    size_t want, cap;
    char *d;
    if (n > SIZE_MAX - b->len) return NULL;
    want = b->len + n;
    if (want <= b->cap && b->data) return b->data + b->len;
    cap = b->cap ? b->cap : 64;
    while (cap < want) cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    d = realloc(b->data, cap);
    if (!d) return NULL;
    b->data = d;
    b->cap = cap;
    return b->data + b->len;
}

int resp_buf_append(resp_buf *b, const void *p, size_t n) {
    char *w = resp_buf_reserve(b, n);
    if (!w) return -1;
    if (n) memcpy(w, p, n);
    b->len += n;
    return 0;
}

void resp_buf_clear(resp_buf *b) { b->len = 0; }

static void map_crlf(char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n') s[i] = ' ';
}

/* prefix byte, then s (CR/LF mapped to spaces), then CRLF */
static int add_line(resp_buf *b, char prefix, const char *s, size_t n) {
    char *w;
    if (n > SIZE_MAX - 3 || !(w = resp_buf_reserve(b, n + 3))) return -1;
    w[0] = prefix;
    if (n) memcpy(w + 1, s, n);
    map_crlf(w + 1, n);
    w[n + 1] = '\r';
    w[n + 2] = '\n';
    b->len += n + 3;
    return 0;
}

int resp_add_status(resp_buf *b, const char *s) { return add_line(b, '+', s, strlen(s)); }

int resp_add_error(resp_buf *b, const char *s, size_t n) { return add_line(b, '-', s, n); }

int resp_add_errorf(resp_buf *b, const char *fmt, ...) {
    size_t room = 256;
    for (;;) {
        va_list ap;
        int n;
        char *w = resp_buf_reserve(b, room + 3);
        if (!w) return -1;
        va_start(ap, fmt);
        n = vsnprintf(w + 1, room + 1, fmt, ap); /* room chars + NUL */
        va_end(ap);
        if (n < 0) return -1;
        if ((size_t)n <= room) {
            w[0] = '-';
            map_crlf(w + 1, (size_t)n);
            w[n + 1] = '\r';
            w[n + 2] = '\n';
            b->len += (size_t)n + 3;
            return 0;
        }
        room = (size_t)n;
    }
}

static const char digit_pairs[201] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

static int u64_digits(uint64_t v) {
    int n = 1;
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000U;
        n += 4;
    }
}

/* Decimal of v into dst (no NUL); returns the length (at most 20). */
static size_t u64_to_str(char *dst, uint64_t v) {
    int len = u64_digits(v), i = len - 1;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        dst[i] = digit_pairs[k + 1];
        dst[i - 1] = digit_pairs[k];
        i -= 2;
    }
    if (v < 10) {
        dst[i] = (char)('0' + v);
    } else {
        unsigned k = (unsigned)v * 2;
        dst[i] = digit_pairs[k + 1];
        dst[i - 1] = digit_pairs[k];
    }
    return (size_t)len;
}

/* Signed decimal; returns the length (at most 20). */
static size_t i64_to_str(char *dst, int64_t v) {
    if (v < 0) {
        dst[0] = '-';
        return 1 + u64_to_str(dst + 1, (uint64_t)0 - (uint64_t)v);
    }
    return u64_to_str(dst, (uint64_t)v);
}

/* prefix, decimal v, CRLF */
static int add_prefixed_int(resp_buf *b, char prefix, int64_t v) {
    char *w = resp_buf_reserve(b, 1 + 20 + 2);
    size_t n;
    if (!w) return -1;
    w[0] = prefix;
    n = 1 + i64_to_str(w + 1, v);
    w[n] = '\r';
    w[n + 1] = '\n';
    b->len += n + 2;
    return 0;
}

int resp_add_int(resp_buf *b, int64_t v) { return add_prefixed_int(b, ':', v); }

int resp_add_array(resp_buf *b, int64_t n) { return add_prefixed_int(b, '*', n); }
int resp_add_push(resp_buf *b, int64_t n) { return add_prefixed_int(b, '>', n); }

int resp_add_bulk(resp_buf *b, const void *p, size_t n) {
    char *w;
    size_t h;
    if (n > SIZE_MAX - 25 || !(w = resp_buf_reserve(b, 1 + 20 + 2 + n + 2))) return -1;
    w[0] = '$';
    h = 1 + u64_to_str(w + 1, (uint64_t)n);
    w[h] = '\r';
    w[h + 1] = '\n';
    h += 2;
    if (n) memcpy(w + h, p, n);
    w[h + n] = '\r';
    w[h + n + 1] = '\n';
    b->len += h + n + 2;
    return 0;
}

int resp_add_bulkstr(resp_buf *b, const char *s) { return resp_add_bulk(b, s, strlen(s)); }

int resp_add_null(resp_buf *b) { return resp_buf_append(b, "$-1\r\n", 5); }

int resp_add_null_array(resp_buf *b) { return resp_buf_append(b, "*-1\r\n", 5); }

int resp_add_double(resp_buf *b, double d) {
    char tmp[64];
    int n = 0;
    if (isinf(d)) return resp_add_bulkstr(b, d > 0 ? "inf" : "-inf");
    if (isnan(d)) return resp_add_bulkstr(b, "nan");
    /* the shortest of %.15g..%.17g that reads back as the same double */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d) break;
    }
    if (n < 0) return -1;
    return resp_add_bulk(b, tmp, (size_t)n);
}

void resp_sanitize(char *out, size_t cap, const char *s, size_t n, size_t max) {
    size_t take, avail, dots = 0;
    if (!out || cap == 0) return;
    avail = cap - 1;
    take = n < max ? n : max;
    if (take < n || take > avail) { /* cut: make room for "..." */
        dots = avail < 3 ? avail : 3;
        if (take > avail - dots) take = avail - dots;
    }
    if (take) memcpy(out, s, take);
    map_crlf(out, take);
    memcpy(out + take, "...", dots);
    out[take + dots] = '\0';
}
