/* IMPORT.RECORD and IMPORT.CHECK: the server side of stagekv-import
 * (docs/migration.md). One record of the hosted store per call: the
 * mapper (import.c) checks and normalizes it, the apply step
 * (import_apply.c) writes it through the models in this command's batch,
 * so a record is imported whole or not at all.
 */
#include <string.h>
#include <strings.h>

#include "cmd_import.h"
#include "domain_args.h"
#include "import.h"
#include "import_apply.h"
#include "server.h"

/* Maps argv[1] (key) and argv[2] (value); replies -INVALID and returns -1
 * when the record cannot be mapped. */
static int map_args(client *c, imp_plan *p) {
    char why[400];
    const resp_slice *k = &c->argv[1], *v = &c->argv[2];
    if (import_map(k->ptr, k->len, v->ptr, v->len, dom_max_document_size(DOM(c)), p, why, sizeof why) < 0) {
        reply_invalid(c, "%s", why);
        return -1;
    }
    return 0;
}

static void reply_derived(client *c, const imp_plan *p) {
    char line[300];
    snprintf(line, sizeof line, "DERIVED %s: %s; nothing to write", p->pat->pattern, p->pat->arg);
    reply_status(c, line);
}

/* IMPORT.RECORD key value [DEFER]
 * Imports one record of the hosted store: +IMPORTED <summary>, +SKIPPED
 * (imported before: nothing written), +DERIVED ... (derived data of the
 * old store: nothing to write), with DEFER +DEFERRED for a phase-2 record
 * (left for the caller's second pass); an error (-INVALID, -CONFLICT,
 * -NOTFOUND, -INSUFFICIENT_FUNDS) writes nothing. */
static int import_record_cmd(client *c) {
    int defer = 0;
    if (c->argc == 4 && c->argv[3].len == 5 && strncasecmp(c->argv[3].ptr, "defer", 5) == 0) defer = 1;
    else if (c->argc != 3) {
        reply_syntax_error(c);
        return -1;
    }
    imp_plan p;
    if (map_args(c, &p) < 0) return -1;
    int rc = 0;
    if (p.pat->kind == IMP_DERIVED) {
        reply_derived(c, &p);
    } else if (defer && p.pat->phase == 2) {
        reply_status(c, "DEFERRED");
    } else {
        char note[300] = "", line[320];
        const resp_slice *k = &c->argv[1], *v = &c->argv[2];
        /* history replayed into the models is no live event: nothing is published */
        void (*publish)(void *, const char *, size_t, const char *, size_t) = DOM(c)->publish;
        DOM(c)->publish = NULL;
        int r = import_apply(DOM(c), k->ptr, k->len, v->ptr, v->len, &p, note, sizeof note);
        DOM(c)->publish = publish;
        if (r < 0) {
            rc = -1;
        } else {
            snprintf(line, sizeof line, r == 1 ? "SKIPPED already imported" : "IMPORTED %s", note);
            reply_status(c, line);
        }
    }
    import_plan_free(&p);
    return rc;
}

/* IMPORT.CHECK key value
 * The mapper alone (nothing is read or written): +OK <pattern> <what>
 * <n> [phase 2], +DERIVED ..., or -INVALID with the reason. */
static int import_check_cmd(client *c) {
    imp_plan p;
    if (map_args(c, &p) < 0) return -1;
    if (p.pat->kind == IMP_DERIVED) {
        reply_derived(c, &p);
    } else {
        char line[300];
        snprintf(line, sizeof line, "OK %s: %s, %zu item%s%s", p.pat->pattern, import_kind_name(p.pat->kind), p.items,
                 p.items == 1 ? "" : "s", p.pat->phase == 2 ? " (phase 2)" : "");
        reply_status(c, line);
    }
    import_plan_free(&p);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "import.record", .proc = import_record_cmd, .arity = -3,
     .flags = CMD_DOMAIN | CMD_DB0 | CMD_WRITE | CMD_ADMIN | CMD_SYNC | CMD_RETRY_SAFE,
     .group = "import", .args = "key value [DEFER]",
     .summary = "Imports one record of the hosted store (old shapes) through the domain engine, once."},
    {.name = "import.check", .proc = import_check_cmd, .arity = 3, .flags = CMD_DOMAIN | CMD_DB0 | CMD_READONLY | CMD_ADMIN,
     .group = "import", .args = "key value",
     .summary = "Checks how one record of the hosted store would be imported; writes nothing."},
    CMD_TABLE_END,
};

const cmd_family import_family = {.name = "import", .rows = rows};
