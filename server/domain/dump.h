/* The dump format (docs/operations.md, "Backup"): one record per line.
 *
 * Version 1. A file is a header line, record lines, and a trailer line
 * (written by stagekv-dump; the server makes the record lines):
 *   {"format":"stagekv-dump","version":1,"prefix":null|"p"}
 *   {"t":"kv","db":0,"k":"users:u1:base","v":"{...}","exp":1733...,"c":"89abcdef"}
 *   {"t":"meta","k64":"aGVsbG8=","v64":"AAAB","c":"01234567"}
 *   {"end":true,"records":N}
 * "kv": a user-visible key of database db (SELECT number) with its value
 * and, when it has one, its absolute expiry in ms ("exp"). "meta": an
 * engine entry that cannot be rebuilt: the id high-water mark, IDEMP
 * records and their reclaim entries, payment dedup records. A key or value
 * that is valid UTF-8 is a JSON string ("k", "v"), any other one base64
 * ("k64", "v64"). "c" ends every record: the FNV-1a 32-bit hash of the
 * line's bytes before `,"c":`, in 8 lowercase hex digits, so a damaged line
 * is found and named. Counters, indexes, feeds and key counts are not in a
 * dump: a restore rebuilds them (DOMAIN.REBUILD).
 */
#ifndef STAGEKV_DUMP_H
#define STAGEKV_DUMP_H

#include <stdint.h>

#include "domain.h"

#define DUMP_FORMAT_VERSION 1
#define DUMP_META_PREFIXES 4

/* The meta prefixes a dump carries, i < DUMP_META_PREFIXES (the model's
 * builders: the high-water mark, idemp:, idempt:, paydedup:). */
void dump_meta_prefix(size_t i, dkey *k);

uint32_t dump_checksum(const char *p, size_t n);

/* Appends one record line (no newline) to out. 0, or -1 out of memory. */
int dump_encode_kv(resp_buf *out, int db, const char *k, size_t kl, int64_t exp, const char *v, size_t vl);
int dump_encode_meta(resp_buf *out, const char *k, size_t kl, const char *v, size_t vl);

/* Checks a record line and writes it through the command context (an
 * expired "kv" record is skipped). A key that exists already is refused: a
 * restore goes into an empty server. 0, or -1 with e->ks->err. */
int dump_restore_line(struct dom_engine *e, const char *line, size_t n, uint64_t now);

#endif
