/* Replies: handlers and dispatch append them to c->out (never a socket). */
#ifndef STAGEKV_REPLY_H
#define STAGEKV_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct client client;

/* ---- replies (append to c->out) --------------------------------------- */
void reply_ok(client *c);
void reply_status(client *c, const char *s);
void reply_error(client *c, const char *s); /* s without '-' */
void reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(client *c, int64_t v);
void reply_bulk(client *c, const void *p, size_t n);
void reply_bulkstr(client *c, const char *s);
void reply_null(client *c);
void reply_null_array(client *c);
void reply_array(client *c, int64_t n);
void reply_map(client *c, int64_t pairs); /* RESP3 map, RESP2 flat array */
void reply_double(client *c, double d);
/* Common errors */
void reply_syntax_error(client *c);
void reply_wrongtype(client *c);
void reply_not_integer(client *c);
void reply_storage_error(client *c, char *err); /* frees err */
/* The error line of a failed lower-layer call (keyspace, engine, model). */
void reply_fail(client *c, const status *st);
void reply_arity_error(client *c, const char *name);
/* Reserve a slot for an array header whose count is known only later. */
size_t reply_deferred_array(client *c);
void reply_set_deferred_array(client *c, size_t slot, int64_t n);
void reply_set_deferred_map(client *c, size_t slot, int64_t pairs);

#endif
