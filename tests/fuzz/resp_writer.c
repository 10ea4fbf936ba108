/* Fuzz target: the RESP reply writer (proto/resp.h), read back.
 *
 * The input is a list of operations (one byte: which writer, then its
 * operand from the following bytes) appended to one resp_buf; the buffer
 * is then read back by an independent RESP2 reply reader in this file,
 * which checks that every reply is well formed and carries the value that
 * was written: status and error lines hold no CR/LF (those become spaces)
 * and keep every other byte, integers and bulk lengths read back exactly,
 * a double's text reads back as the same double, bulk payloads are
 * binary-exact. resp_sanitize is checked on its own: never more than
 * cap-1 bytes, NUL-terminated, no CR/LF, a prefix of the input. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "resp.h"

enum { OP_STATUS, OP_ERROR, OP_ERRORF, OP_INT, OP_BULK, OP_NULL, OP_NULL_ARRAY, OP_ARRAY,
       OP_DOUBLE, OP_CLEAR, OP_COUNT };

typedef struct expect {
    int op;
    const uint8_t *p; /* operand bytes (strings) */
    size_t n;
    int64_t i;
    double d;
} expect;

#define MAX_OPS 256

/* s with CR/LF as spaces; for strings, up to the first NUL (C strings). */
static int same_line(const char *got, size_t gl, const uint8_t *s, size_t n) {
    if (gl != n) return 0;
    for (size_t k = 0; k < n; k++) {
        char want = (char)s[k] == '\r' || (char)s[k] == '\n' ? ' ' : (char)s[k];
        if (got[k] != want) return 0;
    }
    return 1;
}

/* The line starting at *pos (after the type byte): returns its length,
 * with *pos moved past its CRLF. */
static size_t read_line(const char *b, size_t len, size_t *pos) {
    size_t start = *pos;
    const char *cr = memchr(b + start, '\r', len - start);
    FUZZ_CHECK(cr && (size_t)(cr - b) + 1 < len && cr[1] == '\n');
    *pos = (size_t)(cr - b) + 2;
    return (size_t)(cr - b) - start;
}

static int64_t read_int(const char *b, size_t n) {
    char tmp[32];
    char *end;
    FUZZ_CHECK(n > 0 && n < sizeof tmp);
    memcpy(tmp, b, n);
    tmp[n] = 0;
    long long v = strtoll(tmp, &end, 10);
    FUZZ_CHECK(*end == 0);
    /* canonical: what %lld prints */
    char again[32];
    snprintf(again, sizeof again, "%lld", v);
    FUZZ_CHECK(strcmp(again, tmp) == 0);
    return (int64_t)v;
}

static void check_reply(const char *b, size_t len, size_t *pos, const expect *e) {
    size_t n, at;
    FUZZ_CHECK(*pos < len);
    char t = b[(*pos)++];
    switch (e->op) {
    case OP_STATUS:
        FUZZ_CHECK(t == '+');
        at = *pos;
        n = read_line(b, len, pos);
        FUZZ_CHECK(same_line(b + at, n, e->p, e->n));
        break;
    case OP_ERROR:
    case OP_ERRORF:
        FUZZ_CHECK(t == '-');
        at = *pos;
        n = read_line(b, len, pos);
        FUZZ_CHECK(same_line(b + at, n, e->p, e->n));
        break;
    case OP_INT:
    case OP_ARRAY:
        FUZZ_CHECK(t == (e->op == OP_INT ? ':' : '*'));
        at = *pos;
        n = read_line(b, len, pos);
        FUZZ_CHECK(read_int(b + at, n) == e->i);
        break;
    case OP_NULL:
    case OP_NULL_ARRAY:
        FUZZ_CHECK(t == (e->op == OP_NULL ? '$' : '*'));
        at = *pos;
        n = read_line(b, len, pos);
        FUZZ_CHECK(n == 2 && memcmp(b + at, "-1", 2) == 0);
        break;
    case OP_BULK:
    case OP_DOUBLE: {
        FUZZ_CHECK(t == '$');
        at = *pos;
        n = read_line(b, len, pos);
        int64_t bl = read_int(b + at, n);
        FUZZ_CHECK(bl >= 0 && (size_t)bl <= len - *pos && len - *pos - (size_t)bl >= 2);
        const char *data = b + *pos;
        *pos += (size_t)bl;
        FUZZ_CHECK(b[*pos] == '\r' && b[*pos + 1] == '\n');
        *pos += 2;
        if (e->op == OP_BULK) {
            FUZZ_CHECK((size_t)bl == e->n && (bl == 0 || memcmp(data, e->p, e->n) == 0));
        } else {
            char tmp[64];
            FUZZ_CHECK(bl > 0 && (size_t)bl < sizeof tmp);
            memcpy(tmp, data, (size_t)bl);
            tmp[bl] = 0;
            if (isnan(e->d)) {
                FUZZ_CHECK(strcmp(tmp, "nan") == 0);
            } else if (isinf(e->d)) {
                FUZZ_CHECK(strcmp(tmp, e->d > 0 ? "inf" : "-inf") == 0);
            } else {
                char *end;
                double back = strtod(tmp, &end);
                FUZZ_CHECK(*end == 0);
                FUZZ_CHECK(back == e->d && signbit(back) == signbit(e->d));
            }
        }
        break;
    }
    default:
        FUZZ_CHECK(0);
    }
}

/* The contract: at most cap-1 bytes, the first min(n, max) bytes of s with
 * CR/LF as spaces; when that is cut (by max or by cap), "..." (or as much
 * of it as fits) ends the text; always NUL-terminated. */
static void check_sanitize(const uint8_t *s, size_t n, size_t cap, size_t max) {
    char *out = malloc(cap ? cap : 1);
    size_t avail, take, dots = 0;
    FUZZ_CHECK(out);
    memset(out, 'Z', cap ? cap : 1);
    resp_sanitize(out, cap, (const char *)s, n, max);
    if (cap == 0) {
        FUZZ_CHECK(out[0] == 'Z'); /* nothing written */
        free(out);
        return;
    }
    avail = cap - 1;
    take = n < max ? n : max;
    if (take < n || take > avail) {
        dots = avail < 3 ? avail : 3;
        if (take > avail - dots) take = avail - dots;
    }
    FUZZ_CHECK(take + dots <= avail);
    FUZZ_CHECK(same_line(out, take, s, take));
    FUZZ_CHECK(memcmp(out + take, "...", dots) == 0);
    FUZZ_CHECK(out[take + dots] == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static expect ex[MAX_OPS];
    resp_buf b;
    int nex = 0;
    char cstr[701];

    const uint8_t *all = data;
    size_t all_size = size;

    resp_buf_init(&b);
    while (size > 0 && nex < MAX_OPS) {
        uint8_t op = (uint8_t)fuzz_take(&data, &size, 1);
        expect *e = &ex[nex];
        size_t n;
        memset(e, 0, sizeof *e);
        e->op = op % OP_COUNT;
        switch (e->op) {
        case OP_STATUS:
        case OP_ERRORF:
            /* C strings: up to 699 bytes (errorf regrows past 256), cut at a NUL */
            n = (size_t)fuzz_take(&data, &size, 2) % 700;
            if (n > size) n = size;
            memcpy(cstr, data, n);
            cstr[n] = 0;
            e->p = data;
            e->n = strlen(cstr);
            data += n;
            size -= n;
            if (e->op == OP_STATUS)
                FUZZ_CHECK(resp_add_status(&b, cstr) == 0);
            else
                FUZZ_CHECK(resp_add_errorf(&b, "%s", cstr) == 0);
            break;
        case OP_ERROR:
        case OP_BULK:
            n = (size_t)fuzz_take(&data, &size, 2) % 1024;
            if (n > size) n = size;
            e->p = data;
            e->n = n;
            data += n;
            size -= n;
            if (e->op == OP_ERROR)
                FUZZ_CHECK(resp_add_error(&b, (const char *)e->p, n) == 0);
            else
                FUZZ_CHECK(resp_add_bulk(&b, e->p, n) == 0);
            break;
        case OP_INT:
        case OP_ARRAY:
            e->i = (int64_t)fuzz_take(&data, &size, 8);
            FUZZ_CHECK((e->op == OP_INT ? resp_add_int(&b, e->i) : resp_add_array(&b, e->i)) == 0);
            break;
        case OP_NULL:
            FUZZ_CHECK(resp_add_null(&b) == 0);
            break;
        case OP_NULL_ARRAY:
            FUZZ_CHECK(resp_add_null_array(&b) == 0);
            break;
        case OP_DOUBLE: {
            uint64_t bits = fuzz_take(&data, &size, 8);
            memcpy(&e->d, &bits, sizeof e->d);
            FUZZ_CHECK(resp_add_double(&b, e->d) == 0);
            break;
        }
        case OP_CLEAR:
            resp_buf_clear(&b);
            FUZZ_CHECK(b.len == 0);
            nex = 0;
            continue;
        }
        nex++;
    }
    FUZZ_CHECK(b.len <= b.cap);
    size_t pos = 0;
    for (int i = 0; i < nex; i++) check_reply(b.data, b.len, &pos, &ex[i]);
    FUZZ_CHECK(pos == b.len);
    resp_buf_free(&b);

    /* resp_sanitize over the whole input, with cap and max from it */
    if (all_size >= 2) check_sanitize(all + 2, all_size - 2, all[0] % 40, all[1] % 40);
    return 0;
}
