/* SETTINGS.* (SPEC §4.6): the handlers over the settings model
 * (settings.c). A section never set reads as {}; SETTINGS.SET applies an
 * RFC 7386 merge patch (a null member deletes it), stamps "updated_at" and
 * returns the new object. Section names are matched ASCII
 * case-insensitively (like USER.UPDATE's) and stored lower-case.
 */
#include <stdlib.h>

#include "domain_args.h"
#include "server.h"
#include "settings.h"
#include "cmd_settings.h"

/* argv uid and section; -INVALID for a bad uid or section. */
static int settings_args(client *c, char uid[DOM_ID_BUF], const char **section) {
    const resp_slice *sec = &c->argv[2];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    for (const char *const *s = settings_sections; *s; s++)
        if (arg_eq(sec, *s)) {
            *section = *s;
            return 0;
        }
    char shown[80];
    resp_sanitize(shown, sizeof shown, sec->ptr, sec->len, 64);
    reply_invalid(c, "section '%s' (profile, security, notifications, privacy or payment_methods)", shown);
    return -1;
}

/* SETTINGS.GET uid section
 * The section's JSON object; {} when it was never set. */
static int settings_get_cmd(client *c) {
    char uid[DOM_ID_BUF];
    const char *section;
    if (settings_args(c, uid, &section) < 0) return -1;
    db_value v;
    int r = settings_get_raw(DOM(c), uid, section, &v);
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
static int settings_set_cmd(client *c) {
    char uid[DOM_ID_BUF];
    const char *section;
    if (settings_args(c, uid, &section) < 0) return -1;
    json_t *patch = dom_parse_doc(c, &c->argv[3]);
    if (!patch) return -1;
    char *text;
    size_t n;
    int r = settings_set(DOM(c), uid, section, patch, &text, &n);
    json_decref(patch);
    if (r < 0) return -1;
    reply_bulk(c, text, n);
    free(text);
    return 0;
}

#define SF (CMD_DOMAIN | CMD_DB0)

static const cmd_def rows[] = {
    {.name = "settings.get", .proc = settings_get_cmd, .arity = 3, .flags = SF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "settings", .args = "uid profile|security|notifications|privacy|payment_methods",
     .summary = "Returns one section of a user's settings ({} if never set)."},
    {.name = "settings.set", .proc = settings_set_cmd, .arity = 4, .flags = SF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "settings", .args = "uid profile|security|notifications|privacy|payment_methods patch",
     .summary = "Merge-patches one section of a user's settings and returns its new JSON."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int settings_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "settings", settings_purge_user);
    return 0;
}

const cmd_family settings_family = {.name = "settings", .rows = rows, .init = settings_init};
