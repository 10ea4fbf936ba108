/* USER.* (SPEC §4.2 without USER.DELETE): a user is three JSON documents
 * and one entry of a unique e-mail index.
 *
 * Keys:
 *   data CF  users:{uid}:base          {"id": uid, "email", "name", "role",
 *                                       ...other fields, "created_at", "updated_at"}
 *   data CF  users:{uid}:profile       written by its first USER.UPDATE (then
 *   data CF  users:{uid}:subscription   carries "updated_at"); absent reads as {}
 *   meta CF  "email:" lower(email) -> uid   the unique index (ASCII lower-casing)
 *
 * Invariants: a user exists iff users:{uid}:base exists; a base always has a
 * valid email and role; "email:" lower(base.email) -> uid exists for every
 * user, and no other index entry names a user. The index is changed only in
 * the batch that writes the base. USER.DELETE finds the entry from the uid
 * through users:{uid}:base's email.
 *
 * Validation of the base fields (after a merge patch too, so no update can
 * leave a user without them):
 *   email  required; a string of 1..254 bytes with at least one byte before
 *          and after its last '@'; no whitespace, no control characters
 *          (C0, DEL, C1); stored as given, indexed lower-cased (ASCII only)
 *   role   required; "artist", "fan" or "admin"
 *   name   optional; a string when present
 */
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "json.h"
#include "server.h"
#include "cmd_user.h"

#define EMAIL_MAX 254

static const char *const sections[] = {"base", "profile", "subscription", NULL};
static const char *const roles[] = {"artist", "fan", "admin", NULL};

static void user_key(dkey *k, const resp_slice *uid, const char *section) {
    dkey_fmt(k, "users:%.*s:%s", (int)uid->len, uid->ptr, section);
}

/* NULL when p[0..n) is a valid e-mail address, else why not. */
static const char *email_problem(const char *p, size_t n) {
    if (n < 1 || n > EMAIL_MAX) return "must be 1 to 254 bytes";
    const unsigned char *u = (const unsigned char *)p;
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (u[i] <= 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f))
            return "must not contain whitespace or control characters";
        if (u[i] == '@') at = i;
    }
    if (at == n) return "must contain '@'";
    if (at == 0 || at == n - 1) return "needs text before and after its '@'";
    return NULL;
}

static void reply_bad_email(client *c, const char *p, size_t n, const char *why) {
    char shown[80];
    resp_sanitize(shown, sizeof shown, p, n, 64);
    reply_invalid(c, "email '%s' %s", shown, why);
}

/* The index key of an e-mail address: "email:" + ASCII lower-case. */
static void email_key(dkey *k, const char *p, size_t n) {
    static const char pre[] = "email:";
    memcpy(k->buf, pre, sizeof pre - 1);
    if (n > sizeof k->buf - (sizeof pre - 1)) n = sizeof k->buf - (sizeof pre - 1); /* n <= 254 */
    for (size_t i = 0; i < n; i++)
        k->buf[sizeof pre - 1 + i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
    k->len = sizeof pre - 1 + n;
}

/* The user the index names for an address, if that user exists (an entry
 * naming a user without a base is stale and ignored). Returns 1 with
 * owner/len filled, 0 none, -1 after replying a storage error. */
static int email_owner(client *c, const dkey *ek, char owner[DOM_ID_MAX + 1], size_t *len) {
    store_val v;
    int r = meta_get(KS(c), ek, &v);
    if (r <= 0) return r;
    int ok = dom_valid_id(v.ptr, v.len);
    if (ok) {
        memcpy(owner, v.ptr, v.len);
        owner[v.len] = 0;
        *len = v.len;
    }
    store_val_free(&v);
    if (!ok) return 0;
    resp_slice uid = {owner, *len};
    dkey bk;
    user_key(&bk, &uid, "base");
    return db_exists(KS(c), 0, bk.buf, bk.len);
}

/* Refuses (-CONFLICT) an address whose index entry names another user. */
static int email_free_for(client *c, const dkey *ek, const resp_slice *uid, const char *email, size_t n) {
    char owner[DOM_ID_MAX + 1];
    size_t ol;
    int r = email_owner(c, ek, owner, &ol);
    if (r < 0) return -1;
    if (r == 1 && !(ol == uid->len && memcmp(owner, uid->ptr, ol) == 0)) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, email, n, 64);
        reply_conflict(c, "email '%s' belongs to another user", shown);
        return -1;
    }
    return 0;
}

/* Checks the base fields of a complete base document (see the top). */
static int check_base(client *c, const json_t *base) {
    const json_t *e = json_object_get(base, "email"), *r = json_object_get(base, "role"),
                 *nm = json_object_get(base, "name");
    if (!json_is_string(e)) {
        reply_invalid(c, "base needs \"email\": a string");
        return -1;
    }
    const char *why = email_problem(json_string_value(e), json_string_length(e));
    if (why) {
        reply_bad_email(c, json_string_value(e), json_string_length(e), why);
        return -1;
    }
    int role_ok = 0;
    for (const char *const *p = roles; *p && json_is_string(r); p++)
        if (strcmp(json_string_value(r), *p) == 0 && strlen(*p) == json_string_length(r)) role_ok = 1;
    if (!role_ok) {
        reply_invalid(c, "base needs \"role\": \"artist\", \"fan\" or \"admin\"");
        return -1;
    }
    if (nm && !json_is_string(nm)) {
        reply_invalid(c, "\"name\" must be a string");
        return -1;
    }
    return 0;
}

/* Encodes a section within max-document-size (a merge can grow it) and
 * writes it; returns the text (free()) or NULL after replying. */
static char *put_section(client *c, const dkey *k, const json_t *doc, int existed, size_t *len) {
    char *text = json_encode(doc, len);
    if (!text) {
        reply_error(c, "ERR out of memory");
        return NULL;
    }
    if ((long long)*len > c->srv->cfg.max_document_size) {
        reply_invalid(c, "document too large (max %lld bytes)", c->srv->cfg.max_document_size);
        free(text);
        return NULL;
    }
    if (dom_put_raw(KS(c), k, text, *len, existed) < 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* USER.CREATE uid json [IDEMP key]
 * +OK; -CONFLICT when the uid exists or its email belongs to another user. */
static int user_create(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    if (dom_check_id(c, uid) < 0) return -1;
    json_t *base = dom_parse_doc(c, &c->argv[2]);
    if (!base) return -1;
    int rc = -1;
    char *text = NULL;
    if (check_base(c, base) < 0) goto out;
    dkey bk;
    user_key(&bk, uid, "base");
    int r = db_exists(KS(c), 0, bk.buf, bk.len);
    if (r < 0) goto out;
    if (r == 1) {
        reply_conflict(c, "user '%.*s' exists", (int)uid->len, uid->ptr);
        goto out;
    }
    const json_t *e = json_object_get(base, "email");
    dkey ek;
    email_key(&ek, json_string_value(e), json_string_length(e));
    if (email_free_for(c, &ek, uid, json_string_value(e), json_string_length(e)) < 0) goto out;

    char ts[32];
    dom_iso_time(ts, now_ms());
    json_object_set_new(base, "id", json_stringn(uid->ptr, uid->len));
    json_object_set_new(base, "created_at", json_string(ts));
    json_object_set_new(base, "updated_at", json_string(ts));
    size_t n;
    if (!(text = put_section(c, &bk, base, 0, &n))) goto out;
    meta_put(KS(c), &ek, uid->ptr, uid->len);
    reply_ok(c);
    rc = 0;
out:
    free(text);
    json_decref(base);
    return rc;
}

/* USER.BYEMAIL email
 * The uid whose email matches (ASCII case-insensitive), or nil. */
static int user_byemail(client *c) {
    const resp_slice *e = &c->argv[1];
    const char *why = email_problem(e->ptr, e->len);
    if (why) {
        reply_bad_email(c, e->ptr, e->len, why);
        return -1;
    }
    dkey ek;
    email_key(&ek, e->ptr, e->len);
    char owner[DOM_ID_MAX + 1];
    size_t ol;
    int r = email_owner(c, &ek, owner, &ol);
    if (r < 0) return -1;
    if (r == 0) reply_null(c);
    else reply_bulk(c, owner, ol);
    return 0;
}

/* USER.GET uid
 * {"id", "base", "profile", "subscription"} (absent sections as {}), or nil. */
static int user_get(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    json_t *user = json_object();
    int rc = -1;
    if (!user) {
        reply_error(c, "ERR out of memory");
        return -1;
    }
    json_object_set_new(user, "id", json_stringn(uid->ptr, uid->len));
    for (const char *const *s = sections; *s; s++) {
        dkey k;
        int failed;
        user_key(&k, uid, *s);
        json_t *doc = dom_get_doc(KS(c), &k, &failed);
        if (failed) goto out;
        if (!doc && s == sections) { /* no base: no user */
            reply_null(c);
            rc = 0;
            goto out;
        }
        json_object_set_new(user, *s, doc ? doc : json_object());
    }
    size_t n;
    char *text = json_encode(user, &n);
    if (!text) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    reply_bulk(c, text, n);
    free(text);
    rc = 0;
out:
    json_decref(user);
    return rc;
}

/* A change of the base's email moves its index entry (refused -CONFLICT when
 * the new address belongs to another user). old may be NULL. */
static int move_email(client *c, const resp_slice *uid, const char *old, size_t oldn, const json_t *base) {
    const json_t *e = json_object_get(base, "email");
    dkey nk, ok;
    email_key(&nk, json_string_value(e), json_string_length(e));
    if (old) {
        email_key(&ok, old, oldn);
        if (ok.len == nk.len && memcmp(ok.buf, nk.buf, nk.len) == 0) return 0; /* same address */
    }
    if (email_free_for(c, &nk, uid, json_string_value(e), json_string_length(e)) < 0) return -1;
    if (old) meta_del(KS(c), &ok);
    meta_put(KS(c), &nk, uid->ptr, uid->len);
    return 0;
}

/* USER.UPDATE uid base|profile|subscription patch
 * The section's new JSON after an RFC 7386 merge patch; -NOTFOUND when the
 * user does not exist, -INVALID for another section. */
static int user_update(client *c) {
    const resp_slice *uid = &c->argv[1], *sec = &c->argv[2];
    if (dom_check_id(c, uid) < 0) return -1;
    const char *section = NULL;
    for (const char *const *s = sections; *s; s++)
        if (arg_eq(sec, *s)) section = *s;
    if (!section) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, sec->ptr, sec->len, 64);
        reply_invalid(c, "section '%s' (base, profile or subscription)", shown);
        return -1;
    }
    json_t *patch = dom_parse_doc(c, &c->argv[3]);
    if (!patch) return -1;
    int is_base = section == sections[0];
    int rc = -1, failed;
    char *text = NULL, *old_email = NULL;
    size_t old_len = 0;
    json_t *doc = NULL;
    dkey bk, k;
    user_key(&bk, uid, "base");
    user_key(&k, uid, section);
    int r = db_exists(KS(c), 0, bk.buf, bk.len);
    if (r < 0) goto out;
    if (r == 0) {
        reply_notfound(c, "user '%.*s'", (int)uid->len, uid->ptr);
        goto out;
    }
    doc = dom_get_doc(KS(c), &k, &failed);
    if (failed) goto out;
    int existed = doc != NULL;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    if (is_base) {
        const json_t *e = json_object_get(doc, "email");
        if (json_is_string(e) && !email_problem(json_string_value(e), json_string_length(e))) {
            old_len = json_string_length(e);
            old_email = malloc(old_len + 1);
            if (!old_email) {
                reply_error(c, "ERR out of memory");
                goto out;
            }
            memcpy(old_email, json_string_value(e), old_len);
        }
    }
    json_t *merged = json_merge_patch(doc, patch);
    if (!merged) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    if (merged != doc) {
        json_decref(doc);
        doc = merged;
    }
    if (is_base && (check_base(c, doc) < 0 || move_email(c, uid, old_email, old_len, doc) < 0)) goto out;
    dom_stamp_update(doc);
    size_t n;
    if (!(text = put_section(c, &k, doc, existed, &n))) goto out;
    reply_bulk(c, text, n);
    rc = 0;
out:
    free(text);
    free(old_email);
    json_decref(doc);
    json_decref(patch);
    return rc;
}

#define UF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "user.create", .proc = user_create, .arity = -3, .flags = UF | CMD_WRITE | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid json [IDEMP key]",
     .summary = "Creates a user from its base fields (email, name, role); -CONFLICT if the uid or email is taken."},
    {.name = "user.byemail", .proc = user_byemail, .arity = 2, .flags = UF | CMD_READONLY | CMD_FAST,
     .group = "user", .args = "email",
     .summary = "Returns the uid of an email address (ASCII case-insensitive), or nil."},
    {.name = "user.get", .proc = user_get, .arity = 2, .flags = UF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid",
     .summary = "Returns {id, base, profile, subscription}, or nil."},
    {.name = "user.update", .proc = user_update, .arity = 4, .flags = UF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid base|profile|subscription patch",
     .summary = "Merge-patches one section of a user and returns its new JSON; an email change moves the index."},
    CMD_TABLE_END,
};

const cmd_family user_family = {.name = "user", .rows = rows};
