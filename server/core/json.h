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
/* Accepts what json_parse_any() accepts, plus integers beyond 64 bits:
 * KV.SET stores the exact bytes and never re-encodes them, so nothing is
 * rounded. For a text without such integers the error is the same as
 * json_parse_any()'s. Beyond RFC 8259 jansson refuses: "\u0000" in member
 * names (in values it is fine), numbers beyond double's range (a
 * 400-digit integer, 1e400: "real number overflow"), lone surrogate
 * escapes ("\ud800"), a byte order mark. N is jansson's position: just
 * past the offending token, or the offset of an invalid UTF-8 byte / raw
 * NUL byte. At most two jansson parses, each freed at once. */
int json_check(const char *p, size_t n, char *err, size_t cap);

/* Limits for domain documents (SPEC §4). */
typedef struct json_doc_limits {
    size_t max_size;  /* bytes, default 1 MB */
    int max_depth;    /* default 64 */
} json_doc_limits;

/* Used when lim is NULL, and for a field that is 0. */
#define JSON_DOC_DEFAULT_MAX_SIZE ((size_t)1024 * 1024)
#define JSON_DOC_DEFAULT_MAX_DEPTH 64

/* Parses a domain document: must be a JSON object within the limits, valid
 * UTF-8, no "\u0000" in any string or member name, no duplicate member
 * names at any level. Returns a new reference, or NULL with err filled
 * ("document must be a JSON object", "invalid JSON: ... at offset N",
 * "document too large", "document nested too deeply", "duplicate member
 * name 'x'", ...). */
/* Depth counts containers: the top object is 1, {"a":{"b":[1]}} is 3.
 * Exact messages: "document too large (max N bytes)", "document nested
 * too deeply (max N)", "document must be a JSON object", "duplicate member
 * name 'x'" (x JSON-escaped, cut at 100 bytes), "document contains
 * \u0000", "invalid JSON: <reason> at offset N" (syntax, invalid UTF-8,
 * an integer beyond 64 bits). Integers: as for json_parse_any(). */
json_t *json_parse_doc(const char *p, size_t n, const json_doc_limits *lim,
                       char *err, size_t cap);

/* Parses any JSON value (for KV.PATCH's stored value and patch); NULL with
 * err on failure. Strings may hold "\u0000". Errors: "invalid JSON:
 * <reason> at offset N". */
/* Integers (here and in json_parse_doc()): every integer within int64
 * (INT64_MIN..INT64_MAX) is kept exactly, as a json_int_t. An integer
 * outside that range is refused, "invalid JSON: integer does not fit in
 * 64 bits at offset N" (N = just past the number), never read as a real:
 * the value is encoded again (KV.PATCH, domain documents), and a rounded
 * real would silently change the data (SPEC §4: integers keep their exact
 * value). A real beyond double's range (1e400) keeps jansson's "real
 * number overflow" error. */
json_t *json_parse_any(const char *p, size_t n, char *err, size_t cap);

/* RFC 7386 JSON merge patch: applies patch to target in place when both
 * are objects and returns target; when patch is not an object, returns a
 * new reference to patch (the whole value is replaced) and target is left
 * alone. Members of patch whose value is null delete the member. */
/* References: the caller keeps its own references to target and patch.
 * When the result is target it carries no extra reference; otherwise it
 * is a new reference (and target is untouched). So:
 *     json_t *r = json_merge_patch(t, p);
 *     if (!r) ...out of memory (t may be partly patched)...
 *     if (r != t) json_decref(t);
 *     ...use r...; json_decref(r); json_decref(p);
 * A target that is not an object (or NULL: absent) with an object patch
 * gives a new object, the patch applied to {} (RFC 7386). Nested objects
 * of target are patched in place too; non-object values of patch are
 * shared into target (json_object_set), patch itself is not changed. */
json_t *json_merge_patch(json_t *target, json_t *patch);

/* Compact encoding that keeps member order (malloc()ed, caller frees), or
 * NULL when out of memory. *len gets the length. */
/* Reals use the fewest digits (15, 16 or 17, one count for the whole
 * value) at which every real in v reads back exactly: 0.1 -> 0.1, 1.0 ->
 * 1.0, 1e300 -> 1e300. Freed with free() (jansson's default allocator). */
char *json_encode(const json_t *v, size_t *len);
/* The same encoding into a buffer of the calling thread, reused by the
 * next call on that thread (no allocation once it has grown): valid until
 * then, not NUL-terminated. NULL when out of memory. For a caller that
 * copies the text at once (a store put, a publish). */
const char *json_encode_tmp(const json_t *v, size_t *len);

#endif
