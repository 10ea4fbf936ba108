/* Shared pieces of the collection families. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_args.h"
#include "cmd_keys.h"
#include "block.h"

int coll_open_arg(client *c, int ki, unsigned type, coll *co) {
    return coll_open(KS(c), c->db, c->argv[ki].ptr, c->argv[ki].len, type, co);
}

int coll_ld_format(char *buf, size_t cap, long double v) {
    int n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n >= cap) return snprintf(buf, cap, "%.17Lg", v);
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0') n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = 0;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; buf[1] = 0; n = 1; }
    return n;
}

int coll_scan_command(client *c, unsigned type, char kind, int values) {
    int64_t cur, count;
    resp_slice pat;
    if (scan_args(c, 2, &cur, &pat, &count, NULL) < 0) return -1;
    coll co;
    int r = coll_open_arg(c, 1, type, &co);
    if (r <= 0) {
        coll_free(&co);
        if (r < 0) return -1;
        reply_array(c, 2);
        reply_bulkstr(c, "0");
        reply_array(c, 0);
        return 0;
    }
    store_iter *it = coll_iter(KS(c), &co, kind);
    if (!it) {
        coll_free(&co);
        reply_error(c, "ERR out of memory");
        return -1;
    }
    size_t start = c->out.len;
    reply_array(c, 2);
    reply_bulkstr(c, "0");
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t ml, vl;
        const char *m = coll_iter_member(&co, it, &ml);
        const char *v = store_iter_value(it, &vl);
        if (pat.ptr && !glob_match(pat.ptr, pat.len, m, ml, 0)) continue;
        reply_bulk(c, m, ml);
        n++;
        if (values == COLL_SCAN_VALUE) {
            reply_bulk(c, v, vl);
            n++;
        } else if (values == COLL_SCAN_SCORE) {
            /* Redis 7.0's score format */
            double d = vl >= 8 ? enc_get_double(v) : 0;
            char buf[64];
            int dl = isinf(d) ? snprintf(buf, sizeof buf, "%s", d > 0 ? "inf" : "-inf") : snprintf(buf, sizeof buf, "%.17g", d);
            reply_bulk(c, buf, (size_t)dl);
            n++;
        }
    }
    int bad = store_iter_error(it, NULL);
    store_iter_free(it);
    coll_free(&co);
    if (bad < 0) {
        c->out.len = start;
        reply_error(c, "ERR storage error while scanning");
        return -1;
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

void coll_notify(client *c, int type, const char *event, const resp_slice *key, const coll *co) {
    notify_key(c, type, event, key);
    if (co && co->size <= 0) notify_key(c, NOTIFY_GENERIC, "del", key);
}

int coll_mpop_args(client *c, int at, int *nkeys, int *second, int64_t *count, const char *first, const char *second_word) {
    int64_t nk;
    if (resp_parse_ll(c->argv[at].ptr, c->argv[at].len, &nk) < 0 || nk <= 0) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return -1;
    }
    if (nk > c->argc - at - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    int wi = at + 1 + (int)nk;
    if (arg_eq(&c->argv[wi], first)) *second = 0;
    else if (arg_eq(&c->argv[wi], second_word)) *second = 1;
    else {
        reply_syntax_error(c);
        return -1;
    }
    *count = 1;
    int seen = 0;
    opt_cursor o = {c, wi + 1};
    while (opt_more(&o)) {
        if (!seen && opt_is(&o, "count")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0) return -1;
            if (resp_parse_ll(v.ptr, v.len, count) < 0 || *count <= 0) {
                reply_error(c, "ERR count should be greater than 0");
                return -1;
            }
            seen = 1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    *nkeys = (int)nk;
    return 0;
}

int coll_card_command(client *c, unsigned type) {
    coll co;
    int r = coll_open_arg(c, 1, type, &co);
    coll_free(&co);
    if (r < 0) return -1;
    reply_int(c, r ? co.size : 0);
    return 0;
}

int coll_mpop_command(client *c, int blocking, coll_pop_first_fn pop, const char *first, const char *second) {
    int nk, side, at = blocking ? 2 : 1;
    int64_t count;
    uint64_t deadline = 0;
    if (blocking && block_timeout_arg(c, &c->argv[1], &deadline) < 0) return -1;
    if (coll_mpop_args(c, at, &nk, &side, &count, first, second) < 0) return -1;
    int r = pop(c, at + 1, nk, side, count, 1);
    if (r != 0) return r < 0 ? -1 : 0;
    if (!blocking) {
        reply_null_array(c);
        return 0;
    }
    return block_or_nil(c, at + 1, nk, deadline, 0);
}

int coll_bpop_command(client *c, coll_pop_first_fn pop, int side) {
    uint64_t deadline;
    if (block_timeout_arg(c, &c->argv[c->argc - 1], &deadline) < 0) return -1;
    int r = pop(c, 1, c->argc - 2, side, 1, 0);
    if (r != 0) return r < 0 ? -1 : 0;
    return block_or_nil(c, 1, c->argc - 2, deadline, 0);
}
