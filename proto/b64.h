/* Base64 (RFC 4648, padded) for the dump format's binary fields ("k64",
 * "v64"): nettle does the coding; this adds the strict check that a dump
 * reader needs (nettle's decoder skips white space and is lenient about
 * where padding stands). Pure, I/O free. */
#ifndef STAGEKV_B64_H
#define STAGEKV_B64_H

#include <stddef.h>

/* Bytes b64_encode writes for n input bytes. */
#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/* Room b64_decode needs for an n-character input. */
#define B64_DECODED_MAX(n) ((n) / 4 * 3 + 1)

/* Writes exactly B64_ENCODED_LEN(n) characters (no terminator). */
void b64_encode(char *dst, const void *src, size_t n);
/* 1 when s[0..n) is padded base64 of the standard alphabet, nothing else. */
int b64_valid(const char *s, size_t n);
/* Decodes a b64_valid input into dst (B64_DECODED_MAX(n) bytes): the
 * length, or -1 when the input is not valid. */
long b64_decode(char *dst, const char *s, size_t n);
/* The same into a malloc()ed buffer (*out_len bytes); NULL when the input
 * is not valid or memory ran out. */
char *b64_decode_alloc(const char *s, size_t n, size_t *out_len);

#endif
