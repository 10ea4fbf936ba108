/* ACL rules, Redis 7.0's model: the categories, a user's rules (one token
 * at a time: on, >pass, ~pattern, +@category, ...), the checks a rule set
 * answers (password, command, key, channel) and the text that describes a
 * user back (ACL LIST, GETUSER, the aclfile).
 *
 * Pure: no server and no client. Commands are reached through a resolver,
 * so the unit tests and the fuzz target run it on a small fake table; the
 * server's resolver is the command table (acl.c).
 *
 * Ownership: an acl_user owns every string and array it holds; the error
 * texts returned are static.
 */
#ifndef STAGEKV_ACL_RULES_H
#define STAGEKV_ACL_RULES_H

#include <stddef.h>
#include <stdint.h>

#define ACL_HASH_LEN 32   /* SHA-256 */
#define ACL_NAME_MAX 128  /* bytes of a user name */

enum acl_perm { ACL_PERM_R = 1, ACL_PERM_W = 2, ACL_PERM_RW = 3 };

/* ---- categories ------------------------------------------------------------ */

/* Redis's categories, then the domain's; index = bit in a command's mask. */
int acl_cat_count(void);
const char *acl_cat_name(int i);                /* without '@' */
int acl_cat_find(const char *name, size_t len); /* case-insensitive, without '@'; -1 unknown */
/* The category a command group brings ("generic" -> keyspace, "hash" ->
 * hash, "entity" -> content, ...): a group whose name is a category is that
 * category, so new families get theirs without code here; -1 for none. */
int acl_cat_of_group(const char *group);

/* ---- users ------------------------------------------------------------------- */

typedef struct acl_pattern {
    char *pat;
    size_t len;
    int perm; /* ACL_PERM_*: keys; channels use ACL_PERM_RW */
} acl_pattern;

typedef struct acl_cmd_rule {
    int allow;
    int cat;    /* a category's index, or -1 for a command */
    char *name; /* a command's full lower-case name ("get", "config|set") */
} acl_cmd_rule;

typedef struct acl_user {
    char *name;
    int on, nopass;
    int sanitize;         /* 0 not set, 1 sanitize-payload, 2 skip-sanitize-payload (shown only when set, as Redis 7.0) */
    unsigned char (*pass)[ACL_HASH_LEN];
    int npass;
    int allkeys;
    acl_pattern *keys;
    int nkeys;
    int allchannels;
    acl_pattern *chans;
    int nchans;
    int allcmds;          /* the base the rules start from: +@all or -@all */
    acl_cmd_rule *rules;  /* applied in order after the base; the last match wins */
    int nrules;
    unsigned char *cmd_cache; /* the rules compiled per command (acl.c); freed with the user, not copied */
} acl_user;

/* The command table as the rules see it. lookup: 1 when the full name
 * ("get", "config|get", case-insensitive) is a command, with its
 * categories and number of subcommands; sub: the i-th subcommand's full
 * name and categories of a container. */
typedef struct acl_resolver {
    int (*lookup)(void *arg, const char *name, size_t len, uint64_t *cats, int *nsubs);
    const char *(*sub)(void *arg, const char *name, size_t len, int i, uint64_t *cats);
    void *arg;
} acl_resolver;

/* "Usernames can't contain spaces or null characters" (nor be empty or
 * longer than ACL_NAME_MAX): 1 valid. */
int acl_valid_username(const char *name, size_t len);
/* A new user as Redis makes one: off, no password, no keys, no channels,
 * no commands. NULL when out of memory. */
acl_user *acl_user_new(const char *name, size_t len);
void acl_user_free(acl_user *u); /* NULL is fine */
/* A deep copy (SETUSER applies its rules to a copy: all or nothing). */
acl_user *acl_user_dup(const acl_user *u);
/* Applies one rule token. 0 ok; -1 with Redis's text for the error in
 * *err (static), u unchanged by the failing token. */
int acl_user_apply(acl_user *u, const char *tok, size_t len, const acl_resolver *r, const char **err);

/* ---- checks -------------------------------------------------------------------- */

/* The password matches one of the user's hashes (SHA-256, compared in
 * constant time over all of them) or the user is nopass. */
int acl_user_pass_ok(const acl_user *u, const char *pass, size_t len);
/* Whether the rules allow the command of this full name and categories (a
 * rule on "config" covers "config|get"). */
int acl_user_cmd_ok(const acl_user *u, const char *name, size_t len, uint64_t cats);
/* A key (is_prefix 0) or every key under a prefix (is_prefix 1) with the
 * access perm needs. A prefix is covered by a pattern that ends in '*' and
 * matches the prefix itself: that '*' absorbs whatever follows. */
int acl_user_key_ok(const acl_user *u, const char *key, size_t len, int is_prefix, int perm);
/* A channel matched against the user's patterns; a pattern subscription
 * (is_pattern) must be one of the user's patterns literally, as in Redis. */
int acl_user_channel_ok(const acl_user *u, const char *ch, size_t len, int is_pattern);

/* ---- descriptions (malloc()ed, NULL when out of memory) -------------------------- */

char *acl_user_describe_cmds(const acl_user *u); /* "+@all -@dangerous +config|get" */
char *acl_user_describe_keys(const acl_user *u); /* "~* %R~x" or "" */
char *acl_user_describe_chans(const acl_user *u);/* "&*", "&a &b" or "" */
/* "user NAME on|off [nopass] [sanitize-payload] #hash ... keys resetchannels &.. cmds":
 * the line of ACL LIST and of the aclfile; applying its tokens to a new
 * user gives the same user. */
char *acl_user_describe(const acl_user *u);

/* SHA-256 of a password and its 64 lowercase hex digits. */
void acl_hash_password(const char *pass, size_t len, unsigned char out[ACL_HASH_LEN]);
void acl_hash_hex(const unsigned char h[ACL_HASH_LEN], char out[2 * ACL_HASH_LEN + 1]);
/* Constant-time equality of two hashes (no early exit). */
int acl_hash_eq(const unsigned char *a, const unsigned char *b);

#endif
