/* The import's writes (stagekv-import, docs/migration.md): carries out a
 * plan of import.h through the models, in the command's batch, so every
 * counter, index, feed and ledger invariant is kept as the domain commands
 * keep it.
 *
 * Idempotent: each applied record leaves a marker in the meta CF,
 * "imp:" + the record's key -> SHA-256 of its value text, written in the
 * same batch. The same record again changes nothing; the same key with
 * another value is CONFLICT (money is never applied twice: re-importing a
 * grown history is refused, not merged). Markers are permanent, hold no
 * personal data beyond the ids of the key, and are not removed by
 * USER.DELETE (so a re-run of an old export cannot resurrect a deleted
 * user's records).
 */
#ifndef STAGEKV_IMPORT_APPLY_H
#define STAGEKV_IMPORT_APPLY_H

#include <stddef.h>

#include "domain.h"
#include "import.h"

/* Applies plan p of the record (key, val: the value text the plan was
 * mapped from) unless its marker says it is imported already.
 * 0 applied (note: a short summary), 1 already imported (nothing
 * written), -1 with e->ks->err (the command then writes nothing). p must
 * not be IMP_DERIVED. */
int import_apply(struct dom_engine *e, const char *key, size_t kl, const char *val, size_t vl, const imp_plan *p,
                 char *note, size_t cap);

/* The marker key of a record key (meta CF). */
void import_key_marker(dkey *k, const char *key, size_t kl);

#endif
