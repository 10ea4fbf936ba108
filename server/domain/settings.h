/* Settings (SPEC §4.6): a user's preferences in five sections. Commands in
 * cmd_settings.c.
 *
 * Keys (data CF, database 0; no engine-internal entries):
 *   settings:{uid}:{section}   section: profile, security, notifications,
 *                              privacy, payment_methods. The section's JSON
 *                              object (what the merge patches made of it)
 *                              + "updated_at"; absent until the first
 *                              SETTINGS.SET (SETTINGS.GET then answers {}).
 * USER.DELETE finds them under the prefix "settings:{uid}:".
 */
#ifndef STAGEKV_SETTINGS_H
#define STAGEKV_SETTINGS_H

#include "domain.h"

/* USER.DELETE (a dom_purge_fn): removes every key under "settings:{uid}:"
 * with one range deletion; adds their number to *removed. 0 ok, -1 replied. */
int settings_purge_user(client *c, const char *uid, int64_t *removed);

#endif
