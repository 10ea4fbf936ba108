/* Reply helpers: handlers append to the client's output buffer only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Out of memory while building a reply: the connection cannot be trusted
 * to carry a complete reply any more, so it is closed after what is there. */
static void oom(client *c) { c->flags |= CL_CLOSE_AFTER_REPLY; }
#define CHECK(x) do { if ((x) < 0) oom(c); } while (0)

void reply_ok(client *c) { CHECK(resp_buf_append(&c->out, "+OK\r\n", 5)); }
void reply_status(client *c, const char *s) { CHECK(resp_add_status(&c->out, s)); }
void reply_error(client *c, const char *s) { CHECK(resp_add_error(&c->out, s, strlen(s))); }
void reply_errorf(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    CHECK(resp_add_error(&c->out, buf, (size_t)n));
}
void reply_int(client *c, int64_t v) { CHECK(resp_add_int(&c->out, v)); }
void reply_bulk(client *c, const void *p, size_t n) { CHECK(resp_add_bulk(&c->out, p, n)); }
void reply_bulkstr(client *c, const char *s) { CHECK(resp_add_bulk(&c->out, s, strlen(s))); }
/* RESP3 (HELLO 3) has one null and a map type; RESP2 spells them as before. */
void reply_null(client *c) {
    if (c->resp == 3) CHECK(resp_buf_append(&c->out, "_\r\n", 3));
    else CHECK(resp_buf_append(&c->out, "$-1\r\n", 5));
}
void reply_null_array(client *c) {
    if (c->resp == 3) CHECK(resp_buf_append(&c->out, "_\r\n", 3));
    else CHECK(resp_buf_append(&c->out, "*-1\r\n", 5));
}
void reply_map(client *c, int64_t pairs) {
    if (c->resp == 3) {
        char hdr[32];
        int n = snprintf(hdr, sizeof hdr, "%%%lld\r\n", (long long)pairs);
        CHECK(resp_buf_append(&c->out, hdr, (size_t)n));
    } else {
        CHECK(resp_add_array(&c->out, pairs * 2));
    }
}
void reply_array(client *c, int64_t n) { CHECK(resp_add_array(&c->out, n)); }
void reply_double(client *c, double d) {
    if (c->resp == 3) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, ",%.17g\r\n", d);
        CHECK(resp_buf_append(&c->out, buf, (size_t)n));
    } else {
        CHECK(resp_add_double(&c->out, d));
    }
}

void reply_syntax_error(client *c) { reply_error(c, "ERR syntax error"); }
void reply_wrongtype(client *c) {
    reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}
void reply_not_integer(client *c) { reply_error(c, "ERR value is not an integer or out of range"); }
void reply_storage_error(client *c, char *err) {
    reply_errorf(c, "ERR storage error: %s", err ? err : "unknown");
    free(err);
}
void reply_arity_error(client *c, const char *name) {
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", name);
}

/* A count known only after the elements: remember where the array starts
 * and insert the header there later (one memmove of the elements; RESP has
 * no fixed-width count to patch in place). */
size_t reply_deferred_array(client *c) { return c->out.len; }

void reply_set_deferred_map(client *c, size_t slot, int64_t pairs) {
    if (c->resp == 3) {
        char hdr[32];
        int hl = snprintf(hdr, sizeof hdr, "%%%lld\r\n", (long long)pairs);
        if (!resp_buf_reserve(&c->out, (size_t)hl)) { oom(c); return; }
        memmove(c->out.data + slot + hl, c->out.data + slot, c->out.len - slot);
        memcpy(c->out.data + slot, hdr, (size_t)hl);
        c->out.len += (size_t)hl;
    } else {
        reply_set_deferred_array(c, slot, pairs * 2);
    }
}

void reply_set_deferred_array(client *c, size_t slot, int64_t n) {
    char hdr[32];
    int hl = snprintf(hdr, sizeof hdr, "*%lld\r\n", (long long)n);
    if (!resp_buf_reserve(&c->out, (size_t)hl)) { oom(c); return; }
    memmove(c->out.data + slot + hl, c->out.data + slot, c->out.len - slot);
    memcpy(c->out.data + slot, hdr, (size_t)hl);
    c->out.len += (size_t)hl;
}

void reply_fail(client *c, const status *st) {
    reply_error(c, st->msg[0] ? st->msg : "ERR unknown error");
}
