/* String commands: GET SET SETNX MGET MSET INCR DECR INCRBY DECRBY STRLEN APPEND. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "server.h"
#include "cmd_string.h"

#define MAX_STRING (512LL * 1024 * 1024)

/* GET key */
static int get_command(client *c) {
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, v.v.payload, v.v.len);
    db_value_free(&v);
    return 0;
}

/* Parses an expiry option value into an absolute time in ms. */
static int expire_arg(client *c, const resp_slice *a, int unit_ms, int absolute, int64_t *out) {
    int64_t v;
    if (arg_ll_or_reply(c, a, &v) < 0) return -1;
    if (v <= 0 || (unit_ms == 1000 && v > INT64_MAX / 1000)) goto bad;
    v *= unit_ms;
    if (!absolute) {
        if (v > INT64_MAX - (int64_t)now_ms()) goto bad;
        v += (int64_t)now_ms();
    }
    *out = v;
    return 0;
bad:
    reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
    return -1;
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
static int set_command(client *c) {
    enum { NX = 1, XX = 2, GET = 4, KEEPTTL = 8, EXP = 16 };
    int fl = 0;
    int64_t expire = 0;
    int unit = -1; /* which expiry option was given: repeating it is fine, mixing is not */
    opt_cursor o = {c, 3};
    static const struct { const char *name; int unit, abs; } units[] = {
        {"ex", 1000, 0}, {"px", 1, 0}, {"exat", 1000, 1}, {"pxat", 1, 1}};
    while (opt_more(&o)) {
        int matched = 0;
        for (int u = 0; u < 4 && !matched; u++) {
            if (!(fl & KEEPTTL) && (unit < 0 || unit == u) && opt_is(&o, units[u].name)) {
                resp_slice val;
                if (opt_value(&o, &val) < 0 || expire_arg(c, &val, units[u].unit, units[u].abs, &expire) < 0)
                    return -1;
                fl |= EXP;
                unit = u;
                matched = 1;
            }
        }
        if (matched) continue;
        /* As in Redis, an option may repeat; only conflicting ones are an error. */
        if (!(fl & XX) && opt_is(&o, "nx")) fl |= NX;
        else if (!(fl & NX) && opt_is(&o, "xx")) fl |= XX;
        else if (opt_is(&o, "get")) fl |= GET;
        else if (!(fl & EXP) && opt_is(&o, "keepttl")) fl |= KEEPTTL;
        else {
            reply_syntax_error(c);
            return -1;
        }
    }
    const resp_slice *k = &c->argv[1], *val = &c->argv[2];
    int existed = -1;
    if (fl & (NX | XX | GET | KEEPTTL)) {
        db_value old;
        int r = (fl & GET) ? db_lookup_string(KS(c), c->db, k, &old) : db_lookup(KS(c), c->db, k->ptr, k->len, &old);
        if (r < 0) return -1;
        existed = old.present;
        if ((fl & NX && r == 1) || (fl & XX && r == 0)) {
            if ((fl & GET) && r == 1) reply_bulk(c, old.v.payload, old.v.len);
            else reply_null(c);
            if (r == 1) db_value_free(&old);
            return 0;
        }
        if (fl & GET) {
            if (r == 1) reply_bulk(c, old.v.payload, old.v.len);
            else reply_null(c);
        }
        if ((fl & KEEPTTL) && r == 1) expire = old.v.expire_ms;
        if (r == 1) db_value_free(&old);
    }
    if (db_put(KS(c), c->db, k->ptr, k->len, ENC_TYPE_STRING, expire, val->ptr, val->len, existed) < 0) return -1;
    notify_key(c, NOTIFY_STRING, "set", k);
    if (expire && !(fl & KEEPTTL)) notify_key(c, NOTIFY_GENERIC, "expire", k);
    if (!(fl & GET)) reply_ok(c);
    return 0;
}

/* SETNX key value */
static int setnx_command(client *c) {
    db_value old;
    int r = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &old);
    if (r < 0) return -1;
    if (r == 1) {
        db_value_free(&old);
        reply_int(c, 0);
        return 0;
    }
    if (db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, 0, c->argv[2].ptr,
               c->argv[2].len, old.present) < 0)
        return -1;
    notify_key(c, NOTIFY_STRING, "set", &c->argv[1]);
    reply_int(c, 1);
    return 0;
}

/* MGET key [key ...] */
static int mget_command(client *c) {
    reply_array(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        db_value v;
        int r = db_lookup(KS(c), c->db, c->argv[i].ptr, c->argv[i].len, &v);
        if (r < 0) return -1;
        if (r == 1 && v.v.type == ENC_TYPE_STRING) reply_bulk(c, v.v.payload, v.v.len);
        else reply_null(c);
        if (r == 1) db_value_free(&v);
    }
    return 0;
}

/* MSET key value [key value ...] */
static int mset_command(client *c) {
    if (c->argc % 2 == 0) {
        reply_arity_error(c, "mset");
        return -1;
    }
    for (int i = 1; i < c->argc; i += 2) {
        if (db_put(KS(c), c->db, c->argv[i].ptr, c->argv[i].len, ENC_TYPE_STRING, 0, c->argv[i + 1].ptr,
                   c->argv[i + 1].len, -1) < 0)
            return -1;
        notify_key(c, NOTIFY_STRING, "set", &c->argv[i]);
    }
    reply_ok(c);
    return 0;
}

/* INCR/DECR/INCRBY/DECRBY: the value keeps its TTL, like Redis. */
static int incr_generic(client *c, int64_t by) {
    const resp_slice *k = &c->argv[1];
    db_value v;
    int r = db_lookup_string(KS(c), c->db, k, &v);
    if (r < 0) return -1;
    int64_t cur = 0, expire = 0;
    if (r == 1) {
        int bad = resp_parse_ll(v.v.payload, v.v.len, &cur) < 0;
        expire = v.v.expire_ms;
        db_value_free(&v);
        if (bad) {
            reply_not_integer(c);
            return -1;
        }
    }
    if ((by > 0 && cur > INT64_MAX - by) || (by < 0 && cur < INT64_MIN - by)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return -1;
    }
    cur += by;
    char buf[24];
    int n = ll_to_str(buf, cur);
    if (db_put(KS(c), c->db, k->ptr, k->len, ENC_TYPE_STRING, expire, buf, (size_t)n, v.present) < 0) return -1;
    notify_key(c, NOTIFY_STRING, "incrby", k);
    reply_int(c, cur);
    return 0;
}

static int incr_command(client *c) { return incr_generic(c, 1); }
static int decr_command(client *c) { return incr_generic(c, -1); }

static int incrby_command(client *c) {
    int64_t by;
    if (arg_ll_or_reply(c, &c->argv[2], &by) < 0) return -1;
    return incr_generic(c, by);
}

static int decrby_command(client *c) {
    int64_t by;
    if (arg_ll_or_reply(c, &c->argv[2], &by) < 0) return -1;
    if (by == INT64_MIN) {
        reply_error(c, "ERR decrement would overflow");
        return -1;
    }
    return incr_generic(c, -by);
}

/* STRLEN key */
static int strlen_command(client *c) {
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    reply_int(c, r == 1 ? (int64_t)v.v.len : 0);
    if (r == 1) db_value_free(&v);
    return 0;
}

/* APPEND key value */
static int append_command(client *c) {
    const resp_slice *k = &c->argv[1], *add = &c->argv[2];
    db_value v;
    int r = db_lookup_string(KS(c), c->db, k, &v);
    if (r < 0) return -1;
    size_t oldlen = r == 1 ? v.v.len : 0;
    if ((long long)(oldlen + add->len) > MAX_STRING) {
        if (r == 1) db_value_free(&v);
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    int64_t expire;
    char *buf = db_string_edit(KS(c), &v, r, oldlen + add->len, &expire);
    if (!buf) return -1;
    memcpy(buf + oldlen, add->ptr, add->len);
    int rc = db_put(KS(c), c->db, k->ptr, k->len, ENC_TYPE_STRING, expire, buf, oldlen + add->len, v.present);
    free(buf);
    if (rc < 0) return -1;
    notify_key(c, NOTIFY_STRING, "append", k);
    reply_int(c, (int64_t)(oldlen + add->len));
    return 0;
}

/* SETEX key seconds value / PSETEX key milliseconds value */
static int setex_generic(client *c, int unit) {
    int64_t expire;
    if (expire_arg(c, &c->argv[2], unit, 0, &expire) < 0) return -1;
    if (db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, expire, c->argv[3].ptr,
               c->argv[3].len, -1) < 0)
        return -1;
    notify_key(c, NOTIFY_STRING, "set", &c->argv[1]);
    notify_key(c, NOTIFY_GENERIC, "expire", &c->argv[1]);
    reply_ok(c);
    return 0;
}
static int setex_command(client *c) { return setex_generic(c, 1000); }
static int psetex_command(client *c) { return setex_generic(c, 1); }

/* GETSET key value */
static int getset_command(client *c) {
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    if (r == 1) reply_bulk(c, v.v.payload, v.v.len);
    else reply_null(c);
    if (r == 1) db_value_free(&v);
    if (db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, 0, c->argv[2].ptr, c->argv[2].len,
               v.present) < 0)
        return -1;
    notify_key(c, NOTIFY_STRING, "set", &c->argv[1]);
    return 0;
}

/* GETDEL key */
static int getdel_command(client *c) {
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, v.v.payload, v.v.len);
    db_value_free(&v);
    if (db_delete(KS(c), c->db, c->argv[1].ptr, c->argv[1].len) < 0) return -1;
    notify_key(c, NOTIFY_GENERIC, "del", &c->argv[1]);
    return 0;
}

/* GETEX key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST] */
static int getex_command(client *c) {
    int64_t expire = 0;
    int change = 0, persist = 0;
    opt_cursor o = {c, 2};
    static const struct { const char *name; int unit, abs; } units[] = {
        {"ex", 1000, 0}, {"px", 1, 0}, {"exat", 1000, 1}, {"pxat", 1, 1}};
    while (opt_more(&o)) {
        int matched = 0;
        for (size_t u = 0; u < 4 && !matched; u++) {
            if (!change && !persist && opt_is(&o, units[u].name)) {
                resp_slice val;
                if (opt_value(&o, &val) < 0 || expire_arg(c, &val, units[u].unit, units[u].abs, &expire) < 0)
                    return -1;
                change = matched = 1;
            }
        }
        if (matched) continue;
        if (!change && !persist && opt_is(&o, "persist")) persist = 1;
        else {
            reply_syntax_error(c);
            return -1;
        }
    }
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_null(c);
        return 0;
    }
    reply_bulk(c, v.v.payload, v.v.len);
    int rc = 0;
    if (change || (persist && v.v.expire_ms))
        rc = db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, persist ? 0 : expire,
                    v.v.payload, v.v.len, 1);
    if (rc == 0 && (change || (persist && v.v.expire_ms)))
        notify_key(c, NOTIFY_GENERIC, persist ? "persist" : "expire", &c->argv[1]);
    db_value_free(&v);
    return rc;
}

/* MSETNX key value [key value ...]: all or none. */
static int msetnx_command(client *c) {
    if (c->argc % 2 == 0) {
        reply_arity_error(c, "msetnx");
        return -1;
    }
    for (int i = 1; i < c->argc; i += 2) {
        int r = db_exists(KS(c), c->db, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        if (r == 1) {
            reply_int(c, 0);
            return 0;
        }
    }
    for (int i = 1; i < c->argc; i += 2) {
        if (db_put(KS(c), c->db, c->argv[i].ptr, c->argv[i].len, ENC_TYPE_STRING, 0, c->argv[i + 1].ptr,
                   c->argv[i + 1].len, -1) < 0)
            return -1;
        notify_key(c, NOTIFY_STRING, "set", &c->argv[i]);
    }
    reply_int(c, 1);
    return 0;
}

/* GETRANGE key start end */
static int getrange_command(client *c) {
    int64_t start, end;
    if (arg_ll_or_reply(c, &c->argv[2], &start) < 0 || arg_ll_or_reply(c, &c->argv[3], &end) < 0) return -1;
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    int64_t len = r == 1 ? (int64_t)v.v.len : 0;
    if (start < 0 && end < 0 && start > end) {
        if (r == 1) db_value_free(&v);
        reply_bulk(c, "", 0);
        return 0;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (len == 0 || start > end) reply_bulk(c, "", 0);
    else reply_bulk(c, v.v.payload + start, (size_t)(end - start + 1));
    if (r == 1) db_value_free(&v);
    return 0;
}

/* SETRANGE key offset value */
static int setrange_command(client *c) {
    int64_t off;
    if (arg_ll_or_reply(c, &c->argv[2], &off) < 0) return -1;
    if (off < 0) {
        reply_error(c, "ERR offset is out of range");
        return -1;
    }
    const resp_slice *add = &c->argv[3];
    if (off > MAX_STRING - (int64_t)add->len) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    size_t oldlen = r == 1 ? v.v.len : 0;
    if (add->len == 0) {
        reply_int(c, (int64_t)oldlen);
        if (r == 1) db_value_free(&v);
        return 0;
    }
    size_t nl = (size_t)off + add->len > oldlen ? (size_t)off + add->len : oldlen;
    int64_t expire;
    char *buf = db_string_edit(KS(c), &v, r, nl, &expire);
    if (!buf) return -1;
    memcpy(buf + off, add->ptr, add->len);
    int rc = db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, expire, buf, nl, v.present);
    free(buf);
    if (rc < 0) return -1;
    notify_key(c, NOTIFY_STRING, "setrange", &c->argv[1]);
    reply_int(c, (int64_t)nl);
    return 0;
}

/* Redis's human-friendly long double: fixed notation, no trailing zeros. */
static int ld_to_str(char *buf, size_t cap, long double v) {
    int n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n >= cap) return snprintf(buf, cap, "%.17Lg", v);
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0') n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = 0;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; buf[1] = 0; n = 1; }
    return n;
}

/* INCRBYFLOAT key increment */
static int incrbyfloat_command(client *c) {
    long double by, cur = 0;
    if (parse_ld(c->argv[2].ptr, c->argv[2].len, &by) < 0) {
        reply_error(c, "ERR value is not a valid float");
        return -1;
    }
    db_value v;
    int r = db_lookup_string(KS(c), c->db, &c->argv[1], &v);
    if (r < 0) return -1;
    int64_t expire = 0;
    if (r == 1) {
        int bad = parse_ld(v.v.payload, v.v.len, &cur) < 0;
        expire = v.v.expire_ms;
        db_value_free(&v);
        if (bad) {
            reply_error(c, "ERR value is not a valid float");
            return -1;
        }
    }
    cur += by;
    if (cur != cur || cur == 1.0L / 0.0L || cur == -1.0L / 0.0L) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return -1;
    }
    char buf[5100];
    int n = ld_to_str(buf, sizeof buf, cur);
    if (db_put(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, ENC_TYPE_STRING, expire, buf, (size_t)n, v.present) < 0)
        return -1;
    notify_key(c, NOTIFY_STRING, "incrbyfloat", &c->argv[1]);
    reply_bulk(c, buf, (size_t)n);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "get", .proc = get_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key",
     .summary = "Returns the string value of a key."},
    {.name = "set", .proc = set_command, .arity = -3, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_UPDATE,
     .group = "string", .args = "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
     .summary = "Sets the string value of a key."},
    {.name = "setnx", .proc = setnx_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_OW | CMD_KEY_INSERT,
     .group = "string", .args = "key value",
     .summary = "Sets the value of a key only when the key doesn't exist."},
    {.name = "mget", .proc = mget_command, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "string", .args = "key [key ...]",
     .summary = "Returns the values of one or more keys."},
    {.name = "mset", .proc = mset_command, .arity = -3, .flags = CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = -1, .key_step = 2,
     .key_flags = CMD_KEY_OW | CMD_KEY_UPDATE,
     .group = "string", .args = "key value [key value ...]",
     .summary = "Sets the values of one or more keys atomically."},
    {.name = "incr", .proc = incr_command, .arity = 2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key",
     .summary = "Increments the integer value of a key by one."},
    {.name = "decr", .proc = decr_command, .arity = 2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key",
     .summary = "Decrements the integer value of a key by one."},
    {.name = "incrby", .proc = incrby_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key increment",
     .summary = "Increments the integer value of a key by a number."},
    {.name = "decrby", .proc = decrby_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key decrement",
     .summary = "Decrements the integer value of a key by a number."},
    {.name = "strlen", .proc = strlen_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "string", .args = "key",
     .summary = "Returns the length of a string value."},
    {.name = "append", .proc = append_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key value",
     .summary = "Appends a string to the value of a key."},
    {.name = "setex", .proc = setex_command, .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_OW | CMD_KEY_UPDATE,
     .group = "string", .args = "key seconds value",
     .summary = "Sets the value and expiration time in seconds of a key."},
    {.name = "psetex", .proc = psetex_command, .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_OW | CMD_KEY_UPDATE,
     .group = "string", .args = "key milliseconds value",
     .summary = "Sets the value and expiration time in milliseconds of a key."},
    {.name = "getset", .proc = getset_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_UPDATE,
     .group = "string", .args = "key value",
     .summary = "Returns the previous value of a key after setting it."},
    {.name = "getdel", .proc = getdel_command, .arity = 2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_DELETE,
     .group = "string", .args = "key",
     .summary = "Returns the value of a key after deleting it."},
    {.name = "getex", .proc = getex_command, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RW | CMD_KEY_ACCESS | CMD_KEY_UPDATE,
     .group = "string", .args = "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
     .summary = "Returns the value of a key after setting its expiration time."},
    {.name = "msetnx", .proc = msetnx_command, .arity = -3, .flags = CMD_WRITE, .first_key = 1, .last_key = -1, .key_step = 2,
     .key_flags = CMD_KEY_OW | CMD_KEY_INSERT,
     .group = "string", .args = "key value [key value ...]",
     .summary = "Sets several keys only when none of them exists."},
    {.name = "getrange", .proc = getrange_command, .arity = 4, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key start end",
     .summary = "Returns a substring of the string stored at a key."},
    {.name = "substr", .proc = getrange_command, .arity = 4, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key start end",
     .summary = "Returns a substring (old name of GETRANGE)."},
    {.name = "setrange", .proc = setrange_command, .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key offset value",
     .summary = "Overwrites part of a string at an offset."},
    {.name = "incrbyfloat", .proc = incrbyfloat_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .args = "key increment",
     .summary = "Increments the floating point value of a key."},
    CMD_TABLE_END,
};

const cmd_family string_family = {.name = "string", .rows = rows};
