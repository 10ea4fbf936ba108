/* DOMAIN.CHECK / DOMAIN.REBUILD: derived data recomputed from the
 * documents, a family at a time, in bounded steps (rebuild.h).
 *
 * Every key is built by the model that owns it; a pass's range is the
 * model's per-unit prefix builder cut before the unit (PH below), so no
 * pattern is spelled here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "donation.h"
#include "encoding.h"
#include "entity.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "rebuild.h"
#include "ticket.h"
#include "user.h"

/* A placeholder unit (a valid, lower-case id) cut off a builder's key. */
static const char PH[] = "rbunit0";

static void cut_at_ph(dkey *k) {
    size_t n = sizeof PH - 1;
    for (size_t i = 0; i + n <= k->len; i++)
        if (memcmp(k->buf + i, PH, n) == 0) {
            k->len = i;
            return;
        }
    assert(!"placeholder not in key");
}

/* ---- what a unit should have ------------------------------------------------ */

enum { V_TEXT, V_I64, V_STATS, V_BALANCE, V_COUNT };

typedef struct want {
    int cf;           /* STORE_CF_META, or STORE_CF_DATA (a balance) */
    dkey k;
    char v[DOM_ID_MAX + 24];
    size_t vl;
    int absent;       /* the key must not exist */
    int kind;         /* how to show and compare the value */
} want;

typedef struct unit {
    want *w;
    size_t n, cap;
    dkey pre[6];      /* meta prefixes that hold this unit's entries only */
    int npre;
    int nofix;        /* derived from broken documents: report, do not write */
} unit;

typedef struct ctx {
    struct dom_engine *e;
    const struct family *f;
    rb_walk *w;
    int fix;
    rb_finding_fn fn;
    void *arg;
} ctx;

static want *want_add(ctx *x, unit *u, int cf, const dkey *k) {
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        want *w = realloc(u->w, cap * sizeof *w);
        if (!w) {
            dom_fail(x->e, ST_NOMEM, "out of memory");
            return NULL;
        }
        u->w = w;
        u->cap = cap;
    }
    want *w = &u->w[u->n++];
    memset(w, 0, sizeof *w);
    w->cf = cf;
    w->k = *k;
    return w;
}

static int want_text(ctx *x, unit *u, const dkey *k, const char *v, size_t vl) {
    assert(vl <= sizeof u->w[0].v);
    want *w = want_add(x, u, STORE_CF_META, k);
    if (!w) return -1;
    memcpy(w->v, v, vl);
    w->vl = vl;
    return 0;
}

static int want_absent_kind(ctx *x, unit *u, int cf, const dkey *k, int kind) {
    want *w = want_add(x, u, cf, k);
    if (!w) return -1;
    w->absent = 1;
    w->kind = kind; /* how to show what is found instead */
    return 0;
}
#define want_absent(x, u, cf, k) want_absent_kind((x), (u), (cf), (k), V_TEXT)

/* A counter: absent when 0 (meta_add_i64 deletes it there). */
static int want_i64(ctx *x, unit *u, const dkey *k, int64_t n) {
    if (n == 0) return want_absent_kind(x, u, STORE_CF_META, k, V_I64);
    want *w = want_add(x, u, STORE_CF_META, k);
    if (!w) return -1;
    enc_put_u64(w->v, (uint64_t)n);
    w->vl = 8;
    w->kind = V_I64;
    return 0;
}

/* An entity count record (entity_count_encode): its count is checked; its
 * hint ids are a guess, so a stale or missing pair is no finding, and a
 * rebuild only refreshes them. */
static int want_count(ctx *x, unit *u, const dkey *k, int64_t n, uint64_t first, uint64_t last) {
    if (n == 0) return want_absent_kind(x, u, STORE_CF_META, k, V_COUNT);
    want *w = want_add(x, u, STORE_CF_META, k);
    if (!w) return -1;
    w->vl = entity_count_encode(w->v, n, first, last);
    w->kind = V_COUNT;
    return 0;
}

static void own_prefix(unit *u, const dkey *k) {
    assert(u->npre < 6);
    u->pre[u->npre++] = *k;
}

static void finding(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- showing values ----------------------------------------------------------- */

static void show(char *out, size_t cap, int kind, const char *v, size_t vl) {
    if ((kind == V_I64 && vl == 8) || (kind == V_COUNT && (vl == ENTITY_COUNT_LEN || vl == ENTITY_COUNT_HINTED_LEN))) {
        snprintf(out, cap, "%lld", (long long)enc_get_u64(v)); /* a count's hint ids are not shown */
        return;
    }
    if (kind == V_STATS && vl == 16) {
        snprintf(out, cap, "count %lld, total %lld", (long long)enc_get_u64(v), (long long)enc_get_u64(v + 8));
        return;
    }
    size_t o = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < vl && o + 6 < cap; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'') out[o++] = (char)ch;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    out[o++] = '\'';
    out[o] = 0;
}

/* ---- families ------------------------------------------------------------------- */

typedef int (*derive_fn)(ctx *x, const void *arg, const char *unit_id, unit *u);
/* An entry of a global index: *valid = 1 when a document implies it. */
typedef int (*entry_fn)(ctx *x, const void *arg, const char *rest, size_t rl, const char *v, size_t vl,
                        int *valid);

typedef struct pass {
    int cf;
    void (*prefix)(dkey *k, const void *arg);
    entry_fn entry; /* NULL: a unit pass */
    derive_fn derive; /* a unit pass with units of its own (not the family's) */
} pass;

#define RB_PASSES 10
typedef struct family {
    const char *name;
    const void *arg;
    int (*unit_ok)(const char *p, size_t n);
    derive_fn derive;
    pass passes[RB_PASSES]; /* ends at prefix NULL */
} family;

/* A JSON object from a db_iter value, or NULL. */
static json_t *parse_obj(const char *p, size_t n) {
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Visits the documents under prefix (database 0): fn(rest, doc or NULL);
 * parse 0: doc is always NULL (the caller needs only the keys). */
typedef int (*doc_fn)(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg);
static int each_doc_p(ctx *x, const dkey *prefix, doc_fn fn, void *arg, int parse);
#define each_doc(x, prefix, fn, arg) each_doc_p((x), (prefix), (fn), (arg), 1)
static int each_doc_p(ctx *x, const dkey *prefix, doc_fn fn, void *arg, int parse) {
    db_iter it;
    db_iter_open(&it, x->e->ks, 0, prefix->buf, prefix->len);
    const char *k;
    size_t kl;
    enc_value ev;
    int r, rc = 0;
    while (rc == 0 && (r = db_iter_next(&it, &k, &kl, &ev)) == 1) {
        json_t *doc = parse ? parse_obj(ev.payload, ev.len) : NULL;
        rc = fn(x, k + prefix->len, kl - prefix->len, doc, arg);
        json_decref(doc);
    }
    db_iter_close(&it);
    if (rc < 0) return -1;
    if (r < 0) return dom_fail(x->e, ST_ERR, "storage error while iterating");
    return 0;
}

/* rest as a NUL-terminated id into out; 0 when it is not a valid id. */
static int id_of(const char *rest, size_t rl, char out[DOM_ID_BUF]) {
    if (!dom_valid_id(rest, rl)) return 0;
    memcpy(out, rest, rl);
    out[rl] = 0;
    return 1;
}

static json_t *load_doc(ctx *x, const dkey *k, int *failed) {
    json_t *d = dom_get_doc(x->e->ks, k, failed);
    if (*failed && x->e->ks->err.code != ST_NOMEM && strncmp(x->e->ks->err.msg, "ERR storage", 11) != 0)
        *failed = 0; /* not JSON: as absent for what it implies */
    if (d && !json_is_object(d)) {
        json_decref(d);
        d = NULL;
    }
    return d;
}

/* -- users: ulist:{uid}, email:{lower(email)} -> uid -- */

static void users_docs(dkey *k, const void *a) { (void)a; user_key_user(k, PH); cut_at_ph(k); }
static void users_list(dkey *k, const void *a) { (void)a; user_key_list(k); }
static void users_email(dkey *k, const void *a) { (void)a; user_key_email(k, PH, sizeof PH - 1); cut_at_ph(k); }

static int users_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    (void)arg;
    dkey bk, k;
    int failed;
    user_key_section(&bk, uid, "base");
    json_t *base = load_doc(x, &bk, &failed);
    if (failed) return -1;
    user_key_list_entry(&k, uid);
    int r = base ? want_text(x, u, &k, "", 0) : want_absent(x, u, STORE_CF_META, &k);
    const json_t *em = json_object_get(base, "email");
    if (r == 0 && json_is_string(em) && json_string_length(em) >= 1 && json_string_length(em) <= USER_EMAIL_MAX) {
        user_key_email(&k, json_string_value(em), json_string_length(em));
        r = want_text(x, u, &k, uid, strlen(uid));
    }
    json_decref(base);
    return r;
}

static int users_email_entry(ctx *x, const void *arg, const char *rest, size_t rl, const char *v, size_t vl,
                             int *valid) {
    (void)arg;
    char uid[DOM_ID_BUF];
    *valid = 0;
    if (!id_of(v, vl, uid)) return 0;
    dkey bk, k;
    int failed;
    user_key_section(&bk, uid, "base");
    json_t *base = load_doc(x, &bk, &failed);
    if (failed) return -1;
    const json_t *em = json_object_get(base, "email");
    if (json_is_string(em) && json_string_length(em) >= 1 && json_string_length(em) <= USER_EMAIL_MAX) {
        user_key_email(&k, json_string_value(em), json_string_length(em));
        dkey self;
        users_email(&self, NULL);
        *valid = k.len == self.len + rl && memcmp(k.buf + self.len, rest, rl) == 0;
    }
    json_decref(base);
    return 0;
}

/* -- coins: coins:{uid}:balance (data CF) = Σ amount of the rows -- */

static void coins_docs(dkey *k, const void *a) { (void)a; ledger_key_user(k, PH); cut_at_ph(k); }

typedef struct sum_st { int64_t sum, rows; int bad; } sum_st;

static int coins_row(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    sum_st *s = arg;
    const json_t *a = json_object_get(doc, "amount");
    s->rows++;
    if (!json_is_integer(a)) {
        if (!s->bad) finding(x, "%s: ledger row '%.*s' has no integer amount", x->f->name, (int)rl, rest);
        s->bad = 1;
        return 0;
    }
    s->sum += json_integer_value(a);
    return 0;
}

static int coins_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    (void)arg;
    dkey k;
    sum_st s = {0};
    ledger_key_rows(&k, uid);
    if (each_doc(x, &k, coins_row, &s) < 0) return -1;
    if (s.sum < 0) {
        finding(x, "%s: the rows of '%s' sum to %lld < 0: the balance cannot be rebuilt", x->f->name, uid,
                (long long)s.sum);
        s.bad = 1;
    }
    ledger_key_balance(&k, uid);
    want *w = want_add(x, u, STORE_CF_DATA, &k);
    if (!w) return -1;
    w->kind = V_BALANCE;
    w->vl = (size_t)snprintf(w->v, sizeof w->v, "%lld", (long long)s.sum);
    u->nofix = s.bad;
    return 0;
}

/* -- an entity namespace: count:M:{uid}, owner:M:{id}, feed:M:{id}, all:M:{id} -- */

static void ent_docs(dkey *k, const void *a) {
    const entity_ns *ns = a;
    dkey u;
    entity_key_user(&u, ns, PH);
    cut_at_ph(&u);
    *k = u;
}
static void ent_count(dkey *k, const void *a) { entity_key_count(k, a, PH); cut_at_ph(k); }
static void ent_owner(dkey *k, const void *a) { entity_key_owner(k, a, PH); cut_at_ph(k); }
static void ent_feed(dkey *k, const void *a) { entity_key_feed_index(k, a); }
static void ent_all(dkey *k, const void *a) { entity_key_all_index(k, a); }

typedef struct ent_st {
    const entity_ns *ns;
    const char *uid;
    unit *u;
    int64_t n;
    uint64_t first, last; /* the count record's hints (0: a document without a server id) */
    int unhinted;
} ent_st;

static int ent_doc(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    ent_st *s = arg;
    char id[DOM_ID_BUF];
    if (!id_of(rest, rl, id)) return 0; /* not a document of this namespace (a deeper key) */
    s->n++;
    uint64_t v;
    if (!dom_server_id_value(id, strlen(id), &v)) s->unhinted = 1;
    else { /* the documents come in key order, which is id order */
        if (!s->first) s->first = v;
        s->last = v;
    }
    dkey k;
    size_t ul = strlen(s->uid);
    if (entity_keeps_owner(s->ns)) {
        entity_key_owner(&k, s->ns, id);
        if (want_text(x, s->u, &k, s->uid, ul) < 0) return -1;
    }
    if (s->ns->index) {
        entity_key_feed(&k, s->ns, id);
        if ((entity_index_matches(s->ns, doc) ? want_text(x, s->u, &k, s->uid, ul)
                                               : want_absent(x, s->u, STORE_CF_META, &k)) < 0)
            return -1;
    }
    if (entity_keeps_all(s->ns)) {
        entity_key_all(&k, s->ns, id);
        if (want_text(x, s->u, &k, s->uid, ul) < 0) return -1;
    }
    return 0;
}

static int ent_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    ent_st s = {.ns = arg, .uid = uid, .u = u};
    dkey k;
    entity_key_user(&k, s.ns, uid);
    /* only a feed predicate needs the document's fields */
    if (each_doc_p(x, &k, ent_doc, &s, s.ns->index != NULL) < 0) return -1;
    entity_key_count(&k, s.ns, uid);
    return want_count(x, u, &k, s.n, s.unhinted ? 0 : s.first, s.last); /* a 0 id leaves both out */
}

/* owner:/all: entries name an existing document; feed: entries one that
 * matches the index. */
static int ent_entry(ctx *x, const entity_ns *ns, const char *rest, size_t rl, const char *v, size_t vl, int *valid,
                     int feed) {
    char id[DOM_ID_BUF], uid[DOM_ID_BUF];
    *valid = 0;
    if (!id_of(rest, rl, id) || !id_of(v, vl, uid)) return 0;
    dkey k;
    int failed;
    entity_key_doc(&k, ns, uid, id);
    if (!feed) { /* any document counts: no need to parse it */
        int r = db_exists(x->e->ks, 0, k.buf, k.len);
        if (r < 0) return -1;
        *valid = r;
        return 0;
    }
    json_t *doc = load_doc(x, &k, &failed);
    if (failed) return -1;
    *valid = doc && entity_index_matches(ns, doc);
    json_decref(doc);
    return 0;
}
static int ent_owner_entry(ctx *x, const void *a, const char *r, size_t rl, const char *v, size_t vl, int *ok) {
    return ent_entry(x, a, r, rl, v, vl, ok, 0);
}
static int ent_feed_entry(ctx *x, const void *a, const char *r, size_t rl, const char *v, size_t vl, int *ok) {
    return ent_entry(x, a, r, rl, v, vl, ok, 1);
}

/* -- donations: donstat:{uid} = (count, total), dsent:{from}:{id} -> uid -- */

static void don_docs(dkey *k, const void *a) { (void)a; donation_key_user(k, PH); cut_at_ph(k); }
static void don_stats(dkey *k, const void *a) { (void)a; donation_key_stats(k, PH); cut_at_ph(k); }
static void don_sent(dkey *k, const void *a) { (void)a; donation_key_sent_index(k, PH); cut_at_ph(k); }

typedef struct don_st { const char *uid; unit *u; int64_t n, total; } don_st;

static int don_doc(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    don_st *s = arg;
    char id[DOM_ID_BUF], from[DOM_ID_BUF];
    if (!id_of(rest, rl, id)) return 0;
    const json_t *f = json_object_get(doc, "from"), *a = json_object_get(doc, "amount");
    s->n++;
    s->total += json_integer_value(a); /* 0 when not an integer */
    if (!json_is_string(f) || !id_of(json_string_value(f), json_string_length(f), from)) return 0;
    /* The sender index is the donor's: USER.DELETE of the donor removes it
     * and keeps the artist's donation. A donor still has the ledger row of
     * the donation, a deleted one has no ledger at all. */
    dkey k;
    ledger_key_rows(&k, from);
    db_iter it;
    db_iter_open(&it, x->e->ks, 0, k.buf, k.len);
    const char *lk;
    size_t ll;
    enc_value ev;
    int r = db_iter_next(&it, &lk, &ll, &ev);
    /* the donor existed then and was not deleted since: its ledger's first
     * row is older than the donation (its coins moved first); a donor
     * deleted and active again has a ledger that starts later */
    int older = r == 1 && ll - k.len == strlen(id) && memcmp(lk + k.len, id, ll - k.len) < 0;
    db_iter_close(&it);
    if (r < 0) return dom_fail(x->e, ST_ERR, "storage error while iterating");
    if (!older) return 0;
    donation_key_sent(&k, from, id);
    return want_text(x, s->u, &k, s->uid, strlen(s->uid));
}

static int don_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    (void)arg;
    don_st s = {.uid = uid, .u = u};
    dkey k;
    donation_key_user(&k, uid);
    if (each_doc(x, &k, don_doc, &s) < 0) return -1;
    donation_key_stats(&k, uid);
    if (s.n == 0) return want_absent_kind(x, u, STORE_CF_META, &k, V_STATS);
    want *w = want_add(x, u, STORE_CF_META, &k);
    if (!w) return -1;
    enc_put_u64(w->v, (uint64_t)s.n);
    enc_put_u64(w->v + 8, (uint64_t)s.total);
    w->vl = 16;
    w->kind = V_STATS;
    return 0;
}

/* dsent:{from}:{id} -> to: donations:{to}:{id} exists and is from `from`. */
static int don_sent_entry(ctx *x, const void *a, const char *rest, size_t rl, const char *v, size_t vl,
                          int *valid) {
    (void)a;
    char from[DOM_ID_BUF], id[DOM_ID_BUF], to[DOM_ID_BUF];
    *valid = 0;
    const char *colon = memchr(rest, ':', rl);
    if (!colon || !id_of(rest, (size_t)(colon - rest), from) ||
        !id_of(colon + 1, rl - (size_t)(colon - rest) - 1, id) || !id_of(v, vl, to))
        return 0;
    dkey k;
    int failed;
    donation_key_doc(&k, to, id);
    json_t *doc = load_doc(x, &k, &failed);
    if (failed) return -1;
    /* USER.DELETE of the artist leaves the donors' entries behind on purpose
     * (they cannot be found from the artist's uid; readers skip an entry
     * whose donation is gone), so only an entry that points at a donation of
     * someone else disagrees */
    const json_t *f = json_object_get(doc, "from");
    *valid = !doc || (json_is_string(f) && strcmp(json_string_value(f), from) == 0);
    json_decref(doc);
    return 0;
}

/* -- notifications: nunread:{uid}:{id} for each unread, ncount:{uid} -- */

static void not_docs(dkey *k, const void *a) { (void)a; notify_key_user(k, PH); cut_at_ph(k); }
static void not_unread(dkey *k, const void *a) { (void)a; notify_key_unread_index(k, PH); cut_at_ph(k); }
static void not_count(dkey *k, const void *a) { (void)a; notify_key_count(k, PH); cut_at_ph(k); }

typedef struct not_st { const char *uid; unit *u; int64_t unread; } not_st;

static int not_doc(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    not_st *s = arg;
    char id[DOM_ID_BUF];
    if (!id_of(rest, rl, id)) return 0;
    dkey k;
    notify_key_unread(&k, s->uid, id);
    if (doc && !json_is_true(json_object_get(doc, "read"))) {
        s->unread++;
        return want_text(x, s->u, &k, "", 0);
    }
    return want_absent(x, s->u, STORE_CF_META, &k);
}

static int not_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    (void)arg;
    not_st s = {.uid = uid, .u = u};
    dkey k;
    notify_key_unread_index(&k, uid);
    own_prefix(u, &k);
    notify_key_user(&k, uid);
    if (each_doc(x, &k, not_doc, &s) < 0) return -1;
    notify_key_count(&k, uid);
    return want_i64(x, u, &k, s.unread);
}

/* -- tickets: tk:{uid}:{ticket}, tkopen:{ticket} -> uid, tkr:{ticket} -- */

static void tk_docs(dkey *k, const void *a) { (void)a; ticket_key_ticket(k, PH); cut_at_ph(k); }
static void tk_open(dkey *k, const void *a) { (void)a; ticket_key_open_index(k); }
static void tk_count(dkey *k, const void *a) { (void)a; ticket_key_count(k, PH); cut_at_ph(k); }
static void tk_index(dkey *k, const void *a) { (void)a; ticket_key_index(k, PH); cut_at_ph(k); }

static int tk_reply(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    (void)x;
    (void)doc;
    if (dom_valid_id(rest, rl)) ++*(int64_t *)arg;
    return 0;
}

static int tk_derive(ctx *x, const void *arg, const char *t, unit *u) {
    (void)arg;
    dkey k;
    int failed;
    ticket_key_details(&k, t);
    json_t *d = load_doc(x, &k, &failed);
    if (failed) return -1;
    const json_t *uj = json_object_get(d, "user_id"), *st = json_object_get(d, "status");
    char uid[DOM_ID_BUF];
    int owned = json_is_string(uj) && id_of(json_string_value(uj), json_string_length(uj), uid);
    int closed = json_is_string(st) && strcmp(json_string_value(st), "closed") == 0;
    int r = 0;
    if (owned) {
        ticket_key_index_entry(&k, uid, t);
        r = want_text(x, u, &k, "", 0);
    }
    ticket_key_open(&k, t);
    if (r == 0) r = owned && !closed ? want_text(x, u, &k, uid, strlen(uid)) : want_absent(x, u, STORE_CF_META, &k);
    json_decref(d);
    if (r < 0) return -1;
    int64_t replies = 0;
    ticket_key_replies(&k, t);
    if (each_doc_p(x, &k, tk_reply, &replies, 0) < 0) return -1;
    ticket_key_count(&k, t);
    return want_i64(x, u, &k, replies);
}

/* tk:{uid}:{ticket}: the ticket's details name uid. */
static int tk_index_entry(ctx *x, const void *a, const char *rest, size_t rl, const char *v, size_t vl, int *valid) {
    (void)a;
    (void)v;
    (void)vl;
    char uid[DOM_ID_BUF], t[DOM_ID_BUF];
    *valid = 0;
    const char *colon = memchr(rest, ':', rl);
    if (!colon || !id_of(rest, (size_t)(colon - rest), uid) || !id_of(colon + 1, rl - (size_t)(colon - rest) - 1, t))
        return 0;
    dkey k;
    int failed;
    ticket_key_details(&k, t);
    json_t *d = load_doc(x, &k, &failed);
    if (failed) return -1;
    const json_t *uj = json_object_get(d, "user_id");
    *valid = json_is_string(uj) && strcmp(json_string_value(uj), uid) == 0;
    json_decref(d);
    return 0;
}

/* -- conversations (unit: conv): msent:, munread:, mucount:, mconvp:, mconv:;
 *    then per user (unit: uid): mutotal:{uid} = the entries of munread:{uid}: --
 * Who holds a conversation (has a pointer and a list entry) is not in the
 * documents once USER.DELETE removed one side: a participant holds it when
 * it holds a pointer now or sent a message in it, and both do when neither
 * does (a restored server). */

static void msg_docs(dkey *k, const void *a) { (void)a; msg_key_messages(k, PH); cut_at_ph(k); }
static void msg_details_pfx(dkey *k, const void *a) { (void)a; msg_key_details(k, PH); cut_at_ph(k); }
static void msg_pointers(dkey *k, const void *a) { (void)a; msg_key_pointers(k, PH); cut_at_ph(k); }
static void msg_lists(dkey *k, const void *a) { (void)a; msg_key_list(k, PH); cut_at_ph(k); }
static void msg_counts(dkey *k, const void *a) { (void)a; msg_key_counts(k, PH); cut_at_ph(k); }
static void msg_unread_pfx(dkey *k, const void *a) { (void)a; msg_key_unread_user(k, PH); cut_at_ph(k); }
static void msg_sent_pfx(dkey *k, const void *a) { (void)a; msg_key_sent_user(k, PH); cut_at_ph(k); }
static void msg_totals(dkey *k, const void *a) { (void)a; msg_key_total(k, PH); cut_at_ph(k); }

typedef struct msg_st {
    const char *conv;
    unit *u;
    char p[2][DOM_ID_BUF]; /* participants ("" unknown) */
    int sent[2];
    int64_t unread[2];
    char last[DOM_ID_BUF];
} msg_st;

static int part_of(msg_st *s, const char *uid) {
    for (int i = 0; i < 2; i++)
        if (s->p[i][0] && strcmp(s->p[i], uid) == 0) return i;
    for (int i = 0; i < 2; i++)
        if (!s->p[i][0]) {
            snprintf(s->p[i], sizeof s->p[i], "%s", uid);
            return i;
        }
    return -1;
}

static int msg_doc(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    msg_st *s = arg;
    char id[DOM_ID_BUF], from[DOM_ID_BUF], to[DOM_ID_BUF];
    if (!id_of(rest, rl, id)) return 0;
    const json_t *f = json_object_get(doc, "from"), *t = json_object_get(doc, "to");
    if (!json_is_string(f) || !json_is_string(t) || !id_of(json_string_value(f), json_string_length(f), from) ||
        !id_of(json_string_value(t), json_string_length(t), to))
        return 0;
    int pf = part_of(s, from), pt = part_of(s, to);
    if (pf < 0 || pt < 0) return 0; /* a third party: written around the engine */
    memcpy(s->last, id, sizeof id);
    s->sent[pf] = 1;
    dkey k;
    msg_key_sent(&k, from, s->conv, id);
    if (want_text(x, s->u, &k, to, strlen(to)) < 0) return -1;
    if (json_is_true(json_object_get(doc, "read"))) return 0;
    s->unread[pt]++;
    return 0;
}

/* The unread entries of the messages to uid (a second walk: only holders get them). */
typedef struct unread_st { msg_st *m; const char *uid; } unread_st;
static int msg_unread_doc(ctx *x, const char *rest, size_t rl, json_t *doc, void *arg) {
    unread_st *s = arg;
    char id[DOM_ID_BUF];
    const json_t *t = json_object_get(doc, "to");
    if (!id_of(rest, rl, id) || !json_is_string(t) || strcmp(json_string_value(t), s->uid) != 0 ||
        json_is_true(json_object_get(doc, "read")))
        return 0;
    dkey k;
    msg_key_unread(&k, s->uid, s->m->conv, id);
    return want_text(x, s->m->u, &k, "", 0);
}

static int msg_derive(ctx *x, const void *arg, const char *conv, unit *u) {
    (void)arg;
    msg_st s = {.conv = conv, .u = u};
    dkey k;
    int failed;
    msg_key_details(&k, conv);
    json_t *det = load_doc(x, &k, &failed);
    if (failed) return -1;
    const json_t *ps = json_object_get(det, "participants");
    for (size_t i = 0; i < 2 && json_array_size(ps) == 2; i++) {
        const json_t *p = json_array_get(ps, i);
        if (json_is_string(p) && dom_valid_id(json_string_value(p), json_string_length(p)))
            snprintf(s.p[i], sizeof s.p[i], "%s", json_string_value(p));
    }
    json_decref(det);
    msg_key_messages(&k, conv);
    if (each_doc(x, &k, msg_doc, &s) < 0) return -1;
    int holds[2] = {0, 0}, anyone = 0;
    char ptr[2][DOM_ID_BUF] = {"", ""}; /* the pointers' ids, when valid */
    size_t cl = strlen(conv);
    for (int i = 0; i < 2; i++) {
        if (!s.p[i][0]) continue;
        store_val v;
        msg_key_pointer(&k, s.p[i], conv, cl);
        int r = meta_get(x->e->ks, &k, &v);
        if (r < 0) return -1;
        if (r == 1) {
            if (!id_of(v.ptr, v.len, ptr[i])) ptr[i][0] = 0;
            store_val_free(&v);
        }
        holds[i] = r == 1 || s.sent[i];
        anyone |= holds[i];
    }
    for (int i = 0; i < 2; i++) {
        const char *p = s.p[i];
        if (!p[0]) continue;
        int h = anyone ? holds[i] : 1;
        msg_key_unread_conv(&k, p, conv);
        own_prefix(u, &k);
        dkey sk;
        msg_key_sent_user(&sk, p);
        dkey_fmt(&k, "%.*s%s:", (int)sk.len, sk.buf, conv);
        own_prefix(u, &k);
        msg_key_pointer(&k, p, conv, cl);
        /* USER.DELETE of the other side can take every message and leave
         * this side its conversation (last_message null), listed under the
         * id its pointer keeps */
        const char *last = s.last[0] ? s.last : h && anyone && ptr[i][0] ? ptr[i] : "";
        if (!h || !last[0]) {
            if (want_absent(x, u, STORE_CF_META, &k) < 0) return -1;
            msg_key_count(&k, p, conv);
            if (want_i64(x, u, &k, 0) < 0) return -1;
            continue;
        }
        if (want_text(x, u, &k, last, strlen(last)) < 0) return -1;
        msg_key_list_entry(&k, p, last, strlen(last), conv, cl);
        if (want_text(x, u, &k, "", 0) < 0) return -1;
        msg_key_count(&k, p, conv);
        if (want_i64(x, u, &k, s.unread[i]) < 0) return -1;
        unread_st us = {.m = &s, .uid = p};
        msg_key_messages(&k, conv);
        if (each_doc(x, &k, msg_unread_doc, &us) < 0) return -1;
    }
    return 0;
}

/* rest = "{uid}:{conv}" or "{uid}:{conv}:{id}" (tail: id or NULL) */
static int split_uid_conv(const char *rest, size_t rl, char uid[DOM_ID_BUF], char conv[DOM_ID_BUF],
                          char *id /* DOM_ID_BUF or NULL */) {
    const char *c1 = memchr(rest, ':', rl);
    if (!c1 || !id_of(rest, (size_t)(c1 - rest), uid)) return 0;
    const char *p = c1 + 1, *end = rest + rl;
    const char *c2 = memchr(p, ':', (size_t)(end - p));
    if (!id) return !c2 && id_of(p, (size_t)(end - p), conv);
    return c2 && id_of(p, (size_t)(c2 - p), conv) && id_of(c2 + 1, (size_t)(end - c2 - 1), id);
}

/* mconvp:{uid}:{conv}, mucount:{uid}:{conv}: uid is a participant of an existing conversation. */
static int msg_member_entry(ctx *x, const void *a, const char *rest, size_t rl, const char *v, size_t vl,
                            int *valid) {
    (void)a;
    (void)v;
    (void)vl;
    char uid[DOM_ID_BUF], conv[DOM_ID_BUF];
    *valid = 0;
    if (!split_uid_conv(rest, rl, uid, conv, NULL)) return 0;
    dkey k;
    int failed;
    msg_key_details(&k, conv);
    json_t *det = load_doc(x, &k, &failed);
    if (failed) return -1;
    const json_t *ps = json_object_get(det, "participants");
    for (size_t i = 0; i < json_array_size(ps); i++)
        if (json_is_string(json_array_get(ps, i)) && strcmp(json_string_value(json_array_get(ps, i)), uid) == 0)
            *valid = 1;
    json_decref(det);
    return 0;
}

/* mconv:{uid}:{lastid}:{conv}: the entry uid's pointer names. */
static int msg_list_entry(ctx *x, const void *a, const char *rest, size_t rl, const char *v, size_t vl, int *valid) {
    (void)a;
    (void)v;
    (void)vl;
    char uid[DOM_ID_BUF], last[DOM_ID_BUF], conv[DOM_ID_BUF];
    *valid = 0;
    if (!split_uid_conv(rest, rl, uid, last, conv)) return 0;
    dkey k;
    store_val pv;
    msg_key_pointer(&k, uid, conv, strlen(conv));
    int r = meta_get(x->e->ks, &k, &pv);
    if (r < 0) return -1;
    if (r == 1) {
        *valid = pv.len == strlen(last) && memcmp(pv.ptr, last, pv.len) == 0;
        store_val_free(&pv);
    }
    return 0;
}

/* munread:{uid}:{conv}:{id} (to uid, unread) and msent:{uid}:{conv}:{id} (from uid, value to). */
static int msg_msg_entry(ctx *x, const char *rest, size_t rl, const char *v, size_t vl, int *valid, int sent) {
    char uid[DOM_ID_BUF], conv[DOM_ID_BUF], id[DOM_ID_BUF];
    *valid = 0;
    if (!split_uid_conv(rest, rl, uid, conv, id)) return 0;
    dkey k;
    int failed;
    msg_key_message(&k, conv, id);
    json_t *m = load_doc(x, &k, &failed);
    if (failed) return -1;
    const char *from = json_string_value(json_object_get(m, "from")), *to = json_string_value(json_object_get(m, "to"));
    if (sent) *valid = from && to && !strcmp(from, uid) && strlen(to) == vl && !memcmp(to, v, vl);
    else *valid = to && !strcmp(to, uid) && !json_is_true(json_object_get(m, "read"));
    json_decref(m);
    return 0;
}
static int msg_unread_entry(ctx *x, const void *a, const char *r, size_t rl, const char *v, size_t vl, int *ok) {
    (void)a;
    return msg_msg_entry(x, r, rl, v, vl, ok, 0);
}
static int msg_sent_entry(ctx *x, const void *a, const char *r, size_t rl, const char *v, size_t vl, int *ok) {
    (void)a;
    return msg_msg_entry(x, r, rl, v, vl, ok, 1);
}

static int count_one(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    (void)rest;
    (void)rl;
    (void)val;
    (void)vl;
    ++*(int64_t *)arg;
    return 0;
}

static int msg_total_derive(ctx *x, const void *arg, const char *uid, unit *u) {
    (void)arg;
    dkey k;
    int64_t n = 0;
    msg_key_unread_user(&k, uid);
    if (meta_scan(x->e->ks, &k, count_one, &n) < 0) return -1;
    msg_key_total(&k, uid);
    return want_i64(x, u, &k, n);
}

#define M STORE_CF_META
#define D STORE_CF_DATA
#define ENTITY_FAMILY(nsv)                                                                                       \
    {.name = NULL, .arg = &nsv, .unit_ok = dom_valid_id, .derive = ent_derive,                                 \
     .passes = {{D, ent_docs, NULL, NULL}, {M, ent_count, NULL, NULL}, {M, ent_owner, ent_owner_entry, NULL},   \
                {M, ent_feed, ent_feed_entry, NULL}, {M, ent_all, ent_owner_entry, NULL}}}

/* The entity families take their name from the namespace (ns->meta). */
static const family families[] = {
    {.name = "users", .unit_ok = dom_valid_id, .derive = users_derive,
     .passes = {{D, users_docs, NULL, NULL}, {M, users_list, NULL, NULL},
                {M, users_email, users_email_entry, NULL}}},
    {.name = "coins", .unit_ok = ledger_valid_uid, .derive = coins_derive, .passes = {{D, coins_docs, NULL, NULL}}},
    ENTITY_FAMILY(entity_ns_track), ENTITY_FAMILY(entity_ns_video), ENTITY_FAMILY(entity_ns_concert),
    ENTITY_FAMILY(entity_ns_news), ENTITY_FAMILY(entity_ns_banner), ENTITY_FAMILY(entity_ns_promo),
    ENTITY_FAMILY(entity_ns_pitch), ENTITY_FAMILY(entity_ns_paymethod),
    {.name = "donations", .unit_ok = dom_valid_id, .derive = don_derive,
     .passes = {{D, don_docs, NULL, NULL}, {M, don_stats, NULL, NULL}, {M, don_sent, don_sent_entry, NULL}}},
    {.name = "notifications", .unit_ok = dom_valid_id, .derive = not_derive,
     .passes = {{D, not_docs, NULL, NULL}, {M, not_unread, NULL, NULL}, {M, not_count, NULL, NULL}}},
    {.name = "messages", .unit_ok = dom_valid_id, .derive = msg_derive,
     .passes = {{D, msg_docs, NULL, NULL}, {D, msg_details_pfx, NULL, NULL}, {M, msg_pointers, msg_member_entry, NULL},
                {M, msg_lists, msg_list_entry, NULL}, {M, msg_counts, msg_member_entry, NULL},
                {M, msg_unread_pfx, msg_unread_entry, NULL}, {M, msg_sent_pfx, msg_sent_entry, NULL},
                {M, msg_unread_pfx, NULL, msg_total_derive}, {M, msg_totals, NULL, msg_total_derive}}},
    {.name = "tickets", .unit_ok = dom_valid_id, .derive = tk_derive,
     .passes = {{D, tk_docs, NULL, NULL}, {M, tk_open, NULL, NULL}, {M, tk_count, NULL, NULL},
                {M, tk_index, tk_index_entry, NULL}}},
};
#undef M
#undef D
#define NFAMILIES (sizeof families / sizeof families[0])

size_t rb_family_count(void) { return NFAMILIES; }

const char *rb_family_name(size_t i) {
    assert(i < NFAMILIES);
    return families[i].name ? families[i].name : ((const entity_ns *)families[i].arg)->meta;
}

int rb_walk_init(rb_walk *w, const char *name) {
    memset(w, 0, sizeof *w);
    if (!name) return 0;
    for (size_t i = 0; i < NFAMILIES; i++)
        if (strcasecmp(rb_family_name(i), name) == 0) {
            w->family = (int)i;
            w->only = 1;
            return 0;
        }
    return -1;
}

/* ---- comparing and correcting ---------------------------------------------------- */

static void finding(ctx *x, const char *fmt, ...) {
    char text[1024];
    x->w->findings++;
    if (!x->fn) return; /* DOMAIN.REBUILD counts them only */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    x->fn(x->arg, text);
}

static int want_cmp(const void *a, const void *b) {
    const want *x = a, *y = b;
    if (x->cf != y->cf) return x->cf - y->cf;
    size_t n = x->k.len < y->k.len ? x->k.len : y->k.len;
    int c = memcmp(x->k.buf, y->k.buf, n);
    return c ? c : (x->k.len > y->k.len) - (x->k.len < y->k.len);
}

static const char *cf_name(int cf) { return cf == STORE_CF_DATA ? "data" : "meta"; }

/* Compares one expected entry with the store; reports and corrects. */
static int check_want(ctx *x, unit *u, const want *w) {
    keyspace *ks = x->e->ks;
    store_val sv;
    db_value dv;
    const char *p = NULL;
    size_t pl = 0;
    int r;
    if (x->w->fresh && x->fix && !u->nofix && w->cf == STORE_CF_META && !w->absent) {
        /* a fresh walk: no derived entry existed (rb_walk_fresh), and each
         * is a single unit's, so it is written without being read first */
        x->w->findings++;
        meta_put(ks, &w->k, w->v, w->vl);
        return 0;
    }
    if (w->cf == STORE_CF_META) {
        r = meta_get(ks, &w->k, &sv);
        if (r == 1) p = sv.ptr, pl = sv.len;
    } else {
        r = db_lookup(ks, 0, w->k.buf, w->k.len, &dv);
        if (r == 1) p = dv.v.payload, pl = dv.v.len;
    }
    if (r < 0) return -1;
    int same, refresh = 0;
    if (w->absent) same = r == 0;
    else if (r == 0) same = w->kind == V_BALANCE && w->vl == 1 && w->v[0] == '0'; /* absent balance = 0 */
    else if (w->kind == V_BALANCE) {
        int64_t a, b;
        same = resp_parse_ll(p, pl, &a) == 0 && resp_parse_ll(w->v, w->vl, &b) == 0 && a == b;
    } else if (w->kind == V_COUNT) {
        int64_t a, b;
        uint64_t f, l;
        entity_count_decode(p, pl, &a, &f, &l);
        entity_count_decode(w->v, w->vl, &b, &f, &l);
        same = a == b && (pl == ENTITY_COUNT_LEN || pl == ENTITY_COUNT_HINTED_LEN);
        refresh = same && !(pl == w->vl && memcmp(p, w->v, pl) == 0); /* the hints only */
    } else same = pl == w->vl && memcmp(p, w->v, pl) == 0;
    if (!same && !x->fn) {
        x->w->findings++;
    } else if (!same) {
        char exp[200], got[200];
        if (w->absent) strcpy(exp, "absent");
        else show(exp, sizeof exp, w->kind, w->v, w->vl);
        if (r == 0) strcpy(got, "absent");
        else show(got, sizeof got, w->kind, p, pl);
        finding(x, "%s: %s key '%.*s': expected %s, found %s", rb_family_name((size_t)x->w->family), cf_name(w->cf),
                (int)w->k.len, w->k.buf, exp, got);
    }
    if (r == 1) {
        if (w->cf == STORE_CF_META) store_val_free(&sv);
        else db_value_free(&dv);
    }
    if (refresh && x->fix && !u->nofix) meta_put(ks, &w->k, w->v, w->vl); /* no finding */
    if (same || !x->fix || u->nofix) return 0;
    if (w->cf == STORE_CF_META) {
        if (w->absent) meta_del(ks, &w->k);
        else meta_put(ks, &w->k, w->v, w->vl);
        return 0;
    }
    if (w->absent) return db_delete(ks, 0, w->k.buf, w->k.len) < 0 ? -1 : 0;
    return db_put(ks, 0, w->k.buf, w->k.len, ENC_TYPE_STRING, 0, w->v, w->vl, -1);
}

typedef struct kv {
    dkey k;
    char v[64];
    size_t vl;
} kv;
typedef struct kvlist {
    kv *v;
    size_t n, cap;
    const dkey *prefix;
    keyspace *ks;
} kvlist;

static int collect(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    kvlist *l = arg;
    if (l->prefix->len + rl > DOM_KEY_MAX) return 0; /* not written by a builder */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        kv *v = realloc(l->v, cap * sizeof *v);
        if (!v) return st_fail(&l->ks->err, ST_NOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    kv *e = &l->v[l->n++];
    e->k = *l->prefix;
    dkey_append(&e->k, rest, rl);
    e->vl = vl < sizeof e->v ? vl : sizeof e->v;
    memcpy(e->v, val, e->vl);
    return 0;
}

/* Whether the unit has a key in the family's documents (its first pass). */
static int unit_has_docs(ctx *x, const char *uid) {
    dkey fam, p;
    x->f->passes[0].prefix(&fam, x->f->arg);
    dkey_fmt(&p, "%.*s%s:", (int)fam.len, fam.buf, uid);
    db_iter it;
    db_iter_open(&it, x->e->ks, 0, p.buf, p.len);
    const char *k;
    size_t kl;
    enc_value ev;
    int r = db_iter_next(&it, &k, &kl, &ev);
    db_iter_close(&it);
    if (r < 0) return dom_fail(x->e, ST_ERR, "storage error while iterating");
    return r;
}

static int do_unit(ctx *x, const char *uid, int docs_pass, derive_fn derive) {
    unit u = {0};
    int rc = -1;
    kvlist l = {0};
    if (!docs_pass) { /* a unit with documents was done by the documents' pass */
        int r = unit_has_docs(x, uid);
        if (r != 0) return r < 0 ? -1 : 0;
    }
    if ((derive ? derive : x->f->derive)(x, x->f->arg, uid, &u) < 0) goto out;
    qsort(u.w, u.n, sizeof *u.w, want_cmp);
    for (size_t i = 0; i < u.n; i++)
        if (check_want(x, &u, &u.w[i]) < 0) goto out;
    for (int p = 0; p < u.npre; p++) {
        l.n = 0;
        l.prefix = &u.pre[p];
        l.ks = x->e->ks;
        if (meta_scan(x->e->ks, &u.pre[p], collect, &l) < 0) goto out;
        for (size_t i = 0; i < l.n; i++) {
            want key = {.cf = STORE_CF_META, .k = l.v[i].k};
            if (bsearch(&key, u.w, u.n, sizeof *u.w, want_cmp)) continue;
            char got[200];
            show(got, sizeof got, V_TEXT, l.v[i].v, l.v[i].vl);
            finding(x, "%s: meta key '%.*s': expected absent, found %s", rb_family_name((size_t)x->w->family),
                    (int)l.v[i].k.len, l.v[i].k.buf, got);
            if (x->fix && !u.nofix) meta_del(x->e->ks, &l.v[i].k);
        }
    }
    rc = 0;
out:
    free(u.w);
    free(l.v);
    return rc;
}

/* ---- the walk ---------------------------------------------------------------------- */

typedef struct item {
    char id[DOM_ID_BUF];    /* a unit pass: the unit */
    dkey k;                 /* an entry pass: the entry's key and value */
    char v[DOM_ID_BUF];
    size_t vl;
    int bad_value;          /* longer than any id */
} item;

/* A pass a fresh walk leaves out: over derived entries (meta), with no
 * units of its own. After a documents' pass has written a unit's entries
 * such a pass only finds them right. */
static int derived_only(const pass *ps) { return ps->cf == STORE_CF_META && !ps->derive; }

/* The pass's key range [lo, hi). */
static void pass_range(struct dom_engine *e, const family *f, const pass *ps, dkey *pre, dkey *lo, dkey *hi) {
    ps->prefix(pre, f->arg);
    lo->len = 0;
    if (ps->cf == STORE_CF_DATA) lo->buf[lo->len++] = (char)db_phys(e->ks, 0); /* db byte || user key */
    dkey_append(lo, pre->buf, pre->len);
    hi->len = enc_prefix_end(hi->buf, lo->buf, lo->len);
}

int rb_walk_fresh(struct dom_engine *e, rb_walk *w) {
    size_t last = w->only ? (size_t)w->family + 1 : NFAMILIES;
    for (size_t fi = (size_t)w->family; fi < last; fi++)
        for (int p = 0; p < RB_PASSES && families[fi].passes[p].prefix; p++) {
            const pass *ps = &families[fi].passes[p];
            if (!derived_only(ps)) continue;
            dkey pre, lo, hi;
            pass_range(e, &families[fi], ps, &pre, &lo, &hi);
            store_iter *it = store_iter_new(e->ks->tx, ps->cf, lo.buf, lo.len, hi.buf, hi.len);
            if (!it) return dom_fail(e, ST_NOMEM, "out of memory");
            int found = store_iter_valid(it);
            char *err = NULL;
            int bad = store_iter_error(it, &err) < 0;
            store_iter_free(it);
            if (bad) return st_storage(&e->ks->err, err);
            if (found) return 0;
        }
    w->fresh = 1;
    return 1;
}

static void next_pass(rb_walk *w) {
    w->seekl = 0;
    w->pass++;
    while (w->fresh && w->pass < RB_PASSES && families[w->family].passes[w->pass].prefix &&
           derived_only(&families[w->family].passes[w->pass]))
        w->pass++;
    if (w->pass < RB_PASSES && families[w->family].passes[w->pass].prefix) return;
    w->pass = 0;
    if (w->only || (size_t)++w->family >= NFAMILIES) w->done = 1;
}

int rb_walk_step(struct dom_engine *e, rb_walk *w, int fix, int budget, rb_finding_fn fn, void *arg) {
    assert(budget >= 1);
    if (w->done) return 0;
    const family *f = &families[w->family];
    const pass *ps = &f->passes[w->pass];
    ctx x = {.e = e, .f = f, .w = w, .fix = fix, .fn = fn, .arg = arg};
    dkey pre, lo, hi;
    pass_range(e, f, ps, &pre, &lo, &hi);
    item *items = calloc((size_t)budget, sizeof *items);
    if (!items) return dom_fail(e, ST_NOMEM, "out of memory");
    int n = 0, rc = -1;
    store_iter *it = store_iter_new(e->ks->tx, ps->cf, lo.buf, lo.len, hi.buf, hi.len);
    if (!it) {
        free(items);
        return dom_fail(e, ST_NOMEM, "out of memory");
    }
    if (w->seekl) store_iter_seek(it, w->seek, w->seekl);
    /* collect first: nothing may be written while an iterator of the txn is open */
    while (n < budget && store_iter_valid(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        if (ps->cf == STORE_CF_DATA) { /* db byte || user key */
            k++;
            kl--;
        }
        const char *rest = k + pre.len;
        size_t rl = kl - pre.len;
        if (!ps->entry) {
            const char *colon = memchr(rest, ':', rl);
            size_t ul = colon ? (size_t)(colon - rest) : rl;
            /* the next unit: past "P{unit}:" (its whole range), or past "P{unit}" */
            char seek[RB_SEEK_MAX];
            size_t sl = 0;
            if (ps->cf == STORE_CF_DATA) seek[sl++] = (char)db_phys(e->ks, 0);
            if (sl + pre.len + ul + 2 > sizeof seek) { /* longer than any builder's key */
                store_iter_next(it);
                continue;
            }
            memcpy(seek + sl, pre.buf, pre.len);
            memcpy(seek + sl + pre.len, rest, ul);
            sl += pre.len + ul;
            if (colon) {
                char end[RB_SEEK_MAX];
                seek[sl++] = ':';
                sl = enc_prefix_end(end, seek, sl);
                memcpy(seek, end, sl);
            } else {
                seek[sl++] = 0;
            }
            memcpy(w->seek, seek, sl);
            w->seekl = sl;
            if (f->unit_ok(rest, ul)) {
                memcpy(items[n].id, rest, ul);
                items[n++].id[ul] = 0;
            }
            store_iter_seek(it, seek, sl);
        } else {
            if (kl <= DOM_KEY_MAX) {
                memcpy(items[n].k.buf, k, kl);
                items[n].k.len = kl;
                items[n].bad_value = vl > DOM_ID_MAX;
                items[n].vl = vl > DOM_ID_MAX ? DOM_ID_MAX : vl;
                memcpy(items[n].v, v, items[n].vl);
                n++;
            }
            w->seekl = 0;
            if (ps->cf == STORE_CF_DATA) w->seek[w->seekl++] = (char)db_phys(e->ks, 0);
            if (w->seekl + kl + 1 <= sizeof w->seek) {
                memcpy(w->seek + w->seekl, k, kl);
                w->seekl += kl;
                w->seek[w->seekl++] = 0;
            }
            store_iter_next(it);
        }
    }
    int end = !store_iter_valid(it);
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) {
        store_iter_free(it);
        free(items);
        return st_storage(&e->ks->err, err);
    }
    store_iter_free(it);
    for (int i = 0; i < n; i++) {
        if (!ps->entry) {
            w->units++;
            if (do_unit(&x, items[i].id, w->pass == 0 || ps->derive, ps->derive) < 0) goto out;
            continue;
        }
        w->entries++;
        int valid = 0;
        item *t = &items[i];
        if (!t->bad_value && ps->entry(&x, f->arg, t->k.buf + pre.len, t->k.len - pre.len, t->v, t->vl, &valid) < 0)
            goto out;
        if (valid) continue;
        char got[200];
        show(got, sizeof got, V_TEXT, t->v, t->vl);
        finding(&x, "%s: meta key '%.*s': expected absent, found %s", rb_family_name((size_t)w->family),
                (int)t->k.len, t->k.buf, got);
        if (fix) meta_del(e->ks, &t->k);
    }
    if (end) next_pass(w);
    rc = 0;
out:
    free(items);
    return rc;
}
