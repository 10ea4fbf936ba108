/* Support tickets (SPEC §4.5).
 *
 * Keys:
 *   data CF  tickets:{ticket}:details         {"id", "user_id" (the owner),
 *                                              "status": "open"|"closed",
 *                                              "created_at", "updated_at",
 *                                              ["closed_at"], + the client's
 *                                              fields (subject, body, ...)}
 *   data CF  tickets:{ticket}:messages:{id}   one reply: {"id", "ticket",
 *                                              "author", "text", "created_at"}
 *   meta CF  "tk:" uid ":" ticket -> ""       the owner's index (TICKET.LIST,
 *                                              USER.DELETE)
 *   meta CF  "tkr:" ticket -> i64             replies of the ticket (its cap)
 *   meta CF  "tkopen:" ticket -> uid          the open tickets of every user
 *                                              (TICKET.OPEN.LIST, newest first)
 *
 * Invariants, kept in the command's batch:
 * - "tk:{uid}:{ticket}" exists exactly for the tickets whose details name
 *   uid as user_id (OPEN writes both; USER.DELETE removes both).
 * - "tkr:{ticket}" = the number of replies under tickets:{ticket}:messages:
 *   (at most TICKET_REPLIES_MAX, so TICKET.GET stays bounded).
 * - "tkopen:{ticket}" exists exactly for the tickets whose status is open
 *   (OPEN and REOPEN write it, CLOSE and USER.DELETE remove it). Tickets
 *   opened before the index existed are not in it until they are closed
 *   and reopened (it can be rebuilt from the details).
 * - A closed ticket never gains a reply: REPLY reads the status in the same
 *   command that writes the reply. TICKET.REOPEN opens it again.
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

#define ID_BUF (DOM_ID_MAX + 1)

/* ---- keys ------------------------------------------------------------------ */

void ticket_key_details(dkey *k, const char *t) {
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tickets:%s:details", t);
}

void ticket_key_reply(dkey *k, const char *t, const char *id) {
    DOM_ASSERT_ID(t);
    assert(dom_is_server_id(id, strlen(id)));
    dkey_fmt(k, "tickets:%s:messages:%s", t, id);
}

void ticket_key_replies(dkey *k, const char *t) {
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tickets:%s:messages:", t);
}

void ticket_key_ticket(dkey *k, const char *t) {
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tickets:%s:", t);
}

void ticket_key_index(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "tk:%s:", uid);
}

void ticket_key_index_entry(dkey *k, const char *uid, const char *t) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tk:%s:%s", uid, t);
}

void ticket_key_count(dkey *k, const char *t) {
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tkr:%s", t);
}

void ticket_key_open(dkey *k, const char *t) {
    DOM_ASSERT_ID(t);
    dkey_fmt(k, "tkopen:%s", t);
}

void ticket_key_open_index(dkey *k) { dkey_fmt(k, "tkopen:"); }

/* Loads the details of ticket t: 1 found (*out, an object), 0 absent, -1. */
static int load_details(struct dom_engine *e, const char *t, dkey *k, json_t **out) {
    int failed;
    ticket_key_details(k, t);
    json_t *d = dom_get_doc(e->ks, k, &failed);
    if (failed) return -1;
    if (!d) return 0;
    if (!json_is_object(d)) {
        json_decref(d);
        return dom_fail(e, ST_ERR, "stored document at '%.*s' is not a JSON object", (int)k->len, k->buf);
    }
    *out = d;
    return 1;
}

/* Like load_details, but an absent ticket is NOTFOUND. */
static int need_details(struct dom_engine *e, const char *t, dkey *k, json_t **out) {
    int r = load_details(e, t, k, out);
    if (r == 0) return dom_fail(e, ST_NOTFOUND, "ticket '%s'", t);
    return r == 1 ? 0 : -1;
}

static int is_closed(const json_t *d) {
    const json_t *s = json_object_get(d, "status");
    return json_is_string(s) && strcmp(json_string_value(s), "closed") == 0;
}

/* ---- the commands' steps ----------------------------------------------------- */

static int open_at(struct dom_engine *e, const char *uid, json_t *fields, const char *t, const char *ts);

int ticket_open(struct dom_engine *e, const char *uid, json_t *fields, char id_out[DOM_ID_HEX + 1]) {
    uint64_t id = dom_new_id(e);
    char ts[32];
    dom_format_id(id_out, id);
    dom_id_time(ts, id);
    return open_at(e, uid, fields, id_out, ts);
}

int ticket_import(struct dom_engine *e, const char *uid, json_t *fields, const char *t) {
    dkey k;
    ticket_key_details(&k, t);
    int r = db_exists(e->ks, 0, k.buf, k.len);
    if (r < 0) return -1;
    if (r) return dom_fail(e, ST_CONFLICT, "ticket '%s' exists", t);
    if (dom_see_id(e, t) < 0) return -1;
    char ts[32];
    dom_iso_time(ts, now_ms());
    return open_at(e, uid, fields, t, ts);
}

/* TICKET.OPEN's step with the ticket's id t and creation time ts. */
static int open_at(struct dom_engine *e, const char *uid, json_t *fields, const char *t, const char *ts) {
    json_t *d = NULL;
    int rc = -1;
    json_object_del(fields, "status");
    json_object_del(fields, "closed_at");
    json_object_del(fields, "messages"); /* TICKET.GET adds the replies under this name */
    const json_t *subject = json_object_get(fields, "subject");
    if (subject &&
        !(json_is_string(subject) && dom_valid_text(json_string_value(subject), json_string_length(subject), 1,
                                                    TICKET_SUBJECT_MAX)))
        return dom_fail(e, ST_INVALID, "\"subject\" must be a string of 1 to %d bytes without NUL",
                        TICKET_SUBJECT_MAX);
    /* the server's fields first, then the client's, in their order */
    d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", t, "user_id", uid, "status", "open", "created_at", ts,
                  "updated_at", ts);
    if (!d || json_object_update(d, fields) < 0) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    dkey k, ix;
    ticket_key_details(&k, t);
    if (dom_put_doc(e->ks, &k, d, 0) < 0) goto out;
    ticket_key_index_entry(&ix, uid, t);
    meta_put(e->ks, &ix, "", 0);
    ticket_key_open(&ix, t);
    meta_put(e->ks, &ix, uid, strlen(uid));
    rc = 0;
out:
    json_decref(d);
    return rc;
}

static int reply_to(struct dom_engine *e, const char *t, const char *author, const char *text, size_t tl,
                    int closed_ok, char id_out[DOM_ID_HEX + 1]);

int ticket_reply(struct dom_engine *e, const char *t, const char *author, const char *text, size_t tl,
                 char id_out[DOM_ID_HEX + 1]) {
    return reply_to(e, t, author, text, tl, 0, id_out);
}

int ticket_import_reply(struct dom_engine *e, const char *t, const char *author, const char *text, size_t tl) {
    char id[DOM_ID_HEX + 1];
    return reply_to(e, t, author, text, tl, 1, id);
}

/* TICKET.REPLY's step; closed_ok: a closed ticket takes it too (the import
 * of a closed ticket's history). */
static int reply_to(struct dom_engine *e, const char *t, const char *author, const char *text, size_t tl,
                    int closed_ok, char id_out[DOM_ID_HEX + 1]) {
    dkey k, rk, mk;
    json_t *d = NULL, *m = NULL;
    int64_t replies;
    int rc = -1;
    if (need_details(e, t, &k, &d) < 0) return -1;
    if (is_closed(d) && !closed_ok) {
        dom_fail(e, ST_INVALID, "ticket '%s' is closed", t);
        goto out;
    }
    ticket_key_count(&rk, t);
    if (meta_get_i64(e->ks, &rk, &replies) < 0) goto out;
    if (replies >= TICKET_REPLIES_MAX) {
        dom_fail(e, ST_INVALID, "ticket '%s' has the maximum of %d replies", t, TICKET_REPLIES_MAX);
        goto out;
    }
    uint64_t id = dom_new_id(e);
    char *mid = id_out, ts[32];
    dom_format_id(mid, id);
    dom_id_time(ts, id);
    m = json_pack("{s:s, s:s, s:s, s:s%, s:s}", "id", mid, "ticket", t, "author", author, "text", text, tl,
                  "created_at", ts);
    if (!m) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    ticket_key_reply(&mk, t, mid);
    json_object_set_new(d, "updated_at", json_string(ts));
    if (dom_put_doc(e->ks, &mk, m, 0) < 0 || dom_put_doc(e->ks, &k, d, 1) < 0) goto out;
    meta_put_i64(e->ks, &rk, replies + 1);
    rc = 0;
out:
    json_decref(m);
    json_decref(d);
    return rc;
}

/* Appends the replies of ticket t, oldest first, to the array msgs.
 * Entries that are not JSON objects (written around the engine) are left
 * out. */
static int load_replies(struct dom_engine *e, const char *t, json_t *msgs) {
    dkey p;
    ticket_key_replies(&p, t);
    db_iter it;
    const char *key;
    size_t kl;
    enc_value v;
    int r;
    db_iter_open(&it, e->ks, 0, p.buf, p.len);
    while ((r = db_iter_next(&it, &key, &kl, &v)) == 1) {
        char err[256];
        json_t *m = json_parse_any(v.payload, v.len, err, sizeof err);
        if (m && json_is_object(m)) json_array_append(msgs, m);
        json_decref(m);
    }
    db_iter_close(&it);
    if (r < 0) return dom_fail(e, ST_ERR, "storage error while reading the replies");
    return 0;
}

int ticket_get(struct dom_engine *e, const char *t, char **text, size_t *tl) {
    dkey k;
    json_t *d = NULL, *msgs = json_array();
    int rc = -1;
    if (!msgs) return dom_fail(e, ST_NOMEM, "out of memory");
    int r = load_details(e, t, &k, &d);
    if (r <= 0) {
        rc = r;
        goto out;
    }
    if (load_replies(e, t, msgs) < 0) goto out;
    if (json_object_set(d, "messages", msgs) < 0 || !(*text = json_encode(d, tl))) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    rc = 1;
out:
    json_decref(msgs);
    json_decref(d);
    return rc;
}

int ticket_close(struct dom_engine *e, const char *t) {
    dkey k;
    json_t *d = NULL;
    if (need_details(e, t, &k, &d) < 0) return -1;
    int rc = 0;
    if (!is_closed(d)) {
        char ts[32];
        dom_iso_time(ts, now_ms());
        json_object_set_new(d, "status", json_string("closed"));
        json_object_set_new(d, "closed_at", json_string(ts));
        json_object_set_new(d, "updated_at", json_string(ts));
        rc = dom_put_doc(e->ks, &k, d, 1) < 0 ? -1 : 1;
        dkey ok;
        ticket_key_open(&ok, t);
        meta_del(e->ks, &ok);
    }
    json_decref(d);
    return rc;
}

int ticket_reopen(struct dom_engine *e, const char *t) {
    dkey k;
    json_t *d = NULL;
    if (need_details(e, t, &k, &d) < 0) return -1;
    int rc = 0;
    if (is_closed(d)) {
        char ts[32];
        dom_iso_time(ts, now_ms());
        json_object_set_new(d, "status", json_string("open"));
        json_object_del(d, "closed_at");
        json_object_set_new(d, "reopened_at", json_string(ts));
        json_object_set_new(d, "updated_at", json_string(ts));
        const char *uid = json_string_value(json_object_get(d, "user_id"));
        if (!uid || !dom_valid_id(uid, strlen(uid))) {
            json_decref(d);
            return dom_fail(e, ST_ERR, "stored ticket '%s' has no valid user_id", t);
        }
        rc = dom_put_doc(e->ks, &k, d, 1) < 0 ? -1 : 1;
        dkey ok;
        ticket_key_open(&ok, t);
        meta_put(e->ks, &ok, uid, strlen(uid));
    }
    json_decref(d);
    return rc;
}

/* tkopen:{ticket} -> tickets:{ticket}:details */
int ticket_open_resolve(const char *t, size_t tl, const char *val, size_t vl, dkey *doc, void *arg) {
    return ticket_index_resolve(t, tl, val, vl, doc, arg);
}

/* tk:{uid}:{ticket} -> tickets:{ticket}:details */
int ticket_index_resolve(const char *t, size_t tl, const char *val, size_t vl, dkey *doc, void *arg) {
    (void)val;
    (void)vl;
    (void)arg;
    char ts[ID_BUF];
    if (!dom_valid_id(t, tl)) return 0;
    memcpy(ts, t, tl);
    ts[tl] = 0;
    ticket_key_details(doc, ts);
    return 1;
}

/* ---- USER.DELETE ------------------------------------------------------------------- */

typedef struct idlist {
    char (*ids)[ID_BUF];
    size_t n, cap;
    keyspace *ks;
} idlist;

static int take_ticket(const char *t, size_t tl, const char *val, size_t vl, void *arg) {
    (void)val;
    (void)vl;
    idlist *l = arg;
    if (!dom_valid_id(t, tl)) return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        void *p = realloc(l->ids, nc * sizeof *l->ids);
        if (!p) return st_fail(&l->ks->err, ST_NOMEM, "out of memory");
        l->ids = p;
        l->cap = nc;
    }
    memcpy(l->ids[l->n], t, tl);
    l->ids[l->n++][tl] = 0;
    return 0;
}

int ticket_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey lo;
    ticket_key_index(&lo, uid); /* a uid holds no ':', so this is exactly uid's index */
    /* Collect the ticket ids first: no writes while an iterator is open. */
    idlist l = {.ks = e->ks};
    int rc = -1;
    if (meta_scan(e->ks, &lo, take_ticket, &l) < 0) goto out;
    for (size_t i = 0; i < l.n; i++) {
        dkey p, rk;
        ticket_key_ticket(&p, l.ids[i]); /* details and replies */
        int64_t r = db_delete_prefix(e->ks, 0, p.buf, p.len);
        if (r < 0) goto out;
        *removed += r;
        ticket_key_count(&rk, l.ids[i]);
        meta_del(e->ks, &rk);
        ticket_key_open(&rk, l.ids[i]);
        meta_del(e->ks, &rk);
    }
    meta_del_prefix(e->ks, &lo);
    rc = 0;
out:
    free(l.ids);
    return rc;
}
