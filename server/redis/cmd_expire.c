/* Expiry commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME
 * PEXPIRETIME PERSIST. An expiry lives in the value header; the sweeper
 * (db_expire_sweep) removes due keys in the background, and lookups never
 * return an expired key. */
#include <string.h>

#include "db.h"
#include "server.h"
#include "cmd_expire.h"

/* Rewrites a live key with a new expiry (0 = persist). */
static int set_expiry(client *c, const resp_slice *k, db_value *v, int64_t expire) {
    return db_put(KS(c), c->db, k->ptr, k->len, v->v.type, expire, v->v.payload, v->v.len, 1);
}

/* EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key time [NX|XX|GT|LT] */
static int expire_generic(client *c, int unit_ms, int absolute) {
    enum { NX = 1, XX = 2, GT = 4, LT = 8 };
    int fl = 0;
    for (int i = 3; i < c->argc; i++) {
        if (arg_eq(&c->argv[i], "nx")) fl |= NX;
        else if (arg_eq(&c->argv[i], "xx")) fl |= XX;
        else if (arg_eq(&c->argv[i], "gt")) fl |= GT;
        else if (arg_eq(&c->argv[i], "lt")) fl |= LT;
        else {
            reply_errorf(c, "ERR Unsupported option %.*s", (int)(c->argv[i].len > 64 ? 64 : c->argv[i].len),
                         c->argv[i].ptr);
            return -1;
        }
    }
    if ((fl & NX) && (fl & (XX | GT | LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((fl & GT) && (fl & LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    int64_t t;
    if (arg_ll_or_reply(c, &c->argv[2], &t) < 0) return -1;
    int64_t now = (int64_t)now_ms(), when;
    if ((unit_ms == 1000 && (t > INT64_MAX / 1000 || t < INT64_MIN / 1000)) ||
        __builtin_mul_overflow(t, (int64_t)unit_ms, &when) ||
        (!absolute && __builtin_add_overflow(when, now, &when))) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
        return -1;
    }
    const resp_slice *k = &c->argv[1];
    db_value v;
    int r = db_lookup(KS(c), c->db, k->ptr, k->len, &v);
    if (r <= 0) {
        if (r == 0) reply_int(c, 0);
        return r;
    }
    int64_t cur = v.v.expire_ms; /* 0 = none = infinite */
    int ok = 1;
    if ((fl & NX) && cur) ok = 0;
    if ((fl & XX) && !cur) ok = 0;
    if ((fl & GT) && (!cur || when <= cur)) ok = 0;
    if ((fl & LT) && cur && when >= cur) ok = 0;
    if (!ok) {
        db_value_free(&v);
        reply_int(c, 0);
        return 0;
    }
    if (when <= now) {
        db_value_free(&v);
        if (db_delete(KS(c), c->db, k->ptr, k->len) < 0) return -1;
        notify_key(c, NOTIFY_GENERIC, "del", k); /* a time in the past deletes, as Redis */
    } else {
        int rc = set_expiry(c, k, &v, when);
        db_value_free(&v);
        if (rc < 0) return -1;
        notify_key(c, NOTIFY_GENERIC, "expire", k);
    }
    reply_int(c, 1);
    return 0;
}

static int expire_command(client *c) { return expire_generic(c, 1000, 0); }
static int pexpire_command(client *c) { return expire_generic(c, 1, 0); }
static int expireat_command(client *c) { return expire_generic(c, 1000, 1); }
static int pexpireat_command(client *c) { return expire_generic(c, 1, 1); }

/* TTL/PTTL/EXPIRETIME/PEXPIRETIME key: -2 absent, -1 no expiry. */
static int ttl_generic(client *c, int ms, int absolute) {
    db_value v;
    int r = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &v);
    if (r <= 0) {
        if (r == 0) reply_int(c, -2);
        return r;
    }
    int64_t e = v.v.expire_ms;
    db_value_free(&v);
    if (!e) {
        reply_int(c, -1);
        return 0;
    }
    if (absolute) {
        reply_int(c, ms ? e : e / 1000);
        return 0;
    }
    int64_t left = e - (int64_t)now_ms();
    if (left < 0) left = 0;
    reply_int(c, ms ? left : (left + 500) / 1000);
    return 0;
}

static int ttl_command(client *c) { return ttl_generic(c, 0, 0); }
static int pttl_command(client *c) { return ttl_generic(c, 1, 0); }
static int expiretime_command(client *c) { return ttl_generic(c, 0, 1); }
static int pexpiretime_command(client *c) { return ttl_generic(c, 1, 1); }

/* PERSIST key */
static int persist_command(client *c) {
    db_value v;
    int r = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &v);
    if (r <= 0) {
        if (r == 0) reply_int(c, 0);
        return r;
    }
    if (!v.v.expire_ms) {
        db_value_free(&v);
        reply_int(c, 0);
        return 0;
    }
    int rc = set_expiry(c, &c->argv[1], &v, 0);
    db_value_free(&v);
    if (rc < 0) return -1;
    notify_key(c, NOTIFY_GENERIC, "persist", &c->argv[1]);
    reply_int(c, 1);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "expire", .proc = expire_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key seconds [NX|XX|GT|LT]",
     .summary = "Sets a key's time to live in seconds."},
    {.name = "pexpire", .proc = pexpire_command, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key milliseconds [NX|XX|GT|LT]",
     .summary = "Sets a key's time to live in milliseconds."},
    {.name = "expireat", .proc = expireat_command, .arity = -3, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key unix-time-seconds [NX|XX|GT|LT]",
     .summary = "Sets the expiration time of a key to a Unix timestamp."},
    {.name = "pexpireat", .proc = pexpireat_command, .arity = -3, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key unix-time-milliseconds [NX|XX|GT|LT]",
     .summary = "Sets the expiration time of a key to a Unix milliseconds timestamp."},
    {.name = "ttl", .proc = ttl_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the time to live of a key in seconds (-2 absent, -1 none)."},
    {.name = "pttl", .proc = pttl_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the time to live of a key in milliseconds."},
    {.name = "expiretime", .proc = expiretime_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the expiration time of a key as a Unix timestamp."},
    {.name = "pexpiretime", .proc = pexpiretime_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the expiration time of a key as a Unix milliseconds timestamp."},
    {.name = "persist", .proc = persist_command, .arity = 2, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key",
     .summary = "Removes the expiration time of a key."},
    CMD_TABLE_END,
};

const cmd_family expire_family = {.name = "expire", .rows = rows};
