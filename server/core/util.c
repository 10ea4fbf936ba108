/* Argument parsing and small string helpers shared by every handler. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int arg_eq(const resp_slice *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

int parse_ld(const char *p, size_t n, long double *out) {
    char buf[256];
    if (n == 0 || n >= sizeof buf) return -1;
    if (isspace((unsigned char)p[0])) return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != n || errno == ERANGE || v != v) return -1;
    *out = v;
    return 0;
}

int arg_ll_or_reply(client *c, const resp_slice *a, int64_t *out) {
    if (resp_parse_ll(a->ptr, a->len, out) == 0) return 0;
    reply_not_integer(c);
    return -1;
}

int ll_to_str(char *buf, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    int len = 0;
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    buf[len] = 0;
    return len;
}

static int lower(int ch, int nocase) { return nocase ? tolower(ch) : ch; }

/* Redis glob: * ? [abc] [^a] [a-z] and \x escapes; iterative with
 * backtracking on the last star, so no pattern costs exponential time. */
int glob_match(const char *pat, size_t pl, const char *s, size_t sl, int nocase) {
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sl) {
        if (pi < pl) {
            char pc = pat[pi];
            if (pc == '*') {
                while (pi < pl && pat[pi] == '*') pi++;
                if (pi == pl) return 1;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (pc == '?') { pi++; si++; continue; }
            if (pc == '[') {
                size_t j = pi + 1;
                int neg = 0, match = 0;
                if (j < pl && pat[j] == '^') { neg = 1; j++; }
                while (j < pl && pat[j] != ']') {
                    if (pat[j] == '\\' && j + 1 < pl) {
                        j++;
                        if (lower((unsigned char)pat[j], nocase) == lower((unsigned char)s[si], nocase)) match = 1;
                        j++;
                    } else if (j + 2 < pl && pat[j + 1] == '-' && pat[j + 2] != ']') {
                        int a = lower((unsigned char)pat[j], nocase), b = lower((unsigned char)pat[j + 2], nocase);
                        int ch = lower((unsigned char)s[si], nocase);
                        if (a > b) { int t = a; a = b; b = t; }
                        if (ch >= a && ch <= b) match = 1;
                        j += 3;
                    } else {
                        if (lower((unsigned char)pat[j], nocase) == lower((unsigned char)s[si], nocase)) match = 1;
                        j++;
                    }
                }
                if (j < pl) j++; /* skip ']' */
                if (neg) match = !match;
                if (match) { pi = j; si++; continue; }
            } else {
                if (pc == '\\' && pi + 1 < pl) pc = pat[pi + 1];
                if (lower((unsigned char)pc, nocase) == lower((unsigned char)s[si], nocase)) {
                    pi += (pat[pi] == '\\' && pi + 1 < pl) ? 2 : 1;
                    si++;
                    continue;
                }
            }
        }
        if (star_p == (size_t)-1) return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pl && pat[pi] == '*') pi++;
    return pi == pl;
}

/* ---- option cursor ---------------------------------------------------- */

int opt_more(opt_cursor *o) { return o->i < o->c->argc; }

int opt_is(opt_cursor *o, const char *name) {
    if (o->i < o->c->argc && arg_eq(&o->c->argv[o->i], name)) {
        o->i++;
        return 1;
    }
    return 0;
}

int opt_value(opt_cursor *o, resp_slice *out) {
    if (o->i >= o->c->argc) {
        reply_syntax_error(o->c);
        return -1;
    }
    *out = o->c->argv[o->i++];
    return 0;
}

int opt_ll(opt_cursor *o, int64_t *out) {
    resp_slice v;
    if (opt_value(o, &v) < 0) return -1;
    return arg_ll_or_reply(o->c, &v, out);
}
