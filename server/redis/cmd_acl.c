/* The ACL command family (Redis 7.0): users and their rules, the denial
 * log, the aclfile. The users and checks are core/acl.c's; this file
 * parses arguments and replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server.h"
#include "cmd_acl.h"

/* ACL SETUSER username [rule ...] */
static int acl_setuser_command(client *c) {
    char err[512];
    if (acl_setuser(c->srv, c->argv[2].ptr, c->argv[2].len, c->argv + 3, c->argc - 3, err, sizeof err) < 0) {
        reply_errorf(c, "ERR %s", err);
        return -1;
    }
    reply_ok(c);
    return 0;
}

static void reply_owned(client *c, char *s) {
    if (s) reply_bulkstr(c, s);
    else reply_bulkstr(c, "");
    free(s);
}

/* ACL GETUSER username: flags, passwords (hashes), commands, keys,
 * channels, selectors (none), as Redis 7.0 shows them. */
static int acl_getuser_command(client *c) {
    acl_user *u = acl_find(c->srv, c->argv[2].ptr, c->argv[2].len);
    if (!u) {
        reply_null(c);
        return 0;
    }
    reply_map(c, 6);
    reply_bulkstr(c, "flags");
    int nf = 1 + (u->nopass ? 1 : 0) + (u->sanitize ? 1 : 0);
    reply_array(c, nf);
    reply_bulkstr(c, u->on ? "on" : "off");
    if (u->nopass) reply_bulkstr(c, "nopass");
    if (u->sanitize) reply_bulkstr(c, u->sanitize == 2 ? "skip-sanitize-payload" : "sanitize-payload");
    reply_bulkstr(c, "passwords");
    reply_array(c, u->npass);
    for (int i = 0; i < u->npass; i++) {
        char hex[2 * ACL_HASH_LEN + 1];
        acl_hash_hex(u->pass[i], hex);
        reply_bulkstr(c, hex);
    }
    reply_bulkstr(c, "commands");
    reply_owned(c, acl_user_describe_cmds(u));
    reply_bulkstr(c, "keys");
    reply_owned(c, acl_user_describe_keys(u));
    reply_bulkstr(c, "channels");
    reply_owned(c, acl_user_describe_chans(u));
    reply_bulkstr(c, "selectors");
    reply_array(c, 0);
    return 0;
}

/* ACL DELUSER username [username ...] */
static int acl_deluser_command(client *c) {
    for (int i = 2; i < c->argc; i++)
        if (c->argv[i].len == 7 && !memcmp(c->argv[i].ptr, "default", 7)) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return -1;
        }
    int n = 0;
    for (int i = 2; i < c->argc; i++) n += acl_deluser(c->srv, c, c->argv[i].ptr, c->argv[i].len);
    reply_int(c, n);
    return 0;
}

/* ACL LIST */
static int acl_list_command(client *c) {
    size_t n = acl_count(c->srv);
    reply_array(c, (int64_t)n);
    for (size_t i = 0; i < n; i++) reply_owned(c, acl_user_describe(acl_at(c->srv, i)));
    return 0;
}

/* ACL USERS */
static int acl_users_command(client *c) {
    size_t n = acl_count(c->srv);
    reply_array(c, (int64_t)n);
    for (size_t i = 0; i < n; i++) reply_bulkstr(c, acl_at(c->srv, i)->name);
    return 0;
}

/* ACL WHOAMI */
static int acl_whoami_command(client *c) {
    reply_bulkstr(c, acl_client_user(c));
    return 0;
}

/* ACL CAT [category]: the categories, or the commands of one. */
static int acl_cat_command(client *c) {
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    if (c->argc == 2) {
        reply_array(c, acl_cat_count());
        for (int i = 0; i < acl_cat_count(); i++) reply_bulkstr(c, acl_cat_name(i));
        return 0;
    }
    const resp_slice *name = &c->argv[2];
    int cat = acl_cat_find(name->ptr, name->len);
    if (cat < 0) {
        char shown[160];
        resp_sanitize(shown, sizeof shown, name->ptr, name->len, 128);
        reply_errorf(c, "ERR Unknown category '%s'", shown);
        return -1;
    }
    size_t slot = reply_deferred_array(c);
    int n = 0;
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        if (acl_cmd_cats(d) >> cat & 1) {
            reply_bulkstr(c, d->name);
            n++;
        }
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

/* ACL LOG [count | RESET] */
static int acl_log_command(client *c) {
    server *s = c->srv;
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    int64_t count = 10;
    if (c->argc == 3) {
        if (arg_eq(&c->argv[2], "reset")) {
            acl_log_reset(s);
            reply_ok(c);
            return 0;
        }
        if (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return -1;
        }
    }
    size_t n = acl_log_len(s);
    if ((uint64_t)count < n) n = (size_t)count;
    uint64_t now = now_ms();
    reply_array(c, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        const acl_log_entry *e = acl_log_at(s, i);
        reply_map(c, 10);
        reply_bulkstr(c, "count");
        reply_int(c, (int64_t)e->count);
        reply_bulkstr(c, "reason");
        reply_bulkstr(c, e->reason);
        reply_bulkstr(c, "context");
        reply_bulkstr(c, e->context);
        reply_bulkstr(c, "object");
        reply_bulkstr(c, e->object);
        reply_bulkstr(c, "username");
        reply_bulkstr(c, e->username);
        reply_bulkstr(c, "age-seconds");
        reply_double(c, (double)(now - e->created_ms) / 1000.0);
        reply_bulkstr(c, "client-info");
        reply_bulkstr(c, e->client_info);
        reply_bulkstr(c, "entry-id");
        reply_int(c, (int64_t)e->id);
        reply_bulkstr(c, "timestamp-created");
        reply_int(c, (int64_t)e->created_ms);
        reply_bulkstr(c, "timestamp-last-updated");
        reply_int(c, (int64_t)e->updated_ms);
    }
    return 0;
}

/* ACL SAVE */
static int acl_save_command(client *c) {
    char err[512];
    if (acl_save(c->srv, err, sizeof err) < 0) {
        reply_errorf(c, "ERR %s", err);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* ACL LOAD */
static int acl_load_command(client *c) {
    char err[768];
    if (acl_load(c->srv, c, err, sizeof err) < 0) {
        reply_errorf(c, "ERR %s", err);
        return -1;
    }
    reply_ok(c);
    return 0;
}

/* ACL GENPASS [bits]: random hex from getrandom (default 256 bits). */
static int acl_genpass_command(client *c) {
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    int64_t bits = 256;
    if (c->argc == 3 && (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &bits) < 0 || bits <= 0 || bits > 4096)) {
        reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                       "number up to 4096");
        return -1;
    }
    size_t chars = (size_t)(bits + 3) / 4, bytes = (chars + 1) / 2;
    unsigned char raw[512];
    char hex[1025];
    size_t got = 0;
    while (got < bytes) {
        ssize_t r = getrandom(raw + got, bytes - got, 0);
        if (r < 0) {
            reply_error(c, "ERR cannot read random bytes");
            return -1;
        }
        got += (size_t)r;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < bytes; i++) {
        hex[2 * i] = digits[raw[i] >> 4];
        hex[2 * i + 1] = digits[raw[i] & 15];
    }
    reply_bulk(c, hex, chars);
    return 0;
}

/* ACL DRYRUN username command [arg ...]: whether the user could run it. */
static int acl_dryrun_command(client *c) {
    char shown[160], msg[512];
    acl_user *u = acl_find(c->srv, c->argv[2].ptr, c->argv[2].len);
    if (!u) {
        resp_sanitize(shown, sizeof shown, c->argv[2].ptr, c->argv[2].len, 128);
        reply_errorf(c, "ERR User '%s' not found", shown);
        return -1;
    }
    int argc = c->argc - 3, bad_sub;
    const resp_slice *argv = c->argv + 3;
    const cmd_def *d = cmd_lookup_argv(argv, argc, &bad_sub);
    if (!d) {
        resp_sanitize(shown, sizeof shown, argv[0].ptr, argv[0].len, 128);
        reply_errorf(c, "ERR Command '%s' not found", shown);
        return -1;
    }
    if (d->arity > 0 ? argc != d->arity : argc < -d->arity) {
        reply_arity_error(c, d->name);
        return -1;
    }
    if (acl_dryrun(c->srv, u, d, argv, argc, msg, sizeof msg)) reply_bulkstr(c, msg);
    else reply_ok(c);
    return 0;
}

/* ACL HELP */
static int acl_help_command(client *c) {
    static const char *lines[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]", "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>", "    Get the user's details.",
        "GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST", "    Show users details in config file format.",
        "LOAD", "    Reload users from the ACL file.",
        "LOG [<count> | RESET]", "    Show the ACL log entries.",
        "SAVE", "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
        "USERS", "    List all the registered usernames.",
        "WHOAMI", "    Return the current connection username.",
        "HELP", "    Print this help."};
    reply_array(c, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "acl", .proc = cmd_subcommand, .arity = -2, .flags = 0,
     .group = "server", .args = "SETUSER|GETUSER|DELUSER|LIST|USERS|WHOAMI|CAT|LOG|SAVE|LOAD|GENPASS|DRYRUN|HELP ...",
     .summary = "Access control: users, their rules and the denial log (Redis 7.0 ACL)."},
    {.name = "acl|setuser", .proc = acl_setuser_command, .arity = -3, .flags = CMD_ADMIN,
     .group = "server", .args = "username [rule ...]",
     .summary = "Creates or changes a user: all rules apply or none."},
    {.name = "acl|getuser", .proc = acl_getuser_command, .arity = 3, .flags = CMD_ADMIN,
     .group = "server", .args = "username",
     .summary = "Returns a user's flags, password hashes, commands, keys and channels."},
    {.name = "acl|deluser", .proc = acl_deluser_command, .arity = -3, .flags = CMD_ADMIN,
     .group = "server", .args = "username [username ...]",
     .summary = "Deletes users and disconnects their clients; replies how many existed."},
    {.name = "acl|list", .proc = acl_list_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Lists every user as its aclfile line."},
    {.name = "acl|users", .proc = acl_users_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Lists the user names."},
    {.name = "acl|whoami", .proc = acl_whoami_command, .arity = 2, .flags = 0,
     .group = "server", .args = "",
     .summary = "Returns the connection's user name."},
    {.name = "acl|cat", .proc = acl_cat_command, .arity = -2, .flags = 0,
     .group = "server", .args = "[category]",
     .summary = "Lists the ACL categories, or the commands of one."},
    {.name = "acl|log", .proc = acl_log_command, .arity = -2, .flags = CMD_ADMIN,
     .group = "server", .args = "[count|RESET]",
     .summary = "Lists recent denials (command, key, channel, auth), newest first."},
    {.name = "acl|save", .proc = acl_save_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Writes the users to the aclfile (temporary file, fsync, rename)."},
    {.name = "acl|load", .proc = acl_load_command, .arity = 2, .flags = CMD_ADMIN,
     .group = "server", .args = "",
     .summary = "Replaces the users by the aclfile's; a bad line changes nothing."},
    {.name = "acl|genpass", .proc = acl_genpass_command, .arity = -2, .flags = 0,
     .group = "server", .args = "[bits]",
     .summary = "Returns a random password (hex, 256 bits unless given)."},
    {.name = "acl|dryrun", .proc = acl_dryrun_command, .arity = -4, .flags = CMD_ADMIN,
     .group = "server", .args = "username command [arg ...]",
     .summary = "Says whether a user could run a command, without running it."},
    {.name = "acl|help", .proc = acl_help_command, .arity = 2, .flags = 0,
     .group = "server", .args = "",
     .summary = "Describes the ACL subcommands."},
    CMD_TABLE_END,
};

const cmd_family acl_family = {.name = "acl", .rows = rows};
