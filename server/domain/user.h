/* The user model (SPEC §4.2 without the registry of USER.DELETE): a user
 * is three JSON documents and one entry of a unique e-mail index. Key
 * layout, validation and invariants: user.c. Functions return -1 with the
 * reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_USER_H
#define STAGEKV_USER_H

#include <jansson.h>
#include <stdint.h>

#include "domain.h"

#define USER_EMAIL_MAX 254

/* The sections, NULL-terminated; the first is "base". */
extern const char *const user_sections[];

/* Keys (uid: a valid id; section: one of user_sections; email: 1..254 bytes). */
void user_key_section(dkey *k, const char *uid, const char *section); /* users:{uid}:{section} */
void user_key_user(dkey *k, const char *uid);                         /* users:{uid}: */
void user_key_email(dkey *k, const char *email, size_t n);            /* meta email:{lower(email)} */
void user_key_list_entry(dkey *k, const char *uid);                   /* meta ulist:{uid} */
void user_key_list(dkey *k);                                          /* meta ulist: */
/* For USER.LIST (dom_list_index_asc over user_key_list): resolves an
 * entry of the user index to the user's base document. */
int user_list_resolve(const char *uid, size_t ul, const char *val, size_t vl, dkey *doc, void *arg);

/* NULL when p[0..n) is a valid e-mail address, else why not (for the
 * message "email '<x>' <why>"). */
const char *user_email_problem(const char *p, size_t n);

/* USER.CREATE's step: base (an object, server-owned fields stripped;
 * stamped in place, not consumed). CONFLICT when the uid exists or the
 * email belongs to another user, INVALID for bad base fields. */
int user_create(struct dom_engine *e, const char *uid, json_t *base);

/* The uid the index names for a valid address, if that user exists: 1
 * with owner (NUL-terminated) and *ol filled, 0 none. */
int user_by_email(struct dom_engine *e, const char *email, size_t n, char owner[DOM_ID_MAX + 1], size_t *ol);

/* {"id", "base", "profile", "subscription"} (absent sections as {}) as
 * text (malloc()ed, *tl bytes): 1, or 0 when the user does not exist. */
int user_get(struct dom_engine *e, const char *uid, char **text, size_t *tl);

/* USER.UPDATE's step: merge patch on one section (one of user_sections);
 * the section's new text goes to *text (malloc()ed, *tl bytes). NOTFOUND
 * when the user does not exist; for base, INVALID for bad fields and
 * CONFLICT when the new email belongs to another user. */
int user_update(struct dom_engine *e, const char *uid, const char *section, json_t *patch, char **text,
                size_t *tl);

/* USER.DELETE's step (registered as "user"): users:{uid}: (base, profile,
 * subscription) and the e-mail index entry when it names uid, found
 * through the base, which is read before it goes. */
int user_purge_user(struct dom_engine *e, const char *uid, int64_t *removed);

#endif
