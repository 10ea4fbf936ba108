/* Fuzz target: the import's mapper (server/domain/import.c), which takes
 * every record of an untrusted export file.
 *
 * Input: the record's key up to the first '\n', its value text after it.
 * Invariants:
 *   - import_map returns 0 or -1; -1 leaves a reason (non-empty, within
 *     the buffer) and no plan; 0 gives a pattern and, except for derived
 *     records, a value;
 *   - the same input maps the same way twice (same plan, same reason);
 *   - a ledger plan's rows are non-zero, its sum is the plan's amount, its
 *     lowest running sum is the plan's low, and opening with -low never
 *     takes the running balance past 2^63-1;
 *   - a balance is never negative; kept ids and owners are valid ids. */
#include <string.h>

#include "fuzz.h"
#include "import.h"

static void check_ids(const json_t *arr, const char *member) {
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        const json_t *id = json_object_get(el, member);
        FUZZ_CHECK(!id || json_is_null(id) ||
                   (json_is_string(id) && dom_valid_id(json_string_value(id), json_string_length(id))));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data, *nl = memchr(p, '\n', size);
    size_t kl = nl ? (size_t)(nl - p) : size;
    const char *val = nl ? nl + 1 : p + size;
    size_t vl = nl ? size - kl - 1 : 0;
    imp_plan a, b;
    char wa[300], wb[300];
    wa[0] = wb[0] = 0;
    int ra = import_map(p, kl, val, vl, 4096, &a, wa, sizeof wa);
    int rb = import_map(p, kl, val, vl, 4096, &b, wb, sizeof wb);
    FUZZ_CHECK(ra == rb);
    if (ra < 0) {
        FUZZ_CHECK(ra == -1);
        FUZZ_CHECK(wa[0] && strlen(wa) < sizeof wa);
        FUZZ_CHECK(strcmp(wa, wb) == 0);
        FUZZ_CHECK(a.value == NULL);
        return 0;
    }
    FUZZ_CHECK(a.pat && a.pat == b.pat);
    FUZZ_CHECK(a.pat->kind == IMP_DERIVED || a.pat->kind == IMP_BALANCE || a.value);
    FUZZ_CHECK(a.value ? json_equal(a.value, b.value) : b.value == NULL);
    if (a.owner[0]) FUZZ_CHECK(dom_valid_id(a.owner, strlen(a.owner)));
    switch (a.pat->kind) {
    case IMP_LEDGER: {
        int64_t sum = 0, low = 0, hi = 0;
        size_t i;
        json_t *row;
        json_array_foreach(a.value, i, row) {
            int64_t d = (int64_t)json_integer_value(json_object_get(row, "delta"));
            FUZZ_CHECK(d != 0 && d != INT64_MIN);
            sum += d; /* the mapper refused any overflow, so none here */
            if (sum < low) low = sum;
            if (sum > hi) hi = sum;
        }
        FUZZ_CHECK(sum == a.amount && low == a.low && low <= 0);
        FUZZ_CHECK(hi <= INT64_MAX + low);
        break;
    }
    case IMP_BALANCE: FUZZ_CHECK(a.amount >= 0); break;
    case IMP_ENTITIES:
    case IMP_NOTIFICATIONS:
    case IMP_DONATIONS: check_ids(a.value, "id"); break;
    case IMP_FEED: check_ids(a.value, "id"), check_ids(a.value, "uid"); break;
    default: break;
    }
    import_plan_free(&a);
    import_plan_free(&b);
    return 0;
}
