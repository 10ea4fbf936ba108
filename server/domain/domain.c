/* Shared domain machinery: ids, documents, paging, meta counters, IDEMP,
 * and the registry of USER.DELETE's purges.
 *
 * Keys the engine itself owns (meta CF):
 *   "hwm"                                   -> u64 id high-water mark
 *   "idemp:" owner ":" key                  -> u64 created_ms | 16 bytes fp | reply
 *   "idempt:" u64be(created_ms) owner ":" key -> "" (reclaim order)
 * The owner is a validated id (no ':'), so the first ':' after it ends it.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "domain.h"
#include "encoding.h"
#include "json.h"
#include "server.h"

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

int dom_is_server_id(const char *p, size_t n) {
    if (n != DOM_ID_HEX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
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

int dom_load(struct dom_engine *e, char **err) {
    store_val v;
    int r = store_get(e->ks->tx, STORE_CF_META, HWM_KEY, sizeof HWM_KEY - 1, &v, err);
    if (r < 0) return -1;
    if (r == 1) {
        if (v.len == 8) e->last_id = enc_get_u64(v.ptr);
        store_val_free(&v);
    }
    return 0;
}

void dom_format_id(char out[DOM_ID_HEX + 1], uint64_t id) {
    static const char hex[] = "0123456789abcdef";
    for (int i = DOM_ID_HEX - 1; i >= 0; i--) {
        out[i] = hex[id & 15];
        id >>= 4;
    }
    out[DOM_ID_HEX] = 0;
}

void dom_id_time(char out[32], uint64_t id) {
    uint64_t now = now_ms();
    dom_iso_time(out, dom_id_ms(id) > now ? dom_id_ms(id) : now);
}

long long dom_max_document_size(const struct dom_engine *e) {
    return e->max_document_size ? *e->max_document_size : 1ll << 20;
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

int dom_valid_name(const char *p, size_t n, int key_safe) {
    if (!dom_valid_text(p, n, 1, DOM_NAME_MAX)) return 0; /* UTF-8, no NUL */
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f || (key_safe && u[i] == ':')) return 0;
        if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) return 0; /* C1: U+0080..U+009F */
    }
    return 1;
}

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
    assert(n >= 0 && (size_t)n < sizeof k->buf); /* builders take validated ids only */
    k->len = (size_t)n;
}

void dkey_append(dkey *k, const char *p, size_t n) {
    assert(n <= sizeof k->buf - k->len);
    memcpy(k->buf + k->len, p, n);
    k->len += n;
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
    char ids[DOM_ID_HEX + 1], ts[32];
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

void meta_del_prefix(keyspace *ks, const dkey *prefix) {
    dkey hi;
    hi.len = enc_prefix_end(hi.buf, prefix->buf, prefix->len);
    store_del_range(ks->tx, STORE_CF_META, prefix->buf, prefix->len, hi.buf, hi.len);
}

int meta_scan(keyspace *ks, const dkey *prefix, meta_visit_fn fn, void *arg) {
    dkey hi;
    hi.len = enc_prefix_end(hi.buf, prefix->buf, prefix->len);
    store_iter *it = store_iter_new(ks->tx, STORE_CF_META, prefix->buf, prefix->len, hi.buf, hi.len);
    if (!it) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    int r = 0;
    for (; r == 0 && store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        r = fn(k + prefix->len, kl - prefix->len, v, vl, arg); /* kl >= prefix: the bounds hold it */
    }
    char *err = NULL;
    int bad = r >= 0 ? store_iter_error(it, &err) : 0;
    store_iter_free(it);
    if (r < 0) return -1;
    if (bad < 0) return st_storage(&ks->err, err);
    return 0;
}

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

/* ---- IDEMP ---------------------------------------------------------------------------- */

#define IDEMP_TTL_MS (24ull * 3600 * 1000)
#define IDEMP_KEY_MAX 200
#define IDEMP_FP_LEN 16 /* bytes of the SHA-256 digest kept in a record */
#define IDEMP_HEAD (8 + IDEMP_FP_LEN) /* created_ms | fp, then the reply */

static const char IDEMP_PREFIX[] = "idemp:";
static const char IDEMP_RECLAIM_PREFIX[] = "idempt:";
#define IDEMP_PREFIX_LEN (sizeof IDEMP_PREFIX - 1)
#define IDEMP_RECLAIM_PREFIX_LEN (sizeof IDEMP_RECLAIM_PREFIX - 1)
#define IDEMP_RECLAIM_HEAD (IDEMP_RECLAIM_PREFIX_LEN + 8) /* prefix | u64be created_ms */

void idemp_fingerprint(const resp_slice *argv, int argc, uint64_t fp[2]) {
    struct sha256_ctx h;
    sha256_init(&h);
    for (int i = 0; i < argc; i++) {
        const unsigned char *p = (const unsigned char *)argv[i].ptr;
        size_t n = argv[i].len;
        uint8_t len[8];
        enc_put_u64((char *)len, (uint64_t)n); /* boundaries count: ("ab","c") != ("a","bc") */
        sha256_update(&h, sizeof len, len);
        if (i > 0) {
            sha256_update(&h, n, p);
            continue;
        }
        for (size_t j = 0; j < n; j++) { /* the command name in any case is the same command */
            uint8_t ch = p[j] >= 'A' && p[j] <= 'Z' ? (uint8_t)(p[j] + 32) : p[j];
            sha256_update(&h, 1, &ch);
        }
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&h, sizeof d, d);
    fp[0] = enc_get_u64((const char *)d);
    fp[1] = enc_get_u64((const char *)d + 8);
}

void idemp_key_record(dkey *k, const char *owner, size_t ol, const char *key, size_t kl) {
    assert(dom_valid_id(owner, ol) && kl >= 1 && kl <= IDEMP_KEY_MAX);
    k->len = 0;
    dkey_append(k, IDEMP_PREFIX, IDEMP_PREFIX_LEN);
    dkey_append(k, owner, ol);
    dkey_append(k, ":", 1);
    dkey_append(k, key, kl);
}

void idemp_key_reclaim(dkey *k, uint64_t created_ms, const dkey *record) {
    assert(record->len > IDEMP_PREFIX_LEN && memcmp(record->buf, IDEMP_PREFIX, IDEMP_PREFIX_LEN) == 0);
    char ms[8];
    enc_put_u64(ms, created_ms);
    k->len = 0;
    dkey_append(k, IDEMP_RECLAIM_PREFIX, IDEMP_RECLAIM_PREFIX_LEN);
    dkey_append(k, ms, sizeof ms);
    dkey_append(k, record->buf + IDEMP_PREFIX_LEN, record->len - IDEMP_PREFIX_LEN);
}

int idemp_before(client *c, const cmd_def *cmd) {
    c->idemp_active = 0;
    int start = cmd->arity < 0 ? -cmd->arity : cmd->arity;
    int found = -1;
    for (int i = start; i + 1 < c->argc; i += 2)
        if (arg_eq(&c->argv[i], "idemp")) found = i;
    if (found < 0) return 0;
    resp_slice key = c->argv[found + 1];
    if (key.len == 0 || key.len > IDEMP_KEY_MAX) {
        reply_invalid(c, "IDEMP key must be 1 to 200 bytes");
        return -1;
    }
    /* remove the pair: handlers never see IDEMP */
    memmove(&c->argv[found], &c->argv[found + 2], (size_t)(c->argc - found - 2) * sizeof c->argv[0]);
    c->argc -= 2;
    const resp_slice *owner = &c->argv[cmd->first_key];
    if (!dom_valid_id(owner->ptr, owner->len)) return 0; /* the handler refuses it */
    uint64_t fp[2];
    idemp_fingerprint(c->argv, c->argc, fp);
    dkey k;
    idemp_key_record(&k, owner->ptr, owner->len, key.ptr, key.len);
    store_val v;
    int r = meta_get(KS(c), &k, &v);
    if (r < 0) return -1;
    if (r == 1) {
        int same = v.len >= IDEMP_HEAD && enc_get_u64(v.ptr + 8) == fp[0] && enc_get_u64(v.ptr + 16) == fp[1];
        if (same) resp_buf_append(&c->out, v.ptr + IDEMP_HEAD, v.len - IDEMP_HEAD);
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
    dkey k, t;
    idemp_key_record(&k, owner->ptr, owner->len, c->idemp_key, c->idemp_keylen);
    size_t rl = c->out.len - mark;
    char *v = malloc(IDEMP_HEAD + rl);
    if (!v) return; /* the command still succeeds; only its replay is lost */
    enc_put_u64(v, now);
    enc_put_u64(v + 8, c->idemp_fp[0]);
    enc_put_u64(v + 16, c->idemp_fp[1]);
    memcpy(v + IDEMP_HEAD, c->out.data + mark, rl);
    meta_put(KS(c), &k, v, IDEMP_HEAD + rl);
    free(v);
    idemp_key_reclaim(&t, now, &k);
    meta_put(KS(c), &t, "", 0);
}

int idemp_reclaim(server *s, uint64_t now, int max) {
    assert(ks_idle(&s->ks)); /* background work: its own batch, between commands */
    if (now < IDEMP_TTL_MS) return 0;
    char hi[IDEMP_RECLAIM_HEAD];
    memcpy(hi, IDEMP_RECLAIM_PREFIX, IDEMP_RECLAIM_PREFIX_LEN);
    enc_put_u64(hi + IDEMP_RECLAIM_PREFIX_LEN, now - IDEMP_TTL_MS);
    store_iter *it = store_iter_new(s->ks.tx, STORE_CF_META, IDEMP_RECLAIM_PREFIX, IDEMP_RECLAIM_PREFIX_LEN, hi,
                                    sizeof hi);
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
        if (kl > sizeof keys[0] || kl < IDEMP_RECLAIM_HEAD) continue;
        memcpy(keys[n], k, kl);
        lens[n++] = kl;
    }
    store_iter_free(it);
    for (int i = 0; i < n; i++) {
        store_del(s->ks.tx, STORE_CF_META, keys[i], lens[i]);
        /* the record: its reclaim key without the head, under "idemp:" */
        size_t rest = lens[i] - IDEMP_RECLAIM_HEAD;
        memcpy(rk, IDEMP_PREFIX, IDEMP_PREFIX_LEN);
        memcpy(rk + IDEMP_PREFIX_LEN, keys[i] + IDEMP_RECLAIM_HEAD, rest);
        store_del(s->ks.tx, STORE_CF_META, rk, IDEMP_PREFIX_LEN + rest);
    }
    free(keys);
    free(lens);
    if (n && ks_commit(&s->ks) < 0) {
        server_log(LL_WARNING, "IDEMP reclaim failed: %s", s->ks.err.msg);
        return -1;
    }
    return n;
}

/* USER.DELETE's step for the IDEMP records scoped to uid ("idemp:{uid}:",
 * one range deletion) and the reclaim entry of each. That entry is named by
 * the record itself (its value starts with the same created_ms), so it goes
 * too: left behind, it would reclaim early a record that a re-created uid
 * writes under the same key. Internal entries only: nothing counts in :N.
 * Records scoped to a conversation (MSG.SEND) or a ticket (TICKET.REPLY)
 * are not the user's and stay until the background reclaim (24 h). */
typedef struct idemp_purge {
    resp_buf keys; /* the reclaim keys, each as u16 length + bytes */
    const dkey *prefix; /* "idemp:{uid}:" */
    keyspace *ks;
} idemp_purge;

static int idemp_collect(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    idemp_purge *p = arg;
    if (vl < 8 || IDEMP_RECLAIM_HEAD + p->prefix->len - IDEMP_PREFIX_LEN + rl > DOM_KEY_MAX)
        return 0; /* not a record idemp_after writes */
    dkey rec = *p->prefix, t;
    dkey_append(&rec, rest, rl);
    idemp_key_reclaim(&t, enc_get_u64(val), &rec);
    unsigned char len2[2] = {(unsigned char)(t.len >> 8), (unsigned char)t.len};
    if (resp_buf_append(&p->keys, len2, 2) < 0 || resp_buf_append(&p->keys, t.buf, t.len) < 0)
        return st_fail(&p->ks->err, ST_NOMEM, "out of memory");
    return 0;
}

static int idemp_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    (void)removed;
    DOM_ASSERT_ID(uid);
    dkey lo;
    lo.len = 0;
    dkey_append(&lo, IDEMP_PREFIX, IDEMP_PREFIX_LEN);
    dkey_append(&lo, uid, strlen(uid));
    dkey_append(&lo, ":", 1);
    idemp_purge p = {.prefix = &lo, .ks = e->ks};
    resp_buf_init(&p.keys);
    int rc = -1;
    if (meta_scan(e->ks, &lo, idemp_collect, &p) < 0) goto out;
    meta_del_prefix(e->ks, &lo);
    for (size_t at = 0; at < p.keys.len;) {
        dkey t;
        t.len = (size_t)(unsigned char)p.keys.data[at] << 8 | (unsigned char)p.keys.data[at + 1];
        memcpy(t.buf, p.keys.data + at + 2, t.len);
        meta_del(e->ks, &t);
        at += 2 + t.len;
    }
    rc = 0;
out:
    resp_buf_free(&p.keys);
    return rc;
}

/* ---- the USER.DELETE registry ------------------------------------------------ */

/* The order USER.DELETE runs the purges in: the balance moves to _system
 * before anything else (so a refusal there fails early), the payment
 * methods (entity) before the rest of payments:{uid}: (their counter and
 * hooks run), the user documents late, the IDEMP records last. */
static const char *const purge_order[] = {
    "ledger", "donation", "entity", "payment", "notify", "msg",
    "email",  "settings", "ticket", "user",    "idemp",  NULL,
};

void dom_register_purge(struct dom_engine *e, const char *family, dom_purge_fn fn) {
    size_t i = 0;
    while (purge_order[i] && strcmp(purge_order[i], family) != 0) i++;
    assert(e && purge_order[i] && i < DOM_PURGE_MAX && !e->purge[i]); /* a known family, once */
    e->purge[i] = fn;
}

int dom_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    for (size_t i = 0; purge_order[i]; i++)
        if (e->purge[i] && e->purge[i](e, uid, removed) < 0) return -1;
    return 0;
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
    s->dom->need_sync = &s->need_sync;
    s->dom->max_document_size = &s->cfg.max_document_size;
    if (dom_load(s->dom, err) < 0) return -1;
    dom_register_purge(s->dom, "idemp", idemp_purge_user);
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
