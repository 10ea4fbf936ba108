/* IDEMP (SPEC §4.3), applied by dispatch for CMD_IDEMP rows through the
 * hooks the engine installs: the first successful call with `IDEMP key`
 * records a fingerprint of the request and its reply; a retry with the
 * same key and fingerprint gets that reply and changes nothing; another
 * fingerprint is -CONFLICT. Key layout: idemp.c.
 */
#ifndef STAGEKV_IDEMP_H
#define STAGEKV_IDEMP_H

#include <stdint.h>

#include "domain.h"
#include "server.h"

/* Looks for "IDEMP key" among the option pairs; when present and a record
 * exists: replays its reply (return 1) or replies -CONFLICT (return -1);
 * returns 0 to run the command. Removes the pair from argv either way. */
int idemp_before(client *c, const cmd_def *cmd);
/* After a successful command: records the reply c->out[mark..] in the batch. */
void idemp_after(client *c, size_t mark);
/* Background reclaim of records older than 24 h: at most max records. */
int idemp_reclaim(server *s, uint64_t now, int max);
/* The fingerprint of a request: SHA-256 (nettle) of its arguments, each
 * prefixed by its length (so argument boundaries count), the command name
 * lower-cased; the first 16 bytes as two big-endian u64. */
void idemp_fingerprint(const resp_slice *argv, int argc, uint64_t fp[2]);
/* The IDEMP record of (owner, key) and its reclaim index entry. */
void idemp_key_record(dkey *k, const char *owner, size_t ol, const char *key, size_t kl);
/* The prefixes of every record ("idemp:") and every reclaim entry
 * ("idempt:"): a dump carries both (they cannot be rebuilt). */
void idemp_key_prefixes(dkey *records, dkey *reclaim);
void idemp_key_reclaim(dkey *k, uint64_t created_ms, const dkey *record);

/* USER.DELETE's step (registered by the engine as "idemp"): the IDEMP
 * records scoped to uid and their reclaim entries. */
int idemp_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
