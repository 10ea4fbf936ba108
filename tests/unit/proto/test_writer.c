/* Unit tests for the RESP reply writer (proto/resp.c). */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

static resp_buf B;

static void setup(void) { resp_buf_init(&B); }
static void teardown(void) { resp_buf_free(&B); }

TestSuite(writer, .init = setup, .fini = teardown);

/* B holds exactly `lit` (binary safe), then clear it. */
static void expect_buf(const char *want, size_t n) {
    cr_assert_eq(B.len, n, "len %zu, want %zu: got '%.*s'", B.len, n, (int)B.len, B.data);
    cr_assert(n == 0 || memcmp(B.data, want, n) == 0, "got '%.*s', want '%.*s'", (int)B.len,
              B.data, (int)n, want);
    resp_buf_clear(&B);
}
#define EXPECT_BUF(lit) expect_buf(lit, sizeof(lit) - 1)

Test(writer, buf_basics) {
    cr_assert_null(B.data);
    cr_assert_eq(B.len, 0);
    char *w = resp_buf_reserve(&B, 10);
    cr_assert_not_null(w);
    cr_assert_eq(w, B.data);
    cr_assert_geq(B.cap, 10);
    cr_assert_eq(B.len, 0);
    memcpy(w, "abc", 3);
    B.len += 3;
    cr_assert_eq(resp_buf_append(&B, "de\0f", 4), 0);
    EXPECT_BUF("abcde\0f");
    size_t cap = B.cap;
    cr_assert_eq(resp_buf_append(&B, "x", 1), 0);
    resp_buf_clear(&B);
    cr_assert_eq(B.len, 0);
    cr_assert_eq(B.cap, cap); /* capacity kept */
    cr_assert_eq(resp_buf_append(&B, "", 0), 0);
    cr_assert_eq(B.len, 0);
}

Test(writer, buf_grows_geometrically) {
    int reallocs = 0;
    size_t last_cap = B.cap;
    for (int i = 0; i < 100000; i++) {
        cr_assert_eq(resp_buf_append(&B, "0123456789", 10), 0);
        if (B.cap != last_cap) {
            reallocs++;
            last_cap = B.cap;
        }
    }
    cr_assert_eq(B.len, 1000000);
    cr_assert_leq(reallocs, 40);
    for (size_t i = 0; i < B.len; i++) cr_assert_eq(B.data[i], (char)('0' + i % 10));
    /* a big reserve in one go */
    cr_assert_not_null(resp_buf_reserve(&B, 50u * 1000 * 1000));
    cr_assert_geq(B.cap, B.len + 50u * 1000 * 1000);
    cr_assert_null(resp_buf_reserve(&B, SIZE_MAX));
}

Test(writer, status) {
    cr_assert_eq(resp_add_status(&B, "OK"), 0);
    EXPECT_BUF("+OK\r\n");
    cr_assert_eq(resp_add_status(&B, ""), 0);
    EXPECT_BUF("+\r\n");
    cr_assert_eq(resp_add_status(&B, "a\r\nb"), 0);
    EXPECT_BUF("+a  b\r\n");
}

Test(writer, error_sanitizes_crlf) {
    const char e[] = "ERR bad\r\nthing\rhere\n";
    cr_assert_eq(resp_add_error(&B, e, sizeof e - 1), 0);
    EXPECT_BUF("-ERR bad  thing here \r\n");
    cr_assert_eq(resp_add_error(&B, "ERR x", 3), 0); /* length respected */
    EXPECT_BUF("-ERR\r\n");
    /* the caller's string is not modified */
    cr_assert_str_eq(e, "ERR bad\r\nthing\rhere\n");
}

Test(writer, errorf) {
    cr_assert_eq(resp_add_errorf(&B, "ERR wrong number of arguments for '%s' command", "get"), 0);
    EXPECT_BUF("-ERR wrong number of arguments for 'get' command\r\n");
    cr_assert_eq(resp_add_errorf(&B, "ERR %d\n%s", 42, "x\ry"), 0);
    EXPECT_BUF("-ERR 42 x y\r\n");
    /* longer than any small internal guess */
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(resp_add_status(&B, "prefix"), 0);
    cr_assert_eq(resp_add_errorf(&B, "ERR %s!", big), 0);
    cr_assert_eq(B.len, 9 + 1 + 4 + 2999 + 1 + 2);
    cr_assert(memcmp(B.data, "+prefix\r\n-ERR zzz", 17) == 0);
    cr_assert(memcmp(B.data + B.len - 4, "z!\r\n", 4) == 0);
}

Test(writer, integers) {
    cr_assert_eq(resp_add_int(&B, 0), 0);
    EXPECT_BUF(":0\r\n");
    cr_assert_eq(resp_add_int(&B, 7), 0);
    EXPECT_BUF(":7\r\n");
    cr_assert_eq(resp_add_int(&B, -1), 0);
    EXPECT_BUF(":-1\r\n");
    cr_assert_eq(resp_add_int(&B, 10), 0);
    EXPECT_BUF(":10\r\n");
    cr_assert_eq(resp_add_int(&B, 1234567890), 0);
    EXPECT_BUF(":1234567890\r\n");
    cr_assert_eq(resp_add_int(&B, INT64_MAX), 0);
    EXPECT_BUF(":9223372036854775807\r\n");
    cr_assert_eq(resp_add_int(&B, INT64_MIN), 0);
    EXPECT_BUF(":-9223372036854775808\r\n");
    cr_assert_eq(resp_add_int(&B, INT64_MIN + 1), 0);
    EXPECT_BUF(":-9223372036854775807\r\n");
}

Test(writer, integers_match_printf) {
    uint64_t x = 88172645463325252ull;
    char want[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t v = (int64_t)x;
        switch (i % 4) { /* all magnitudes */
        case 1: v >>= (x >> 58); break;
        case 2: v = (int64_t)(x % 1000) - 500; break;
        case 3: v = i % 2 ? (int64_t)1 << (i % 63) : -((int64_t)1 << (i % 63)); break;
        }
        if (i % 7 == 0) { /* powers of ten and neighbours */
            int64_t p = 1;
            for (int k = 0; k < i % 19; k++) p *= 10;
            v = p - 1 + (i % 3);
        }
        int n = snprintf(want, sizeof want, ":%" PRId64 "\r\n", v);
        cr_assert_eq(resp_add_int(&B, v), 0);
        cr_assert_eq(B.len, (size_t)n, "value %" PRId64, v);
        cr_assert(memcmp(B.data, want, (size_t)n) == 0, "value %" PRId64 ": got '%.*s'", v,
                  (int)B.len, B.data);
        resp_buf_clear(&B);
    }
}

Test(writer, bulk) {
    cr_assert_eq(resp_add_bulk(&B, "hello", 5), 0);
    EXPECT_BUF("$5\r\nhello\r\n");
    cr_assert_eq(resp_add_bulk(&B, "", 0), 0);
    EXPECT_BUF("$0\r\n\r\n");
    cr_assert_eq(resp_add_bulk(&B, NULL, 0), 0);
    EXPECT_BUF("$0\r\n\r\n");
    cr_assert_eq(resp_add_bulk(&B, "a\r\n\0b", 5), 0);
    EXPECT_BUF("$5\r\na\r\n\0b\r\n");
    cr_assert_eq(resp_add_bulkstr(&B, "bar"), 0);
    EXPECT_BUF("$3\r\nbar\r\n");

    size_t n = 123456;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)(i * 7);
    cr_assert_eq(resp_add_bulk(&B, big, n), 0);
    cr_assert_eq(B.len, 9 + n + 2);
    cr_assert(memcmp(B.data, "$123456\r\n", 9) == 0);
    cr_assert(memcmp(B.data + 9, big, n) == 0);
    cr_assert(memcmp(B.data + 9 + n, "\r\n", 2) == 0);
    free(big);
}

Test(writer, nulls_and_arrays) {
    cr_assert_eq(resp_add_null(&B), 0);
    EXPECT_BUF("$-1\r\n");
    cr_assert_eq(resp_add_null_array(&B), 0);
    EXPECT_BUF("*-1\r\n");
    cr_assert_eq(resp_add_array(&B, 0), 0);
    EXPECT_BUF("*0\r\n");
    cr_assert_eq(resp_add_array(&B, 3), 0);
    EXPECT_BUF("*3\r\n");
    cr_assert_eq(resp_add_array(&B, 1000000), 0);
    EXPECT_BUF("*1000000\r\n");
    cr_assert_eq(resp_add_push(&B, 3), 0);
    EXPECT_BUF(">3\r\n");
}

Test(writer, composite_reply) {
    cr_assert_eq(resp_add_array(&B, 4), 0);
    cr_assert_eq(resp_add_bulkstr(&B, "a"), 0);
    cr_assert_eq(resp_add_null(&B), 0);
    cr_assert_eq(resp_add_int(&B, -42), 0);
    cr_assert_eq(resp_add_array(&B, 2), 0);
    cr_assert_eq(resp_add_status(&B, "OK"), 0);
    cr_assert_eq(resp_add_error(&B, "ERR no", 6), 0);
    EXPECT_BUF("*4\r\n$1\r\na\r\n$-1\r\n:-42\r\n*2\r\n+OK\r\n-ERR no\r\n");
}

#define EXPECT_DOUBLE(d, str)                     \
    do {                                          \
        cr_assert_eq(resp_add_double(&B, d), 0);  \
        char w_[64];                              \
        int n_ = snprintf(w_, sizeof w_, "$%zu\r\n%s\r\n", strlen(str), str); \
        expect_buf(w_, (size_t)n_);               \
    } while (0)

Test(writer, doubles) {
    EXPECT_DOUBLE(1.5, "1.5");
    EXPECT_DOUBLE(0.1, "0.1");
    EXPECT_DOUBLE(3.0, "3");
    EXPECT_DOUBLE(0.0, "0");
    EXPECT_DOUBLE(-2.25, "-2.25");
    EXPECT_DOUBLE(10.5, "10.5");
    EXPECT_DOUBLE(1e20, "1e+20");
    EXPECT_DOUBLE(1.0 / 3.0, "0.3333333333333333");
    EXPECT_DOUBLE(0.1 + 0.2, "0.30000000000000004");
    EXPECT_DOUBLE(3.14159, "3.14159");
    EXPECT_DOUBLE(INFINITY, "inf");
    EXPECT_DOUBLE(-INFINITY, "-inf");
    EXPECT_DOUBLE(NAN, "nan");
    EXPECT_DOUBLE(1.7976931348623157e308, "1.7976931348623157e+308");
    EXPECT_DOUBLE(5e-324, "4.94065645841247e-324");
}

Test(writer, doubles_round_trip) {
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        if (i % 2) {
            uint64_t bits = x;
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d)) continue;
        } else {
            d = (double)(int64_t)x / 1e6;
        }
        cr_assert_eq(resp_add_double(&B, d), 0);
        cr_assert_eq(B.data[0], '$');
        char *crlf = memchr(B.data, '\n', B.len);
        cr_assert_not_null(crlf);
        size_t hdr = (size_t)(crlf - B.data) + 1;
        size_t n = strtoul(B.data + 1, NULL, 10);
        cr_assert_eq(B.len, hdr + n + 2);
        char txt[64];
        memcpy(txt, B.data + hdr, n);
        txt[n] = '\0';
        cr_assert_eq(strtod(txt, NULL), d, "%s does not read back", txt);
        cr_assert_leq(n, 24);
        resp_buf_clear(&B);
    }
}

Test(writer, sanitize) {
    char out[64];
    resp_sanitize(out, sizeof out, "hello", 5, 128);
    cr_assert_str_eq(out, "hello");
    resp_sanitize(out, sizeof out, "a\r\nb\nc\r", 7, 128);
    cr_assert_str_eq(out, "a  b c ");
    /* truncated to max, with "..." */
    resp_sanitize(out, sizeof out, "abcdefghij", 10, 4);
    cr_assert_str_eq(out, "abcd...");
    resp_sanitize(out, sizeof out, "abcd", 4, 4); /* exactly max: not cut */
    cr_assert_str_eq(out, "abcd");
    resp_sanitize(out, sizeof out, "abcd", 4, 0);
    cr_assert_str_eq(out, "...");
    resp_sanitize(out, sizeof out, "", 0, 0);
    cr_assert_str_eq(out, "");
    /* n respected: bytes after n (even a NUL-free tail) are ignored */
    resp_sanitize(out, sizeof out, "abcdef", 3, 128);
    cr_assert_str_eq(out, "abc");
    /* bounded by cap too, still NUL-terminated and marked */
    char small[8];
    resp_sanitize(small, sizeof small, "0123456789", 10, 128);
    cr_assert_str_eq(small, "0123...");
    resp_sanitize(small, sizeof small, "0123456", 7, 128); /* fits exactly */
    cr_assert_str_eq(small, "0123456");
    char tiny[3];
    resp_sanitize(tiny, sizeof tiny, "0123456", 7, 128);
    cr_assert_str_eq(tiny, "..");
    char one[1] = {'x'};
    resp_sanitize(one, sizeof one, "abc", 3, 128);
    cr_assert_eq(one[0], '\0');
    resp_sanitize(one, 0, "abc", 3, 128); /* no room at all: untouched, no crash */
    /* a long CR/LF-laden input truncated */
    char in[300];
    for (int i = 0; i < 300; i++) in[i] = i % 10 == 9 ? '\n' : 'x';
    char o[200];
    resp_sanitize(o, sizeof o, in, sizeof in, 128);
    cr_assert_eq(strlen(o), 131);
    cr_assert(strchr(o, '\n') == NULL);
    cr_assert_str_eq(o + 128, "...");
}
