/* stagekv-dump --sql DIR: the records of a consistent dump turned into
 * PostgreSQL COPY text files for docs/schema.sql, one per table
 * (DIR/<table>.copy), and DIR/load.sql that loads them in the schema's
 * order in one transaction (docs/schema.sql's header: the patterns, the
 * COPY column lists, the load order; tests/sql/70_load.sql is the model).
 *
 * Streaming: each record goes to its table's file as it arrives (key order
 * keeps each user's ledger rows in id order, and a user's base before its
 * profile, a ticket's details before its replies). Every document that the
 * schema would refuse (a CHECK, a domain, a NOT NULL, a missing parent in
 * the same key range) is reported with its key and why in DIR/report.txt
 * and on stderr, and left out of the files; the exit status is then 3.
 * Plain keys (outside the domain prefixes, or in databases 1-15) have no
 * table: their number is in the report. Derived tables are not written:
 * load.sql builds them after the COPYs with the row triggers off, one
 * statement each (sql_bulk.h).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "b64.h"
#include "sql.h"
#include "sql_bulk.h"
#include "tool.h"

static const char PROG[] = "stagekv-dump";

/* The tables written, in load order, with their COPY column lists. */
enum {
    T_USERS, T_PROFILES, T_SUBSCRIPTIONS, T_SETTINGS, T_DEDUP, T_LEDGER, T_TRACKS, T_VIDEOS, T_CONCERTS, T_NEWS,
    T_BANNERS, T_PROMO, T_PITCH, T_PAYMETHODS, T_TRACK_AN, T_CONCERT_AN, T_DONATIONS, T_PAYMENTS, T_NOTIFICATIONS,
    T_CONVERSATIONS, T_MESSAGES, T_EMAIL_SUBS, T_EMAIL_HISTORY, T_TICKETS, T_TICKET_MESSAGES, T_IDEMP, T_COUNT
};
#define DOC_COLS "(id, user_id, data, created_at, updated_at)"
static const struct {
    const char *name, *cols;
} TABLES[T_COUNT] = {
    [T_USERS] = {"users", "(id, email, name, role, data, created_at, updated_at)"},
    [T_PROFILES] = {"profiles", "(user_id, data, created_at, updated_at)"},
    [T_SUBSCRIPTIONS] = {"subscriptions", "(user_id, data, created_at, updated_at)"},
    [T_SETTINGS] = {"user_settings", "(user_id, section, data, created_at, updated_at)"},
    [T_DEDUP] = {"payment_dedup", "(provider, external_id, payment_id, created_at)"},
    [T_LEDGER] = {"coins_transactions", "(id, user_id, amount, balance_after, reason, counterparty, created_at)"},
    [T_TRACKS] = {"tracks", DOC_COLS},
    [T_VIDEOS] = {"videos", DOC_COLS},
    [T_CONCERTS] = {"concerts", DOC_COLS},
    [T_NEWS] = {"news", DOC_COLS},
    [T_BANNERS] = {"banner_ads", DOC_COLS},
    [T_PROMO] = {"promotion_campaigns", DOC_COLS},
    [T_PITCH] = {"pitching_submissions", DOC_COLS},
    [T_PAYMETHODS] = {"payment_methods", DOC_COLS},
    [T_TRACK_AN] = {"track_analytics", "(track_id, date, data)"},
    [T_CONCERT_AN] = {"concert_analytics", "(concert_id, date, data)"},
    [T_DONATIONS] = {"donations", "(id, user_id, from_user_id, amount, message, created_at)"},
    [T_PAYMENTS] = {"payment_transactions", DOC_COLS},
    [T_NOTIFICATIONS] = {"notifications", "(id, user_id, read, data, created_at)"},
    [T_CONVERSATIONS] = {"conversations", "(id, participant_a, participant_b, last_message_id, created_at, updated_at)"},
    [T_MESSAGES] = {"messages", "(id, conversation_id, sender_id, recipient_id, text, read, created_at)"},
    [T_EMAIL_SUBS] = {"email_subscriptions", "(user_id, list_name, created_at)"},
    [T_EMAIL_HISTORY] = {"email_history", DOC_COLS},
    [T_TICKETS] = {"tickets", "(id, user_id, status, data, created_at, updated_at, closed_at)"},
    [T_TICKET_MESSAGES] = {"ticket_messages", "(id, ticket_id, author, text, created_at)"},
    [T_IDEMP] = {"idempotency_keys", "(owner, idem_key, fingerprint, reply, result, created_at)"},
};

/* The entity namespaces: key prefix → table. */
static const struct {
    const char *prefix;
    int table;
} ENTITIES[] = {
    {"tracks", T_TRACKS},     {"videos", T_VIDEOS},      {"concerts", T_CONCERTS},      {"news", T_NEWS},
    {"banners", T_BANNERS},   {"promotion", T_PROMO},    {"pitching", T_PITCH},
};

typedef struct sqlx {
    FILE *f[T_COUNT];
    int64_t rows[T_COUNT];
    FILE *report;
    int64_t records, bytes, total, violations, plain, skipped_meta;
    uint64_t hwm;
    char base_uid[80];      /* the last users:{uid}:base written (profile and subscription need it) */
    char base_created[40];
    char ticket[80];        /* the last tickets:{t}:details written */
    char *row;              /* the row being built */
    size_t rl, rcap;
    progress pr;
} sqlx;

/* ---- rows in COPY text format -------------------------------------------------- */

static int row_grow(sqlx *x, size_t n) {
    if (x->rl + n <= x->rcap) return 0;
    size_t cap = x->rcap ? x->rcap : 4096;
    while (cap < x->rl + n) cap *= 2;
    char *r = realloc(x->row, cap);
    if (!r) return -1;
    x->row = r;
    x->rcap = cap;
    return 0;
}

static void row_start(sqlx *x) { x->rl = 0; }

/* A column: text escaped for COPY (NULL: \N). Columns are tab-separated. */
static int col(sqlx *x, const char *p, size_t n) {
    if (row_grow(x, 2 * n + 4) < 0) return -1;
    if (x->rl) x->row[x->rl++] = '\t';
    if (!p) {
        memcpy(x->row + x->rl, "\\N", 2);
        x->rl += 2;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = p[i], e = 0;
        switch (ch) {
        case '\\': e = '\\'; break;
        case '\t': e = 't'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        default: break;
        }
        if (e) {
            x->row[x->rl++] = '\\';
            x->row[x->rl++] = e;
        } else {
            x->row[x->rl++] = ch;
        }
    }
    return 0;
}
static int cols(sqlx *x, const char *s) { return col(x, s, s ? strlen(s) : 0); }
static int col_int(sqlx *x, long long v) {
    char b[24];
    return col(x, b, (size_t)snprintf(b, sizeof b, "%lld", v));
}
static int row_end(sqlx *x, int table) {
    if (!x->f[table]) return 0;
    if (row_grow(x, 1) < 0) return -1;
    x->row[x->rl++] = '\n';
    if (fwrite(x->row, 1, x->rl, x->f[table]) != x->rl) {
        fprintf(stderr, "%s: write %s.copy: %s\n", PROG, TABLES[table].name, strerror(errno));
        return -1;
    }
    x->rows[table]++;
    return 0;
}

/* ---- checks: what the schema would refuse ----------------------------------------- */

static int is_id(const char *s, size_t n) { /* sk_id */
    if (!s || n < 1 || n > 64 || s[0] == '_') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    return 1;
}
static int is_account(const char *s, size_t n) { return is_id(s, n) || (n == 7 && !memcmp(s, "_system", 7)); }
static int is_docid(const char *s, size_t n) { /* sk_docid */
    if (!s || n != 16) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}
static int is_sid(const char *s) { return s && is_id(s, strlen(s)); }
static int is_did(const char *s) { return s && is_docid(s, strlen(s)); }
/* ISO-8601 as stagekv writes it (timestamptz reads it). */
static int is_ts(const char *s) {
    return s && strlen(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[strlen(s) - 1] == 'Z';
}

static void violation(sqlx *x, const char *key, size_t kl, const char *table, const char *why) {
    x->violations++;
    fprintf(x->report, "%s: key '%.*s': %s\n", table, (int)kl, key, why);
    fprintf(stderr, "%s: --sql: %s: key '%.*s': %s\n", PROG, table, (int)kl, key, why);
}

static const char *str(const json_t *doc, const char *f) { return json_string_value(json_object_get(doc, f)); }

/* ---- one record ---------------------------------------------------------------------- */

/* The segments of a key split at ':' (at most max). */
static int split(const char *k, size_t kl, const char *seg[], size_t len[], int max) {
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= kl && n < max; i++)
        if (i == kl || (k[i] == ':' && n < max - 1)) {
            seg[n] = k + start;
            len[n++] = i - start;
            start = i + 1;
        }
    return n;
}
static int seg_is(const char *s, size_t n, const char *w) { return n == strlen(w) && !memcmp(s, w, n); }

/* An entity-like document: (id, user_id, data, created_at, updated_at). */
static int doc_row(sqlx *x, int t, const char *key, size_t kl, const char *uid, size_t ul, const char *id, size_t il,
                   json_t *doc, const char *raw, size_t rawl) {
    const char *ca = str(doc, "created_at"), *ua = str(doc, "updated_at");
    if (!is_id(uid, ul) || !is_docid(id, il)) {
        violation(x, key, kl, TABLES[t].name, "the id is not a 16-hex server id or the owner not a valid id");
        return 0;
    }
    if (!is_ts(ca)) {
        violation(x, key, kl, TABLES[t].name, "no created_at timestamp");
        return 0;
    }
    row_start(x);
    if (col(x, id, il) < 0 || col(x, uid, ul) < 0 || col(x, raw, rawl) < 0 || cols(x, ca) < 0 ||
        cols(x, is_ts(ua) ? ua : ca) < 0)
        return -1;
    return row_end(x, t);
}

static int kv_record(sqlx *x, const char *k, size_t kl, const char *v, size_t vl) {
    const char *seg[5];
    size_t len[5];
    int n = split(k, kl, seg, len, 5);
    json_t *doc = NULL;
    int rc = 0;
    const char *p0 = seg[0];
    size_t l0 = len[0];
#define DOC()                                                                                                       \
    do {                                                                                                            \
        doc = json_loadb(v, vl, 0, NULL);                                                                           \
        if (!json_is_object(doc)) {                                                                                 \
            violation(x, k, kl, "(document)", "not a JSON object");                                                 \
            goto out;                                                                                               \
        }                                                                                                           \
    } while (0)
    if (n >= 3 && seg_is(p0, l0, "users")) {
        DOC();
        char uid[80];
        snprintf(uid, sizeof uid, "%.*s", (int)len[1], seg[1]);
        const char *ca = str(doc, "created_at"), *ua = str(doc, "updated_at");
        if (n == 3 && seg_is(seg[2], len[2], "base")) {
            const char *email = str(doc, "email"), *role = str(doc, "role"), *name = str(doc, "name");
            if (!is_sid(uid) || !email || !strchr(email, '@') || strlen(email) > 254 || !role ||
                (strcmp(role, "artist") && strcmp(role, "fan") && strcmp(role, "admin")) || !is_ts(ca)) {
                violation(x, k, kl, "users", "needs a valid id, an e-mail with @, role artist|fan|admin, created_at");
                goto out;
            }
            row_start(x);
            if (cols(x, uid) < 0 || cols(x, email) < 0 || cols(x, name) < 0 || cols(x, role) < 0 ||
                col(x, v, vl) < 0 || cols(x, ca) < 0 || cols(x, is_ts(ua) ? ua : ca) < 0 || row_end(x, T_USERS) < 0)
                rc = -1;
            snprintf(x->base_uid, sizeof x->base_uid, "%s", uid);
            snprintf(x->base_created, sizeof x->base_created, "%s", ca);
            goto out;
        }
        int t = n == 3 && seg_is(seg[2], len[2], "profile") ? T_PROFILES
                : n == 3 && seg_is(seg[2], len[2], "subscription") ? T_SUBSCRIPTIONS : -1;
        if (t < 0) {
            violation(x, k, kl, "users", "not a user section (base, profile, subscription)");
            goto out;
        }
        if (strcmp(x->base_uid, uid) != 0) {
            violation(x, k, kl, TABLES[t].name, "the user has no base document (users row)");
            goto out;
        }
        const char *when = is_ts(ua) ? ua : is_ts(ca) ? ca : x->base_created;
        row_start(x);
        if (cols(x, uid) < 0 || col(x, v, vl) < 0 || cols(x, is_ts(ca) ? ca : when) < 0 || cols(x, when) < 0 ||
            row_end(x, t) < 0)
            rc = -1;
        goto out;
    }
    if (n == 3 && seg_is(p0, l0, "settings")) {
        DOC();
        static const char *const sections[] = {"profile", "security", "notifications", "privacy", "payment_methods", NULL};
        int ok = 0;
        for (const char *const *s = sections; *s; s++) ok |= seg_is(seg[2], len[2], *s);
        const char *ua = str(doc, "updated_at"), *ca = str(doc, "created_at");
        const char *when = is_ts(ua) ? ua : is_ts(ca) ? ca : NULL;
        if (!ok || !is_id(seg[1], len[1]) || !when) {
            violation(x, k, kl, "user_settings", "needs a known section, a valid uid and updated_at");
            goto out;
        }
        row_start(x);
        if (col(x, seg[1], len[1]) < 0 || col(x, seg[2], len[2]) < 0 || col(x, v, vl) < 0 ||
            cols(x, is_ts(ca) ? ca : when) < 0 || cols(x, when) < 0 || row_end(x, T_SETTINGS) < 0)
            rc = -1;
        goto out;
    }
    if (seg_is(p0, l0, "coins")) {
        if (n == 3 && seg_is(seg[2], len[2], "balance")) goto out; /* derived: the ledger trigger keeps it */
        if (n != 4 || !seg_is(seg[2], len[2], "transactions")) {
            violation(x, k, kl, "coins_transactions", "not a ledger key");
            goto out;
        }
        DOC();
        const json_t *a = json_object_get(doc, "amount"), *b = json_object_get(doc, "balance_after");
        const char *reason = str(doc, "reason"), *cp = str(doc, "counterparty"), *ca = str(doc, "created_at");
        if (!is_account(seg[1], len[1]) || !is_docid(seg[3], len[3]) || !json_is_integer(a) ||
            json_integer_value(a) == 0 || !json_is_integer(b) || json_integer_value(b) < 0 || !reason ||
            strlen(reason) < 1 || strlen(reason) > 1024 || (cp && !is_account(cp, strlen(cp))) ||
            (cp && strlen(cp) == len[1] && !memcmp(cp, seg[1], len[1])) || !is_ts(ca)) {
            violation(x, k, kl, "coins_transactions",
                      "needs amount != 0, balance_after >= 0, a reason of 1-1024 bytes, a valid counterparty, created_at");
            goto out;
        }
        row_start(x);
        if (col(x, seg[3], len[3]) < 0 || col(x, seg[1], len[1]) < 0 || col_int(x, json_integer_value(a)) < 0 ||
            col_int(x, json_integer_value(b)) < 0 || cols(x, reason) < 0 || cols(x, cp) < 0 || cols(x, ca) < 0 ||
            row_end(x, T_LEDGER) < 0)
            rc = -1;
        goto out;
    }
    for (size_t i = 0; i < sizeof ENTITIES / sizeof ENTITIES[0]; i++)
        if (seg_is(p0, l0, ENTITIES[i].prefix)) {
            if (n != 3) {
                violation(x, k, kl, TABLES[ENTITIES[i].table].name, "not a document key");
                goto out;
            }
            DOC();
            rc = doc_row(x, ENTITIES[i].table, k, kl, seg[1], len[1], seg[2], len[2], doc, v, vl);
            goto out;
        }
    if (seg_is(p0, l0, "payments")) {
        int t = n == 4 && seg_is(seg[2], len[2], "method") ? T_PAYMETHODS
                : n == 4 && seg_is(seg[2], len[2], "transactions") ? T_PAYMENTS : -1;
        if (t < 0) {
            violation(x, k, kl, "payment_transactions", "not a payment key");
            goto out;
        }
        DOC();
        const json_t *pv = json_object_get(doc, "provider"), *xv = json_object_get(doc, "external_id");
        if (t == T_PAYMENTS && pv && xv &&
            (!json_is_string(pv) || !json_is_string(xv) || json_string_length(pv) < 1 || json_string_length(pv) > 64 ||
             json_string_length(xv) < 1 || json_string_length(xv) > 255)) {
            violation(x, k, kl, "payment_transactions", "provider/external_id are not strings of 1-64/1-255 bytes");
            goto out;
        }
        rc = doc_row(x, t, k, kl, seg[1], len[1], seg[3], len[3], doc, v, vl);
        goto out;
    }
    if (seg_is(p0, l0, "donations")) {
        DOC();
        const char *from = str(doc, "from"), *msg = str(doc, "message"), *ca = str(doc, "created_at");
        const json_t *a = json_object_get(doc, "amount");
        if (n != 3 || !is_id(seg[1], len[1]) || !is_docid(seg[2], len[2]) || !is_sid(from) || !json_is_integer(a) ||
            json_integer_value(a) <= 0 || (strlen(from) == len[1] && !memcmp(from, seg[1], len[1])) ||
            (msg && strlen(msg) > 4096) || !is_ts(ca)) {
            violation(x, k, kl, "donations", "needs a valid donor (not the artist), amount > 0, message <= 4096 bytes");
            goto out;
        }
        row_start(x);
        if (col(x, seg[2], len[2]) < 0 || col(x, seg[1], len[1]) < 0 || cols(x, from) < 0 ||
            col_int(x, json_integer_value(a)) < 0 || cols(x, msg) < 0 || cols(x, ca) < 0 || row_end(x, T_DONATIONS) < 0)
            rc = -1;
        goto out;
    }
    if (seg_is(p0, l0, "notifications")) {
        DOC();
        const char *ca = str(doc, "created_at");
        if (n != 3 || !is_id(seg[1], len[1]) || !is_docid(seg[2], len[2]) || !is_ts(ca)) {
            violation(x, k, kl, "notifications", "needs a server id and created_at");
            goto out;
        }
        row_start(x);
        if (col(x, seg[2], len[2]) < 0 || col(x, seg[1], len[1]) < 0 ||
            cols(x, json_is_true(json_object_get(doc, "read")) ? "t" : "f") < 0 || col(x, v, vl) < 0 ||
            cols(x, ca) < 0 || row_end(x, T_NOTIFICATIONS) < 0)
            rc = -1;
        goto out;
    }
    if (seg_is(p0, l0, "conversations")) {
        DOC();
        const json_t *ps = json_object_get(doc, "participants");
        const char *a = json_string_value(json_array_get(ps, 0)), *b = json_string_value(json_array_get(ps, 1));
        const char *last = str(json_object_get(doc, "last_message"), "id"), *ca = str(doc, "created_at"),
                   *ua = str(doc, "updated_at");
        if (n != 3 || !seg_is(seg[2], len[2], "details") || !is_id(seg[1], len[1]) || !is_sid(a) || !is_sid(b) ||
            !strcmp(a, b) || (last && !is_did(last)) || !is_ts(ca)) {
            violation(x, k, kl, "conversations", "needs two different valid participants and created_at");
            goto out;
        }
        row_start(x);
        if (col(x, seg[1], len[1]) < 0 || cols(x, a) < 0 || cols(x, b) < 0 || cols(x, last) < 0 || cols(x, ca) < 0 ||
            cols(x, is_ts(ua) ? ua : ca) < 0 || row_end(x, T_CONVERSATIONS) < 0)
            rc = -1;
        goto out;
    }
    if (seg_is(p0, l0, "messages")) {
        DOC();
        const char *from = str(doc, "from"), *to = str(doc, "to"), *text = str(doc, "text"), *ca = str(doc, "created_at");
        if (n != 3 || !is_id(seg[1], len[1]) || !is_docid(seg[2], len[2]) || !is_sid(from) || !is_sid(to) ||
            !strcmp(from, to) || !text || strlen(text) < 1 || strlen(text) > 65536 || !is_ts(ca)) {
            violation(x, k, kl, "messages", "needs valid, different sender and recipient, a text of 1-65536 bytes");
            goto out;
        }
        row_start(x);
        if (col(x, seg[2], len[2]) < 0 || col(x, seg[1], len[1]) < 0 || cols(x, from) < 0 || cols(x, to) < 0 ||
            cols(x, text) < 0 || cols(x, json_is_true(json_object_get(doc, "read")) ? "t" : "f") < 0 ||
            cols(x, ca) < 0 || row_end(x, T_MESSAGES) < 0)
            rc = -1;
        goto out;
    }
    if (seg_is(p0, l0, "email")) {
        DOC();
        if (n == 3 && seg_is(seg[2], len[2], "subscriptions")) {
            const char *ua = str(doc, "updated_at");
            const json_t *lists = json_object_get(doc, "lists");
            if (!is_id(seg[1], len[1]) || !json_is_array(lists) || !is_ts(ua)) {
                violation(x, k, kl, "email_subscriptions", "needs a lists array and updated_at");
                goto out;
            }
            for (size_t i = 0; i < json_array_size(lists); i++) {
                const char *name = json_string_value(json_array_get(lists, i));
                if (!is_sid(name)) { /* sk_id: UTF-8 list names have no column yet */
                    char why[160];
                    snprintf(why, sizeof why, "list name '%.64s' is not an sk_id ([A-Za-z0-9_.-])", name ? name : "?");
                    violation(x, k, kl, "email_subscriptions", why);
                    continue;
                }
                row_start(x);
                if (col(x, seg[1], len[1]) < 0 || cols(x, name) < 0 || cols(x, ua) < 0 || row_end(x, T_EMAIL_SUBS) < 0) {
                    rc = -1;
                    goto out;
                }
            }
            goto out;
        }
        if (n == 4 && seg_is(seg[2], len[2], "history")) {
            rc = doc_row(x, T_EMAIL_HISTORY, k, kl, seg[1], len[1], seg[3], len[3], doc, v, vl);
            goto out;
        }
        violation(x, k, kl, "email_history", "not an e-mail key");
        goto out;
    }
    if (seg_is(p0, l0, "tickets")) {
        DOC();
        if (n == 3 && seg_is(seg[2], len[2], "details")) {
            const char *uid = str(doc, "user_id"), *st = str(doc, "status"), *ca = str(doc, "created_at"),
                       *ua = str(doc, "updated_at"), *cl = str(doc, "closed_at");
            const json_t *subj = json_object_get(doc, "subject");
            int closed = st && !strcmp(st, "closed");
            x->ticket[0] = 0;
            if (!is_docid(seg[1], len[1]) || !is_sid(uid) || !st || (strcmp(st, "open") && !closed) || !is_ts(ca) ||
                !json_is_string(subj) || json_string_length(subj) < 1 || json_string_length(subj) > 256 ||
                (closed && !is_ts(cl))) {
                violation(x, k, kl, "tickets",
                          "needs a server id, user_id, status open|closed (closed_at when closed), a subject of 1-256 bytes");
                goto out;
            }
            row_start(x);
            if (col(x, seg[1], len[1]) < 0 || cols(x, uid) < 0 || cols(x, st) < 0 || col(x, v, vl) < 0 ||
                cols(x, ca) < 0 || cols(x, is_ts(ua) ? ua : ca) < 0 || cols(x, closed ? cl : NULL) < 0 ||
                row_end(x, T_TICKETS) < 0)
                rc = -1;
            snprintf(x->ticket, sizeof x->ticket, "%.*s", (int)len[1], seg[1]);
            goto out;
        }
        if (n == 4 && seg_is(seg[2], len[2], "messages")) {
            const char *au = str(doc, "author"), *text = str(doc, "text"), *ca = str(doc, "created_at");
            if (strlen(x->ticket) != len[1] || memcmp(x->ticket, seg[1], len[1]) != 0) {
                violation(x, k, kl, "ticket_messages", "the ticket has no (valid) details");
                goto out;
            }
            if (!is_docid(seg[3], len[3]) || !is_sid(au) || !text || strlen(text) < 1 || strlen(text) > 16384 ||
                !is_ts(ca)) {
                violation(x, k, kl, "ticket_messages", "needs a server id, a valid author, a text of 1-16384 bytes");
                goto out;
            }
            row_start(x);
            if (col(x, seg[3], len[3]) < 0 || col(x, seg[1], len[1]) < 0 || cols(x, au) < 0 || cols(x, text) < 0 ||
                cols(x, ca) < 0 || row_end(x, T_TICKET_MESSAGES) < 0)
                rc = -1;
            goto out;
        }
        violation(x, k, kl, "tickets", "not a ticket key");
        goto out;
    }
    if (seg_is(p0, l0, "analytics")) {
        int t = n == 4 && seg_is(seg[1], len[1], "tracks") ? T_TRACK_AN
                : n == 4 && seg_is(seg[1], len[1], "concerts") ? T_CONCERT_AN : -1;
        DOC();
        int ok = t >= 0 && is_docid(seg[2], len[2]) && len[3] == 10;
        const char *kk;
        json_t *vv;
        json_object_foreach(doc, kk, vv) {
            if (!strcmp(kk, "date")) continue;
            if (!json_is_integer(vv) || json_integer_value(vv) < 0 || strlen(kk) > 32) ok = 0;
        }
        if (!ok) {
            violation(x, k, kl, t == T_CONCERT_AN ? "concert_analytics" : "track_analytics",
                      "needs a server id, a date and non-negative integer counters");
            goto out;
        }
        row_start(x);
        if (col(x, seg[2], len[2]) < 0 || col(x, seg[3], len[3]) < 0 || col(x, v, vl) < 0 || row_end(x, t) < 0)
            rc = -1;
        goto out;
    }
    x->plain++; /* a plain key: no table */
out:
#undef DOC
    json_decref(doc);
    return rc;
}

static char hexd(unsigned v) { return "0123456789abcdef"[v & 15]; }

/* ISO-8601 UTC with milliseconds, as stagekv writes times. */
static void iso_ms(char out[40], uint64_t ms) {
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char day[32];
    gmtime_r(&sec, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.24s.%03uZ", day, (unsigned)(ms % 1000));
}

static int meta_record(sqlx *x, const char *k, size_t kl, const char *v, size_t vl) {
    if (kl == 3 && !memcmp(k, "hwm", 3) && vl == 8) {
        uint64_t h = 0;
        for (int i = 0; i < 8; i++) h = h << 8 | (unsigned char)v[i];
        x->hwm = h;
        return 0;
    }
    char ts[40];
    if (kl > 9 && !memcmp(k, "paydedup:", 9)) {
        const char *prov = k + 9, *nul = memchr(prov, 0, kl - 9);
        if (!nul || !is_docid(v, vl)) {
            violation(x, k, kl, "payment_dedup", "malformed dedup record");
            return 0;
        }
        char idb[17];
        memcpy(idb, v, 16);
        idb[16] = 0;
        uint64_t id = strtoull(idb, NULL, 16) >> 16; /* the payment id's ms */
        iso_ms(ts, id);
        size_t pl = (size_t)(nul - prov), xl = kl - 9 - pl - 1;
        if (pl < 1 || pl > 64 || xl < 1 || xl > 255) {
            violation(x, k, kl, "payment_dedup", "provider/external_id out of 1-64/1-255 bytes");
            return 0;
        }
        row_start(x);
        if (col(x, prov, pl) < 0 || col(x, nul + 1, xl) < 0 || col(x, v, vl) < 0 || cols(x, ts) < 0)
            return -1;
        return row_end(x, T_DEDUP);
    }
    if (kl > 6 && !memcmp(k, "idemp:", 6)) {
        const char *owner = k + 6, *colon = memchr(owner, ':', kl - 6);
        if (!colon || vl < 24 || !is_account(owner, (size_t)(colon - owner))) {
            violation(x, k, kl, "idempotency_keys", "malformed IDEMP record");
            return 0;
        }
        size_t ol = (size_t)(colon - owner), il = kl - 6 - ol - 1;
        uint64_t ms = 0;
        for (int i = 0; i < 8; i++) ms = ms << 8 | (unsigned char)v[i];
        iso_ms(ts, ms);
        char fp[33], *reply = malloc(2 * (vl - 24) + 3);
        if (!reply) return -1;
        for (int i = 0; i < 16; i++) {
            fp[2 * i] = hexd((unsigned char)v[8 + i] >> 4);
            fp[2 * i + 1] = hexd((unsigned char)v[8 + i]);
        }
        fp[32] = 0;
        size_t r = 0;
        reply[r++] = '\\';
        reply[r++] = 'x';
        for (size_t i = 24; i < vl; i++) {
            reply[r++] = hexd((unsigned char)v[i] >> 4);
            reply[r++] = hexd((unsigned char)v[i]);
        }
        row_start(x);
        int rc = 0;
        if (il < 1 || il > 200) violation(x, k, kl, "idempotency_keys", "key of 1-200 bytes");
        else if (col(x, owner, ol) < 0 || col(x, colon + 1, il) < 0 || cols(x, fp) < 0 || col(x, reply, r) < 0 ||
                 col(x, NULL, 0) < 0 || cols(x, ts) < 0 || row_end(x, T_IDEMP) < 0)
            rc = -1;
        free(reply);
        return rc;
    }
    x->skipped_meta++; /* idempt: the reclaim order (an index in SQL) */
    return 0;
}

/* ---- the page callback --------------------------------------------------------------- */

/* A field of a record as bytes (k/k64, v/v64): malloc()ed. */
static char *field(const json_t *rec, const char *name, size_t *n) {
    char n64[8];
    snprintf(n64, sizeof n64, "%s64", name);
    const json_t *t = json_object_get(rec, name), *b = json_object_get(rec, n64);
    if (json_is_string(t)) {
        *n = json_string_length(t);
        char *o = malloc(*n + 1);
        if (o) memcpy(o, json_string_value(t), *n + 1);
        return o;
    }
    return json_is_string(b) ? b64_decode_alloc(json_string_value(b), json_string_length(b), n) : NULL;
}

/* ---- the record line without a JSON parser ------------------------------------------ */

/* The server writes every record line in one shape (server/domain/dump.h):
 *   {"t":"kv","db":N,"k"|"k64":"...","v"|"v64":"..."[,"exp":N],"c":"xxxxxxxx"}
 *   {"t":"meta","k"|"k64":"...","v"|"v64":"...","c":"xxxxxxxx"}
 * with only ", \ and control characters escaped in the strings. fast_rec
 * reads exactly that shape into x's buffers; anything else (another escape,
 * another order) returns 1 and the line goes through jansson, so the fast
 * path changes no result, only the time (each record otherwise cost two
 * JSON parses: the line, then the document). */
typedef struct {
    char *b;
    size_t len, cap;
} fbuf;

static int fb_room(fbuf *f, size_t n) {
    if (n <= f->cap) return 0;
    size_t cap = f->cap ? f->cap : 4096;
    while (cap < n) cap *= 2;
    char *b = realloc(f->b, cap);
    if (!b) return -1;
    f->b = b;
    f->cap = cap;
    return 0;
}

static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A JSON string at *pp (after its opening quote) into f; *pp past the
 * closing quote. 0, 1 not the server's shape, -1 out of memory. */
static int fast_str(const char **pp, const char *end, fbuf *f) {
    const char *p = *pp;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q) return 1;
    if (fb_room(f, (size_t)(q - p) + 1) < 0) return -1; /* escapes only shrink */
    size_t w = 0;
    while (p < end && *p != '"') {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        const char *qq = memchr(p, '"', (size_t)(end - p));
        if (!qq) return 1;
        if (!bs || bs > qq) { /* the rest up to the quote is plain */
            if (fb_room(f, w + (size_t)(qq - p) + 1) < 0) return -1;
            memcpy(f->b + w, p, (size_t)(qq - p));
            w += (size_t)(qq - p);
            p = qq;
            break;
        }
        if (fb_room(f, w + (size_t)(bs - p) + 2) < 0) return -1;
        memcpy(f->b + w, p, (size_t)(bs - p));
        w += (size_t)(bs - p);
        p = bs + 1;
        if (p >= end) return 1;
        char c = *p++;
        switch (c) {
        case '"': case '\\': case '/': f->b[w++] = c; break;
        case 'b': f->b[w++] = '\b'; break;
        case 'f': f->b[w++] = '\f'; break;
        case 'n': f->b[w++] = '\n'; break;
        case 'r': f->b[w++] = '\r'; break;
        case 't': f->b[w++] = '\t'; break;
        case 'u': {
            if (end - p < 4) return 1;
            int h0 = hexv(p[0]), h1 = hexv(p[1]), h2 = hexv(p[2]), h3 = hexv(p[3]);
            if (h0 != 0 || h1 != 0 || h2 < 0 || h3 < 0 || h2 > 7) return 1; /* only U+0000-U+007F here */
            f->b[w++] = (char)(h2 << 4 | h3);
            p += 4;
            break;
        }
        default: return 1;
        }
    }
    if (p >= end) return 1;
    f->b[w] = 0;
    f->len = w;
    *pp = p + 1;
    return 0;
}

static int lit(const char **pp, const char *end, const char *s) {
    size_t n = strlen(s);
    if ((size_t)(end - *pp) < n || memcmp(*pp, s, n) != 0) return 0;
    *pp += n;
    return 1;
}

/* A field "name":"..." or "name64":"..." (base64) into f. */
static int fast_field(const char **pp, const char *end, const char *name, fbuf *f) {
    char t[16], t64[16];
    snprintf(t, sizeof t, "\"%s\":\"", name);
    snprintf(t64, sizeof t64, "\"%s64\":\"", name);
    if (lit(pp, end, t)) return fast_str(pp, end, f);
    if (!lit(pp, end, t64)) return 1;
    const char *q = memchr(*pp, '"', (size_t)(end - *pp));
    if (!q) return 1;
    size_t n;
    char *d = b64_decode_alloc(*pp, (size_t)(q - *pp), &n);
    if (!d) return 1;
    int rc = fb_room(f, n + 1);
    if (rc == 0) {
        memcpy(f->b, d, n);
        f->b[n] = 0;
        f->len = n;
    }
    free(d);
    *pp = q + 1;
    return rc;
}

/* One line: 0 with *meta, *db and k, v filled; 1 not the server's shape; -1. */
static int fast_rec(const char *p, const char *end, int *meta, long *db, fbuf *k, fbuf *v) {
    int rc;
    *db = 0;
    if (lit(&p, end, "{\"t\":\"meta\",")) {
        *meta = 1;
    } else if (lit(&p, end, "{\"t\":\"kv\",\"db\":")) {
        *meta = 0;
        if (p >= end || *p < '0' || *p > '9') return 1;
        while (p < end && *p >= '0' && *p <= '9' && *db < 1000) *db = *db * 10 + (*p++ - '0');
        if (!lit(&p, end, ",")) return 1;
    } else {
        return 1;
    }
    if ((rc = fast_field(&p, end, "k", k)) != 0) return rc;
    if (!lit(&p, end, ",")) return 1;
    if ((rc = fast_field(&p, end, "v", v)) != 0) return rc;
    if (lit(&p, end, ",\"exp\":"))
        while (p < end && *p >= '0' && *p <= '9') p++;
    return lit(&p, end, ",\"c\":\"") && end - p == 10 && p[8] == '"' && p[9] == '}' ? 0 : 1;
}

static int sql_page(const char *p, size_t n, int64_t lines, void *arg) {
    sqlx *x = arg;
    const char *end = p + n;
    fbuf fk = {0}, fv = {0};
    int rc = 0;
    (void)lines;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        int meta = 0;
        long db = 0;
        int fr = fast_rec(p, nl, &meta, &db, &fk, &fv);
        if (fr < 0) {
            rc = -1;
            break;
        }
        if (fr == 0) {
            rc = meta ? meta_record(x, fk.b, fk.len, fv.b, fv.len)
                 : db != 0 ? (x->plain++, 0)
                           : kv_record(x, fk.b, fk.len, fv.b, fv.len);
        } else { /* any other shape: the JSON parser */
            json_t *rec = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, NULL);
            size_t kl = 0, vl = 0;
            char *k = field(rec, "k", &kl), *v = field(rec, "v", &vl);
            const char *t = json_string_value(json_object_get(rec, "t"));
            if (!k || !v || !t) {
                fprintf(stderr, "%s: --sql: a record the server sent is malformed\n", PROG);
                rc = -1;
            } else if (!strcmp(t, "meta")) {
                rc = meta_record(x, k, kl, v, vl);
            } else if (json_integer_value(json_object_get(rec, "db")) != 0) {
                x->plain++;
            } else {
                rc = kv_record(x, k, kl, v, vl);
            }
            free(k);
            free(v);
            json_decref(rec);
        }
        if (rc < 0) break;
        x->records++;
        x->bytes += nl - p + 1;
        p = nl + 1;
    }
    free(fk.b);
    free(fv.b);
    if (rc < 0) return -1;
    progress_show(&x->pr, x->records, x->bytes, x->records, x->total, 0);
    return 0;
}

/* ---- the files ----------------------------------------------------------------------- */

static int write_load_sql(sqlx *x, const char *dir) {
    char path[PATH_MAX + 32], abs[PATH_MAX];
    if (!realpath(dir, abs)) return -1;
    snprintf(path, sizeof path, "%s/load.sql", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "-- Written by stagekv-dump --sql: loads the COPY files of this directory\n"
               "-- into a database that holds docs/schema.sql, in its load order, in one\n"
               "-- transaction, as a superuser (as docs/schema.sql). The bulk path: the\n"
               "-- row triggers are off during the COPYs; the statements after them write\n"
               "-- the derived tables and check what the triggers would have refused\n"
               "-- (docs/migration.md); the triggers are on again for every later write.\n"
               "--     psql -v ON_ERROR_STOP=1 -f docs/schema.sql && psql -v ON_ERROR_STOP=1 -f %s/load.sql\n"
               "\\set ON_ERROR_STOP on\n"
               "BEGIN;\n"
               "-- a ticket reply in the millisecond of its close is history, not a late reply\n"
               "SET LOCAL stagekv.loading = on;\n"
               "SET LOCAL session_replication_role = replica;\n"
               "UPDATE id_high_water SET last_id = greatest(last_id, %lld);\n",
            abs, (long long)x->hwm);
    for (int t = 0; t < T_COUNT; t++) {
        /* a path with a quote would break the \copy line: refused at the start */
        fprintf(f, "\\copy %s %s FROM '%s/%s.copy'\n", TABLES[t].name, TABLES[t].cols, abs, TABLES[t].name);
    }
    for (const char *const *step = SQL_BULK_STEPS; *step; step++) fputs(*step, f);
    fprintf(f, "SELECT verify_all_coins() AS ledgers_verified;\n"
               "COMMIT;\n");
    return fclose(f) == 0 ? 0 : -1;
}

int sql_export(redisContext *c, const char *dir, const char *prefix) {
    sqlx x = {0};
    int rc = 1;
    char path[PATH_MAX + 64];
    if (strchr(dir, '\'')) {
        fprintf(stderr, "%s: --sql: a directory name with a quote is not supported\n", PROG);
        return 1;
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "%s: --sql: %s: %s\n", PROG, dir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/report.txt", dir);
    if (!(x.report = fopen(path, "w"))) {
        fprintf(stderr, "%s: --sql: %s: %s\n", PROG, path, strerror(errno));
        return 1;
    }
    for (int t = 0; t < T_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s.copy", dir, TABLES[t].name);
        if (!(x.f[t] = fopen(path, "w"))) {
            fprintf(stderr, "%s: --sql: %s: %s\n", PROG, path, strerror(errno));
            goto out;
        }
    }
    progress_init(&x.pr, "sql");
    if (dump_pages(c, prefix, 5000, sql_page, &x, &x.total) < 0) goto out;
    progress_end(&x.pr, x.records, x.bytes);
    for (int t = 0; t < T_COUNT; t++) {
        int bad = fclose(x.f[t]) != 0;
        x.f[t] = NULL;
        if (bad) {
            fprintf(stderr, "%s: --sql: writing %s.copy failed\n", PROG, TABLES[t].name);
            goto out;
        }
    }
    if (write_load_sql(&x, dir) < 0) {
        fprintf(stderr, "%s: --sql: writing load.sql: %s\n", PROG, strerror(errno));
        goto out;
    }
    fprintf(x.report, "-- %lld records read\n", (long long)x.records);
    for (int t = 0; t < T_COUNT; t++) fprintf(x.report, "-- rows %s %lld\n", TABLES[t].name, (long long)x.rows[t]);
    fprintf(x.report, "-- not migrated: %lld plain keys (no table), %lld reclaim entries (an index in SQL)\n",
            (long long)x.plain, (long long)x.skipped_meta);
    fprintf(x.report, "-- %lld documents violate the schema (listed above, not in the COPY files)\n",
            (long long)x.violations);
    rc = x.violations ? 3 : 0;
    if (x.violations)
        fprintf(stderr, "%s: --sql: %lld documents violate the schema: see %s/report.txt\n", PROG,
                (long long)x.violations, dir);
out:
    for (int t = 0; t < T_COUNT; t++)
        if (x.f[t]) fclose(x.f[t]);
    if (x.report) fclose(x.report);
    free(x.row);
    return rc;
}
