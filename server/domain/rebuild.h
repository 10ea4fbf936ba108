/* Derived data checked and recomputed from the documents (DOMAIN.CHECK,
 * DOMAIN.REBUILD).
 *
 * Every counter, index and feed of the meta CF, and each balance (the data
 * CF's coins:{uid}:balance = Σ amount of the user's ledger rows), is a
 * function of documents. A *family* groups the derived data of one model
 * (users, coins, each entity namespace, donations, notifications, tickets);
 * its *walk* is a list of passes over key ranges:
 *
 *   unit passes   over the documents and over the derived entries keyed by
 *                 the unit (a uid, a ticket): each unit seen is derived
 *                 whole from its documents (the model's key builders) and
 *                 compared with what is stored, so a unit with documents
 *                 but no entries and one with entries but no documents are
 *                 both found;
 *   entry passes  over global indexes keyed by a document id (owner:,
 *                 feed:, all:, email:, dsent:, tk:): each entry must name
 *                 a document that implies it.
 *
 * A walk moves in steps: a step reads at most `budget` units or entries
 * from where the previous one stopped (a seek key), so DOMAIN.REBUILD runs
 * it a step per loop turn, each step one commit, never stalling the loop.
 * A unit is derived and corrected inside one step, so writes that other
 * commands make between steps keep it right (they maintain what the step
 * set). With fix, a step writes the corrections into the command context
 * (e->ks->tx); without, it only reports them.
 *
 * Conversations: who holds one after USER.DELETE of a side is not in the
 * documents; see msg_derive in rebuild.c and docs/operations.md.
 */
#ifndef STAGEKV_REBUILD_H
#define STAGEKV_REBUILD_H

#include <stdint.h>

#include "domain.h"

#define RB_SEEK_MAX (DOM_KEY_MAX + 2)

typedef struct rb_walk {
    int family;         /* index in the family table */
    int only;           /* 1: this family only, 0: every family from here on */
    int pass;           /* index in the family's passes */
    char seek[RB_SEEK_MAX]; /* where the pass goes on (seekl 0: from its start) */
    size_t seekl;
    int done;
    int fresh;          /* rb_walk_fresh: the passes over derived entries are left out */
    int64_t units, entries, findings; /* visited so far; findings = corrections */
} rb_walk;

/* A finding: text names the family, the key, the expected and the found
 * value (NUL-terminated, valid during the call). */
typedef void (*rb_finding_fn)(void *arg, const char *text);

size_t rb_family_count(void);
const char *rb_family_name(size_t i);
/* Starts a walk over one family (by name, case-insensitive) or, name NULL,
 * over all of them. -1 for an unknown name. */
int rb_walk_init(rb_walk *w, const char *name);
/* A fresh walk (DOMAIN.REBUILD FRESH, after a restore into an empty
 * server): when every range of derived entries that the walk's families
 * own is empty, the walk leaves out the passes over those entries (they
 * look for entries no document implies; there are none, the documents'
 * passes write every entry) and only derives each unit from its documents:
 * the same result, about 40 % less work. 1 fresh, 0 some derived entry
 * exists (the walk stays whole), -1 with e->ks->err. Writes made by other
 * commands between the steps are not looked for afterwards: a fresh walk is
 * for a server nobody else writes yet. */
int rb_walk_fresh(struct dom_engine *e, rb_walk *w);
/* One step of at most budget units/entries (budget >= 1). fix: write the
 * corrections to e->ks->tx. 0 (w->done set at the end) or -1 with
 * e->ks->err (the step's writes must then be rolled back by the caller). */
int rb_walk_step(struct dom_engine *e, rb_walk *w, int fix, int budget, rb_finding_fn fn, void *arg);

#endif
