#include <criterion/criterion.h>
#include <string.h>

#include "encoding.h"

Test(encoding, prefix_end_normal) {
    char out[8];
    size_t n = enc_prefix_end(out, "abc", 3);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(out, "abd", 3) == 0);
}

Test(encoding, prefix_end_trailing_ff) {
    char out[8];
    size_t n = enc_prefix_end(out, "a\xff\xff", 3);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0], 'b');

    n = enc_prefix_end(out, "\x01\xfe\xff", 3);
    cr_assert_eq(n, 2);
    cr_assert(memcmp(out, "\x01\xff", 2) == 0);
}

Test(encoding, prefix_end_all_ff) {
    char out[8];
    cr_assert_eq(enc_prefix_end(out, "\xff\xff\xff", 3), 0);
    cr_assert_eq(enc_prefix_end(out, "\xff", 1), 0);
    cr_assert_eq(enc_prefix_end(out, "", 0), 0);
}

Test(encoding, prefix_end_db_byte) {
    /* a whole database: db 3 -> [\x03, \x04) */
    char out[2];
    char p[1] = {3};
    cr_assert_eq(enc_prefix_end(out, p, 1), 1);
    cr_assert_eq(out[0], 4);
}

Test(encoding, data_key) {
    char out[16];
    size_t n = enc_data_key(out, 7, "key", 3);
    cr_assert_eq(n, 4);
    cr_assert_eq(out[0], 7);
    cr_assert(memcmp(out + 1, "key", 3) == 0);
    cr_assert_eq(enc_data_key(out, 0, NULL, 0), 1);
}

Test(encoding, value_roundtrip_no_expiry) {
    char v[32];
    size_t h = enc_value_header(v, ENC_TYPE_STRING, 0);
    cr_assert_eq(h, 1);
    cr_assert_eq(h, enc_header_len(0));
    memcpy(v + h, "hello", 5);
    enc_value d;
    cr_assert_eq(enc_value_decode(v, h + 5, &d), 0);
    cr_assert_eq(d.type, ENC_TYPE_STRING);
    cr_assert_eq(d.expire_ms, 0);
    cr_assert_eq(d.len, 5);
    cr_assert(memcmp(d.payload, "hello", 5) == 0);
}

Test(encoding, value_roundtrip_with_expiry) {
    char v[32];
    int64_t exp = 1700000000123LL;
    size_t h = enc_value_header(v, 3, exp);
    cr_assert_eq(h, 9);
    cr_assert_eq(h, enc_header_len(exp));
    cr_assert((unsigned char)v[0] & ENC_HAS_EXPIRE);
    memcpy(v + h, "xy", 2);
    enc_value d;
    cr_assert_eq(enc_value_decode(v, h + 2, &d), 0);
    cr_assert_eq(d.type, 3);
    cr_assert_eq(d.expire_ms, exp);
    cr_assert_eq(d.len, 2);
    cr_assert(memcmp(d.payload, "xy", 2) == 0);

    /* empty payload */
    cr_assert_eq(enc_value_decode(v, h, &d), 0);
    cr_assert_eq(d.len, 0);
}

Test(encoding, value_corrupt) {
    enc_value d;
    cr_assert_eq(enc_value_decode("", 0, &d), -1);
    char v[9];
    enc_value_header(v, 0, 42);
    cr_assert_eq(enc_value_decode(v, 5, &d), -1); /* truncated expiry */
}

Test(encoding, u64_roundtrip) {
    char b[8];
    enc_put_u64(b, 0x0102030405060708ULL);
    cr_assert_eq(b[0], 1);
    cr_assert_eq(b[7], 8);
    cr_assert_eq(enc_get_u64(b), 0x0102030405060708ULL);
    enc_put_u64(b, UINT64_MAX);
    cr_assert_eq(enc_get_u64(b), UINT64_MAX);
}
