/* Fuzz target: argument helpers (server/util.c): parse_ll, parse_ld,
 * ll_to_str, glob_match, arg_eq and the option cursor.
 *
 * The option cursor takes a client; it only reads c->argv/c->argc and
 * replies through c->out, so a zeroed client with those fields set drives
 * it without a server or a connection.
 *
 * Input: one byte picks what the rest is used as (every part runs on
 * every input, the byte only varies the split):
 *   - parse_ll against a reference (Redis string2ll rules, strtoll value);
 *   - parse_ld: accepted text is what strtold reads whole, not NaN;
 *   - ll_to_str then parse_ll gives the number back;
 *   - glob_match against a memoized recursive matcher with the same token
 *     rules (checks the iterative star backtracking), plus: a fully
 *     escaped string matches itself and nothing longer, "*" matches all;
 *   - the option cursor over arguments split at NUL bytes. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "server.h"

/* ---- parse_ll ------------------------------------------------------------ */

static int ref_parse_ll(const char *p, size_t n, int64_t *out) {
    char buf[32];
    size_t i = 0;
    if (n == 0 || n > 20) return -1;
    if (p[0] == '-') i = 1;
    if (i == n) return -1;
    if (p[i] == '0' && !(n == 1)) return -1; /* "0" alone only; no "-0" */
    for (size_t k = i; k < n; k++)
        if (p[k] < '0' || p[k] > '9') return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE) return -1;
    *out = v;
    return 0;
}

static void check_ll(const char *p, size_t n) {
    int64_t a = 0x5a5a, b = 0x5a5a;
    int ra = resp_parse_ll(p, n, &a), rb = ref_parse_ll(p, n, &b);
    FUZZ_CHECK(ra == rb);
    if (ra == 0) {
        FUZZ_CHECK(a == b);
        char buf[24];
        int len = ll_to_str(buf, a);
        FUZZ_CHECK(len >= 1 && len <= 20 && (size_t)len == strlen(buf));
        FUZZ_CHECK((size_t)len == n && memcmp(buf, p, n) == 0); /* canonical */
    } else {
        FUZZ_CHECK(a == 0x5a5a); /* untouched */
    }
}

static void check_ll_to_str(int64_t v) {
    char buf[24];
    int64_t back;
    int len = ll_to_str(buf, v);
    FUZZ_CHECK(len >= 1 && len <= 20 && buf[len] == 0);
    FUZZ_CHECK(resp_parse_ll(buf, (size_t)len, &back) == 0 && back == v);
}

/* ---- parse_ld ------------------------------------------------------------ */

static void check_ld(const char *p, size_t n) {
    long double v;
    if (parse_ld(p, n, &v) != 0) return;
    char buf[300];
    char *end;
    FUZZ_CHECK(n > 0 && n < sizeof buf && !memchr(p, 0, n));
    FUZZ_CHECK(!isspace((unsigned char)p[0]));
    memcpy(buf, p, n);
    buf[n] = 0;
    long double w = strtold(buf, &end);
    FUZZ_CHECK(end == buf + n);
    FUZZ_CHECK(v == v && (v == w || (v != v && w != w)));
}

/* ---- glob_match ------------------------------------------------------------ */

enum { T_LIT, T_ANY, T_STAR, T_CLASS };
typedef struct tok {
    int kind;
    size_t a, b; /* T_LIT: a = the byte's index; T_CLASS: pat[a..b) inside [] */
    int neg;
} tok;

static int low(int ch, int nocase) { return nocase ? tolower(ch) : ch; }

/* The same bracket rules as util.c, as a predicate over the class body
 * pat[j..end): "\x" is x, "a-z" a range (either order), else a byte. */
static int class_has(const char *pat, size_t j, size_t end, unsigned char ch, int nocase) {
    int c = low(ch, nocase);
    while (j < end) {
        if (pat[j] == '\\' && j + 1 < end) {
            if (low((unsigned char)pat[j + 1], nocase) == c) return 1;
            j += 2;
        } else if (j + 2 < end && pat[j + 1] == '-' && pat[j + 2] != ']') {
            int a = low((unsigned char)pat[j], nocase), b = low((unsigned char)pat[j + 2], nocase);
            if (a > b) { int t = a; a = b; b = t; }
            if (c >= a && c <= b) return 1;
            j += 3;
        } else {
            if (low((unsigned char)pat[j], nocase) == c) return 1;
            j++;
        }
    }
    return 0;
}

static size_t tokenize(const char *pat, size_t pl, tok *t) {
    size_t nt = 0, pi = 0;
    while (pi < pl) {
        tok *k = &t[nt++];
        k->neg = 0;
        if (pat[pi] == '*') {
            k->kind = T_STAR;
            while (pi < pl && pat[pi] == '*') pi++;
        } else if (pat[pi] == '?') {
            k->kind = T_ANY;
            pi++;
        } else if (pat[pi] == '[') {
            size_t j = pi + 1;
            k->kind = T_CLASS;
            if (j < pl && pat[j] == '^') { k->neg = 1; j++; }
            k->a = j;
            /* find the closing ']' the way util.c walks the class */
            while (j < pl && pat[j] != ']') {
                if (pat[j] == '\\' && j + 1 < pl) j += 2;
                else if (j + 2 < pl && pat[j + 1] == '-' && pat[j + 2] != ']') j += 3;
                else j++;
            }
            if (j > pl) j = pl;
            k->b = j;
            pi = j < pl ? j + 1 : pl;
        } else {
            k->kind = T_LIT;
            if (pat[pi] == '\\' && pi + 1 < pl) pi++;
            k->a = pi++;
        }
    }
    return nt;
}

#define GLOB_MAX 48

static int tok_match(const char *pat, const tok *k, unsigned char ch, int nocase) {
    switch (k->kind) {
    case T_ANY: return 1;
    case T_LIT: return low((unsigned char)pat[k->a], nocase) == low(ch, nocase);
    case T_CLASS: return class_has(pat, k->a, k->b, ch, nocase) != k->neg;
    }
    return 0;
}

static int ref_glob(const char *pat, size_t pl, const char *s, size_t sl, int nocase) {
    static tok t[GLOB_MAX];
    static signed char memo[GLOB_MAX + 1][GLOB_MAX + 1];
    size_t nt = tokenize(pat, pl, t);
    /* m[ti][si]: tokens ti.. match s[si..) ; filled backwards */
    for (size_t ti = nt + 1; ti-- > 0;) {
        for (size_t si = sl + 1; si-- > 0;) {
            int r;
            if (ti == nt) r = si == sl;
            else if (t[ti].kind == T_STAR) r = memo[ti + 1][si] || (si < sl && memo[ti][si + 1]);
            else r = si < sl && tok_match(pat, &t[ti], (unsigned char)s[si], nocase) && memo[ti + 1][si + 1];
            memo[ti][si] = (signed char)r;
        }
    }
    return memo[0][0];
}

static void check_glob(const char *pat, size_t pl, const char *s, size_t sl, int nocase) {
    int got = glob_match(pat, pl, s, sl, nocase);
    FUZZ_CHECK(got == 0 || got == 1);
    if (pl <= GLOB_MAX && sl <= GLOB_MAX) {
        int want = ref_glob(pat, pl, s, sl, nocase);
        if (got != want) {
            fprintf(stderr, "glob_match(\"%.*s\", \"%.*s\", nocase=%d) = %d, reference %d\n",
                    (int)pl, pat, (int)sl, s, nocase, got, want);
            FUZZ_CHECK(got == want);
        }
    }
    /* "*" and a star in front */
    FUZZ_CHECK(glob_match("*", 1, s, sl, nocase) == 1);
    FUZZ_CHECK(glob_match("", 0, s, sl, nocase) == (sl == 0));
    if (got && pl < 200) {
        char star[201];
        star[0] = '*';
        memcpy(star + 1, pat, pl);
        FUZZ_CHECK(glob_match(star, pl + 1, s, sl, nocase) == 1);
    }
    /* every byte escaped: matches s and nothing one byte longer */
    if (sl <= 64) {
        char esc[128], longer[65];
        for (size_t i = 0; i < sl; i++) {
            esc[2 * i] = '\\';
            esc[2 * i + 1] = s[i];
        }
        FUZZ_CHECK(glob_match(esc, 2 * sl, s, sl, nocase) == 1);
        memcpy(longer, s, sl);
        longer[sl] = 'x';
        FUZZ_CHECK(glob_match(esc, 2 * sl, longer, sl + 1, nocase) == 0);
    }
}

/* ---- option cursor ----------------------------------------------------------- */

static void check_cursor(const uint8_t *data, size_t size, uint8_t sel) {
    resp_slice argv[32];
    int argc = 0;
    size_t start = 0;
    client *c = calloc(1, sizeof *c);
    FUZZ_CHECK(c);

    for (size_t i = 0; i <= size && argc < 32; i++) {
        if (i == size || data[i] == 0) {
            argv[argc].ptr = (const char *)data + start;
            argv[argc].len = i - start;
            argc++;
            start = i + 1;
        }
    }
    c->argv = argv;
    c->argc = argc;
    c->resp = 2 + (sel & 1);
    resp_buf_init(&c->out);

    static const char *names[] = {"NX", "XX", "EX", "PX", "LIMIT", "IDEMP", "AFTER", "GET", ""};
    opt_cursor o = {c, sel % 3};
    int steps = 0, errors = 0;
    while (opt_more(&o)) {
        int before = o.i;
        const char *name = names[(unsigned)(o.i + sel) % 9];
        FUZZ_CHECK(++steps <= 3 * argc + 3);
        if (opt_is(&o, name)) {
            FUZZ_CHECK(o.i == before + 1);
            FUZZ_CHECK(arg_eq(&argv[before], name));
            FUZZ_CHECK(strlen(name) == argv[before].len);
            if ((sel >> 2) & 1) {
                int64_t v;
                size_t mark = c->out.len;
                if (opt_ll(&o, &v) < 0) {
                    errors++;
                    FUZZ_CHECK(c->out.len > mark && c->out.data[mark] == '-');
                    break;
                }
                FUZZ_CHECK(c->out.len == mark);
                FUZZ_CHECK(o.i == before + 2);
            } else {
                resp_slice v;
                if (opt_value(&o, &v) < 0) {
                    errors++;
                    FUZZ_CHECK(o.i == argc);
                    break;
                }
                FUZZ_CHECK(v.ptr == argv[before + 1].ptr && v.len == argv[before + 1].len);
            }
        } else {
            FUZZ_CHECK(o.i == before);
            FUZZ_CHECK(!arg_eq(&argv[before], name));
            o.i++; /* a handler would reply a syntax error; walk on */
        }
        FUZZ_CHECK(o.i <= argc);
    }
    if (!errors) FUZZ_CHECK(c->out.len == 0);
    resp_buf_free(&c->out);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *rest = data;
    size_t rsize = size;
    uint8_t sel = (uint8_t)fuzz_take(&rest, &rsize, 1);
    const char *s = (const char *)rest;

    /* exact-size copy */
    char *copy = malloc(rsize ? rsize : 1);
    FUZZ_CHECK(copy);
    if (rsize) memcpy(copy, s, rsize);

    check_ll(copy, rsize);
    check_ld(copy, rsize);
    if (rsize >= 8) {
        int64_t v;
        memcpy(&v, copy, 8);
        check_ll_to_str(v);
    }
    /* the pattern and the string: split at the first NUL, else at sel */
    const char *z = memchr(copy, 0, rsize);
    size_t pl = z ? (size_t)(z - copy) : (rsize ? sel % (rsize + 1) : 0);
    size_t so = z ? pl + 1 : pl;
    check_glob(copy, pl, copy + so, rsize - so, sel & 1);
    check_glob(copy, pl, copy + so, rsize - so, !(sel & 1));
    check_cursor(rest, rsize, sel);
    free(copy);
    return 0;
}
