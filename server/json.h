/* JSON checks and transforms on top of jansson. No hand-written parser. */
#ifndef STAGEKV_JSON_H
#define STAGEKV_JSON_H

#include <stddef.h>
#include <jansson.h>

/* Checks that p[0..n) is exactly one complete JSON value (RFC 8259; any
 * type at the top level; integers of any size are accepted). Returns 0, or
 * -1 with err filled with "invalid JSON: <reason> at offset N" (N = byte
 * offset of the problem), NUL-terminated, at most cap bytes. Never crashes
 * on deep nesting (jansson's depth limit applies). */
int json_check(const char *p, size_t n, char *err, size_t cap);

/* Limits for domain documents (SPEC §4). */
typedef struct json_doc_limits {
    size_t max_size;  /* bytes, default 1 MB */
    int max_depth;    /* default 64 */
} json_doc_limits;

/* Parses a domain document: must be a JSON object within the limits, valid
 * UTF-8, no "\u0000" in any string or member name, no duplicate member
 * names at any level. Returns a new reference, or NULL with err filled
 * ("document must be a JSON object", "invalid JSON: ... at offset N",
 * "document too large", "document nested too deeply", "duplicate member
 * name 'x'", ...). */
json_t *json_parse_doc(const char *p, size_t n, const json_doc_limits *lim,
                       char *err, size_t cap);

/* Parses any JSON value (for KV.PATCH's stored value and patch); NULL with
 * err on failure. Integers that do not fit 64 bits become reals. */
json_t *json_parse_any(const char *p, size_t n, char *err, size_t cap);

/* RFC 7386 JSON merge patch: applies patch to target in place when both
 * are objects and returns target; when patch is not an object, returns a
 * new reference to patch (the whole value is replaced) and target is left
 * alone. Members of patch whose value is null delete the member. */
json_t *json_merge_patch(json_t *target, json_t *patch);

/* Compact encoding that keeps member order (malloc()ed, caller frees), or
 * NULL when out of memory. *len gets the length. */
char *json_encode(const json_t *v, size_t *len);

#endif
