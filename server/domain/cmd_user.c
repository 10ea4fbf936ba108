/* USER.* (SPEC §4.2 without USER.DELETE): the handlers over the user model
 * (user.c: keys, the e-mail index, validation of the base fields).
 */
#include <stdlib.h>
#include <string.h>

#include "domain_args.h"
#include "domain_list.h"
#include "server.h"
#include "user.h"
#include "cmd_user.h"

static void reply_bad_email(client *c, const char *p, size_t n, const char *why) {
    char shown[80];
    resp_sanitize(shown, sizeof shown, p, n, 64);
    reply_invalid(c, "email '%s' %s", shown, why);
}

/* USER.CREATE uid json [IDEMP key]
 * +OK; -CONFLICT when the uid exists or its email belongs to another user. */
static int user_create_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    json_t *base = dom_parse_doc(c, &c->argv[2]);
    if (!base) return -1;
    int r = user_create(DOM(c), uid, base);
    json_decref(base);
    if (r < 0) return -1;
    reply_ok(c);
    return 0;
}

/* USER.BYEMAIL email
 * The uid whose email matches (ASCII case-insensitive), or nil. */
static int user_byemail_cmd(client *c) {
    const resp_slice *e = &c->argv[1];
    const char *why = user_email_problem(e->ptr, e->len);
    if (why) {
        reply_bad_email(c, e->ptr, e->len, why);
        return -1;
    }
    char owner[DOM_ID_BUF];
    size_t ol;
    int r = user_by_email(DOM(c), e->ptr, e->len, owner, &ol);
    if (r < 0) return -1;
    if (r == 0) reply_null(c);
    else reply_bulk(c, owner, ol);
    return 0;
}

/* USER.GET uid
 * {"id", "base", "profile", "subscription"} (absent sections as {}), or nil. */
static int user_get_cmd(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    char *text;
    size_t n;
    int r = user_get(DOM(c), uid, &text, &n);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, text, n);
    free(text);
    return 0;
}

/* USER.UPDATE uid base|profile|subscription patch
 * The section's new JSON after an RFC 7386 merge patch; -NOTFOUND when the
 * user does not exist, -INVALID for another section. */
static int user_update_cmd(client *c) {
    const resp_slice *sec = &c->argv[2];
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    const char *section = NULL;
    for (const char *const *s = user_sections; *s; s++)
        if (arg_eq(sec, *s)) section = *s;
    if (!section) {
        char shown[80];
        resp_sanitize(shown, sizeof shown, sec->ptr, sec->len, 64);
        reply_invalid(c, "section '%s' (base, profile or subscription)", shown);
        return -1;
    }
    json_t *patch = dom_parse_doc(c, &c->argv[3]);
    if (!patch) return -1;
    char *text = NULL;
    size_t n;
    int r = user_update(DOM(c), uid, section, patch, &text, &n);
    json_decref(patch);
    if (r < 0) return -1;
    reply_bulk(c, text, n);
    free(text);
    return 0;
}

#define UF (CMD_DOMAIN | CMD_DB0)

/* USER.LIST [AFTER uid] [LIMIT n]
 * An admin's list: the base documents of every user in uid byte order
 * (ascending; AFTER continues after that uid), through the user index. */
static int user_list_cmd(client *c) {
    dom_page pg;
    if (dom_parse_page(c, 1, &pg, 0) < 0) return -1;
    dkey lo;
    user_key_list(&lo);
    return dom_list_index_asc(c, &lo, &pg, user_list_resolve, NULL);
}

static const cmd_def rows[] = {
    {.name = "user.create", .proc = user_create_cmd, .arity = -3, .flags = UF | CMD_WRITE | CMD_IDEMP, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid json [IDEMP key]",
     .summary = "Creates a user from its base fields (email, name, role); -CONFLICT if the uid or email is taken."},
    {.name = "user.byemail", .proc = user_byemail_cmd, .arity = 2, .flags = UF | CMD_READONLY | CMD_FAST,
     .group = "user", .args = "email",
     .summary = "Returns the uid of an email address (ASCII case-insensitive), or nil."},
    {.name = "user.get", .proc = user_get_cmd, .arity = 2, .flags = UF | CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid",
     .summary = "Returns {id, base, profile, subscription}, or nil."},
    {.name = "user.update", .proc = user_update_cmd, .arity = 4, .flags = UF | CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid base|profile|subscription patch",
     .summary = "Merge-patches one section of a user and returns its new JSON; an email change moves the index."},
    {.name = "user.list", .proc = user_list_cmd, .arity = -1, .flags = UF | CMD_READONLY | CMD_ADMIN,
     .group = "user", .args = "[AFTER uid] [LIMIT n]",
     .summary = "Admin: every user's base document in uid byte order (ascending, not newest first)."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int user_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "user", user_purge_user);
    return 0;
}

const cmd_family user_family = {.name = "user", .rows = rows, .init = user_init};
