/* Conversations (SPEC §4.5): two-person conversations with unread counts.
 *
 * A conversation is created by its first message, which fixes its two
 * participants (the sender first); every later message goes between those
 * two, in either direction. A message to oneself is -INVALID (a
 * conversation always has two different participants). Text is 1..65536
 * bytes of UTF-8 without NUL, put into documents by the JSON encoder.
 *
 * Keys (conv, uid and ids are validated ids: no ':', so every prefix below
 * holds exactly one conversation's or one user's entries):
 *   data CF  messages:{conv}:{id}          {"id", "conv", "from", "to", "text",
 *                                          "read", "created_at"}
 *   data CF  conversations:{conv}:details  {"conv", "participants": [a, b],
 *            "last_message": {"id", "from", "text", "created_at"} (null only
 *            after USER.DELETE removed every message), "created_at", "updated_at"}
 *   meta CF  "mconv:" uid ":" lastid ":" conv  -> ""   uid's conversation list:
 *            lastid is the 16-hex id of the conversation's last message, so
 *            a reverse walk of "mconv:{uid}:" is latest activity first
 *   meta CF  "mconvp:" uid ":" conv   -> lastid (16 hex)  the pointer to uid's
 *            current list entry (and uid's membership of conv)
 *   meta CF  "munread:" uid ":" conv ":" id -> ""  unread index: one entry per
 *            unread message addressed to uid
 *   meta CF  "mucount:" uid ":" conv  -> i64   entries of munread:{uid}:{conv}:
 *   meta CF  "mutotal:" uid           -> i64   entries of munread:{uid}:
 *   meta CF  "msent:" uid ":" conv ":" id -> recipient uid   messages uid sent
 *            (so USER.DELETE finds uid's own messages without a scan)
 * Invariants, all written in the batch of the command that changes them:
 * a message is unread iff its munread entry exists; the counters equal the
 * entries of their index (absent = 0); each participant has exactly one
 * list entry per conversation, keyed by the id its pointer holds. All meta
 * entries can be rebuilt from the documents.
 *
 * USER.DELETE (msg_purge_user, msg.h) removes uid's side and keeps the
 * other side's messages.
 *
 * MSG.DELETE and MSG.EDIT act on the sender's own message only (another's
 * is simply not there for them). DELETE keeps the invariants above (the
 * recipient's unread entry and counters go with an unread message, the
 * sent entry with the message) and repairs the details' last_message and
 * the list entries when the last message goes; EDIT sets the text and
 * "edited_at" and keeps last_message's text in step. The list order stays
 * by the last message's id (an edit is not new activity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "msg.h"

#define ID_BUF (DOM_ID_MAX + 1)

/* ---- keys ------------------------------------------------------------------------- */

void msg_key_message(dkey *k, const char *conv, const char *id) {
    DOM_ASSERT_ID(conv);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "messages:%s:%s", conv, id);
}

void msg_key_messages(dkey *k, const char *conv) {
    DOM_ASSERT_ID(conv);
    dkey_fmt(k, "messages:%s:", conv);
}

void msg_key_details(dkey *k, const char *conv) {
    DOM_ASSERT_ID(conv);
    dkey_fmt(k, "conversations:%s:details", conv);
}

void msg_key_list(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "mconv:%s:", uid);
}

void msg_key_list_entry(dkey *k, const char *uid, const char *lastid, size_t ll, const char *conv, size_t cl) {
    DOM_ASSERT_ID(uid);
    assert(ll <= DOM_ID_HEX && dom_valid_id(conv, cl));
    dkey_fmt(k, "mconv:%s:%.*s:%.*s", uid, (int)ll, lastid, (int)cl, conv);
}

void msg_key_pointer(dkey *k, const char *uid, const char *conv, size_t cl) {
    DOM_ASSERT_ID(uid);
    assert(dom_valid_id(conv, cl));
    dkey_fmt(k, "mconvp:%s:%.*s", uid, (int)cl, conv);
}

void msg_key_pointers(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "mconvp:%s:", uid);
}

void msg_key_unread(dkey *k, const char *uid, const char *conv, const char *id) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(conv);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "munread:%s:%s:%s", uid, conv, id);
}

void msg_key_unread_conv(dkey *k, const char *uid, const char *conv) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(conv);
    dkey_fmt(k, "munread:%s:%s:", uid, conv);
}

void msg_key_unread_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "munread:%s:", uid);
}

void msg_key_count(dkey *k, const char *uid, const char *conv) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(conv);
    dkey_fmt(k, "mucount:%s:%s", uid, conv);
}

void msg_key_counts(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "mucount:%s:", uid);
}

void msg_key_total(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "mutotal:%s", uid);
}

void msg_key_sent(dkey *k, const char *uid, const char *conv, const char *id) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(conv);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "msent:%s:%s:%s", uid, conv, id);
}

void msg_key_sent_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "msent:%s:", uid);
}

/* ---- meta helpers ------------------------------------------------------------------ */

/* One meta entry under a prefix: the key after the prefix, and the value. */
typedef struct mentry {
    char rest[2 * DOM_ID_MAX + 2];
    char val[ID_BUF];
} mentry;

typedef struct mlist {
    mentry *v;
    size_t n, cap;
    keyspace *ks;
} mlist;

static int collect_one(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    mlist *out = arg;
    if (rl >= sizeof out->v[0].rest || vl >= sizeof out->v[0].val) return 0; /* not this module's */
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        mentry *nv = realloc(out->v, cap * sizeof *nv);
        if (!nv) return st_fail(&out->ks->err, ST_NOMEM, "out of memory");
        out->v = nv;
        out->cap = cap;
    }
    mentry *m = &out->v[out->n++];
    memcpy(m->rest, rest, rl);
    m->rest[rl] = 0;
    memcpy(m->val, val, vl);
    m->val[vl] = 0;
    return 0;
}

/* Collects the entries under prefix in key order (no writes may happen
 * while an iterator of the txn is open, hence the copy). Entries that do
 * not fit cannot be this module's and are skipped. */
static int meta_collect(struct dom_engine *e, const dkey *prefix, mlist *out) {
    out->ks = e->ks;
    return meta_scan(e->ks, prefix, collect_one, out);
}

/* Moves uid's entry of conv in its conversation list to lastid (a server id). */
static int list_move(struct dom_engine *e, const char *uid, const char *conv, const char *lastid) {
    dkey p, k;
    size_t cl = strlen(conv);
    msg_key_pointer(&p, uid, conv, cl);
    store_val v;
    int r = meta_get(e->ks, &p, &v);
    if (r < 0) return -1;
    if (r == 1) {
        msg_key_list_entry(&k, uid, v.ptr, v.len < DOM_ID_HEX ? v.len : DOM_ID_HEX, conv, cl);
        store_val_free(&v);
        meta_del(e->ks, &k);
    }
    msg_key_list_entry(&k, uid, lastid, DOM_ID_HEX, conv, cl);
    meta_put(e->ks, &k, "", 0);
    meta_put(e->ks, &p, lastid, DOM_ID_HEX);
    return 0;
}

/* Adds delta to uid's unread counters of conv and in total. */
static int unread_add(struct dom_engine *e, const char *uid, const char *conv, int64_t delta) {
    dkey k;
    msg_key_count(&k, uid, conv);
    if (meta_add_i64(e->ks, &k, delta, NULL) < 0) return -1;
    msg_key_total(&k, uid);
    return meta_add_i64(e->ks, &k, delta, NULL);
}

/* ---- documents ------------------------------------------------------------------- */

/* The two participants of a stored details document, or ERR. */
static int participants(struct dom_engine *e, const json_t *det, const char *conv, const char **a, const char **b) {
    const json_t *p = json_object_get(det, "participants");
    *a = json_string_value(json_array_get(p, 0));
    *b = json_string_value(json_array_get(p, 1));
    if (json_array_size(p) == 2 && *a && *b) return 0;
    return dom_fail(e, ST_ERR, "stored conversation '%s' has no valid participants", conv);
}

/* The details' "last_message" object for a message document. */
static json_t *last_message(const json_t *m) {
    return json_pack("{s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(m, "id"), "from", json_object_get(m, "from"),
                     "text", json_object_get(m, "text"), "created_at", json_object_get(m, "created_at"));
}

/* ---- the commands' steps ------------------------------------------------------------ */

int msg_send(struct dom_engine *e, const char *conv, const char *from, const char *to, json_t *text,
             char id_out[DOM_ID_HEX + 1]) {
    if (strcmp(from, to) == 0) return dom_fail(e, ST_INVALID, "a message to oneself ('%s')", from);
    int rc = -1, failed;
    json_t *msg = NULL, *lm = NULL;
    dkey dk, k;
    msg_key_details(&dk, conv);
    json_t *det = dom_get_doc(e->ks, &dk, &failed);
    if (failed) goto out;
    if (det) {
        const char *a, *b;
        if (participants(e, det, conv, &a, &b) < 0) goto out;
        if (!((!strcmp(a, from) && !strcmp(b, to)) || (!strcmp(a, to) && !strcmp(b, from)))) {
            dom_fail(e, ST_INVALID, "conversation '%s' is between '%s' and '%s'", conv, a, b);
            goto out;
        }
    }
    int existed = det != NULL;
    uint64_t id = dom_new_id(e);
    char *ids = id_out, ts[32];
    dom_format_id(ids, id);
    dom_id_time(ts, id);
    msg = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:s}", "id", ids, "conv", conv, "from", from, "to", to, "text",
                    text, "read", 0, "created_at", ts);
    lm = msg ? last_message(msg) : NULL;
    if (!det) det = json_pack("{s:s, s:[ss], s:n, s:s}", "conv", conv, "participants", from, to, "last_message",
                              "created_at", ts);
    if (!msg || !lm || !det || json_object_set(det, "last_message", lm) < 0 ||
        json_object_set_new(det, "updated_at", json_string(ts)) < 0) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    msg_key_message(&k, conv, ids);
    if (dom_put_doc(e->ks, &k, msg, 0) < 0 || dom_put_doc(e->ks, &dk, det, existed) < 0) goto out;
    if (list_move(e, from, conv, ids) < 0 || list_move(e, to, conv, ids) < 0) goto out;
    msg_key_unread(&k, to, conv, ids);
    meta_put(e->ks, &k, "", 0);
    if (unread_add(e, to, conv, 1) < 0) goto out;
    msg_key_sent(&k, from, conv, ids);
    meta_put(e->ks, &k, to, strlen(to));
    char ch[DOM_KEY_MAX];
    snprintf(ch, sizeof ch, "messages:%s", conv);
    dom_publish(e, ch, "message.sent", msg);
    snprintf(ch, sizeof ch, "conversations:%s", to);
    dom_publish(e, ch, "message.sent", msg);
    rc = 0;
out:
    json_decref(msg);
    json_decref(lm);
    json_decref(det);
    return rc;
}

int msg_read_one(struct dom_engine *e, const char *conv, const char *uid, const char *id) {
    dkey k;
    int failed;
    msg_key_unread(&k, uid, conv, id);
    store_val v;
    int r = meta_get(e->ks, &k, &v);
    if (r <= 0) return r;
    meta_del(e->ks, &k);
    if (unread_add(e, uid, conv, -1) < 0) return -1;
    msg_key_message(&k, conv, id);
    json_t *m = dom_get_doc(e->ks, &k, &failed);
    if (failed) return -1;
    r = 1;
    if (json_is_object(m)) {
        json_object_set_new(m, "read", json_true());
        if (dom_put_doc(e->ks, &k, m, 1) < 0) r = -1;
    }
    json_decref(m);
    return r;
}

int msg_read(struct dom_engine *e, const char *conv, const char *uid, int64_t *changed) {
    mlist un = {0};
    int rc = -1;
    dkey k;
    msg_key_unread_conv(&k, uid, conv);
    if (meta_collect(e, &k, &un) < 0) goto out;
    for (size_t i = 0; i < un.n; i++) {
        int failed;
        const char *id = un.v[i].rest;
        if (!dom_valid_id(id, strlen(id))) continue; /* never written by this module */
        msg_key_message(&k, conv, id);
        json_t *m = dom_get_doc(e->ks, &k, &failed);
        if (failed) goto out;
        if (json_is_object(m)) {
            json_object_set_new(m, "read", json_true());
            int r = dom_put_doc(e->ks, &k, m, 1);
            json_decref(m);
            if (r < 0) goto out;
        } else {
            json_decref(m); /* gone around the engine: only the index entry is left */
        }
        msg_key_unread(&k, uid, conv, id);
        meta_del(e->ks, &k);
    }
    if (un.n && unread_add(e, uid, conv, -(int64_t)un.n) < 0) goto out;
    *changed = (int64_t)un.n;
    rc = 0;
out:
    free(un.v);
    return rc;
}

void msg_page_free(msg_page *p) {
    for (int64_t i = 0; p->docs && i < p->n; i++) free(p->docs[i]);
    free(p->docs);
    free(p->lens);
    p->docs = NULL;
    p->lens = NULL;
    p->n = 0;
}

/* The conversations of one page of uid's list, newest activity first:
 * each entry's key after "mconv:{uid}:" is lastid ":" conv. */
static int64_t list_page(struct dom_engine *e, const char *uid, const dom_page *pg, const dkey *at,
                         char (*convs)[ID_BUF], int *failed) {
    dkey lo, hi;
    msg_key_list(&lo, uid);
    hi.len = enc_prefix_end(hi.buf, lo.buf, lo.len);
    *failed = 0;
    store_iter *it = store_iter_new(e->ks->tx, STORE_CF_META, lo.buf, lo.len, hi.buf, hi.len);
    if (!it) {
        *failed = 1;
        return dom_fail(e, ST_NOMEM, "out of memory");
    }
    if (at) {
        store_iter_seek_for_prev(it, at->buf, at->len);
        size_t kl;
        const char *k;
        if (store_iter_valid(it) && (k = store_iter_key(it, &kl)) && kl == at->len && !memcmp(k, at->buf, kl))
            store_iter_prev(it); /* AFTER is exclusive */
    } else {
        store_iter_seek_last(it);
    }
    int64_t n = 0;
    for (; n < pg->limit && store_iter_valid(it); store_iter_prev(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl) + lo.len; /* lastid ":" conv */
        kl -= lo.len;
        const size_t cs = DOM_ID_HEX + 1; /* where conv starts */
        if (kl <= cs || k[DOM_ID_HEX] != ':' || !dom_valid_id(k + cs, kl - cs)) continue;
        memcpy(convs[n], k + cs, kl - cs);
        convs[n++][kl - cs] = 0;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) {
        *failed = 1;
        return st_storage(&e->ks->err, err);
    }
    return n;
}

int msg_conversations(struct dom_engine *e, const char *uid, const dom_page *pg, msg_page *out) {
    memset(out, 0, sizeof *out);
    dkey at;
    if (pg->after) {
        dkey p;
        store_val v;
        msg_key_pointer(&p, uid, pg->after, pg->after_len);
        int r = meta_get(e->ks, &p, &v);
        if (r < 0) return -1;
        if (r == 0) return 0; /* AFTER a conversation not in the list: an empty page */
        msg_key_list_entry(&at, uid, v.ptr, v.len < DOM_ID_HEX ? v.len : DOM_ID_HEX, pg->after, pg->after_len);
        store_val_free(&v);
    }
    /* the conversations first (the documents are read after the iterator
     * is closed, and the reply must not start before every read succeeded) */
    char (*convs)[ID_BUF] = malloc((size_t)pg->limit * sizeof *convs);
    if (!convs) return dom_fail(e, ST_NOMEM, "out of memory");
    int failed, rc = -1;
    int64_t n = list_page(e, uid, pg, pg->after ? &at : NULL, convs, &failed);
    if (failed) goto out;
    out->docs = calloc((size_t)n + 1, sizeof *out->docs);
    out->lens = calloc((size_t)n + 1, sizeof *out->lens);
    if (!out->docs || !out->lens) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int64_t i = 0; i < n; i++) {
        dkey k;
        msg_key_details(&k, convs[i]);
        json_t *det = dom_get_doc(e->ks, &k, &failed);
        if (failed) goto out;
        if (!json_is_object(det)) { /* cannot happen while MSG.* keep the list */
            json_decref(det);
            continue;
        }
        int64_t unread;
        msg_key_count(&k, uid, convs[i]);
        if (meta_get_i64(e->ks, &k, &unread) < 0) {
            json_decref(det);
            goto out;
        }
        json_object_set_new(det, "unread", json_integer(unread));
        out->docs[out->n] = json_encode(det, &out->lens[out->n]);
        json_decref(det);
        if (!out->docs[out->n]) {
            dom_fail(e, ST_NOMEM, "out of memory");
            goto out;
        }
        out->n++;
    }
    rc = 0;
out:
    if (rc < 0) msg_page_free(out);
    free(convs);
    return rc;
}

int msg_unread_total(struct dom_engine *e, const char *uid, int64_t *out) {
    dkey k;
    msg_key_total(&k, uid);
    return meta_get_i64(e->ks, &k, out);
}

/* ---- USER.DELETE --------------------------------------------------------------------- */

/* The newest message of conv in the command's view (its pending deletes
 * applied) as a document, or NULL (*failed = 1 after an error). */
static json_t *newest_message(struct dom_engine *e, const char *conv, int *failed) {
    dkey p;
    msg_key_messages(&p, conv);
    char lo[DOM_KEY_MAX + 2], hi[DOM_KEY_MAX + 2];
    size_t ll = enc_data_key(lo, db_phys(e->ks, 0), p.buf, p.len), hl = enc_prefix_end(hi, lo, ll);
    *failed = 0;
    store_iter *it = store_iter_new(e->ks->tx, STORE_CF_DATA, lo, ll, hi, hl);
    if (!it) {
        dom_fail(e, ST_NOMEM, "out of memory");
        *failed = 1;
        return NULL;
    }
    json_t *m = NULL;
    for (store_iter_seek_last(it); !m && store_iter_valid(it); store_iter_prev(it)) {
        size_t vl;
        const char *v = store_iter_value(it, &vl);
        enc_value ev;
        char err[128];
        if (enc_value_decode(v, vl, &ev) == 0) m = json_parse_any(ev.payload, ev.len, err, sizeof err);
        if (m && !json_is_object(m)) {
            json_decref(m);
            m = NULL;
        }
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) {
        st_storage(&e->ks->err, err);
        json_decref(m);
        m = NULL;
        *failed = 1;
    }
    store_iter_free(it);
    return m;
}

/* After uid's messages in conv are deleted: removes the conversation when
 * its other participant left before, or else repairs the details' last
 * message when it was uid's. */
static int purge_conversation(struct dom_engine *e, const char *uid, const char *conv, int64_t *removed) {
    int failed, rc = -1;
    dkey dk, k;
    msg_key_details(&dk, conv);
    json_t *det = dom_get_doc(e->ks, &dk, &failed), *m = NULL;
    if (failed) return -1;
    if (!det) return 0;
    const char *a, *b, *other;
    if (participants(e, det, conv, &a, &b) < 0) goto out;
    other = strcmp(a, uid) ? a : b;
    if (!dom_valid_id(other, strlen(other))) { /* written around the engine */
        dom_fail(e, ST_ERR, "stored conversation '%s' has no valid participants", conv);
        goto out;
    }
    msg_key_pointer(&k, other, conv, strlen(conv));
    store_val v;
    int r = meta_get(e->ks, &k, &v);
    if (r < 0) goto out;
    if (r == 0) { /* neither side holds it any more: it goes entirely */
        msg_key_messages(&k, conv);
        int64_t n = db_delete_prefix(e->ks, 0, k.buf, k.len);
        if (n < 0 || (r = dom_del(e->ks, &dk)) < 0) goto out;
        *removed += n + r;
        rc = 0;
        goto out;
    }
    store_val_free(&v);
    const char *last = json_string_value(json_object_get(json_object_get(det, "last_message"), "id"));
    if (last && dom_valid_id(last, strlen(last))) {
        msg_key_message(&k, conv, last);
        if ((r = db_exists(e->ks, 0, k.buf, k.len)) < 0) goto out;
        if (r == 1) { /* the last message is the other side's: nothing to repair */
            rc = 0;
            goto out;
        }
    }
    if (!(m = newest_message(e, conv, &failed)) && failed) goto out;
    json_t *lm = m ? last_message(m) : json_null();
    char ts[32];
    dom_iso_time(ts, now_ms());
    if (!lm || json_object_set_new(det, "last_message", lm) < 0 ||
        json_object_set_new(det, "updated_at", json_string(ts)) < 0) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (dom_put_doc(e->ks, &dk, det, 1) < 0) goto out;
    const char *mid = json_string_value(json_object_get(m, "id"));
    if (mid && dom_is_server_id(mid, strlen(mid)) && list_move(e, other, conv, mid) < 0) goto out;
    rc = 0;
out:
    json_decref(m);
    json_decref(det);
    return rc;
}

int msg_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    mlist sent = {0}, convs = {0};
    int64_t n = 0;
    int rc = -1;
    dkey k;
    msg_key_sent_user(&k, uid);
    if (meta_collect(e, &k, &sent) < 0) goto out;
    msg_key_pointers(&k, uid);
    if (meta_collect(e, &k, &convs) < 0) goto out;
    /* the messages to uid that uid has not read: read now (its unread state
     * goes with it, so no document claims an unread message that no index
     * counts, should the uid be used again) */
    for (size_t i = 0; i < convs.n; i++) {
        int64_t changed;
        if (dom_valid_id(convs.v[i].rest, strlen(convs.v[i].rest)) &&
            msg_read(e, convs.v[i].rest, uid, &changed) < 0)
            goto out;
    }
    /* uid's own messages, and the recipients' unread entries for them */
    for (size_t i = 0; i < sent.n; i++) {
        char *conv = sent.v[i].rest, *id = strchr(conv, ':'), *to = sent.v[i].val;
        if (!id) continue;
        *id++ = 0;
        if (!dom_valid_id(conv, strlen(conv)) || !dom_valid_id(id, strlen(id)) || !dom_valid_id(to, strlen(to)))
            continue; /* never written by this module */
        msg_key_message(&k, conv, id);
        int r = dom_del(e->ks, &k);
        if (r < 0) goto out;
        n += r;
        store_val v;
        msg_key_unread(&k, to, conv, id);
        if ((r = meta_get(e->ks, &k, &v)) < 0) goto out;
        if (r == 1) {
            store_val_free(&v);
            meta_del(e->ks, &k);
            if (unread_add(e, to, conv, -1) < 0) goto out;
        }
    }
    /* the messages uid has not read become read: the documents then agree
     * with the unread index, which goes, even if uid is created again and
     * the conversation goes on (DOMAIN.CHECK derives unread from "read") */
    {
        mlist un = {0};
        msg_key_unread_user(&k, uid);
        if (meta_collect(e, &k, &un) < 0) goto out;
        for (size_t i = 0; i < un.n; i++) {
            char *conv = un.v[i].rest, *id = strchr(conv, ':');
            if (!id) continue;
            *id++ = 0;
            if (dom_valid_id(conv, strlen(conv)) && dom_is_server_id(id, strlen(id)) &&
                msg_read_one(e, conv, uid, id) < 0) {
                free(un.v);
                goto out;
            }
        }
        free(un.v);
    }
    for (size_t i = 0; i < convs.n; i++)
        if (dom_valid_id(convs.v[i].rest, strlen(convs.v[i].rest)) &&
            purge_conversation(e, uid, convs.v[i].rest, &n) < 0)
            goto out;
    /* uid's own meta: list, pointers, sent index, unread index and counters */
    msg_key_list(&k, uid);
    meta_del_prefix(e->ks, &k);
    msg_key_pointers(&k, uid);
    meta_del_prefix(e->ks, &k);
    msg_key_sent_user(&k, uid);
    meta_del_prefix(e->ks, &k);
    msg_key_unread_user(&k, uid);
    meta_del_prefix(e->ks, &k);
    msg_key_counts(&k, uid);
    meta_del_prefix(e->ks, &k);
    msg_key_total(&k, uid);
    meta_del(e->ks, &k);
    *removed += n;
    rc = 0;
out:
    free(sent.v);
    free(convs.v);
    return rc;
}

/* ---- MSG.DELETE, MSG.EDIT, MSG.CONVERSATION ------------------------------------------- */

/* uid's own message id of conv (a new reference), or NULL: absent, not a
 * JSON object, or sent by another (*failed = 1 after an error). */
static json_t *own_message(struct dom_engine *e, const char *conv, const char *uid, const char *id, int *failed) {
    dkey k;
    msg_key_message(&k, conv, id);
    json_t *m = dom_get_doc(e->ks, &k, failed);
    const char *from = json_string_value(json_object_get(m, "from"));
    if (m && (!json_is_object(m) || !from || strcmp(from, uid) != 0)) {
        json_decref(m);
        m = NULL;
    }
    return m;
}

/* Moves uid's list entry of conv to lastid when uid holds one (a deleted
 * participant holds none and gets none). */
static int list_follow(struct dom_engine *e, const char *uid, const char *conv, const char *lastid) {
    dkey p;
    store_val v;
    if (!dom_valid_id(uid, strlen(uid))) return 0; /* written around the engine */
    msg_key_pointer(&p, uid, conv, strlen(conv));
    int r = meta_get(e->ks, &p, &v);
    if (r <= 0) return r;
    store_val_free(&v);
    return list_move(e, uid, conv, lastid);
}

int msg_delete(struct dom_engine *e, const char *conv, const char *uid, const char *id) {
    int failed, rc = -1;
    json_t *m = own_message(e, conv, uid, id, &failed), *det = NULL, *nm = NULL;
    if (failed) return -1;
    if (!m) return 0;
    dkey k, dk;
    msg_key_message(&k, conv, id);
    if (dom_del(e->ks, &k) < 0) goto out;
    msg_key_sent(&k, uid, conv, id);
    meta_del(e->ks, &k);
    const char *to = json_string_value(json_object_get(m, "to"));
    if (to && dom_valid_id(to, strlen(to))) {
        store_val v;
        msg_key_unread(&k, to, conv, id);
        int r = meta_get(e->ks, &k, &v);
        if (r < 0) goto out;
        if (r == 1) {
            store_val_free(&v);
            meta_del(e->ks, &k);
            if (unread_add(e, to, conv, -1) < 0) goto out;
        }
    }
    msg_key_details(&dk, conv);
    det = dom_get_doc(e->ks, &dk, &failed);
    if (failed) goto out;
    const char *last = json_string_value(json_object_get(json_object_get(det, "last_message"), "id"));
    if (json_is_object(det) && last && strcmp(last, id) == 0) {
        if (!(nm = newest_message(e, conv, &failed)) && failed) goto out;
        json_t *lm = nm ? last_message(nm) : json_null();
        char ts[32];
        dom_iso_time(ts, now_ms());
        if (!lm || json_object_set_new(det, "last_message", lm) < 0 ||
            json_object_set_new(det, "updated_at", json_string(ts)) < 0) {
            dom_fail(e, ST_NOMEM, "out of memory");
            goto out;
        }
        if (dom_put_doc(e->ks, &dk, det, 1) < 0) goto out;
        const char *mid = json_string_value(json_object_get(nm, "id")), *a, *b;
        if (mid && dom_is_server_id(mid, strlen(mid))) {
            if (participants(e, det, conv, &a, &b) < 0) goto out;
            if (list_follow(e, a, conv, mid) < 0 || list_follow(e, b, conv, mid) < 0) goto out;
        }
    }
    rc = 1;
out:
    json_decref(m);
    json_decref(nm);
    json_decref(det);
    return rc;
}

int msg_edit(struct dom_engine *e, const char *conv, const char *uid, const char *id, json_t *text, json_t **doc_out) {
    int failed, rc = -1;
    *doc_out = NULL;
    json_t *m = own_message(e, conv, uid, id, &failed), *det = NULL;
    if (failed) return -1;
    if (!m) return dom_fail(e, ST_NOTFOUND, "no message '%s' of '%s' in '%s'", id, uid, conv);
    char ts[32];
    dom_iso_time(ts, now_ms());
    dkey k, dk;
    if (json_object_set(m, "text", text) < 0 || json_object_set_new(m, "edited_at", json_string(ts)) < 0) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    msg_key_message(&k, conv, id);
    if (dom_put_doc(e->ks, &k, m, 1) < 0) goto out;
    msg_key_details(&dk, conv);
    det = dom_get_doc(e->ks, &dk, &failed);
    if (failed) goto out;
    json_t *lm = json_object_get(det, "last_message");
    const char *last = json_string_value(json_object_get(lm, "id"));
    if (json_is_object(det) && json_is_object(lm) && last && strcmp(last, id) == 0) {
        if (json_object_set(lm, "text", text) < 0) {
            dom_fail(e, ST_NOMEM, "out of memory");
            goto out;
        }
        if (dom_put_doc(e->ks, &dk, det, 1) < 0) goto out;
    }
    *doc_out = m;
    m = NULL;
    rc = 0;
out:
    json_decref(m);
    json_decref(det);
    return rc;
}

/* The newest limit messages of conv, newest first, appended to arr. */
static int recent_messages(struct dom_engine *e, const char *conv, int64_t limit, json_t *arr) {
    dkey p;
    msg_key_messages(&p, conv);
    char lo[DOM_KEY_MAX + 2], hi[DOM_KEY_MAX + 2];
    size_t ll = enc_data_key(lo, db_phys(e->ks, 0), p.buf, p.len), hl = enc_prefix_end(hi, lo, ll);
    store_iter *it = store_iter_new(e->ks->tx, STORE_CF_DATA, lo, ll, hi, hl);
    if (!it) return dom_fail(e, ST_NOMEM, "out of memory");
    int rc = 0;
    for (store_iter_seek_last(it); (int64_t)json_array_size(arr) < limit && store_iter_valid(it); store_iter_prev(it)) {
        size_t vl;
        const char *v = store_iter_value(it, &vl);
        enc_value ev;
        char err[128];
        json_t *m = enc_value_decode(v, vl, &ev) == 0 ? json_parse_any(ev.payload, ev.len, err, sizeof err) : NULL;
        if (json_is_object(m) && json_array_append(arr, m) < 0) rc = dom_fail(e, ST_NOMEM, "out of memory");
        json_decref(m);
        if (rc < 0) break;
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) rc = st_storage(&e->ks->err, err);
    store_iter_free(it);
    return rc;
}

int msg_conversation(struct dom_engine *e, const char *conv, const char *uid, int64_t limit, json_t **out) {
    int failed, rc = -1;
    *out = NULL;
    dkey k;
    msg_key_details(&k, conv);
    json_t *det = dom_get_doc(e->ks, &k, &failed), *res = NULL, *arr = NULL;
    if (failed) return -1;
    if (!json_is_object(det)) goto absent;
    const char *a, *b;
    if (participants(e, det, conv, &a, &b) < 0) goto out;
    if (strcmp(a, uid) != 0 && strcmp(b, uid) != 0) goto absent; /* not uid's conversation */
    int64_t unread;
    msg_key_count(&k, uid, conv);
    if (meta_get_i64(e->ks, &k, &unread) < 0) goto out;
    if (!(arr = json_array())) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (recent_messages(e, conv, limit, arr) < 0) goto out;
    res = json_pack("{s:O, s:O, s:I}", "conversation", det, "messages", arr, "unread", (json_int_t)unread);
    if (!res) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = res;
absent:
    rc = 0;
out:
    json_decref(det);
    json_decref(arr);
    return rc;
}
