/* MSG.* (SPEC §4.5): two-person conversations with unread counts.
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
 */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "msg.h"
#include "server.h"
#include "cmd_msg.h"

#define ID_BUF (DOM_ID_MAX + 1)
#define TEXT_MAX 65536

/* ---- arguments ------------------------------------------------------------------ */

/* The text of a message as a JSON string (new reference), or -INVALID. */
static json_t *text_arg(client *c, const resp_slice *a) {
    if (!dom_valid_text(a->ptr, a->len, 1, TEXT_MAX)) {
        reply_invalid(c, "text must be 1 to %d bytes of UTF-8 without NUL", TEXT_MAX);
        return NULL;
    }
    return json_stringn(a->ptr, a->len);
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
} mlist;

/* Collects the entries under prefix in key order (no writes may happen
 * while an iterator of the txn is open, hence the copy). Entries that do
 * not fit cannot be this module's and are skipped. 0, or -1 replied. */
static int meta_collect(client *c, const dkey *prefix, mlist *out) {
    dkey hi;
    hi.len = enc_prefix_end(hi.buf, prefix->buf, prefix->len);
    store_iter *it = store_iter_new(c->srv->ks.tx, STORE_CF_META, prefix->buf, prefix->len, hi.buf, hi.len);
    if (!it) goto oom;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
        kl -= prefix->len;
        if (kl >= sizeof out->v[0].rest || vl >= sizeof out->v[0].val) continue;
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            mentry *nv = realloc(out->v, cap * sizeof *nv);
            if (!nv) goto oom;
            out->v = nv;
            out->cap = cap;
        }
        mentry *e = &out->v[out->n++];
        memcpy(e->rest, k + prefix->len, kl);
        e->rest[kl] = 0;
        memcpy(e->val, v, vl);
        e->val[vl] = 0;
    }
    char *err = NULL;
    if (store_iter_error(it, &err) < 0) {
        store_iter_free(it);
        reply_storage_error(c, err);
        return -1;
    }
    store_iter_free(it);
    return 0;
oom:
    store_iter_free(it);
    reply_error(c, "ERR out of memory");
    return -1;
}

/* Moves uid's entry of conv in its conversation list to lastid (16 hex). */
static int list_move(client *c, const char *uid, const char *conv, const char *lastid) {
    dkey p, e;
    dkey_fmt(&p, "mconvp:%s:%s", uid, conv);
    store_val v;
    int r = meta_get(KS(c), &p, &v);
    if (r < 0) return -1;
    if (r == 1) {
        dkey_fmt(&e, "mconv:%s:%.*s:%s", uid, (int)(v.len < 16 ? v.len : 16), v.ptr, conv);
        store_val_free(&v);
        meta_del(KS(c), &e);
    }
    dkey_fmt(&e, "mconv:%s:%s:%s", uid, lastid, conv);
    meta_put(KS(c), &e, "", 0);
    meta_put(KS(c), &p, lastid, 16);
    return 0;
}

/* Adds delta to uid's unread counters of conv and in total. */
static int unread_add(client *c, const char *uid, const char *conv, int64_t delta) {
    dkey k;
    dkey_fmt(&k, "mucount:%s:%s", uid, conv);
    if (meta_add_i64(KS(c), &k, delta, NULL) < 0) return -1;
    dkey_fmt(&k, "mutotal:%s", uid);
    return meta_add_i64(KS(c), &k, delta, NULL);
}

/* ---- documents ------------------------------------------------------------------- */

static void details_key(dkey *k, const char *conv) { dkey_fmt(k, "conversations:%s:details", conv); }

/* The two participants of a stored details document, or -ERR. */
static int participants(client *c, const json_t *det, const char *conv, const char **a, const char **b) {
    const json_t *p = json_object_get(det, "participants");
    *a = json_string_value(json_array_get(p, 0));
    *b = json_string_value(json_array_get(p, 1));
    if (json_array_size(p) == 2 && *a && *b) return 0;
    reply_errorf(c, "ERR stored conversation '%s' has no valid participants", conv);
    return -1;
}

/* The details' "last_message" object for a message document. */
static json_t *last_message(const json_t *m) {
    return json_pack("{s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(m, "id"), "from", json_object_get(m, "from"),
                     "text", json_object_get(m, "text"), "created_at", json_object_get(m, "created_at"));
}

/* ---- commands --------------------------------------------------------------------- */

/* MSG.SEND conv from to text [IDEMP key]
 * The new message's id. The first message of conv fixes its participants;
 * one batch writes the message, the details, both users' list entries and
 * the recipient's unread entry and counters. */
static int msg_send(client *c) {
    char conv[ID_BUF], from[ID_BUF], to[ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, from) < 0 || dom_id_arg(c, 3, to) < 0) return -1;
    if (dom_no_options(c, 5) < 0) return -1;
    if (strcmp(from, to) == 0) {
        reply_invalid(c, "a message to oneself ('%s')", from);
        return -1;
    }
    json_t *text = text_arg(c, &c->argv[4]);
    if (!text) return -1;
    int rc = -1, failed;
    json_t *msg = NULL, *lm = NULL;
    dkey dk, k;
    details_key(&dk, conv);
    json_t *det = dom_get_doc(KS(c), &dk, &failed);
    if (failed) goto out;
    if (det) {
        const char *a, *b;
        if (participants(c, det, conv, &a, &b) < 0) goto out;
        if (!((!strcmp(a, from) && !strcmp(b, to)) || (!strcmp(a, to) && !strcmp(b, from)))) {
            reply_invalid(c, "conversation '%s' is between '%s' and '%s'", conv, a, b);
            goto out;
        }
    }
    int existed = det != NULL;
    uint64_t id = dom_new_id(c->srv->dom), ms = dom_id_ms(id) > now_ms() ? dom_id_ms(id) : now_ms();
    char ids[17], ts[32];
    dom_format_id(ids, id);
    dom_iso_time(ts, ms);
    msg = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:s}", "id", ids, "conv", conv, "from", from, "to", to, "text",
                    text, "read", 0, "created_at", ts);
    lm = msg ? last_message(msg) : NULL;
    if (!det) det = json_pack("{s:s, s:[ss], s:n, s:s}", "conv", conv, "participants", from, to, "last_message",
                              "created_at", ts);
    if (!msg || !lm || !det || json_object_set(det, "last_message", lm) < 0 ||
        json_object_set_new(det, "updated_at", json_string(ts)) < 0) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    dkey_fmt(&k, "messages:%s:%s", conv, ids);
    if (dom_put_doc(KS(c), &k, msg, 0) < 0 || dom_put_doc(KS(c), &dk, det, existed) < 0) goto out;
    if (list_move(c, from, conv, ids) < 0 || list_move(c, to, conv, ids) < 0) goto out;
    dkey_fmt(&k, "munread:%s:%s:%s", to, conv, ids);
    meta_put(KS(c), &k, "", 0);
    if (unread_add(c, to, conv, 1) < 0) goto out;
    dkey_fmt(&k, "msent:%s:%s:%s", from, conv, ids);
    meta_put(KS(c), &k, to, strlen(to));
    reply_bulk(c, ids, 16);
    rc = 0;
out:
    json_decref(text);
    json_decref(msg);
    json_decref(lm);
    json_decref(det);
    return rc;
}

/* MSG.HISTORY conv [AFTER id] [LIMIT n]
 * The messages of conv, newest first ([] for an unknown conv). */
static int msg_history(client *c) {
    char conv[ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey prefix;
    dkey_fmt(&prefix, "messages:%s:", conv);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* MSG.READ conv uid
 * :N messages of conv addressed to uid marked read (found through uid's
 * unread index; :0 when none, or uid is not a participant). */
static int msg_read(client *c) {
    char conv[ID_BUF], uid[ID_BUF];
    if (dom_id_arg(c, 1, conv) < 0 || dom_id_arg(c, 2, uid) < 0) return -1;
    mlist un = {0};
    int rc = -1;
    dkey k;
    dkey_fmt(&k, "munread:%s:%s:", uid, conv);
    if (meta_collect(c, &k, &un) < 0) goto out;
    for (size_t i = 0; i < un.n; i++) {
        int failed;
        const char *id = un.v[i].rest;
        dkey_fmt(&k, "messages:%s:%s", conv, id);
        json_t *m = dom_get_doc(KS(c), &k, &failed);
        if (failed) goto out;
        if (json_is_object(m)) {
            json_object_set_new(m, "read", json_true());
            int r = dom_put_doc(KS(c), &k, m, 1);
            json_decref(m);
            if (r < 0) goto out;
        } else {
            json_decref(m); /* gone around the engine: only the index entry is left */
        }
        dkey_fmt(&k, "munread:%s:%s:%s", uid, conv, id);
        meta_del(KS(c), &k);
    }
    if (un.n && unread_add(c, uid, conv, -(int64_t)un.n) < 0) goto out;
    reply_int(c, (int64_t)un.n);
    rc = 0;
out:
    free(un.v);
    return rc;
}

/* MSG.CONVERSATIONS uid [AFTER conv] [LIMIT n]
 * The details of uid's conversations, latest activity first, each with
 * "unread": uid's unread count in it. AFTER continues after conv in this
 * order ([] when conv is not in uid's list). */
static int msg_conversations(client *c) {
    char uid[ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey lo, hi, at;
    dkey_fmt(&lo, "mconv:%s:", uid);
    hi.len = enc_prefix_end(hi.buf, lo.buf, lo.len);
    if (pg.after) {
        dkey p;
        store_val v;
        dkey_fmt(&p, "mconvp:%s:%.*s", uid, (int)pg.after_len, pg.after);
        int r = meta_get(KS(c), &p, &v);
        if (r < 0) return -1;
        if (r == 0) {
            reply_array(c, 0);
            return 0;
        }
        dkey_fmt(&at, "mconv:%s:%.*s:%.*s", uid, (int)(v.len < 16 ? v.len : 16), v.ptr, (int)pg.after_len, pg.after);
        store_val_free(&v);
    }
    /* the conversations first (no document read under an open iterator is
     * needed, but the reply must not start before every read succeeded) */
    char (*convs)[ID_BUF] = malloc((size_t)pg.limit * sizeof *convs);
    store_iter *it = convs ? store_iter_new(c->srv->ks.tx, STORE_CF_META, lo.buf, lo.len, hi.buf, hi.len) : NULL;
    if (!it) {
        free(convs);
        reply_error(c, "ERR out of memory");
        return -1;
    }
    if (pg.after) {
        store_iter_seek_for_prev(it, at.buf, at.len);
        size_t kl;
        const char *k;
        if (store_iter_valid(it) && (k = store_iter_key(it, &kl)) && kl == at.len && !memcmp(k, at.buf, kl))
            store_iter_prev(it); /* AFTER is exclusive */
    } else {
        store_iter_seek_last(it);
    }
    int64_t n = 0;
    for (; n < pg.limit && store_iter_valid(it); store_iter_prev(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl) + lo.len; /* lastid ":" conv */
        kl -= lo.len;
        if (kl < 18 || k[16] != ':' || !dom_valid_id(k + 17, kl - 17)) continue;
        memcpy(convs[n], k + 17, kl - 17);
        convs[n++][kl - 17] = 0;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) {
        free(convs);
        reply_storage_error(c, err);
        return -1;
    }
    char **docs = calloc((size_t)n + 1, sizeof *docs);
    size_t *lens = calloc((size_t)n + 1, sizeof *lens);
    int64_t m = 0;
    int rc = -1;
    if (!docs || !lens) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    for (int64_t i = 0; i < n; i++) {
        int failed;
        dkey k;
        details_key(&k, convs[i]);
        json_t *det = dom_get_doc(KS(c), &k, &failed);
        if (failed) goto out;
        if (!json_is_object(det)) { /* cannot happen while MSG.* keep the list */
            json_decref(det);
            continue;
        }
        int64_t unread;
        dkey_fmt(&k, "mucount:%s:%s", uid, convs[i]);
        if (meta_get_i64(KS(c), &k, &unread) < 0) {
            json_decref(det);
            goto out;
        }
        json_object_set_new(det, "unread", json_integer(unread));
        docs[m] = json_encode(det, &lens[m]);
        json_decref(det);
        if (!docs[m]) {
            reply_error(c, "ERR out of memory");
            goto out;
        }
        m++;
    }
    reply_array(c, m);
    for (int64_t i = 0; i < m; i++) reply_bulk(c, docs[i], lens[i]);
    rc = 0;
out:
    for (int64_t i = 0; docs && i < m; i++) free(docs[i]);
    free(docs);
    free(lens);
    free(convs);
    return rc;
}

int msg_unread_total(client *c, const char *uid, int64_t *out) {
    dkey k;
    dkey_fmt(&k, "mutotal:%s", uid);
    return meta_get_i64(KS(c), &k, out);
}

/* MSG.UNREAD uid
 * :N unread messages addressed to uid, over all its conversations (O(1)). */
static int msg_unread(client *c) {
    char uid[ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t n;
    if (msg_unread_total(c, uid, &n) < 0) return -1;
    reply_int(c, n);
    return 0;
}

/* ---- USER.DELETE --------------------------------------------------------------------- */

/* The newest message of conv in the command's view (its pending deletes
 * applied) as a document, or NULL (*failed = 1 after an error reply). */
static json_t *newest_message(client *c, const char *conv, int *failed) {
    dkey p;
    dkey_fmt(&p, "messages:%s:", conv);
    char lo[DOM_KEY_MAX + 2], hi[DOM_KEY_MAX + 2];
    size_t ll = enc_data_key(lo, db_phys(&c->srv->ks, 0), p.buf, p.len), hl = enc_prefix_end(hi, lo, ll);
    *failed = 0;
    store_iter *it = store_iter_new(c->srv->ks.tx, STORE_CF_DATA, lo, ll, hi, hl);
    if (!it) {
        reply_error(c, "ERR out of memory");
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
        reply_storage_error(c, err);
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
static int purge_conversation(client *c, const char *uid, const char *conv, int64_t *removed) {
    int failed, rc = -1;
    dkey dk, k;
    details_key(&dk, conv);
    json_t *det = dom_get_doc(KS(c), &dk, &failed), *m = NULL;
    if (failed) return -1;
    if (!det) return 0;
    const char *a, *b, *other;
    if (participants(c, det, conv, &a, &b) < 0) goto out;
    other = strcmp(a, uid) ? a : b;
    dkey_fmt(&k, "mconvp:%s:%s", other, conv);
    store_val v;
    int r = meta_get(KS(c), &k, &v);
    if (r < 0) goto out;
    if (r == 0) { /* neither side holds it any more: it goes entirely */
        dkey_fmt(&k, "messages:%s:", conv);
        int64_t n = db_delete_prefix(KS(c), 0, k.buf, k.len);
        if (n < 0 || (r = dom_del(KS(c), &dk)) < 0) goto out;
        *removed += n + r;
        rc = 0;
        goto out;
    }
    store_val_free(&v);
    const char *last = json_string_value(json_object_get(json_object_get(det, "last_message"), "id"));
    if (last && dom_valid_id(last, strlen(last))) {
        dkey_fmt(&k, "messages:%s:%s", conv, last);
        if ((r = db_exists(KS(c), 0, k.buf, k.len)) < 0) goto out;
        if (r == 1) { /* the last message is the other side's: nothing to repair */
            rc = 0;
            goto out;
        }
    }
    if (!(m = newest_message(c, conv, &failed)) && failed) goto out;
    json_t *lm = m ? last_message(m) : json_null();
    char ts[32];
    dom_iso_time(ts, now_ms());
    if (!lm || json_object_set_new(det, "last_message", lm) < 0 ||
        json_object_set_new(det, "updated_at", json_string(ts)) < 0) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    if (dom_put_doc(KS(c), &dk, det, 1) < 0) goto out;
    const char *mid = json_string_value(json_object_get(m, "id"));
    if (mid && strlen(mid) == 16 && list_move(c, other, conv, mid) < 0) goto out;
    rc = 0;
out:
    json_decref(m);
    json_decref(det);
    return rc;
}

int msg_purge_user(client *c, const char *uid, int64_t *removed) {
    mlist sent = {0}, convs = {0};
    int64_t n = 0;
    int rc = -1;
    dkey k;
    dkey_fmt(&k, "msent:%s:", uid);
    if (meta_collect(c, &k, &sent) < 0) goto out;
    dkey_fmt(&k, "mconvp:%s:", uid);
    if (meta_collect(c, &k, &convs) < 0) goto out;
    /* uid's own messages, and the recipients' unread entries for them */
    for (size_t i = 0; i < sent.n; i++) {
        char *conv = sent.v[i].rest, *id = strchr(conv, ':'), *to = sent.v[i].val;
        if (!id) continue;
        *id++ = 0;
        dkey_fmt(&k, "messages:%s:%s", conv, id);
        int r = dom_del(KS(c), &k);
        if (r < 0) goto out;
        n += r;
        store_val v;
        dkey_fmt(&k, "munread:%s:%s:%s", to, conv, id);
        if ((r = meta_get(KS(c), &k, &v)) < 0) goto out;
        if (r == 1) {
            store_val_free(&v);
            meta_del(KS(c), &k);
            if (unread_add(c, to, conv, -1) < 0) goto out;
        }
    }
    for (size_t i = 0; i < convs.n; i++)
        if (purge_conversation(c, uid, convs.v[i].rest, &n) < 0) goto out;
    /* uid's own meta: list, pointers, sent index, unread index and counters */
    static const char *const prefixes[] = {"mconv:%s:", "mconvp:%s:", "msent:%s:", "munread:%s:", "mucount:%s:"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        dkey_fmt(&k, prefixes[i], uid);
        meta_del_prefix(KS(c), &k);
    }
    dkey_fmt(&k, "mutotal:%s", uid);
    meta_del(KS(c), &k);
    *removed += n;
    rc = 0;
out:
    free(sent.v);
    free(convs.v);
    return rc;
}

static const cmd_def rows[] = {
    {.name = "msg.send", .proc = msg_send, .arity = -5, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv from to text [IDEMP key]",
     .summary = "Sends a message (the first one fixes the conversation's two participants; to oneself: -INVALID) and " "updates the details, both users' conversation lists and the recipient's unread counts in one step; " "returns its id."},
    {.name = "msg.history", .proc = msg_history, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv [AFTER id] [LIMIT n]",
     .summary = "Lists a conversation's messages, newest first."},
    {.name = "msg.read", .proc = msg_read, .arity = 3, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "conv uid",
     .summary = "Marks the messages of a conversation addressed to uid read; returns how many changed."},
    {.name = "msg.conversations", .proc = msg_conversations, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "uid [AFTER conv] [LIMIT n]",
     .summary = "Lists a user's conversation details, latest activity first, each with the user's unread count."},
    {.name = "msg.unread", .proc = msg_unread, .arity = 2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "messages", .args = "uid",
     .summary = "Returns the number of unread messages addressed to a user (O(1))."},
    CMD_TABLE_END,
};

const cmd_family msg_family = {.name = "msg", .rows = rows};
