/* ACL in the server (Redis 7.0's model): the users, each client's user,
 * the checks dispatch makes (command, keys; channels for pub/sub), ACL LOG
 * and the aclfile. The rules themselves are acl_rules.c's.
 *
 * A command's categories come from its row: its flags (write -> @write,
 * readonly -> @read, admin -> @admin @dangerous, fast -> @fast else @slow,
 * domain -> @domain), its group (acl_cat_of_group: "hash" -> @hash,
 * "coins" -> @coins, "entity" -> @content, ...) and the row's explicit
 * `acl` field ("@dangerous @blocking").
 *
 * A command's keys are its row's key positions; a domain command's (rows
 * flagged CMD_DOMAIN) are what the acl_keys hook (installed by the domain
 * layer) says it touches: its owner's prefixes ("coins:u1:" for COINS.SPEND
 * u1 ...).
 *
 * The server owns the users; a client points to its user (never NULL); a
 * deleted user's clients are disconnected.
 */
#ifndef STAGEKV_ACL_H
#define STAGEKV_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "acl_rules.h"
#include "commands.h"

/* Users, caches, the log: server-owned, opaque outside acl.c. */
typedef struct acl_state acl_state;

/* At start, after the command table: the default user (on nopass ~* &*
 * +@all), requirepass as its password, then the aclfile when one is set.
 * -1 with a malloc()ed message in *err (a bad aclfile line: "path:N: ..."). */
int acl_init(server *s, char **err);
void acl_free(server *s);

/* The categories of a row (bit i = acl_cat_name(i)). */
uint64_t acl_cmd_cats(const cmd_def *d);
/* Parses a row's explicit categories ("@dangerous @blocking"): -1 for an
 * unknown name. */
int acl_parse_cats(const char *s, uint64_t *out);

/* ---- clients ------------------------------------------------------------------------ */

/* A new connection is the default user's, authenticated when that user is
 * on and nopass (Redis); RESET returns to that. */
void acl_client_init(client *c);
void acl_client_reset(client *c);
const char *acl_client_user(const client *c);
/* The default user is on and takes any password: no AUTH is needed. */
int acl_default_open(server *s);
/* AUTH/HELLO AUTH: 0 and c is now the user's; -1 when the user does not
 * exist, is off or the password is wrong (logged as an "auth" entry); the
 * caller replies WRONGPASS. */
int acl_authenticate(client *c, const char *user, size_t ulen, const char *pass, size_t plen);
/* A loopback TCP peer or the unix socket ("local" in enable-* options). */
int acl_client_is_local(const client *c);
/* An enable-protected-configs / enable-debug-command value (0 no, 1 yes,
 * 2 local) allows this client. */
int acl_protected_allowed(const client *c, int setting);

/* ---- checks ------------------------------------------------------------------------------ */

/* Dispatch (and EXEC, for each queued command): the command and its keys
 * for c's user. 0 allowed; -1 refused: NOPERM replied, ACL LOG entry with
 * context "multi" when in_multi, else "toplevel". */
int acl_check(client *c, const cmd_def *cmd, int in_multi);
/* For pub/sub: whether c's user may use this channel (is_pattern: a
 * PSUBSCRIBE pattern, which must be one of the user's own patterns). */
int acl_channel_ok(client *c, const char *ch, size_t len, int is_pattern);
/* Refuses a channel: ACL LOG entry (reason "channel") and the NOPERM
 * reply Redis gives. Returns -1 for the handler to return. */
int acl_deny_channel(client *c, const char *ch, size_t len);

/* ---- the ACL command family's needs (redis/cmd_acl.c) ------------------------------------- */

acl_user *acl_find(server *s, const char *name, size_t len);
size_t acl_count(server *s);
acl_user *acl_at(server *s, size_t i); /* in name order */
/* SETUSER: the rules applied to a copy (all or nothing), created when
 * absent. 0 ok; -1 with "Error in ACL SETUSER modifier '...': ..." in err. */
int acl_setuser(server *s, const char *name, size_t len, const resp_slice *rules, int n, char *err, size_t cap);
/* 1 deleted (its clients disconnected), 0 no such user. Not "default". */
int acl_deluser(server *s, client *self, const char *name, size_t len);
/* ACL DRYRUN: 0 allowed; 1 refused with Redis's sentence in msg. */
int acl_dryrun(server *s, acl_user *u, const cmd_def *cmd, const resp_slice *argv, int argc, char *msg, size_t cap);
/* Writes every user to the aclfile (temp file, fsync, rename): 0 ok, -1. */
int acl_save(server *s, char *err, size_t cap);
/* Replaces the users by the aclfile's (all or nothing): 0 ok, -1. */
int acl_load(server *s, client *self, char *err, size_t cap);
/* CONFIG SET requirepass: the default user's password follows it. */
void acl_requirepass_changed(server *s);
/* The resolver of the rules over the command table. */
const acl_resolver *acl_table_resolver(void);

/* ACL LOG */
typedef struct acl_log_entry {
    uint64_t id, count;
    const char *reason;   /* "command", "key", "channel", "auth" */
    const char *context;  /* "toplevel", "multi" */
    char *object, *username, *client_info;
    uint64_t created_ms, updated_ms;
} acl_log_entry;
size_t acl_log_len(server *s);
const acl_log_entry *acl_log_at(server *s, size_t i); /* newest first */
void acl_log_reset(server *s);

#endif
