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

size_t enc_elem_prefix(char *out, int db, const char *k, size_t kl, uint64_t version, char kind) {
    out[0] = (char)db;
    out[1] = (char)(kl >> 24);
    out[2] = (char)(kl >> 16);
    out[3] = (char)(kl >> 8);
    out[4] = (char)kl;
    if (kl) memcpy(out + 5, k, kl);
    enc_put_u64(out + 5 + kl, version);
    if (!kind) return kl + 13;
    out[13 + kl] = kind;
    return kl + ENC_ELEM_OVERHEAD;
}

int enc_elem_parse(const char *ek, size_t n, int *db, const char **k, size_t *kl, uint64_t *version) {
    if (n < 13) return -1;
    size_t l = (size_t)(unsigned char)ek[1] << 24 | (size_t)(unsigned char)ek[2] << 16 |
               (size_t)(unsigned char)ek[3] << 8 | (size_t)(unsigned char)ek[4];
    if (l > n - 13) return -1;
    *db = (unsigned char)ek[0];
    *k = ek + 5;
    *kl = l;
    *version = enc_get_u64(ek + 5 + l);
    return 0;
}

void enc_put_double(char *p, double d) {
    uint64_t u;
    if (d == 0) d = 0; /* -0 sorts as 0 */
    memcpy(&u, &d, 8);
    /* positive: set the sign bit; negative: flip every bit */
    u = (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
    enc_put_u64(p, u);
}

double enc_get_double(const char *p) {
    uint64_t u = enc_get_u64(p);
    u = (u & 0x8000000000000000ull) ? u & ~0x8000000000000000ull : ~u;
    double d;
    memcpy(&d, &u, 8);
    return d;
}
