/* Shared domain machinery: ids, documents, paging, meta counters, IDEMP. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "encoding.h"
#include "json.h"
#include "server.h"
#include "domain.h"

/* ---- errors ------------------------------------------------------------- */

static void reply_code(client *c, const char *code, const char *fmt, va_list ap) {
    char buf[600];
    size_t n = strlen(code);
    memcpy(buf, code, n);
    buf[n++] = ' ';
    vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    reply_error(c, buf);
}
#define CODE_FN(name, code)                      \
    void name(client *c, const char *fmt, ...) { \
        va_list ap;                              \
        va_start(ap, fmt);                       \
        reply_code(c, code, fmt, ap);            \
        va_end(ap);                              \
    }
CODE_FN(reply_invalid, "INVALID")
CODE_FN(reply_notfound, "NOTFOUND")
CODE_FN(reply_conflict, "CONFLICT")

/* ---- ids and times --------------------------------------------------------- */

int dom_valid_id(const char *p, size_t n) {
    if (n < 1 || n > DOM_ID_MAX || p[0] == '_') return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

int dom_check_id(client *c, const resp_slice *a) {
    if (dom_valid_id(a->ptr, a->len)) return 0;
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "id '%s'", shown);
    return -1;
}

int dom_id_arg(client *c, int i, char out[DOM_ID_BUF]) {
    const resp_slice *a = &c->argv[i];
    if (dom_check_id(c, a) < 0) return -1;
    memcpy(out, a->ptr, a->len);
    out[a->len] = 0;
    return 0;
}

static const char HWM_KEY[] = "hwm";

uint64_t dom_new_id(struct dom_engine *e) {
    uint64_t id = now_ms() << 16;
    if (id <= e->last_id) id = e->last_id + 1; /* same ms, or the clock stepped back */
    e->last_id = id;
    char v[8];
    enc_put_u64(v, id);
    store_put(e->ks->tx, STORE_CF_META, HWM_KEY, sizeof HWM_KEY - 1, v, 8);
    return id;
}

int dom_load(server *s, char **err) {
    store_val v;
    int r = store_get(s->ks.tx, STORE_CF_META, HWM_KEY, sizeof HWM_KEY - 1, &v, err);
    if (r < 0) return -1;
    if (r == 1) {
        if (v.len == 8) s->dom->last_id = enc_get_u64(v.ptr);
        store_val_free(&v);
    }
    return 0;
}

void dom_format_id(char out[17], uint64_t id) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[id & 15];
        id >>= 4;
    }
    out[16] = 0;
}

uint64_t dom_id_ms(uint64_t id) { return id >> 16; }

void dom_iso_time(char out[32], uint64_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* fields are range-checked by gmtime_r; the year fits 4 digits until 9999 */
    unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u, mo = (unsigned)tm.tm_mon % 12u + 1,
             d = (unsigned)tm.tm_mday % 32u, h = (unsigned)tm.tm_hour % 24u, mi = (unsigned)tm.tm_min % 60u,
             sec = (unsigned)tm.tm_sec % 61u, m = (unsigned)(ms % 1000);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d, h, mi, sec, m);
}

/* ---- arguments ------------------------------------------------------------------ */

int dom_valid_text(const char *p, size_t n, size_t min, size_t max) {
    if (n < min || n > max || (n && memchr(p, 0, n))) return 0;
    json_t *s = json_stringn(p, n); /* jansson checks the UTF-8 */
    json_decref(s);
    return s != NULL;
}

int dom_no_options(client *c, int fixed) {
    if (c->argc <= fixed) return 0;
    reply_syntax_error(c);
    return -1;
}

int dom_amount(client *c, const resp_slice *a, int64_t *out) {
    int64_t v;
    if (resp_parse_ll(a->ptr, a->len, &v) == 0 && v >= 1) {
        *out = v;
        return 0;
    }
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "amount '%s' (an integer from 1 to 9223372036854775807)", shown);
    return -1;
}

static const char *const owned_fields[] = {"id", "user_id", "created_at", "updated_at", NULL};

void dom_strip_owned(json_t *doc) {
    for (const char *const *f = owned_fields; *f; f++) json_object_del(doc, *f);
}

json_t *dom_parse_doc(client *c, const resp_slice *a) {
    char err[256];
    json_doc_limits lim = {(size_t)c->srv->cfg.max_document_size, 64};
    json_t *doc = json_parse_doc(a->ptr, a->len, &lim, err, sizeof err);
    if (!doc) {
        reply_invalid(c, "%s", err);
        return NULL;
    }
    dom_strip_owned(doc);
    return doc;
}

int dom_parse_page(client *c, int start, dom_page *pg, int allow_unread) {
    pg->after = NULL;
    pg->after_len = 0;
    pg->limit = DOM_LIMIT_DEFAULT;
    pg->unread = 0;
    opt_cursor o = {c, start};
    while (opt_more(&o)) {
        if (opt_is(&o, "after")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0 || dom_check_id(c, &v) < 0) return -1;
            pg->after = v.ptr;
            pg->after_len = v.len;
        } else if (opt_is(&o, "limit")) {
            resp_slice v;
            int64_t n;
            if (opt_value(&o, &v) < 0) return -1;
            if (resp_parse_ll(v.ptr, v.len, &n) < 0 || n < 1 || n > DOM_LIMIT_MAX) {
                char shown[80];
                resp_sanitize(shown, sizeof shown, v.ptr, v.len, 64);
                reply_invalid(c, "LIMIT '%s' (1 to %d)", shown, DOM_LIMIT_MAX);
                return -1;
            }
            pg->limit = n;
        } else if (allow_unread && opt_is(&o, "unread")) {
            pg->unread = 1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    return 0;
}

/* ---- keys and documents ------------------------------------------------------ */

void dkey_fmt(dkey *k, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->buf, sizeof k->buf, fmt, ap);
    va_end(ap);
    k->len = n < 0 ? 0 : (size_t)n < sizeof k->buf ? (size_t)n : sizeof k->buf - 1;
}

int dom_get_raw(keyspace *ks, const dkey *k, db_value *v) {
    int r = db_lookup(ks, 0, k->buf, k->len, v);
    if (r == 1 && v->v.type != ENC_TYPE_STRING) {
        db_value_free(v);
        return st_fail(&ks->err, ST_WRONGTYPE, "Operation against a key holding the wrong kind of value");
    }
    return r;
}

json_t *dom_get_doc(keyspace *ks, const dkey *k, int *failed) {
    db_value v;
    *failed = 0;
    int r = dom_get_raw(ks, k, &v);
    if (r <= 0) {
        *failed = r < 0;
        return NULL;
    }
    char err[256];
    json_t *doc = json_parse_any(v.v.payload, v.v.len, err, sizeof err);
    db_value_free(&v);
    if (!doc) {
        /* Written around the engine (domain-write-guard no): say so. */
        st_fail(&ks->err, ST_ERR, "stored document at '%.*s' is not JSON: %s", (int)k->len, k->buf, err);
        *failed = 1;
    }
    return doc;
}

int dom_put_raw(keyspace *ks, const dkey *k, const char *p, size_t n, int existed) {
    return db_put(ks, 0, k->buf, k->len, ENC_TYPE_STRING, 0, p, n, existed);
}

int dom_put_doc(keyspace *ks, const dkey *k, const json_t *doc, int existed) {
    size_t n;
    char *text = json_encode(doc, &n);
    if (!text) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    int r = dom_put_raw(ks, k, text, n, existed);
    free(text);
    return r;
}

int dom_del(keyspace *ks, const dkey *k) { return db_delete(ks, 0, k->buf, k->len); }

void dom_stamp_new(json_t *doc, uint64_t id, const char *uid) {
    char ids[17], ts[32];
    dom_format_id(ids, id);
    dom_iso_time(ts, dom_id_ms(id) > now_ms() ? dom_id_ms(id) : now_ms());
    json_object_set_new(doc, "id", json_string(ids));
    if (uid) json_object_set_new(doc, "user_id", json_string(uid));
    json_object_set_new(doc, "created_at", json_string(ts));
    json_object_set_new(doc, "updated_at", json_string(ts));
}

void dom_stamp_update(json_t *doc) {
    char ts[32];
    dom_iso_time(ts, now_ms());
    json_object_set_new(doc, "updated_at", json_string(ts));
}

/* ---- meta ------------------------------------------------------------------------ */

int meta_get(keyspace *ks, const dkey *k, store_val *v) {
    char *err = NULL;
    int r = store_get(ks->tx, STORE_CF_META, k->buf, k->len, v, &err);
    if (r < 0) return st_storage(&ks->err, err);
    return r;
}

void meta_put(keyspace *ks, const dkey *k, const char *v, size_t vl) {
    store_put(ks->tx, STORE_CF_META, k->buf, k->len, v, vl);
}

void meta_del(keyspace *ks, const dkey *k) { store_del(ks->tx, STORE_CF_META, k->buf, k->len); }

int meta_get_i64(keyspace *ks, const dkey *k, int64_t *out) {
    store_val v;
    int r = meta_get(ks, k, &v);
    if (r < 0) return -1;
    *out = 0;
    if (r == 1) {
        if (v.len == 8) *out = (int64_t)enc_get_u64(v.ptr);
        store_val_free(&v);
    }
    return 0;
}

void meta_put_i64(keyspace *ks, const dkey *k, int64_t v) {
    char b[8];
    enc_put_u64(b, (uint64_t)v);
    meta_put(ks, k, b, 8);
}

int meta_add_i64(keyspace *ks, const dkey *k, int64_t delta, int64_t *result) {
    int64_t v;
    if (meta_get_i64(ks, k, &v) < 0) return -1;
    v += delta;
    if (v == 0) meta_del(ks, k);
    else meta_put_i64(ks, k, v);
    if (result) *result = v;
    return 0;
}

/* ---- IDEMP ----------------------------------------------------------------------------
 * meta "idemp:" owner ":" key           -> u64 created_ms | u64 fp[2] | reply bytes
 * meta "idempt:" u64be(created_ms) owner ":" key -> "" (reclaim order)
 * The owner is a validated id (no ':'), so the first ':' after it ends it. */

#define IDEMP_TTL_MS (24ull * 3600 * 1000)

static void fingerprint(client *c, uint64_t fp[2]) {
    uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < c->argc; i++) {
        const unsigned char *p = (const unsigned char *)c->argv[i].ptr;
        size_t n = c->argv[i].len;
        for (size_t j = 0; j < n; j++) {
            unsigned ch = i == 0 && p[j] >= 'A' && p[j] <= 'Z' ? p[j] + 32u : p[j];
            a = (a ^ ch) * 1099511628211ull;
            b = (b ^ ch) * 0xff51afd7ed558ccdull;
            b ^= b >> 29;
        }
        /* argument boundaries count too: ("ab","c") != ("a","bc") */
        a = (a ^ (n + 0x100)) * 1099511628211ull;
        b = (b ^ (n + 0x100)) * 0xc4ceb9fe1a85ec53ull;
        b ^= b >> 31;
    }
    fp[0] = a;
    fp[1] = b;
}

static void idemp_key(dkey *k, const resp_slice *owner, const char *key, size_t kl) {
    size_t n = (size_t)snprintf(k->buf, sizeof k->buf, "idemp:%.*s:", (int)owner->len, owner->ptr);
    if (kl > sizeof k->buf - n) kl = sizeof k->buf - n;
    memcpy(k->buf + n, key, kl);
    k->len = n + kl;
}

int idemp_before(client *c, const cmd_def *cmd) {
    c->idemp_active = 0;
    int start = cmd->arity < 0 ? -cmd->arity : cmd->arity;
    int found = -1;
    for (int i = start; i + 1 < c->argc; i += 2)
        if (arg_eq(&c->argv[i], "idemp")) found = i;
    if (found < 0) return 0;
    resp_slice key = c->argv[found + 1];
    if (key.len == 0 || key.len > 200) {
        reply_invalid(c, "IDEMP key must be 1 to 200 bytes");
        return -1;
    }
    /* remove the pair: handlers never see IDEMP */
    memmove(&c->argv[found], &c->argv[found + 2], (size_t)(c->argc - found - 2) * sizeof c->argv[0]);
    c->argc -= 2;
    const resp_slice *owner = &c->argv[cmd->first_key];
    if (!dom_valid_id(owner->ptr, owner->len)) return 0; /* the handler refuses it */
    uint64_t fp[2];
    fingerprint(c, fp);
    dkey k;
    idemp_key(&k, owner, key.ptr, key.len);
    store_val v;
    int r = meta_get(KS(c), &k, &v);
    if (r < 0) return -1;
    if (r == 1) {
        int same = v.len >= 24 && enc_get_u64(v.ptr + 8) == fp[0] && enc_get_u64(v.ptr + 16) == fp[1];
        if (same) resp_buf_append(&c->out, v.ptr + 24, v.len - 24);
        store_val_free(&v);
        if (same) return 1;
        char shown[80];
        resp_sanitize(shown, sizeof shown, key.ptr, key.len, 64);
        reply_conflict(c, "IDEMP key '%s' was used for a different request", shown);
        return -1;
    }
    free(c->idemp_key);
    c->idemp_key = malloc(key.len);
    if (!c->idemp_key) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    memcpy(c->idemp_key, key.ptr, key.len);
    c->idemp_keylen = key.len;
    c->idemp_fp[0] = fp[0];
    c->idemp_fp[1] = fp[1];
    c->idemp_active = 1;
    return 0;
}

void idemp_after(client *c, size_t mark) {
    if (!c->idemp_active) return;
    c->idemp_active = 0;
    const resp_slice *owner = &c->argv[c->cmd->first_key];
    uint64_t now = now_ms();
    dkey k;
    idemp_key(&k, owner, c->idemp_key, c->idemp_keylen);
    size_t rl = c->out.len - mark;
    char *v = malloc(24 + rl);
    if (!v) return; /* the command still succeeds; only its replay is lost */
    enc_put_u64(v, now);
    enc_put_u64(v + 8, c->idemp_fp[0]);
    enc_put_u64(v + 16, c->idemp_fp[1]);
    memcpy(v + 24, c->out.data + mark, rl);
    meta_put(KS(c), &k, v, 24 + rl);
    free(v);
    /* reclaim index: "idempt:" ms owner ":" key */
    dkey t;
    memcpy(t.buf, "idempt:", 7);
    enc_put_u64(t.buf + 7, now);
    size_t n = 15, rest = k.len - 6; /* k without "idemp:" */
    if (rest > sizeof t.buf - n) rest = sizeof t.buf - n;
    memcpy(t.buf + n, k.buf + 6, rest);
    t.len = n + rest;
    meta_put(KS(c), &t, "", 0);
}

int idemp_reclaim(server *s, uint64_t now, int max) {
    assert(ks_idle(&s->ks)); /* background work: its own batch, between commands */
    if (now < IDEMP_TTL_MS) return 0;
    char lo[7] = {'i', 'd', 'e', 'm', 'p', 't', ':'}, hi[15];
    memcpy(hi, lo, 7);
    enc_put_u64(hi + 7, now - IDEMP_TTL_MS);
    store_iter *it = store_iter_new(s->ks.tx, STORE_CF_META, lo, 7, hi, 15);
    if (!it) return -1;
    int n = 0;
    char rk[DOM_KEY_MAX + 8];
    /* collect first: no writes while an iterator of the txn is open */
    char (*keys)[DOM_KEY_MAX + 8] = malloc((size_t)max * sizeof *keys);
    size_t *lens = malloc((size_t)max * sizeof *lens);
    if (!keys || !lens) {
        free(keys);
        free(lens);
        store_iter_free(it);
        return -1;
    }
    for (; n < max && store_iter_valid(it); store_iter_next(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl);
        if (kl > sizeof keys[0]) continue;
        memcpy(keys[n], k, kl);
        lens[n++] = kl;
    }
    store_iter_free(it);
    for (int i = 0; i < n; i++) {
        store_del(s->ks.tx, STORE_CF_META, keys[i], lens[i]);
        memcpy(rk, "idemp:", 6);
        memcpy(rk + 6, keys[i] + 15, lens[i] - 15);
        store_del(s->ks.tx, STORE_CF_META, rk, 6 + lens[i] - 15);
    }
    free(keys);
    free(lens);
    if (n && ks_commit(&s->ks) < 0) {
        server_log(LL_WARNING, "IDEMP reclaim failed: %s", s->ks.err.msg);
        return -1;
    }
    return n;
}

/* ---- the engine as a family: state, write guard, IDEMP hooks -------------- */

/* The prefixes of database 0 the domain engine owns (SPEC §5). */
static const char *const owned_prefixes[] = {
    "users:", "settings:", "coins:", "donations:", "payments:", "tracks:",
    "videos:", "concerts:", "news:", "banners:", "promotion:", "pitching:",
    "messages:", "conversations:", "notifications:", "email:", "tickets:",
    "analytics:", NULL,
};

static int engine_init(server *s, char **err) {
    if (!s->dom && !(s->dom = calloc(1, sizeof *s->dom))) {
        *err = strdup("out of memory");
        return -1;
    }
    s->dom->ks = &s->ks;
    if (dom_load(s, err) < 0) return -1;
    for (const char *const *p = owned_prefixes; *p; p++) ks_guard_register(&s->ks, *p);
    s->hooks.idemp_before = idemp_before;
    s->hooks.idemp_after = idemp_after;
    return 0;
}

static void engine_cron(server *s, uint64_t now) { idemp_reclaim(s, now, 1000); }

static void engine_free(server *s) {
    free(s->dom);
    s->dom = NULL;
}

static const cmd_def no_rows[] = {CMD_TABLE_END};

const cmd_family domain_engine_family = {
    .name = "domain engine", .rows = no_rows, .init = engine_init, .cron = engine_cron, .free = engine_free};
