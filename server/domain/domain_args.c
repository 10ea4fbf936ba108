/* Handler-side helpers: argument parsing and code-word error replies. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain_args.h"
#include "json.h"

/* ---- errors ------------------------------------------------------------- */

static void reply_code(client *c, const char *code, const char *fmt, va_list ap) {
    char buf[600];
    size_t n = strlen(code);
    memcpy(buf, code, n);
    buf[n++] = ' ';
    vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    reply_error(c, buf);
}
#define CODE_FN(name, code)                      \
    void name(client *c, const char *fmt, ...) { \
        va_list ap;                              \
        va_start(ap, fmt);                       \
        reply_code(c, code, fmt, ap);            \
        va_end(ap);                              \
    }
CODE_FN(reply_invalid, "INVALID")
CODE_FN(reply_notfound, "NOTFOUND")
CODE_FN(reply_conflict, "CONFLICT")

/* ---- arguments ------------------------------------------------------------------ */

int dom_check_id(client *c, const resp_slice *a) {
    if (dom_valid_id(a->ptr, a->len)) return 0;
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "id '%s'", shown);
    return -1;
}

int dom_id_arg(client *c, int i, char out[DOM_ID_BUF]) {
    const resp_slice *a = &c->argv[i];
    if (dom_check_id(c, a) < 0) return -1;
    memcpy(out, a->ptr, a->len);
    out[a->len] = 0;
    return 0;
}

int dom_no_options(client *c, int fixed) {
    if (c->argc <= fixed) return 0;
    reply_syntax_error(c);
    return -1;
}

int dom_amount(client *c, const resp_slice *a, int64_t *out) {
    int64_t v;
    if (resp_parse_ll(a->ptr, a->len, &v) == 0 && v >= 1) {
        *out = v;
        return 0;
    }
    char shown[80];
    resp_sanitize(shown, sizeof shown, a->ptr, a->len, 64);
    reply_invalid(c, "amount '%s' (an integer from 1 to 9223372036854775807)", shown);
    return -1;
}

json_t *dom_parse_doc(client *c, const resp_slice *a) {
    char err[256];
    json_doc_limits lim = {(size_t)c->srv->cfg.max_document_size, 64};
    json_t *doc = json_parse_doc(a->ptr, a->len, &lim, err, sizeof err);
    if (!doc) {
        reply_invalid(c, "%s", err);
        return NULL;
    }
    dom_strip_owned(doc);
    return doc;
}

int dom_parse_page(client *c, int start, dom_page *pg, int allow_unread) {
    pg->after = NULL;
    pg->after_len = 0;
    pg->limit = DOM_LIMIT_DEFAULT;
    pg->unread = 0;
    pg->size_hint = 0;
    pg->first_hint = pg->last_hint = 0;
    opt_cursor o = {c, start};
    while (opt_more(&o)) {
        if (opt_is(&o, "after")) {
            resp_slice v;
            if (opt_value(&o, &v) < 0 || dom_check_id(c, &v) < 0) return -1;
            pg->after = v.ptr;
            pg->after_len = v.len;
        } else if (opt_is(&o, "limit")) {
            resp_slice v;
            int64_t n;
            if (opt_value(&o, &v) < 0) return -1;
            if (resp_parse_ll(v.ptr, v.len, &n) < 0 || n < 1 || n > DOM_LIMIT_MAX) {
                char shown[80];
                resp_sanitize(shown, sizeof shown, v.ptr, v.len, 64);
                reply_invalid(c, "LIMIT '%s' (1 to %d)", shown, DOM_LIMIT_MAX);
                return -1;
            }
            pg->limit = n;
        } else if (allow_unread && opt_is(&o, "unread")) {
            pg->unread = 1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    return 0;
}

