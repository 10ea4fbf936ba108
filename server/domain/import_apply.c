/* The import's writes: a plan of import.c carried out through the models
 * (see import_apply.h for the markers that make a record apply once).
 *
 * Every step is a model's own (entity_import, ledger_apply, notify_import,
 * msg_send, ...), so the counters, indexes, feeds, the unread sets and the
 * ledger's invariants come out exactly as the domain commands leave them.
 * Coins: each old history is replayed oldest first as ledger rows (new
 * ids, the old reasons, balance_after computed); when its running sum
 * would dip below zero (a history whose start was cut), an opening row
 * "import:opening" comes first; an imported balance that differs from the
 * replayed rows gets one row "import:balance" for the difference. So
 * balance = sum of the rows holds, whatever order the records came in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "analytics.h"
#include "donation.h"
#include "email.h"
#include "entity.h"
#include "import_apply.h"
#include "ledger.h"
#include "msg.h"
#include "notify.h"
#include "payment.h"
#include "settings.h"
#include "ticket.h"
#include "user.h"

#define FP_LEN SHA256_DIGEST_SIZE

void import_key_marker(dkey *k, const char *key, size_t kl) {
    dkey_fmt(k, "imp:");
    dkey_append(k, key, kl);
}

static const char *str(const json_t *o, const char *name) {
    const json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A copy a model may change (they stamp documents in place). */
static json_t *copy(struct dom_engine *e, const json_t *v) {
    json_t *c = json_deep_copy(v);
    if (!c) dom_fail(e, ST_NOMEM, "out of memory");
    return c;
}

/* Prefixes a model's failure with the element it happened at. */
static int at_elem(struct dom_engine *e, size_t i) {
    char prev[sizeof e->ks->err.msg];
    const char *sp = strchr(e->ks->err.msg, ' '); /* after the code word */
    snprintf(prev, sizeof prev, "%s", sp ? sp + 1 : e->ks->err.msg);
    return st_fail(&e->ks->err, e->ks->err.code, "element %zu: %s", i, prev);
}

/* ---- per kind ------------------------------------------------------------------ */

static int apply_user(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    json_t *doc = copy(e, p->value);
    char *text = NULL;
    size_t tl;
    int r = -1;
    if (!doc) return -1;
    if (p->pat->kind == IMP_USER_BASE) {
        dkey k;
        user_key_section(&k, p->owner, "base");
        int ex = db_exists(e->ks, 0, k.buf, k.len);
        if (ex == 0) r = user_create(e, p->owner, doc);
        else if (ex == 1) r = user_update(e, p->owner, "base", doc, &text, &tl);
        snprintf(note, cap, ex == 1 ? "user base patched" : "user created");
    } else if (p->pat->kind == IMP_USER_SECTION) {
        r = user_update(e, p->owner, p->pat->arg, doc, &text, &tl);
        snprintf(note, cap, "user %s set", p->pat->arg);
    } else {
        r = settings_set(e, p->owner, p->pat->arg, doc, &text, &tl);
        snprintf(note, cap, "settings %s set", p->pat->arg);
    }
    free(text);
    json_decref(doc);
    return r;
}

static int apply_ledger(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    int64_t b;
    if (ledger_balance(e, p->owner, &b) < 0) return -1;
    int64_t opening = b + p->low < 0 ? -(b + p->low) : 0;
    if (opening && ledger_apply(e, p->owner, opening, "import:opening", LEDGER_SYSTEM_UID, NULL, NULL) < 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(p->value, i, row) {
        const json_t *cp = json_object_get(row, "counterparty");
        if (ledger_apply(e, p->owner, (int64_t)json_integer_value(json_object_get(row, "delta")), str(row, "reason"),
                         json_is_string(cp) ? json_string_value(cp) : NULL, NULL, NULL) < 0)
            return at_elem(e, i);
    }
    if (opening) snprintf(note, cap, "%zu ledger rows, opening row %lld", p->items, (long long)opening);
    else snprintf(note, cap, "%zu ledger rows", p->items);
    return 0;
}

static int apply_balance(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    int64_t b;
    if (ledger_balance(e, p->owner, &b) < 0) return -1;
    if (b != p->amount &&
        ledger_apply(e, p->owner, p->amount - b, "import:balance", LEDGER_SYSTEM_UID, NULL, NULL) < 0)
        return -1;
    if (b == p->amount) snprintf(note, cap, "balance %lld matches the ledger", (long long)b);
    else snprintf(note, cap, "balance %lld: row import:balance %+lld", (long long)p->amount, (long long)(p->amount - b));
    return 0;
}

static int apply_donations(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i;
    json_t *d;
    json_array_foreach(p->value, i, d) {
        if (donation_import(e, p->owner, str(d, "from"), (int64_t)json_integer_value(json_object_get(d, "amount")),
                            json_object_get(d, "message"), str(d, "id")) < 0)
            return at_elem(e, i);
    }
    snprintf(note, cap, "%zu donations", p->items);
    return 0;
}

static int apply_payments(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i;
    json_t *el;
    json_array_foreach(p->value, i, el) {
        char id[DOM_ID_HEX + 1];
        json_t *doc = copy(e, json_object_get(el, "doc")), *out = NULL;
        if (!doc) return -1;
        int r = payment_record(e, p->owner, doc, 0, id);
        json_decref(doc);
        const char *st = str(el, "status");
        if (r == 0 && st && strcmp(st, "failed") != 0) {
            r = payment_set_status(e, p->owner, id, "succeeded", &out);
            json_decref(out);
        }
        if (r == 0 && st && strcmp(st, "succeeded") != 0) {
            r = payment_set_status(e, p->owner, id, st, &out);
            json_decref(out);
        }
        if (r < 0) return at_elem(e, i);
    }
    snprintf(note, cap, "%zu payments", p->items);
    return 0;
}

static int apply_entities(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i, kept = 0;
    json_t *el;
    json_array_foreach(p->value, i, el) {
        char idout[DOM_ID_HEX + 1];
        const char *id = str(el, "id");
        json_t *doc = copy(e, json_object_get(el, "doc"));
        if (!doc) return -1;
        int r = id ? entity_import(e, p->pat->ns, p->owner, doc, id) : entity_create(e, p->pat->ns, p->owner, doc, 0, idout);
        json_decref(doc);
        if (r < 0) return at_elem(e, i);
        kept += id != NULL;
    }
    snprintf(note, cap, "%zu %s documents (%zu ids kept)", p->items, p->pat->ns->name, kept);
    return 0;
}

/* The owner of id in ns: the entry's own, else an index keyed by the id
 * alone (owner:, all:). 1 found, 0 not, -1. */
static int feed_owner(struct dom_engine *e, const entity_ns *ns, const json_t *el, char uid[DOM_ID_BUF]) {
    const char *u = str(el, "uid");
    if (u) {
        snprintf(uid, DOM_ID_BUF, "%s", u);
        return 1;
    }
    void (*const keys[])(dkey *, const entity_ns *, const char *) = {entity_key_owner, entity_key_all};
    for (size_t i = 0; i < 2; i++) {
        dkey k;
        store_val v;
        keys[i](&k, ns, str(el, "id"));
        int r = meta_get(e->ks, &k, &v);
        if (r < 0) return -1;
        if (r == 1 && v.len < DOM_ID_BUF) {
            memcpy(uid, v.ptr, v.len);
            uid[v.len] = 0;
            store_val_free(&v);
            return 1;
        }
        if (r == 1) store_val_free(&v);
    }
    return 0;
}

static int apply_feed(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    const entity_ns *ns = p->pat->ns;
    size_t i, changed = 0;
    json_t *el;
    json_array_foreach(p->value, i, el) {
        char uid[DOM_ID_BUF];
        const char *id = str(el, "id");
        int r = feed_owner(e, ns, el, uid);
        if (r < 0) return -1;
        dkey k;
        if (r == 1) {
            entity_key_doc(&k, ns, uid, id);
            r = db_exists(e->ks, 0, k.buf, k.len);
            if (r < 0) return -1;
        }
        if (r == 0)
            return dom_fail(e, ST_NOTFOUND, "element %zu: no %s '%s'%s%s (an entry needs its document)", i, ns->name,
                            id, str(el, "uid") ? " of " : "", str(el, "uid") ? str(el, "uid") : "");
        if (ns->index->equals) { /* BANNER: "status": "active" */
            json_t *patch = json_pack("{ss}", ns->index->field, ns->index->equals);
            char *text = NULL;
            size_t tl;
            r = patch ? entity_update(e, ns, uid, id, patch, &text, &tl) : dom_fail(e, ST_NOMEM, "out of memory");
            free(text);
            json_decref(patch);
            changed++;
        } else {
            r = entity_set_promoted(e, ns, uid, id, 1);
            changed += r == 1;
        }
        if (r < 0) return at_elem(e, i);
    }
    snprintf(note, cap, "%zu %s entries (%zu flags set)", p->items, ns->name, changed);
    return 0;
}

static int apply_analytics(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    const char *f;
    json_t *n;
    size_t fields = 0;
    json_object_foreach(p->value, f, n) {
        int64_t out;
        if (analytics_incr(e, p->pat->arg, p->owner, p->date, f, strlen(f), (int64_t)json_integer_value(n), &out) < 0)
            return -1;
        fields++;
    }
    snprintf(note, cap, "%zu fields", fields);
    return 0;
}

static int apply_messages(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i, read = 0;
    json_t *m;
    json_array_foreach(p->value, i, m) {
        char id[DOM_ID_HEX + 1];
        if (msg_send(e, p->owner, str(m, "from"), str(m, "to"), json_object_get(m, "text"), id) < 0)
            return at_elem(e, i);
        if (json_is_true(json_object_get(m, "read"))) {
            if (msg_read_one(e, p->owner, str(m, "to"), id) < 0) return -1;
            read++;
        }
    }
    snprintf(note, cap, "%zu messages (%zu read)", p->items, read);
    return 0;
}

/* Collects the first segment of each meta entry's rest (up to ':') into a
 * JSON object used as a set. */
static int collect(const char *rest, size_t rl, const char *val, size_t vl, void *arg) {
    (void)val;
    (void)vl;
    const char *c = memchr(rest, ':', rl);
    size_t n = c ? (size_t)(c - rest) : rl;
    if (!dom_valid_id(rest, n)) return 0;
    char id[DOM_ID_BUF];
    memcpy(id, rest, n);
    id[n] = 0;
    json_object_set_new(arg, id, json_true());
    return 0;
}

/* The listed ids as a set. */
static json_t *listed(const json_t *arr) {
    json_t *set = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) json_object_set_new(set, json_string_value(v), json_true());
    return set;
}

/* MSG_UNREAD and NOTIFY_UNREAD: everything of uid not in the list is read;
 * the listed ones keep their own flags. */
static int apply_unread(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    int msgs = p->pat->kind == IMP_MSG_UNREAD, rc = -1;
    json_t *have = json_object(), *want = listed(p->value);
    dkey k;
    size_t marked = 0, missing = 0;
    if (!have || !want) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (msgs) msg_key_pointers(&k, p->owner); /* the user's conversations */
    else notify_key_unread_index(&k, p->owner); /* the user's unread notifications */
    if (meta_scan(e->ks, &k, collect, have) < 0) goto out;
    const char *id;
    json_t *x;
    json_object_foreach(have, id, x) {
        if (json_object_get(want, id)) continue;
        if (msgs) {
            int64_t n;
            if (msg_read(e, id, p->owner, &n) < 0) goto out;
            marked += (size_t)n;
        } else {
            int r = notify_mark_read(e, p->owner, id);
            if (r < 0) goto out;
            marked += (size_t)r;
        }
    }
    json_object_foreach(want, id, x) missing += !json_object_get(have, id);
    snprintf(note, cap, "%zu %s marked read; %zu listed %s not found%s", marked, msgs ? "messages" : "notifications",
             missing, msgs ? "conversations" : "unread notifications", missing ? " (left as they are)" : "");
    rc = 0;
out:
    json_decref(have);
    json_decref(want);
    return rc;
}

static int apply_notifications(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i, read = 0;
    json_t *el;
    json_array_foreach(p->value, i, el) {
        int rd = json_is_true(json_object_get(el, "read"));
        if (notify_import(e, p->owner, json_object_get(el, "doc"), str(el, "id"), rd) < 0) return at_elem(e, i);
        read += rd;
    }
    snprintf(note, cap, "%zu notifications (%zu read)", p->items, read);
    return 0;
}

static int apply_email(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    size_t i;
    json_t *el;
    json_array_foreach(p->value, i, el) {
        int r;
        if (p->pat->kind == IMP_EMAIL_SUBS) {
            r = email_set_subscribed(e, p->owner, json_string_value(el), 1);
        } else {
            char id[DOM_ID_HEX + 1];
            json_t *doc = copy(e, el);
            r = doc ? email_log(e, p->owner, doc, id) : -1;
            json_decref(doc);
        }
        if (r < 0) return at_elem(e, i);
    }
    snprintf(note, cap, "%zu %s", p->items, p->pat->kind == IMP_EMAIL_SUBS ? "lists" : "e-mail log entries");
    return 0;
}

static int apply_replies(struct dom_engine *e, const char *t, const json_t *replies) {
    size_t i;
    json_t *r;
    json_array_foreach(replies, i, r) {
        const json_t *text = json_object_get(r, "text");
        if (ticket_import_reply(e, t, str(r, "author"), json_string_value(text), json_string_length(text)) < 0)
            return at_elem(e, i);
    }
    return 0;
}

static int apply_ticket(struct dom_engine *e, const imp_plan *p, char *note, size_t cap) {
    if (p->pat->kind == IMP_TICKET_REPLIES) {
        if (apply_replies(e, p->owner, p->value) < 0) return -1;
        snprintf(note, cap, "%zu replies", p->items);
        return 0;
    }
    json_t *doc = copy(e, json_object_get(p->value, "doc"));
    if (!doc) return -1;
    int r = ticket_import(e, str(p->value, "uid"), doc, p->owner);
    json_decref(doc);
    const json_t *replies = json_object_get(p->value, "replies");
    if (r < 0 || apply_replies(e, p->owner, replies) < 0) return -1;
    int closed = json_is_true(json_object_get(p->value, "closed"));
    if (closed && ticket_close(e, p->owner) < 0) return -1;
    snprintf(note, cap, "ticket %s, %zu replies", closed ? "closed" : "open", json_array_size(replies));
    return 0;
}

/* ---- the record ----------------------------------------------------------------- */

int import_apply(struct dom_engine *e, const char *key, size_t kl, const char *val, size_t vl, const imp_plan *p,
                 char *note, size_t cap) {
    assert(p->pat && p->pat->kind != IMP_DERIVED);
    uint8_t fp[FP_LEN];
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, vl, (const uint8_t *)val);
    sha256_digest(&h, sizeof fp, fp);
    dkey mk;
    import_key_marker(&mk, key, kl);
    store_val v;
    int r = meta_get(e->ks, &mk, &v);
    if (r < 0) return -1;
    if (r == 1) {
        int same = v.len == FP_LEN && memcmp(v.ptr, fp, FP_LEN) == 0;
        store_val_free(&v);
        if (same) return 1;
        return dom_fail(e, ST_CONFLICT, "imported before with another value (a record is imported once)");
    }
    switch (p->pat->kind) {
    case IMP_USER_BASE:
    case IMP_USER_SECTION:
    case IMP_SETTINGS: r = apply_user(e, p, note, cap); break;
    case IMP_LEDGER: r = apply_ledger(e, p, note, cap); break;
    case IMP_BALANCE: r = apply_balance(e, p, note, cap); break;
    case IMP_DONATIONS: r = apply_donations(e, p, note, cap); break;
    case IMP_PAYMENTS: r = apply_payments(e, p, note, cap); break;
    case IMP_ENTITIES: r = apply_entities(e, p, note, cap); break;
    case IMP_FEED: r = apply_feed(e, p, note, cap); break;
    case IMP_ANALYTICS: r = apply_analytics(e, p, note, cap); break;
    case IMP_MESSAGES: r = apply_messages(e, p, note, cap); break;
    case IMP_MSG_UNREAD:
    case IMP_NOTIFY_UNREAD: r = apply_unread(e, p, note, cap); break;
    case IMP_NOTIFICATIONS: r = apply_notifications(e, p, note, cap); break;
    case IMP_EMAIL_SUBS:
    case IMP_EMAIL_LOG: r = apply_email(e, p, note, cap); break;
    case IMP_TICKET:
    case IMP_TICKET_REPLIES: r = apply_ticket(e, p, note, cap); break;
    case IMP_DERIVED: r = -1; break;
    }
    if (r < 0) return -1;
    meta_put(e->ks, &mk, (const char *)fp, FP_LEN);
    return 0;
}
