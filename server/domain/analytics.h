/* Analytics (SPEC §4.6): per-day counters of tracks and concerts
 * (ANALYTICS.INCR, ANALYTICS.RANGE) and DASHBOARD.GET, in cmd_analytics.c.
 *
 * Keys:
 *   data CF  analytics:{kind}:{id}:{date}   the day's counters, the one
 *            source of truth: {"date": "YYYY-MM-DD", field: integer, ...}
 *            (kind: tracks | concerts; fields in first-increment order).
 *            Keyed by the entity id alone: the owner is not part of the key.
 * Nothing in the meta CF: every increment must rewrite the day document
 * anyway, and changing the counter in its text measured cheaper than a
 * counter kept beside it (numbers: the ANALYTICS.INCR section of
 * cmd_analytics.c).
 */
#ifndef STAGEKV_ANALYTICS_H
#define STAGEKV_ANALYTICS_H

#include "entity.h"

/* The entity engine's delete hook (entity_ns.analytics_on_delete) of TRACK
 * and CONCERT: removes every analytics row of the id (the prefix
 * "analytics:{ns->meta}:{id}:", one range deletion) in the command's batch.
 * The hook has no count argument: USER.DELETE counts these rows in its :N
 * from the key count of database 0 (cmd_userdel.c). 0 ok, -1 replied. */
int analytics_on_entity_delete(client *c, const entity_ns *ns, const char *uid, const char *id,
                               const json_t *old_doc, const json_t *new_doc);

#endif
