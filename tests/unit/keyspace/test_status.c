/* Unit tests for server/keyspace/status.c: the error line a failing call
 * leaves for its caller (code word first, as SPEC §4 spells them). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "../unit_leak.h"

TestSuite(status, .fini = unit_leak_check);

Test(status, code_words) {
    static const struct { int code; const char *want; } cases[] = {
        {ST_ERR, "ERR x 1"},
        {ST_WRONGTYPE, "WRONGTYPE x 1"},
        {ST_NOMEM, "ERR x 1"},
        {ST_INVALID, "INVALID x 1"},
        {ST_NOTFOUND, "NOTFOUND x 1"},
        {ST_INSUFFICIENT_FUNDS, "INSUFFICIENT_FUNDS x 1"},
        {ST_CONFLICT, "CONFLICT x 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        status st;
        st_clear(&st);
        cr_expect(!st_failed(&st));
        cr_expect_eq(st_fail(&st, cases[i].code, "x %d", 1), -1);
        cr_expect(st_failed(&st));
        cr_expect_eq(st.code, cases[i].code);
        cr_expect_str_eq(st.msg, cases[i].want);
    }
}

Test(status, ok_code_still_fails) {
    status st;
    st_clear(&st);
    st_fail(&st, ST_OK, "odd");
    cr_expect(st_failed(&st), "st_fail never leaves an OK status");
    cr_expect_eq(st.code, ST_ERR);
    cr_expect_str_eq(st.msg, "ERR odd");
}

Test(status, storage_frees_the_message) {
    status st;
    cr_expect_eq(st_storage(&st, strdup("IO error: no space")), -1);
    cr_expect_eq(st.code, ST_STORAGE);
    cr_expect_str_eq(st.msg, "ERR storage error: IO error: no space");
    st_storage(&st, NULL);
    cr_expect_str_eq(st.msg, "ERR storage error: unknown");
}

Test(status, long_message_truncated) {
    char big[2000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    status st;
    st_fail(&st, ST_INVALID, "%s", big);
    cr_expect_eq(strlen(st.msg), sizeof st.msg - 1);
    cr_expect_eq(strncmp(st.msg, "INVALID yyy", 11), 0);
}
