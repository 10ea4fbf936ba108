/* TICKET.* (SPEC §4.5): support tickets. Key layout: ticket.h.
 *
 * Invariants, kept in the command's batch:
 * - "tk:{uid}:{ticket}" exists exactly for the tickets whose details name
 *   uid as user_id (OPEN writes both; USER.DELETE removes both).
 * - "tkr:{ticket}" = the number of replies under tickets:{ticket}:messages:
 *   (at most TICKET_REPLIES_MAX, so TICKET.GET stays bounded).
 * - A closed ticket never gains a reply: REPLY reads the status in the same
 *   command that writes the reply. Closing is final (no command reopens).
 * - REPLY moves the ticket's updated_at; CLOSE sets status, closed_at and
 *   updated_at.
 * Texts (subject, reply text) are checked as UTF-8 without NUL and bounded;
 * they reach documents through the JSON encoder only.
 */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "ticket.h"
#include "server.h"
#include "cmd_ticket.h"

#define TICKET_SUBJECT_MAX 256
#define TICKET_TEXT_MAX 16384
#define TICKET_REPLIES_MAX 1000

#define ID_BUF (DOM_ID_MAX + 1)

/* ---- arguments and keys --------------------------------------------------- */

static void details_key(dkey *k, const char *t) { dkey_fmt(k, "tickets:%s:details", t); }
static void index_prefix(dkey *k, const char *uid) { dkey_fmt(k, "tk:%s:", uid); }
static void replies_key(dkey *k, const char *t) { dkey_fmt(k, "tkr:%s", t); }

/* Loads the details of ticket t: 1 found (*out, an object), 0 absent, -1
 * replied. */
static int load_details(client *c, const char *t, dkey *k, json_t **out) {
    int failed;
    details_key(k, t);
    json_t *d = dom_get_doc(KS(c), k, &failed);
    if (failed) return -1;
    if (!d) return 0;
    if (!json_is_object(d)) {
        json_decref(d);
        reply_errorf(c, "ERR stored document at '%.*s' is not a JSON object", (int)k->len, k->buf);
        return -1;
    }
    *out = d;
    return 1;
}

/* Like load_details, but an absent ticket is -NOTFOUND. */
static int need_details(client *c, const char *t, dkey *k, json_t **out) {
    int r = load_details(c, t, k, out);
    if (r == 0) reply_notfound(c, "ticket '%s'", t);
    return r == 1 ? 0 : -1;
}

/* The time stamp of a new id: its creation time (ids may run ahead of the
 * clock by a few ms after a burst; never show a time before the id's). */
static void stamp_time(char ts[32], uint64_t id) {
    uint64_t now = now_ms();
    dom_iso_time(ts, dom_id_ms(id) > now ? dom_id_ms(id) : now);
}

static int is_closed(const json_t *d) {
    const json_t *s = json_object_get(d, "status");
    return json_is_string(s) && strcmp(json_string_value(s), "closed") == 0;
}

/* ---- handlers -------------------------------------------------------------------- */

/* TICKET.OPEN uid json [IDEMP key]
 * Opens a ticket for uid from the client's fields ("subject", when given, a
 * string of 1..256 bytes); the server owns id, user_id, status, created_at,
 * updated_at, closed_at and messages. Replies the ticket id. */
static int ticket_open(client *c) {
    char uid[ID_BUF], t[17];
    if (dom_id_arg(c, 1, uid) < 0 || dom_no_options(c, 3) < 0) return -1;
    json_t *fields = dom_parse_doc(c, &c->argv[2]), *d = NULL;
    if (!fields) return -1;
    int rc = -1;
    json_object_del(fields, "status");
    json_object_del(fields, "closed_at");
    json_object_del(fields, "messages"); /* TICKET.GET adds the replies under this name */
    const json_t *subject = json_object_get(fields, "subject");
    if (subject &&
        !(json_is_string(subject) && dom_valid_text(json_string_value(subject), json_string_length(subject), 1,
                                                TICKET_SUBJECT_MAX))) {
        reply_invalid(c, "\"subject\" must be a string of 1 to %d bytes without NUL", TICKET_SUBJECT_MAX);
        goto out;
    }
    uint64_t id = dom_new_id(c->srv->dom);
    dom_format_id(t, id);
    /* the server's fields first, then the client's, in their order */
    char ts[32];
    stamp_time(ts, id);
    d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", t, "user_id", uid, "status", "open", "created_at", ts,
                  "updated_at", ts);
    if (!d) goto oom;
    if (json_object_update(d, fields) < 0) goto oom;
    dkey k, ix;
    details_key(&k, t);
    if (dom_put_doc(KS(c), &k, d, 0) < 0) goto out;
    index_prefix(&ix, uid);
    memcpy(ix.buf + ix.len, t, 16);
    ix.len += 16;
    meta_put(KS(c), &ix, "", 0);
    reply_bulk(c, t, 16);
    rc = 0;
    goto out;
oom:
    reply_error(c, "ERR out of memory");
out:
    json_decref(d);
    json_decref(fields);
    return rc;
}

/* TICKET.REPLY ticket author text [IDEMP key]
 * Adds a reply (text: 1..16384 bytes of UTF-8) by author to an open ticket;
 * replies its id. -NOTFOUND for a missing ticket, -INVALID for a closed one
 * or one that already has 1000 replies. IDEMP is scoped to the ticket. */
static int ticket_reply(client *c) {
    char t[ID_BUF], author[ID_BUF], mid[17];
    if (dom_id_arg(c, 1, t) < 0 || dom_id_arg(c, 2, author) < 0 || dom_no_options(c, 4) < 0) return -1;
    const resp_slice *text = &c->argv[3];
    if (!dom_valid_text(text->ptr, text->len, 1, TICKET_TEXT_MAX)) {
        reply_invalid(c, "text must be 1 to %d bytes of UTF-8 text without NUL", TICKET_TEXT_MAX);
        return -1;
    }
    dkey k, rk, mk;
    json_t *d = NULL, *m = NULL;
    int64_t replies;
    int rc = -1;
    if (need_details(c, t, &k, &d) < 0) return -1;
    if (is_closed(d)) {
        reply_invalid(c, "ticket '%s' is closed", t);
        goto out;
    }
    replies_key(&rk, t);
    if (meta_get_i64(KS(c), &rk, &replies) < 0) goto out;
    if (replies >= TICKET_REPLIES_MAX) {
        reply_invalid(c, "ticket '%s' has the maximum of %d replies", t, TICKET_REPLIES_MAX);
        goto out;
    }
    uint64_t id = dom_new_id(c->srv->dom);
    dom_format_id(mid, id);
    char ts[32];
    stamp_time(ts, id);
    m = json_pack("{s:s, s:s, s:s, s:s%, s:s}", "id", mid, "ticket", t, "author", author, "text", text->ptr,
                  text->len, "created_at", ts);
    if (!m) goto oom;
    dkey_fmt(&mk, "tickets:%s:messages:%s", t, mid);
    json_object_set_new(d, "updated_at", json_string(ts));
    if (dom_put_doc(KS(c), &mk, m, 0) < 0 || dom_put_doc(KS(c), &k, d, 1) < 0) goto out;
    meta_put_i64(KS(c), &rk, replies + 1);
    reply_bulk(c, mid, 16);
    rc = 0;
    goto out;
oom:
    reply_error(c, "ERR out of memory");
out:
    json_decref(m);
    json_decref(d);
    return rc;
}

/* Appends the replies of ticket t, oldest first, to the array msgs.
 * Entries that are not JSON objects (written around the engine) are left
 * out. 0 ok, -1 replied. */
static int load_replies(client *c, const char *t, json_t *msgs) {
    dkey p;
    dkey_fmt(&p, "tickets:%s:messages:", t);
    db_iter it;
    const char *key;
    size_t kl;
    enc_value v;
    int r;
    db_iter_open(&it, KS(c), 0, p.buf, p.len);
    while ((r = db_iter_next(&it, &key, &kl, &v)) == 1) {
        char err[256];
        json_t *m = json_parse_any(v.payload, v.len, err, sizeof err);
        if (m && json_is_object(m)) json_array_append(msgs, m);
        json_decref(m);
    }
    db_iter_close(&it);
    if (r < 0) {
        reply_error(c, "ERR storage error while reading the replies");
        return -1;
    }
    return 0;
}

/* TICKET.GET ticket
 * The details with a "messages" array of the replies, oldest first; nil
 * when there is no such ticket. */
static int ticket_get(client *c) {
    char t[ID_BUF];
    if (dom_id_arg(c, 1, t) < 0) return -1;
    dkey k;
    json_t *d = NULL, *msgs = json_array();
    int rc = -1;
    if (!msgs) goto oom;
    int r = load_details(c, t, &k, &d);
    if (r < 0) goto out;
    if (r == 0) {
        reply_null(c);
        rc = 0;
        goto out;
    }
    if (load_replies(c, t, msgs) < 0) goto out;
    if (json_object_set(d, "messages", msgs) < 0) goto oom;
    size_t n;
    char *text = json_encode(d, &n);
    if (!text) goto oom;
    reply_bulk(c, text, n);
    free(text);
    rc = 0;
    goto out;
oom:
    reply_error(c, "ERR out of memory");
out:
    json_decref(msgs);
    json_decref(d);
    return rc;
}

/* TICKET.CLOSE ticket
 * :1 closed now, :0 it already was; -NOTFOUND for a missing ticket. */
static int ticket_close(client *c) {
    char t[ID_BUF];
    if (dom_id_arg(c, 1, t) < 0) return -1;
    dkey k;
    json_t *d = NULL;
    if (need_details(c, t, &k, &d) < 0) return -1;
    int rc = 0;
    if (is_closed(d)) {
        reply_int(c, 0);
    } else {
        char ts[32];
        dom_iso_time(ts, now_ms());
        json_object_set_new(d, "status", json_string("closed"));
        json_object_set_new(d, "closed_at", json_string(ts));
        json_object_set_new(d, "updated_at", json_string(ts));
        rc = dom_put_doc(KS(c), &k, d, 1);
        if (rc == 0) reply_int(c, 1);
    }
    json_decref(d);
    return rc;
}

/* tk:{uid}:{ticket} -> tickets:{ticket}:details */
static int ticket_doc(const char *t, size_t tl, const char *val, size_t vl, dkey *doc, void *arg) {
    (void)val;
    (void)vl;
    (void)arg;
    if (!dom_valid_id(t, tl)) return 0;
    dkey_fmt(doc, "tickets:%.*s:details", (int)tl, t);
    return 1;
}

/* TICKET.LIST uid [AFTER id] [LIMIT n]
 * The details of uid's tickets, newest first: a reverse walk of the
 * owner's index "tk:{uid}:" (ticket ids grow with time), bounded by LIMIT. */
static int ticket_list(client *c) {
    char uid[ID_BUF];
    dom_page pg;
    if (dom_id_arg(c, 1, uid) < 0 || dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    dkey lo;
    index_prefix(&lo, uid);
    return dom_list_index(c, &lo, &pg, ticket_doc, NULL);
}

/* ---- USER.DELETE ------------------------------------------------------------------- */

int ticket_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey lo, hi;
    index_prefix(&lo, uid); /* a uid holds no ':', so this is exactly uid's index */
    hi.len = enc_prefix_end(hi.buf, lo.buf, lo.len);
    /* Collect the ticket ids first: no writes while an iterator is open. */
    char (*ids)[ID_BUF] = NULL;
    size_t n = 0, cap = 0;
    store_iter *it = store_iter_new(c->srv->ks.tx, STORE_CF_META, lo.buf, lo.len, hi.buf, hi.len);
    if (!it) goto oom;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl);
        if (!dom_valid_id(k + lo.len, kl - lo.len)) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            void *p = realloc(ids, nc * sizeof *ids);
            if (!p) {
                store_iter_free(it);
                goto oom;
            }
            ids = p;
            cap = nc;
        }
        memcpy(ids[n], k + lo.len, kl - lo.len);
        ids[n++][kl - lo.len] = 0;
    }
    char *err = NULL;
    int bad = store_iter_error(it, &err);
    store_iter_free(it);
    if (bad < 0) {
        free(ids);
        reply_storage_error(c, err);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        dkey p, rk;
        dkey_fmt(&p, "tickets:%s:", ids[i]); /* details and replies */
        int64_t r = db_delete_prefix(KS(c), 0, p.buf, p.len);
        if (r < 0) {
            free(ids);
            return -1;
        }
        *removed += r;
        replies_key(&rk, ids[i]);
        meta_del(KS(c), &rk);
    }
    free(ids);
    store_del_range(c->srv->ks.tx, STORE_CF_META, lo.buf, lo.len, hi.buf, hi.len);
    return 0;
oom:
    free(ids);
    reply_error(c, "ERR out of memory");
    return -1;
}

/* ---- the command rows ------------------------------------------------------------------ */

#define TK_W (CMD_WRITE | CMD_DOMAIN | CMD_DB0)
#define TK_R (CMD_READONLY | CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "ticket.open", .proc = ticket_open, .arity = -3, .flags = TK_W | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "uid json [IDEMP key]",
     .summary = "Opens a support ticket for uid from a JSON object (subject, body, ...); replies the ticket id."},
    {.name = "ticket.reply", .proc = ticket_reply, .arity = -4, .flags = TK_W | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket author text [IDEMP key]",
     .summary = "Adds a reply to an open ticket; replies its id (-NOTFOUND missing, -INVALID closed)."},
    {.name = "ticket.get", .proc = ticket_get, .arity = 2, .flags = TK_R, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket",
     .summary = "Returns the ticket's JSON with a \"messages\" array of its replies, oldest first; nil if absent."},
    {.name = "ticket.list", .proc = ticket_list, .arity = -2, .flags = TK_R, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists the tickets uid opened, newest first."},
    {.name = "ticket.close", .proc = ticket_close, .arity = 2, .flags = TK_W | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "tickets", .args = "ticket",
     .summary = "Closes a ticket: 1 closed now, 0 already closed (-NOTFOUND missing)."},
    CMD_TABLE_END,
};

const cmd_family ticket_family = {.name = "ticket", .rows = rows};
