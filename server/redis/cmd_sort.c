/* SORT and SORT_RO (Redis 7.0): the elements of a list, set or sorted set,
 * sorted as numbers (by default) or as bytes (ALPHA), by themselves or by
 * the values other keys hold (BY pattern), DESC, LIMIT offset count, GET
 * patterns in the reply, STORE into a list (SORT only).
 *
 * A pattern names a key per element: its first '*' is replaced by the
 * element; "->field" after the '*' reads that field of a hash instead of a
 * string; "#" is the element itself. A key that is absent or of another
 * type gives no value: BY sorts it as 0 (numeric) or first (ALPHA), GET
 * replies nil (STORE stores ""). BY with a pattern without '*' does not
 * sort: a list keeps its order, a sorted set its score order (both
 * reversed by DESC), a set its member order (sorted as ALPHA with STORE,
 * as Redis does to make the stored result deterministic).
 *
 * Numeric ties are ordered by the element's bytes, as Redis does; ALPHA BY
 * ties keep the collection's order (Redis's comparator calls them equal;
 * glibc's qsort, which Redis uses, keeps them so). Strings compare as
 * bytes: Redis uses strcoll, which is the same in the C locale.
 *
 * BY and GET read keys the command's key positions do not name: as in
 * Redis they need access to every key (ACL). STORE's destination is the
 * row's more_keys: dispatch checks it (ACL write, the domain write guard)
 * and COMMAND GETKEYS lists it. The whole collection is read into memory
 * (O(n log n), as in Redis). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "acl_rules.h"
#include "coll_args.h"
#include "encoding.h"
#include "server.h"
#include "cmd_sort.h"

typedef struct sort_opts {
    int desc, alpha, dontsort;
    int64_t offset, count;     /* LIMIT; count < 0: all */
    const resp_slice *by;      /* NULL: the elements themselves */
    const resp_slice *store;   /* NULL: reply */
    int gets[64];              /* argv indexes of the GET patterns */
    int ngets;
} sort_opts;

/* One element to sort. */
typedef struct sort_el {
    size_t i;       /* in the element list */
    double score;   /* numeric sort */
    long by;        /* ALPHA BY: index of its BY value, -1 none */
} sort_el;

typedef struct sort_ctx {
    const coll_items *els, *byv;
    int alpha, by, desc;
} sort_ctx;

static int el_cmp(const sort_ctx *x, const sort_el *a, const sort_el *b) {
    return enc_bytes_cmp(coll_item_m(x->els, a->i), x->els->it[a->i].ml, coll_item_m(x->els, b->i),
                     x->els->it[b->i].ml);
}

static int sort_cmp(const void *pa, const void *pb, void *arg) {
    const sort_ctx *x = arg;
    const sort_el *a = pa, *b = pb;
    int r;
    if (!x->alpha) {
        r = a->score > b->score ? 1 : a->score < b->score ? -1 : 0;
    } else if (x->by) {
        if (a->by < 0 || b->by < 0) r = (a->by >= 0) - (b->by >= 0); /* no value sorts first */
        else
            r = enc_bytes_cmp(coll_item_m(x->byv, (size_t)a->by), x->byv->it[a->by].ml, coll_item_m(x->byv, (size_t)b->by),
                          x->byv->it[b->by].ml);
        /* ties keep the collection's order, in both directions (what
         * Redis's comparator, equal for them, gives under glibc's stable qsort) */
        if (r == 0) return (a->i > b->i) - (a->i < b->i);
    } else {
        r = 0;
    }
    if (r == 0) r = el_cmp(x, a, b);
    return x->desc ? -r : r;
}

/* Redis's number rule for SORT: strtod must consume the whole string
 * (up to a NUL), no overflow, no NaN. 0 ok, -1 not a number. */
static int sort_score(const char *p, size_t n, double *out) {
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    int ok = *end == 0 && errno != ERANGE && !isnan(d);
    if (buf != small) free(buf);
    *out = ok ? d : 0;
    return ok ? 0 : -1;
}

/* The value pattern pat names for element e, appended to out as a member:
 * 1 found, 0 none (no '*', absent, another type), -1 storage error. */
static int pattern_value(client *c, const resp_slice *pat, const char *e, size_t el, coll_items *out) {
    if (pat->len == 1 && pat->ptr[0] == '#') return coll_items_add(out, e, el, "", 0) < 0 ? -1 : 1;
    const char *p = pat->ptr, *end = p + pat->len;
    const char *star = memchr(p, '*', pat->len);
    if (!star) return 0;
    const char *field = memmem(star + 1, (size_t)(end - star - 1), "->", 2);
    if (field && field + 2 == end) field = NULL; /* "->" at the end is part of the key */
    const char *kend = field ? field : end;
    size_t pre = (size_t)(star - p), post = (size_t)(kend - star - 1), kl = pre + el + post;
    char *k = malloc(kl ? kl : 1);
    if (!k) return st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    memcpy(k, p, pre);
    memcpy(k + pre, e, el);
    memcpy(k + pre + el, star + 1, post);
    int rc;
    if (field) {
        coll h;
        store_val v;
        rc = coll_open(KS(c), c->db, k, kl, ENC_TYPE_HASH, &h);
        if (rc < 0 && KS(c)->err.code == ST_WRONGTYPE) {
            st_clear(&KS(c)->err);
            rc = 0;
        }
        if (rc > 0) rc = coll_get(KS(c), &h, ENC_ELEM_HASH, field + 2, (size_t)(end - field - 2), &v);
        if (rc > 0) {
            if (coll_items_add(out, v.ptr, v.len, "", 0) < 0) rc = -1;
            store_val_free(&v);
        }
        coll_free(&h);
    } else {
        db_value v;
        rc = db_lookup(KS(c), c->db, k, kl, &v);
        if (rc > 0) {
            if (v.v.type != ENC_TYPE_STRING) rc = 0;
            else if (coll_items_add(out, v.v.payload, v.v.len, "", 0) < 0) rc = -1;
            db_value_free(&v);
        }
    }
    free(k);
    return rc;
}

/* Parses argv[2..]: 0 ok, -1 replied. */
static int parse_opts(client *c, int readonly, sort_opts *o) {
    memset(o, 0, sizeof *o);
    o->count = -1;
    /* BY and GET read keys no key position names: every key must be readable */
    int all_keys = acl_user_key_ok(c->user, "", 0, 1, ACL_PERM_R);
    opt_cursor cur = {c, 2};
    while (opt_more(&cur)) {
        resp_slice v;
        if (opt_is(&cur, "asc")) o->desc = 0;
        else if (opt_is(&cur, "desc")) o->desc = 1;
        else if (opt_is(&cur, "alpha")) o->alpha = 1;
        else if (opt_is(&cur, "limit")) {
            if (opt_ll(&cur, &o->offset) < 0 || opt_ll(&cur, &o->count) < 0) return -1;
        } else if (!readonly && opt_is(&cur, "store")) {
            if (opt_value(&cur, &v) < 0) return -1;
            o->store = &c->argv[cur.i - 1];
        } else if (opt_is(&cur, "by")) {
            if (opt_value(&cur, &v) < 0) return -1;
            o->by = &c->argv[cur.i - 1];
            o->dontsort = memchr(v.ptr, '*', v.len) == NULL;
            if (!o->dontsort && !all_keys) {
                reply_error(c, "ERR BY option of SORT denied due to insufficient ACL permissions.");
                return -1;
            }
        } else if (opt_is(&cur, "get")) {
            if (opt_value(&cur, &v) < 0) return -1;
            if (!all_keys) {
                reply_error(c, "ERR GET option of SORT denied due to insufficient ACL permissions.");
                return -1;
            }
            if (o->ngets == (int)(sizeof o->gets / sizeof o->gets[0])) {
                reply_error(c, "ERR too many GET options");
                return -1;
            }
            o->gets[o->ngets++] = cur.i - 1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    return 0;
}

/* The STORE destination for ACL, the write guard and COMMAND GETKEYS
 * (the last STORE counts, as in parse_opts and Redis). */
static int sort_store_key(const resp_slice *argv, int argc, int *idx, int cap) {
    int at = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_eq(&argv[i], "limit")) i += 2;
        else if (arg_eq(&argv[i], "by") || arg_eq(&argv[i], "get")) i++;
        else if (arg_eq(&argv[i], "store") && i + 1 < argc) at = ++i;
    }
    if (!at || cap < 1) return 0;
    idx[0] = at;
    return 1;
}

/* Reads the elements of argv[1] into els (element as member; for a sorted
 * set the score as value), in the collection's order: list order, member
 * order, score order. *type: ENC_TYPE_*, a list when absent. 0 / -1. */
static int load_elements(client *c, coll_items *els, unsigned *type) {
    coll_items_init(els);
    db_value v;
    int r = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &v);
    if (r < 0) return -1;
    *type = ENC_TYPE_LIST;
    if (r == 0) return 0;
    *type = v.v.type;
    db_value_free(&v);
    if (*type != ENC_TYPE_LIST && *type != ENC_TYPE_SET && *type != ENC_TYPE_ZSET)
        return st_fail(&KS(c)->err, ST_WRONGTYPE, COLL_WRONGTYPE);
    char kind = *type == ENC_TYPE_LIST ? ENC_ELEM_LIST : *type == ENC_TYPE_SET ? ENC_ELEM_SET : ENC_ELEM_ZSCORE;
    coll co;
    coll_items raw;
    coll_items_init(&raw);
    r = coll_open_arg(c, 1, *type, &co);
    if (r > 0 && coll_collect(KS(c), &co, kind, -1, 0, &raw) < 0) r = -1;
    coll_free(&co);
    for (size_t i = 0; r >= 0 && i < raw.n; i++) {
        const char *m = coll_item_m(&raw, i), *val = coll_item_v(&raw, i);
        size_t ml = raw.it[i].ml, vl = raw.it[i].vl;
        /* list: index -> element; set: member -> ""; score index: score (8) || member -> "" */
        if (*type == ENC_TYPE_LIST) r = coll_items_add(els, val, vl, "", 0);
        else if (*type == ENC_TYPE_SET) r = coll_items_add(els, m, ml, "", 0);
        else if (ml >= 8) r = coll_items_add(els, m + 8, ml - 8, m, 8);
        if (r < 0) st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
    }
    coll_items_free(&raw);
    return r < 0 ? -1 : 0;
}

/* Stores the result as a list at dst (replacing it; an empty result
 * deletes it) and replies its length. */
static int store_list(client *c, const resp_slice *dst, const coll_items *res) {
    coll d;
    if (coll_create(KS(c), c->db, dst->ptr, dst->len, ENC_TYPE_LIST, &d) < 0) goto fail;
    if (res->n == 0) {
        int gone = db_delete(KS(c), c->db, dst->ptr, dst->len);
        if (gone < 0) goto fail;
        if (gone) notify_key(c, NOTIFY_GENERIC, "del", dst);
    } else {
        for (size_t i = 0; i < res->n; i++) {
            char b[8];
            enc_put_u64(b, d.head + i);
            if (coll_put(KS(c), &d, ENC_ELEM_LIST, b, 8, coll_item_m(res, i), res->it[i].ml) < 0) goto fail;
        }
        d.tail = d.head + res->n;
        d.size = (int64_t)res->n;
        if (coll_save(KS(c), &d) < 0) goto fail;
        notify_key(c, NOTIFY_LIST, "sortstore", dst);
    }
    coll_free(&d);
    reply_int(c, (int64_t)res->n);
    return 0;
fail:
    coll_free(&d);
    return -1;
}

static int sort_generic(client *c, int readonly) {
    sort_opts o;
    if (parse_opts(c, readonly, &o) < 0) return -1;
    coll_items els, byv, res;
    coll_items_init(&byv);
    coll_items_init(&res);
    sort_el *v = NULL;
    char *nil = NULL;
    int rc = -1;
    unsigned type;
    if (load_elements(c, &els, &type) < 0) goto out;
    if (o.dontsort && type == ENC_TYPE_SET && o.store) {
        /* a stored result must not depend on the set's order: sort it */
        o.dontsort = 0;
        o.alpha = 1;
        o.by = NULL;
    }
    size_t n = els.n;
    v = malloc((n ? n : 1) * sizeof *v);
    if (!v) goto oom;
    for (size_t i = 0; i < n; i++) v[i] = (sort_el){.i = i, .by = -1};
    if (o.dontsort) {
        if (o.desc && type != ENC_TYPE_SET)
            for (size_t i = 0; i < n / 2; i++) {
                sort_el t = v[i];
                v[i] = v[n - 1 - i];
                v[n - 1 - i] = t;
            }
    } else {
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            const char *e = coll_item_m(&els, i);
            size_t el = els.it[i].ml;
            const char *val = e;
            size_t vl = el;
            if (o.by) {
                size_t at = byv.n;
                int r = pattern_value(c, o.by, e, el, &byv);
                if (r < 0) goto out;
                if (r == 0) continue;
                v[i].by = (long)at;
                val = coll_item_m(&byv, at);
                vl = byv.it[at].ml;
            }
            if (!o.alpha && sort_score(val, vl, &v[i].score) < 0) bad = 1;
        }
        if (bad) {
            reply_error(c, "ERR One or more scores can't be converted into double");
            goto out;
        }
        sort_ctx x = {.els = &els, .byv = &byv, .alpha = o.alpha, .by = o.by != NULL, .desc = o.desc};
        qsort_r(v, n, sizeof *v, sort_cmp, &x);
    }
    /* LIMIT, as Redis clamps it */
    int64_t start = o.offset < 0 ? 0 : o.offset, len = (int64_t)n, end;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    } else {
        end = o.count < 0 || o.count > len - start ? len - 1 : start + o.count - 1;
    }
    int64_t rows = end >= start ? end - start + 1 : 0;
    size_t cells = (size_t)rows * (size_t)(o.ngets ? o.ngets : 1);
    nil = calloc(cells ? cells : 1, 1);
    if (!nil) goto oom;
    for (int64_t j = start; j <= end; j++) {
        const char *e = coll_item_m(&els, v[j].i);
        size_t el = els.it[v[j].i].ml;
        if (!o.ngets) {
            if (coll_items_add(&res, e, el, "", 0) < 0) goto oom;
            continue;
        }
        for (int g = 0; g < o.ngets; g++) {
            int r = pattern_value(c, &c->argv[o.gets[g]], e, el, &res);
            if (r < 0) goto out;
            if (r == 0) {
                nil[res.n] = 1;
                if (coll_items_add(&res, "", 0, "", 0) < 0) goto oom; /* STORE keeps "" */
            }
        }
    }
    if (o.store) {
        rc = store_list(c, o.store, &res);
    } else {
        reply_array(c, (int64_t)res.n);
        for (size_t i = 0; i < res.n; i++) {
            if (nil[i]) reply_null(c);
            else reply_bulk(c, coll_item_m(&res, i), res.it[i].ml);
        }
        rc = 0;
    }
    goto out;
oom:
    st_fail(&KS(c)->err, ST_NOMEM, "out of memory");
out:
    free(v);
    free(nil);
    coll_items_free(&els);
    coll_items_free(&byv);
    coll_items_free(&res);
    return rc;
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination] */
static int sort_command(client *c) { return sort_generic(c, 0); }
/* SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] */
static int sort_ro_command(client *c) { return sort_generic(c, 1); }

static const cmd_def rows[] = {
    {.name = "sort", .proc = sort_command, .arity = -2, .flags = CMD_WRITE, .first_key = 1, .last_key = 1,
     .key_step = 1, .key_flags = CMD_KEY_RO | CMD_KEY_ACCESS, .group = "generic",
     .acl = "@set @sortedset @list @dangerous",
     .args = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] "
             "[STORE destination]",
     .more_keys = sort_store_key,
     .summary = "Sorts a list, set or sorted set, or stores the result as a list."},
    {.name = "sort_ro", .proc = sort_ro_command, .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1,
     .key_step = 1, .group = "generic", .acl = "@set @sortedset @list @dangerous",
     .args = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]",
     .summary = "SORT without STORE."},
    CMD_TABLE_END,
};

const cmd_family sort_family = {.name = "sort", .rows = rows};
