/* Fuzz target: the RESP request parser (proto/resp.h).
 *
 * Input: 2 bytes pick the limits (small or default), 4 bytes seed the
 * split sizes, the rest is the byte stream a client sends. The stream is
 * parsed twice, the way net.c does it (the pending request's bytes from
 * its start, every call):
 *   - one shot: every byte available at once (in the input's own buffer,
 *     whose end is the stream's end);
 *   - split: bytes arrive in random chunks, so each request is resumed;
 *     every call gets a fresh buffer of exactly the bytes received, so any
 *     read past them, or a pointer kept from an earlier call, is caught.
 * Invariants: consumed in 1..len on RESP_OK and 0 otherwise; argv slices
 * inside the caller's buffer (multibulk) or the parser's inline buffer;
 * a "need" hint beyond the bytes given; an error is sticky until reset and
 * has a text; both runs give the same requests (a "too big" error depends
 * on how much was buffered, so it may cut the split run short); every
 * request written back with the reply writer (*N $len ...) parses back to
 * the same arguments. */
#include <string.h>

#include "fuzz.h"
#include "resp.h"

#define MAX_REQS 4096

typedef struct req {
    int argc;
    uint64_t hash; /* of the arguments: cheap comparison across runs */
} req;

typedef struct run {
    req reqs[MAX_REQS];
    int nreqs;
    resp_status last;
    resp_error err;
} run;

static uint64_t hash_args(const resp_parser *p) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < p->argc; i++) {
        for (size_t k = 0; k < p->argv[i].len; k++)
            h = (h ^ (unsigned char)p->argv[i].ptr[k]) * 1099511628211ULL;
        h = (h ^ p->argv[i].len ^ 0x100) * 1099511628211ULL;
    }
    return h;
}

static int too_big(resp_error e) {
    return e == RESP_ERR_INLINE_TOO_BIG || e == RESP_ERR_MULTIBULK_TOO_BIG ||
           e == RESP_ERR_BULK_TOO_BIG_STR;
}

static void set_limits(resp_parser *p, uint8_t a, uint8_t b) {
    if (a & 1) p->max_inline_len = (size_t)(b & 0x3f) + 1;
    if (a & 2) p->max_bulk_len = (int64_t)(b >> 2);
    if (a & 4) p->max_multibulk_len = (int64_t)(a >> 4);
    if (a & 8) p->max_inline_len = 4;
}

/* Writes argv as a multibulk request and parses it back. */
static void round_trip(const resp_parser *p) {
    resp_buf b;
    resp_parser q;
    size_t consumed = 0;
    char *copy;

    resp_buf_init(&b);
    FUZZ_CHECK(resp_add_array(&b, p->argc) == 0);
    for (int i = 0; i < p->argc; i++)
        FUZZ_CHECK(resp_add_bulk(&b, p->argv[i].ptr, p->argv[i].len) == 0);
    copy = malloc(b.len);
    FUZZ_CHECK(copy);
    memcpy(copy, b.data, b.len);
    resp_parser_init(&q);
    FUZZ_CHECK(resp_parse(&q, copy, b.len, &consumed, NULL) == RESP_OK);
    FUZZ_CHECK(consumed == b.len);
    FUZZ_CHECK(q.argc == p->argc);
    for (int i = 0; i < p->argc; i++) {
        FUZZ_CHECK(q.argv[i].len == p->argv[i].len);
        FUZZ_CHECK(q.argv[i].ptr >= copy && q.argv[i].ptr + q.argv[i].len <= copy + consumed);
        FUZZ_CHECK(memcmp(q.argv[i].ptr, p->argv[i].ptr, p->argv[i].len) == 0);
    }
    resp_parser_free(&q);
    free(copy);
    resp_buf_free(&b);
}

static void record(run *r, const resp_parser *p) {
    if (r->nreqs < MAX_REQS) {
        r->reqs[r->nreqs].argc = p->argc;
        r->reqs[r->nreqs].hash = hash_args(p);
    }
    r->nreqs++;
}

/* One resp_parse call on s[0..len) (on a private copy of it if copy); a request is
 * recorded in r while its bytes are still there. */
static resp_status parse_at(resp_parser *p, const uint8_t *s, size_t len, size_t *consumed,
                            int check_round_trip, int copy, run *r) {
    char *buf = copy ? malloc(len ? len : 1) : (char *)s;
    size_t need = 12345;
    resp_status st;

    FUZZ_CHECK(buf);
    if (copy && len) memcpy(buf, s, len);
    st = resp_parse(p, buf, len, consumed, &need);
    switch (st) {
    case RESP_OK:
        FUZZ_CHECK(*consumed >= 1 && *consumed <= len);
        FUZZ_CHECK(p->argc >= 0);
        FUZZ_CHECK(p->err == RESP_ERR_NONE);
        for (int i = 0; i < p->argc; i++) {
            const char *a = p->argv[i].ptr;
            size_t n = p->argv[i].len;
            if (buf[0] == '*') {
                FUZZ_CHECK(a >= buf && n <= *consumed && a + n <= buf + *consumed);
            } else {
                FUZZ_CHECK(a >= p->inline_buf && n <= p->inline_cap &&
                           a + n <= p->inline_buf + p->inline_cap);
                FUZZ_CHECK(n < *consumed); /* unescaping never grows */
            }
            if (n) {
                volatile char first = a[0], last = a[n - 1]; /* readable */
                (void)first;
                (void)last;
            }
        }
        if (check_round_trip) round_trip(p);
        record(r, p);
        break;
    case RESP_AGAIN:
        FUZZ_CHECK(*consumed == 0);
        FUZZ_CHECK(need == 0 || need > len);
        FUZZ_CHECK(p->err == RESP_ERR_NONE);
        break;
    case RESP_ERROR: {
        char text[128];
        size_t c2 = 99;
        FUZZ_CHECK(*consumed == 0);
        FUZZ_CHECK(p->err != RESP_ERR_NONE);
        resp_error_text(p, text, sizeof text);
        FUZZ_CHECK(strncmp(text, "ERR ", 4) == 0);
        /* sticky: more bytes, no bytes, the same bytes */
        FUZZ_CHECK(resp_parse(p, buf, len, &c2, NULL) == RESP_ERROR && c2 == 0);
        FUZZ_CHECK(resp_parse(p, "*1\r\n$1\r\nx\r\n", 11, &c2, NULL) == RESP_ERROR && c2 == 0);
        FUZZ_CHECK(resp_parse(p, buf, 0, &c2, NULL) == RESP_ERROR && c2 == 0);
        break;
    }
    default:
        FUZZ_CHECK(0);
    }
    if (copy) free(buf);
    return st;
}

/* Parses s[0..n); chunks of random size arrive when split, all at once otherwise. */
static void parse_stream(run *r, const uint8_t *s, size_t n, uint8_t la, uint8_t lb,
                         fuzz_rng *rng, int split) {
    resp_parser p;
    size_t start = 0, avail = split ? 0 : n, consumed;
    int rounds = 0;

    resp_parser_init(&p);
    set_limits(&p, la, lb);
    r->nreqs = 0;
    r->err = RESP_ERR_NONE;
    for (;;) {
        resp_status st = parse_at(&p, s + start, avail - start, &consumed, !split, split, r);
        r->last = st;
        if (st == RESP_OK) {
            start += consumed;
            continue;
        }
        if (st == RESP_ERROR) {
            r->err = p.err;
            break;
        }
        if (avail == n) break;
        /* small chunks and big ones */
        uint32_t x = fuzz_next(rng);
        size_t chunk = (x & 3) ? (size_t)(x >> 8) % 512 + 1 : (size_t)(x >> 8) % 8 + 1;
        avail = chunk > n - avail ? n : avail + chunk;
        FUZZ_CHECK(++rounds <= (int)n + 1);
    }
    /* reset makes the parser usable again */
    resp_parser_reset(&p);
    FUZZ_CHECK(resp_parse(&p, "PING\r\n", 6, &consumed, NULL) == RESP_OK);
    FUZZ_CHECK(consumed == 6 && p.argc == 1 && p.argv[0].len == 4);
    resp_parser_free(&p);
}

static run one, split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t la = (uint8_t)fuzz_take(&data, &size, 1);
    uint8_t lb = (uint8_t)fuzz_take(&data, &size, 1);
    fuzz_rng rng = {fuzz_take(&data, &size, 4)};

    parse_stream(&one, data, size, la, lb, &rng, 0);
    parse_stream(&split, data, size, la, lb, &rng, 1);

    if (split.last == RESP_ERROR && too_big(split.err)) {
        FUZZ_CHECK(split.nreqs <= one.nreqs);
    } else {
        FUZZ_CHECK(split.nreqs == one.nreqs);
        FUZZ_CHECK(split.last == one.last);
        FUZZ_CHECK(split.err == one.err);
    }
    for (int i = 0; i < split.nreqs && i < one.nreqs && i < MAX_REQS; i++) {
        FUZZ_CHECK(split.reqs[i].argc == one.reqs[i].argc);
        FUZZ_CHECK(split.reqs[i].hash == one.reqs[i].hash);
    }
    return 0;
}
