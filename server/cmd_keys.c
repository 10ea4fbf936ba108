/* Generic key commands: DEL UNLINK EXISTS TYPE KEYS SCAN. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* DEL key [key ...] / UNLINK key [key ...] */
static int del_command(client *c) {
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        int r = db_delete(c, c->db, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        n += r;
    }
    reply_int(c, n);
    return 0;
}

/* EXISTS key [key ...] */
static int exists_command(client *c) {
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        int r = db_exists(c, c->db, c->argv[i].ptr, c->argv[i].len);
        if (r < 0) return -1;
        n += r;
    }
    reply_int(c, n);
    return 0;
}

static const char *type_name(unsigned t) {
    switch (t) {
    case ENC_TYPE_STRING: return "string";
    default: return "unknown";
    }
}

/* TYPE key */
static int type_command(client *c) {
    db_value v;
    int r = db_lookup(c, c->db, c->argv[1].ptr, c->argv[1].len, &v);
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
    db_iter_open(&it, c, c->db, pat->ptr, literal_prefix(pat->ptr, pat->len));
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

void scan_cursors_free(server *s);
void scan_cursors_free(server *s) {
    if (!s->cursors) return;
    for (int i = 0; i < CURSOR_SLOTS; i++) free(s->cursors[i].key);
    free(s->cursors);
    s->cursors = NULL;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
static int scan_command(client *c) {
    int64_t cur, count = 10;
    resp_slice pat = {NULL, 0}, type = {NULL, 0};
    if (parse_ll(c->argv[1].ptr, c->argv[1].len, &cur) < 0 || cur < 0) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    opt_cursor o = {c, 2};
    while (opt_more(&o)) {
        if (opt_is(&o, "match")) {
            if (opt_value(&o, &pat) < 0) return -1;
        } else if (opt_is(&o, "count")) {
            if (opt_ll(&o, &count) < 0) return -1;
            if (count < 1) {
                reply_syntax_error(c);
                return -1;
            }
        } else if (opt_is(&o, "type")) {
            if (opt_value(&o, &type) < 0) return -1;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    struct scan_cursor *sc = NULL;
    if (cur != 0 && !(sc = cursor_find(c->srv, (uint64_t)cur, c->db))) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    size_t lp = pat.ptr ? literal_prefix(pat.ptr, pat.len) : 0;
    db_iter it;
    db_iter_open(&it, c, c->db, pat.ptr, lp);
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

const cmd_def cmd_keys_table[] = {
    {"del", del_command, -2, CMD_WRITE, 1, -1, 1, "generic", "key [key ...]", "Deletes one or more keys.", NULL},
    {"unlink", del_command, -2, CMD_WRITE | CMD_FAST, 1, -1, 1, "generic", "key [key ...]", "Deletes one or more keys (same as DEL: deletion is a tombstone).", NULL},
    {"exists", exists_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "generic", "key [key ...]", "Counts how many of the keys exist.", NULL},
    {"type", type_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic", "key", "Returns the type of the value stored at a key.", NULL},
    {"keys", keys_command, 2, CMD_READONLY, 0, 0, 0, "generic", "pattern", "Returns all key names that match a pattern.", NULL},
    {"scan", scan_command, -2, CMD_READONLY, 0, 0, 0, "generic", "cursor [MATCH pattern] [COUNT count] [TYPE type]", "Iterates over the key names in the database.", NULL},
    CMD_TABLE_END,
};
