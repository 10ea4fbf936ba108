/* The command table: one registry built from each family's rows. It drives
 * dispatch (lookup, arity, auth, the write guard), COMMAND and the docs. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <assert.h>

#include "server.h"

#define NAME_MAX_LEN 64
#define TABLE_SLOTS 1024 /* power of two, well above the row count */

static const cmd_def *slots[TABLE_SLOTS];
static const cmd_def *all[TABLE_SLOTS / 2]; /* registration order */
/* Rows in table order, each parent followed by its subcommands: COMMAND's
 * order, and a parent's subcommands are order[i+1 .. i+nsubs[i]]. */
static const cmd_def *order[TABLE_SLOTS / 2];
static int nsubs[TABLE_SLOTS / 2];
static int order_of[TABLE_SLOTS];            /* slot -> index in order */
static size_t ncmds, ntop;

static uint32_t hash_name(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a over the lower-cased name */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)tolower((unsigned char)s[i])) * 16777619u;
    return h;
}

static const cmd_def *lookup_slot(const char *name, size_t len, uint32_t *slot);

/* Length of the parent part of "parent|sub"; 0 for a top-level name. */
static size_t parent_len(const char *name) {
    const char *bar = strchr(name, '|');
    return bar ? (size_t)(bar - name) : 0;
}

/* The reference's sections, in order (cmd_write_markdown); a row's group
 * must be one of them, so that no command is left out of docs/commands.md. */
static const char *const groups[] = {"connection", "server", "string", "generic", "transactions", "kv", "hash",
                                     "list", "set", "sortedset", "pubsub", "entity", "user", "coins", "payment",
                                     "messages", "notifications", "email", "tickets", "settings", "analytics",
                                     "maintenance", "import", NULL};
static const char *const titles[] = {"Connection", "Server", "Strings", "Keys", "Transactions", "KV.* (SPEC §3)",
                                     "Hashes", "Lists", "Sets", "Sorted sets", "Pub/sub",
                                     "Entities (SPEC §4.1)", "Users (SPEC §4.2)",
                                     "Coins and donations (SPEC §4.3-4.4)", "Payments (SPEC §4.4)",
                                     "Conversations (SPEC §4.5)", "Notifications (SPEC §4.5)", "E-mail (SPEC §4.5)",
                                     "Support tickets (SPEC §4.5)", "Settings (SPEC §4.6)",
                                     "Analytics and dashboard (SPEC §4.6)",
                                     "Maintenance: derived data, dump and restore",
                                     "Import of the hosted store (SPEC §6, docs/migration.md)", NULL};

static int known_group(const char *g) {
    for (int i = 0; groups[i]; i++)
        if (strcmp(groups[i], g) == 0) return 1;
    return 0;
}

/* A row is well formed when its name is lower case and its key positions
 * and flags agree; anything else is a programming error found at start. */
static const char *row_problem(const cmd_def *d) {
    size_t n = strlen(d->name);
    if (n == 0 || n > NAME_MAX_LEN) return "a name is empty or too long";
    for (size_t i = 0; i < n; i++)
        if (isupper((unsigned char)d->name[i]) || d->name[i] == ' ') return "a name is not lower case or has a space";
    if (!d->proc || !d->group || !d->summary) return "a row lacks its handler, group or summary";
    if (!known_group(d->group)) return "a row's group is not a section of the command reference";
    if (d->arity == 0) return "a row has arity 0";
    if (d->first_key < 0 || (d->first_key == 0 && (d->last_key != 0 || d->key_step != 0)))
        return "a row has key positions without a first key";
    if (d->first_key > 0 && (d->key_step < 0 || (d->last_key >= 0 && d->last_key < d->first_key)))
        return "a row's last key comes before its first";
    if (d->key_flags && !d->first_key) return "a row has key flags but no keys";
    uint32_t how = d->key_flags & (CMD_KEY_RO | CMD_KEY_RW | CMD_KEY_OW | CMD_KEY_RM);
    if (d->key_flags && (how == 0 || (how & (how - 1)))) return "a row's key flags need one of RO, RW, OW, RM";
    if ((d->flags & CMD_WRITE) && (d->flags & CMD_READONLY)) return "a row is both write and readonly";
    uint64_t cats;
    if (d->acl && acl_parse_cats(d->acl, &cats) < 0) return "a row's acl field names an unknown category";
    size_t p = parent_len(d->name);
    if (strchr(d->name, '|')) {
        /* "parent|sub": both parts, one level, the names count in arity and keys */
        if (p == 0 || p + 1 == n || strchr(d->name + p + 1, '|')) return "a subcommand name is not parent|sub";
        if (d->arity > -2 && d->arity < 2) return "a subcommand's arity does not count its parent and name";
        if (d->first_key == 1) return "a subcommand's key is its own name";
    }
    return NULL;
}

static int add_rows(const cmd_def *rows, const char **err) {
    for (const cmd_def *d = rows; d->name; d++) {
        if ((*err = row_problem(d))) {
            server_log(LL_WARNING, "command row '%s': %s", d->name, *err);
            return -1;
        }
        uint32_t slot;
        if (lookup_slot(d->name, strlen(d->name), &slot)) {
            *err = "a command name is registered twice";
            server_log(LL_WARNING, "duplicate command '%s'", d->name);
            return -1;
        }
        if (ncmds + 1 >= TABLE_SLOTS / 2) { /* keep the open-addressing table sparse */
            *err = "too many commands for the table";
            return -1;
        }
        uint32_t i = hash_name(d->name, strlen(d->name)) & (TABLE_SLOTS - 1);
        while (slots[i]) i = (i + 1) & (TABLE_SLOTS - 1);
        slots[i] = d;
        all[ncmds++] = d;
    }
    return 0;
}

static int slot_of(const cmd_def *d) {
    uint32_t slot = 0;
    lookup_slot(d->name, strlen(d->name), &slot);
    return (int)slot;
}

/* Puts each parent before its subcommands and checks that every
 * subcommand has a top-level parent of its group, and that a parent run
 * by cmd_subcommand has subcommands to run. */
static int link_subcommands(const char **err) {
    size_t k = 0;
    ntop = 0;
    for (size_t i = 0; i < ncmds; i++) {
        const cmd_def *d = all[i];
        size_t p = parent_len(d->name);
        if (p) {
            const cmd_def *parent = cmd_lookup(d->name, p);
            if (!parent) {
                *err = "a subcommand has no parent command";
                server_log(LL_WARNING, "command row '%s': no parent", d->name);
                return -1;
            }
            if (strcmp(parent->group, d->group) != 0) {
                *err = "a subcommand's group is not its parent's";
                server_log(LL_WARNING, "command row '%s': group '%s', parent's '%s'", d->name, d->group,
                           parent->group);
                return -1;
            }
            continue;
        }
        size_t at = k;
        nsubs[at] = 0;
        order[k++] = d;
        order_of[slot_of(d)] = (int)at;
        ntop++;
        size_t n = strlen(d->name);
        for (size_t j = 0; j < ncmds; j++) {
            const cmd_def *s = all[j];
            if (parent_len(s->name) == n && strncmp(s->name, d->name, n) == 0) {
                order_of[slot_of(s)] = (int)k;
                nsubs[k] = 0;
                order[k++] = s;
                nsubs[at]++;
            }
        }
        if (d->proc == cmd_subcommand && nsubs[at] == 0) {
            *err = "a container command has no subcommands";
            server_log(LL_WARNING, "command row '%s': no subcommands", d->name);
            return -1;
        }
    }
    return 0;
}

static void table_clear(void) {
    memset(slots, 0, sizeof slots);
    ncmds = ntop = 0;
}

static const cmd_family *const *built_from;

int cmd_table_init(const cmd_family *const *families, const char **err) {
    assert(families);
    if (ncmds) {
        if (built_from == families) return 0;
        table_clear(); /* tests build several tables */
    }
    built_from = families;
    for (const cmd_family *const *f = families; *f; f++) {
        if (add_rows((*f)->rows, err) < 0) goto fail;
    }
    if (link_subcommands(err) < 0) goto fail;
    return 0;
fail:
    table_clear();
    built_from = NULL;
    return -1;
}

size_t cmd_count(void) { return ncmds; }

size_t cmd_index(const cmd_def *d) {
    uint32_t slot = 0;
    const cmd_def *found = lookup_slot(d->name, strlen(d->name), &slot);
    assert(found == d);
    (void)found;
    return (size_t)order_of[slot];
}
size_t cmd_count_top(void) { return ntop; }
const cmd_def *cmd_at(size_t i) { return i < ncmds ? order[i] : NULL; }

static const cmd_def *lookup_slot(const char *name, size_t len, uint32_t *slot) {
    if (len == 0 || len > NAME_MAX_LEN) return NULL;
    uint32_t i = hash_name(name, len) & (TABLE_SLOTS - 1);
    for (const cmd_def *d; (d = slots[i]); i = (i + 1) & (TABLE_SLOTS - 1))
        if (strlen(d->name) == len && strncasecmp(d->name, name, len) == 0) {
            *slot = i;
            return d;
        }
    return NULL;
}

const cmd_def *cmd_lookup(const char *name, size_t len) {
    uint32_t slot;
    return lookup_slot(name, len, &slot);
}

int cmd_subcommands(const cmd_def *parent, const cmd_def *const **subs) {
    uint32_t slot;
    if (!parent || lookup_slot(parent->name, strlen(parent->name), &slot) != parent) return 0;
    int at = order_of[slot];
    if (subs) *subs = &order[at + 1];
    return nsubs[at];
}

/* Redis's lookupCommand: argv[0], or "argv[0]|argv[1]" when argv[0] is a
 * container and a subcommand is given. */
static const cmd_def *lookup_argv_slot(const resp_slice *argv, int argc, int *bad_sub, uint32_t *slot) {
    *bad_sub = 0;
    const cmd_def *d = lookup_slot(argv[0].ptr, argv[0].len, slot);
    if (d && parent_len(d->name)) return NULL; /* "client|kill" typed as a name is no command */
    if (!d || argc < 2 || nsubs[order_of[*slot]] == 0) return d;
    char full[NAME_MAX_LEN + 1];
    size_t pl = strlen(d->name);
    const cmd_def *sub = NULL;
    if (pl + 1 + argv[1].len <= NAME_MAX_LEN) {
        memcpy(full, d->name, pl);
        full[pl] = '|';
        memcpy(full + pl + 1, argv[1].ptr, argv[1].len);
        sub = lookup_slot(full, pl + 1 + argv[1].len, slot);
    }
    if (!sub) *bad_sub = 1;
    return sub;
}

const cmd_def *cmd_lookup_argv(const resp_slice *argv, int argc, int *bad_sub) {
    uint32_t slot;
    return lookup_argv_slot(argv, argc, bad_sub, &slot);
}

/* INFO commandstats: counters per table slot, kept in the server. */
struct cmd_stat {
    uint64_t calls, nsec, rejected, failed; /* nsec: a sub-microsecond command must not count as 0 */
};

int cmd_stats_init(server *s) {
    s->cmdstats = calloc(TABLE_SLOTS, sizeof *s->cmdstats);
    return s->cmdstats ? 0 : -1;
}

void cmd_stats_reset(server *s) {
    if (s->cmdstats) memset(s->cmdstats, 0, TABLE_SLOTS * sizeof *s->cmdstats);
}

void cmd_stats_format(server *s, resp_buf *b) {
    char line[256];
    for (uint32_t i = 0; i < TABLE_SLOTS; i++) {
        const struct cmd_stat *st = &s->cmdstats[i];
        if (!slots[i] || (!st->calls && !st->rejected)) continue;
        int n = snprintf(line, sizeof line,
                         "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu\r\n",
                         slots[i]->name, (unsigned long long)st->calls, (unsigned long long)(st->nsec / 1000),
                         st->calls ? (double)st->nsec / 1000.0 / (double)st->calls : 0.0, (unsigned long long)st->rejected,
                         (unsigned long long)st->failed);
        if (n > 0) resp_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}


/* Copies at most max bytes of p with CR/LF as spaces (Redis cuts without
 * an ellipsis in this message). */
static size_t clip(char *out, const char *p, size_t n, size_t max) {
    size_t i = 0;
    for (; i < n && i < max; i++) out[i] = (p[i] == '\r' || p[i] == '\n') ? ' ' : p[i];
    out[i] = 0;
    return i;
}

/* "ERR unknown command 'x', with args beginning with: 'a' 'b' " like Redis. */
static void reply_unknown(client *c) {
    char name[130], args[300], piece[130];
    clip(name, c->argv[0].ptr, c->argv[0].len, 128);
    size_t al = 0;
    args[0] = 0;
    for (int i = 1; i < c->argc && al < 128; i++) {
        clip(piece, c->argv[i].ptr, c->argv[i].len, 128 - al);
        int n = snprintf(args + al, sizeof args - al, "'%s' ", piece);
        if (n < 0 || (size_t)n >= sizeof args - al) break;
        al += (size_t)n;
    }
    reply_errorf(c, "ERR unknown command '%s', with args beginning with: %s", name, args);
}

/* "ERR unknown subcommand 'x'. Try PARENT HELP." as Redis 7 words it. */
static void reply_unknown_subcommand(client *c) {
    char sub[140], parent[NAME_MAX_LEN + 1];
    clip(sub, c->argv[1].ptr, c->argv[1].len, 128);
    clip(parent, c->argv[0].ptr, c->argv[0].len, NAME_MAX_LEN);
    for (char *p = parent; *p; p++) *p = (char)toupper((unsigned char)*p);
    reply_errorf(c, "ERR unknown subcommand '%s'. Try %s HELP.", sub, parent);
}

void reply_subcommand_syntax_error(client *c) {
    char sub[140], parent[NAME_MAX_LEN + 1];
    clip(sub, c->argv[1].ptr, c->argv[1].len, 128);
    clip(parent, c->argv[0].ptr, c->argv[0].len, NAME_MAX_LEN);
    for (char *p = parent; *p; p++) *p = (char)toupper((unsigned char)*p);
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.", sub, parent);
}

static int arity_ok(const cmd_def *d, int argc) {
    return d->arity > 0 ? argc == d->arity : argc >= -d->arity;
}

int cmd_subcommand(client *c) {
    int bad_sub;
    const cmd_def *sub = c->argc > 1 ? cmd_lookup_argv(c->argv, c->argc, &bad_sub) : NULL;
    if (!sub || sub == c->cmd) {
        if (c->argc > 1) reply_unknown_subcommand(c);
        else reply_arity_error(c, c->cmd->name);
        return -1;
    }
    if (!arity_ok(sub, c->argc)) {
        reply_arity_error(c, sub->name);
        return -1;
    }
    c->cmd = sub;
    return sub->proc(c);
}

/* The domain write guard (SPEC §2): a plain write may not touch a key under
 * a prefix the domain engine owns. Checked once here from the table's key
 * positions, so no handler has to remember it. */
static int guard_refuses(client *c, const cmd_def *cmd) {
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? c->argc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    int db = (cmd->flags & CMD_DB0) ? 0 : c->db;
    if (db != 0) return 0;
    for (int i = cmd->first_key; i <= last && i < c->argc; i += step) {
        const resp_slice *k = &c->argv[i];
        if (db_owned(&c->srv->ks, 0, k->ptr, k->len, (cmd->flags & CMD_KEY_PREFIX) != 0)) {
            char shown[160];
            resp_sanitize(shown, sizeof shown, k->ptr, k->len, 128);
            reply_errorf(c, "ERR key '%s' is owned by the domain engine; use its commands", shown);
            return 1;
        }
    }
    int idx[8], n = cmd->more_keys ? cmd->more_keys(c->argv, c->argc, idx, 8) : 0;
    for (int j = 0; j < n; j++) {
        const resp_slice *k = &c->argv[idx[j]];
        if (db_owned(&c->srv->ks, 0, k->ptr, k->len, 0)) {
            char shown[160];
            resp_sanitize(shown, sizeof shown, k->ptr, k->len, 128);
            reply_errorf(c, "ERR key '%s' is owned by the domain engine; use its commands", shown);
            return 1;
        }
    }
    return 0;
}

/* Runs one command's handler in the command context without committing,
 * IDEMP replay/record around it (through the hooks of the family that
 * owns IDEMP). A handler that fails without replying leaves the lower
 * layer's status in the keyspace: it is replied here. 0 ok, -1 failed (its
 * writes must be dropped by the caller). */
static int call_handler(client *c, const cmd_def *cmd);

int cmd_call(client *c, const cmd_def *cmd) {
    server *s = c->srv;
    /* Events of a failed command never go out: its writes are dropped. */
    size_t events = pubsub_pending_mark(s);
    int rc = call_handler(c, cmd);
    if (rc != 0) pubsub_pending_rollback(s, events);
    if (s->monitors && !(cmd->flags & CMD_ADMIN)) monitor_feed(c); /* as Redis: admin commands are not shown */
    return rc;
}

static int call_handler(client *c, const cmd_def *cmd) {
    server *s = c->srv;
    size_t mark = c->out.len;
    c->cmd = cmd;
    st_clear(&s->ks.err);
    if ((cmd->flags & CMD_IDEMP) && s->hooks.idemp_before) {
        int r = s->hooks.idemp_before(c, cmd); /* 1: replayed, -1: refused; nothing written */
        if (r != 0) {
            if (r < 0 && c->out.len == mark) reply_fail(c, &s->ks.err);
            return r < 0 ? -1 : 0;
        }
    }
    int rc = cmd->proc(c);
    if (rc != 0 && c->out.len == mark) {
        /* A failure either replied or left its status; never fail silently. */
        if (!st_failed(&s->ks.err)) st_fail(&s->ks.err, ST_ERR, "'%s' failed without a reason", cmd->name);
        reply_fail(c, &s->ks.err);
    }
    if (rc == 0 && c->idemp_active && s->hooks.idemp_after) s->hooks.idemp_after(c, mark);
    c->idemp_active = 0;
    c->lastcmd = cmd;
    return rc;
}

int server_commit(server *s, client *c, size_t mark) {
    if (s->doomed) {
        /* the batch on the writer thread failed, and this one may have
         * read it: nothing of it may be written (net_async_finish) */
        ks_discard(&s->ks);
        if (c) {
            c->out.len = mark;
            reply_error(c, s->doom_msg);
        }
        return -1;
    }
    if (ks_commit(&s->ks) == 0) {
        s->iter_committed = 1;
        return 0;
    }
    pubsub_drop_pending(s); /* their writes may be lost: so are they (pub/sub is at most once) */
    if (c) {
        c->out.len = mark;
        reply_fail(c, &s->ks.err);
    } else {
        server_log(LL_WARNING, "commit of the loop iteration's writes failed: %s", s->ks.err.msg);
        s->commit_failed = 1;
    }
    return -1;
}

/* Runs one command in the shared command context. Its writes join the
 * batch of this loop iteration (group commit: one RocksDB write and one WAL
 * flush per iteration, before any reply leaves); the mark taken first lets
 * a failed command drop exactly its own writes. While any client WATCHes,
 * every command commits at once, so that the touch hook sees each write
 * before the next command runs. */
static int cmd_exec(client *c, const cmd_def *cmd) {
    server *s = c->srv;
    size_t mark = c->out.len;
    ks_mark m;
    ks_mark_begin(&s->ks, &m);
    int rc = cmd_call(c, cmd);
    if (rc != 0) {
        ks_mark_rollback(&s->ks, &m);
        return rc;
    }
    if (cmd->flags & CMD_SYNC) s->need_sync = 1;
    if (s->nwatch || !s->cfg.batch_commits) return server_commit(s, c, mark);
    return 0;
}

void cmd_dispatch(client *c) {
    server *s = c->srv;
    uint32_t slot = 0;
    int bad_sub;
    const cmd_def *cmd = lookup_argv_slot(c->argv, c->argc, &bad_sub, &slot);
    s->stat_commands++;
    if (!cmd) {
        if (bad_sub) reply_unknown_subcommand(c);
        else reply_unknown(c);
        if (c->in_multi) c->multi_error = 1;
        return;
    }
    struct cmd_stat *st = &s->cmdstats[slot];
    if (!arity_ok(cmd, c->argc)) {
        reply_arity_error(c, cmd->name);
        goto rejected;
    }
    if ((cmd->flags & CMD_PROTECTED) && !acl_protected_allowed(c, s->cfg.enable_debug_command)) {
        char up[NAME_MAX_LEN + 1];
        size_t n = 0;
        for (; cmd->name[n] && cmd->name[n] != '|' && n < NAME_MAX_LEN; n++) up[n] = (char)toupper((unsigned char)cmd->name[n]);
        up[n] = 0;
        reply_errorf(c, "ERR %s command not allowed. If the enable-debug-command option is set to \"local\", you "
                        "can run it from a local connection, otherwise you need to set this option in the "
                        "configuration file, and then restart the server.", up);
        goto rejected;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NOAUTH)) {
        reply_error(c, "NOAUTH Authentication required.");
        goto rejected;
    }
    if (acl_check(c, cmd, c->in_multi) < 0) goto rejected;
    if (s->cfg.domain_write_guard && (cmd->flags & CMD_WRITE) && !(cmd->flags & CMD_DOMAIN) &&
        guard_refuses(c, cmd))
        goto rejected;
    if (s->wal_error && (cmd->flags & CMD_WRITE)) {
        /* as Redis when its AOF cannot be written: no write is accepted
         * that could not be made durable; reads go on */
        reply_errorf(c, "MISCONF Errors writing to the WAL: %s", s->wal_errmsg);
        goto rejected;
    }
    /* RESP2 subscribed mode: the connection carries messages, only these
     * commands may share it (RESP3 has pushes and no such rule). */
    if ((c->flags & CL_PUBSUB) && c->resp == 2 && !(cmd->flags & CMD_PUBSUB_OK)) {
        reply_errorf(c, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                        "allowed in this context", cmd->name);
        goto rejected;
    }
    if (c->in_multi && (cmd->flags & CMD_DENY_MULTI)) {
        reply_error(c, "ERR Command not allowed inside a transaction");
        goto rejected;
    }
    if (c->in_multi && !(cmd->flags & CMD_NO_MULTI)) {
        multi_queue(c, cmd);
        return;
    }
    /* What the overlay of the batch on the writer thread cannot serve
     * waits for the batch (store_commit_async); the open batch then
     * commits on the loop. */
    if (!net_overlay_safe(s, c, cmd)) {
        if (store_async_pending(s->st)) net_async_finish(s);
        s->batch_mixed = 1;
    }
    uint64_t t0 = uv_hrtime();
    int rc = cmd_exec(c, cmd);
    uint64_t nsec = uv_hrtime() - t0, usec = nsec / 1000;
    st->calls++;
    st->nsec += nsec;
    if (rc != 0) st->failed++;
    slowlog_push(c, usec);
    block_serve(s); /* clients blocked on keys this command (or EXEC) filled */
    return;
rejected:
    st->rejected++;
    if (c->in_multi) c->multi_error = 1;
}

/* ---- COMMAND ------------------------------------------------------------ */

static void reply_flags(client *c, const cmd_def *d) {
    static const struct { uint32_t f; const char *name; } names[] = {
        {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_ADMIN, "admin"},
        {CMD_FAST, "fast"}, {CMD_NOAUTH, "no_auth"}, {CMD_IDEMP, "idemp"},
        {CMD_READONLY | CMD_RETRY_SAFE, "retry_safe"},
    };
    size_t slot = reply_deferred_array(c);
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (d->flags & names[i].f) { reply_status(c, names[i].name); n++; }
    reply_set_deferred_array(c, slot, n);
}

/* The ACL categories of the row (acl.c derives them from flags, group and
 * the row's acl field). */
static void reply_categories(client *c, const cmd_def *d) {
    char cat[64];
    int n = 0;
    uint64_t mask = acl_cmd_cats(d);
    size_t slot = reply_deferred_array(c);
    for (int i = 0; i < acl_cat_count(); i++)
        if (mask >> i & 1) {
            snprintf(cat, sizeof cat, "@%s", acl_cat_name(i));
            reply_status(c, cat);
            n++;
        }
    reply_set_deferred_array(c, slot, n);
}

/* The flags of a row's key spec: its own, or what WRITE/READONLY imply. */
static uint32_t key_spec_flags(const cmd_def *d) {
    if (d->key_flags) return d->key_flags;
    return (d->flags & CMD_WRITE) ? CMD_KEY_RW | CMD_KEY_UPDATE : CMD_KEY_RO | CMD_KEY_ACCESS;
}

/* Redis 7's key specs (COMMAND INFO's 9th element): one "index" + "range"
 * spec from first/last/step, lastkey relative to the first key as Redis
 * has it (-1: up to the last argument). */
static void reply_key_specs(client *c, const cmd_def *d) {
    if (d->first_key <= 0) {
        reply_array(c, 0);
        return;
    }
    static const struct { uint32_t f; const char *name; } names[] = {
        {CMD_KEY_RO, "RO"}, {CMD_KEY_RW, "RW"}, {CMD_KEY_OW, "OW"}, {CMD_KEY_RM, "RM"},
        {CMD_KEY_ACCESS, "access"}, {CMD_KEY_UPDATE, "update"}, {CMD_KEY_INSERT, "insert"},
        {CMD_KEY_DELETE, "delete"},
    };
    uint32_t kf = key_spec_flags(d);
    reply_array(c, 1);
    reply_map(c, 3);
    reply_bulkstr(c, "flags");
    size_t slot = reply_deferred_array(c);
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (kf & names[i].f) { reply_status(c, names[i].name); n++; }
    reply_set_deferred_array(c, slot, n);
    reply_bulkstr(c, "begin_search");
    reply_map(c, 2);
    reply_bulkstr(c, "type");
    reply_bulkstr(c, "index");
    reply_bulkstr(c, "spec");
    reply_map(c, 1);
    reply_bulkstr(c, "index");
    reply_int(c, d->first_key);
    reply_bulkstr(c, "find_keys");
    reply_map(c, 2);
    reply_bulkstr(c, "type");
    reply_bulkstr(c, "range");
    reply_bulkstr(c, "spec");
    reply_map(c, 3);
    reply_bulkstr(c, "lastkey");
    reply_int(c, d->last_key < 0 ? d->last_key : d->last_key - d->first_key);
    reply_bulkstr(c, "keystep");
    reply_int(c, d->key_step > 0 ? d->key_step : 1);
    reply_bulkstr(c, "limit");
    reply_int(c, 0);
}

static void reply_info(client *c, const cmd_def *d) {
    const cmd_def *const *subs = NULL; /* set only for a container; -O3 warns otherwise */
    int ns = cmd_subcommands(d, &subs);
    reply_array(c, 10);
    reply_bulkstr(c, d->name);
    reply_int(c, d->arity);
    reply_flags(c, d);
    reply_int(c, d->first_key);
    reply_int(c, d->last_key);
    reply_int(c, d->key_step);
    reply_categories(c, d);
    reply_array(c, 0); /* tips */
    reply_key_specs(c, d);
    reply_array(c, ns); /* subcommands, each its own COMMAND INFO entry */
    for (int i = 0; i < ns; i++) reply_info(c, subs[i]);
}

static void reply_docs(client *c, const cmd_def *d) {
    const cmd_def *const *subs = NULL;
    int ns = cmd_subcommands(d, &subs);
    reply_bulkstr(c, d->name);
    reply_array(c, ns ? 10 : 8);
    reply_bulkstr(c, "summary");
    reply_bulkstr(c, d->summary);
    reply_bulkstr(c, "since");
    reply_bulkstr(c, "1.0.0");
    reply_bulkstr(c, "group");
    reply_bulkstr(c, d->group);
    reply_bulkstr(c, "syntax");
    reply_bulkstr(c, d->args ? d->args : "");
    if (ns) {
        reply_bulkstr(c, "subcommands"); /* name -> docs, as Redis 7 */
        reply_array(c, ns * 2);
        for (int i = 0; i < ns; i++) reply_docs(c, subs[i]);
    }
}

/* COMMAND GETKEYS command [arg ...]: the keys of a full command line (a
 * container's subcommand resolved as dispatch would). */
int cmd_command_getkeys(client *c) {
    int argc = c->argc - 2, bad_sub;
    const cmd_def *d = cmd_lookup_argv(c->argv + 2, argc, &bad_sub);
    if (!d) {
        reply_error(c, "ERR Invalid command specified");
        return -1;
    }
    if (!arity_ok(d, argc)) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return -1;
    }
    if (d->first_key <= 0) {
        reply_error(c, "ERR The command has no key arguments");
        return -1;
    }
    int last = d->last_key < 0 ? argc + d->last_key : d->last_key;
    int step = d->key_step > 0 ? d->key_step : 1;
    int n = 0, idx[8], more = d->more_keys ? d->more_keys(c->argv + 2, argc, idx, 8) : 0;
    for (int i = d->first_key; i <= last && i < argc; i += step) n++;
    reply_array(c, n + more);
    for (int i = d->first_key; i <= last && i < argc; i += step)
        reply_bulk(c, c->argv[i + 2].ptr, c->argv[i + 2].len);
    for (int j = 0; j < more; j++) reply_bulk(c, c->argv[idx[j] + 2].ptr, c->argv[idx[j] + 2].len);
    return 0;
}

/* COMMAND: every top-level command, subcommands nested (as Redis 7). */
int cmd_command(client *c) {
    reply_array(c, (int64_t)ntop);
    for (size_t i = 0; i < ncmds; i++)
        if (!parent_len(order[i]->name)) reply_info(c, order[i]);
    return 0;
}

/* COMMAND COUNT: top-level commands only, as Redis counts them. */
int cmd_command_count(client *c) {
    reply_int(c, (int64_t)ntop);
    return 0;
}

/* COMMAND LIST: every name, "parent|sub" after its parent (Redis 7). */
int cmd_command_list(client *c) {
    reply_array(c, (int64_t)ncmds);
    for (size_t i = 0; i < ncmds; i++) reply_bulkstr(c, order[i]->name);
    return 0;
}

/* COMMAND INFO [name ...]: a nil in place of an unknown name. */
int cmd_command_info(client *c) {
    if (c->argc == 2) return cmd_command(c);
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const cmd_def *d = cmd_lookup(c->argv[i].ptr, c->argv[i].len);
        if (d) reply_info(c, d);
        else reply_null_array(c);
    }
    return 0;
}

/* COMMAND DOCS [name ...]: unknown names are left out. */
int cmd_command_docs(client *c) {
    if (c->argc == 2) {
        reply_array(c, (int64_t)ntop * 2);
        for (size_t i = 0; i < ncmds; i++)
            if (!parent_len(order[i]->name)) reply_docs(c, order[i]);
        return 0;
    }
    size_t slot = reply_deferred_array(c);
    int n = 0;
    for (int i = 2; i < c->argc; i++) {
        const cmd_def *d = cmd_lookup(c->argv[i].ptr, c->argv[i].len);
        if (d) {
            reply_docs(c, d);
            n += 2;
        }
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

/* COMMAND HELP */
int cmd_command_help(client *c) {
    static const char *lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)", "    Return details about all commands.",
        "COUNT", "    Return the total number of commands.",
        "LIST", "    Return a list of all command names.",
        "INFO [<command-name> ...]", "    Return details about the given commands (all when none).",
        "DOCS [<command-name> ...]", "    Return documentation of the given commands (all when none).",
        "GETKEYS <full-command>", "    Return the keys from a full command.",
        "HELP", "    Print this help."};
    reply_array(c, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    return 0;
}

/* Text in a Markdown table cell: a '|' would end the cell. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
}

/* docs/commands.md is generated from the table, so the docs cannot drift
 * from what dispatch does. */
void cmd_write_markdown(FILE *f) {
    fprintf(f, "# Command reference\n\nGenerated from the command table by `stagekv-server "
               "--commands-md` (`make docs`); do not edit by hand.\n\n"
               "Arity follows Redis: N = exactly N arguments including the name, -N = at least N. "
               "Keys: first, last, step positions of key arguments (0 = none). "
               "Flags: `write`, `readonly`, `fast`, `admin`, `noauth` (allowed before AUTH), "
               "`sync` (WAL fsynced before the reply in every fsync mode), `db0` (always database 0), "
               "`prefix` (the key argument is a prefix), `idemp` (accepts `IDEMP key`: a retry with the same key "
               "and arguments replays the first reply and changes nothing; SPEC §4.3), `retry_safe` (a write that leaves the same "
               "state when repeated, so clients may retry it; `COMMAND INFO` also lists every readonly command as "
               "`retry_safe`). A subcommand (`CLIENT KILL`) follows its parent; like Redis, its arity and key "
               "positions count the parent's name and its own.\n");
    for (int g = 0; groups[g]; g++) {
        fprintf(f, "\n## %s\n\n| command | arity | keys | flags | summary |\n|---|---|---|---|---|\n", titles[g]);
        for (size_t i = 0; i < ncmds; i++) {
            const cmd_def *d = order[i]; /* a parent, then its subcommands (same group) */
            if (strcmp(d->group, groups[g]) != 0) continue;
            char upper[NAME_MAX_LEN + 1];
            size_t n = 0;
            for (; d->name[n] && n < NAME_MAX_LEN; n++)
                upper[n] = d->name[n] == '|' ? ' ' : (char)toupper((unsigned char)d->name[n]);
            upper[n] = 0;
            fprintf(f, "| `%s", upper);
            if (d->args && d->args[0]) {
                fputc(' ', f);
                md_cell(f, d->args);
            }
            fprintf(f, "` | %d | %d,%d,%d | ", d->arity, d->first_key, d->last_key, d->key_step);
            static const struct { uint32_t f; const char *name; } fl[] = {
                {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_FAST, "fast"}, {CMD_ADMIN, "admin"},
                {CMD_NOAUTH, "noauth"}, {CMD_SYNC, "sync"}, {CMD_DB0, "db0"}, {CMD_KEY_PREFIX, "prefix"},
                {CMD_IDEMP, "idemp"}, {CMD_RETRY_SAFE, "retry_safe"}};
            int first = 1;
            for (size_t k = 0; k < sizeof fl / sizeof fl[0]; k++)
                if (d->flags & fl[k].f) { fprintf(f, "%s%s", first ? "" : " ", fl[k].name); first = 0; }
            fputs(" | ", f);
            md_cell(f, d->summary);
            fputs(" |\n", f);
        }
    }
}
