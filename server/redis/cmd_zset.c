/* Sorted set commands (Redis 7.0): ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
 * ZRANK ZREVRANK ZRANGE (BYSCORE|BYLEX, REV, LIMIT) ZRANGESTORE ZREVRANGE
 * ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZCOUNT
 * ZLEXCOUNT ZREMRANGEBYRANK/SCORE/LEX ZUNION[STORE] ZINTER[STORE]
 * ZDIFF[STORE] ZINTERCARD ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZSCAN and the
 * blocking BZPOPMIN BZPOPMAX BZMPOP (core/block.h).
 *
 * A sorted set is a collection (keyspace/coll.h) with two records per
 * member: 'm' member -> score (8 bytes, order-preserving) and the score
 * index 'z' score || member -> "". The index is ordered as Redis orders a
 * sorted set (score, then member bytes), so a score range is a seek plus a
 * scan, and a lex range a seek plus a scan of the member records. Ranks
 * are counted by walking the index (O(rank)). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coll_args.h"
#include "encoding.h"
#include "server.h"
#include "cmd_zset.h"

/* ---- records -------------------------------------------------------------- */

/* 1 member found (*score), 0 absent, -1 error. */
static int zs_score(client *c, coll *z, const char *m, size_t ml, double *score) {
    store_val v;
    int r = coll_get(KS(c), z, ENC_ELEM_ZMEMBER, m, ml, &v);
    if (r == 1) {
        *score = v.len >= 8 ? enc_get_double(v.ptr) : 0;
        store_val_free(&v);
    }
    return r;
}

static int zs_index(client *c, coll *z, double score, const char *m, size_t ml, int del) {
    char stack[256]; /* no malloc for the usual member */
    char *k = 8 + ml <= sizeof stack ? stack : malloc(8 + ml);
    if (!k) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    enc_put_double(k, score);
    if (ml) memcpy(k + 8, m, ml);
    int r = del ? coll_del(KS(c), z, ENC_ELEM_ZSCORE, k, 8 + ml) : coll_put(KS(c), z, ENC_ELEM_ZSCORE, k, 8 + ml, "", 0);
    if (k != stack) free(k);
    return r;
}

/* Sets m's score (had: whether it was a member, with old). */
static int zs_set(client *c, coll *z, const char *m, size_t ml, int had, double old, double score) {
    if (had) {
        if (old == score) return 0;
        if (zs_index(c, z, old, m, ml, 1) < 0) return -1;
    } else {
        z->size++;
    }
    char sv[8];
    enc_put_double(sv, score);
    if (coll_put(KS(c), z, ENC_ELEM_ZMEMBER, m, ml, sv, 8) < 0) return -1;
    return zs_index(c, z, score, m, ml, 0);
}

static int zs_rem(client *c, coll *z, const char *m, size_t ml, double score) {
    z->size--;
    if (coll_del(KS(c), z, ENC_ELEM_ZMEMBER, m, ml) < 0) return -1;
    return zs_index(c, z, score, m, ml, 1);
}

/* A score argument, read as Redis reads it (strtod: "inf", "-inf", any
 * length; a long double would round twice). 0 ok, -1 bad. */
static int parse_score(const resp_slice *a, double *out) {
    char stack[128];
    if (a->len == 0 || isspace((unsigned char)a->ptr[0])) return -1;
    char *buf = a->len < sizeof stack ? stack : malloc(a->len + 1);
    if (!buf) return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int bad = (size_t)(end - buf) != a->len || (errno == ERANGE && (isinf(v) || v == 0)) || isnan(v); /* as Redis: subnormals pass */
    if (buf != stack) free(buf);
    if (bad) return -1;
    *out = v;
    return 0;
}

/* ---- ranges ----------------------------------------------------------------- */

enum { BY_RANK, BY_SCORE, BY_LEX };

typedef struct zrange {
    int by, rev;
    int64_t start, stop;          /* BY_RANK: normalized positions */
    double min, max;              /* BY_SCORE */
    int minex, maxex;
    /* BY_LEX: kind -1 = "-", 1 = "+", 0 = a member (ex: exclusive) */
    int lmink, lmaxk;
    resp_slice lmin, lmax;
    int64_t offset, limit;        /* LIMIT (limit < 0: all) */
} zrange;

static int parse_score_bound(const resp_slice *a, double *v, int *ex) {
    resp_slice s = *a;
    *ex = 0;
    if (s.len && s.ptr[0] == '(') {
        *ex = 1;
        s.ptr++;
        s.len--;
    }
    return parse_score(&s, v);
}

static int parse_lex_bound(const resp_slice *a, int *kind, resp_slice *m, int *ex) {
    if (a->len == 1 && a->ptr[0] == '-') { *kind = -1; return 0; }
    if (a->len == 1 && a->ptr[0] == '+') { *kind = 1; return 0; }
    if (a->len >= 1 && (a->ptr[0] == '(' || a->ptr[0] == '[')) {
        *kind = 0;
        *ex = a->ptr[0] == '(';
        m->ptr = a->ptr + 1;
        m->len = a->len - 1;
        return 0;
    }
    return -1;
}

/* Whether member m is above the lex min / below the lex max. */
static int lex_ge_min(const zrange *r, const char *m, size_t ml) {
    if (r->lmink == -1) return 1;
    if (r->lmink == 1) return 0;
    int c = enc_bytes_cmp(m, ml, r->lmin.ptr, r->lmin.len);
    return r->minex ? c > 0 : c >= 0;
}
static int lex_le_max(const zrange *r, const char *m, size_t ml) {
    if (r->lmaxk == 1) return 1;
    if (r->lmaxk == -1) return 0;
    int c = enc_bytes_cmp(m, ml, r->lmax.ptr, r->lmax.len);
    return r->maxex ? c < 0 : c <= 0;
}

/* Collects the members of range r of z into out (member, value = the 8
 * score bytes), in reply order. */
static int zs_range(client *c, coll *z, const zrange *r, coll_items *out) {
    coll_items_init(out);
    if (!z->found || r->limit == 0) return 0;
    int lex = r->by == BY_LEX;
    store_iter *it = NULL;
    /* The iterator is bounded by the range itself, so that it never walks
     * the deletion marks outside it (popped members at the ends). */
    if (r->by == BY_SCORE) {
        char lo[8], hi[8];
        enc_put_double(lo, r->min);
        enc_put_double(hi, nextafter(r->max, INFINITY));
        int to_end = isinf(r->max) && r->max > 0;
        it = coll_iter_range(KS(c), z, ENC_ELEM_ZSCORE, lo, 8, hi, to_end ? 0 : 8);
    } else if (lex) {
        if (r->lmink == 1 || r->lmaxk == -1) return 0; /* nothing above + or below - */
        char *hi = NULL;
        size_t hl = 0;
        if (r->lmaxk == 0) { /* just past lmax: lmax itself is in bounds */
            hi = malloc(r->lmax.len + 1);
            if (!hi) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
            memcpy(hi, r->lmax.ptr, r->lmax.len);
            hi[r->lmax.len] = 0;
            hl = r->lmax.len + 1;
        }
        it = coll_iter_range(KS(c), z, ENC_ELEM_ZMEMBER, r->lmink == 0 ? r->lmin.ptr : NULL,
                             r->lmink == 0 ? r->lmin.len : 0, hi, hl);
        free(hi);
    } else {
        it = coll_iter(KS(c), z, ENC_ELEM_ZSCORE);
    }
    if (!it) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    if (r->rev) store_iter_seek_last(it);
    int64_t pos = 0, skipped = 0;
    int rc = 0;
    for (; store_iter_valid(it); r->rev ? store_iter_prev(it) : store_iter_next(it), pos++) {
        size_t ml, vl;
        const char *m = coll_iter_member(z, it, &ml);
        const char *v = store_iter_value(it, &vl);
        double score;
        char sb[8];
        if (lex) {
            if (vl < 8) continue;
            memcpy(sb, v, 8);
            if (r->rev ? !lex_le_max(r, m, ml) : !lex_ge_min(r, m, ml)) continue; /* the boundary itself */
            if (r->rev ? !lex_ge_min(r, m, ml) : !lex_le_max(r, m, ml)) break;
        } else {
            if (ml < 8) continue;
            memcpy(sb, m, 8);
            score = enc_get_double(m);
            m += 8;
            ml -= 8;
            if (r->by == BY_RANK) {
                int64_t rank = pos;
                if (rank < r->start) continue;
                if (rank > r->stop) break;
            } else if (!r->rev) {
                if (score < r->min || (r->minex && score == r->min)) continue;
                if (score > r->max || (r->maxex && score == r->max)) break;
            } else {
                if (score > r->max || (r->maxex && score == r->max)) continue;
                if (score < r->min || (r->minex && score == r->min)) break;
            }
        }
        if (skipped < r->offset) {
            skipped++;
            continue;
        }
        if (coll_items_add(out, m, ml, sb, 8) < 0) {
            rc = st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
            break;
        }
        if (r->limit > 0 && (int64_t)out->n >= r->limit) break;
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) rc = st_storage(&KS(c)->err, err);
    store_iter_free(it);
    return rc;
}

/* A score as Redis 7.0 replies it: "%.17g" (1 -> "1", 0.1 ->
 * "0.10000000000000001"), "inf" / "-inf". */
static void reply_score(client *c, double d) {
    if (c->resp == 3) {
        reply_double(c, d);
        return;
    }
    char buf[64];
    int n = isinf(d) ? snprintf(buf, sizeof buf, "%s", d > 0 ? "inf" : "-inf") : snprintf(buf, sizeof buf, "%.17g", d);
    reply_bulk(c, buf, (size_t)n);
}

static double item_score(const coll_items *ci, size_t i) { return enc_get_double(coll_item_v(ci, i)); }

static void reply_scored(client *c, const coll_items *ci, int withscores) {
    int pairs = withscores && c->resp == 3;
    reply_array(c, (int64_t)(withscores && !pairs ? ci->n * 2 : ci->n));
    for (size_t i = 0; i < ci->n; i++) {
        if (pairs) reply_array(c, 2);
        reply_bulk(c, coll_item_m(ci, i), ci->it[i].ml);
        if (withscores) reply_score(c, item_score(ci, i));
    }
}

/* ---- ZADD / ZINCRBY / ZREM / reads ------------------------------------------ */

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
static int zadd_command(client *c) {
    enum { NX = 1, XX = 2, GT = 4, LT = 8, CH = 16, INCR = 32 };
    int fl = 0, i = 2;
    for (; i < c->argc; i++) {
        const resp_slice *a = &c->argv[i];
        if (arg_eq(a, "nx")) fl |= NX;
        else if (arg_eq(a, "xx")) fl |= XX;
        else if (arg_eq(a, "gt")) fl |= GT;
        else if (arg_eq(a, "lt")) fl |= LT;
        else if (arg_eq(a, "ch")) fl |= CH;
        else if (arg_eq(a, "incr")) fl |= INCR;
        else break;
    }
    int pairs = c->argc - i;
    if (pairs <= 0 || pairs % 2) {
        reply_syntax_error(c);
        return -1;
    }
    pairs /= 2;
    if ((fl & NX) && (fl & XX)) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return -1;
    }
    if (((fl & GT) && (fl & LT)) || ((fl & NX) && (fl & (GT | LT)))) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return -1;
    }
    if ((fl & INCR) && pairs > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return -1;
    }
    double *scores = malloc((size_t)pairs * sizeof *scores);
    if (!scores) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    for (int p = 0; p < pairs; p++) {
        if (parse_score(&c->argv[i + 2 * p], &scores[p]) < 0) {
            free(scores);
            reply_error(c, "ERR value is not a valid float");
            return -1;
        }
    }
    coll z;
    int64_t added = 0, changed = 0;
    double result = 0;
    int result_nil = 0;
    if (coll_open_arg(c, 1, ENC_TYPE_ZSET, &z) < 0) goto fail;
    for (int p = 0; p < pairs; p++) {
        const resp_slice *m = &c->argv[i + 2 * p + 1];
        double old = 0, score = scores[p];
        int had = zs_score(c, &z, m->ptr, m->len, &old);
        if (had < 0) goto fail;
        if ((fl & NX && had) || (fl & XX && !had)) {
            result_nil = 1;
            continue;
        }
        if (fl & INCR) {
            score = had ? old + score : score;
            if (isnan(score)) {
                reply_error(c, "ERR resulting score is not a number (NaN)");
                goto fail;
            }
        }
        if (had && ((fl & GT && !(score > old)) || (fl & LT && !(score < old)))) {
            result_nil = 1;
            continue;
        }
        if (zs_set(c, &z, m->ptr, m->len, had, old, score) < 0) goto fail;
        if (!had) added++;
        else if (old != score) changed++;
        result = score;
    }
    if (added || changed) {
        if (coll_save(KS(c), &z) < 0) goto fail;
        coll_notify(c, NOTIFY_ZSET, fl & INCR ? "zincr" : "zadd", &c->argv[1], NULL);
    }
    coll_free(&z);
    free(scores);
    if (fl & INCR) {
        if (result_nil) reply_null(c);
        else reply_score(c, result);
    } else {
        reply_int(c, added + (fl & CH ? changed : 0));
    }
    return 0;
fail:
    coll_free(&z);
    free(scores);
    return -1;
}

/* ZINCRBY key increment member */
static int zincrby_command(client *c) {
    double by, old = 0;
    if (parse_score(&c->argv[2], &by) < 0) {
        reply_error(c, "ERR value is not a valid float");
        return -1;
    }
    coll z;
    const resp_slice *m = &c->argv[3];
    int had;
    if (coll_open_arg(c, 1, ENC_TYPE_ZSET, &z) < 0 || (had = zs_score(c, &z, m->ptr, m->len, &old)) < 0) goto fail;
    double score = had ? old + by : by;
    if (isnan(score)) {
        reply_error(c, "ERR resulting score is not a number (NaN)");
        goto fail;
    }
    if (zs_set(c, &z, m->ptr, m->len, had, old, score) < 0 || coll_save(KS(c), &z) < 0) goto fail;
    if (!had || old != score) coll_notify(c, NOTIFY_ZSET, "zincr", &c->argv[1], NULL); /* a change only, as Redis */
    coll_free(&z);
    reply_score(c, score);
    return 0;
fail:
    coll_free(&z);
    return -1;
}

/* ZREM key member [member ...] */
static int zrem_command(client *c) {
    coll z;
    int64_t n = 0;
    int r = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    if (r < 0) goto fail;
    for (int i = 2; r > 0 && i < c->argc; i++) {
        double s = 0;
        int had = zs_score(c, &z, c->argv[i].ptr, c->argv[i].len, &s);
        if (had < 0) goto fail;
        if (had && zs_rem(c, &z, c->argv[i].ptr, c->argv[i].len, s) < 0) goto fail;
        n += had;
    }
    if (n) {
        if (coll_save(KS(c), &z) < 0) goto fail;
        coll_notify(c, NOTIFY_ZSET, "zrem", &c->argv[1], &z);
    }
    coll_free(&z);
    reply_int(c, n);
    return 0;
fail:
    coll_free(&z);
    return -1;
}

/* ZCARD key: O(1) */
static int zcard_command(client *c) { return coll_card_command(c, ENC_TYPE_ZSET); }

/* ZSCORE key member / ZMSCORE key member [member ...] */
static int zscore_generic(client *c, int multi) {
    coll z;
    int r = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    if (r < 0) goto fail;
    size_t start = c->out.len;
    if (multi) reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        double s = 0;
        int had = r ? zs_score(c, &z, c->argv[i].ptr, c->argv[i].len, &s) : 0;
        if (had < 0) {
            c->out.len = start;
            goto fail;
        }
        if (had) reply_score(c, s);
        else reply_null(c);
    }
    coll_free(&z);
    return 0;
fail:
    coll_free(&z);
    return -1;
}
static int zscore_command(client *c) { return zscore_generic(c, 0); }
static int zmscore_command(client *c) { return zscore_generic(c, 1); }

/* ZRANK/ZREVRANK key member: counts the index entries before the member. */
static int zrank_generic(client *c, int rev) {
    coll z;
    double s = 0;
    int r = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    const resp_slice *m = &c->argv[2];
    if (r > 0) r = zs_score(c, &z, m->ptr, m->len, &s);
    if (r <= 0) {
        coll_free(&z);
        if (r == 0) reply_null(c);
        return r;
    }
    store_iter *it = coll_iter(KS(c), &z, ENC_ELEM_ZSCORE);
    if (!it) goto oom;
    int64_t rank = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t ml;
        const char *k = coll_iter_member(&z, it, &ml);
        if (ml == 8 + m->len && memcmp(k + 8, m->ptr, m->len) == 0 && enc_get_double(k) == s) break;
        rank++;
    }
    int bad = store_iter_error(it, NULL);
    store_iter_free(it);
    coll_free(&z);
    if (bad < 0) {
        reply_error(c, "ERR storage error while iterating");
        return -1;
    }
    reply_int(c, rev ? z.size - 1 - rank : rank);
    return 0;
oom:
    coll_free(&z);
    reply_error(c, "ERR out of memory");
    return -1;
}
static int zrank_command(client *c) { return zrank_generic(c, 0); }
static int zrevrank_command(client *c) { return zrank_generic(c, 1); }

/* ---- ZRANGE and its family --------------------------------------------------- */

/* Parses min/max (argv[mi], argv[mi + 1]) of r->by; for REV ranges by score
 * or lex the arguments come max first. Replies on error. */
static int parse_bounds(client *c, zrange *r, const resp_slice *lo, const resp_slice *hi) {
    if (r->by == BY_SCORE) {
        if (parse_score_bound(lo, &r->min, &r->minex) < 0 || parse_score_bound(hi, &r->max, &r->maxex) < 0) {
            reply_error(c, "ERR min or max is not a float");
            return -1;
        }
    } else if (r->by == BY_LEX) {
        if (parse_lex_bound(lo, &r->lmink, &r->lmin, &r->minex) < 0 ||
            parse_lex_bound(hi, &r->lmaxk, &r->lmax, &r->maxex) < 0) {
            reply_error(c, "ERR min or max not valid string range item");
            return -1;
        }
    } else {
        if (arg_ll_or_reply(c, lo, &r->start) < 0 || arg_ll_or_reply(c, hi, &r->stop) < 0) return -1;
    }
    return 0;
}

/* Rank bounds against the size; 0 when the range is empty. */
static int rank_norm(zrange *r, int64_t size) {
    int64_t s = r->start, e = r->stop;
    if (s < 0) s += size;
    if (e < 0) e += size;
    if (s < 0) s = 0;
    if (s > e || s >= size) return 0;
    if (e >= size) e = size - 1;
    r->start = s;
    r->stop = e;
    return 1;
}

/* Reads range r of argv[ki] into out. */
static int range_of_key(client *c, int ki, zrange *r, coll_items *out) {
    coll z;
    coll_items_init(out);
    int found = coll_open_arg(c, ki, ENC_TYPE_ZSET, &z);
    int rc = 0;
    if (found < 0) rc = -1;
    else if (found > 0) {
        int nonempty = 1;
        if (r->by == BY_RANK) nonempty = rank_norm(r, z.size); /* REV: positions from the end */
        if (nonempty) {
            coll_items_free(out);
            rc = zs_range(c, &z, r, out);
        }
    }
    coll_free(&z);
    return rc;
}

/* Stores items as the sorted set argv[di] (replacing it); replies the size.
 * event: the notification of a non-empty result; an empty one deletes the
 * destination ("del" when there was one), as Redis. */
static int store_scored(client *c, int di, const coll_items *items, const char *event) {
    coll d;
    if (coll_create(KS(c), c->db, c->argv[di].ptr, c->argv[di].len, ENC_TYPE_ZSET, &d) < 0) goto fail;
    if (items->n == 0) {
        int gone = db_delete(KS(c), c->db, c->argv[di].ptr, c->argv[di].len);
        if (gone < 0) goto fail;
        if (gone) notify_key(c, NOTIFY_GENERIC, "del", &c->argv[di]);
    } else {
        for (size_t i = 0; i < items->n; i++)
            if (zs_set(c, &d, coll_item_m(items, i), items->it[i].ml, 0, 0, item_score(items, i)) < 0) goto fail;
        if (coll_save(KS(c), &d) < 0) goto fail;
        notify_key(c, NOTIFY_ZSET, event, &c->argv[di]);
    }
    coll_free(&d);
    reply_int(c, (int64_t)items->n);
    return 0;
fail:
    coll_free(&d);
    return -1;
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
 * and ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
 * ki is the source key's argument, store the destination's (0: reply). */
static int zrange_generic(client *c, int ki, int store) {
    zrange r = {.by = BY_RANK, .limit = -1};
    int withscores = 0, has_limit = 0;
    opt_cursor o = {c, ki + 3};
    while (opt_more(&o)) {
        if (opt_is(&o, "byscore")) r.by = BY_SCORE;
        else if (opt_is(&o, "bylex")) r.by = BY_LEX;
        else if (opt_is(&o, "rev")) r.rev = 1;
        else if (!store && opt_is(&o, "withscores")) withscores = 1;
        else if (opt_is(&o, "limit")) {
            if (opt_ll(&o, &r.offset) < 0 || opt_ll(&o, &r.limit) < 0) return -1;
            has_limit = 1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    if (has_limit && r.by == BY_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return -1;
    }
    if (withscores && r.by == BY_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return -1;
    }
    const resp_slice *a = &c->argv[ki + 1], *b = &c->argv[ki + 2];
    /* REV by score or lex takes max then min */
    if (r.rev && r.by != BY_RANK ? parse_bounds(c, &r, b, a) : parse_bounds(c, &r, a, b)) return -1;
    if (r.offset < 0) {
        if (r.by != BY_RANK) {
            reply_array(c, 0);
            return 0;
        }
    }
    coll_items ci;
    if (range_of_key(c, ki, &r, &ci) < 0) {
        coll_items_free(&ci);
        return -1;
    }
    int rc = 0;
    if (store) rc = store_scored(c, store, &ci, "zrangestore");
    else reply_scored(c, &ci, withscores);
    coll_items_free(&ci);
    return rc;
}
static int zrange_command(client *c) { return zrange_generic(c, 1, 0); }
static int zrangestore_command(client *c) { return zrange_generic(c, 2, 1); }

/* The older forms: ZREVRANGE key start stop [WITHSCORES];
 * Z[REV]RANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count];
 * Z[REV]RANGEBYLEX key min max [LIMIT offset count]. */
static int zrange_legacy(client *c, int by, int rev) {
    zrange r = {.by = by, .rev = rev, .limit = -1};
    int withscores = 0;
    opt_cursor o = {c, 4};
    while (opt_more(&o)) {
        if (by != BY_LEX && opt_is(&o, "withscores")) withscores = 1;
        else if (by != BY_RANK && opt_is(&o, "limit")) {
            if (opt_ll(&o, &r.offset) < 0 || opt_ll(&o, &r.limit) < 0) return -1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    const resp_slice *a = &c->argv[2], *b = &c->argv[3];
    if (rev && by != BY_RANK ? parse_bounds(c, &r, b, a) : parse_bounds(c, &r, a, b)) return -1;
    if (r.offset < 0 && by != BY_RANK) {
        reply_array(c, 0);
        return 0;
    }
    coll_items ci;
    int rc = range_of_key(c, 1, &r, &ci);
    if (rc == 0) reply_scored(c, &ci, withscores);
    coll_items_free(&ci);
    return rc;
}
static int zrevrange_command(client *c) { return zrange_legacy(c, BY_RANK, 1); }
static int zrangebyscore_command(client *c) { return zrange_legacy(c, BY_SCORE, 0); }
static int zrevrangebyscore_command(client *c) { return zrange_legacy(c, BY_SCORE, 1); }
static int zrangebylex_command(client *c) { return zrange_legacy(c, BY_LEX, 0); }
static int zrevrangebylex_command(client *c) { return zrange_legacy(c, BY_LEX, 1); }

/* ZCOUNT key min max / ZLEXCOUNT key min max */
static int zcount_generic(client *c, int by) {
    zrange r = {.by = by, .limit = -1};
    if (parse_bounds(c, &r, &c->argv[2], &c->argv[3]) < 0) return -1;
    coll_items ci;
    int rc = range_of_key(c, 1, &r, &ci);
    if (rc == 0) reply_int(c, (int64_t)ci.n);
    coll_items_free(&ci);
    return rc;
}
static int zcount_command(client *c) { return zcount_generic(c, BY_SCORE); }
static int zlexcount_command(client *c) { return zcount_generic(c, BY_LEX); }

/* ZREMRANGEBYRANK/SCORE/LEX key min max */
static int zremrange_generic(client *c, int by) {
    zrange r = {.by = by, .limit = -1};
    if (parse_bounds(c, &r, &c->argv[2], &c->argv[3]) < 0) return -1;
    coll z;
    coll_items ci;
    coll_items_init(&ci);
    int found = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    if (found < 0) goto fail;
    if (found > 0 && (by != BY_RANK || rank_norm(&r, z.size))) {
        coll_items_free(&ci);
        if (zs_range(c, &z, &r, &ci) < 0) goto fail;
        for (size_t i = 0; i < ci.n; i++)
            if (zs_rem(c, &z, coll_item_m(&ci, i), ci.it[i].ml, item_score(&ci, i)) < 0) goto fail;
        if (ci.n) {
            static const char *const events[] = {[BY_RANK] = "zremrangebyrank", [BY_SCORE] = "zremrangebyscore",
                                                 [BY_LEX] = "zremrangebylex"};
            if (coll_save(KS(c), &z) < 0) goto fail;
            coll_notify(c, NOTIFY_ZSET, events[by], &c->argv[1], &z);
        }
    }
    reply_int(c, (int64_t)ci.n);
    coll_items_free(&ci);
    coll_free(&z);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&z);
    return -1;
}
static int zremrangebyrank_command(client *c) { return zremrange_generic(c, BY_RANK); }
static int zremrangebyscore_command(client *c) { return zremrange_generic(c, BY_SCORE); }
static int zremrangebylex_command(client *c) { return zremrange_generic(c, BY_LEX); }

/* ---- pops ------------------------------------------------------------------- */

/* Pops up to count from z's min (or max) end into out. */
static int zs_pop(client *c, coll *z, int max, int64_t count, coll_items *out) {
    zrange r = {.by = BY_RANK, .rev = max, .start = 0, .stop = count - 1, .limit = -1};
    if (zs_range(c, z, &r, out) < 0) return -1;
    for (size_t i = 0; i < out->n; i++)
        if (zs_rem(c, z, coll_item_m(out, i), out->it[i].ml, item_score(out, i)) < 0) return -1;
    return out->n ? coll_save(KS(c), z) : 0;
}

/* ZPOPMIN/ZPOPMAX key [count] */
static int zpop_generic(client *c, int max) {
    int64_t count = 1;
    if (c->argc > 3) {
        reply_syntax_error(c);
        return -1;
    }
    if (c->argc == 3 && (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return -1;
    }
    coll z;
    coll_items ci;
    coll_items_init(&ci);
    int found = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    if (found < 0) goto fail;
    if (found > 0 && count > 0) {
        coll_items_free(&ci);
        if (zs_pop(c, &z, max, count, &ci) < 0) goto fail;
        if (ci.n) coll_notify(c, NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", &c->argv[1], &z);
    }
    /* RESP3 with a count: pairs; without, and in RESP2: a flat array */
    if (c->argc == 3) reply_scored(c, &ci, 1);
    else {
        reply_array(c, (int64_t)ci.n * 2);
        for (size_t i = 0; i < ci.n; i++) {
            reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
            reply_score(c, item_score(&ci, i));
        }
    }
    coll_items_free(&ci);
    coll_free(&z);
    return 0;
fail:
    coll_items_free(&ci);
    coll_free(&z);
    return -1;
}
static int zpopmin_command(client *c) { return zpop_generic(c, 0); }
static int zpopmax_command(client *c) { return zpop_generic(c, 1); }

/* Pops from the first non-empty sorted set of argv[first..first+n):
 * BZPOP* replies [key, member, score], ZMPOP [key, [[member, score] ...]].
 * 1 served, 0 all empty, -1 failed. */
static int zpop_first(client *c, int first, int n, int max, int64_t count, int mpop) {
    for (int i = first; i < first + n; i++) {
        if (!block_key_in_play(c, &c->argv[i])) continue;
        coll z;
        coll_items ci;
        coll_items_init(&ci);
        int r = coll_open_arg(c, i, ENC_TYPE_ZSET, &z);
        if (r < 0 && !block_allowed(c) && KS(c)->err.code == ST_WRONGTYPE && !(c->flags & CL_IN_EXEC))
            r = 0; /* a re-run: the key became another type, keep waiting (as Redis) */
        if (r > 0) {
            coll_items_free(&ci);
            if (zs_pop(c, &z, max, count, &ci) < 0) r = -1;
            else if (ci.n) coll_notify(c, NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", &c->argv[i], &z);
        }
        coll_free(&z);
        if (r <= 0 || ci.n == 0) {
            coll_items_free(&ci);
            if (r < 0) return -1;
            continue;
        }
        if (mpop) {
            reply_array(c, 2);
            reply_bulk(c, c->argv[i].ptr, c->argv[i].len);
            reply_array(c, (int64_t)ci.n);
            for (size_t j = 0; j < ci.n; j++) {
                reply_array(c, 2);
                reply_bulk(c, coll_item_m(&ci, j), ci.it[j].ml);
                reply_score(c, item_score(&ci, j));
            }
        } else {
            reply_array(c, 3);
            reply_bulk(c, c->argv[i].ptr, c->argv[i].len);
            reply_bulk(c, coll_item_m(&ci, 0), ci.it[0].ml);
            reply_score(c, item_score(&ci, 0));
        }
        coll_items_free(&ci);
        return 1;
    }
    return 0;
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
static int zmpop_command(client *c) { return coll_mpop_command(c, 0, zpop_first, "min", "max"); }

/* BZPOPMIN/BZPOPMAX key [key ...] timeout */
static int bzpopmin_command(client *c) { return coll_bpop_command(c, zpop_first, 0); }
static int bzpopmax_command(client *c) { return coll_bpop_command(c, zpop_first, 1); }

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
static int bzmpop_command(client *c) { return coll_mpop_command(c, 1, zpop_first, "min", "max"); }

/* ZRANDMEMBER key [count [WITHSCORES]] */
static int zrandmember_command(client *c) {
    int64_t count = 1;
    int with_count = c->argc >= 3, withscores = 0;
    if (with_count && arg_ll_or_reply(c, &c->argv[2], &count) < 0) return -1;
    if (c->argc == 4) {
        if (!arg_eq(&c->argv[3], "withscores")) {
            reply_syntax_error(c);
            return -1;
        }
        withscores = 1;
    } else if (c->argc > 4) {
        reply_syntax_error(c);
        return -1;
    }
    if (count < -(INT64_MAX / 2) || count > INT64_MAX / 2) {
        reply_error(c, "ERR value is out of range");
        return -1;
    }
    coll z;
    coll_items ci;
    coll_items_init(&ci);
    int r = coll_open_arg(c, 1, ENC_TYPE_ZSET, &z);
    if (r < 0 || (r > 0 && coll_collect(KS(c), &z, ENC_ELEM_ZMEMBER, -1, 0, &ci) < 0)) {
        coll_items_free(&ci);
        coll_free(&z);
        return -1;
    }
    coll_free(&z);
    if (!with_count) {
        if (ci.n == 0) reply_null(c);
        else {
            size_t i = (size_t)rand() % ci.n;
            reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
        }
        coll_items_free(&ci);
        return 0;
    }
    int pairs = withscores && c->resp == 3;
    size_t n = 0, *idx = NULL;
    if (ci.n && count > 0) {
        n = (size_t)count < ci.n ? (size_t)count : ci.n;
        idx = malloc(ci.n * sizeof *idx);
        if (!idx) {
            coll_items_free(&ci);
            reply_error(c, "ERR out of memory");
            return -1;
        }
        for (size_t i = 0; i < ci.n; i++) idx[i] = i;
        for (size_t i = 0; i < n; i++) {
            size_t j = i + (size_t)rand() % (ci.n - i), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    } else if (ci.n && count < 0) {
        n = (size_t)-count;
    }
    reply_array(c, (int64_t)(withscores && !pairs ? n * 2 : n));
    for (size_t k = 0; k < n; k++) {
        size_t i = idx ? idx[k] : (size_t)rand() % ci.n;
        if (pairs) reply_array(c, 2);
        reply_bulk(c, coll_item_m(&ci, i), ci.it[i].ml);
        if (withscores) reply_score(c, item_score(&ci, i));
    }
    free(idx);
    coll_items_free(&ci);
    return 0;
}

/* ---- set operations ------------------------------------------------------- */

enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

/* The members of argv[ki] with scores, in member order: a sorted set, or a
 * plain set (score 1), as Redis accepts. */
static int read_scored(client *c, int ki, coll_items *out) {
    coll_items_init(out);
    db_value v;
    int r = db_lookup(KS(c), c->db, c->argv[ki].ptr, c->argv[ki].len, &v);
    if (r <= 0) return r;
    unsigned type = v.v.type;
    db_value_free(&v);
    if (type != ENC_TYPE_ZSET && type != ENC_TYPE_SET) {
        reply_wrongtype(c);
        return -1;
    }
    coll z;
    r = coll_open_arg(c, ki, type, &z);
    if (r > 0 && coll_collect(KS(c), &z, type == ENC_TYPE_ZSET ? ENC_ELEM_ZMEMBER : ENC_ELEM_SET, -1, 0, out) < 0) r = -1;
    coll_free(&z);
    if (r > 0 && type == ENC_TYPE_SET) {
        /* give each member the score 1 */
        coll_items s;
        coll_items_init(&s);
        char one[8];
        enc_put_double(one, 1.0);
        for (size_t i = 0; i < out->n; i++)
            if (coll_items_add(&s, coll_item_m(out, i), out->it[i].ml, one, 8) < 0) r = -1;
        coll_items_free(out);
        *out = s;
    }
    return r;
}

static double agg(int how, double a, double b) {
    if (how == AGG_MIN) return a < b ? a : b;
    if (how == AGG_MAX) return a > b ? a : b;
    double s = a + b;
    return isnan(s) ? 0 : s; /* inf + -inf: 0, as Redis */
}

static int cmp_items(const coll_items *a, size_t i, const coll_items *b, size_t j) {
    return enc_bytes_cmp(coll_item_m(a, i), a->it[i].ml, coll_item_m(b, j), b->it[j].ml);
}

static int add_scored(coll_items *out, const coll_items *src, size_t i, double s) {
    char sb[8];
    enc_put_double(sb, s);
    return coll_items_add(out, coll_item_m(src, i), src->it[i].ml, sb, 8);
}

/* acc = acc op (cur scaled by w), both in member order. */
static int zmerge(coll_items *acc, const coll_items *cur, double w, int op, int how, int first, coll_items *out) {
    size_t i = 0, j = 0;
    coll_items_init(out);
    if (first) {
        for (; j < cur->n; j++) {
            double s = item_score(cur, j) * w;
            if (isnan(s)) s = 0;
            if (add_scored(out, cur, j, s) < 0) return -1;
        }
        return 0;
    }
    while (i < acc->n || j < cur->n) {
        int c = i == acc->n ? 1 : j == cur->n ? -1 : cmp_items(acc, i, cur, j);
        if (c == 0) {
            double s = item_score(cur, j) * w;
            if (isnan(s)) s = 0;
            if (op != ZOP_DIFF && add_scored(out, acc, i, agg(how, item_score(acc, i), s)) < 0) return -1;
            i++, j++;
        } else if (c < 0) {
            if (op != ZOP_INTER && add_scored(out, acc, i, item_score(acc, i)) < 0) return -1;
            i++;
        } else {
            double s = item_score(cur, j) * w;
            if (isnan(s)) s = 0;
            if (op == ZOP_UNION && add_scored(out, cur, j, s) < 0) return -1;
            j++;
        }
    }
    return 0;
}

static int cmp_by_score(const void *a, const void *b, void *arg) {
    const coll_items *ci = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = item_score(ci, i), y = item_score(ci, j);
    if (x != y) return x < y ? -1 : 1;
    return cmp_items(ci, i, ci, j);
}

/* Z{UNION,INTER,DIFF}[STORE] [dst] numkeys key [key ...] [WEIGHTS w ...]
 * [AGGREGATE SUM|MIN|MAX] [WITHSCORES]; ZINTERCARD numkeys key ... [LIMIT n]. */
static int zsetop_generic(client *c, int op, int store, int card) {
    int at = store ? 2 : 1;
    int64_t nk;
    const char *name = c->cmd->name;
    if (resp_parse_ll(c->argv[at].ptr, c->argv[at].len, &nk) < 0) {
        reply_not_integer(c);
        return -1;
    }
    if (nk <= 0) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", name);
        return -1;
    }
    if (nk > c->argc - at - 1) {
        if (card) reply_error(c, "ERR Number of keys can't be greater than number of args");
        else reply_syntax_error(c);
        return -1;
    }
    double *w = malloc((size_t)nk * sizeof *w);
    if (!w) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    for (int64_t i = 0; i < nk; i++) w[i] = 1;
    int how = AGG_SUM, withscores = 0;
    int64_t limit = 0;
    opt_cursor o = {c, at + 1 + (int)nk};
    while (opt_more(&o)) {
        if (!card && op != ZOP_DIFF && opt_is(&o, "weights")) {
            for (int64_t i = 0; i < nk; i++) {
                resp_slice v;
                if (!opt_more(&o)) {
                    reply_syntax_error(c);
                    goto bad;
                }
                opt_value(&o, &v); /* consumes the next argument */
                if (parse_score(&v, &w[i]) < 0) {
                    reply_error(c, "ERR weight value is not a float");
                    goto bad;
                }
            }
        } else if (!card && op != ZOP_DIFF && opt_is(&o, "aggregate")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0) goto bad;
            if (arg_eq(&v, "sum")) how = AGG_SUM;
            else if (arg_eq(&v, "min")) how = AGG_MIN;
            else if (arg_eq(&v, "max")) how = AGG_MAX;
            else {
                reply_syntax_error(c);
                goto bad;
            }
        } else if (!card && !store && opt_is(&o, "withscores")) {
            withscores = 1;
        } else if (card && opt_is(&o, "limit")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0) goto bad;
            if (resp_parse_ll(v.ptr, v.len, &limit) < 0 || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                goto bad;
            }
        } else {
            reply_syntax_error(c);
            goto bad;
        }
    }
    coll_items acc;
    coll_items_init(&acc);
    int empty = 0;
    for (int64_t k = 0; k < nk; k++) {
        coll_items cur, out;
        int r = read_scored(c, at + 1 + (int)k, &cur);
        if (r < 0) {
            coll_items_free(&cur);
            coll_items_free(&acc);
            goto bad;
        }
        if (empty || (k > 0 && acc.n == 0 && op != ZOP_UNION)) {
            coll_items_free(&cur);
            continue; /* only the types of the rest matter */
        }
        if (r == 0 && op == ZOP_INTER) empty = 1;
        int m = zmerge(&acc, &cur, w[k], op, how, k == 0, &out);
        coll_items_free(&cur);
        coll_items_free(&acc);
        acc = out;
        if (m < 0) {
            coll_items_free(&acc);
            reply_error(c, "ERR out of memory");
            goto bad;
        }
    }
    if (empty) {
        coll_items_free(&acc);
        coll_items_init(&acc);
    }
    free(w);
    int rc = 0;
    if (card) {
        reply_int(c, limit && (int64_t)acc.n > limit ? limit : (int64_t)acc.n);
    } else if (store) {
        static const char *const events[] = {[ZOP_UNION] = "zunionstore", [ZOP_INTER] = "zinterstore",
                                             [ZOP_DIFF] = "zdiffstore"};
        rc = store_scored(c, 1, &acc, events[op]);
    } else {
        /* reply in score order */
        size_t *idx = malloc((acc.n ? acc.n : 1) * sizeof *idx);
        if (!idx) {
            coll_items_free(&acc);
            reply_error(c, "ERR out of memory");
            return -1;
        }
        for (size_t i = 0; i < acc.n; i++) idx[i] = i;
        qsort_r(idx, acc.n, sizeof *idx, cmp_by_score, &acc);
        int pairs = withscores && c->resp == 3;
        reply_array(c, (int64_t)(withscores && !pairs ? acc.n * 2 : acc.n));
        for (size_t k = 0; k < acc.n; k++) {
            size_t i = idx[k];
            if (pairs) reply_array(c, 2);
            reply_bulk(c, coll_item_m(&acc, i), acc.it[i].ml);
            if (withscores) reply_score(c, item_score(&acc, i));
        }
        free(idx);
    }
    coll_items_free(&acc);
    return rc;
bad:
    free(w);
    return -1;
}
static int zunionstore_command(client *c) { return zsetop_generic(c, ZOP_UNION, 1, 0); }
static int zinterstore_command(client *c) { return zsetop_generic(c, ZOP_INTER, 1, 0); }
static int zdiffstore_command(client *c) { return zsetop_generic(c, ZOP_DIFF, 1, 0); }
static int zunion_command(client *c) { return zsetop_generic(c, ZOP_UNION, 0, 0); }
static int zinter_command(client *c) { return zsetop_generic(c, ZOP_INTER, 0, 0); }
static int zdiff_command(client *c) { return zsetop_generic(c, ZOP_DIFF, 0, 0); }
static int zintercard_command(client *c) { return zsetop_generic(c, ZOP_INTER, 0, 1); }

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static int zscan_command(client *c) { return coll_scan_command(c, ENC_TYPE_ZSET, ENC_ELEM_ZMEMBER, COLL_SCAN_SCORE); }

#define ZK .first_key = 1, .last_key = 1, .key_step = 1, .group = "sortedset"
#define ZR(nm, fn, ar, fl, a, s) {.name = nm, .proc = fn, .arity = ar, .flags = fl, ZK, .args = a, .summary = s}
static const cmd_def rows[] = {
    ZR("zadd", zadd_command, -4, CMD_WRITE | CMD_FAST, "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
       "Adds members with scores, or updates their scores."),
    ZR("zincrby", zincrby_command, 4, CMD_WRITE | CMD_FAST, "key increment member", "Adds to the score of a member."),
    ZR("zrem", zrem_command, -3, CMD_WRITE | CMD_FAST, "key member [member ...]", "Removes members."),
    ZR("zcard", zcard_command, 2, CMD_READONLY | CMD_FAST, "key", "Returns the number of members (O(1))."),
    ZR("zscore", zscore_command, 3, CMD_READONLY | CMD_FAST, "key member", "Returns the score of a member."),
    ZR("zmscore", zmscore_command, -3, CMD_READONLY | CMD_FAST, "key member [member ...]", "Returns the scores of members."),
    ZR("zrank", zrank_command, 3, CMD_READONLY | CMD_FAST, "key member", "Returns the rank of a member (low to high)."),
    ZR("zrevrank", zrevrank_command, 3, CMD_READONLY | CMD_FAST, "key member", "Returns the rank of a member (high to low)."),
    ZR("zrange", zrange_command, -4, CMD_READONLY,
       "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", "Returns a range of members."),
    {.name = "zrangestore", .proc = zrangestore_command, .arity = -5, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "sortedset",
     .args = "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", .summary = "Stores a range of members."},
    ZR("zrevrange", zrevrange_command, -4, CMD_READONLY, "key start stop [WITHSCORES]", "Returns a range by rank, high to low."),
    ZR("zrangebyscore", zrangebyscore_command, -4, CMD_READONLY, "key min max [WITHSCORES] [LIMIT offset count]",
       "Returns members in a score range (a seek and a scan)."),
    ZR("zrevrangebyscore", zrevrangebyscore_command, -4, CMD_READONLY, "key max min [WITHSCORES] [LIMIT offset count]",
       "Returns members in a score range, high to low."),
    ZR("zrangebylex", zrangebylex_command, -4, CMD_READONLY, "key min max [LIMIT offset count]",
       "Returns members in a lexicographical range."),
    ZR("zrevrangebylex", zrevrangebylex_command, -4, CMD_READONLY, "key max min [LIMIT offset count]",
       "Returns members in a lexicographical range, high to low."),
    ZR("zcount", zcount_command, 4, CMD_READONLY | CMD_FAST, "key min max", "Counts the members in a score range."),
    ZR("zlexcount", zlexcount_command, 4, CMD_READONLY | CMD_FAST, "key min max", "Counts the members in a lexicographical range."),
    ZR("zremrangebyrank", zremrangebyrank_command, 4, CMD_WRITE, "key start stop", "Removes the members in a rank range."),
    ZR("zremrangebyscore", zremrangebyscore_command, 4, CMD_WRITE, "key min max", "Removes the members in a score range."),
    ZR("zremrangebylex", zremrangebylex_command, 4, CMD_WRITE, "key min max", "Removes the members in a lexicographical range."),
    ZR("zpopmin", zpopmin_command, -2, CMD_WRITE | CMD_FAST, "key [count]", "Removes and returns the lowest-scored members."),
    ZR("zpopmax", zpopmax_command, -2, CMD_WRITE | CMD_FAST, "key [count]", "Removes and returns the highest-scored members."),
    {.name = "bzpopmin", .proc = bzpopmin_command, .acl = "@blocking", .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "sortedset",
     .args = "key [key ...] timeout", .summary = "ZPOPMIN of the first non-empty sorted set, or blocks."},
    {.name = "bzpopmax", .proc = bzpopmax_command, .acl = "@blocking", .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "sortedset",
     .args = "key [key ...] timeout", .summary = "ZPOPMAX of the first non-empty sorted set, or blocks."},
    {.name = "zmpop", .proc = zmpop_command, .arity = -4, .flags = CMD_WRITE,
     .first_key = 2, .last_key = -2, .key_step = 1, .group = "sortedset",
     .args = "numkeys key [key ...] MIN|MAX [COUNT count]", .summary = "Pops members from the first non-empty sorted set."},
    {.name = "bzmpop", .proc = bzmpop_command, .acl = "@blocking", .arity = -5, .flags = CMD_WRITE,
     .first_key = 3, .last_key = -2, .key_step = 1, .group = "sortedset",
     .args = "timeout numkeys key [key ...] MIN|MAX [COUNT count]", .summary = "ZMPOP, or blocks until a sorted set has members."},
    ZR("zrandmember", zrandmember_command, -2, CMD_READONLY, "key [count [WITHSCORES]]", "Returns random members."),
    {.name = "zunionstore", .proc = zunionstore_command, .arity = -4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sortedset",
     .args = "destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]", .summary = "Stores the union of sorted sets."},
    {.name = "zinterstore", .proc = zinterstore_command, .arity = -4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sortedset",
     .args = "destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]", .summary = "Stores the intersection of sorted sets."},
    {.name = "zdiffstore", .proc = zdiffstore_command, .arity = -4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sortedset",
     .args = "destination numkeys key [key ...]", .summary = "Stores the difference of sorted sets."},
    {.name = "zunion", .proc = zunion_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "sortedset",
     .args = "numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", .summary = "Returns the union of sorted sets."},
    {.name = "zinter", .proc = zinter_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "sortedset",
     .args = "numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", .summary = "Returns the intersection of sorted sets."},
    {.name = "zdiff", .proc = zdiff_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "sortedset",
     .args = "numkeys key [key ...] [WITHSCORES]", .summary = "Returns the difference of sorted sets."},
    {.name = "zintercard", .proc = zintercard_command, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "sortedset",
     .args = "numkeys key [key ...] [LIMIT limit]", .summary = "Returns the size of the intersection of sorted sets."},
    ZR("zscan", zscan_command, -3, CMD_READONLY, "key cursor [MATCH pattern] [COUNT count]", "Iterates members and scores."),
    CMD_TABLE_END,
};

const cmd_family zset_family = {.name = "zset", .rows = rows};
