/* Unit tests for server/core/slowlog.c: the ring filled by slowlog_push
 * (threshold, capacity, ids, argument truncation) and SLOWLOG GET/LEN/RESET
 * as replies in a client's output buffer. The server is a zeroed struct
 * with only the two slowlog options set: no loop, no store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "unit_client.h"
#include "../unit_leak.h"

static server srv;
static unit_client uc; /* the client whose commands are logged */
static unit_client adm; /* the client that runs SLOWLOG */

static void setup(void) {
    memset(&srv, 0, sizeof srv);
    srv.cfg.slowlog_slower_than = 100;
    srv.cfg.slowlog_max_len = 4;
    unit_client_init(&adm, 0, NULL);
    adm.c.srv = &srv;
}

static void teardown(void) {
    slowlog_free(&srv);
    unit_client_free(&adm);
    unit_leak_check();
}

TestSuite(slowlog, .init = setup, .fini = teardown);

/* Logs one command (args) as run by client name from addr, in usec µs. */
static void push(uint64_t usec, int argc, const char *const *args) {
    unit_client_init(&uc, argc, args);
    uc.c.srv = &srv;
    snprintf(uc.c.addr, sizeof uc.c.addr, "127.0.0.1:5000");
    uc.c.name = "worker";
    slowlog_push(&uc.c, usec);
    unit_client_free(&uc);
}

static void push1(uint64_t usec, const char *cmd) {
    const char *args[] = {cmd};
    push(usec, 1, args);
}

/* Runs SLOWLOG with these arguments; returns its reply (NUL-terminated
 * copy, caller frees) and the handler's result in *rc. */
static char *slowlog(int *rc, int argc, const char *const *args) {
    unit_client_free(&adm);
    unit_client_init(&adm, argc, args);
    adm.c.srv = &srv;
    /* the table routes "slowlog|<sub>" rows (tested in test_commands.c and
     * e2e); here the handlers are called directly */
    const resp_slice *sub = &adm.c.argv[1];
    int r = arg_eq(sub, "get")     ? slowlog_get_command(&adm.c)
            : arg_eq(sub, "len")   ? slowlog_len_command(&adm.c)
            : arg_eq(sub, "reset") ? slowlog_reset_command(&adm.c)
                                   : slowlog_help_command(&adm.c);
    if (rc) *rc = r;
    char *out = strndup(adm.c.out.data ? adm.c.out.data : "", adm.c.out.len);
    resp_buf_clear(&adm.c.out);
    return out;
}

static long long slowlog_len(void) {
    const char *args[] = {"SLOWLOG", "LEN"};
    char *r = slowlog(NULL, 2, args);
    cr_assert_eq(r[0], ':', "SLOWLOG LEN: %s", r);
    long long n = atoll(r + 1);
    free(r);
    return n;
}

/* The ids of SLOWLOG GET [count], newest first, as "4,3,2". */
static char *ids(const char *count) {
    const char *args[] = {"SLOWLOG", "GET", count};
    char *r = slowlog(NULL, count ? 3 : 2, args);
    char *out = calloc(1, 256);
    const char *p = r;
    /* each entry starts "*6\r\n:<id>\r\n" */
    while ((p = strstr(p, "*6\r\n:"))) {
        p += 5;
        size_t n = strcspn(p, "\r");
        if (out[0]) strcat(out, ",");
        strncat(out, p, n);
    }
    free(r);
    return out;
}

#define EXPECT_IDS(count, want)                                   \
    do {                                                          \
        char *got_ = ids(count);                                  \
        cr_expect_str_eq(got_, (want), "SLOWLOG GET %s", (count) ? (count) : ""); \
        free(got_);                                               \
    } while (0)

Test(slowlog, threshold) {
    push1(99, "FAST");
    cr_expect_eq(slowlog_len(), 0, "under the threshold");
    push1(100, "EDGE");
    cr_expect_eq(slowlog_len(), 1, "at the threshold");
    srv.cfg.slowlog_slower_than = -1;
    push1(1000000, "SLOW");
    cr_expect_eq(slowlog_len(), 1, "a negative threshold disables the log");
    srv.cfg.slowlog_slower_than = 0;
    push1(0, "ANY");
    cr_expect_eq(slowlog_len(), 2, "0 logs everything");
}

Test(slowlog, ring_keeps_the_newest) {
    for (int i = 0; i < 6; i++) push1(500, "CMD");
    cr_expect_eq(slowlog_len(), 4);
    EXPECT_IDS(NULL, "5,4,3,2");
    EXPECT_IDS("2", "5,4");
    EXPECT_IDS("0", "");
    EXPECT_IDS("-1", "5,4,3,2");
    EXPECT_IDS("100", "5,4,3,2");
}

Test(slowlog, entry_fields) {
    const char *args[] = {"SET", "k", "v"};
    push(1234, 3, args);
    const char *get[] = {"SLOWLOG", "GET"};
    int rc;
    char *r = slowlog(&rc, 2, get);
    cr_expect_eq(rc, 0);
    cr_expect_eq(strncmp(r, "*1\r\n*6\r\n:0\r\n:", 13), 0, "%s", r);
    const char *tail = ":1234\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$14\r\n127.0.0.1:5000\r\n$6\r\nworker\r\n";
    size_t rl = strlen(r), tl = strlen(tail);
    cr_expect(rl > tl && strcmp(r + rl - tl, tail) == 0, "entry: %s", r);
    free(r);
}

Test(slowlog, long_arguments_are_cut) {
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const char *args[] = {"SET", "k", big};
    push(1000, 3, args);
    const char *get[] = {"SLOWLOG", "GET"};
    char *r = slowlog(NULL, 2, get);
    char want[400];
    snprintf(want, sizeof want, "%.128s... (171 more bytes)", big);
    char bulk[450];
    snprintf(bulk, sizeof bulk, "$%zu\r\n%s\r\n", strlen(want), want);
    cr_expect(strstr(r, bulk) != NULL, "no '%s' in %s", want, r);
    free(r);
}

Test(slowlog, many_arguments_are_cut) {
    const char *args[40];
    for (int i = 0; i < 40; i++) args[i] = "x";
    args[0] = "MSET";
    push(1000, 40, args);
    const char *get[] = {"SLOWLOG", "GET"};
    char *r = slowlog(NULL, 2, get);
    cr_expect(strstr(r, "*32\r\n$4\r\nMSET\r\n") != NULL, "32 arguments kept: %s", r);
    cr_expect(strstr(r, "$22\r\n... (9 more arguments)\r\n") != NULL, "the last one says how many more: %s", r);
    free(r);
}

Test(slowlog, reset_keeps_ids_going) {
    push1(500, "A");
    push1(500, "B");
    const char *reset[] = {"SLOWLOG", "RESET"};
    char *r = slowlog(NULL, 2, reset);
    cr_expect_str_eq(r, "+OK\r\n");
    free(r);
    cr_expect_eq(slowlog_len(), 0);
    EXPECT_IDS(NULL, "");
    push1(500, "C");
    EXPECT_IDS(NULL, "2");
}

Test(slowlog, max_len_change) {
    for (int i = 0; i < 3; i++) push1(500, "A");
    srv.cfg.slowlog_max_len = 2;
    push1(500, "B");
    cr_expect_eq(slowlog_len(), 1, "a new ring of 2");
    EXPECT_IDS(NULL, "3");
    push1(500, "C");
    push1(500, "D");
    EXPECT_IDS(NULL, "5,4");
    srv.cfg.slowlog_max_len = 0;
    push1(500, "E");
    EXPECT_IDS(NULL, "5,4");
}

Test(slowlog, empty_and_errors) {
    EXPECT_IDS(NULL, "");
    cr_expect_eq(slowlog_len(), 0);
    int rc;
    const char *bad_count[] = {"SLOWLOG", "GET", "-2"};
    char *r = slowlog(&rc, 3, bad_count);
    cr_expect_eq(rc, -1);
    cr_expect_str_eq(r, "-ERR count should be greater than or equal to -1\r\n");
    free(r);
    const char *not_int[] = {"SLOWLOG", "GET", "x"};
    r = slowlog(&rc, 3, not_int);
    cr_expect_str_eq(r, "-ERR count should be greater than or equal to -1\r\n");
    free(r);
    const char *help[] = {"SLOWLOG", "help"};
    r = slowlog(&rc, 2, help);
    cr_expect_eq(rc, 0);
    cr_expect_eq(strncmp(r, "*4\r\n+SLOWLOG <subcommand>", 25), 0, "%s", r);
    free(r);
}
