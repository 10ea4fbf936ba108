/* Bit and sequence commands on strings: SETBIT GETBIT LCS. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "server.h"
#include "cmd_bits.h"

#define MAX_BIT_OFFSET ((int64_t)4 * 1024 * 1024 * 1024 - 1) /* 512 MB of bits */

static int bit_offset(client *c, const resp_slice *a, int64_t *out) {
    if (resp_parse_ll(a->ptr, a->len, out) < 0 || *out < 0 || *out > MAX_BIT_OFFSET) {
        reply_error(c, "ERR bit offset is not an integer or out of range");
        return -1;
    }
    return 0;
}

/* SETBIT key offset value: returns the bit's previous value; bit 0 is the
 * most significant bit of the first byte, as in Redis. */
static int setbit_command(client *c) {
    int64_t off;
    if (bit_offset(c, &c->argv[2], &off) < 0) return -1;
    const resp_slice *bv = &c->argv[3];
    if (bv->len != 1 || (bv->ptr[0] != '0' && bv->ptr[0] != '1')) {
        reply_error(c, "ERR bit is not an integer or out of range");
        return -1;
    }
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    size_t byte = (size_t)(off >> 3), oldlen = r == 1 ? v.v.len : 0;
    size_t nl = byte + 1 > oldlen ? byte + 1 : oldlen;
    int64_t expire;
    char *buf = db_string_edit(KS(c), &v, r, nl, &expire);
    if (!buf) return -1;
    unsigned mask = 1u << (7 - (off & 7));
    int old = ((unsigned char)buf[byte] & mask) != 0;
    if (bv->ptr[0] == '1') buf[byte] = (char)((unsigned char)buf[byte] | mask);
    else buf[byte] = (char)((unsigned char)buf[byte] & ~mask);
    int rc = db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, expire, buf, nl, v.present);
    free(buf);
    if (rc < 0) return -1;
    reply_int(c, old);
    return 0;
}

/* GETBIT key offset */
static int getbit_command(client *c) {
    int64_t off;
    if (bit_offset(c, &c->argv[2], &off) < 0) return -1;
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    int bit = 0;
    if (r == 1) {
        size_t byte = (size_t)(off >> 3);
        if (byte < v.v.len) bit = ((unsigned char)v.v.payload[byte] >> (7 - (off & 7))) & 1;
        db_value_free(&v);
    }
    reply_int(c, bit);
    return 0;
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
 * The longest common subsequence by the classic dynamic-programming table,
 * walked back from the end; with IDX, the matched ranges from the last to
 * the first, as Redis reports them. */
static int lcs_command(client *c) {
    int getlen = 0, getidx = 0, withlen = 0;
    int64_t minlen = 0;
    opt_cursor o = {c, 3};
    while (opt_more(&o)) {
        if (opt_is(&o, "idx")) getidx = 1;
        else if (opt_is(&o, "len")) getlen = 1;
        else if (opt_is(&o, "withmatchlen")) withlen = 1;
        else if (o.i + 1 < c->argc && opt_is(&o, "minmatchlen")) {
            if (opt_ll(&o, &minlen) < 0) return -1;
            if (minlen < 0) minlen = 0;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    if (getlen && getidx) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return -1;
    }
    db_value va, vb;
    int ra = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &va);
    if (ra < 0) return -1;
    int rb = db_lookup(KS(c), c->db, c->argv[2].ptr, c->argv[2].len, &vb);
    if (rb < 0) {
        if (ra == 1) db_value_free(&va);
        return -1;
    }
    int rc = -1;
    uint32_t *t = NULL;
    char *res = NULL;
    if ((ra == 1 && va.v.type != ENC_TYPE_STRING) || (rb == 1 && vb.v.type != ENC_TYPE_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        goto out;
    }
    const char *a = ra == 1 ? va.v.payload : "", *b = rb == 1 ? vb.v.payload : "";
    size_t al = ra == 1 ? va.v.len : 0, bl = rb == 1 ? vb.v.len : 0;
    unsigned long long cells = (unsigned long long)(al + 1) * (bl + 1);
    if (cells * sizeof *t > (unsigned long long)c->srv->cfg.proto_max_bulk_len) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        goto out;
    }
    t = malloc((size_t)cells * sizeof *t);
    if (!t) {
        reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        goto out;
    }
#define T(i, j) t[(size_t)(i) * (bl + 1) + (j)]
    for (size_t i = 0; i <= al; i++)
        for (size_t j = 0; j <= bl; j++) {
            if (!i || !j) T(i, j) = 0;
            else if (a[i - 1] == b[j - 1]) T(i, j) = T(i - 1, j - 1) + 1;
            else T(i, j) = T(i - 1, j) > T(i, j - 1) ? T(i - 1, j) : T(i, j - 1);
        }
    uint32_t total = T(al, bl);
    if (getlen) {
        reply_int(c, total);
        rc = 0;
        goto out;
    }
    res = malloc(total ? total : 1);
    if (!res) {
        reply_error(c, "ERR out of memory");
        goto out;
    }
    size_t slot = 0;
    int64_t nranges = 0;
    if (getidx) {
        reply_map(c, 2);
        reply_bulkstr(c, "matches");
        slot = reply_deferred_array(c);
    }
    /* Walk back; a range is open while matches stay on one diagonal. */
    size_t i = al, j = bl, k = total;
    int open = 0;
    size_t as = 0, ae = 0, bs = 0, be = 0;
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            res[--k] = a[i - 1];
            if (!open) {
                open = 1;
                as = ae = i - 1;
                bs = be = j - 1;
            } else {
                as--;
                bs--;
            }
            if (as == 0 || bs == 0) emit = 1;
            i--;
            j--;
        } else {
            if (T(i - 1, j) > T(i, j - 1)) i--;
            else j--;
            emit = open;
        }
        if (emit) {
            size_t mlen = ae - as + 1;
            if (getidx && (minlen == 0 || (int64_t)mlen >= minlen)) {
                reply_array(c, 2 + withlen);
                reply_array(c, 2);
                reply_int(c, (int64_t)as);
                reply_int(c, (int64_t)ae);
                reply_array(c, 2);
                reply_int(c, (int64_t)bs);
                reply_int(c, (int64_t)be);
                if (withlen) reply_int(c, (int64_t)mlen);
                nranges++;
            }
            open = 0;
        }
    }
#undef T
    if (getidx) {
        reply_set_deferred_array(c, slot, nranges);
        reply_bulkstr(c, "len");
        reply_int(c, total);
    } else {
        reply_bulk(c, res, total);
    }
    rc = 0;
out:
    free(t);
    free(res);
    if (ra == 1) db_value_free(&va);
    if (rb == 1) db_value_free(&vb);
    return rc;
}

static const cmd_def rows[] = {
    {.name = "setbit", .proc = setbit_command, .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key offset value",
     .acl = "@bitmap", .summary = "Sets or clears the bit at offset of a string, returning the old bit."},
    {.name = "getbit", .proc = getbit_command, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key offset",
     .acl = "@bitmap", .summary = "Returns the bit at offset of a string."},
    {.name = "lcs", .proc = lcs_command, .arity = -3, .flags = CMD_READONLY, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "string", .args = "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
     .summary = "Finds the longest common subsequence of two strings."},
    CMD_TABLE_END,
};

const cmd_family bits_family = {.name = "bits", .rows = rows};
