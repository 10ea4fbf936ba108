/* IDEMP (SPEC §4.3): records, replay, reclaim, and the USER.DELETE step.
 *
 * Keys (meta CF):
 *   "idemp:" owner ":" key                   -> u64 created_ms | 16 bytes fp | reply
 *   "idempt:" u64be(created_ms) owner ":" key -> "" (reclaim order)
 * The owner is a validated id (no ':'), so the first ':' after it ends it.
 * The fingerprint is SHA-256 (nettle) of the length-prefixed arguments.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "domain_args.h"
#include "encoding.h"
#include "idemp.h"

/* ---- IDEMP ---------------------------------------------------------------------------- */

#define IDEMP_TTL_MS (24ull * 3600 * 1000)
#define IDEMP_KEY_MAX 200
#define IDEMP_FP_LEN 16 /* bytes of the SHA-256 digest kept in a record */
#define IDEMP_FP_AT 8   /* a record: u64 created_ms | fp[0] | fp[1] | the reply */
#define IDEMP_HEAD (IDEMP_FP_AT + IDEMP_FP_LEN)

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

void idemp_key_prefixes(dkey *records, dkey *reclaim) {
    records->len = reclaim->len = 0;
    dkey_append(records, IDEMP_PREFIX, IDEMP_PREFIX_LEN);
    dkey_append(reclaim, IDEMP_RECLAIM_PREFIX, IDEMP_RECLAIM_PREFIX_LEN);
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
        int same = v.len >= IDEMP_HEAD && enc_get_u64(v.ptr + IDEMP_FP_AT) == fp[0] &&
                   enc_get_u64(v.ptr + IDEMP_FP_AT + 8) == fp[1];
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
    enc_put_u64(v + IDEMP_FP_AT, c->idemp_fp[0]);
    enc_put_u64(v + IDEMP_FP_AT + 8, c->idemp_fp[1]);
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

int idemp_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
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

