/* The keys a domain command touches, for ACL (core/acl.c calls it through
 * the acl_keys hook the engine installs): a domain command's "keys" are its
 * owner's prefixes in the families it reads or writes, so a rule like
 * `~users:u1:* ~coins:u1:* ~tracks:u1:*` confines an account to one user's
 * rows. docs/security.md has the table. */
#ifndef STAGEKV_ACL_KEYS_H
#define STAGEKV_ACL_KEYS_H

#include "commands.h"

/* 1 when it knows the row (visit called for each prefix "family:owner:"
 * with ACL_PERM_R for a read, RW for a write); 0 for a row it does not
 * know (core then checks the row's key positions). */
int dom_acl_keys(const cmd_def *cmd, const resp_slice *argv, int argc, cmd_key_visit visit, void *arg);

#endif
