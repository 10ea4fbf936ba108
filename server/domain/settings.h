/* The settings model (SPEC §4.6): a user's preferences in five sections.
 * Key layout: settings.c. Functions return -1 with the reason in
 * e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_SETTINGS_H
#define STAGEKV_SETTINGS_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

/* The sections, NULL-terminated. */
extern const char *const settings_sections[];

/* Keys (uid: a valid id; section: one of settings_sections). */
void settings_key_section(dkey *k, const char *uid, const char *section); /* settings:{uid}:{section} */
void settings_key_user(dkey *k, const char *uid);                         /* settings:{uid}: */

/* The stored bytes of a section: 1 found (v filled; db_value_free), 0
 * never set. */
int settings_get_raw(struct dom_engine *e, const char *uid, const char *section, db_value *v);

/* SETTINGS.SET's step: merge patch (an object) on the section (absent
 * counts as {}), stamped; the new text goes to *text (malloc()ed, *tl
 * bytes). INVALID when the result passes max-document-size. */
int settings_set(struct dom_engine *e, const char *uid, const char *section, json_t *patch, char **text,
                 size_t *tl);

/* USER.DELETE's step (registered as "settings"): every key under
 * "settings:{uid}:", one prefix delete. */
int settings_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
