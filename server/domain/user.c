/* Users (SPEC §4.2): a user is three JSON documents and one entry of a
 * unique e-mail index.
 *
 * Keys:
 *   data CF  users:{uid}:base          {"id": uid, "email", "name", "role",
 *                                       ...other fields, "created_at", "updated_at"}
 *   data CF  users:{uid}:profile       written by its first USER.UPDATE (then
 *   data CF  users:{uid}:subscription   carries "updated_at"); absent reads as {}
 *   meta CF  "email:" lower(email) -> uid   the unique index (ASCII lower-casing)
 *   meta CF  "ulist:" uid -> ""        every user, in uid byte order (USER.LIST):
 *                                       written with the base by USER.CREATE,
 *                                       removed by USER.DELETE; users created
 *                                       before the index existed are not in it
 *                                       (it can be rebuilt from users:*:base)
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

#include "json.h"
#include "user.h"

const char *const user_sections[] = {"base", "profile", "subscription", NULL};
static const char *const roles[] = {"artist", "fan", "admin", NULL};

static const char EMAIL_PREFIX[] = "email:";
#define EMAIL_PREFIX_LEN (sizeof EMAIL_PREFIX - 1)

void user_key_section(dkey *k, const char *uid, const char *section) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "users:%s:%s", uid, section);
}

void user_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "users:%s:", uid);
}

void user_key_list_entry(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "ulist:%s", uid);
}

void user_key_list(dkey *k) { dkey_fmt(k, "ulist:"); }

/* ulist:{uid} -> users:{uid}:base */
int user_list_resolve(const char *uid, size_t ul, const char *val, size_t vl, dkey *doc, void *arg) {
    (void)val;
    (void)vl;
    (void)arg;
    char u[DOM_ID_MAX + 1];
    if (!dom_valid_id(uid, ul)) return 0; /* never written by this module */
    memcpy(u, uid, ul);
    u[ul] = 0;
    user_key_section(doc, u, "base");
    return 1;
}

/* The index key of an e-mail address: "email:" + ASCII lower-case. */
void user_key_email(dkey *k, const char *p, size_t n) {
    assert(n >= 1 && n <= USER_EMAIL_MAX);
    memcpy(k->buf, EMAIL_PREFIX, EMAIL_PREFIX_LEN);
    for (size_t i = 0; i < n; i++)
        k->buf[EMAIL_PREFIX_LEN + i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
    k->len = EMAIL_PREFIX_LEN + n;
}

const char *user_email_problem(const char *p, size_t n) {
    if (n < 1 || n > USER_EMAIL_MAX) return "must be 1 to 254 bytes";
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

static int fail_bad_email(struct dom_engine *e, const char *p, size_t n, const char *why) {
    char shown[80];
    resp_sanitize(shown, sizeof shown, p, n, 64);
    return dom_fail(e, ST_INVALID, "email '%s' %s", shown, why);
}

/* The user the index names for an address, if that user exists (an entry
 * naming a user without a base is stale and ignored). 1 with owner/len
 * filled, 0 none, -1. */
static int email_owner(struct dom_engine *e, const dkey *ek, char owner[DOM_ID_MAX + 1], size_t *len) {
    store_val v;
    int r = meta_get(e->ks, ek, &v);
    if (r <= 0) return r;
    int ok = dom_valid_id(v.ptr, v.len);
    if (ok) {
        memcpy(owner, v.ptr, v.len);
        owner[v.len] = 0;
        *len = v.len;
    }
    store_val_free(&v);
    if (!ok) return 0;
    dkey bk;
    user_key_section(&bk, owner, "base");
    return db_exists(e->ks, 0, bk.buf, bk.len);
}

/* Refuses (CONFLICT) an address whose index entry names another user. */
static int email_free_for(struct dom_engine *e, const dkey *ek, const char *uid, const char *email, size_t n) {
    char owner[DOM_ID_MAX + 1];
    size_t ol;
    int r = email_owner(e, ek, owner, &ol);
    if (r < 0) return -1;
    if (r == 1 && strcmp(owner, uid) != 0) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, email, n, 64);
        return dom_fail(e, ST_CONFLICT, "email '%s' belongs to another user", shown);
    }
    return 0;
}

/* Checks the base fields of a complete base document (see the top). */
static int check_base(struct dom_engine *e, const json_t *base) {
    const json_t *em = json_object_get(base, "email"), *r = json_object_get(base, "role"),
                 *nm = json_object_get(base, "name");
    if (!json_is_string(em)) return dom_fail(e, ST_INVALID, "base needs \"email\": a string");
    const char *why = user_email_problem(json_string_value(em), json_string_length(em));
    if (why) return fail_bad_email(e, json_string_value(em), json_string_length(em), why);
    int role_ok = 0;
    for (const char *const *p = roles; *p && json_is_string(r); p++)
        if (strcmp(json_string_value(r), *p) == 0 && strlen(*p) == json_string_length(r)) role_ok = 1;
    if (!role_ok) return dom_fail(e, ST_INVALID, "base needs \"role\": \"artist\", \"fan\" or \"admin\"");
    if (nm && !json_is_string(nm)) return dom_fail(e, ST_INVALID, "\"name\" must be a string");
    return 0;
}

/* Encodes a section within max-document-size (a merge can grow it) and
 * writes it; returns the text (free()) or NULL (ks->err). */
static char *put_section(struct dom_engine *e, const dkey *k, const json_t *doc, int existed, size_t *len) {
    char *text = json_encode(doc, len);
    if (!text) {
        dom_fail(e, ST_NOMEM, "out of memory");
        return NULL;
    }
    if ((long long)*len > dom_max_document_size(e)) {
        dom_fail(e, ST_INVALID, "document too large (max %lld bytes)", dom_max_document_size(e));
        free(text);
        return NULL;
    }
    if (dom_put_raw(e->ks, k, text, *len, existed) < 0) {
        free(text);
        return NULL;
    }
    return text;
}

int user_create(struct dom_engine *e, const char *uid, json_t *base) {
    char *text = NULL;
    if (check_base(e, base) < 0) return -1;
    dkey bk;
    user_key_section(&bk, uid, "base");
    int r = db_exists(e->ks, 0, bk.buf, bk.len);
    if (r < 0) return -1;
    if (r == 1) return dom_fail(e, ST_CONFLICT, "user '%s' exists", uid);
    const json_t *em = json_object_get(base, "email");
    dkey ek;
    user_key_email(&ek, json_string_value(em), json_string_length(em));
    if (email_free_for(e, &ek, uid, json_string_value(em), json_string_length(em)) < 0) return -1;
    char ts[32];
    dom_iso_time(ts, now_ms());
    json_object_set_new(base, "id", json_string(uid));
    json_object_set_new(base, "created_at", json_string(ts));
    json_object_set_new(base, "updated_at", json_string(ts));
    size_t n;
    if (!(text = put_section(e, &bk, base, 0, &n))) return -1;
    free(text);
    meta_put(e->ks, &ek, uid, strlen(uid));
    dkey lk;
    user_key_list_entry(&lk, uid);
    meta_put(e->ks, &lk, "", 0);
    return 0;
}

int user_by_email(struct dom_engine *e, const char *email, size_t n, char owner[DOM_ID_MAX + 1], size_t *ol) {
    dkey ek;
    user_key_email(&ek, email, n);
    return email_owner(e, &ek, owner, ol);
}

int user_get(struct dom_engine *e, const char *uid, char **text, size_t *tl) {
    json_t *user = json_object();
    int rc = -1;
    if (!user) return dom_fail(e, ST_NOMEM, "out of memory");
    json_object_set_new(user, "id", json_string(uid));
    for (const char *const *s = user_sections; *s; s++) {
        dkey k;
        int failed;
        user_key_section(&k, uid, *s);
        json_t *doc = dom_get_doc(e->ks, &k, &failed);
        if (failed) goto out;
        if (!doc && s == user_sections) { /* no base: no user */
            rc = 0;
            goto out;
        }
        json_object_set_new(user, *s, doc ? doc : json_object());
    }
    if (!(*text = json_encode(user, tl))) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    rc = 1;
out:
    json_decref(user);
    return rc;
}

/* A change of the base's email moves its index entry (refused CONFLICT when
 * the new address belongs to another user). old may be NULL. */
static int move_email(struct dom_engine *e, const char *uid, const char *old, size_t oldn, const json_t *base) {
    const json_t *em = json_object_get(base, "email");
    dkey nk, ok;
    user_key_email(&nk, json_string_value(em), json_string_length(em));
    if (old) {
        user_key_email(&ok, old, oldn);
        if (ok.len == nk.len && memcmp(ok.buf, nk.buf, nk.len) == 0) return 0; /* same address */
    }
    if (email_free_for(e, &nk, uid, json_string_value(em), json_string_length(em)) < 0) return -1;
    if (old) meta_del(e->ks, &ok);
    meta_put(e->ks, &nk, uid, strlen(uid));
    return 0;
}

int user_update(struct dom_engine *e, const char *uid, const char *section, json_t *patch, char **text,
                size_t *tl) {
    int is_base = strcmp(section, user_sections[0]) == 0;
    int rc = -1, failed;
    char *old_email = NULL;
    size_t old_len = 0;
    json_t *doc = NULL;
    dkey bk, k;
    user_key_section(&bk, uid, "base");
    user_key_section(&k, uid, section);
    int r = db_exists(e->ks, 0, bk.buf, bk.len);
    if (r < 0) goto out;
    if (r == 0) {
        dom_fail(e, ST_NOTFOUND, "user '%s'", uid);
        goto out;
    }
    doc = dom_get_doc(e->ks, &k, &failed);
    if (failed) goto out;
    int existed = doc != NULL;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    if (is_base) {
        const json_t *em = json_object_get(doc, "email");
        if (json_is_string(em) && !user_email_problem(json_string_value(em), json_string_length(em))) {
            old_len = json_string_length(em);
            old_email = malloc(old_len + 1);
            if (!old_email) {
                dom_fail(e, ST_NOMEM, "out of memory");
                goto out;
            }
            memcpy(old_email, json_string_value(em), old_len);
        }
    }
    json_t *merged = json_merge_patch(doc, patch);
    if (!merged) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (merged != doc) {
        json_decref(doc);
        doc = merged;
    }
    if (is_base && (check_base(e, doc) < 0 || move_email(e, uid, old_email, old_len, doc) < 0)) goto out;
    dom_stamp_update(doc);
    if (!(*text = put_section(e, &k, doc, existed, tl))) goto out;
    rc = 0;
out:
    free(old_email);
    json_decref(doc);
    return rc;
}

/* The e-mail index entry of a base document, when the base has an address
 * and the entry names uid. An entry naming another user is not uid's to
 * delete. */
static int purge_email_index(struct dom_engine *e, const char *uid, const json_t *base) {
    const json_t *em = json_object_get(base, "email");
    size_t n = json_string_length(em), uidl = strlen(uid);
    if (!json_is_string(em) || n < 1 || n > USER_EMAIL_MAX) return 0;
    dkey k;
    user_key_email(&k, json_string_value(em), n);
    store_val v;
    int r = meta_get(e->ks, &k, &v);
    if (r <= 0) return r;
    int mine = v.len == uidl && memcmp(v.ptr, uid, uidl) == 0;
    store_val_free(&v);
    if (mine) meta_del(e->ks, &k);
    return 0;
}

int user_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey bk, p;
    user_key_section(&bk, uid, "base");
    db_value v;
    int r = dom_get_raw(e->ks, &bk, &v);
    if (r < 0) return -1;
    if (r == 1) {
        char err[128];
        json_t *base = json_parse_any(v.v.payload, v.v.len, err, sizeof err); /* NULL: not JSON, no index */
        db_value_free(&v);
        r = base ? purge_email_index(e, uid, base) : 0;
        json_decref(base);
        if (r < 0) return -1;
    }
    user_key_user(&p, uid);
    int64_t n = db_delete_prefix(e->ks, 0, p.buf, p.len);
    if (n < 0) return -1;
    user_key_list_entry(&p, uid);
    meta_del(e->ks, &p);
    *removed += n;
    return 0;
}
