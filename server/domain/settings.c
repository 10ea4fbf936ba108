/* Settings (SPEC §4.6): a user's preferences, one JSON object per section.
 *
 * Keys (data CF, database 0; no engine-internal entries):
 *   settings:{uid}:{section}   section: profile, security, notifications,
 *                              privacy, payment_methods. The section's JSON
 *                              object (what the merge patches made of it)
 *                              + "updated_at"; absent until the first
 *                              SETTINGS.SET (SETTINGS.GET then answers {}).
 * USER.DELETE finds them under the prefix "settings:{uid}:". Settings hold
 * preferences only: profile data lives in USER, payment methods in
 * PAYMETHOD. A section always stays within max-document-size.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "settings.h"

const char *const settings_sections[] = {"profile", "security", "notifications", "privacy", "payment_methods", NULL};

void settings_key_section(dkey *k, const char *uid, const char *section) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "settings:%s:%s", uid, section);
}

void settings_key_user(dkey *k, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "settings:%s:", uid);
}

int settings_get_raw(struct dom_engine *e, const char *uid, const char *section, db_value *v) {
    dkey k;
    settings_key_section(&k, uid, section);
    return dom_get_raw(e->ks, &k, v);
}

int settings_set(struct dom_engine *e, const char *uid, const char *section, json_t *patch, char **text,
                 size_t *tl) {
    dkey k;
    settings_key_section(&k, uid, section);
    int failed, rc = -1;
    char *enc = NULL;
    json_t *doc = dom_get_doc(e->ks, &k, &failed);
    if (failed) return -1;
    int existed = doc != NULL;
    if (!doc || !json_is_object(doc)) { /* a non-object only around the engine: replaced */
        json_decref(doc);
        doc = json_object();
    }
    json_t *merged = json_merge_patch(doc, patch);
    if (!merged) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (merged != doc) { /* not reached: patch is an object */
        json_decref(doc);
        doc = merged;
    }
    dom_stamp_update(doc);
    size_t n;
    if (!(enc = json_encode(doc, &n))) {
        dom_fail(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if ((long long)n > dom_max_document_size(e)) {
        dom_fail(e, ST_INVALID, "document too large (max %lld bytes)", dom_max_document_size(e));
        goto out;
    }
    if (dom_put_raw(e->ks, &k, enc, n, existed) < 0) goto out;
    *text = enc;
    *tl = n;
    enc = NULL;
    rc = 0;
out:
    free(enc);
    json_decref(doc);
    return rc;
}

int settings_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    dkey p; /* a uid holds no ':', so this is exactly uid's */
    settings_key_user(&p, uid);
    int64_t n = db_delete_prefix(e->ks, 0, p.buf, p.len);
    if (n < 0) return -1;
    *removed += n;
    return 0;
}
