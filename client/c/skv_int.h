/* libstagekv internals shared by its files: not installed. */
#ifndef SKV_INT_H
#define SKV_INT_H

#include "stagekv.h"

#include <stdarg.h>

/* The command flags the server published, shared (refcounted) by every
 * client of a pool. Immutable once loaded. */
typedef struct skv_cmdmap skv_cmdmap;

skv_cmdmap *skv__cmdmap_ref(skv_cmdmap *m);
void skv__cmdmap_unref(skv_cmdmap *m);

struct skv_client {
    redisContext *ctx; /* NULL while disconnected */
    skv_options opt;   /* its strings point at the copies in own[] */
    char *own[4];
    skv_cmdmap *map;
};

/* Opens a client that shares map (may be NULL: it loads its own). */
skv_status skv__open(const skv_options *o, skv_cmdmap *map, skv_client **out, skv_error *err);

/* Sets *err (when not NULL) and returns code. */
skv_status skv__fail(skv_error *err, skv_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void skv__ok(skv_error *err);

/* ---- building a command and reading its reply (call.c) ------------------------- */

#define SKV_ARGS_INLINE 16

/* An argv under construction. Strings added are borrowed unless the
 * builder made them (JSON text, numbers), which it frees in skv__args_free. */
typedef struct skv_args {
    int argc, cap;
    const char **argv;
    size_t *len;
    const char *argv_in[SKV_ARGS_INLINE];
    size_t len_in[SKV_ARGS_INLINE];
    char **owned;
    char *owned_in[SKV_ARGS_INLINE];
    int nowned, owned_cap;
    int oom; /* a failed allocation: skv__args_run reports it */
    int bad_json; /* a document jansson could not encode */
} skv_args;

void skv__args_init(skv_args *a);
void skv__args_free(skv_args *a);
void skv__args_str(skv_args *a, const char *s);
void skv__args_ll(skv_args *a, long long v);
void skv__args_json(skv_args *a, const json_t *doc);
/* AFTER id / LIMIT n of a page (NULL: none). */
void skv__args_page(skv_args *a, const skv_page *page);
/* Sends the command (retry policy) and frees the builder. */
skv_status skv__args_run(skv_client *c, skv_args *a, redisReply **reply, skv_error *err);

/* Each takes a reply (freed) and converts it; a wrong shape is SKV_PROTOCOL. */
skv_status skv__take_int(redisReply *r, long long *out, skv_error *err);
skv_status skv__take_ok(redisReply *r, skv_error *err);
skv_status skv__take_id(redisReply *r, char id[SKV_ID_SIZE], int nil_ok, skv_error *err);
/* A bulk JSON document, or NULL for nil. */
skv_status skv__take_json(redisReply *r, json_t **out, skv_error *err);
/* An array of bulk JSON documents (strings: keep_strings) into a JSON array. */
skv_status skv__take_array(redisReply *r, int keep_strings, json_t **out, skv_error *err);
/* Parses one JSON text (any value), NULL and SKV_PROTOCOL if it is not. */
skv_status skv__parse_json(const char *s, size_t n, json_t **out, skv_error *err);

#endif
