/* PAYMENT.* (SPEC §4.4): the handlers over the payment model (payment.c:
 * keys, dedup and credit).
 */
#include <string.h>

#include "domain_args.h"
#include "domain_list.h"
#include "payment.h"
#include "server.h"
#include "cmd_payment.h"

/* PAYMENT.RECORD uid json [CREDIT coins] [IDEMP key]
 * The new payment's id. CREDIT adds coins to uid in the same step. */
static int payment_record_cmd(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    char u[DOM_ID_BUF]; /* argv slices are not NUL-terminated */
    memcpy(u, uid->ptr, uid->len);
    u[uid->len] = 0;
    int64_t credit = 0;
    opt_cursor o = {c, 3};
    while (opt_more(&o)) {
        resp_slice v;
        if (!opt_is(&o, "credit")) {
            reply_syntax_error(c);
            return -1;
        }
        if (opt_value(&o, &v) < 0 || dom_amount(c, &v, &credit) < 0) return -1;
    }
    json_t *doc = dom_parse_doc(c, &c->argv[2]);
    if (!doc) return -1;
    char ids[DOM_ID_HEX + 1];
    int rc = payment_record(DOM(c), u, doc, credit, ids);
    json_decref(doc);
    if (rc < 0) return -1;
    reply_bulk(c, ids, DOM_ID_HEX);
    return 0;
}

/* PAYMENT.LIST uid [AFTER id] [LIMIT n]
 * The user's payment documents, newest first. */
static int payment_list_cmd(client *c) {
    const resp_slice *uid = &c->argv[1];
    if (dom_check_id(c, uid) < 0) return -1;
    dom_page pg;
    if (dom_parse_page(c, 2, &pg, 0) < 0) return -1;
    char u[DOM_ID_BUF];
    memcpy(u, uid->ptr, uid->len);
    u[uid->len] = 0;
    dkey prefix;
    payment_key_list(&prefix, u);
    return dom_list_docs(c, &prefix, &pg, NULL, NULL);
}

/* PAYMENT.GET uid id
 * The payment document, or nil. */
static int payment_get_cmd(client *c) {
    char uid[DOM_ID_BUF], id[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0 || dom_id_arg(c, 2, id) < 0) return -1;
    int failed;
    json_t *doc = payment_get(DOM(c), uid, id, &failed);
    if (failed) return -1;
    if (!doc) {
        reply_null(c);
        return 0;
    }
    int rc = dom_reply_doc(c, doc);
    json_decref(doc);
    return rc;
}

/* PAYMENT.STATUS uid id pending|succeeded|failed|refunded [IDEMP key]
 * The new document (unchanged when the status already is that one). A
 * refund takes the credited coins back in the same step. */
static int payment_status_cmd(client *c) {
    char uid[DOM_ID_BUF], id[DOM_ID_BUF], st[16];
    if (dom_id_arg(c, 1, uid) < 0 || dom_id_arg(c, 2, id) < 0) return -1;
    if (dom_no_options(c, 4) < 0) return -1;
    const resp_slice *a = &c->argv[3];
    if (a->len >= sizeof st || memchr(a->ptr, 0, a->len)) {
        reply_invalid(c, "status must be pending, succeeded, failed or refunded");
        return -1;
    }
    memcpy(st, a->ptr, a->len);
    st[a->len] = 0;
    json_t *doc;
    if (payment_set_status(DOM(c), uid, id, st, &doc) < 0) return -1;
    int rc = dom_reply_doc(c, doc);
    json_decref(doc);
    return rc;
}

static const cmd_def rows[] = {
    {.name = "payment.record", .proc = payment_record_cmd, .arity = -3, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP | CMD_SYNC, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid json [CREDIT coins] [IDEMP key]",
     .summary = "Records an external payment (provider + external_id unique forever); CREDIT adds coins in the same step."},
    {.name = "payment.list", .proc = payment_list_cmd, .arity = -2, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid [AFTER id] [LIMIT n]",
     .summary = "Lists a user's payments, newest first."},
    {.name = "payment.get", .proc = payment_get_cmd, .arity = 3, .flags = CMD_READONLY | CMD_DOMAIN | CMD_DB0 | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid id",
     .summary = "Returns a user's payment document, or nil."},
    {.name = "payment.status", .proc = payment_status_cmd, .arity = -4, .flags = CMD_WRITE | CMD_DOMAIN | CMD_DB0 | CMD_IDEMP | CMD_SYNC | CMD_RETRY_SAFE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "payment", .args = "uid id pending|succeeded|failed|refunded [IDEMP key]",
     .summary = "Moves a payment's status (pending to succeeded or failed, succeeded to refunded; the same again: unchanged) and returns the document; a refund takes the credited coins back (reason refund) or is refused with INSUFFICIENT_FUNDS."},
    CMD_TABLE_END,
};

/* USER.DELETE runs this family's purge (the engine fixes the order). */
static int payment_init(server *s, char **err) {
    (void)err;
    dom_register_purge(s->dom, "payment", payment_purge_user);
    return 0;
}

const cmd_family payment_family = {.name = "payment", .rows = rows, .init = payment_init};
