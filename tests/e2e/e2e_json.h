/* Reading the JSON texts the server returns (documents, ledger rows,
 * notifications): the e2e tests link no JSON library. Two readers:
 *
 *   - jget / jstr / jint / jtype / jcount walk one top-level object and
 *     assert it is well-formed (no duplicate members, nothing after it);
 *     json_member is the same walk without assertions;
 *   - jfind / jfind_in / jfind_int search the text for "name": wherever it
 *     stands (also in a nested object), for tests that look inside one.
 *
 * Then checks on lists of documents and on ledger rows built on them.
 * Implemented in harness_json.c. */
#ifndef STAGEKV_E2E_JSON_H
#define STAGEKV_E2E_JSON_H

#include "harness.h"

#include <stddef.h>

typedef struct jval {
    char type;    /* 's' string, 'i' integer, 'n' null, 't'/'f' booleans, 'o' other */
    long long i;
    char s[8192]; /* a string, decoded (UTF-8), NUL-terminated */
    size_t slen;
} jval;

/* ---- the members of one object ------------------------------------------------- */

/* Member name of the object json: 1 found (v filled), 0 absent, -1 when json
 * is not one well-formed object with distinct member names. */
int json_member(const char *json, const char *name, jval *v);

/* The same, asserting json well-formed: 1 found (v filled), 0 absent. */
int jget(const char *json, const char *name, jval *v);
/* Number of members of the object json. */
size_t jcount(const char *json);
/* Integer member (asserted present and an integer). */
long long jint(const char *json, const char *name);
/* String member (asserted present and a string), in one of 4 static buffers
 * used in turn (so two may be compared). */
const char *jstr(const char *json, const char *name);
/* The type of the member ('s', 'i', 'n', 't', 'f', 'o'), 0 when absent. */
char jtype(const char *json, const char *name);

/* ---- "name": anywhere in the text ---------------------------------------------- */

/* The string member name found after the text from (NULL: from the start)
 * in json, decoded (escapes, \uXXXX with surrogate pairs) into out; its
 * length, -1 when absent or not a string. */
long jfind_in(const char *json, const char *from, const char *name, char *out, size_t cap);
/* The first string member name in json, "" when absent; in one of 4 static
 * buffers used in turn. */
const char *jfind(const char *json, const char *name);
/* The first integer member name in json, -999 when absent. */
long long jfind_int(const char *json, const char *name);

/* ---- lists of documents -------------------------------------------------------- */

/* An array of JSON documents whose string member name is want[0..n), in
 * order (the documents asserted to be well-formed objects). */
#define expect_docs(r, name, n, ...) expect_docs_at(SKV_AT, (r), (name), (n), (const char *const[]){__VA_ARGS__})
/* ... whose ids are the strings given. */
#define expect_ids(r, n, ...) expect_docs_at(SKV_AT, (r), "id", (n), (const char *const[]){__VA_ARGS__})
/* ... whose ids are ids[0..n) of an array char ids[][17]. */
#define expect_id_list(r, n, ids) expect_id_list_at(SKV_AT, (r), (n), (ids))

void expect_docs_at(const char *file, int line, redisReply *r, const char *name, size_t n,
                    const char *const *want);
void expect_id_list_at(const char *file, int line, redisReply *r, size_t n, char (*ids)[17]);

/* ---- ledger rows ------------------------------------------------------------------ */

/* A ledger row: exactly the six members with these values (counterparty
 * NULL = JSON null); id and created_at well-formed. */
#define expect_row(json, amount, after, reason, cp) expect_row_at(SKV_AT, (json), (amount), (after), (reason), (cp))
void expect_row_at(const char *file, int line, const char *json, long long amount, long long after,
                   const char *reason, const char *cp);

/* The rows of COINS.HISTORY uid (newest first) as strings: *n of them; free
 * with free_rows. */
char **coins_history(redisContext *c, const char *uid, size_t *n);
void free_rows(char **rows);

#endif
