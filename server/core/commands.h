/* The command table: one registry built from each family's rows. It drives
 * dispatch (lookup, arity, auth, the write guard, IDEMP), COMMAND, INFO
 * commandstats and docs/commands.md.
 *
 * A family is a file of handlers that exports one cmd_family: its rows and
 * the hooks it needs from the server's life cycle. The list of families is
 * given to server_init by main.c (the only place that knows them all), so
 * core/ links against no family.
 */
#ifndef STAGEKV_COMMANDS_H
#define STAGEKV_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resp.h"

typedef struct server server;
typedef struct client client;

typedef int (*cmd_proc)(client *c); /* 0 ok; -1 failed: its writes are dropped */

enum cmd_flags {
    CMD_WRITE = 1u << 0,
    CMD_READONLY = 1u << 1,
    CMD_ADMIN = 1u << 2,
    CMD_FAST = 1u << 3,
    CMD_NOAUTH = 1u << 4,      /* allowed before AUTH */
    CMD_SYNC = 1u << 5,        /* WAL fsynced before the reply, in every mode */
    CMD_DOMAIN = 1u << 6,      /* domain command: may write owned prefixes */
    CMD_KEY_PREFIX = 1u << 7,  /* the key argument is a prefix (a range) */
    CMD_NO_MULTI = 1u << 8,    /* runs at once even inside MULTI */
    CMD_DB0 = 1u << 9,         /* always works on database 0 */
    CMD_IDEMP = 1u << 10,      /* takes [IDEMP key] among its option pairs (SPEC §4.3) */
    CMD_DENY_MULTI = 1u << 11, /* refused inside MULTI */
    CMD_RETRY_SAFE = 1u << 12, /* a write that leaves the same state when repeated: clients may retry it */
    CMD_PROTECTED = 1u << 13,  /* refused unless enable-debug-command allows the client (DEBUG) */
    CMD_PUBSUB_OK = 1u << 14,  /* allowed in RESP2 subscribed mode ((P)(UN)SUBSCRIBE, PING, QUIT, RESET) */
};

/* Flags of a row's key spec, as COMMAND INFO names them (Redis 7): one of
 * RO/RW/OW/RM says what happens to the key, the rest what to its value. */
enum cmd_key_flags {
    CMD_KEY_RO = 1u << 0,     /* read only */
    CMD_KEY_RW = 1u << 1,     /* read and changed */
    CMD_KEY_OW = 1u << 2,     /* overwritten without being read */
    CMD_KEY_RM = 1u << 3,     /* removed */
    CMD_KEY_ACCESS = 1u << 4, /* the value reaches the client */
    CMD_KEY_UPDATE = 1u << 5,
    CMD_KEY_INSERT = 1u << 6,
    CMD_KEY_DELETE = 1u << 7,
};

typedef struct cmd_def {
    const char *name;     /* lower case; "parent|sub" for a subcommand row, whose
                           * arity counts the parent and the subcommand names */
    cmd_proc proc;
    int arity;            /* Redis convention: -N means at least N */
    uint32_t flags;
    int first_key, last_key, key_step; /* last -1 = last argument; a subcommand counts its parent */
    uint32_t key_flags;   /* CMD_KEY_*; 0: RW|UPDATE for a write, RO|ACCESS else */
    const char *group;    /* "string", "generic", "kv", "server", ... */
    const char *args;     /* syntax after the name */
    const char *summary;
    const void *data;     /* family-specific (the entity engine's namespace) */
    const char *acl;      /* ACL categories beyond what flags and group give: "@dangerous @blocking" */
    /* Keys the command overwrites that no key position names (SORT's STORE
     * destination): their argv indexes into idx (at most cap), the count
     * returned. ACL checks them for write, the write guard and COMMAND
     * GETKEYS see them. NULL: none. */
    int (*more_keys)(const resp_slice *argv, int argc, int *idx, int cap);
} cmd_def;

#define CMD_TABLE_END {.name = NULL}

typedef struct cmd_family {
    const char *name;
    const cmd_def *rows;                 /* terminated by CMD_TABLE_END */
    int (*init)(server *s, char **err);  /* after the store is open; may register hooks */
    void (*cron)(server *s, uint64_t now);  /* once a second */
    void (*free)(server *s);             /* at shutdown */
} cmd_family;

/* The keys a command touches, for ACL: called per key, or per prefix
 * (every key under it), with the access needed (ACL_PERM_R/W); nonzero
 * stops the walk. */
typedef int (*cmd_key_visit)(void *arg, const char *key, size_t len, int is_prefix, int perm);

/* Hooks a family installs from its init: core calls them, knowing no names. */
typedef struct cmd_hooks {
    /* IDEMP (rows flagged CMD_IDEMP): before returns 1 replayed, -1 refused
     * (replied), 0 run the command; after records the reply since mark. */
    int (*idemp_before)(client *c, const cmd_def *cmd);
    void (*idemp_after)(client *c, size_t mark);
    /* ACL keys of a domain row (CMD_DOMAIN): 1 when it knows the row (visit
     * called for each key or prefix it touches), 0 to use the row's key
     * positions. */
    int (*acl_keys)(const cmd_def *cmd, const resp_slice *argv, int argc, cmd_key_visit visit, void *arg);
} cmd_hooks;

/* Builds the table from the families (NULL-terminated). A duplicate name,
 * an overflow of the table, a malformed row or a subcommand without its
 * parent is a startup failure: -1 with a message in err (static text).
 * Idempotent for the same list. */
int cmd_table_init(const cmd_family *const *families, const char **err);
/* By full name ("get", "client|kill"), case-insensitive. */
const cmd_def *cmd_lookup(const char *name, size_t len);
/* The row that runs argv: a container's subcommand row when argv[0] has
 * subcommands and argc > 1. NULL when unknown; *bad_sub then says whether
 * the parent was known (an unknown subcommand). */
const cmd_def *cmd_lookup_argv(const resp_slice *argv, int argc, int *bad_sub);
/* Number of rows, subcommands included; cmd_count_top: top-level only. */
size_t cmd_count(void);
size_t cmd_count_top(void);
/* The i-th row in table order, each parent followed by its subcommands. */
const cmd_def *cmd_at(size_t i);
/* The index of a row in table order (cmd_at(cmd_index(d)) == d). */
size_t cmd_index(const cmd_def *d);
/* Subcommand rows of a parent row (0 for a plain command). */
int cmd_subcommands(const cmd_def *parent, const cmd_def *const **subs);
/* Writes docs/commands.md from the table. */
void cmd_write_markdown(FILE *f);

/* Executes c->argv[0..argc): lookup, checks, handler, commit. */
void cmd_dispatch(client *c);
/* Runs one handler in the command context (IDEMP around it), no commit:
 * 0 ok, -1 failed (the caller drops its writes). A handler that returns -1
 * without replying has its lower layer's status replied here. */
int cmd_call(client *c, const cmd_def *cmd);
int cmd_stats_init(server *s);
void cmd_stats_reset(server *s);
void cmd_stats_format(server *s, resp_buf *b);
/* The handler of a parent row that does nothing alone (CLIENT, CONFIG,
 * ...): runs the "parent|sub" row of argv[1] after its arity check, or
 * replies Redis's unknown-subcommand error. Dispatch normally resolves the
 * subcommand itself; this covers a parent reached directly. */
int cmd_subcommand(client *c);
/* "ERR unknown subcommand or wrong number of arguments for 'sub'. Try
 * PARENT HELP.": a subcommand's own argument check failed. */
void reply_subcommand_syntax_error(client *c);

/* COMMAND (all commands) and its subcommands: rows in redis/cmd_server.c. */
int cmd_command(client *c);
int cmd_command_count(client *c);
int cmd_command_list(client *c);
int cmd_command_info(client *c);
int cmd_command_docs(client *c);
int cmd_command_getkeys(client *c);
int cmd_command_help(client *c);

#endif
