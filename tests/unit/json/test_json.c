/* Unit tests for server/json.c (jansson-based checks and transforms). */
#include <criterion/criterion.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Under AddressSanitizer, every test ends with a leak check: Criterion
 * would report a test as passing even when LeakSanitizer prints leaks at
 * the exit of its process, so a leak aborts the teardown instead, which
 * makes the run fail. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STAGEKV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STAGEKV_ASAN 1
#endif
#ifdef STAGEKV_ASAN
#include <sanitizer/lsan_interface.h>
static void leak_check(void) {
    if (__lsan_do_recoverable_leak_check())
        abort();
}
#else
static void leak_check(void) {}
#endif
TestSuite(check, .fini = leak_check);
TestSuite(parse_any, .fini = leak_check);
TestSuite(parse_doc, .fini = leak_check);
TestSuite(merge_patch, .fini = leak_check);
TestSuite(encode, .fini = leak_check);

/* A string literal as (pointer, length): keeps embedded NUL bytes. */
#define L(lit) lit, (sizeof(lit) - 1)

static char err[256];

static int check(const char *p, size_t n) {
    memset(err, 'X', sizeof err);
    err[sizeof err - 1] = '\0';
    return json_check(p, n, err, sizeof err);
}

/* A buffer of `depth` copies of open, then (when close is non-zero)
 * `depth` copies of close. */
static char *nest(int depth, char open, char close, size_t *n) {
    size_t len = (size_t)depth * (close ? 2 : 1);
    char *b = malloc(len + 1);
    cr_assert_not_null(b);
    memset(b, open, (size_t)depth);
    if (close)
        memset(b + depth, close, (size_t)depth);
    b[len] = '\0';
    *n = len;
    return b;
}

/* `depth` nested objects {"a":{"a":...{}...}}. */
static char *nest_objects(int depth, size_t *n) {
    size_t len = (size_t)depth * 6 - 4, o = 0;
    char *b = malloc(len + 1);
    cr_assert_not_null(b);
    for (int i = 0; i < depth; i++) {
        if (i < depth - 1) {
            memcpy(b + o, "{\"a\":", 5);
            o += 5;
        } else {
            b[o++] = '{';
        }
    }
    for (int i = 0; i < depth; i++)
        b[o++] = '}';
    cr_assert_eq(o, len);
    b[len] = '\0';
    *n = len;
    return b;
}

static char *enc(const json_t *v) {
    size_t len = 0;
    char *s = json_encode(v, &len);
    cr_assert_not_null(s);
    cr_assert_eq(len, strlen(s));
    return s;
}

static void assert_encodes(const json_t *v, const char *want) {
    char *s = enc(v);
    cr_assert_str_eq(s, want);
    free(s);
    size_t n = 0;
    const char *t = json_encode_tmp(v, &n); /* the same bytes, in the thread's buffer */
    cr_assert_not_null(t);
    cr_assert_eq(n, strlen(want));
    cr_assert_eq(memcmp(t, want, n), 0, "%.*s", (int)n, t);
}

static json_t *any(const char *p, size_t n) {
    json_t *v = json_parse_any(p, n, err, sizeof err);
    cr_assert_not_null(v, "json_parse_any(%.*s): %s", (int)n, p, err);
    return v;
}

static json_t *doc(const char *p, size_t n) {
    json_t *v = json_parse_doc(p, n, NULL, err, sizeof err);
    cr_assert_not_null(v, "json_parse_doc(%.*s): %s", (int)n, p, err);
    return v;
}

static void doc_fails(const char *p, size_t n, const json_doc_limits *lim, const char *want) {
    json_t *v = json_parse_doc(p, n, lim, err, sizeof err);
    cr_assert_null(v, "json_parse_doc(%.*s) accepted", (int)n, p);
    cr_assert_str_eq(err, want);
}

/* ==== json_check ======================================================= */

Test(check, valid_values_of_every_type) {
    static const char *ok[] = {
        "{}", "[]", "{\"a\":1}", "[1,\"two\",3.0,true,false,null,{},[]]",
        "\"\"", "\"text\"", "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\"",
        "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "0", "-0", "42", "-42", "3.25", "-1.5e-3",
        "1E+2", "9223372036854775807", "-9223372036854775808", "true", "false", "null",
        " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "{\"nested\":{\"deep\":[[{\"x\":null}]]}}",
        "1e-400", /* underflows to 0: accepted */
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_expect_eq(check(ok[i], strlen(ok[i])), 0, "%s: %s", ok[i], err);
}

Test(check, string_with_escaped_nul_is_valid) {
    cr_expect_eq(check(L("\"a\\u0000b\"")), 0, "%s", err);
    cr_expect_eq(check(L("{\"k\":[\"\\u0000\"]}")), 0, "%s", err);
}

Test(check, nul_in_member_name_is_refused_by_jansson) {
    cr_assert_eq(check(L("{\"a\\u0000b\":1}")), -1);
    cr_expect_str_eq(err, "invalid JSON: NUL byte in object key not supported near "
                          "'\"a\\u0000b\"' at offset 11");
}

Test(check, trailing_garbage) {
    cr_assert_eq(check(L("1 x")), -1);
    cr_expect_str_eq(err, "invalid JSON: end of file expected near 'x' at offset 3");
    cr_assert_eq(check(L("{} {}")), -1);
    cr_expect_str_eq(err, "invalid JSON: end of file expected near '{' at offset 4");
    cr_expect_eq(check(L("[1]]")), -1);
    cr_expect_eq(check(L("\"a\"\"b\"")), -1);
    cr_expect_eq(check(L("truex")), -1);
    cr_expect_eq(check(L("{\"a\":1},")), -1);
}

Test(check, raw_nul_bytes_are_refused) {
    /* jansson alone accepts all of these (a NUL after a number or literal
     * is swallowed); json_check must not. */
    cr_assert_eq(check(L("1\0")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected NUL byte at offset 1");
    cr_assert_eq(check(L("[1\0]")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected NUL byte at offset 2");
    cr_expect_eq(check(L("true\0")), -1);
    cr_expect_eq(check(L("{\"a\":1\0}")), -1);
    cr_expect_eq(check(L("\0")), -1);
    cr_assert_eq(check(L("\"a\0b\"")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected NUL byte at offset 2");
    /* an error before the NUL is still the one reported */
    cr_assert_eq(check(L("[1,]\0")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near ']' at offset 4");
    /* the length, not the NUL, delimits the text */
    cr_expect_eq(check("[1]\0garbage", 3), 0);
}

Test(check, empty_input) {
    cr_assert_eq(check(L("")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near end of file at offset 0");
    cr_assert_eq(check(L("  \n ")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near end of file at offset 4");
    cr_expect_eq(json_check(NULL, 0, err, sizeof err), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near end of file at offset 0");
}

Test(check, truncated_input) {
    static const struct {
        const char *in, *want;
    } t[] = {
        {"{\"a\":[1,2", "invalid JSON: ']' expected near end of file at offset 9"},
        {"\"abc", "invalid JSON: premature end of input near '\"abc' at offset 4"},
        {"[", "invalid JSON: ']' expected near end of file at offset 1"},
        {"{\"a\"", "invalid JSON: ':' expected near end of file at offset 4"},
        {"{\"a\":", "invalid JSON: unexpected token near end of file at offset 5"},
        {"tru", "invalid JSON: invalid token near 'tru' at offset 3"},
        {"1.", "invalid JSON: invalid token near '1.' at offset 2"},
        {"-", "invalid JSON: invalid token near '-' at offset 1"},
        {"\"\\u12", "invalid JSON: invalid escape near '\"\\u12' at offset 5"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cr_expect_eq(check(t[i].in, strlen(t[i].in)), -1, "%s", t[i].in);
        cr_expect_str_eq(err, t[i].want, "%s", t[i].in);
    }
}

Test(check, error_offsets_are_byte_offsets) {
    /* jansson's position: just past the offending token */
    cr_assert_eq(check(L("[1,]")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near ']' at offset 4");
    cr_assert_eq(check(L("{\"a\":1 \"b\":2}")), -1);
    cr_expect_str_eq(err, "invalid JSON: '}' expected near '\"b\"' at offset 10");
    cr_assert_eq(check(L("[01]")), -1);
    cr_expect_str_eq(err, "invalid JSON: invalid token near '0' at offset 2");
    cr_assert_eq(check(L("{'a':1}")), -1);
    cr_expect_str_eq(err, "invalid JSON: string or '}' expected near ''' at offset 2");
    /* multi-byte characters count as their bytes */
    cr_assert_eq(check(L("[\"\xc3\xa9\xc3\xa9\", x]")), -1);
    cr_expect_str_eq(err, "invalid JSON: invalid token near 'x' at offset 10");
    /* invalid UTF-8: the offset of the bad byte */
    cr_assert_eq(check(L("{\"a\":\"\xff\"}")), -1);
    cr_expect_str_eq(err, "invalid JSON: unable to decode byte 0xff near '\"' at offset 6");
    /* control characters inside strings must be escaped */
    cr_assert_eq(check(L("\"a\nb\"")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected newline near '\"a' at offset 2");
    cr_assert_eq(check(L("\"a\tb\"")), -1);
    cr_expect_str_eq(err, "invalid JSON: control character 0x9 near '\"a' at offset 2");
}

Test(check, other_rejections) {
    static const char *bad[] = {
        "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{1:2}", "NaN", "Infinity", "-Infinity",
        "+1", ".5", "0x10", "'a'", "[1,,2]", "\"\\x41\"", "\"\\ud800\"",
        "\xef\xbb\xbf{}", /* BOM */
        "\"\xc0\xaf\"",    /* overlong */
        "\"\xed\xa0\x80\"", /* UTF-8-encoded surrogate */
        "// c\n1", "[1]/**/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_eq(check(bad[i], strlen(bad[i])), -1, "%s", bad[i]);
        cr_expect_eq(strncmp(err, "invalid JSON: ", 14), 0, "%s: %s", bad[i], err);
        cr_expect_not_null(strstr(err, " at offset "), "%s: %s", bad[i], err);
    }
}

Test(check, deep_nesting_errors_without_crashing) {
    size_t n;
    char *b = nest(10000, '[', ']', &n);
    cr_assert_eq(check(b, n), -1);
    cr_expect_str_eq(err, "invalid JSON: maximum parsing depth reached near '[' at offset 2049");
    free(b);
    b = nest(10000, '[', 0, &n); /* unclosed */
    cr_expect_eq(check(b, n), -1);
    free(b);
    b = nest(10000, '{', 0, &n);
    cr_expect_eq(check(b, n), -1);
    free(b);
}

Test(check, jansson_depth_limit_is_2048) {
    size_t n;
    char *b = nest(2048, '[', ']', &n);
    cr_expect_eq(check(b, n), 0, "%s", err);
    free(b);
    b = nest(2049, '[', ']', &n);
    cr_expect_eq(check(b, n), -1);
    free(b);
}

Test(check, huge_integers_are_accepted) {
    cr_expect_eq(check(L("123456789012345678901234567890")), 0, "%s", err);
    cr_expect_eq(check(L("-123456789012345678901234567890")), 0, "%s", err);
    cr_expect_eq(check(L("9223372036854775808")), 0, "%s", err);  /* 2^63 */
    cr_expect_eq(check(L("-9223372036854775809")), 0, "%s", err); /* -2^63-1 */
    cr_expect_eq(check(L("{\"a\":[1,99999999999999999999999,2],\"b\":1e5}")), 0, "%s", err);
    char big[310];
    memset(big, '9', 300);
    big[300] = '\0';
    cr_expect_eq(check(big, 300), 0, "%s", err);
}

Test(check, invalid_text_with_a_huge_integer_still_fails) {
    cr_assert_eq(check(L("[123456789012345678901234567890, ]")), -1);
    cr_expect_str_eq(err, "invalid JSON: unexpected token near ']' at offset 34");
    cr_assert_eq(check(L("{\"a\":99999999999999999999999}x")), -1);
    cr_expect_str_eq(err, "invalid JSON: end of file expected near 'x' at offset 30");
    cr_assert_eq(check(L("[x, 99999999999999999999999]")), -1);
    cr_expect_str_eq(err, "invalid JSON: invalid token near 'x' at offset 2");
    cr_expect_eq(check(L("99999999999999999999999 1")), -1);
    cr_expect_eq(check(L("[99999999999999999999999")), -1);
}

Test(check, numbers_beyond_double_range_are_refused) {
    /* jansson's limit (strtod overflow); json_parse_any refuses 1e400 alike
     * and the 400-digit integer as an integer beyond 64 bits */
    cr_assert_eq(check(L("1e400")), -1);
    cr_expect_str_eq(err, "invalid JSON: real number overflow near '1e400' at offset 5");
    char big[420];
    memset(big, '9', 400);
    cr_assert_eq(check(big, 400), -1);
    cr_expect_eq(strncmp(err, "invalid JSON: real number overflow", 34), 0, "%s", err);
}

Test(check, error_buffer_handling) {
    cr_expect_eq(json_check(L("[1,]"), NULL, 0), -1);
    char small[12];
    cr_expect_eq(json_check(L("[1,]"), small, sizeof small), -1);
    cr_expect_str_eq(small, "invalid JSO");
    char one[1] = {'X'};
    cr_expect_eq(json_check(L("[1,]"), one, 1), -1);
    cr_expect_eq(one[0], '\0');
    /* truncation never splits a UTF-8 character: the message carries
     * jansson's "near 'é'" context */
    char cut[36];
    cr_assert_eq(json_check(L("\"\xc3\xa9\n\""), cut, sizeof cut), -1);
    for (size_t c = 30; c <= sizeof cut; c++) {
        char e[sizeof cut];
        json_check(L("\"\xc3\xa9\n\""), e, c);
        size_t len = strlen(e);
        cr_expect_lt(len, c);
        /* valid UTF-8 round trip through jansson */
        char q[64];
        snprintf(q, sizeof q, "\"%s\"", e);
        cr_expect_eq(json_check(q, strlen(q), NULL, 0), 0, "cap %zu: %s", c, e);
    }
}

Test(check, accepts_what_parse_any_accepts_and_big_integers) {
    /* texts without an integer beyond 64 bits: same verdict, same error */
    static const char *in[] = {
        "1", "[1,]", "\"\\u0000\"", "{\"\\u0000\":1}", "1e400", "\"\\ud800\"", "[1]x", "",
        "{\"a\":{\"a\":1,\"a\":2}}", "\"\xff\"", "[9223372036854775807,-9223372036854775808]",
        "[-9223372036854775808, 1e400]", "[1e400, 99999999999999999999]",
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        char e2[256];
        int c = check(in[i], strlen(in[i]));
        json_t *v = json_parse_any(in[i], strlen(in[i]), e2, sizeof e2);
        cr_expect_eq(c == 0, v != NULL, "%s", in[i]);
        if (v)
            json_decref(v);
        else
            cr_expect_str_eq(err, e2, "%s", in[i]);
    }
    /* an integer beyond 64 bits: json_check accepts it (KV.SET stores the
     * bytes as given), json_parse_any refuses it (it would have to round) */
    static const char *big[] = {
        "99999999999999999999", "[1,-9223372036854775809]", "{\"a\":[9223372036854775808]}",
    };
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        cr_expect_eq(check(big[i], strlen(big[i])), 0, "%s: %s", big[i], err);
        cr_expect_null(json_parse_any(big[i], strlen(big[i]), err, sizeof err), "%s", big[i]);
        cr_expect_eq(strncmp(err, "invalid JSON: integer does not fit in 64 bits at offset ", 56), 0,
                     "%s: %s", big[i], err);
    }
    /* each reports the first problem it sees */
    cr_expect_eq(check(L("[99999999999999999999, 1e400]")), -1);
    cr_expect_str_eq(err, "invalid JSON: real number overflow near '1e400' at offset 28");
    cr_expect_null(json_parse_any(L("[99999999999999999999, 1e400]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: integer does not fit in 64 bits at offset 21");
}

/* ==== json_parse_any ================================================== */

Test(parse_any, values_of_every_type) {
    json_t *v = any(L("[1,-2,2.5,\"s\",true,false,null,{\"k\":[]}]"));
    cr_assert(json_is_array(v));
    cr_expect_eq(json_integer_value(json_array_get(v, 0)), 1);
    cr_expect_eq(json_integer_value(json_array_get(v, 1)), -2);
    cr_expect(json_is_real(json_array_get(v, 2)));
    cr_expect_str_eq(json_string_value(json_array_get(v, 3)), "s");
    cr_expect(json_is_true(json_array_get(v, 4)));
    cr_expect(json_is_false(json_array_get(v, 5)));
    cr_expect(json_is_null(json_array_get(v, 6)));
    cr_expect(json_is_object(json_array_get(v, 7)));
    json_decref(v);

    v = any(L(" \"top\" "));
    cr_expect_str_eq(json_string_value(v), "top");
    json_decref(v);
    v = any(L("null"));
    cr_expect(json_is_null(v));
    json_decref(v);
}

Test(parse_any, string_with_nul) {
    json_t *v = any(L("\"a\\u0000b\""));
    cr_assert_eq(json_string_length(v), 3);
    cr_expect_eq(memcmp(json_string_value(v), "a\0b", 3), 0);
    assert_encodes(v, "\"a\\u0000b\"");
    json_decref(v);
}

/* "invalid JSON: integer does not fit in 64 bits at offset <off>" */
static void big_int_refused(const char *p, size_t n, size_t off) {
    char want[96];
    snprintf(want, sizeof want, "invalid JSON: integer does not fit in 64 bits at offset %zu", off);
    memset(err, 'X', sizeof err);
    err[sizeof err - 1] = '\0';
    json_t *v = json_parse_any(p, n, err, sizeof err);
    cr_expect_null(v, "json_parse_any(%.*s) accepted", (int)n, p);
    json_decref(v);
    cr_expect_str_eq(err, want, "json_parse_any(%.*s)", (int)n, p);
    memset(err, 'X', sizeof err);
    err[sizeof err - 1] = '\0';
    v = json_parse_doc(p, n, NULL, err, sizeof err);
    cr_expect_null(v, "json_parse_doc(%.*s) accepted", (int)n, p);
    json_decref(v);
    if (n && p[0] == '{') /* else: refused as a non-object, or the integer first */
        cr_expect_str_eq(err, want, "json_parse_doc(%.*s)", (int)n, p);
}

Test(parse_any, int64_limits_stay_exact) {
    static const char *in[] = {
        "9223372036854775807", "-9223372036854775808", "9007199254740993", "-0",
        "[9223372036854775807,-9223372036854775808,9007199254740993,-5,0]",
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        json_t *v = any(in[i], strlen(in[i]));
        assert_encodes(v, strcmp(in[i], "-0") ? in[i] : "0");
        json_decref(v);
    }
    json_t *v = any(L("[9223372036854775807,-9223372036854775808]"));
    cr_assert(json_is_integer(json_array_get(v, 0)));
    cr_expect_eq(json_integer_value(json_array_get(v, 0)), INT64_MAX);
    cr_assert(json_is_integer(json_array_get(v, 1)));
    cr_expect_eq(json_integer_value(json_array_get(v, 1)), INT64_MIN);
    json_decref(v);
}

Test(parse_any, integers_beyond_64_bits_are_refused) {
    big_int_refused(L("9223372036854775808"), 19);   /* 2^63 */
    big_int_refused(L("-9223372036854775809"), 20);  /* -2^63 - 1 */
    big_int_refused(L(" 18446744073709551616 "), 21); /* 2^64 */
    big_int_refused(L("[1, 123456789012345678901234567890]"), 34);
    big_int_refused(L("{\"a\":9223372036854775808}"), 24);
    big_int_refused(L("{\"a\":\n-99999999999999999999}"), 27);
    /* nested in arrays */
    big_int_refused(L("[[1,[2,99999999999999999999]]]"), 27);
    big_int_refused(L("{\"a\":{\"b\":[1,[2,99999999999999999999]]}}"), 36);
    /* 300 and 400 digits: integers, whatever the size */
    char big[410];
    memset(big, '9', 400);
    big_int_refused(big, 300, 300);
    big_int_refused(big, 400, 400);
    big[0] = '-';
    big_int_refused(big, 300, 300);
}

Test(parse_any, reals_keep_jansson_errors_and_values) {
    /* a real beyond double's range: jansson's own error */
    cr_expect_null(json_parse_any(L("1e400"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: real number overflow near '1e400' at offset 5");
    cr_expect_null(json_parse_any(L("{\"a\":-1E+400}"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: real number overflow near '-1E+400' at offset 12");
    /* long reals are reals: written as such, read as such */
    json_t *v = any(L("[12345678901234567890.5,99999999999999999999e0,1e-400]"));
    cr_expect(json_is_real(json_array_get(v, 0)));
    cr_expect_eq(json_real_value(json_array_get(v, 1)), 1e20);
    cr_expect_eq(json_real_value(json_array_get(v, 2)), 0.0);
    json_decref(v);
}

Test(parse_any, the_first_problem_is_reported) {
    big_int_refused(L("[99999999999999999999, 1e400]"), 21);
    big_int_refused(L("[99999999999999999999, ]"), 21);
    big_int_refused(L("[-99999999999999999999,\"\xff\"]"), 22);
    big_int_refused(L("[99999999999999999999\0]"), 21);
    cr_expect_null(json_parse_any(L("[1e400, 99999999999999999999]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: real number overflow near '1e400' at offset 6");
    cr_expect_null(json_parse_any(L("[x, 99999999999999999999]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: invalid token near 'x' at offset 2");
    cr_expect_null(json_parse_any(L("[1\0, 99999999999999999999]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: unexpected NUL byte at offset 2");
}

Test(parse_any, big_integer_at_the_end_of_a_large_text) {
    size_t cap = 300 * 1024, o = 0;
    char *b = malloc(cap + 200);
    cr_assert_not_null(b);
    b[o++] = '[';
    while (o < cap)
        o += (size_t)sprintf(b + o, "12345,");
    strcpy(b + o, "9223372036854775807,-9223372036854775808]");
    json_t *v = any(b, strlen(b));
    cr_expect_eq(json_integer_value(json_array_get(v, json_array_size(v) - 1)), INT64_MIN);
    json_decref(v);
    strcpy(b + o, "9223372036854775807,9223372036854775808]");
    big_int_refused(b, strlen(b), strlen(b) - 1);
    cr_expect_eq(json_check(b, strlen(b), err, sizeof err), 0, "%s", err);
    free(b);
}

/* Random texts mixing 64-bit integers, big integers, reals and strings of
 * digits, built together with the tree they must parse to (when they hold
 * no big integer) or the offset just past the first big integer. */
struct gen {
    char buf[16384];
    size_t len;
    uint64_t rng;
    int bigs;
    size_t first_big_end;
};

static uint64_t gen_next(struct gen *g) {
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static void gen_put(struct gen *g, const char *s) {
    size_t n = strlen(s);
    cr_assert_lt(g->len + n, sizeof g->buf);
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

static json_t *gen_value(struct gen *g, int depth) {
    char t[80];
    unsigned kind = (unsigned)(gen_next(g) % (depth < 4 ? 9 : 7));

    switch (kind) {
    case 0: { /* any 64-bit integer, often near the limits */
        static const int64_t edge[] = {INT64_MAX, INT64_MIN, INT64_C(9007199254740993), 0, -1};
        uint64_t r = gen_next(g);
        int64_t i = r % 3 ? (int64_t)(r >> (r % 64)) : edge[r % 5];
        snprintf(t, sizeof t, "%" PRId64, i);
        gen_put(g, t);
        return json_integer(i);
    }
    case 1: { /* a big integer: 20 to 40 digits */
        if (g->bigs == 8)
            return gen_value(g, depth);
        g->bigs++;
        size_t nd = 20 + gen_next(g) % 21, o = 0;
        if (gen_next(g) % 2)
            t[o++] = '-';
        t[o++] = (char)('1' + gen_next(g) % 9);
        for (size_t i = 1; i < nd; i++)
            t[o++] = (char)('0' + gen_next(g) % 10);
        t[o] = '\0';
        gen_put(g, t);
        if (g->bigs == 1)
            g->first_big_end = g->len;
        return json_null(); /* the text is refused */
    }
    case 2: { /* a real */
        static const char *r[] = {"1.5", "-0.25e3", "1e-400", "12345678901234567890.5",
                                  "1E22", "-0.0", "99999999999999999999e0"};
        const char *lit = r[gen_next(g) % 7];
        gen_put(g, lit);
        return json_real(strtod(lit, NULL));
    }
    case 3: { /* a string of digits, sometimes after an escaped quote */
        snprintf(t, sizeof t, "%s%" PRIu64 "%" PRIu64, gen_next(g) % 2 ? "\\\"" : "",
                 gen_next(g), gen_next(g));
        json_t *v = json_string(t[0] == '\\' ? t + 1 : t);
        gen_put(g, "\"");
        gen_put(g, t);
        gen_put(g, "\"");
        return v;
    }
    case 4:
        gen_put(g, "true");
        return json_true();
    case 5:
        gen_put(g, "null");
        return json_null();
    case 6:
        gen_put(g, "\"s\"");
        return json_string("s");
    case 7: {
        json_t *a = json_array();
        unsigned n = (unsigned)(gen_next(g) % 5);
        gen_put(g, "[");
        for (unsigned i = 0; i < n; i++) {
            if (i)
                gen_put(g, gen_next(g) % 2 ? "," : " , ");
            json_array_append_new(a, gen_value(g, depth + 1));
        }
        gen_put(g, "]");
        return a;
    }
    default: {
        json_t *o = json_object();
        unsigned n = (unsigned)(gen_next(g) % 5);
        gen_put(g, "{");
        for (unsigned i = 0; i < n; i++) {
            snprintf(t, sizeof t, "%s\"%u99999999999999999999\":", i ? "," : "", i);
            gen_put(g, t);
            snprintf(t, sizeof t, "%u99999999999999999999", i);
            json_object_set_new(o, t, gen_value(g, depth + 1));
        }
        gen_put(g, "}");
        return o;
    }
    }
}

Test(parse_any, random_texts_with_big_integers) {
    int refused = 0;
    for (int round = 0; round < 2000; round++) {
        struct gen g = {.len = 0, .rng = 0x2545F4914F6CDD1Du * (uint64_t)(round + 1), .bigs = 0,
                        .first_big_end = 0};
        gen_put(&g, "[");
        json_t *want = json_array();
        for (int i = 0; i < 6; i++) {
            if (i)
                gen_put(&g, ",");
            json_array_append_new(want, gen_value(&g, 1));
        }
        gen_put(&g, "]");
        cr_assert_eq(json_check(g.buf, g.len, err, sizeof err), 0, "%s", err);
        if (g.bigs) {
            big_int_refused(g.buf, g.len, g.first_big_end);
            json_decref(want);
            refused++;
            continue;
        }
        json_t *got = json_parse_any(g.buf, g.len, err, sizeof err);
        cr_assert_not_null(got, "%.*s: %s", (int)g.len, g.buf, err);
        char *a = enc(got), *b = enc(want);
        cr_assert(json_equal(got, want), "%.*s\n got %s\nwant %s", (int)g.len, g.buf, a, b);
        free(a);
        free(b);
        json_decref(got);
        json_decref(want);
    }
    /* both kinds of text are well represented */
    cr_expect(refused > 200 && refused < 1800, "%d of 2000 refused", refused);
}

Test(parse_any, errors) {
    cr_expect_null(json_parse_any(L("[1,]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: unexpected token near ']' at offset 4");
    cr_expect_null(json_parse_any(L("[9223372036854775807, ]"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: unexpected token near ']' at offset 23");
    cr_expect_null(json_parse_any(L("1\0"), err, sizeof err));
    cr_expect_str_eq(err, "invalid JSON: unexpected NUL byte at offset 1");
    cr_expect_null(json_parse_any(NULL, 0, NULL, 0));
}

/* ==== json_parse_doc ================================================== */

Test(parse_doc, accepts_an_object) {
    json_t *v = doc(L(" {\"a\":1,\"b\":{\"c\":[true,null,\"x\"]}} "));
    cr_expect(json_is_object(v));
    cr_expect_eq(v->refcount, 1);
    cr_expect_eq(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
}

Test(parse_doc, non_object) {
    static const char *in[] = {"[1]", "[]", "1", "\"s\"", "null", "true", "1.5"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        doc_fails(in[i], strlen(in[i]), NULL, "document must be a JSON object");
}

Test(parse_doc, invalid_json) {
    doc_fails(L("{\"a\":}"), NULL, "invalid JSON: unexpected token near '}' at offset 6");
    doc_fails(L(""), NULL, "invalid JSON: unexpected token near end of file at offset 0");
    doc_fails(L("{} x"), NULL, "invalid JSON: end of file expected near 'x' at offset 4");
    doc_fails(L("{\"a\":1}\0"), NULL, "invalid JSON: unexpected NUL byte at offset 7");
    doc_fails(L("{\"a\":1,}"), NULL, "invalid JSON: string or '}' expected near '}' at offset 8");
}

Test(parse_doc, too_large) {
    json_doc_limits lim = {.max_size = 10, .max_depth = 64};
    doc_fails(L("{\"a\":12345}"), &lim, "document too large (max 10 bytes)");
    json_t *v = json_parse_doc(L("{\"a\":1234}"), &lim, err, sizeof err);
    cr_expect_not_null(v, "%s", err);
    json_decref(v);
}

Test(parse_doc, default_size_limit_is_1_mib) {
    size_t max = 1024 * 1024;
    char *b = malloc(max + 2);
    cr_assert_not_null(b);
    /* {"a":"xxx...x"} of exactly max bytes */
    memcpy(b, "{\"a\":\"", 6);
    memset(b + 6, 'x', max - 8);
    memcpy(b + max - 2, "\"}", 2);
    json_t *v = json_parse_doc(b, max, NULL, err, sizeof err);
    cr_expect_not_null(v, "%s", err);
    json_decref(v);
    /* one byte more (a space is still valid JSON) */
    b[max] = ' ';
    doc_fails(b, max + 1, NULL, "document too large (max 1048576 bytes)");
    /* a zero field means the default too */
    json_doc_limits lim = {0, 0};
    doc_fails(b, max + 1, &lim, "document too large (max 1048576 bytes)");
    free(b);
}

Test(parse_doc, depth_64_ok_65_too_deep) {
    size_t n;
    char *b = nest_objects(64, &n);
    json_t *v = doc(b, n);
    json_decref(v);
    free(b);

    b = nest_objects(65, &n);
    doc_fails(b, n, NULL, "document nested too deeply (max 64)");
    free(b);
}

Test(parse_doc, depth_counts_arrays_not_scalars) {
    json_doc_limits lim = {.max_size = 0, .max_depth = 3};
    json_t *v = json_parse_doc(L("{\"a\":[{\"b\":1}],\"c\":[[]]}"), &lim, err, sizeof err);
    cr_expect_not_null(v, "%s", err);
    json_decref(v);
    doc_fails(L("{\"a\":[{\"b\":[1]}]}"), &lim, "document nested too deeply (max 3)");
    doc_fails(L("{\"a\":1,\"z\":[[[]]]}"), &lim, "document nested too deeply (max 3)");
    lim.max_depth = 1;
    v = json_parse_doc(L("{\"a\":1,\"b\":\"s\"}"), &lim, err, sizeof err);
    cr_expect_not_null(v, "%s", err);
    json_decref(v);
    doc_fails(L("{\"a\":{}}"), &lim, "document nested too deeply (max 1)");
}

Test(parse_doc, beyond_jansson_depth_limit) {
    size_t n;
    char *b = nest(10000, '[', 0, &n);
    memcpy(b, "{\"a\":", 5); /* unclosed: the depth is what is reported */
    doc_fails(b, n, NULL, "document nested too deeply (max 64)");
    free(b);
    b = nest_objects(3000, &n);
    doc_fails(b, n, NULL, "document nested too deeply (max 64)");
    free(b);
}

Test(parse_doc, duplicate_member_names) {
    doc_fails(L("{\"a\":1,\"a\":2}"), NULL, "duplicate member name 'a'");
    doc_fails(L("{\"x\":{\"y\":[{\"k\":1,\"b\":2,\"k\":3}]}}"), NULL,
              "duplicate member name 'k'");
    doc_fails(L("{\"o\":{\"n\":{\"deep\":true,\"deep\":false}}}"), NULL,
              "duplicate member name 'deep'");
    /* escapes are decoded before comparing and shown JSON-escaped */
    doc_fails(L("{\"a\":1,\"\\u0061\":2}"), NULL, "duplicate member name 'a'");
    doc_fails(L("{\"q\\\"\\\\\":1,\"q\\\"\\\\\":2}"), NULL, "duplicate member name 'q\\\"\\\\'");
    doc_fails(L("{\"\\n\":1,\"\\n\":2}"), NULL, "duplicate member name '\\n'");
    doc_fails(L("{\"caf\xc3\xa9\":1, \"caf\\u00e9\" :2}"), NULL, "duplicate member name 'caf\xc3\xa9'");
    doc_fails(L("{\"\":1,\"\":2}"), NULL, "duplicate member name ''");
    /* same name in different objects is fine */
    json_t *v = doc(L("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}"));
    json_decref(v);
}

Test(parse_doc, long_duplicate_name_is_cut) {
    char b[700], name[301], want[160];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(b, sizeof b, "{\"%s\":1,\"%s\":2}", name, name);
    snprintf(want, sizeof want, "duplicate member name '%.100s...'", name);
    doc_fails(b, strlen(b), NULL, want);
    /* the cut never splits a UTF-8 character: 99 'n' then 'é' (2 bytes) */
    char nm[128];
    memset(nm, 'n', 99);
    strcpy(nm + 99, "\xc3\xa9zz");
    snprintf(b, sizeof b, "{\"%s\":1,\"%s\":2}", nm, nm);
    snprintf(want, sizeof want, "duplicate member name '%.99s...'", nm);
    doc_fails(b, strlen(b), NULL, want);
}

Test(parse_doc, nul_escape_refused) {
    doc_fails(L("{\"a\":\"x\\u0000\"}"), NULL, "document contains \\u0000");
    doc_fails(L("{\"a\\u0000\":1}"), NULL, "document contains \\u0000");
    doc_fails(L("{\"a\":[{\"b\":[\"\\u0000\"]}]}"), NULL, "document contains \\u0000");
    /* an escaped backslash followed by u0000 is plain text */
    json_t *v = doc(L("{\"a\":\"\\\\u0000\"}"));
    cr_expect_str_eq(json_string_value(json_object_get(v, "a")), "\\u0000");
    json_decref(v);
}

Test(parse_doc, invalid_utf8) {
    doc_fails(L("{\"a\":\"\xff\"}"), NULL,
              "invalid JSON: unable to decode byte 0xff near '\"' at offset 6");
    doc_fails(L("{\"a\":\"ok\xc3\"}"), NULL,
              "invalid JSON: unable to decode byte 0xc3 near '\"ok' at offset 8");
    doc_fails(L("{\"\xc0\xaf\":1}"), NULL,
              "invalid JSON: unable to decode byte 0xc0 near '\"' at offset 2");
    doc_fails(L("{\"a\":\"\xed\xa0\x80\"}"), NULL,
              "invalid JSON: unable to decode byte 0xed near '\"' at offset 6");
    doc_fails(L("{\"a\":\"\xf4\x90\x80\x80\"}"), NULL,
              "invalid JSON: unable to decode byte 0xf4 near '\"' at offset 6");
    doc_fails(L("{\"a\":1,\"\x80\":2}"), NULL,
              "invalid JSON: unable to decode byte 0x80 near '\"' at offset 8");
}

Test(parse_doc, integers_beyond_64_bits_are_refused) {
    json_t *v = doc(L("{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                      "\"id\":9007199254740993}"));
    cr_assert(json_is_integer(json_object_get(v, "max")));
    cr_expect_eq(json_integer_value(json_object_get(v, "max")), INT64_MAX);
    cr_assert(json_is_integer(json_object_get(v, "min")));
    cr_expect_eq(json_integer_value(json_object_get(v, "min")), INT64_MIN);
    cr_expect_eq(json_integer_value(json_object_get(v, "id")), INT64_C(9007199254740993));
    assert_encodes(v, "{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                      "\"id\":9007199254740993}");
    json_decref(v);

    doc_fails(L("{\"big\":9223372036854775808}"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 26");
    doc_fails(L("{\"big\":-9223372036854775809}"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 27");
    doc_fails(L("{\"a\":{\"b\":[1,[2,99999999999999999999]]}}"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 36");
    char big[320] = "{\"n\":";
    memset(big + 5, '9', 300);
    strcpy(big + 305, "}");
    doc_fails(big, strlen(big), NULL, "invalid JSON: integer does not fit in 64 bits at offset 305");
    /* a real beyond double's range keeps jansson's error */
    doc_fails(L("{\"a\":1e400}"), NULL, "invalid JSON: real number overflow near '1e400' at offset 10");
    /* the first problem in the text is the one reported */
    doc_fails(L("{\"big\":123456789012345678901234567890,\"a\":1,\"a\":2}"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 37");
    doc_fails(L("{\"a\":1,\"a\":2,\"big\":123456789012345678901234567890}"), NULL,
              "duplicate member name 'a'");
    doc_fails(L("{\"s\":\"\\u0000\",\"big\":123456789012345678901234567890}"), NULL,
              "document contains \\u0000");
    doc_fails(L("{\"big\":123456789012345678901234567890,}"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 37");
    /* not an object: that is said first only once the text parses */
    doc_fails(L("[99999999999999999999]"), NULL,
              "invalid JSON: integer does not fit in 64 bits at offset 21");
}

/* ==== json_merge_patch ================================================ */

/* Applies patch to target as KV.PATCH would and checks the encoding. */
static void merge_case(const char *target, const char *patch, const char *want) {
    json_t *t = any(target, strlen(target));
    json_t *p = any(patch, strlen(patch));
    json_t *w = any(want, strlen(want));
    char *before = enc(p);
    json_t *r = json_merge_patch(t, p);
    cr_assert_not_null(r);
    cr_expect(json_equal(r, w), "%s + %s: got %s, want %s", target, patch, enc(r), want);
    if (json_is_object(t) && json_is_object(p))
        cr_expect_eq(r, t, "patched in place");
    char *after = enc(p);
    cr_expect_str_eq(after, before, "patch changed");
    free(before);
    free(after);
    if (r != t)
        json_decref(t);
    json_decref(r);
    json_decref(p);
    json_decref(w);
}

Test(merge_patch, rfc7386_appendix_a) {
    /* RFC 7386 Appendix A, every row (the row {"a":"b"} + ["c"] appears
     * twice there; RFC 7396 dropped the duplicate) */
    static const char *const v[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        merge_case(v[i][0], v[i][1], v[i][2]);
}

Test(merge_patch, rfc7386_section_3_example_keeps_order) {
    json_t *t = any(L("{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\","
                      "\"familyName\":\"Doe\"},\"tags\":[\"example\",\"sample\"],"
                      "\"content\":\"This will be unchanged\"}"));
    json_t *p = any(L("{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
                      "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}"));
    cr_assert_eq(json_merge_patch(t, p), t);
    assert_encodes(t, "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},"
                      "\"tags\":[\"example\"],\"content\":\"This will be unchanged\","
                      "\"phoneNumber\":\"+01-123-456-7890\"}");
    json_decref(t);
    json_decref(p);
}

Test(merge_patch, reference_counts) {
    json_t *t = any(L("{\"a\":1}"));
    json_t *p = any(L("{\"b\":[1,2],\"c\":{\"d\":null,\"e\":2}}"));
    json_t *r = json_merge_patch(t, p);
    cr_assert_eq(r, t);
    cr_expect_eq(t->refcount, 1);
    cr_expect_eq(p->refcount, 1);
    /* the array is shared (one more reference), the object is a copy */
    cr_expect_eq(json_object_get(t, "b"), json_object_get(p, "b"));
    cr_expect_eq(json_object_get(p, "b")->refcount, 2);
    cr_expect_neq(json_object_get(t, "c"), json_object_get(p, "c"));
    assert_encodes(t, "{\"a\":1,\"b\":[1,2],\"c\":{\"e\":2}}");
    json_decref(p);
    assert_encodes(t, "{\"a\":1,\"b\":[1,2],\"c\":{\"e\":2}}");
    json_decref(t);

    /* non-object patch: a new reference to it; target untouched */
    t = any(L("{\"a\":1}"));
    p = any(L("[3]"));
    r = json_merge_patch(t, p);
    cr_assert_eq(r, p);
    cr_expect_eq(p->refcount, 2);
    assert_encodes(t, "{\"a\":1}");
    json_decref(r);
    json_decref(p);
    json_decref(t);

    /* non-object target: a new object; target untouched */
    t = any(L("[1,2]"));
    p = any(L("{\"a\":{\"b\":null,\"c\":1}}"));
    r = json_merge_patch(t, p);
    cr_assert_not_null(r);
    cr_expect_neq(r, t);
    cr_expect_eq(r->refcount, 1);
    assert_encodes(r, "{\"a\":{\"c\":1}}");
    assert_encodes(t, "[1,2]");
    json_decref(r);
    json_decref(t);
    json_decref(p);
}

Test(merge_patch, absent_target) {
    json_t *p = any(L("{\"a\":null,\"b\":{\"c\":null},\"d\":0}"));
    json_t *r = json_merge_patch(NULL, p);
    cr_assert_not_null(r);
    assert_encodes(r, "{\"b\":{},\"d\":0}");
    json_decref(r);
    json_decref(p);
    cr_expect_null(json_merge_patch(NULL, NULL));
}

Test(merge_patch, nested_in_place_and_deletes) {
    json_t *t = any(L("{\"a\":{\"b\":{\"c\":1,\"d\":2},\"x\":[1]},\"z\":true}"));
    json_t *inner = json_object_get(t, "a");
    json_t *p = any(L("{\"a\":{\"b\":{\"c\":null,\"e\":{\"f\":null,\"g\":3}},\"x\":null},"
                      "\"missing\":null,\"z\":false}"));
    cr_assert_eq(json_merge_patch(t, p), t);
    cr_expect_eq(json_object_get(t, "a"), inner, "nested object patched in place");
    assert_encodes(t, "{\"a\":{\"b\":{\"d\":2,\"e\":{\"g\":3}}},\"z\":false}");
    json_decref(t);
    json_decref(p);
}

Test(merge_patch, patch_applied_to_itself) {
    json_t *t = any(L("{\"a\":null,\"b\":{\"c\":null,\"d\":1},\"e\":[null]}"));
    cr_assert_eq(json_merge_patch(t, t), t);
    assert_encodes(t, "{\"b\":{\"d\":1},\"e\":[null]}");
    json_decref(t);
}

Test(merge_patch, result_survives_patch_release_and_changes) {
    json_t *t = any(L("{}"));
    json_t *p = any(L("{\"o\":{\"k\":\"v\"},\"s\":\"str\"}"));
    cr_assert_eq(json_merge_patch(t, p), t);
    json_object_set_new(json_object_get(t, "o"), "k2", json_true());
    assert_encodes(p, "{\"o\":{\"k\":\"v\"},\"s\":\"str\"}");
    json_decref(p);
    assert_encodes(t, "{\"o\":{\"k\":\"v\",\"k2\":true},\"s\":\"str\"}");
    json_decref(t);
}

/* ==== json_encode ===================================================== */

Test(encode, round_trip_is_compact_and_keeps_order) {
    static const char *in[] = {
        "{\"z\":1,\"a\":2,\"m\":{\"y\":[],\"b\":{}}}",
        "[1,-2,true,false,null,\"s\",[[]],{}]",
        "\"caf\xc3\xa9 \xf0\x9f\x98\x80 / \\\" \\\\ \\n \\t \\u0001 \\u0000\"",
        "9223372036854775807", "-9223372036854775808", "0", "null", "[0.5,-0.0,1.0,1e300]",
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        json_t *v = any(in[i], strlen(in[i]));
        assert_encodes(v, in[i]);
        json_decref(v);
    }
    json_t *v = any(L(" { \"b\" : [ 1 , 2 ] ,\n\"a\" : \"\\u00e9\\/\" } "));
    assert_encodes(v, "{\"b\":[1,2],\"a\":\"\xc3\xa9/\"}");
    json_decref(v);
}

Test(encode, reals_are_readable) {
    static const struct {
        double d;
        const char *want;
    } t[] = {
        {0.1, "[0.1]"},
        {1.0, "[1.0]"},
        {-2.5, "[-2.5]"},
        {1e300, "[1e300]"},
        {1e-7, "[1e-7]"},
        {1.0 / 3, "[0.3333333333333333]"},
        {0.1 + 0.2, "[0.30000000000000004]"},
        {123456789012345678901234567890.0, "[1.2345678901234568e29]"},
        /* a denormal reads back from 15 digits already */
        {5e-324, "[4.94065645841247e-324]"},
        {DBL_MAX, "[1.7976931348623157e308]"},
        {-0.0, "[-0.0]"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        json_t *v = json_pack("[f]", t[i].d);
        assert_encodes(v, t[i].want);
        json_decref(v);
    }
    /* one precision per dump: 0.1 next to a 17-digit real */
    json_t *v = json_pack("[f,f]", 0.1, 0.1 + 0.2);
    assert_encodes(v, "[0.10000000000000001,0.30000000000000004]");
    json_decref(v);
    v = json_pack("{s:f,s:[f]}", "a", 0.1, "b", 1.0 / 3);
    assert_encodes(v, "{\"a\":0.1,\"b\":[0.3333333333333333]}");
    json_decref(v);
}

Test(encode, reals_read_back_exactly) {
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        double d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        double pair[2] = {d, i % 2 ? 0.1 : (double)i / 7};
        json_t *v = json_pack("[f,f]", pair[0], pair[1]);
        char *s = enc(v);
        json_t *back = any(s, strlen(s));
        for (size_t k = 0; k < 2; k++) {
            double b = json_real_value(json_array_get(back, k));
            cr_assert_eq(memcmp(&b, &pair[k], sizeof b), 0, "%a -> %s", pair[k], s);
        }
        json_decref(back);
        json_decref(v);
        free(s);
    }
}

Test(encode, top_level_scalars_and_len) {
    json_t *v = json_integer(42);
    assert_encodes(v, "42");
    json_decref(v);
    v = json_stringn("a\0b", 3);
    size_t len = 0;
    char *s = json_encode(v, &len);
    cr_assert_not_null(s);
    cr_expect_eq(len, 10);
    cr_expect_str_eq(s, "\"a\\u0000b\"");
    free(s);
    s = json_encode(v, NULL);
    cr_expect_str_eq(s, "\"a\\u0000b\"");
    free(s);
    json_decref(v);
    cr_expect_null(json_encode(NULL, &len));
}

Test(encode, tmp_buffer_is_reused_and_shrinks_after_a_big_value) {
    json_t *small = json_pack("{s:i}", "a", 1);
    size_t n1 = 0, n2 = 0, n3 = 0;
    const char *p1 = json_encode_tmp(small, &n1);
    const char *p2 = json_encode_tmp(small, &n2);
    cr_assert_eq(p1, p2, "a small value reuses the buffer");
    cr_assert_eq(n1, 7);
    cr_assert_eq(n2, 7);
    /* 200 KB: past what the thread keeps, given back at the next call */
    char *big = malloc(200000);
    memset(big, 'x', 199999);
    big[199999] = 0;
    json_t *b = json_pack("[s]", big);
    const char *p3 = json_encode_tmp(b, &n3);
    cr_assert_not_null(p3);
    cr_assert_eq(n3, 199999 + 4);
    cr_assert_eq(memcmp(p3, "[\"xx", 4), 0);
    cr_assert_eq(memcmp(p3 + n3 - 3, "x\"]", 3), 0);
    const char *p4 = json_encode_tmp(small, &n1);
    cr_assert_eq(n1, 7);
    cr_assert_eq(memcmp(p4, "{\"a\":1}", 7), 0);
    json_decref(b);
    free(big);
    json_decref(small);
    cr_assert_null(json_encode_tmp(NULL, &n1));
}

Test(encode, parse_patch_encode_like_kv_patch) {
    json_t *t = any(L("{\"n\":9223372036854775807,\"r\":0.1,\"min\":-9223372036854775808,"
                      "\"s\":\"\\u0000\"}"));
    json_t *p = any(L("{\"r\":null,\"add\":2.5,\"id\":9007199254740993}"));
    json_t *r = json_merge_patch(t, p);
    cr_assert_eq(r, t);
    assert_encodes(r, "{\"n\":9223372036854775807,\"min\":-9223372036854775808,\"s\":\"\\u0000\","
                      "\"add\":2.5,\"id\":9007199254740993}");
    json_decref(t);
    json_decref(p);
}
