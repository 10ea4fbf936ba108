/* Fuzz target: the key and value encodings (storage/encoding.h).
 *
 * The decoder reads bytes from disk, so it must accept any value bytes
 * without reading outside them; the encoders must round-trip through it.
 *   - enc_value_decode on the raw input: -1, or a payload inside the input
 *     (header 1 or 9 bytes) and the type from the low 4 bits;
 *   - enc_value_header + payload, decoded: same type, expiry and payload;
 *   - enc_data_key: db byte then the key;
 *   - enc_put_u64 / enc_get_u64 round trip, big endian (byte order sorts
 *     like the number);
 *   - enc_prefix_end: the result sorts after p and after every extension
 *     of p, and before anything that does not start with p (checked on a
 *     few strings); 0 only when p is all 0xff. */
#include <string.h>

#include "encoding.h"
#include "fuzz.h"

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl) {
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static void check_decode(const uint8_t *d, size_t n) {
    char *v = calloc(1, n ? n : 1);
    enc_value out;
    FUZZ_CHECK(v);
    if (n) memcpy(v, d, n);
    memset(&out, 0xa5, sizeof out);
    int r = enc_value_decode(v, n, &out);
    if (r == 0) {
        size_t h = (n && ((unsigned char)v[0] & ENC_HAS_EXPIRE)) ? 9 : 1;
        FUZZ_CHECK(n >= h);
        FUZZ_CHECK(out.payload == v + h && out.len == n - h);
        FUZZ_CHECK(out.type == ((unsigned char)v[0] & ENC_TYPE_MASK));
        if (h == 9) FUZZ_CHECK((uint64_t)out.expire_ms == enc_get_u64(v + 1));
        else FUZZ_CHECK(out.expire_ms == 0);
        if (out.len) {
            volatile char last = out.payload[out.len - 1];
            (void)last;
        }
    } else {
        FUZZ_CHECK(r == -1);
        FUZZ_CHECK(n == 0 || (((unsigned char)v[0] & ENC_HAS_EXPIRE) && n < 9));
    }
    free(v);
}

static void check_header(unsigned type, int64_t exp, const uint8_t *payload, size_t pl) {
    size_t hl = enc_header_len(exp);
    char *v = malloc(hl + pl + 1);
    enc_value out;
    FUZZ_CHECK(v);
    size_t w = enc_value_header(v, type, exp);
    FUZZ_CHECK(w == hl);
    if (pl) memcpy(v + w, payload, pl);
    FUZZ_CHECK(enc_value_decode(v, w + pl, &out) == 0);
    FUZZ_CHECK(out.type == (type & ENC_TYPE_MASK));
    FUZZ_CHECK(out.expire_ms == exp);
    FUZZ_CHECK(out.len == pl && (pl == 0 || memcmp(out.payload, payload, pl) == 0));
    free(v);
}

static void check_u64(uint64_t a, uint64_t b) {
    char ea[8], eb[8];
    enc_put_u64(ea, a);
    enc_put_u64(eb, b);
    FUZZ_CHECK(enc_get_u64(ea) == a && enc_get_u64(eb) == b);
    int c = memcmp(ea, eb, 8);
    FUZZ_CHECK((c < 0) == (a < b) && (c == 0) == (a == b));
}

static void check_prefix_end(const uint8_t *d, size_t n, const uint8_t *other, size_t on) {
    const char *p = (const char *)d;
    char *out = malloc(n ? n : 1);
    FUZZ_CHECK(out);
    size_t r = enc_prefix_end(out, p, n);
    size_t ff = 0;
    while (ff < n && d[ff] == 0xff) ff++;
    if (r == 0) {
        FUZZ_CHECK(ff == n); /* all 0xff (or empty) */
        free(out);
        return;
    }
    FUZZ_CHECK(r <= n);
    /* after p and after p + anything (p + 0xff... included) */
    FUZZ_CHECK(cmp_bytes(out, r, p, n) > 0);
    char *ext = malloc(n + 4);
    FUZZ_CHECK(ext);
    memcpy(ext, p, n);
    memset(ext + n, 0xff, 4);
    FUZZ_CHECK(cmp_bytes(out, r, ext, n + 4) > 0);
    free(ext);
    /* every string >= p that sorts before out starts with p: try `other` */
    if (cmp_bytes((const char *)other, on, p, n) >= 0 &&
        cmp_bytes((const char *)other, on, out, r) < 0)
        FUZZ_CHECK(on >= n && memcmp(other, p, n) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_decode(data, size);

    const uint8_t *d = data;
    size_t n = size;
    uint8_t sel = (uint8_t)fuzz_take(&d, &n, 1);
    int64_t exp = (int64_t)fuzz_take(&d, &n, 8);
    uint64_t other = fuzz_take(&d, &n, 8);

    check_header(sel, exp, d, n);
    check_u64((uint64_t)exp, other);

    /* data key: db 0..15 */
    {
        char *k = malloc(n + 1);
        FUZZ_CHECK(k);
        size_t kl = enc_data_key(k, sel % ENC_MAX_DB, (const char *)d, n);
        FUZZ_CHECK(kl == n + 1 && (unsigned char)k[0] == sel % ENC_MAX_DB);
        FUZZ_CHECK(n == 0 || memcmp(k + 1, d, n) == 0);
        free(k);
    }

    /* prefix end: prefix = d[0..cut), other string = d[cut..) */
    size_t cut = n ? sel % (n + 1) : 0;
    check_prefix_end(d, cut, d + cut, n - cut);
    check_prefix_end(d, n, data, size);
    return 0;
}
