/* Unit tests for server/core/reply.c: every reply helper writes the exact
 * RESP2 bytes into the client's output buffer, and the RESP3 spelling
 * (HELLO 3) where the two protocols differ: null, map, double, and the
 * deferred headers. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "unit_client.h"
#include "../unit_leak.h"

static unit_client uc;
static client *c;

static void setup2(void) {
    unit_client_init(&uc, 0, NULL);
    c = &uc.c;
}
static void setup3(void) {
    setup2();
    c->resp = 3;
}
static void teardown(void) {
    cr_expect_eq(c->flags & CL_CLOSE_AFTER_REPLY, 0, "a reply marked the client for closing");
    unit_client_free(&uc);
    unit_leak_check();
}

TestSuite(reply2, .init = setup2, .fini = teardown);
TestSuite(reply3, .init = setup3, .fini = teardown);

#define OUT(s) unit_expect_out(&uc, s)
#define OUT_BIN(p, n) unit_expect_out_bin(&uc, p, n)

/* The replies that are the same in both protocols. */
static void common_replies(void) {
    reply_ok(c);
    OUT("+OK\r\n");
    reply_status(c, "QUEUED");
    OUT("+QUEUED\r\n");
    reply_error(c, "ERR something");
    OUT("-ERR something\r\n");
    reply_int(c, 0);
    OUT(":0\r\n");
    reply_int(c, -42);
    OUT(":-42\r\n");
    reply_int(c, INT64_MAX);
    OUT(":9223372036854775807\r\n");
    reply_int(c, INT64_MIN);
    OUT(":-9223372036854775808\r\n");
    reply_bulk(c, "a\0b\r\n", 5);
    OUT_BIN("$5\r\na\0b\r\n\r\n", 11);
    reply_bulk(c, "", 0);
    OUT("$0\r\n\r\n");
    reply_bulkstr(c, "hello");
    OUT("$5\r\nhello\r\n");
    reply_array(c, 3);
    OUT("*3\r\n");
    reply_array(c, 0);
    OUT("*0\r\n");
    reply_syntax_error(c);
    OUT("-ERR syntax error\r\n");
    reply_wrongtype(c);
    OUT("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    reply_not_integer(c);
    OUT("-ERR value is not an integer or out of range\r\n");
    reply_arity_error(c, "get");
    OUT("-ERR wrong number of arguments for 'get' command\r\n");
}

Test(reply2, common) { common_replies(); }
Test(reply3, common) { common_replies(); }

Test(reply2, nulls) {
    reply_null(c);
    OUT("$-1\r\n");
    reply_null_array(c);
    OUT("*-1\r\n");
}

Test(reply3, nulls) {
    reply_null(c);
    OUT("_\r\n");
    reply_null_array(c);
    OUT("_\r\n");
}

Test(reply2, map_is_a_flat_array) {
    reply_map(c, 2);
    OUT("*4\r\n");
    reply_map(c, 0);
    OUT("*0\r\n");
}

Test(reply3, map) {
    reply_map(c, 2);
    OUT("%2\r\n");
    reply_map(c, 0);
    OUT("%0\r\n");
}

Test(reply2, double_is_a_bulk) {
    reply_double(c, 1.5);
    OUT("$3\r\n1.5\r\n");
    reply_double(c, 3);
    OUT("$1\r\n3\r\n");
    reply_double(c, -0.25);
    OUT("$5\r\n-0.25\r\n");
}

Test(reply3, double) {
    reply_double(c, 1.5);
    OUT(",1.5\r\n");
    reply_double(c, 3);
    OUT(",3\r\n");
    reply_double(c, -0.25);
    OUT(",-0.25\r\n");
}

Test(reply2, errorf_formats_and_bounds) {
    reply_errorf(c, "ERR %s %d", "x", 7);
    OUT("-ERR x 7\r\n");
    /* CR and LF cannot go into an error line */
    reply_error(c, "ERR a\r\nb");
    OUT("-ERR a  b\r\n");
    reply_errorf(c, "ERR %s", "line1\nline2");
    OUT("-ERR line1 line2\r\n");
    /* a long message is cut to 1023 bytes, still one well-formed line */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    reply_errorf(c, "ERR %s", big);
    resp_buf *b = &c->out;
    cr_assert_eq(b->len, 1 + 1023 + 2, "length %zu", b->len);
    cr_expect_eq(b->data[0], '-');
    cr_expect_eq(memcmp(b->data + 1, "ERR xxx", 7), 0);
    cr_expect_eq(memcmp(b->data + b->len - 2, "\r\n", 2), 0);
    cr_expect_eq(memchr(b->data, '\r', b->len - 2), NULL);
    resp_buf_clear(b);
}

Test(reply2, storage_error_frees_its_message) {
    reply_storage_error(c, strdup("IO error: disk full"));
    OUT("-ERR storage error: IO error: disk full\r\n");
    reply_storage_error(c, NULL);
    OUT("-ERR storage error: unknown\r\n");
}

Test(reply2, fail_from_a_status) {
    status st;
    st_clear(&st);
    st_fail(&st, ST_INVALID, "amount '%s' is not valid", "-1");
    reply_fail(c, &st);
    OUT("-INVALID amount '-1' is not valid\r\n");
    st_fail(&st, ST_ERR, "no such key");
    reply_fail(c, &st);
    OUT("-ERR no such key\r\n");
    st_storage(&st, strdup("Corruption: bad block"));
    reply_fail(c, &st);
    OUT("-ERR storage error: Corruption: bad block\r\n");
    st_clear(&st);
    reply_fail(c, &st);
    OUT("-ERR unknown error\r\n");
}

/* Deferred headers: the elements first, the count inserted before them. */
static void deferred_elements(void) {
    reply_bulkstr(c, "a");
    reply_int(c, 1);
}

Test(reply2, deferred_array) {
    reply_status(c, "before");
    size_t slot = reply_deferred_array(c);
    deferred_elements();
    reply_set_deferred_array(c, slot, 2);
    OUT("+before\r\n*2\r\n$1\r\na\r\n:1\r\n");
    /* an empty deferred array */
    slot = reply_deferred_array(c);
    reply_set_deferred_array(c, slot, 0);
    OUT("*0\r\n");
    /* a count with more digits than fit any fixed-width slot */
    slot = reply_deferred_array(c);
    for (int i = 0; i < 12345; i++) reply_int(c, i % 10);
    reply_set_deferred_array(c, slot, 12345);
    cr_assert(c->out.len > 9);
    cr_expect_eq(memcmp(c->out.data, "*12345\r\n:0\r\n:1\r\n", 16), 0);
    cr_expect_eq(memcmp(c->out.data + c->out.len - 4, ":4\r\n", 4), 0);
    resp_buf_clear(&c->out);
}

Test(reply3, deferred_array) {
    size_t slot = reply_deferred_array(c);
    deferred_elements();
    reply_set_deferred_array(c, slot, 2);
    OUT("*2\r\n$1\r\na\r\n:1\r\n");
}

Test(reply2, deferred_map_is_a_flat_array) {
    size_t slot = reply_deferred_array(c);
    deferred_elements();
    reply_set_deferred_map(c, slot, 1);
    OUT("*2\r\n$1\r\na\r\n:1\r\n");
}

Test(reply3, deferred_map) {
    reply_ok(c);
    size_t slot = reply_deferred_array(c);
    deferred_elements();
    reply_set_deferred_map(c, slot, 1);
    OUT("+OK\r\n%1\r\n$1\r\na\r\n:1\r\n");
}

Test(reply3, nested_deferred) {
    /* an outer deferred array holding an inner deferred map */
    size_t outer = reply_deferred_array(c);
    size_t inner = reply_deferred_array(c);
    deferred_elements();
    reply_set_deferred_map(c, inner, 1);
    reply_null(c);
    reply_set_deferred_array(c, outer, 2);
    OUT("*2\r\n%1\r\n$1\r\na\r\n:1\r\n_\r\n");
}
