/* The domain engine: ids, documents, meta entries, keys, the registry of
 * USER.DELETE's purges, and the engine as a family (state, write guard,
 * IDEMP hooks).
 *
 * Keys the engine itself owns (meta CF):
 *   "hwm" -> u64 id high-water mark (written in the batch of each new id)
 * (the IDEMP records: idemp.c)
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl_keys.h"
#include "encoding.h"
#include "cmd_dump.h"
#include "idemp.h"
#include "json.h"
#include "server.h"
#include "domain.h"

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

int dom_server_id_value(const char *p, size_t n, uint64_t *v) {
    if (!dom_is_server_id(p, n)) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x = x << 4 | (uint64_t)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
    *v = x;
    return 1;
}

static const char HWM_KEY[] = "hwm";
#define ID_SEQ_BITS 16 /* an id is (ms << ID_SEQ_BITS) | sequence */

uint64_t dom_new_id(struct dom_engine *e) {
    uint64_t id = now_ms() << ID_SEQ_BITS;
    if (id <= e->last_id) id = e->last_id + 1; /* same ms, or the clock stepped back */
    e->last_id = id;
    char v[8];
    enc_put_u64(v, id);
    store_put(e->ks->tx, STORE_CF_META, HWM_KEY, sizeof HWM_KEY - 1, v, 8);
    return id;
}

void dom_key_hwm(dkey *k) {
    k->len = 0;
    dkey_append(k, HWM_KEY, sizeof HWM_KEY - 1);
}

int dom_see_id(struct dom_engine *e, const char *id) {
    uint64_t v;
    if (!dom_server_id_value(id, strlen(id), &v)) return 0;
    if (dom_id_ms(v) > now_ms() + 24 * 3600 * 1000ULL) /* would push every later id past it */
        return dom_fail(e, ST_INVALID, "id '%s' is a server id more than a day in the future", id);
    if (v <= e->last_id) return 0;
    e->last_id = v;
    char b[8];
    enc_put_u64(b, v);
    store_put(e->ks->tx, STORE_CF_META, HWM_KEY, sizeof HWM_KEY - 1, b, 8);
    return 0;
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

uint64_t dom_id_ms(uint64_t id) { return id >> ID_SEQ_BITS; }

void dom_iso_time(char out[32], uint64_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* fields are range-checked by gmtime_r; the year fits 4 digits until 9999.
     * Digits written directly: every document a domain command writes gets
     * a stamp, and snprintf's format parsing was most of its cost. */
    const unsigned f[7] = {(unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_mon % 12u + 1,
                           (unsigned)tm.tm_mday % 32u,            (unsigned)tm.tm_hour % 24u,
                           (unsigned)tm.tm_min % 60u,             (unsigned)tm.tm_sec % 61u,
                           (unsigned)(ms % 1000)};
    static const unsigned char width[7] = {4, 2, 2, 2, 2, 2, 3};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    char *p = out;
    for (int i = 0; i < 7; i++) {
        for (unsigned w = width[i], v = f[i]; w > 0; w--, v /= 10) p[w - 1] = (char)('0' + v % 10);
        p += width[i];
        *p++ = after[i];
    }
    *p = '\0'; /* 24 bytes and the NUL */
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

static const char *const owned_fields[] = {"id", "user_id", "created_at", "updated_at", NULL};

void dom_strip_owned(json_t *doc) {
    for (const char *const *f = owned_fields; *f; f++) json_object_del(doc, *f);
}

/* ---- keys and documents ------------------------------------------------------ */

/* The key builders' formats use %s and %.*s only (checked as printf's by
 * the compiler, asserted here): copied directly, since every domain command
 * builds several keys and vsnprintf's format machinery was most of their
 * cost. Truncates as vsnprintf would; builders take validated ids only, so
 * it never has to. */
void dkey_fmt(dkey *k, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = 0, room = sizeof k->buf - 1;
    for (const char *f = fmt; *f; f++) {
        const char *s = f;
        size_t sl = 1;
        if (*f == '%' && f[1] == 's') {
            s = va_arg(ap, const char *);
            sl = strlen(s);
            f += 1;
        } else if (*f == '%') {
            assert(f[1] == '.' && f[2] == '*' && f[3] == 's');
            int w = va_arg(ap, int);
            s = va_arg(ap, const char *);
            sl = strnlen(s, w < 0 ? 0 : (size_t)w);
            f += 3;
        }
        assert(sl <= room - n);
        if (sl > room - n) sl = room - n;
        memcpy(k->buf + n, s, sl);
        n += sl;
    }
    va_end(ap);
    k->buf[n] = '\0';
    k->len = n;
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
    const char *text = json_encode_tmp(doc, &n); /* the put copies it into the batch */
    if (!text) return st_fail(&ks->err, ST_NOMEM, "out of memory");
    return dom_put_raw(ks, k, text, n, existed);
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

static void engine_publish(void *ctx, const char *ch, size_t chl, const char *msg, size_t ml) {
    pubsub_publish_after_commit(ctx, ch, chl, msg, ml);
}

static int engine_listening(void *ctx) { return pubsub_listened(ctx); }

void dom_publish(struct dom_engine *e, const char *channel, const char *event, json_t *data) {
    if (!e->publish || (e->listening && !e->listening(e->publish_ctx))) return;
    json_t *env = json_pack("{s:s, s:O}", "event", event, "data", data);
    size_t n = 0;
    const char *text = env ? json_encode_tmp(env, &n) : NULL; /* the publish copies it */
    if (text) e->publish(e->publish_ctx, channel, strlen(channel), text, n);
    else server_log(LL_WARNING, "event '%s' on '%s' dropped: out of memory", event, channel);
    json_decref(env);
}

static int engine_init(server *s, char **err) {
    if (!s->dom && !(s->dom = calloc(1, sizeof *s->dom))) {
        *err = strdup("out of memory");
        return -1;
    }
    s->dom->ks = &s->ks;
    s->dom->need_sync = &s->need_sync;
    s->dom->max_document_size = &s->cfg.max_document_size;
    s->dom->publish = engine_publish;
    s->dom->listening = engine_listening;
    s->dom->publish_ctx = s;
    if (dom_load(s->dom, err) < 0) return -1;
    dom_register_purge(s->dom, "idemp", idemp_purge_user);
    for (const char *const *p = owned_prefixes; *p; p++) ks_guard_register(&s->ks, *p);
    s->hooks.idemp_before = idemp_before;
    s->hooks.idemp_after = idemp_after;
    s->hooks.acl_keys = dom_acl_keys;
    return 0;
}

static void engine_cron(server *s, uint64_t now) {
    net_quiesce(s); /* its own batch, with nothing on the writer thread */
    idemp_reclaim(s, now, 1000);
}

static void engine_free(server *s) {
    if (s->dom) {
        free(s->dom->rebuild); /* its loop handle is closed by now (server_free) */
        dump_cursors_free(s->dom); /* snapshots go before the store closes */
    }
    free(s->dom);
    s->dom = NULL;
}

static const cmd_def no_rows[] = {CMD_TABLE_END};

const cmd_family domain_engine_family = {
    .name = "domain engine", .rows = no_rows, .init = engine_init, .cron = engine_cron, .free = engine_free};
