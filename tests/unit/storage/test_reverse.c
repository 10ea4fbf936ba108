/* Reverse iteration: store_iter_seek_last, store_iter_seek_for_prev,
 * store_iter_prev, over committed data, pending writes and pending range
 * deletions, and mixed with forward iteration. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "../unit_tmpdir.h"

/* ---- fixture ------------------------------------------------------------ */

static char tmpdir[256];
static store *S;
static store_txn *T;

static void setup(void) {
    cr_assert_not_null(unit_tmpdir_make(tmpdir, sizeof tmpdir, "rev"));
    store_options o = {.dir = tmpdir, .block_cache_bytes = 8u << 20, .create_if_missing = 1};
    char *err = NULL;
    cr_assert_eq(store_open(&S, &o, &err), 0, "store_open: %s", err ? err : "?");
    T = store_txn_new(S);
    cr_assert_not_null(T);
}

static void teardown(void) {
    store_txn_free(T);
    T = NULL;
    store_close(S);
    S = NULL;
    unit_tmpdir_remove(tmpdir);
}

TestSuite(reverse, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

static void put_s(const char *k, const char *v) { store_put(T, STORE_CF_DATA, k, strlen(k), v, strlen(v)); }
static void del_s(const char *k) { store_del(T, STORE_CF_DATA, k, strlen(k)); }
static void commit_ok(void) {
    char *err = NULL;
    cr_assert_eq(store_commit(T, &err), 0, "commit: %s", err ? err : "?");
}

/* committed: a b ba bb c d (value "db") */
static void fill_abc(void) {
    const char *keys[] = {"a", "b", "ba", "bb", "c", "d"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) put_s(keys[i], "db");
    commit_ok();
}

static store_iter *iter(const char *lo, const char *hi) {
    store_iter *it = store_iter_new(T, STORE_CF_DATA, lo, lo ? strlen(lo) : 0, hi, hi ? strlen(hi) : 0);
    cr_assert_not_null(it);
    return it;
}

/* Appends "k=v," of the current entry, or "-" when invalid. */
static void cur(store_iter *it, char *out, size_t cap) {
    size_t n = strlen(out);
    if (!store_iter_valid(it)) {
        snprintf(out + n, cap - n, "-");
        return;
    }
    size_t kl, vl;
    const char *k = store_iter_key(it, &kl);
    const char *v = store_iter_value(it, &vl);
    snprintf(out + n, cap - n, "%.*s=%.*s,", (int)kl, k, (int)vl, v);
}

/* The key at the iterator's position ("-" when invalid). */
static const char *at(store_iter *it) {
    static char b[256];
    b[0] = 0;
    cur(it, b, sizeof b);
    if (strcmp(b, "-") == 0) return b;
    *strchr(b, '=') = 0;
    return b;
}

/* Whole [lo, hi) backward from seek_last, as "k=v,..." */
static void rscan(const char *lo, const char *hi, char *out, size_t cap) {
    store_iter *it = iter(lo, hi);
    out[0] = 0;
    for (store_iter_seek_last(it); store_iter_valid(it); store_iter_prev(it)) {
        cur(it, out, cap);
        cr_assert_lt(strlen(out), cap - 1);
    }
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_prev(it); /* harmless when invalid */
    cr_assert(!store_iter_valid(it));
    store_iter_free(it);
}

/* Whole [lo, hi) forward, as "k=v,..." (for symmetry checks) */
static void fscan(const char *lo, const char *hi, char *out, size_t cap) {
    store_iter *it = iter(lo, hi);
    out[0] = 0;
    for (; store_iter_valid(it); store_iter_next(it)) cur(it, out, cap);
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
}

/* "a,b,c," reversed entry by entry ("c,b,a,") */
static void reverse_entries(const char *in, char *out) {
    size_t n = strlen(in);
    out[0] = 0;
    while (n) {
        size_t end = n; /* in[end-1] == ',' */
        size_t st = end - 1;
        while (st > 0 && in[st - 1] != ',') st--;
        strncat(out, in + st, end - st);
        n = st;
    }
}

/* The backward scan of [lo, hi) is the forward scan reversed, and equals want. */
static void check_both(const char *lo, const char *hi, const char *want_rev) {
    char f[1024], r[1024], fr[1024];
    rscan(lo, hi, r, sizeof r);
    cr_assert_str_eq(r, want_rev, "[%s, %s) backward", lo ? lo : "", hi ? hi : "");
    fscan(lo, hi, f, sizeof f);
    reverse_entries(f, fr);
    cr_assert_str_eq(fr, r, "[%s, %s) forward %s vs backward %s", lo ? lo : "", hi ? hi : "", f, r);
}

static const char *sfp(store_iter *it, const char *k) {
    store_iter_seek_for_prev(it, k, strlen(k));
    return at(it);
}

/* ---- committed data ----------------------------------------------------- */

Test(reverse, committed_with_bounds) {
    fill_abc();
    check_both(NULL, NULL, "d=db,c=db,bb=db,ba=db,b=db,a=db,");
    check_both("b", "c", "bb=db,ba=db,b=db,");
    check_both("bb", NULL, "d=db,c=db,bb=db,");
    check_both(NULL, "b", "a=db,");
    check_both("ba", "bb", "ba=db,");
    check_both("b0", "b9", "");
    check_both("x", NULL, "");
    check_both(NULL, "A", "");
    /* an empty upper bound is no bound */
    store_iter *e = store_iter_new(T, STORE_CF_DATA, "c", 1, "", 0);
    store_iter_seek_last(e);
    cr_assert_str_eq(at(e), "d");
    store_iter_prev(e);
    cr_assert_str_eq(at(e), "c");
    store_iter_prev(e);
    cr_assert_str_eq(at(e), "-");
    store_iter_free(e);
}

static void seek_for_prev_cases(void) {
    store_iter *it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "ba"), "ba");  /* exact hit */
    cr_assert_str_eq(sfp(it, "bab"), "ba"); /* between keys */
    cr_assert_str_eq(sfp(it, "b\xff"), "bb");
    cr_assert_str_eq(sfp(it, "A"), "-"); /* before the first key */
    cr_assert_str_eq(sfp(it, "a"), "a");
    cr_assert_str_eq(sfp(it, "zzz"), "d"); /* after the last key */
    cr_assert_str_eq(sfp(it, "d"), "d");
    store_iter_seek_for_prev(it, NULL, 0); /* the empty key: nothing <= it */
    cr_assert_str_eq(at(it), "-");
    store_iter_free(it);

    it = iter("b", "c");
    cr_assert_str_eq(sfp(it, "ba"), "ba");
    cr_assert_str_eq(sfp(it, "bab"), "ba");
    cr_assert_str_eq(sfp(it, "b"), "b");      /* == lower */
    cr_assert_str_eq(sfp(it, "a\xff"), "-");  /* just below lower */
    cr_assert_str_eq(sfp(it, "a"), "-");      /* a key below lower */
    cr_assert_str_eq(sfp(it, "c"), "bb");     /* == upper, a key */
    cr_assert_str_eq(sfp(it, "zz"), "bb");    /* far past upper */
    cr_assert_str_eq(sfp(it, "bb\xff"), "bb");
    store_iter_free(it);
}

Test(reverse, seek_for_prev_committed) {
    fill_abc();
    seek_for_prev_cases();
}

Test(reverse, seek_for_prev_with_unrelated_pending_writes) {
    /* same answers through the merged iterator (pending writes elsewhere) */
    fill_abc();
    store_put(T, STORE_CF_META, "b", 1, "m", 1);
    put_s("zzzz", "p");
    del_s("zzzz");
    seek_for_prev_cases();
}

Test(reverse, empty_ranges) {
    /* empty column family */
    check_both(NULL, NULL, "");
    store_iter *it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "m"), "-");
    store_iter_prev(it);
    store_iter_next(it);
    cr_assert(!store_iter_valid(it));
    store_iter_free(it);

    fill_abc();
    check_both("b", "b", ""); /* lower == upper */
    check_both("c", "b", ""); /* lower > upper */
    check_both("bc", "bz", "");
    it = iter("bc", "bz");
    cr_assert_str_eq(sfp(it, "bd"), "-");
    cr_assert_str_eq(sfp(it, "zz"), "-");
    store_iter_seek_last(it);
    cr_assert_str_eq(at(it), "-");
    store_iter_free(it);

    /* empty because everything in it is deleted in the txn */
    del_s("ba");
    del_s("bb");
    check_both("ba", "c", "");
    store_del_range(T, STORE_CF_DATA, "a", 1, "e", 1);
    check_both(NULL, NULL, "");
    it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "c"), "-");
    store_iter_seek_last(it);
    cr_assert_str_eq(at(it), "-");
    store_iter_free(it);
}

/* ---- pending writes ----------------------------------------------------- */

Test(reverse, pending_puts_and_deletes) {
    fill_abc();
    put_s("b", "new");   /* overwrite */
    put_s("b5", "add");  /* new inside */
    del_s("ba");         /* delete */
    put_s("c", "past");  /* == upper */
    put_s("cz", "past"); /* beyond upper */
    put_s("a5", "low");  /* below lower */
    put_s("0", "low");   /* below everything */
    put_s("e", "top");   /* above everything */
    del_s("d");          /* the last committed key */
    store_put(T, STORE_CF_META, "b7", 2, "meta", 4);
    check_both("b", "c", "bb=db,b5=add,b=new,");
    check_both(NULL, NULL, "e=top,cz=past,c=past,bb=db,b5=add,b=new,a5=low,a=db,0=low,");
    check_both("a5", "b5", "b=new,a5=low,");
    check_both("c", NULL, "e=top,cz=past,c=past,");

    store_iter *it = iter("b", "c");
    cr_assert_str_eq(sfp(it, "ba"), "b5"); /* the deleted key is skipped */
    cr_assert_str_eq(sfp(it, "b5"), "b5");
    cr_assert_str_eq(sfp(it, "c"), "bb");
    cr_assert_str_eq(sfp(it, "cz"), "bb");
    cr_assert_str_eq(sfp(it, "a5"), "-");
    store_iter_free(it);

    it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "d"), "cz"); /* d is deleted */
    cr_assert_str_eq(sfp(it, "zz"), "e");
    cr_assert_str_eq(sfp(it, "00"), "0");
    cr_assert_str_eq(sfp(it, "/"), "-");
    store_iter_free(it);

    /* a txn without writes still sees only committed data */
    store_txn *other = store_txn_new(S);
    store_iter *o = store_iter_new(other, STORE_CF_DATA, "b", 1, "c", 1);
    store_iter_seek_last(o);
    cr_assert_str_eq(at(o), "bb");
    store_iter_prev(o);
    cr_assert_str_eq(at(o), "ba");
    store_iter_free(o);
    store_txn_free(other);
}

/* ---- pending range deletions -------------------------------------------- */

Test(reverse, pending_range_delete_and_later_put) {
    fill_abc();
    put_s("bc", "early");                              /* hidden by the range */
    store_del_range(T, STORE_CF_DATA, "b", 1, "bz", 2); /* b ba bb bc hidden */
    put_s("bb", "late");                               /* visible again */
    check_both(NULL, NULL, "d=db,c=db,bb=late,a=db,");
    check_both("b", "c", "bb=late,");
    check_both("ba", "bc", "bb=late,");
    check_both("bbb", NULL, "d=db,c=db,");
    check_both(NULL, "bb", "a=db,");
    check_both(NULL, "bc", "bb=late,a=db,");
    check_both("b", "bb", "");

    store_iter *it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "bz"), "bb");  /* the range's end */
    cr_assert_str_eq(sfp(it, "by"), "bb");  /* inside, after the put */
    cr_assert_str_eq(sfp(it, "bc"), "bb");  /* a hidden key */
    cr_assert_str_eq(sfp(it, "bb"), "bb");  /* the put itself */
    cr_assert_str_eq(sfp(it, "bba"), "bb");
    cr_assert_str_eq(sfp(it, "ba"), "a");   /* inside, before the put */
    cr_assert_str_eq(sfp(it, "b"), "a");    /* the range's start */
    cr_assert_str_eq(sfp(it, "c"), "c");
    store_iter_free(it);

    /* a range starting exactly at the lower bound ends the iteration */
    it = iter("b", NULL);
    cr_assert_str_eq(sfp(it, "ba"), "-");
    cr_assert_str_eq(sfp(it, "bb"), "bb");
    store_iter_prev(it);
    cr_assert_str_eq(at(it), "-");
    store_iter_free(it);

    /* a range in the other cf hides nothing here */
    store_del_range(T, STORE_CF_META, "a", 1, "z", 1);
    check_both(NULL, NULL, "d=db,c=db,bb=late,a=db,");
}

Test(reverse, overlapping_and_open_ended_ranges) {
    fill_abc();
    put_s("e", "x");
    put_s("f", "x");
    store_del_range(T, STORE_CF_DATA, "ba", 2, "c", 1);
    put_s("bb", "late");
    store_del_range(T, STORE_CF_DATA, "a", 1, "bb", 2); /* overlaps; bb is its end */
    store_del_range(T, STORE_CF_DATA, "d", 1, NULL, 0); /* d e f: to the end */
    put_s("e", "late");
    check_both(NULL, NULL, "e=late,c=db,bb=late,");
    store_iter *it = iter(NULL, NULL);
    cr_assert_str_eq(sfp(it, "zz"), "e");
    cr_assert_str_eq(sfp(it, "dz"), "c");
    cr_assert_str_eq(sfp(it, "bbz"), "bb");
    cr_assert_str_eq(sfp(it, "ba"), "-");
    store_iter_free(it);

    /* nested ranges: the later put inside both stays visible */
    store_del_range(T, STORE_CF_DATA, "0", 1, "z", 1);
    put_s("c5", "last");
    check_both(NULL, NULL, "c5=last,");
    check_both("c5", "c6", "c5=last,");
    check_both("c6", NULL, "");
}

/* ---- bounds ------------------------------------------------------------- */

/* keys just outside [m, p) and at its edges */
static void bounds_case(int pending, int ranges) {
    put_s("l\xff\xff", "out"); /* just below lower */
    put_s("m", "in");          /* == lower */
    put_s("o\xff", "in");      /* just below upper */
    put_s("p", "out");         /* == upper */
    put_s("p\x01", "out");
    if (!pending) commit_ok();
    if (ranges) {
        /* ranges reaching across both bounds, then the keys put back */
        store_del_range(T, STORE_CF_DATA, "l", 1, "m\x01", 2);
        store_del_range(T, STORE_CF_DATA, "o", 1, "q", 1);
        put_s("l\xff\xff", "out");
        put_s("m", "in");
        put_s("o\xff", "in");
        put_s("p", "out");
    }
    const char *want = "o\xff=in,m=in,";
    check_both("m", "p", want);
    store_iter *it = iter("m", "p");
    store_iter_seek_last(it);
    cr_assert_str_eq(at(it), "o\xff");
    store_iter_prev(it);
    cr_assert_str_eq(at(it), "m");
    store_iter_prev(it); /* before lower */
    cr_assert_str_eq(at(it), "-");
    cr_assert_str_eq(sfp(it, "p"), "o\xff");
    cr_assert_str_eq(sfp(it, "p\x01"), "o\xff");
    cr_assert_str_eq(sfp(it, "\xff\xff"), "o\xff");
    cr_assert_str_eq(sfp(it, "m"), "m");
    cr_assert_str_eq(sfp(it, "l\xff\xff"), "-");
    cr_assert_str_eq(sfp(it, "l\xff\xff\xff"), "-");
    /* forward from the last key stops at upper */
    cr_assert_str_eq(sfp(it, "p"), "o\xff");
    store_iter_next(it);
    cr_assert_str_eq(at(it), "-");
    /* backward from the first key stops at lower */
    store_iter_seek(it, "a", 1);
    cr_assert_str_eq(at(it), "m");
    store_iter_prev(it);
    cr_assert_str_eq(at(it), "-");
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
}

Test(reverse, bounds_committed) { bounds_case(0, 0); }
Test(reverse, bounds_pending) { bounds_case(1, 0); }
Test(reverse, bounds_pending_ranges) { bounds_case(1, 1); }
Test(reverse, bounds_committed_then_ranges) { bounds_case(0, 1); }

/* ---- mixed directions ----------------------------------------------------- */

static void mixed_case(void) {
    /* visible: a b bb c d (ba hidden one way or another) */
    store_iter *it = iter(NULL, NULL);
    char out[512] = "";
    store_iter_seek(it, "b", 1);
    cur(it, out, sizeof out); /* b */
    store_iter_prev(it);
    cur(it, out, sizeof out); /* a */
    store_iter_next(it);
    cur(it, out, sizeof out); /* b */
    store_iter_next(it);
    cur(it, out, sizeof out); /* bb */
    store_iter_prev(it);
    cur(it, out, sizeof out); /* b */
    store_iter_seek_for_prev(it, "bz", 2);
    cur(it, out, sizeof out); /* bb */
    store_iter_next(it);
    cur(it, out, sizeof out); /* c */
    store_iter_prev(it);
    cur(it, out, sizeof out); /* bb */
    store_iter_prev(it);
    cur(it, out, sizeof out); /* b */
    store_iter_seek_last(it);
    cur(it, out, sizeof out); /* d */
    store_iter_next(it);
    cur(it, out, sizeof out); /* - */
    store_iter_seek(it, "bb", 2);
    store_iter_prev(it);
    cur(it, out, sizeof out); /* b */
    store_iter_seek_for_prev(it, "a", 1);
    store_iter_next(it);
    cur(it, out, sizeof out); /* b */
    cr_assert_str_eq(out, "b=db,a=db,b=db,bb=db,b=db,bb=db,c=db,bb=db,b=db,d=db,-b=db,b=db,");
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
}

Test(reverse, mixed_committed) {
    put_s("a", "db");
    put_s("b", "db");
    put_s("bb", "db");
    put_s("c", "db");
    put_s("d", "db");
    commit_ok();
    mixed_case();
}

Test(reverse, mixed_pending) {
    fill_abc();
    del_s("ba");
    mixed_case();
}

Test(reverse, mixed_all_pending) {
    fill_abc();
    store_del_range(T, STORE_CF_DATA, "a", 1, "z", 1);
    fill_abc(); /* commits the deletion and the puts: ba is back */
    store_del_range(T, STORE_CF_DATA, "b", 1, "c", 1);
    put_s("b", "db");
    put_s("bb", "db");
    mixed_case();
}

/* ---- randomized model check -------------------------------------------- */

/* Keys: every string of length 1..3 over "abcd" (84 keys), in byte order. */
enum { NK = 84 };
static char KEYS[NK][4];

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }
static void make_keys(void) {
    const char al[] = "abcd";
    int n = 0;
    for (int len = 1; len <= 3; len++) {
        int tot = 1;
        for (int i = 0; i < len; i++) tot *= 4;
        for (int x = 0; x < tot; x++) {
            int y = x;
            for (int i = len - 1; i >= 0; i--) {
                KEYS[n][i] = al[y % 4];
                y /= 4;
            }
            KEYS[n][len] = 0;
            n++;
        }
    }
    qsort(KEYS, NK, sizeof KEYS[0], cmp_str);
}

/* model: value per key index, 0 = absent */
typedef struct model {
    int v[NK];
} model;

static unsigned rnd_state, cur_seed;
static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

/* The visible index <= / >= i in [lo, hi) of m, or -1. */
static int model_prev(const model *m, int i, int lo) {
    for (; i >= lo; i--)
        if (m->v[i]) return i;
    return -1;
}
static int model_next(const model *m, int i, int hi) {
    for (; i < hi; i++)
        if (m->v[i]) return i;
    return -1;
}

static void check_pos(store_iter *it, const model *m, int want, const char *what, int step) {
    if (want < 0) {
        cr_assert(!store_iter_valid(it), "seed %u step %d %s: valid at %s, wanted end", cur_seed, step, what,
                  at(it));
        return;
    }
    cr_assert(store_iter_valid(it), "seed %u step %d %s: invalid, wanted %s", cur_seed, step, what, KEYS[want]);
    size_t kl, vl;
    const char *k = store_iter_key(it, &kl);
    const char *v = store_iter_value(it, &vl);
    cr_assert(kl == strlen(KEYS[want]) && memcmp(k, KEYS[want], kl) == 0, "seed %u step %d %s: at %.*s, wanted %s",
              cur_seed, step, what, (int)kl, k, KEYS[want]);
    char vb[16];
    snprintf(vb, sizeof vb, "%d", m->v[want]);
    cr_assert(vl == strlen(vb) && memcmp(v, vb, vl) == 0, "seed %u step %d %s: value %.*s, wanted %s", cur_seed, step, what,
              (int)vl, v, vb);
}

/* Random walks over random bounds, compared with the model. */
static void walk(const model *m, int steps) {
    int lo = (int)rnd(NK + 1) - 1; /* -1: no lower bound */
    int hi = (int)rnd(NK + 1);     /* NK: no upper bound */
    int lo_i = lo < 0 ? 0 : lo;
    store_iter *it = iter(lo < 0 ? NULL : KEYS[lo], hi == NK ? NULL : KEYS[hi]);
    int pos = model_next(m, lo_i, hi); /* store_iter_new seeks to lower */
    check_pos(it, m, pos, "new", -1);
    for (int s = 0; s < steps; s++) {
        unsigned op = rnd(6);
        int k = (int)rnd(NK);
        switch (op) {
        case 0:
            store_iter_seek(it, KEYS[k], strlen(KEYS[k]));
            pos = model_next(m, k < lo_i ? lo_i : k, hi);
            check_pos(it, m, pos, "seek", s);
            break;
        case 1:
            store_iter_seek_for_prev(it, KEYS[k], strlen(KEYS[k]));
            pos = k < lo_i ? -1 : model_prev(m, k >= hi ? hi - 1 : k, lo_i);
            check_pos(it, m, pos, "seek_for_prev", s);
            break;
        case 2:
            store_iter_seek_last(it);
            pos = model_prev(m, hi - 1, lo_i);
            check_pos(it, m, pos, "seek_last", s);
            break;
        case 3:
        case 4:
            store_iter_prev(it);
            if (pos >= 0) pos = model_prev(m, pos - 1, lo_i);
            check_pos(it, m, pos, "prev", s);
            break;
        default:
            store_iter_next(it);
            if (pos >= 0) pos = model_next(m, pos + 1, hi);
            check_pos(it, m, pos, "next", s);
            break;
        }
    }
    cr_assert_eq(store_iter_error(it, NULL), 0);
    store_iter_free(it);
}

static void apply_random_ops(model *m, int n, int with_ranges) {
    for (int i = 0; i < n; i++) {
        unsigned op = rnd(with_ranges ? 10 : 8);
        int k = (int)rnd(NK);
        if (op < 5) {
            int v = 1 + (int)rnd(999);
            char vb[16];
            snprintf(vb, sizeof vb, "%d", v);
            put_s(KEYS[k], vb);
            m->v[k] = v;
        } else if (op < 8) {
            del_s(KEYS[k]);
            m->v[k] = 0;
        } else {
            int e = k + (int)rnd(20);
            if (e > NK) e = NK;
            if (e == NK && rnd(2)) {
                store_del_range(T, STORE_CF_DATA, KEYS[k], strlen(KEYS[k]), NULL, 0);
            } else if (e < NK) {
                store_del_range(T, STORE_CF_DATA, KEYS[k], strlen(KEYS[k]), KEYS[e], strlen(KEYS[e]));
            } else {
                e = k; /* nothing */
            }
            for (int j = k; j < e; j++) m->v[j] = 0;
        }
    }
}

Test(reverse, randomized_against_model, .timeout = 120) {
    make_keys();
    for (unsigned seed = 1; seed <= 40; seed++) {
        rnd_state = cur_seed = seed;
        model committed = {0};
        store_txn_clear(T);
        /* wipe the previous round */
        store_del_range(T, STORE_CF_DATA, "", 0, NULL, 0);
        commit_ok();
        /* committed history, including committed range deletions */
        for (int round = 0; round < 3; round++) {
            apply_random_ops(&committed, 30, 1);
            commit_ok();
        }
        /* no pending writes */
        for (int w = 0; w < 3; w++) walk(&committed, 60);
        /* pending writes, first without then with range deletions */
        model m = committed;
        apply_random_ops(&m, 15, 0);
        for (int w = 0; w < 3; w++) walk(&m, 60);
        apply_random_ops(&m, 15, 1);
        for (int w = 0; w < 3; w++) walk(&m, 60);
        /* a savepoint and rollback in between */
        model saved = m;
        store_txn_savepoint(T);
        apply_random_ops(&m, 15, 1);
        for (int w = 0; w < 2; w++) walk(&m, 60);
        store_txn_rollback_to_savepoint(T);
        for (int w = 0; w < 2; w++) walk(&saved, 60);
        store_txn_clear(T);
    }
}
