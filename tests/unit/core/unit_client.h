/* A client without a connection, for unit tests of the code that reads a
 * client's argv and appends replies to its output buffer (util.c's option
 * cursor, reply.c). No server, loop or socket: only argv, resp and out. */
#ifndef STAGEKV_UNIT_CLIENT_H
#define STAGEKV_UNIT_CLIENT_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

typedef struct unit_client {
    client c;
    resp_slice argv[64];
} unit_client;

/* argv slices point at the given strings (which must outlive uc). */
static inline void unit_client_init(unit_client *uc, int argc, const char *const *args) {
    cr_assert(argc >= 0 && argc <= 64);
    memset(uc, 0, sizeof *uc);
    for (int i = 0; i < argc; i++) {
        uc->argv[i].ptr = args[i];
        uc->argv[i].len = strlen(args[i]);
    }
    uc->c.argc = argc;
    uc->c.argv = uc->argv;
    uc->c.resp = 2;
    uc->c.db = 0;
    resp_buf_init(&uc->c.out);
}

static inline void unit_client_free(unit_client *uc) { resp_buf_free(&uc->c.out); }

/* The output buffer holds exactly these n bytes; it is cleared after. */
#define unit_expect_out_bin(uc, p, n) unit_expect_out_at(__FILE__, __LINE__, (uc), (p), (n))
#define unit_expect_out(uc, s) unit_expect_out_at(__FILE__, __LINE__, (uc), (s), strlen(s))
static inline void unit_expect_out_at(const char *file, int line, unit_client *uc, const char *p, size_t n) {
    resp_buf *b = &uc->c.out;
    int same = b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
    cr_expect(same, "%s:%d: out is \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)", file, line,
              (int)b->len, b->data ? b->data : "", b->len, (int)n, p, n);
    resp_buf_clear(b);
}

#endif
