/* The mapper of stagekv-import (import.h): one record of the hosted store
 * (key, JSON value) -> a checked, normalized plan, or why not.
 *
 * The 44 patterns of the seed and their old shapes are the table below;
 * docs/migration.md describes each. Every check that needs no stored data
 * is made here, so IMPORT.CHECK (--check) finds them without writing:
 * the key's ids, the value's JSON (a string holding JSON text is decoded
 * once: some exports double-encode jsonb), each element's shape, ids of
 * references, amounts (1..2^63-1; a history whose running sum would pass
 * 2^63-1), dates, field and list names, text limits, document limits.
 *
 * Normalized values (plan->value), per kind:
 *   ENTITIES       [{"id": kept id | null, "doc": {...}}]
 *   NOTIFICATIONS  [{"id": kept id | null, "doc": {...}, "read": bool}]
 *   DONATIONS      [{"id": kept id | null, "from": uid, "amount": n, "message": text | null}]
 *   LEDGER         [{"delta": signed n, "reason": text, "counterparty": uid | null}]  (oldest first)
 *   PAYMENTS       [{"doc": {...}, "status": "succeeded" | "failed" | "refunded" | null}]
 *   FEED           [{"id": id, "uid": owner | null}]
 *   ANALYTICS      {field: n >= 1}
 *   MESSAGES       [{"from": uid, "to": uid, "text": text, "read": bool}]  (oldest first)
 *   MSG_UNREAD, NOTIFY_UNREAD, EMAIL_SUBS   [string]
 *   EMAIL_LOG      [{...}]
 *   TICKET         {"uid": owner, "doc": {...}, "closed": bool, "replies": [{"author", "text"}]}
 *   TICKET_REPLIES [{"author": id, "text": text}]
 *   USER_*, SETTINGS  {...}
 * Documents have the server-owned fields taken out: an element's id is
 * kept as the new document's id when it is a valid id (a JSON string, or a
 * non-negative integer as its digits), else kept as "legacy_id"; its
 * created_at as "legacy_created_at" (the engine stamps its own times).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics.h"
#include "donation.h"
#include "email.h"
#include "import.h"
#include "json.h"
#include "msg.h"
#include "ticket.h"

#define REASON_MAX 1024 /* as COINS.ADD's reason */
#define IMP_DEPTH 64    /* a document's nesting (SPEC §4), below the value's own levels */

static const imp_pattern patterns[] = {
    {"users:{uid}:base", IMP_USER_BASE, 1, "base", NULL},
    {"users:{uid}:profile", IMP_USER_SECTION, 2, "profile", NULL},
    {"users:{uid}:subscription", IMP_USER_SECTION, 2, "subscription", NULL},
    {"users:email:{email}", IMP_DERIVED, 0, "the e-mail index (kept by USER.CREATE)", NULL},
    {"users:list", IMP_DERIVED, 0, "the user list (kept by USER.CREATE)", NULL},
    {"settings:{uid}:profile", IMP_SETTINGS, 1, "profile", NULL},
    {"settings:{uid}:security", IMP_SETTINGS, 1, "security", NULL},
    {"settings:{uid}:notifications", IMP_SETTINGS, 1, "notifications", NULL},
    {"settings:{uid}:privacy", IMP_SETTINGS, 1, "privacy", NULL},
    {"settings:{uid}:payment_methods", IMP_SETTINGS, 1, "payment_methods", NULL},
    {"coins:{uid}:balance", IMP_BALANCE, 2, NULL, NULL},
    {"coins:{uid}:transactions", IMP_LEDGER, 1, NULL, NULL},
    {"donations:{uid}:list", IMP_DONATIONS, 1, NULL, NULL},
    {"donations:{uid}:sent", IMP_DERIVED, 0, "the donor's index (kept from the artists' donations)", NULL},
    {"donations:{uid}:total", IMP_DERIVED, 0, "the donation figures (kept from the donations)", NULL},
    {"payments:{uid}:transactions", IMP_PAYMENTS, 1, NULL, NULL},
    {"payments:{uid}:methods", IMP_ENTITIES, 1, NULL, &entity_ns_paymethod},
    {"tracks:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_track},
    {"videos:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_video},
    {"concerts:public:promoted", IMP_FEED, 2, NULL, &entity_ns_concert},
    {"concerts:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_concert},
    {"news:public:promoted", IMP_FEED, 2, NULL, &entity_ns_news},
    {"news:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_news},
    {"banners:active:list", IMP_FEED, 2, NULL, &entity_ns_banner},
    {"banners:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_banner},
    {"promotion:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_promo},
    {"pitching:{uid}:list", IMP_ENTITIES, 1, NULL, &entity_ns_pitch},
    {"analytics:tracks:{id}:{date}", IMP_ANALYTICS, 1, "tracks", NULL},
    {"analytics:concerts:{id}:{date}", IMP_ANALYTICS, 1, "concerts", NULL},
    {"messages:{conv}", IMP_MESSAGES, 1, NULL, NULL},
    {"messages:{uid}:unread", IMP_MSG_UNREAD, 2, NULL, NULL},
    {"messages:{uid}:unread_count", IMP_DERIVED, 0, "the unread message counter (kept from the messages)", NULL},
    {"conversations:{conv}:details", IMP_DERIVED, 0, "the conversation details (kept by MSG.SEND)", NULL},
    {"conversations:{uid}:list", IMP_DERIVED, 0, "the conversation list (kept by MSG.SEND)", NULL},
    {"notifications:{uid}", IMP_NOTIFICATIONS, 1, NULL, NULL},
    {"notifications:{uid}:unread", IMP_NOTIFY_UNREAD, 2, NULL, NULL},
    {"notifications:{uid}:unread_count", IMP_DERIVED, 0, "the unread counter (kept from the notifications)", NULL},
    {"email:{uid}:subscriptions", IMP_EMAIL_SUBS, 1, NULL, NULL},
    {"email:{uid}:history", IMP_EMAIL_LOG, 1, NULL, NULL},
    {"tickets:open:list", IMP_DERIVED, 0, "the open-ticket index (kept from the tickets)", NULL},
    {"tickets:{uid}:list", IMP_DERIVED, 0, "the user's ticket index (kept from the tickets)", NULL},
    {"tickets:{ticket}:details", IMP_TICKET, 1, NULL, NULL},
    {"tickets:{ticket}:messages", IMP_TICKET_REPLIES, 2, NULL, NULL},
    {"dashboard:{uid}:stats", IMP_DERIVED, 0, "the dashboard figures (maintained counters)", NULL},
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])
_Static_assert(NPATTERNS == 44, "the seed's 44 key patterns");

const imp_pattern *import_pattern_at(size_t i) { return i < NPATTERNS ? &patterns[i] : NULL; }

const char *import_kind_name(imp_kind k) {
    static const char *const names[] = {
        [IMP_DERIVED] = "derived",          [IMP_USER_BASE] = "user",
        [IMP_USER_SECTION] = "user section", [IMP_SETTINGS] = "settings",
        [IMP_LEDGER] = "ledger rows",       [IMP_BALANCE] = "balance",
        [IMP_DONATIONS] = "donations",      [IMP_PAYMENTS] = "payments",
        [IMP_ENTITIES] = "documents",       [IMP_FEED] = "feed flags",
        [IMP_ANALYTICS] = "analytics",      [IMP_MESSAGES] = "messages",
        [IMP_MSG_UNREAD] = "message read flags", [IMP_NOTIFICATIONS] = "notifications",
        [IMP_NOTIFY_UNREAD] = "notification read flags", [IMP_EMAIL_SUBS] = "e-mail subscriptions",
        [IMP_EMAIL_LOG] = "e-mail log",     [IMP_TICKET] = "ticket",
        [IMP_TICKET_REPLIES] = "ticket replies",
    };
    return (size_t)k < sizeof names / sizeof names[0] && names[k] ? names[k] : "?";
}

/* ---- small helpers ---------------------------------------------------------- */

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* A shown piece of untrusted text: printable ASCII, cut at 40 bytes. */
static const char *shown(const char *p, size_t n, char out[48]) {
    size_t j = 0;
    for (size_t i = 0; i < n && j < 40; i++) out[j++] = isprint((unsigned char)p[i]) ? p[i] : '?';
    if (n > 40) {
        out[j++] = '.';
        out[j++] = '.';
        out[j++] = '.';
    }
    out[j] = 0;
    return out;
}

/* A reference to an id: a string that is a valid id, or a non-negative
 * integer (its digits). 1 and out filled, 0 not. */
static int ref_id(const json_t *v, char out[DOM_ID_BUF]) {
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        if (!dom_valid_id(json_string_value(v), n)) return 0;
        memcpy(out, json_string_value(v), n);
        out[n] = 0;
        return 1;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(out, DOM_ID_BUF, "%" PRId64, (int64_t)json_integer_value(v));
        return 1;
    }
    return 0;
}

/* The first of the member names (aliases of the old helpers) present. */
static json_t *member(const json_t *o, const char *const *names) {
    for (; *names; names++) {
        json_t *v = json_object_get(o, *names);
        if (v) return v;
    }
    return NULL;
}

static const char *const K_FROM[] = {"from", "from_user_id", "sender_id", "donor_id", NULL};
static const char *const K_TO[] = {"to", "to_user_id", "recipient_id", "receiver_id", NULL};
static const char *const K_TEXT[] = {"text", "content", "message", "body", NULL};
static const char *const K_OWNER[] = {"user_id", "uid", "userId", "owner", "artist_id", NULL};
static const char *const K_REASON[] = {"reason", "description", NULL};

/* A text member: absent -> dflt; else a string of min..max valid bytes.
 * 1 ok (*out a new reference), 0 bad. */
static int text_of(const json_t *v, size_t min, size_t max, json_t **out) {
    if (!json_is_string(v) || !dom_valid_text(json_string_value(v), json_string_length(v), min, max)) return 0;
    *out = json_incref((json_t *)v);
    return 1;
}

/* An amount: a JSON integer 1..2^63-1 (-2^63.. for signed with allow_neg,
 * never INT64_MIN, whose negation overflows). */
static int amount_of(const json_t *v, int allow_neg, int64_t *out) {
    if (!json_is_integer(v)) return 0;
    json_int_t n = json_integer_value(v);
    if (n == 0 || n == INT64_MIN || (n < 0 && !allow_neg)) return 0;
    *out = (int64_t)n;
    return 1;
}

static int too_deep(const json_t *v, int depth) {
    if (depth > IMP_DEPTH) return 1;
    const char *k;
    size_t i;
    json_t *m;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, m) if (too_deep(m, depth + 1)) return 1;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) if (too_deep(m, depth + 1)) return 1;
    }
    return 0;
}

/* A document for a model: a copy of el without the server-owned fields;
 * el's id is returned in id (when kept) or kept as legacy_id; created_at
 * as legacy_created_at. uid: the key's owner, which a user_id in the
 * element must name. NULL and why on a bad element. */
static json_t *doc_of(const json_t *el, size_t idx, const char *uid, long long max_doc, char id[DOM_ID_BUF],
                      int *has_id, char *why, size_t cap) {
    *has_id = 0;
    if (!json_is_object(el)) {
        fail(why, cap, "element %zu is not a JSON object", idx);
        return NULL;
    }
    if (too_deep(el, 1)) {
        fail(why, cap, "element %zu is nested too deeply (max %d)", idx, IMP_DEPTH);
        return NULL;
    }
    const json_t *owner = json_object_get(el, "user_id");
    if (uid && owner && !json_is_null(owner)) {
        char o[DOM_ID_BUF];
        if (!ref_id(owner, o) || strcmp(o, uid) != 0) {
            fail(why, cap, "element %zu: user_id is not the key's owner '%s'", idx, uid);
            return NULL;
        }
    }
    json_t *doc = json_deep_copy(el);
    if (!doc) {
        fail(why, cap, "out of memory");
        return NULL;
    }
    json_t *old = json_object_get(el, "id");
    if (old && ref_id(old, id)) *has_id = 1;
    else if (old && !json_is_null(old)) json_object_set(doc, "legacy_id", old);
    json_t *ca = json_object_get(el, "created_at");
    if (ca && !json_is_null(ca)) json_object_set(doc, "legacy_created_at", ca);
    dom_strip_owned(doc);
    size_t len = 0;
    char *enc = json_encode(doc, &len);
    free(enc);
    if (!enc || (long long)len > max_doc) {
        json_decref(doc);
        fail(why, cap, "element %zu is too large (max %lld bytes)", idx, max_doc);
        return NULL;
    }
    return doc;
}

/* Appends {"id": ..} entries' kept ids to seen, refusing a repeated one. */
static int unique_id(json_t *seen, const char *id, size_t idx, char *why, size_t cap) {
    if (json_object_get(seen, id)) return fail(why, cap, "element %zu repeats id '%s'", idx, id);
    json_object_set_new(seen, id, json_true());
    return 0;
}

/* ---- per kind ------------------------------------------------------------------ */

static int need_array(const json_t *v, char *why, size_t cap) {
    return json_is_array(v) ? 0 : fail(why, cap, "wrong shape: expected a JSON array, got %s",
                                       json_is_object(v) ? "an object"
                                       : json_is_string(v) ? "a string"
                                       : json_is_number(v) ? "a number"
                                       : json_is_null(v)   ? "null"
                                                           : "a boolean");
}

static int need_object(const json_t *v, char *why, size_t cap) {
    if (json_is_object(v)) return too_deep(v, 1) ? fail(why, cap, "nested too deeply (max %d)", IMP_DEPTH) : 0;
    return fail(why, cap, "wrong shape: expected a JSON object");
}

/* ENTITIES, NOTIFICATIONS: documents with kept ids */
static int map_docs(const json_t *v, imp_plan *p, int notify, long long max_doc, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array(), *seen = json_object();
    size_t i;
    json_t *el;
    int rc = -1;
    json_array_foreach(v, i, el) {
        char id[DOM_ID_BUF];
        int has_id;
        json_t *doc = doc_of(el, i, p->owner, max_doc, id, &has_id, why, cap);
        if (!doc) goto out;
        if (has_id && unique_id(seen, id, i, why, cap) < 0) {
            json_decref(doc);
            goto out;
        }
        json_t *e = json_pack("{s:o, s:o}", "id", has_id ? json_string(id) : json_null(), "doc", doc);
        if (notify) {
            const json_t *rd = json_object_get(doc, "read");
            if (rd && !json_is_boolean(rd)) {
                json_decref(e);
                fail(why, cap, "element %zu: \"read\" must be true or false", i);
                goto out;
            }
            json_object_set_new(e, "read", json_boolean(json_is_true(rd)));
            json_object_del(doc, "read");
        }
        json_array_append_new(out, e);
    }
    p->value = json_incref(out);
    rc = 0;
out:
    json_decref(out);
    json_decref(seen);
    return rc;
}

/* LEDGER: signed rows, oldest first (the array's order, as the old helpers
 * appended). type "debit"/"spend" makes a positive amount a debit. */
static int map_ledger(const json_t *v, imp_plan *p, char *why, size_t cap) {
    static const char *const debit[] = {"debit", "spend", "spent", "withdrawal", NULL};
    static const char *const credit[] = {"credit", "add", "earn", "earned", "purchase", NULL};
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    int64_t sum = 0, low = 0, hi = 0;
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        int64_t a;
        char cp[DOM_ID_BUF];
        json_t *reason = NULL;
        if (!json_is_object(el)) goto bad_el;
        if (!amount_of(json_object_get(el, "amount"), 1, &a)) {
            fail(why, cap, "element %zu: amount must be a non-zero integer within 64 bits", i);
            goto bad;
        }
        const json_t *t = json_object_get(el, "type");
        if (t && !json_is_null(t)) {
            int is_debit = -1;
            for (const char *const *d = debit; *d && json_is_string(t); d++)
                if (strcmp(json_string_value(t), *d) == 0) is_debit = 1;
            for (const char *const *c = credit; *c && json_is_string(t); c++)
                if (strcmp(json_string_value(t), *c) == 0) is_debit = 0;
            if (is_debit < 0) {
                fail(why, cap, "element %zu: unknown type (credit, add, earn, purchase / debit, spend)", i);
                goto bad;
            }
            if (!is_debit && a < 0) {
                fail(why, cap, "element %zu: a credit with a negative amount", i);
                goto bad;
            }
            if (is_debit && a > 0) a = -a;
        }
        const json_t *r = member(el, K_REASON);
        if (!r || json_is_null(r)) reason = json_string("import");
        else if (!text_of(r, 1, REASON_MAX, &reason)) {
            fail(why, cap, "element %zu: reason must be text of 1 to %d bytes", i, REASON_MAX);
            goto bad;
        }
        const json_t *c = json_object_get(el, "counterparty");
        json_t *cpv = json_null();
        if (c && !json_is_null(c)) {
            if (!ref_id(c, cp) && !(json_is_string(c) && strcmp(json_string_value(c), "_system") == 0)) {
                json_decref(reason);
                fail(why, cap, "element %zu: bad id in counterparty", i);
                goto bad;
            }
            cpv = json_incref((json_t *)c);
            if (!json_is_string(cpv)) {
                json_decref(cpv);
                cpv = json_string(cp);
            }
        }
        if ((a > 0 && sum > INT64_MAX - a) || (a < 0 && sum < -INT64_MAX - a)) {
            json_decref(reason);
            json_decref(cpv);
            fail(why, cap, "element %zu: the running balance overflows 64 bits", i);
            goto bad;
        }
        sum += a;
        if (sum < low) low = sum;
        if (sum > hi) hi = sum;
        json_array_append_new(out, json_pack("{s:I, s:o, s:o}", "delta", (json_int_t)a, "reason", reason,
                                             "counterparty", cpv));
    }
    /* an opening row of -low comes first: the highest balance is hi - low */
    if (hi > INT64_MAX + low) {
        json_decref(out);
        return fail(why, cap, "the history's balance overflows 2^63-1");
    }
    p->value = out;
    p->amount = sum;
    p->low = low;
    return 0;
bad_el:
    fail(why, cap, "element %zu is not a JSON object", i);
bad:
    json_decref(out);
    return -1;
}

static int map_balance(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (json_is_real(v)) return fail(why, cap, "the balance is not an integer");
    if (!json_is_integer(v)) return fail(why, cap, "wrong shape: the balance must be a JSON integer");
    if (json_integer_value(v) < 0) return fail(why, cap, "negative balance %" JSON_INTEGER_FORMAT, json_integer_value(v));
    p->amount = (int64_t)json_integer_value(v);
    return 0;
}

static int map_donations(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array(), *seen = json_object();
    size_t i;
    json_t *el;
    int rc = -1;
    json_array_foreach(v, i, el) {
        char from[DOM_ID_BUF], id[DOM_ID_BUF];
        int64_t a;
        json_t *msg = NULL;
        if (!json_is_object(el)) {
            fail(why, cap, "element %zu is not a JSON object", i);
            goto out;
        }
        if (!ref_id(member(el, K_FROM), from)) {
            fail(why, cap, "element %zu: bad id in from", i);
            goto out;
        }
        if (strcmp(from, p->owner) == 0) {
            fail(why, cap, "element %zu: a donation to oneself", i);
            goto out;
        }
        if (!amount_of(json_object_get(el, "amount"), 0, &a)) {
            fail(why, cap, "element %zu: amount must be an integer 1..2^63-1", i);
            goto out;
        }
        const json_t *m = json_object_get(el, "message");
        if (m && !json_is_null(m) && !text_of(m, 0, DONATION_MESSAGE_MAX, &msg)) {
            fail(why, cap, "element %zu: message must be text of at most %d bytes", i, DONATION_MESSAGE_MAX);
            goto out;
        }
        int has_id = ref_id(json_object_get(el, "id"), id);
        if (has_id && unique_id(seen, id, i, why, cap) < 0) {
            json_decref(msg);
            goto out;
        }
        json_array_append_new(out, json_pack("{s:o, s:s, s:I, s:o}", "id", has_id ? json_string(id) : json_null(),
                                             "from", from, "amount", (json_int_t)a, "message",
                                             msg ? msg : json_null()));
    }
    p->value = json_incref(out);
    rc = 0;
out:
    json_decref(out);
    json_decref(seen);
    return rc;
}

static int map_payments(const json_t *v, imp_plan *p, long long max_doc, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char id[DOM_ID_BUF];
        int has_id;
        json_t *doc = doc_of(el, i, p->owner, max_doc, id, &has_id, why, cap);
        if (!doc) goto bad;
        if (has_id) json_object_set_new(doc, "legacy_id", json_string(id)); /* payments get new ids */
        const json_t *st = json_object_get(doc, "status");
        const char *s = json_is_string(st) ? json_string_value(st) : NULL;
        const char *to = NULL;
        if (!st || json_is_null(st) || (s && strcmp(s, "pending") == 0)) to = NULL;
        else if (s && (strcmp(s, "succeeded") == 0 || strcmp(s, "completed") == 0 || strcmp(s, "paid") == 0))
            to = "succeeded";
        else if (s && strcmp(s, "failed") == 0) to = "failed";
        else if (s && strcmp(s, "refunded") == 0) to = "refunded";
        else {
            json_decref(doc);
            fail(why, cap, "element %zu: unknown status (pending, succeeded/completed/paid, failed, refunded)", i);
            goto bad;
        }
        json_object_del(doc, "status");
        json_object_del(doc, "credited");
        json_array_append_new(out, json_pack("{s:o, s:o}", "doc", doc, "status", to ? json_string(to) : json_null()));
    }
    p->value = out;
    return 0;
bad:
    json_decref(out);
    return -1;
}

static int map_feed(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char id[DOM_ID_BUF], uid[DOM_ID_BUF];
        int has_uid = 0;
        if (json_is_object(el)) {
            if (!ref_id(json_object_get(el, "id"), id)) goto bad_id;
            const json_t *o = member(el, K_OWNER);
            if (o && !json_is_null(o)) {
                if (!ref_id(o, uid)) goto bad_id;
                has_uid = 1;
            }
        } else if (!ref_id(el, id)) {
            goto bad_id;
        }
        json_array_append_new(out, json_pack("{s:s, s:o}", "id", id, "uid", has_uid ? json_string(uid) : json_null()));
    }
    p->value = out;
    return 0;
bad_id:
    json_decref(out);
    return fail(why, cap, "element %zu: bad id (an id, or an object with \"id\" and \"user_id\")", i);
}

static int valid_field(const char *f, size_t n) {
    if (n < 1 || n > ANALYTICS_FIELD_MAX || !(f[0] >= 'a' && f[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '_')) return 0;
    return !(n == 4 && memcmp(f, "date", 4) == 0);
}

/* YYYY-MM-DD, a real calendar day, year 0001..9999 */
static int valid_date(const char *d, size_t n) {
    if (n != 10 || d[4] != '-' || d[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)d[i])) return 0;
    int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || day < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return day <= mdays[m - 1] + (m == 2 && leap);
}

static int map_analytics(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (need_object(v, why, cap) < 0) return -1;
    json_t *out = json_object();
    const char *f;
    json_t *n;
    json_object_foreach((json_t *)v, f, n) {
        size_t fl = strlen(f);
        if (fl == 4 && memcmp(f, "date", 4) == 0) {
            if (!json_is_string(n) || strcmp(json_string_value(n), p->date) != 0) {
                json_decref(out);
                return fail(why, cap, "\"date\" is not the key's day %s", p->date);
            }
            continue;
        }
        char sh[48];
        if (!valid_field(f, fl)) {
            json_decref(out);
            return fail(why, cap, "field '%s' ([a-z][a-z0-9_]{0,31})", shown(f, fl, sh));
        }
        if (!json_is_integer(n) || json_integer_value(n) < 0) {
            json_decref(out);
            return fail(why, cap, "field '%s': a count must be a non-negative integer", f);
        }
        if (json_integer_value(n) > 0) json_object_set(out, f, n);
    }
    p->value = out;
    return 0;
}

static int map_messages(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char from[DOM_ID_BUF], to[DOM_ID_BUF];
        json_t *text = NULL;
        if (!json_is_object(el)) {
            fail(why, cap, "element %zu is not a JSON object", i);
            goto bad;
        }
        if (!ref_id(member(el, K_FROM), from) || !ref_id(member(el, K_TO), to)) {
            fail(why, cap, "element %zu: bad id in from/to", i);
            goto bad;
        }
        if (strcmp(from, to) == 0) {
            fail(why, cap, "element %zu: a message to oneself", i);
            goto bad;
        }
        if (!text_of(member(el, K_TEXT), 1, MSG_TEXT_MAX, &text)) {
            fail(why, cap, "element %zu: text must be 1 to %d bytes", i, MSG_TEXT_MAX);
            goto bad;
        }
        const json_t *rd = json_object_get(el, "read");
        if (rd && !json_is_boolean(rd)) {
            json_decref(text);
            fail(why, cap, "element %zu: \"read\" must be true or false", i);
            goto bad;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:b}", "from", from, "to", to, "text", text, "read",
                                             json_is_true(rd)));
    }
    p->value = out;
    return 0;
bad:
    json_decref(out);
    return -1;
}

/* A list of ids (or objects naming one under one of names): [string] */
static int map_ids(const json_t *v, imp_plan *p, const char *const *names, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char id[DOM_ID_BUF];
        const json_t *x = json_is_object(el) ? member(el, names) : el;
        if (!ref_id(x, id)) {
            json_decref(out);
            return fail(why, cap, "element %zu: bad id", i);
        }
        json_array_append_new(out, json_string(id));
    }
    p->value = out;
    return 0;
}

static int map_email_subs(const json_t *v, imp_plan *p, char *why, size_t cap) {
    if (json_is_object(v)) v = json_object_get(v, "lists");
    if (!v) return fail(why, cap, "wrong shape: expected an array of list names (or {\"lists\": [...]})");
    if (need_array(v, why, cap) < 0) return -1;
    if (json_array_size(v) > EMAIL_LISTS_MAX) return fail(why, cap, "more than %d lists", EMAIL_LISTS_MAX);
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        if (!json_is_string(el) || !dom_valid_name(json_string_value(el), json_string_length(el), 1))
            return fail(why, cap, "element %zu: a list name is 1-64 bytes of UTF-8 without control characters or ':'",
                        i);
    }
    p->value = json_incref((json_t *)v);
    return 0;
}

static int map_email_log(const json_t *v, imp_plan *p, long long max_doc, char *why, size_t cap) {
    if (need_array(v, why, cap) < 0) return -1;
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char id[DOM_ID_BUF];
        int has_id;
        json_t *doc = doc_of(el, i, p->owner, max_doc, id, &has_id, why, cap);
        if (!doc) {
            json_decref(out);
            return -1;
        }
        if (has_id) json_object_set_new(doc, "legacy_id", json_string(id)); /* e-mail log entries get new ids */
        json_array_append_new(out, doc);
    }
    p->value = out;
    return 0;
}

static json_t *map_replies(const json_t *v, const char *what, char *why, size_t cap) {
    static const char *const K_AUTHOR[] = {"author", "user_id", "from", "sender_id", NULL};
    if (!json_is_array(v)) {
        fail(why, cap, "wrong shape: %s must be a JSON array", what);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        char author[DOM_ID_BUF];
        json_t *text = NULL;
        if (!json_is_object(el)) {
            fail(why, cap, "%s element %zu is not a JSON object", what, i);
            goto bad;
        }
        if (!ref_id(member(el, K_AUTHOR), author)) {
            fail(why, cap, "%s element %zu: bad id in author", what, i);
            goto bad;
        }
        if (!text_of(member(el, K_TEXT), 1, TICKET_TEXT_MAX, &text)) {
            fail(why, cap, "%s element %zu: text must be 1 to %d bytes", what, i, TICKET_TEXT_MAX);
            goto bad;
        }
        json_array_append_new(out, json_pack("{s:s, s:o}", "author", author, "text", text));
    }
    if (json_array_size(out) > TICKET_REPLIES_MAX) {
        fail(why, cap, "more than %d replies", TICKET_REPLIES_MAX);
        goto bad;
    }
    return out;
bad:
    json_decref(out);
    return NULL;
}

static int map_ticket(const json_t *v, imp_plan *p, long long max_doc, char *why, size_t cap) {
    if (need_object(v, why, cap) < 0) return -1;
    char uid[DOM_ID_BUF], id[DOM_ID_BUF];
    int has_id;
    if (!ref_id(member(v, K_OWNER), uid)) return fail(why, cap, "bad id in user_id (the ticket's owner)");
    const json_t *kid = json_object_get(v, "id");
    if (kid && !json_is_null(kid) && (!ref_id(kid, id) || strcmp(id, p->owner) != 0))
        return fail(why, cap, "\"id\" is not the key's ticket '%s'", p->owner);
    const json_t *st = json_object_get(v, "status");
    int closed = 0;
    if (st && !json_is_null(st)) {
        const char *s = json_is_string(st) ? json_string_value(st) : "";
        if (strcmp(s, "closed") == 0 || strcmp(s, "resolved") == 0) closed = 1;
        else if (strcmp(s, "open") != 0 && strcmp(s, "pending") != 0)
            return fail(why, cap, "unknown status (open, pending, closed, resolved)");
    }
    const json_t *sub = json_object_get(v, "subject");
    if (sub && !(json_is_string(sub) && dom_valid_text(json_string_value(sub), json_string_length(sub), 1,
                                                       TICKET_SUBJECT_MAX)))
        return fail(why, cap, "\"subject\" must be a string of 1 to %d bytes", TICKET_SUBJECT_MAX);
    json_t *replies = NULL, *m = json_object_get(v, "messages");
    if (m && !json_is_null(m) && !(replies = map_replies(m, "messages", why, cap))) return -1;
    json_t *doc = doc_of(v, 0, uid, max_doc, id, &has_id, why, cap);
    if (!doc) {
        json_decref(replies);
        return -1;
    }
    json_object_del(doc, "legacy_id");
    json_object_del(doc, "status");
    json_object_del(doc, "closed_at");
    json_object_del(doc, "messages");
    json_object_del(doc, "uid");
    p->value = json_pack("{s:s, s:o, s:b, s:o}", "uid", uid, "doc", doc, "closed", closed, "replies",
                         replies ? replies : json_array());
    return 0;
}

/* ---- the key ------------------------------------------------------------------- */

#define MAX_SEGS 4

/* Matches key segments against pattern text; fills the variables. */
static int match(const char *pat, const char *const *seg, const size_t *sl, int nseg, imp_plan *p, char *why,
                 size_t cap, int *bad) {
    int i = 0;
    const char *s = pat;
    *bad = 0;
    while (*s) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (i >= nseg) return 0;
        if (s[0] != '{' && (n != sl[i] || memcmp(s, seg[i], n) != 0)) return 0;
        s += n + (e ? 1 : 0);
        i++;
    }
    if (i != nseg) return 0;
    /* a match: the variables */
    s = pat;
    for (i = 0; i < nseg; i++) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char sh[48];
        if (s[0] == '{') {
            if (n == 6 && memcmp(s, "{date}", 6) == 0) {
                if (!valid_date(seg[i], sl[i])) {
                    *bad = 1;
                    return fail(why, cap, "bad date '%s' in the key (a calendar day YYYY-MM-DD)",
                                shown(seg[i], sl[i], sh));
                }
                memcpy(p->date, seg[i], 10);
                p->date[10] = 0;
            } else if (n == 7 && memcmp(s, "{email}", 7) == 0) {
                /* derived: nothing of it is used */
            } else {
                if (!dom_valid_id(seg[i], sl[i])) {
                    *bad = 1;
                    return fail(why, cap, "bad id '%s' in the key", shown(seg[i], sl[i], sh));
                }
                memcpy(p->owner, seg[i], sl[i]);
                p->owner[sl[i]] = 0;
            }
        }
        s += n + (e ? 1 : 0);
    }
    return 1;
}

/* Parses the value with the document rules (no duplicate members, no
 * \u0000, integers within 64 bits): wrapped in an object for
 * json_parse_doc, which takes objects only. */
static json_t *parse_value(const char *val, size_t vl, char *why, size_t cap) {
    static const char head[] = "{\"v\":";
    char err[256];
    /* first plainly, for the syntax error's own offset */
    json_t *plain = json_parse_any(val, vl, err, sizeof err);
    if (!plain) {
        fail(why, cap, "%s", err);
        return NULL;
    }
    json_decref(plain);
    char *w = malloc(vl + sizeof head + 1);
    if (!w) {
        fail(why, cap, "out of memory");
        return NULL;
    }
    memcpy(w, head, sizeof head - 1);
    memcpy(w + sizeof head - 1, val, vl);
    memcpy(w + sizeof head - 1 + vl, "}", 1);
    json_doc_limits lim = {vl + sizeof head, IMP_DEPTH + 3};
    json_t *o = json_parse_doc(w, vl + sizeof head, &lim, err, sizeof err);
    free(w);
    if (!o) {
        fail(why, cap, "invalid JSON: %s", err);
        return NULL;
    }
    json_t *v = json_incref(json_object_get(o, "v"));
    json_decref(o);
    if (!v) fail(why, cap, "invalid JSON: no value");
    return v;
}

int import_map(const char *key, size_t kl, const char *val, size_t vl, long long max_doc, imp_plan *out, char *why,
               size_t cap) {
    memset(out, 0, sizeof *out);
    const char *seg[MAX_SEGS];
    size_t sl[MAX_SEGS];
    int nseg = 0;
    char sh[48];
    for (size_t i = 0, start = 0; i <= kl; i++) {
        if (i < kl && key[i] != ':') continue;
        if (nseg == MAX_SEGS) return fail(why, cap, "unknown key pattern");
        seg[nseg] = key + start;
        sl[nseg++] = i - start;
        start = i + 1;
    }
    const imp_pattern *pat = NULL;
    for (size_t i = 0; i < NPATTERNS && !pat; i++) {
        int bad, r = match(patterns[i].pattern, seg, sl, nseg, out, why, cap, &bad);
        if (bad) return -1;
        if (r) pat = &patterns[i];
    }
    if (!pat) return fail(why, cap, "unknown key pattern '%s'", shown(key, kl, sh));
    out->pat = pat;
    json_t *v = parse_value(val, vl, why, cap);
    if (!v) return -1;
    if (json_is_string(v) && strcmp(pat->pattern, "users:email:{email}") != 0) {
        /* a double-encoded value: the JSON text inside the string */
        json_t *in = parse_value(json_string_value(v), json_string_length(v), why, cap);
        json_decref(v);
        if (!in) {
            char inner[256];
            snprintf(inner, sizeof inner, "%s", why);
            return fail(why, cap, "the string value holds %s", inner);
        }
        v = in;
    }
    int rc = 0;
    switch (pat->kind) {
    case IMP_DERIVED: {
        int ok = strstr(pat->pattern, "count") || strstr(pat->pattern, "total")
                     ? json_is_integer(v) && json_integer_value(v) >= 0
                 : strstr(pat->pattern, "details") || strstr(pat->pattern, "stats") ? json_is_object(v)
                 : strstr(pat->pattern, "{email}")                                  ? json_is_string(v)
                                                                                    : json_is_array(v);
        if (!ok) rc = fail(why, cap, "wrong shape for %s", pat->pattern);
        break;
    }
    case IMP_USER_BASE:
    case IMP_USER_SECTION:
    case IMP_SETTINGS:
        if ((rc = need_object(v, why, cap)) == 0) {
            char id[DOM_ID_BUF];
            int has_id;
            const json_t *uidv = json_object_get(v, "id");
            if (pat->kind == IMP_USER_BASE && uidv && !json_is_null(uidv) &&
                (!ref_id(uidv, id) || strcmp(id, out->owner) != 0)) {
                rc = fail(why, cap, "\"id\" is not the key's user '%s'", out->owner);
                break;
            }
            json_t *doc = doc_of(v, 0, out->owner, max_doc, id, &has_id, why, cap);
            if (!doc) rc = -1;
            else json_object_del(doc, "legacy_id");
            out->value = doc;
        }
        break;
    case IMP_LEDGER: rc = map_ledger(v, out, why, cap); break;
    case IMP_BALANCE: rc = map_balance(v, out, why, cap); break;
    case IMP_DONATIONS: rc = map_donations(v, out, why, cap); break;
    case IMP_PAYMENTS: rc = map_payments(v, out, max_doc, why, cap); break;
    case IMP_ENTITIES: rc = map_docs(v, out, 0, max_doc, why, cap); break;
    case IMP_NOTIFICATIONS: rc = map_docs(v, out, 1, max_doc, why, cap); break;
    case IMP_FEED: rc = map_feed(v, out, why, cap); break;
    case IMP_ANALYTICS: rc = map_analytics(v, out, why, cap); break;
    case IMP_MESSAGES: rc = map_messages(v, out, why, cap); break;
    case IMP_MSG_UNREAD: {
        static const char *const K_CONV[] = {"conv", "conversation_id", "id", NULL};
        rc = map_ids(v, out, K_CONV, why, cap);
        break;
    }
    case IMP_NOTIFY_UNREAD: {
        static const char *const K_ID[] = {"id", NULL};
        rc = map_ids(v, out, K_ID, why, cap);
        break;
    }
    case IMP_EMAIL_SUBS: rc = map_email_subs(v, out, why, cap); break;
    case IMP_EMAIL_LOG: rc = map_email_log(v, out, max_doc, why, cap); break;
    case IMP_TICKET: rc = map_ticket(v, out, max_doc, why, cap); break;
    case IMP_TICKET_REPLIES:
        if (json_is_object(v) && json_object_get(v, "messages")) {
            out->value = map_replies(json_object_get(v, "messages"), "messages", why, cap);
        } else {
            out->value = need_array(v, why, cap) < 0 ? NULL : map_replies(v, "messages", why, cap);
        }
        rc = out->value ? 0 : -1;
        break;
    }
    json_decref(v);
    if (rc < 0) {
        import_plan_free(out);
        return -1;
    }
    out->items = json_is_array(out->value) ? json_array_size(out->value) : 1;
    return 0;
}

void import_plan_free(imp_plan *p) {
    json_decref(p->value);
    p->value = NULL;
}
