/* ACL keys of the domain commands (see acl_keys.h). The key positions of a
 * domain row name its owner (uid, conv, ticket); the families the command
 * reads or writes come from its group, with the few commands that cross
 * families (a transfer, a donation, a purchase with COST or CREDIT, the
 * dashboard, USER.DELETE) named here. Ids are not validated yet when ACL
 * runs: a bad id matches no owner's pattern unless the pattern allows it,
 * and the command refuses it anyway (-INVALID). */
#include <stdlib.h>
#include <string.h>

#include "acl_keys.h"
#include "acl_rules.h"
#include "entity.h"

/* Every family that keeps rows under a uid (USER.DELETE removes them,
 * DASHBOARD.GET reads their counters). */
static const char *const uid_families[] = {
    "users", "settings", "coins", "donations", "payments", "tracks", "videos", "concerts", "news",
    "banners", "promotion", "pitching", "notifications", "email", NULL,
};

typedef struct walk {
    cmd_key_visit visit;
    void *arg;
    int stop;
} walk;

/* "family:owner:" (every key under it), or "family:a:b:" with a second part. */
static void prefix(walk *w, const char *family, const resp_slice *a, const resp_slice *b, int perm) {
    if (w->stop) return;
    size_t fl = strlen(family), n = fl + 1 + a->len + 1 + (b ? b->len + 1 : 0);
    char small[256], *buf = n <= sizeof small ? small : malloc(n);
    if (!buf) {
        w->stop = w->visit(w->arg, family, fl, 1, perm); /* the whole family: denied unless allowed */
        return;
    }
    size_t at = 0;
    memcpy(buf, family, fl);
    at += fl;
    buf[at++] = ':';
    memcpy(buf + at, a->ptr, a->len);
    at += a->len;
    buf[at++] = ':';
    if (b) {
        memcpy(buf + at, b->ptr, b->len);
        at += b->len;
        buf[at++] = ':';
    }
    w->stop = w->visit(w->arg, buf, at, 1, perm);
    if (buf != small) free(buf);
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int ends(const char *s, const char *p) {
    size_t n = strlen(s), m = strlen(p);
    return n >= m && strcmp(s + n - m, p) == 0;
}

int dom_acl_keys(const cmd_def *cmd, const resp_slice *argv, int argc, cmd_key_visit visit, void *arg) {
    if (!(cmd->flags & CMD_DOMAIN)) return 0;
    walk w = {visit, arg, 0};
    const char *g = cmd->group, *n = cmd->name;
    int perm = (cmd->flags & CMD_WRITE) ? ACL_PERM_RW : ACL_PERM_R;
    if (cmd->first_key <= 0) return 1; /* public feeds and admin lists: the command rules decide */
    if (cmd->first_key >= argc) return 1;
    const resp_slice *own = &argv[cmd->first_key];
    if (!strcmp(g, "entity")) {
        const entity_ns *ns = cmd->data;
        if (!ns) return 0;
        prefix(&w, ns->prefix, own, NULL, perm);
        if (ns->cost_reason && ends(n, ".create")) prefix(&w, "coins", own, NULL, ACL_PERM_RW);
    } else if (!strcmp(g, "user")) {
        if (!strcmp(n, "user.delete"))
            for (const char *const *f = uid_families; *f; f++) prefix(&w, *f, own, NULL, ACL_PERM_RW);
        else
            prefix(&w, "users", own, NULL, perm);
    } else if (!strcmp(g, "coins")) {
        if (!strcmp(n, "coins.transfer") && argc > 2) {
            prefix(&w, "coins", &argv[1], NULL, ACL_PERM_RW);
            prefix(&w, "coins", &argv[2], NULL, ACL_PERM_RW);
        } else if (!strcmp(n, "donation.send") && argc > 2) {
            prefix(&w, "coins", &argv[1], NULL, ACL_PERM_RW);
            prefix(&w, "donations", &argv[1], NULL, ACL_PERM_RW); /* the sender's sent list */
            prefix(&w, "coins", &argv[2], NULL, ACL_PERM_RW);
            prefix(&w, "donations", &argv[2], NULL, ACL_PERM_RW);
            prefix(&w, "notifications", &argv[2], NULL, ACL_PERM_RW);
        } else {
            prefix(&w, starts(n, "donation.") ? "donations" : "coins", own, NULL, perm);
        }
    } else if (!strcmp(g, "payment")) {
        prefix(&w, "payments", own, NULL, perm);
        if (!strcmp(n, "payment.record") || !strcmp(n, "payment.status")) prefix(&w, "coins", own, NULL, ACL_PERM_RW);
    } else if (!strcmp(g, "messages")) {
        prefix(&w, "messages", own, NULL, perm);
        prefix(&w, "conversations", own, NULL, perm);
    } else if (!strcmp(g, "notifications")) {
        prefix(&w, "notifications", own, NULL, perm);
    } else if (!strcmp(g, "email")) {
        prefix(&w, "email", own, NULL, perm);
    } else if (!strcmp(g, "tickets")) {
        prefix(&w, "tickets", own, NULL, perm);
    } else if (!strcmp(g, "settings")) {
        prefix(&w, "settings", own, NULL, perm);
    } else if (!strcmp(g, "analytics")) {
        if (starts(n, "analytics.") && cmd->first_key >= 2)
            prefix(&w, "analytics", &argv[cmd->first_key - 1], own, perm); /* analytics:tracks:{id}: */
        else
            for (const char *const *f = uid_families; *f; f++) prefix(&w, *f, own, NULL, ACL_PERM_R);
    } else {
        return 0;
    }
    return 1;
}
