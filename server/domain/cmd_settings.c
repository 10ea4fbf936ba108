/* SETTINGS.* (SPEC §4.6): a user's preferences, one JSON object per section
 * (keys: see settings.h). A section never set reads as {}; SETTINGS.SET
 * applies an RFC 7386 merge patch (a null member deletes it), stamps
 * "updated_at" and returns the new object. Section names are matched
 * ASCII case-insensitively (like USER.UPDATE's) and stored lower-case.
 * Settings hold preferences only: profile data lives in USER, payment
 * methods in PAYMETHOD.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "settings.h"
#include "server.h"
#include "cmd_settings.h"

static const char *const sections[] = {"profile", "security", "notifications", "privacy", "payment_methods", NULL};

/* The key of argv uid/section; -INVALID for a bad uid or section. */
static int settings_key(client *c, dkey *k) {
    const resp_slice *uid = &c->argv[1], *sec = &c->argv[2];
    if (dom_check_id(c, uid) < 0) return -1;
    for (const char *const *s = sections; *s; s++)
        if (arg_eq(sec, *s)) {
            dkey_fmt(k, "settings:%.*s:%s", (int)uid->len, uid->ptr, *s);
            return 0;
        }
    char shown[80];
    resp_sanitize(shown, sizeof shown, sec->ptr, sec->len, 64);
    reply_invalid(c, "section '%s' (profile, security, notifications, privacy or payment_methods)", shown);
    return -1;
}

/* SETTINGS.GET uid section
 * The section's JSON object; {} when it was never set. */
static int settings_get(client *c) {
    dkey k;
    if (settings_key(c, &k) < 0) return -1;
    db_value v;
    int r = dom_get_raw(KS(c), &k, &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_bulk(c, "{}", 2);
        return 0;
    }
    reply_bulk(c, v.v.payload, v.v.len);
    db_value_free(&v);
    return 0;
}

/* SETTINGS.SET uid section patch
 * Merge-patches the section (absent counts as {}) and returns its new JSON.
 * The result must stay within max-document-size. */
static int settings_set(client *c) {
    dkey k;
    if (settings_key(c, &k) < 0) return -1;
    json_t *patch = dom_parse_doc(c, &c->argv[3]);
    if (!patch) return -1;
    int failed, rc = -1;
    char *text = NULL;
    json_t *doc = dom_get_doc(KS(c), &k, &failed);
    if (failed) goto out;
    int existed = doc != NULL;
    if (!doc || !json_is_object(doc)) { /* a non-object only around the engine: replaced */
        json_decref(doc);
        doc = json_object();
    }
    json_t *merged = json_merge_patch(doc, patch);
    if (!merged) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    if (merged != doc) { /* not reached: patch is an object */
        json_decref(doc);
        doc = merged;
    }
    dom_stamp_update(doc);
    size_t n;
    if (!(text = json_encode(doc, &n))) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    if ((long long)n > c->srv->cfg.max_document_size) {
        reply_invalid(c, "document too large (max %lld bytes)", c->srv->cfg.max_document_size);
        goto out;
    }
    if (dom_put_raw(KS(c), &k, text, n, existed) < 0) goto out;
    reply_bulk(c, text, n);
    rc = 0;
out:
    free(text);
    json_decref(doc);
    json_decref(patch);
    return rc;
}

int settings_purge_user(client *c, const char *uid, int64_t *removed) {
    dkey p; /* a uid holds no ':', so this is exactly uid's */
    dkey_fmt(&p, "settings:%s:", uid);
    int64_t n = db_delete_prefix(KS(c), 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}

#define SF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "settings.get", .proc = settings_get, .arity = 3, .flags = SF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "settings", .args = "uid profile|security|notifications|privacy|payment_methods",
     .summary = "Returns one section of a user's settings ({} if never set)."},
    {.name = "settings.set", .proc = settings_set, .arity = 4, .flags = SF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "settings", .args = "uid profile|security|notifications|privacy|payment_methods patch",
     .summary = "Merge-patches one section of a user's settings and returns its new JSON."},
    CMD_TABLE_END,
};

const cmd_family settings_family = {.name = "settings", .rows = rows};
