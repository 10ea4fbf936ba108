/* Fuzz target: JSON checks and the RFC 7386 merge patch (server/json.h).
 *
 * Input: one byte of limits, then a target document and a patch separated
 * by the first "\n\x00\n" (absent: the whole input is both). Invariants:
 *   - json_check, json_parse_any and json_parse_doc never crash, fill err
 *     NUL-terminated within cap on failure and leave it alone otherwise;
 *   - whatever json_parse_any or json_parse_doc accept, json_check accepts;
 *     json_parse_doc gives an object within the depth limit;
 *   - json_encode gives text that json_parse_any reads back as an equal
 *     value (reals exact, integers exact, member order kept);
 *   - merge patch: the result equals the patch when the patch is not an
 *     object; applying the same patch again changes nothing (RFC 7386 is
 *     idempotent); the result holds no member whose patch value was null,
 *     and every non-null, non-object patch member is in it as given;
 *     the patch itself is not changed. */
#include <string.h>

#include "fuzz.h"
#include "json.h"

static void check_err(const char *err, size_t cap, int failed) {
    if (!failed) {
        FUZZ_CHECK(err[0] == 'Q'); /* untouched */
        return;
    }
    FUZZ_CHECK(memchr(err, 0, cap) != NULL);
    FUZZ_CHECK(err[0] != 0 || cap <= 1);
}

/* encode, parse back, compare */
static void check_encode(const json_t *v) {
    size_t len = 0;
    char err[160];
    char *txt = json_encode(v, &len);
    FUZZ_CHECK(txt);
    FUZZ_CHECK(strlen(txt) <= len); /* "\u0000" is escaped, but be safe */
    json_t *back = json_parse_any(txt, len, err, sizeof err);
    if (!back) {
        fprintf(stderr, "re-parse failed: %s\ntext: %.*s\n", err, (int)len, txt);
        FUZZ_CHECK(back);
    }
    FUZZ_CHECK(json_equal(back, (json_t *)v));
    FUZZ_CHECK(json_check(txt, len, err, sizeof err) == 0);
    json_decref(back);
    free(txt);
}

static void check_patch_result(const json_t *r, const json_t *patch) {
    const char *k;
    size_t kl;
    json_t *pv;
    if (!json_is_object(patch)) {
        FUZZ_CHECK(json_equal((json_t *)r, (json_t *)patch));
        return;
    }
    FUZZ_CHECK(json_is_object(r));
    json_object_keylen_foreach((json_t *)patch, k, kl, pv) {
        json_t *rv = json_object_getn(r, k, kl);
        if (json_is_null(pv)) {
            FUZZ_CHECK(rv == NULL);
        } else if (json_is_object(pv)) {
            FUZZ_CHECK(rv != NULL);
            check_patch_result(rv, pv);
        } else {
            FUZZ_CHECK(rv != NULL && json_equal(rv, pv));
        }
    }
}

static void merge(const char *t, size_t tl, const char *p, size_t pl) {
    char err[160];
    json_t *target = json_parse_any(t, tl, err, sizeof err);
    json_t *patch = json_parse_any(p, pl, err, sizeof err);
    if (!patch) {
        json_decref(target);
        return;
    }
    json_t *patch_before = json_deep_copy(patch);
    json_t *target_copy = target ? json_deep_copy(target) : NULL;
    FUZZ_CHECK(patch_before && (!target || target_copy));

    json_t *r = json_merge_patch(target, patch);
    FUZZ_CHECK(r);
    if (r != target) json_decref(target);
    FUZZ_CHECK(json_equal(patch, patch_before));
    check_patch_result(r, patch);
    check_encode(r);

    /* idempotent: once more on (a copy of) the result */
    json_t *again_in = json_deep_copy(r);
    FUZZ_CHECK(again_in);
    json_t *again = json_merge_patch(again_in, patch);
    FUZZ_CHECK(again);
    if (again != again_in) json_decref(again_in);
    FUZZ_CHECK(json_equal(again, r));
    json_decref(again);

    /* the same on a target that is the patch itself. Only for an object:
     * for a non-object x, json_merge_patch(x, x) returns x with an extra
     * reference, which the documented "r == target: no extra reference"
     * rule cannot tell apart (no caller does that; see docs/fuzzing.md). */
    if (json_is_object(patch)) {
        json_t *self = json_deep_copy(patch);
        FUZZ_CHECK(self);
        json_t *rs = json_merge_patch(self, self);
        FUZZ_CHECK(rs == self);
        check_patch_result(rs, patch_before);
        json_decref(rs);
    }

    /* absent target (NULL) */
    json_t *rn = json_merge_patch(NULL, patch);
    FUZZ_CHECK(rn);
    check_patch_result(rn, patch);
    json_decref(rn);

    json_decref(r);
    json_decref(target_copy);
    json_decref(patch_before);
    json_decref(patch);
}

/* containers on the deepest path: {} is 1, {"a":[1]} is 2 */
static int depth_of(const json_t *v) {
    int best = 0;
    const char *k;
    json_t *m;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, m) {
            int d = depth_of(m);
            if (d > best) best = d;
        }
        return best + 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            int d = depth_of(m);
            if (d > best) best = d;
        }
        return best + 1;
    }
    return 0;
}

static void check_one(const char *p, size_t n, uint8_t lim) {
    char err[200];
    size_t cap = (lim & 0x80) ? (size_t)(lim & 7) : sizeof err; /* tiny caps too */
    int checked, any_ok;

    memset(err, 'Q', sizeof err);
    checked = json_check(p, n, err, cap);
    FUZZ_CHECK(checked == 0 || checked == -1);
    if (cap) check_err(err, cap, checked != 0);

    memset(err, 'Q', sizeof err);
    json_t *v = json_parse_any(p, n, err, cap);
    if (cap) check_err(err, cap, v == NULL);
    any_ok = v != NULL;
    if (v) {
        FUZZ_CHECK(checked == 0);
        check_encode(v);
        json_decref(v);
    }

    json_doc_limits dl = {.max_size = (lim & 1) ? (size_t)(lim >> 1) * 8 : 0,
                          .max_depth = (lim & 2) ? (lim >> 2) % 8 : 0};
    int depth = dl.max_depth > 0 && !(lim & 0x40) ? dl.max_depth : JSON_DOC_DEFAULT_MAX_DEPTH;
    memset(err, 'Q', sizeof err);
    json_t *d = json_parse_doc(p, n, (lim & 0x40) ? NULL : &dl, err, cap);
    if (cap) check_err(err, cap, d == NULL);
    if (d) {
        FUZZ_CHECK(checked == 0 && any_ok);
        FUZZ_CHECK(json_is_object(d));
        FUZZ_CHECK(depth_of(d) <= depth);
        FUZZ_CHECK(n <= (dl.max_size && !(lim & 0x40) ? dl.max_size : JSON_DOC_DEFAULT_MAX_SIZE));
        check_encode(d);
        json_decref(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t lim = (uint8_t)fuzz_take(&data, &size, 1);
    const char *s = (const char *)data;
    const char *sep = size >= 3 ? memmem(s, size, "\n\0\n", 3) : NULL;

    /* exact-size copies so a read past the end is caught */
    char *whole = malloc(size ? size : 1);
    FUZZ_CHECK(whole);
    if (size) memcpy(whole, s, size);
    check_one(whole, size, lim);
    if (sep) {
        size_t tl = (size_t)(sep - s), pl = size - tl - 3;
        char *t = malloc(tl ? tl : 1), *p = malloc(pl ? pl : 1);
        FUZZ_CHECK(t && p);
        memcpy(t, s, tl);
        memcpy(p, sep + 3, pl);
        check_one(p, pl, lim);
        merge(t, tl, p, pl);
        free(t);
        free(p);
    } else {
        merge(whole, size, whole, size);
    }
    free(whole);
    return 0;
}
