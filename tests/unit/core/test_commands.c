/* Unit tests for the command table (server/core/commands.c): how it is
 * built from families, what it refuses at start, lookup of commands and
 * subcommands, and key positions; then the invariants of the real table
 * that main.c builds. Criterion runs each test in its own process, so each
 * builds its table from scratch. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
/* the real families, listed as main.c lists them */
#include "cmd_admin.h"
#include "cmd_bits.h"
#include "cmd_client.h"
#include "cmd_conn.h"
#include "cmd_expire.h"
#include "cmd_keys.h"
#include "cmd_kv.h"
#include "cmd_server.h"
#include "cmd_string.h"
#include "cmd_analytics.h"
#include "cmd_coins.h"
#include "cmd_email.h"
#include "cmd_entity.h"
#include "cmd_msg.h"
#include "cmd_notify.h"
#include "cmd_payment.h"
#include "cmd_settings.h"
#include "cmd_ticket.h"
#include "cmd_user.h"
#include "cmd_userdel.h"
#include "domain.h"

/* ---- a synthetic family ------------------------------------------------- */

static int calls_ok, calls_sub;
static int ok_proc(client *c) { (void)c; calls_ok++; return 0; }
static int sub_proc(client *c) { (void)c; calls_sub++; return 0; }

static const cmd_def base_rows[] = {
    {.name = "alpha", .proc = ok_proc, .arity = 2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1,
     .key_step = 1, .group = "generic", .summary = "a"},
    {.name = "mput", .proc = ok_proc, .arity = -3, .flags = CMD_WRITE, .first_key = 1, .last_key = -1,
     .key_step = 2, .group = "generic", .summary = "pairs"},
    {.name = "box", .proc = cmd_subcommand, .arity = -2, .group = "server", .summary = "a container"},
    {.name = "box|peek", .proc = sub_proc, .arity = 3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2,
     .key_step = 1, .group = "server", .summary = "a keyed subcommand"},
    {.name = "box|help", .proc = sub_proc, .arity = 2, .group = "server", .summary = "help"},
    CMD_TABLE_END,
};
/* a subcommand registered by a later family than its parent */
static const cmd_def late_rows[] = {
    {.name = "box|later", .proc = sub_proc, .arity = -2, .group = "server", .summary = "registered later"},
    CMD_TABLE_END,
};
static const cmd_family base_family = {.name = "base", .rows = base_rows};
static const cmd_family late_family = {.name = "late", .rows = late_rows};

static void build_base(void) {
    static const cmd_family *const fams[] = {&base_family, &late_family, NULL};
    const char *err = NULL;
    cr_assert_eq(cmd_table_init(fams, &err), 0, "table refused: %s", err ? err : "");
}

/* Builds a table of base_rows and then rows; returns what init said. */
static const char *refusal(const cmd_def *rows) {
    cmd_family f = {.name = "bad", .rows = rows};
    const cmd_family *fams[] = {&base_family, &f, NULL};
    const char *err = NULL;
    server_log_level(LL_WARNING + 1); /* the refusals' log lines are expected */
    int r = cmd_table_init(fams, &err);
    if (r == 0) return NULL;
    cr_assert(err, "a refusal without a message");
    cr_assert_eq(cmd_count(), 0, "a refused table keeps %zu rows", cmd_count());
    return err;
}

#define ROW(...) ((const cmd_def[]){{__VA_ARGS__}, CMD_TABLE_END})

static resp_slice S(const char *s) { return (resp_slice){s, strlen(s)}; }

Test(table, lookup_is_case_insensitive) {
    build_base();
    const cmd_def *a = cmd_lookup("alpha", 5);
    cr_assert(a && strcmp(a->name, "alpha") == 0);
    cr_expect_eq(cmd_lookup("ALPHA", 5), a);
    cr_expect_eq(cmd_lookup("aLpHa", 5), a);
    cr_expect_null(cmd_lookup("alph", 4));
    cr_expect_null(cmd_lookup("alphab", 6));
    cr_expect_null(cmd_lookup("", 0));
    /* a length, not a terminator: "alpha" inside a longer buffer */
    cr_expect_eq(cmd_lookup("alphaXYZ", 5), a);
    cr_expect_eq(cmd_count(), 6);
    cr_expect_eq(cmd_count_top(), 3, "top-level rows: %zu", cmd_count_top());
}

Test(table, duplicate_name_refused) {
    const char *err = refusal(ROW(.name = "alpha", .proc = ok_proc, .arity = 1, .group = "server", .summary = "s"));
    cr_assert(err);
    cr_expect(strstr(err, "twice"), "%s", err);
    /* the same name in another case is the same name */
    err = refusal(ROW(.name = "box|peek", .proc = ok_proc, .arity = 3, .group = "server", .summary = "s"));
    cr_expect(err && strstr(err, "twice"), "%s", err ? err : "(accepted)");
}

Test(table, overflow_refused) {
    enum { N = 600 };
    static char names[N][16];
    static cmd_def rows[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        rows[i] = (cmd_def){.name = names[i], .proc = ok_proc, .arity = 1, .group = "server", .summary = "s"};
    }
    rows[N] = (cmd_def)CMD_TABLE_END;
    const char *err = refusal(rows);
    cr_assert(err, "a table of %d rows was accepted", N + 6);
    cr_expect(strstr(err, "too many"), "%s", err);
}

Test(table, malformed_rows_refused) {
    struct { const cmd_def *rows; const char *why; } bad[] = {
        {ROW(.name = "Upper", .proc = ok_proc, .arity = 1, .group = "server", .summary = "s"), "upper case"},
        {ROW(.name = "", .proc = ok_proc, .arity = 1, .group = "server", .summary = "s"), "empty name"},
        {ROW(.name = "noproc", .arity = 1, .group = "server", .summary = "s"), "no handler"},
        {ROW(.name = "nosection", .proc = ok_proc, .arity = 1, .group = "g", .summary = "s"), "group not documented"},
        {ROW(.name = "nogroup", .proc = ok_proc, .arity = 1, .summary = "s"), "no group"},
        {ROW(.name = "nosum", .proc = ok_proc, .arity = 1, .group = "server"), "no summary"},
        {ROW(.name = "zero", .proc = ok_proc, .arity = 0, .group = "server", .summary = "s"), "arity 0"},
        {ROW(.name = "k", .proc = ok_proc, .arity = 2, .last_key = 1, .group = "server", .summary = "s"),
         "keys without a first key"},
        {ROW(.name = "k", .proc = ok_proc, .arity = 3, .first_key = 2, .last_key = 1, .key_step = 1, .group = "server",
             .summary = "s"), "last key before the first"},
        {ROW(.name = "rw", .proc = ok_proc, .arity = 1, .flags = CMD_WRITE | CMD_READONLY, .group = "server",
             .summary = "s"), "write and readonly"},
        {ROW(.name = "kf", .proc = ok_proc, .arity = 1, .key_flags = CMD_KEY_RO, .group = "server", .summary = "s"),
         "key flags without keys"},
        {ROW(.name = "kf", .proc = ok_proc, .arity = 2, .first_key = 1, .last_key = 1, .key_step = 1,
             .key_flags = CMD_KEY_RO | CMD_KEY_RW, .group = "server", .summary = "s"), "RO and RW"},
        {ROW(.name = "kf", .proc = ok_proc, .arity = 2, .first_key = 1, .last_key = 1, .key_step = 1,
             .key_flags = CMD_KEY_ACCESS, .group = "server", .summary = "s"), "no RO/RW/OW/RM"},
        {ROW(.name = "nobox|x", .proc = ok_proc, .arity = 2, .group = "server", .summary = "s"), "no parent"},
        {ROW(.name = "box|", .proc = ok_proc, .arity = 2, .group = "server", .summary = "s"), "empty subcommand"},
        {ROW(.name = "|x", .proc = ok_proc, .arity = 2, .group = "server", .summary = "s"), "empty parent"},
        {ROW(.name = "box|a|b", .proc = ok_proc, .arity = 3, .group = "server", .summary = "s"), "two levels"},
        {ROW(.name = "box|one", .proc = ok_proc, .arity = 1, .group = "server", .summary = "s"),
         "a subcommand's arity without its parent"},
        {ROW(.name = "box|own", .proc = ok_proc, .arity = 2, .first_key = 1, .last_key = 1, .key_step = 1,
             .group = "server", .summary = "s"), "a subcommand's key is its own name"},
        {ROW(.name = "box|grp", .proc = ok_proc, .arity = 2, .group = "generic", .summary = "s"),
         "group not the parent's"},
        {ROW(.name = "empty", .proc = cmd_subcommand, .arity = -2, .group = "server", .summary = "s"),
         "a container without subcommands"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(refusal(bad[i].rows), "a row with %s was accepted", bad[i].why);
    /* and the base alone is fine again after refusals */
    build_base();
    cr_expect_eq(cmd_count(), 6);
}

Test(table, subcommand_lookup) {
    build_base();
    const cmd_def *box = cmd_lookup("box", 3), *peek = cmd_lookup("BOX|Peek", 8);
    cr_assert(box && peek);
    cr_expect_str_eq(peek->name, "box|peek");
    int bad;
    resp_slice argv[] = {S("BOX"), S("PEEK"), S("k")};
    cr_expect_eq(cmd_lookup_argv(argv, 3, &bad), peek);
    cr_expect_eq(bad, 0);
    /* the parent alone is the parent */
    cr_expect_eq(cmd_lookup_argv(argv, 1, &bad), box);
    /* an unknown subcommand: NULL, and the parent was known */
    resp_slice nope[] = {S("box"), S("nope")};
    cr_expect_null(cmd_lookup_argv(nope, 2, &bad));
    cr_expect_eq(bad, 1);
    /* an unknown command is not an unknown subcommand */
    resp_slice unk[] = {S("zzz"), S("peek")};
    cr_expect_null(cmd_lookup_argv(unk, 2, &bad));
    cr_expect_eq(bad, 0);
    /* a subcommand's full name is no command name (as in Redis) */
    resp_slice full[] = {S("box|peek"), S("k")};
    cr_expect_null(cmd_lookup_argv(full, 2, &bad));
    cr_expect_eq(bad, 0);
    /* a plain command's second argument is only an argument */
    resp_slice plain[] = {S("alpha"), S("peek")};
    cr_expect_eq(cmd_lookup_argv(plain, 2, &bad), cmd_lookup("alpha", 5));
    /* subcommands in table order, the later family's too, right after the parent */
    const cmd_def *const *subs;
    cr_assert_eq(cmd_subcommands(box, &subs), 3);
    cr_expect_str_eq(subs[0]->name, "box|peek");
    cr_expect_str_eq(subs[1]->name, "box|help");
    cr_expect_str_eq(subs[2]->name, "box|later");
    const cmd_def *const *none;
    cr_expect_eq(cmd_subcommands(cmd_lookup("alpha", 5), &none), 0);
    size_t at = 0;
    while (cmd_at(at) != box) at++;
    cr_expect_eq(cmd_at(at + 1), subs[0]);
    cr_expect_eq(cmd_at(at + 3), subs[2]);
    cr_expect_null(cmd_at(cmd_count()));
}

/* ---- handlers run on a bare client: replies land in c->out -------------- */

static void bare_client(client *c, resp_slice *argv, int argc) {
    memset(c, 0, sizeof *c);
    resp_buf_init(&c->out);
    c->resp = 2;
    c->argv = argv;
    c->argc = argc;
}

static void expect_out(client *c, const char *want) {
    char *got = strndup(c->out.data ? c->out.data : "", c->out.len);
    cr_expect_str_eq(got, want);
    free(got);
    resp_buf_free(&c->out);
}

Test(table, parent_runs_its_subcommand) {
    build_base();
    client c;
    resp_slice argv[] = {S("box"), S("peek"), S("k")};
    bare_client(&c, argv, 3);
    c.cmd = cmd_lookup("box", 3);
    calls_sub = 0;
    cr_expect_eq(cmd_subcommand(&c), 0);
    cr_expect_eq(calls_sub, 1);
    cr_expect_str_eq(c.cmd->name, "box|peek");
    expect_out(&c, "");

    resp_slice wrong[] = {S("box"), S("peek")};
    bare_client(&c, wrong, 2);
    c.cmd = cmd_lookup("box", 3);
    cr_expect_eq(cmd_subcommand(&c), -1);
    expect_out(&c, "-ERR wrong number of arguments for 'box|peek' command\r\n");

    resp_slice unk[] = {S("Box"), S("x\r\ny")};
    bare_client(&c, unk, 2);
    c.cmd = cmd_lookup("box", 3);
    cr_expect_eq(cmd_subcommand(&c), -1);
    expect_out(&c, "-ERR unknown subcommand 'x  y'. Try BOX HELP.\r\n");
}

Test(table, key_positions_give_getkeys) {
    build_base();
    client c;
    /* COMMAND GETKEYS mput a 1 b 2: every other argument from 1 */
    resp_slice a1[] = {S("command"), S("getkeys"), S("mput"), S("a"), S("1"), S("b"), S("2")};
    bare_client(&c, a1, 7);
    cr_expect_eq(cmd_command_getkeys(&c), 0);
    expect_out(&c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    /* a subcommand's key counts its parent: BOX PEEK k */
    resp_slice a2[] = {S("command"), S("getkeys"), S("box"), S("peek"), S("k")};
    bare_client(&c, a2, 5);
    cr_expect_eq(cmd_command_getkeys(&c), 0);
    expect_out(&c, "*1\r\n$1\r\nk\r\n");
    /* refusals, in Redis's words */
    resp_slice a3[] = {S("command"), S("getkeys"), S("alpha"), S("a"), S("b")};
    bare_client(&c, a3, 5);
    cr_expect_eq(cmd_command_getkeys(&c), -1);
    expect_out(&c, "-ERR Invalid number of arguments specified for command\r\n");
    resp_slice a4[] = {S("command"), S("getkeys"), S("box"), S("help")};
    bare_client(&c, a4, 4);
    cr_expect_eq(cmd_command_getkeys(&c), -1);
    expect_out(&c, "-ERR The command has no key arguments\r\n");
    resp_slice a5[] = {S("command"), S("getkeys"), S("box"), S("nope"), S("k")};
    bare_client(&c, a5, 5);
    cr_expect_eq(cmd_command_getkeys(&c), -1);
    expect_out(&c, "-ERR Invalid command specified\r\n");
}

/* ---- the real table ------------------------------------------------------ */

static const cmd_family *const real_families[] = {
    &domain_engine_family,
    &conn_family, &client_family, &server_family, &admin_family, &string_family, &bits_family,
    &keys_family, &expire_family, &multi_family, &kv_family,
    &entity_family, &user_family, &coins_family, &payment_family, &msg_family, &notify_family,
    &email_family, &ticket_family, &settings_family, &analytics_family, &userdel_family,
    NULL,
};

Test(real_table, every_row_well_formed) {
    const char *err = NULL;
    cr_assert_eq(cmd_table_init(real_families, &err), 0, "the real table is refused: %s", err ? err : "");
    size_t top = 0;
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        cr_assert(d);
        cr_expect_eq(cmd_lookup(d->name, strlen(d->name)), d, "%s is not found by its name", d->name);
        cr_expect(d->summary[0] && !strpbrk(d->summary, "\r\n"), "%s: summary", d->name);
        cr_expect(d->args != NULL, "%s has no syntax line", d->name);
        if (d->first_key > 0) {
            int n = d->arity < 0 ? -d->arity : d->arity;
            cr_expect(d->first_key < n || d->arity < 0, "%s: first key %d beyond arity %d", d->name,
                      d->first_key, d->arity);
        }
        const char *bar = strchr(d->name, '|');
        if (!bar) {
            top++;
            continue;
        }
        /* a subcommand: its parent exists, is top level, lists it and runs it */
        const cmd_def *parent = cmd_lookup(d->name, (size_t)(bar - d->name));
        cr_assert(parent, "%s has no parent", d->name);
        cr_expect_null(strchr(parent->name, '|'));
        cr_expect_str_eq(parent->group, d->group, "%s", d->name);
        cr_expect(d->arity >= 2 || d->arity <= -2, "%s: arity %d", d->name, d->arity);
        const cmd_def *const *subs;
        int ns = cmd_subcommands(parent, &subs), found = 0;
        for (int k = 0; k < ns; k++) found |= subs[k] == d;
        cr_expect(found, "%s is not among %s's subcommands", d->name, parent->name);
        resp_slice argv[] = {S(parent->name), S(bar + 1)};
        int bad;
        cr_expect_eq(cmd_lookup_argv(argv, 2, &bad), d, "%s %s does not resolve", parent->name, bar + 1);
    }
    cr_expect_eq(top, cmd_count_top());
    cr_expect_gt(cmd_count(), cmd_count_top(), "no subcommand rows");
}

/* Every container answers HELP, which its unknown-subcommand error names. */
Test(real_table, every_container_has_help) {
    const char *err = NULL;
    cr_assert_eq(cmd_table_init(real_families, &err), 0);
    const char *containers[] = {"client", "config", "command", "object", "slowlog", "memory",
                                "latency", "debug", "function"};
    for (size_t i = 0; i < sizeof containers / sizeof containers[0]; i++) {
        const cmd_def *p = cmd_lookup(containers[i], strlen(containers[i]));
        cr_assert(p, "%s missing", containers[i]);
        cr_expect_gt(cmd_subcommands(p, NULL), 1, "%s has no subcommand rows", containers[i]);
    }
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        if (strchr(d->name, '|') || cmd_subcommands(d, NULL) == 0) continue;
        char help[80];
        snprintf(help, sizeof help, "%s|help", d->name);
        cr_expect(cmd_lookup(help, strlen(help)), "%s has subcommands but no HELP", d->name);
    }
}
