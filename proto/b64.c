#include "b64.h"

#include <stdint.h>
#include <stdlib.h>

#include <nettle/base64.h>

void b64_encode(char *dst, const void *src, size_t n) { base64_encode_raw(dst, n, (const uint8_t *)src); }

int b64_valid(const char *s, size_t n) {
    if (n % 4) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        /* '=' only as the last one or two characters */
        if (!alpha && !(c == '=' && i + 2 >= n && (i == n - 1 || s[n - 1] == '='))) return 0;
    }
    return 1;
}

long b64_decode(char *dst, const char *s, size_t n) {
    if (!b64_valid(s, n)) return -1;
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t out = B64_DECODED_MAX(n);
    if (!base64_decode_update(&ctx, &out, (uint8_t *)dst, n, s) || !base64_decode_final(&ctx)) return -1;
    return (long)out;
}

char *b64_decode_alloc(const char *s, size_t n, size_t *out_len) {
    char *o = malloc(B64_DECODED_MAX(n));
    long w = o ? b64_decode(o, s, n) : -1;
    if (w < 0) {
        free(o);
        return NULL;
    }
    *out_len = (size_t)w;
    return o;
}
