/* Unit tests for server/core/util.c: arg_eq, parse_ld, ll_to_str,
 * glob_match (Redis's stringmatchlen semantics) and the option cursor,
 * which reads a client's argv and replies into its output buffer. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "unit_client.h"
#include "../unit_leak.h"

TestSuite(arg_eq, .fini = unit_leak_check);
TestSuite(parse_ld, .fini = unit_leak_check);
TestSuite(ll_to_str, .fini = unit_leak_check);
TestSuite(glob_match, .fini = unit_leak_check);
TestSuite(opt_cursor, .fini = unit_leak_check);
TestSuite(arg_ll_or_reply, .fini = unit_leak_check);

/* ---- arg_eq ------------------------------------------------------------- */

Test(arg_eq, case_insensitive_and_length_exact) {
    resp_slice a = {"NX", 2};
    cr_expect(arg_eq(&a, "nx"));
    cr_expect(arg_eq(&a, "NX"));
    cr_expect(arg_eq(&a, "nX"));
    cr_expect(!arg_eq(&a, "n"));
    cr_expect(!arg_eq(&a, "nxx"));
    cr_expect(!arg_eq(&a, "xx"));
    /* only len bytes count: the slice is not NUL-terminated */
    resp_slice b = {"GETx", 3};
    cr_expect(arg_eq(&b, "get"));
    cr_expect(!arg_eq(&b, "getx"));
    resp_slice e = {"", 0};
    cr_expect(arg_eq(&e, ""));
    cr_expect(!arg_eq(&e, "a"));
    /* an embedded NUL byte never equals a shorter C string */
    resp_slice z = {"ab\0", 3};
    cr_expect(!arg_eq(&z, "ab"));
}

/* ---- parse_ld ----------------------------------------------------------- */

static int ld(const char *s, long double *out) { return parse_ld(s, strlen(s), out); }

Test(parse_ld, accepts_numbers) {
    long double v = 0;
    cr_expect_eq(ld("1.5", &v), 0);
    cr_expect(v == 1.5L);
    cr_expect_eq(ld("-0.25", &v), 0);
    cr_expect(v == -0.25L);
    cr_expect_eq(ld("10", &v), 0);
    cr_expect(v == 10.0L);
    cr_expect_eq(ld("1e3", &v), 0);
    cr_expect(v == 1000.0L);
    cr_expect_eq(ld(".5", &v), 0);
    cr_expect(v == 0.5L);
    /* as Redis's string2ld: infinity parses (INCRBYFLOAT refuses the result) */
    cr_expect_eq(ld("inf", &v), 0);
    cr_expect(v > 0 && v * 0 != v * 0);
    cr_expect_eq(ld("-inf", &v), 0);
    cr_expect(v < 0);
}

Test(parse_ld, refuses_garbage_and_leaves_out_alone) {
    long double v = 42;
    cr_expect_eq(ld("", &v), -1);
    cr_expect_eq(ld("abc", &v), -1);
    cr_expect_eq(ld(" 1", &v), -1, "leading space");
    cr_expect_eq(ld("1 ", &v), -1, "trailing space");
    cr_expect_eq(ld("1.5x", &v), -1);
    cr_expect_eq(ld("nan", &v), -1);
    cr_expect_eq(ld("-nan", &v), -1);
    cr_expect_eq(ld("1e999999", &v), -1, "overflow (ERANGE)");
    cr_expect_eq(parse_ld("1\0", 2, &v), -1, "embedded NUL");
    cr_expect(v == 42, "out written on failure");
}

Test(parse_ld, length_bound) {
    char buf[300];
    long double v;
    memset(buf, '1', sizeof buf);
    cr_expect_eq(parse_ld(buf, 255, &v), 0, "255 digits fit the buffer");
    cr_expect_eq(parse_ld(buf, 256, &v), -1, "256 bytes do not");
    /* only n bytes are read: the rest of the buffer is not part of it */
    cr_expect_eq(parse_ld("12345", 2, &v), 0);
    cr_expect(v == 12.0L);
}

/* ---- ll_to_str ---------------------------------------------------------- */

static void expect_ll(int64_t v, const char *want) {
    char buf[32];
    memset(buf, 'X', sizeof buf);
    int n = ll_to_str(buf, v);
    cr_expect_str_eq(buf, want);
    cr_expect_eq(n, (int)strlen(want), "length of %s", want);
}

Test(ll_to_str, values) {
    expect_ll(0, "0");
    expect_ll(7, "7");
    expect_ll(-1, "-1");
    expect_ll(10, "10");
    expect_ll(1234567890123LL, "1234567890123");
    expect_ll(-1000, "-1000");
    expect_ll(INT64_MAX, "9223372036854775807");
    expect_ll(INT64_MIN, "-9223372036854775808");
}

/* ---- glob_match --------------------------------------------------------- */

static int gm(const char *pat, const char *s) { return glob_match(pat, strlen(pat), s, strlen(s), 0); }
static int gmi(const char *pat, const char *s) { return glob_match(pat, strlen(pat), s, strlen(s), 1); }

Test(glob_match, literals_star_question) {
    cr_expect(gm("hello", "hello"));
    cr_expect(!gm("hello", "hell"));
    cr_expect(!gm("hello", "helloo"));
    cr_expect(gm("", ""));
    cr_expect(!gm("", "a"));
    cr_expect(gm("*", ""));
    cr_expect(gm("*", "anything"));
    cr_expect(gm("***", "x"));
    cr_expect(gm("h?llo", "hello"));
    cr_expect(gm("h?llo", "hallo"));
    cr_expect(!gm("h?llo", "hllo"));
    cr_expect(!gm("?", ""));
    cr_expect(gm("h*llo", "hllo"));
    cr_expect(gm("h*llo", "heeeello"));
    cr_expect(!gm("h*llo", "heeeellox"));
    cr_expect(gm("user:*", "user:"));
    cr_expect(gm("user:*", "user:42:name"));
    cr_expect(!gm("user:*", "users:42"));
    cr_expect(gm("*:name", "user:42:name"));
    cr_expect(gm("abc***", "abc"));
    cr_expect(gm("a*b*c", "aXXbYYc"));
    cr_expect(!gm("a*b*c", "aXXcYYb"));
    cr_expect(gm("*a*", "banana"));
    /* the star backtracks past a false start */
    cr_expect(gm("*ab", "aab"));
    cr_expect(gm("a*ab", "aaab"));
}

Test(glob_match, classes_ranges_negation) {
    cr_expect(gm("h[ae]llo", "hello"));
    cr_expect(gm("h[ae]llo", "hallo"));
    cr_expect(!gm("h[ae]llo", "hillo"));
    cr_expect(gm("h[^e]llo", "hallo"));
    cr_expect(gm("h[^e]llo", "hbllo"));
    cr_expect(!gm("h[^e]llo", "hello"));
    cr_expect(gm("h[a-b]llo", "hallo"));
    cr_expect(gm("h[a-b]llo", "hbllo"));
    cr_expect(!gm("h[a-b]llo", "hcllo"));
    cr_expect(gm("[0-9][0-9]", "42"));
    cr_expect(!gm("[0-9][0-9]", "4x"));
    cr_expect(!gm("[^0-9]", "5"));
    cr_expect(gm("[^0-9]", "x"));
    /* a reversed range is swapped, as in Redis */
    cr_expect(gm("[z-a]", "m"));
    cr_expect(!gm("[z-a]", "A"));
    /* a class matches exactly one character */
    cr_expect(!gm("[abc]", ""));
    cr_expect(!gm("[abc]", "ab"));
    cr_expect(gm("[abc]*", "cab"));
    /* several ranges and singles in one class */
    cr_expect(gm("[a-cx-z_]", "_"));
    cr_expect(gm("[a-cx-z_]", "y"));
    cr_expect(!gm("[a-cx-z_]", "m"));
}

Test(glob_match, escapes) {
    cr_expect(gm("h\\*llo", "h*llo"));
    cr_expect(!gm("h\\*llo", "hello"));
    cr_expect(gm("\\?", "?"));
    cr_expect(!gm("\\?", "x"));
    cr_expect(gm("\\[x]", "[x]"));
    cr_expect(!gm("\\[x]", "x"));
    cr_expect(gm("a\\\\b", "a\\b"));
    /* escapes inside a class */
    cr_expect(gm("[\\]]", "]"));
    cr_expect(gm("[\\-a]", "-"));
    cr_expect(!gm("[\\-a]", "b"));
    cr_expect(gm("[\\^]", "^"));
    /* a trailing backslash is a literal backslash */
    cr_expect(gm("a\\", "a\\"));
    cr_expect(!gm("a\\", "a"));
}

Test(glob_match, nocase) {
    cr_expect(gmi("HELLO", "hello"));
    cr_expect(gmi("hello", "HeLLo"));
    cr_expect(!gm("HELLO", "hello"));
    cr_expect(gmi("h?LLO", "Hello"));
    cr_expect(gmi("[A-C]x", "bx"));
    cr_expect(gmi("[a-c]x", "BX"));
    cr_expect(!gm("[A-C]x", "bx"));
    cr_expect(gmi("[^A]", "b"));
    cr_expect(!gmi("[^A]", "a"));
    cr_expect(gmi("max-*", "MAX-KV-VALUE-SIZE"));
}

Test(glob_match, binary_safe_lengths) {
    /* lengths, not NUL bytes, end pattern and subject */
    cr_expect(glob_match("a\0b", 3, "a\0b", 3, 0));
    cr_expect(!glob_match("a\0b", 3, "a\0c", 3, 0));
    cr_expect(glob_match("a?b", 3, "a\0b", 3, 0));
    cr_expect(glob_match("a*", 2, "a\0\0\0", 4, 0));
    cr_expect(glob_match("abc", 1, "a", 1, 0), "only pl bytes of the pattern");
    cr_expect(!glob_match("a", 1, "abc", 3, 0));
    /* bytes above 127 compare as bytes */
    cr_expect(gm("\xff*", "\xff\xfe"));
    cr_expect(gm("[\x80-\xff]", "\xc3"));
}

Test(glob_match, no_exponential_backtracking, .timeout = 10) {
    /* "a*a*a*...b" against a long run of a's: exponential in a naive
     * recursive matcher; one backtrack point here */
    char s[4001];
    memset(s, 'a', 4000);
    s[4000] = 0;
    const char *pat = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    cr_expect(!gm(pat, s));
    s[3999] = 'b';
    cr_expect(gm(pat, s));
}

/* ---- the option cursor -------------------------------------------------- */

Test(opt_cursor, walks_options_case_insensitively) {
    unit_client uc;
    const char *args[] = {"SET", "k", "v", "nx", "EX", "100", "keepTTL"};
    unit_client_init(&uc, 7, args);
    client *c = &uc.c;
    opt_cursor o = {c, 3};
    int nx = 0, keepttl = 0;
    int64_t ex = 0;
    while (opt_more(&o)) {
        if (opt_is(&o, "NX")) nx = 1;
        else if (opt_is(&o, "KEEPTTL")) keepttl = 1;
        else if (opt_is(&o, "EX")) cr_assert_eq(opt_ll(&o, &ex), 0);
        else cr_assert_fail("unexpected option at %d", o.i);
    }
    cr_expect(nx && keepttl);
    cr_expect_eq(ex, 100);
    cr_expect_eq(o.i, 7);
    cr_expect_eq(c->out.len, 0, "no reply on success");
    unit_client_free(&uc);
}

Test(opt_cursor, opt_is_consumes_only_on_match) {
    unit_client uc;
    const char *args[] = {"CMD", "LIMIT", "5"};
    unit_client_init(&uc, 3, args);
    opt_cursor o = {&uc.c, 1};
    cr_expect(!opt_is(&o, "LIM"));
    cr_expect(!opt_is(&o, "LIMITS"));
    cr_expect_eq(o.i, 1);
    cr_expect(opt_is(&o, "limit"));
    cr_expect_eq(o.i, 2);
    resp_slice v;
    cr_assert_eq(opt_value(&o, &v), 0);
    cr_expect_eq(v.len, 1);
    cr_expect_eq(v.ptr, uc.c.argv[2].ptr, "the value is a view of the argument");
    cr_expect(!opt_more(&o));
    cr_expect(!opt_is(&o, "LIMIT"), "nothing left to match");
    cr_expect_eq(o.i, 3);
    unit_client_free(&uc);
}

Test(opt_cursor, missing_value_replies_syntax_error) {
    unit_client uc;
    const char *args[] = {"CMD", "AFTER"};
    unit_client_init(&uc, 2, args);
    opt_cursor o = {&uc.c, 1};
    cr_assert(opt_is(&o, "AFTER"));
    resp_slice v;
    cr_expect_eq(opt_value(&o, &v), -1);
    cr_expect_eq(o.i, 2);
    unit_expect_out(&uc, "-ERR syntax error\r\n");
    /* opt_ll on a missing value: the same single error */
    o.i = 2;
    int64_t n = 7;
    cr_expect_eq(opt_ll(&o, &n), -1);
    cr_expect_eq(n, 7);
    unit_expect_out(&uc, "-ERR syntax error\r\n");
    unit_client_free(&uc);
}

Test(opt_cursor, bad_integer_replies_not_integer) {
    static const char *bad[] = {"abc", "1.5", "", " 1", "+1", "01", "9223372036854775808", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unit_client uc;
        const char *args[] = {"CMD", "COUNT", bad[i]};
        unit_client_init(&uc, 3, args);
        opt_cursor o = {&uc.c, 1};
        cr_assert(opt_is(&o, "COUNT"));
        int64_t n = 7;
        cr_expect_eq(opt_ll(&o, &n), -1, "'%s' accepted", bad[i]);
        cr_expect_eq(o.i, 3, "the bad value is consumed");
        unit_expect_out(&uc, "-ERR value is not an integer or out of range\r\n");
        unit_client_free(&uc);
    }
}

Test(opt_cursor, integer_bounds) {
    unit_client uc;
    const char *args[] = {"CMD", "-9223372036854775808", "9223372036854775807", "-0", "0"};
    unit_client_init(&uc, 5, args);
    opt_cursor o = {&uc.c, 1};
    int64_t v;
    cr_expect_eq(opt_ll(&o, &v), 0);
    cr_expect_eq(v, INT64_MIN);
    cr_expect_eq(opt_ll(&o, &v), 0);
    cr_expect_eq(v, INT64_MAX);
    int r = opt_ll(&o, &v); /* Redis's string2ll refuses "-0" */
    cr_expect_eq(r, -1, "-0 accepted as %lld", (long long)v);
    cr_expect_eq(opt_ll(&o, &v), 0);
    cr_expect_eq(v, 0);
    unit_client_free(&uc);
}

Test(arg_ll_or_reply, replies_only_on_failure) {
    unit_client uc;
    const char *args[] = {"CMD", "12", "x"};
    unit_client_init(&uc, 3, args);
    int64_t v = 0;
    cr_expect_eq(arg_ll_or_reply(&uc.c, &uc.c.argv[1], &v), 0);
    cr_expect_eq(v, 12);
    cr_expect_eq(uc.c.out.len, 0);
    cr_expect_eq(arg_ll_or_reply(&uc.c, &uc.c.argv[2], &v), -1);
    cr_expect_eq(v, 12);
    unit_expect_out(&uc, "-ERR value is not an integer or out of range\r\n");
    unit_client_free(&uc);
}
