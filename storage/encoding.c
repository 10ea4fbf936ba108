#include "encoding.h"

#include <string.h>

size_t enc_data_key(char *out, int db, const char *k, size_t kl) {
    out[0] = (char)db;
    if (kl) memcpy(out + 1, k, kl);
    return kl + 1;
}

size_t enc_value_header(char *out, unsigned type, int64_t expire_ms) {
    if (!expire_ms) {
        out[0] = (char)(type & ENC_TYPE_MASK);
        return 1;
    }
    out[0] = (char)((type & ENC_TYPE_MASK) | ENC_HAS_EXPIRE);
    enc_put_u64(out + 1, (uint64_t)expire_ms);
    return 9;
}

int enc_value_decode(const char *v, size_t vl, enc_value *out) {
    if (vl < 1) return -1;
    unsigned h = (unsigned char)v[0];
    out->type = h & ENC_TYPE_MASK;
    if (h & ENC_HAS_EXPIRE) {
        if (vl < 9) return -1;
        out->expire_ms = (int64_t)enc_get_u64(v + 1);
        out->payload = v + 9;
        out->len = vl - 9;
    } else {
        out->expire_ms = 0;
        out->payload = v + 1;
        out->len = vl - 1;
    }
    return 0;
}

size_t enc_prefix_end(char *out, const char *p, size_t pl) {
    size_t n = pl;
    while (n > 0 && (unsigned char)p[n - 1] == 0xff) n--;
    if (n == 0) return 0;
    memcpy(out, p, n);
    out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
    return n;
}
