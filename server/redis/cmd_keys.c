/* Generic key commands: DEL UNLINK EXISTS TYPE KEYS SCAN. */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "db.h"
#include "server.h"
#include "cmd_keys.h"

/* DEL key [key ...] / UNLINK key [key ...] */
static int del_command(client *c) {
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        int r = db_delete(KS(c), c->db, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        if (r) notify_key(c, NOTIFY_GENERIC, "del", &c->argv[i]);
        n += r;
    }
    reply_int(c, n);
    return 0;
}

/* EXISTS key [key ...] */
static int exists_command(client *c) {
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        int r = db_exists(KS(c), c->db, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        n += r;
    }
    reply_int(c, n);
    return 0;
}

static const char *type_name(unsigned t) {
    switch (t) {
    case ENC_TYPE_STRING: return "string";
    case ENC_TYPE_HASH: return "hash";
    case ENC_TYPE_LIST: return "list";
    case ENC_TYPE_SET: return "set";
    case ENC_TYPE_ZSET: return "zset";
    default: return "unknown";
    }
}

/* TYPE key */
static int type_command(client *c) {
    db_value v;
    int r = db_lookup(KS(c), c->db, c->argv[1].ptr, c->argv[1].len, &v);
    if (r < 0) return -1;
    reply_status(c, r ? type_name(v.v.type) : "none");
    if (r) db_value_free(&v);
    return 0;
}

/* The literal start of a glob pattern: iteration can be narrowed to it. */
static size_t literal_prefix(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && p[i] != '*' && p[i] != '?' && p[i] != '[' && p[i] != '\\') i++;
    return i;
}

/* KEYS pattern */
static int keys_command(client *c) {
    const resp_slice *pat = &c->argv[1];
    db_iter it;
    db_iter_open(&it, KS(c), c->db, pat->ptr, literal_prefix(pat->ptr, pat->len));
    size_t slot = reply_deferred_array(c);
    int64_t n = 0;
    const char *k;
    size_t kl;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &k, &kl, &v)) == 1) {
        if (glob_match(pat->ptr, pat->len, k, kl, 0)) {
            reply_bulk(c, k, kl);
            n++;
        }
    }
    db_iter_close(&it);
    if (r < 0) {
        c->out.len = slot;
        reply_error(c, "ERR storage error while iterating");
        return -1;
    }
    reply_set_deferred_array(c, slot, n);
    return 0;
}

/* ---- SCAN cursors -------------------------------------------------------
 * Redis cursors are numbers, and clients parse them as numbers, so the
 * position (the last key returned) is kept server-side in a ring of slots
 * indexed by cursor id. An id whose slot was reused is refused rather than
 * silently restarted. */
#define CURSOR_SLOTS 4096

struct scan_cursor {
    uint64_t id;
    int db;
    char *key;
    size_t kl;
};

static int cursor_save(server *s, int db, const char *k, size_t kl, uint64_t *id) {
    if (!s->cursors && !(s->cursors = calloc(CURSOR_SLOTS, sizeof *s->cursors))) return -1;
    uint64_t cid = ++s->next_cursor;
    struct scan_cursor *sc = &s->cursors[cid % CURSOR_SLOTS];
    char *copy = malloc(kl ? kl : 1);
    if (!copy) return -1;
    memcpy(copy, k, kl);
    free(sc->key);
    sc->id = cid;
    sc->db = db;
    sc->key = copy;
    sc->kl = kl;
    *id = cid;
    return 0;
}

static struct scan_cursor *cursor_find(server *s, uint64_t id, int db) {
    if (!s->cursors) return NULL;
    struct scan_cursor *sc = &s->cursors[id % CURSOR_SLOTS];
    return sc->id == id && sc->db == db && sc->key ? sc : NULL;
}

static void scan_cursors_free(server *s) {
    if (!s->cursors) return;
    for (int i = 0; i < CURSOR_SLOTS; i++) free(s->cursors[i].key);
    free(s->cursors);
    s->cursors = NULL;
}

int scan_args(client *c, int at, int64_t *cur, resp_slice *pat, int64_t *count, resp_slice *type) {
    *count = 10;
    *pat = (resp_slice){NULL, 0};
    if (type) *type = (resp_slice){NULL, 0};
    if (resp_parse_ll(c->argv[at].ptr, c->argv[at].len, cur) < 0 || *cur < 0) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    opt_cursor o = {c, at + 1};
    while (opt_more(&o)) {
        if (opt_is(&o, "match")) {
            if (opt_value(&o, pat) < 0) return -1;
        } else if (opt_is(&o, "count")) {
            if (opt_ll(&o, count) < 0) return -1;
            if (*count < 1) {
                reply_syntax_error(c);
                return -1;
            }
        } else if (type && opt_is(&o, "type")) {
            if (opt_value(&o, type) < 0) return -1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    return 0;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
static int scan_command(client *c) {
    int64_t cur, count;
    resp_slice pat, type;
    if (scan_args(c, 1, &cur, &pat, &count, &type) < 0) return -1;
    struct scan_cursor *sc = NULL;
    if (cur != 0 && !(sc = cursor_find(c->srv, (uint64_t)cur, c->db))) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    size_t lp = pat.ptr ? literal_prefix(pat.ptr, pat.len) : 0;
    db_iter it;
    db_iter_open(&it, KS(c), c->db, pat.ptr, lp);
    if (sc) db_iter_seek(&it, sc->key, sc->kl, 0);
    /* Matches go to a side buffer: their count is known only at the end. */
    resp_buf keys;
    resp_buf_init(&keys);
    int64_t n = 0, scanned = 0;
    const char *k = NULL;
    size_t kl = 0;
    enc_value v;
    int r;
    while ((r = db_iter_next(&it, &k, &kl, &v)) == 1 && scanned < count) {
        scanned++;
        if ((!pat.ptr || glob_match(pat.ptr, pat.len, k, kl, 0)) &&
            (!type.ptr || arg_eq(&type, type_name(v.type)))) {
            resp_add_bulk(&keys, k, kl);
            n++;
        }
    }
    /* r == 1 here means the loop stopped at a key not yet scanned: the
     * cursor resumes at it. */
    uint64_t next = 0;
    int failed = r < 0 || (r == 1 && cursor_save(c->srv, c->db, k, kl, &next) < 0);
    db_iter_close(&it);
    if (failed) {
        resp_buf_free(&keys);
        reply_error(c, "ERR storage error while scanning");
        return -1;
    }
    char nb[24];
    reply_array(c, 2);
    reply_bulk(c, nb, (size_t)ll_to_str(nb, (int64_t)next));
    reply_array(c, n);
    resp_buf_append(&c->out, keys.data, keys.len);
    resp_buf_free(&keys);
    return 0;
}

/* Writes a copy of value v (read from sdb/src) at ddb/dst: a collection's
 * elements are copied under a new version (O(elements), as in Redis). */
static int put_copy(client *c, const db_value *v, int sdb, const resp_slice *src, int ddb,
                    const resp_slice *dst, int dst_present) {
    if (enc_is_collection(v->v.type))
        return coll_clone(KS(c), sdb, src->ptr, src->len, v->v.type, ddb, dst->ptr, dst->len, dst_present);
    return db_put(KS(c), ddb, dst->ptr, dst->len, v->v.type, v->v.expire_ms, v->v.payload, v->v.len, dst_present);
}

/* RENAME key newkey / RENAMENX key newkey: the value keeps its TTL. */
static int rename_generic(client *c, int nx) {
    const resp_slice *src = &c->argv[1], *dst = &c->argv[2];
    db_value v;
    int r = db_lookup(KS(c), c->db, src->ptr, src->len, &v);
    if (r < 0) return -1;
    if (r == 0) {
        reply_error(c, "ERR no such key");
        return -1;
    }
    if (src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        db_value_free(&v);
        if (nx) reply_int(c, 0); else reply_ok(c);
        return 0;
    }
    db_value old;
    int e = db_lookup(KS(c), c->db, dst->ptr, dst->len, &old);
    if (e < 0) { db_value_free(&v); return -1; }
    if (e == 1) db_value_free(&old);
    if (nx && e == 1) {
        db_value_free(&v);
        reply_int(c, 0);
        return 0;
    }
    int rc = put_copy(c, &v, c->db, src, c->db, dst, old.present);
    db_value_free(&v);
    if (rc < 0 || db_delete(KS(c), c->db, src->ptr, src->len) < 0) return -1;
    notify_key(c, NOTIFY_GENERIC, "rename_from", src);
    notify_key(c, NOTIFY_GENERIC, "rename_to", dst);
    if (nx) reply_int(c, 1); else reply_ok(c);
    return 0;
}
static int rename_command(client *c) { return rename_generic(c, 0); }
static int renamenx_command(client *c) { return rename_generic(c, 1); }

/* COPY source destination [DB destination-db] [REPLACE] */
static int copy_command(client *c) {
    int64_t dbn = c->db;
    int replace = 0;
    opt_cursor o = {c, 3};
    while (opt_more(&o)) {
        if (opt_is(&o, "replace")) replace = 1;
        else if (opt_is(&o, "db")) {
            if (opt_ll(&o, &dbn) < 0) return -1;
            if (dbn < 0 || dbn >= DB_COUNT) {
                reply_error(c, "ERR DB index is out of range");
                return -1;
            }
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    const resp_slice *src = &c->argv[1], *dst = &c->argv[2];
    if (dbn == c->db && src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        reply_error(c, "ERR source and destination objects are the same");
        return -1;
    }
    db_value v, old;
    int r = db_lookup(KS(c), c->db, src->ptr, src->len, &v);
    if (r <= 0) {
        if (r == 0) reply_int(c, 0);
        return r;
    }
    int e = db_lookup(KS(c), (int)dbn, dst->ptr, dst->len, &old);
    if (e < 0) { db_value_free(&v); return -1; }
    if (e == 1) db_value_free(&old);
    if (e == 1 && !replace) {
        db_value_free(&v);
        reply_int(c, 0);
        return 0;
    }
    int rc = put_copy(c, &v, c->db, src, (int)dbn, dst, old.present);
    db_value_free(&v);
    if (rc < 0) return -1;
    notify_keyspace_event(c->srv, NOTIFY_GENERIC, "copy_to", (int)dbn, dst->ptr, dst->len);
    reply_int(c, 1);
    return 0;
}

/* MOVE key db */
static int move_command(client *c) {
    int64_t dbn;
    if (arg_ll_or_reply(c, &c->argv[2], &dbn) < 0) return -1;
    if (dbn < 0 || dbn >= DB_COUNT) {
        reply_error(c, "ERR DB index is out of range");
        return -1;
    }
    if (dbn == c->db) {
        reply_error(c, "ERR source and destination objects are the same");
        return -1;
    }
    const resp_slice *k = &c->argv[1];
    db_value v, old;
    int r = db_lookup(KS(c), c->db, k->ptr, k->len, &v);
    if (r <= 0) {
        if (r == 0) reply_int(c, 0);
        return r;
    }
    int e = db_lookup(KS(c), (int)dbn, k->ptr, k->len, &old);
    if (e != 0) {
        db_value_free(&v);
        if (e == 1) { db_value_free(&old); reply_int(c, 0); return 0; }
        return -1;
    }
    int rc = put_copy(c, &v, c->db, k, (int)dbn, k, old.present);
    db_value_free(&v);
    if (rc < 0 || db_delete(KS(c), c->db, k->ptr, k->len) < 0) return -1;
    notify_key(c, NOTIFY_GENERIC, "move_from", k);
    notify_keyspace_event(c->srv, NOTIFY_GENERIC, "move_to", (int)dbn, k->ptr, k->len);
    reply_int(c, 1);
    return 0;
}

/* TOUCH key [key ...] */
static int touch_command(client *c) { return exists_command(c); }

/* RANDOMKEY: seeks to a random point of the keyspace (not uniform over
 * keys, which would need a scan; good enough for its uses). */
static int randomkey_command(client *c) {
    char seed[8];
    for (int i = 0; i < 8; i++) seed[i] = (char)(rand() & 0xff);
    for (int attempt = 0; attempt < 2; attempt++) {
        db_iter it;
        db_iter_open(&it, KS(c), c->db, NULL, 0);
        if (attempt == 0) db_iter_seek(&it, seed, sizeof seed, 0);
        const char *k;
        size_t kl;
        enc_value v;
        int r = db_iter_next(&it, &k, &kl, &v);
        if (r == 1) reply_bulk(c, k, kl);
        db_iter_close(&it);
        if (r == 1) return 0;
        if (r < 0) {
            reply_error(c, "ERR storage error while iterating");
            return -1;
        }
    }
    reply_null(c);
    return 0;
}

/* ---- OBJECT: one row per subcommand; the key is argument 2. */

/* OBJECT HELP */
static int object_help_command(client *c) {
    reply_array(c, 4);
    reply_status(c, "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    reply_status(c, "ENCODING <key>");
    reply_status(c, "IDLETIME <key>");
    reply_status(c, "REFCOUNT <key>");
    return 0;
}

/* The key of OBJECT's argument 2: 1 found (v to free), 0 replied nil, -1
 * failed. */
static int object_lookup(client *c, db_value *v) {
    int r = db_lookup(KS(c), c->db, c->argv[2].ptr, c->argv[2].len, v);
    if (r == 0) reply_null(c);
    return r;
}

/* The name Redis 7.0 would give a collection of this size with its default
 * thresholds (the storage here is the same records whatever the size). */
static const char *collection_encoding(client *c, const db_value *v) {
    int64_t size = (int64_t)enc_get_u64(v->v.payload + 8);
    switch (v->v.type) {
    case ENC_TYPE_HASH: return size <= 128 ? "listpack" : "hashtable";
    case ENC_TYPE_ZSET: return size <= 128 ? "listpack" : "skiplist";
    case ENC_TYPE_LIST: return "quicklist";
    default: break;
    }
    /* a set of at most 512 integers is an intset */
    if (size > 512) return "hashtable";
    coll s;
    coll_items ci;
    const char *enc = "hashtable";
    if (coll_open(KS(c), c->db, c->argv[2].ptr, c->argv[2].len, ENC_TYPE_SET, &s) == 1) {
        if (coll_collect(KS(c), &s, ENC_ELEM_SET, -1, 0, &ci) == 0) {
            enc = "intset";
            for (size_t i = 0; i < ci.n; i++) {
                int64_t ll;
                if (ci.it[i].ml > 20 || resp_parse_ll(coll_item_m(&ci, i), ci.it[i].ml, &ll) < 0) enc = "hashtable";
            }
        }
        coll_items_free(&ci);
    }
    coll_free(&s);
    return enc;
}

/* OBJECT ENCODING key: Redis's encodings for strings: int, embstr (<= 44
 * bytes), raw. */
static int object_encoding_command(client *c) {
    db_value v;
    int r = object_lookup(c, &v);
    if (r <= 0) return r;
    if (enc_is_collection(v.v.type)) {
        reply_bulkstr(c, collection_encoding(c, &v));
        db_value_free(&v);
        return 0;
    }
    int64_t ll;
    if (v.v.len <= 20 && resp_parse_ll(v.v.payload, v.v.len, &ll) == 0) reply_bulkstr(c, "int");
    else reply_bulkstr(c, v.v.len <= 44 ? "embstr" : "raw");
    db_value_free(&v);
    return 0;
}

/* OBJECT FREQ key: no LFU policy, as Redis says without one. */
static int object_freq_command(client *c) {
    db_value v;
    int r = object_lookup(c, &v);
    if (r <= 0) return r;
    db_value_free(&v);
    reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                   "Please note that when switching between policies at runtime LRU and LFU data "
                   "will take some time to adjust.");
    return -1;
}

/* OBJECT IDLETIME key (no access times are kept: 0) */
static int object_idletime_command(client *c) {
    db_value v;
    int r = object_lookup(c, &v);
    if (r <= 0) return r;
    db_value_free(&v);
    reply_int(c, 0);
    return 0;
}

/* OBJECT REFCOUNT key */
static int object_refcount_command(client *c) {
    db_value v;
    int r = object_lookup(c, &v);
    if (r <= 0) return r;
    db_value_free(&v);
    reply_int(c, 1);
    return 0;
}

/* SWAPDB index1 index2: O(1), the SELECT numbers are remapped. */
static int swapdb_command(client *c) {
    int64_t a, b;
    if (resp_parse_ll(c->argv[1].ptr, c->argv[1].len, &a) < 0) {
        reply_error(c, "ERR invalid first DB index");
        return -1;
    }
    if (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &b) < 0) {
        reply_error(c, "ERR invalid second DB index");
        return -1;
    }
    if (a < 0 || a >= DB_COUNT || b < 0 || b >= DB_COUNT) {
        reply_error(c, "ERR DB index is out of range");
        return -1;
    }
    /* Database 0 holds the domain engine's documents: swapping it away would
     * break their invariants (counters and indexes stay with the engine). */
    if (c->srv->cfg.domain_write_guard && (a == 0 || b == 0) && a != b && db_has_owned(KS(c), 0)) {
        reply_error(c, "ERR database 0 holds keys owned by the domain engine; SWAPDB refused "
                       "(domain-write-guard)");
        return -1;
    }
    if (a != b) {
        watch_swapdb(c->srv, (int)a, (int)b);
        db_swap(KS(c), (int)a, (int)b);
        block_signal_db(c->srv, (int)a); /* clients blocked there may be served now */
        block_signal_db(c->srv, (int)b);
    }
    reply_ok(c);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "del", .proc = del_command, .arity = -2, .flags = CMD_WRITE | CMD_RETRY_SAFE, .first_key = 1, .last_key = -1, .key_step = 1,
     .key_flags = CMD_KEY_RM | CMD_KEY_DELETE,
     .group = "generic", .args = "key [key ...]",
     .summary = "Deletes one or more keys."},
    {.name = "unlink", .proc = del_command, .arity = -2, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .key_flags = CMD_KEY_RM | CMD_KEY_DELETE,
     .group = "generic", .args = "key [key ...]",
     .summary = "Deletes one or more keys (same as DEL: deletion is a tombstone)."},
    {.name = "exists", .proc = exists_command, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key [key ...]",
     .summary = "Counts how many of the keys exist."},
    {.name = "type", .proc = type_command, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the type of the value stored at a key."},
    {.name = "keys", .proc = keys_command, .arity = 2, .flags = CMD_READONLY,
     .group = "generic", .args = "pattern",
     .acl = "@dangerous", .summary = "Returns all key names that match a pattern."},
    {.name = "scan", .proc = scan_command, .arity = -2, .flags = CMD_READONLY,
     .group = "generic", .args = "cursor [MATCH pattern] [COUNT count] [TYPE type]",
     .summary = "Iterates over the key names in the database."},
    {.name = "rename", .proc = rename_command, .arity = 3, .flags = CMD_WRITE, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "generic", .args = "key newkey",
     .summary = "Renames a key, overwriting the destination (keeps the TTL)."},
    {.name = "renamenx", .proc = renamenx_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "generic", .args = "key newkey",
     .summary = "Renames a key only when the new name does not exist."},
    {.name = "copy", .proc = copy_command, .arity = -3, .flags = CMD_WRITE, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "generic", .args = "source destination [DB destination-db] [REPLACE]",
     .summary = "Copies the value of a key to a new key."},
    {.name = "move", .proc = move_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .args = "key db",
     .summary = "Moves a key to another database."},
    {.name = "touch", .proc = touch_command, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key [key ...]",
     .summary = "Counts the keys that exist (no access times are kept)."},
    {.name = "randomkey", .proc = randomkey_command, .arity = 1, .flags = CMD_READONLY,
     .group = "generic", .args = "",
     .summary = "Returns a key name from the database."},
    {.name = "object", .proc = cmd_subcommand, .arity = -2, .flags = CMD_READONLY,
     .group = "generic", .args = "ENCODING|FREQ|IDLETIME|REFCOUNT key | HELP",
     .summary = "Inspects a key (best effort: encodings as Redis would report them)."},
    {.name = "object|encoding", .proc = object_encoding_command, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Returns the encoding Redis would use for the value (int, embstr, raw)."},
    {.name = "object|freq", .proc = object_freq_command, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Access frequency (not tracked: an error, as Redis without an LFU policy)."},
    {.name = "object|idletime", .proc = object_idletime_command, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Seconds since the last access (not tracked: 0)."},
    {.name = "object|refcount", .proc = object_refcount_command, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .key_flags = CMD_KEY_RO,
     .group = "generic", .args = "key",
     .summary = "Reference count of the value (always 1)."},
    {.name = "object|help", .proc = object_help_command, .arity = 2, .flags = CMD_READONLY,
     .group = "generic", .args = "",
     .summary = "Shows the OBJECT subcommands."},
    {.name = "swapdb", .proc = swapdb_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .group = "generic", .args = "index1 index2",
     .acl = "@dangerous", .summary = "Swaps two databases (O(1): a persisted map of database numbers)."},
    CMD_TABLE_END,
};

const cmd_family keys_family = {.name = "keys", .rows = rows, .free = scan_cursors_free};
