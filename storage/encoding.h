/* Byte layouts of everything stored: the one place that knows them.
 *
 * Data column family (user-visible):
 *   key   = db (1 byte, 0..15) || user key bytes
 *   value = header byte || [expire_ms: 8 bytes big endian] || payload
 *           header = type (low 4 bits) | ENC_HAS_EXPIRE (0x80)
 *   Keeping the db as the first byte makes a database one contiguous range
 *   (FLUSHDB = one range deletion) and a user prefix one contiguous range.
 *
 * Meta column family (engine-internal): key = tag byte || ... (see
 * ENC_META_*), values are the owning module's business; integers are 8
 * bytes big endian (enc_put_u64/enc_get_u64).
 */
#ifndef STAGEKV_ENCODING_H
#define STAGEKV_ENCODING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum enc_type {
    ENC_TYPE_STRING = 0,
    ENC_TYPE_HASH = 1,
    ENC_TYPE_LIST = 2,
    ENC_TYPE_SET = 3,
    ENC_TYPE_ZSET = 4,
};

/* Collections (hash, list, set, zset; docs/keys.md):
 *   data CF: db || key -> header || version u64 || size u64 [|| head u64 || tail u64 (lists)]
 *            the metadata record: the key itself, counted, expired, scanned like a string
 *   elem CF: db || keylen u32 || key || version u64 || kind byte || rest -> value
 *            one record per element; kind ENC_ELEM_*.
 * A key's elements are those of its metadata's version: deleting or expiring
 * the metadata (O(1)) orphans them, and the elem CF's compaction filter
 * drops records whose metadata is gone or has another version. */
#define ENC_COLL_META_LEN 16
#define ENC_LIST_META_LEN 32
#define ENC_ELEM_HASH 'h'   /* field -> value */
#define ENC_ELEM_SET 's'    /* member -> "" */
#define ENC_ELEM_LIST 'l'   /* index u64 -> value */
#define ENC_ELEM_ZMEMBER 'm' /* member -> score (8 bytes, enc_put_double) */
#define ENC_ELEM_ZSCORE 'z' /* score (8 bytes) || member -> "" */
/* Bytes an element prefix takes beyond the key: db, keylen, version, kind. */
#define ENC_ELEM_OVERHEAD 14

static inline int enc_is_collection(unsigned type) { return type >= ENC_TYPE_HASH && type <= ENC_TYPE_ZSET; }

#define ENC_HAS_EXPIRE 0x80u
#define ENC_TYPE_MASK 0x0fu
#define ENC_MAX_DB 16

/* Meta key tags. */
#define ENC_META_DBSIZE 'D' /* 'D' db -> u64 key count of that db */
#define ENC_META_EXPIRE 'X' /* 'X' u64 expire_ms db key -> "": expiry index (may hold stale entries) */

typedef struct enc_value {
    unsigned type;
    int64_t expire_ms;   /* 0 = none */
    const char *payload; /* into the encoded bytes */
    size_t len;
} enc_value;

static inline void enc_put_u64(char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (char)(v & 0xff); v >>= 8; }
}
static inline uint64_t enc_get_u64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (unsigned char)p[i];
    return v;
}

/* Writes the element prefix db || keylen || key || version || kind into out
 * (cap >= kl + ENC_ELEM_OVERHEAD); returns its length. kind 0: the prefix
 * of every kind (one byte shorter). */
size_t enc_elem_prefix(char *out, int db, const char *k, size_t kl, uint64_t version, char kind);
/* Splits an element key: 0 ok (db, user key into ek, version), -1 malformed. */
int enc_elem_parse(const char *ek, size_t n, int *db, const char **k, size_t *kl, uint64_t *version);
/* A double as 8 bytes whose byte order is the numeric order (-inf < ... <
 * -0 = 0 < ... < +inf; NaN never stored). */
void enc_put_double(char *p, double d);
double enc_get_double(const char *p);

/* Writes db||key into out (cap >= kl + 1); returns the length. */
size_t enc_data_key(char *out, int db, const char *k, size_t kl);

/* Header length for a value with/without expiry. */
static inline size_t enc_header_len(int64_t expire_ms) { return expire_ms ? 9 : 1; }
/* Writes the header into out; returns its length. */
size_t enc_value_header(char *out, unsigned type, int64_t expire_ms);
/* 0 ok, -1 corrupt. */
int enc_value_decode(const char *v, size_t vl, enc_value *out);

/* The smallest byte string greater than every string that starts with
 * p[0..pl): p with its last non-0xff byte incremented and the rest cut.
 * Returns the length written into out (cap >= pl), or 0 when no such
 * string exists (p is all 0xff: the range runs to the end). */
size_t enc_prefix_end(char *out, const char *p, size_t pl);

/* Bytewise order of two byte strings: RocksDB's default comparator, so
 * the order of the keys they are. */
static inline int enc_bytes_cmp(const char *a, size_t al, const char *b, size_t bl) {
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

#endif
