/* End-to-end tests of the bit and sequence commands on strings
 * (server/redis/cmd_bits.c): SETBIT GETBIT LCS. */
#include "harness.h"


SKV_FIXTURE();

Test(bits, setbit_getbit, .init = up, .fini = down) {
    expect_int(CMD("SETBIT k 7 1"), 0);
    expect_bulk_bin(CMD("GET k"), "\x01", 1);
    expect_int(CMD("GETBIT k 7"), 1);
    expect_int(CMD("SETBIT k 7 0"), 1);
    expect_int(CMD("GETBIT k 7"), 0);
    expect_int(CMD("GETBIT k 1000"), 0);
    expect_int(CMD("GETBIT nope 3"), 0);
    expect_error_eq(CMD("SETBIT k 0 2"), "ERR bit is not an integer or out of range");
    expect_error_eq(CMD("SETBIT k -1 1"), "ERR bit offset is not an integer or out of range");
    expect_error_eq(CMD("GETBIT k -1"), "ERR bit offset is not an integer or out of range");
}

Test(bits, lcs, .init = up, .fini = down) {
    expect_ok(CMD("MSET key1 ohmytext key2 mynewtext"));
    expect_bulk(CMD("LCS key1 key2"), "mytext");
    expect_int(CMD("LCS key1 key2 LEN"), 6);
    expect_error(CMD("LCS key1 key2 LEN IDX"), "ERR");
}
