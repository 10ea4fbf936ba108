/* DUMP.BEGIN / DUMP.SCAN / DUMP.END / DUMP.RESTORE (admin): a consistent
 * dump of one point in time while writes go on, and its restore (the
 * record format: dump.h; the tools: client/tools/).
 *
 * DUMP.BEGIN takes a RocksDB snapshot; each DUMP.SCAN reads the next
 * records from it (bounded work per call: the loop is never held longer
 * than one page), so every record of a dump belongs to the same instant
 * whatever is written meanwhile. A cursor lives until DUMP.END, or 10
 * minutes after its last use (reclaimed by the family's cron).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain_args.h"
#include "dump.h"
#include "server.h"
#include "cmd_dump.h"

#define SCAN_MAX 100000
#define CURSOR_IDLE_MS (10 * 60 * 1000)
#define PREFIX_MAX 1024

struct dom_dump {
    uint64_t id;
    store_snap *snap;
    store_iter *it;      /* the current phase's, or NULL before it starts */
    int phase;           /* 0..15: database (SELECT number); 16..: meta prefixes; then done */
    uint8_t phys[DB_COUNT]; /* the SELECT map at the snapshot */
    char prefix[PREFIX_MAX];
    size_t pl;
    uint64_t now;        /* the snapshot's time: keys expired by then are left out */
    uint64_t used;
    struct dom_dump *next;
};

#define PHASES (DB_COUNT + DUMP_META_PREFIXES)

static void cursor_free(struct dom_dump *d) {
    store_iter_free(d->it);
    store_snapshot_free(d->snap);
    free(d);
}

void dump_cursors_free(struct dom_engine *e) {
    for (struct dom_dump *d = e->dumps, *n; d; d = n) {
        n = d->next;
        cursor_free(d);
    }
    e->dumps = NULL;
}

static struct dom_dump **cursor_find(struct dom_engine *e, const resp_slice *a) {
    int64_t id;
    if (resp_parse_ll(a->ptr, a->len, &id) < 0) return NULL;
    for (struct dom_dump **p = &e->dumps; *p; p = &(*p)->next)
        if ((*p)->id == (uint64_t)id) return p;
    return NULL;
}

/* DUMP.BEGIN [PREFIX p]
 * Takes a snapshot: [cursor, keys] where keys is the number of user-visible
 * keys then (an upper bound of the kv records, for progress). With PREFIX,
 * only the keys under p, in every database, and no meta records. */
static int dump_begin(client *c) {
    struct dom_engine *e = DOM(c);
    const resp_slice *prefix = NULL;
    if (c->argc == 3 && !strncasecmp(c->argv[1].ptr, "prefix", c->argv[1].len) && c->argv[1].len == 6)
        prefix = &c->argv[2];
    else if (c->argc != 1)
        return reply_syntax_error(c), -1;
    if (prefix && prefix->len > PREFIX_MAX) return reply_error(c, "ERR prefix too long"), -1;
    struct dom_dump *d = calloc(1, sizeof *d);
    if (!d || !(d->snap = store_snapshot_new(KS(c)->st))) {
        free(d);
        return reply_error(c, "ERR out of memory"), -1;
    }
    /* Writes of this loop turn are not committed yet: the snapshot would
     * miss them, so a dump starts from what is committed. */
    d->id = ++e->next_dump;
    for (int i = 0; i < DB_COUNT; i++) d->phys[i] = (uint8_t)db_phys(KS(c), i);
    if (prefix) {
        memcpy(d->prefix, prefix->ptr, prefix->len);
        d->pl = prefix->len;
    }
    d->now = d->used = now_ms();
    d->next = e->dumps;
    e->dumps = d;
    int64_t keys = 0;
    for (int i = 0; i < DB_COUNT; i++) keys += db_size(KS(c), i);
    reply_array(c, 2);
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)d->id);
    reply_bulkstr(c, id);
    reply_int(c, keys);
    return 0;
}

/* Opens the iterator of the cursor's phase. */
static int phase_open(struct dom_dump *d) {
    char lo[PREFIX_MAX + 1], hi[PREFIX_MAX + 1];
    size_t ll, hl;
    int cf;
    if (d->phase < DB_COUNT) {
        cf = STORE_CF_DATA;
        lo[0] = (char)d->phys[d->phase];
        memcpy(lo + 1, d->prefix, d->pl);
        ll = d->pl + 1;
    } else {
        dkey p;
        dump_meta_prefix((size_t)(d->phase - DB_COUNT), &p);
        cf = STORE_CF_META;
        memcpy(lo, p.buf, p.len);
        ll = p.len;
    }
    hl = enc_prefix_end(hi, lo, ll);
    d->it = store_iter_snapshot(d->snap, cf, lo, ll, hi, hl);
    return d->it ? 0 : -1;
}

/* DUMP.SCAN cursor count
 * The next records (at most count) as one bulk of lines, each ending in a
 * newline; an empty bulk when the dump is complete. */
static int dump_scan(client *c) {
    struct dom_engine *e = DOM(c);
    struct dom_dump **p = cursor_find(e, &c->argv[1]);
    if (!p) return reply_error(c, "ERR no such dump cursor"), -1;
    struct dom_dump *d = *p;
    int64_t count;
    if (resp_parse_ll(c->argv[2].ptr, c->argv[2].len, &count) < 0 || count < 1 || count > SCAN_MAX) {
        reply_errorf(c, "ERR count must be an integer from 1 to %d", SCAN_MAX);
        return -1;
    }
    d->used = now_ms();
    resp_buf out;
    resp_buf_init(&out);
    int64_t n = 0;
    int bad = 0;
    while (n < count && !bad && d->phase < PHASES) {
        if (d->phase >= DB_COUNT && d->pl) { /* a prefix dump has no meta records */
            d->phase = PHASES;
            break;
        }
        if (!d->it && phase_open(d) < 0) {
            bad = 1;
            break;
        }
        if (!store_iter_valid(d->it)) {
            char *err = NULL;
            if (store_iter_error(d->it, &err) < 0) {
                reply_storage_error(c, err);
                resp_buf_free(&out);
                return 0;
            }
            store_iter_free(d->it);
            d->it = NULL;
            d->phase++;
            continue;
        }
        size_t kl, vl;
        const char *k = store_iter_key(d->it, &kl), *v = store_iter_value(d->it, &vl);
        if (d->phase < DB_COUNT) {
            enc_value ev;
            if (enc_value_decode(v, vl, &ev) == 0 && !(ev.expire_ms && (uint64_t)ev.expire_ms <= d->now)) {
                bad = dump_encode_kv(&out, d->phase, k + 1, kl - 1, ev.expire_ms, ev.payload, ev.len) < 0;
                n++;
            }
        } else {
            bad = dump_encode_meta(&out, k, kl, v, vl) < 0;
            n++;
        }
        if (!bad) bad = resp_buf_append(&out, "\n", 1) < 0;
        store_iter_next(d->it);
    }
    if (bad) {
        resp_buf_free(&out);
        return reply_error(c, "ERR out of memory"), -1;
    }
    reply_bulk(c, out.data ? out.data : "", out.len);
    resp_buf_free(&out);
    return 0;
}

/* DUMP.END cursor
 * Releases the snapshot. */
static int dump_end(client *c) {
    struct dom_dump **p = cursor_find(DOM(c), &c->argv[1]);
    if (!p) return reply_error(c, "ERR no such dump cursor"), -1;
    struct dom_dump *d = *p;
    *p = d->next;
    cursor_free(d);
    reply_ok(c);
    return 0;
}

/* DUMP.RESTORE lines
 * Writes the records of lines (one or more record lines of a dump, each
 * ending in a newline) in this command's batch: all or none. A key that
 * exists is refused (-CONFLICT): a restore goes into an empty server.
 * :N records written. The derived data is rebuilt afterwards with
 * DOMAIN.REBUILD (stagekv-restore does it). */
static int dump_restore(client *c) {
    struct dom_engine *e = DOM(c);
    const char *p = c->argv[1].ptr, *end = p + c->argv[1].len;
    uint64_t now = now_ms();
    int64_t n = 0;
    if (p == end || end[-1] != '\n') return reply_error(c, "INVALID record lines must end with a newline"), -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (dump_restore_line(e, p, (size_t)(nl - p), now) < 0) {
            status *st = &KS(c)->err;
            char msg[sizeof st->msg];
            snprintf(msg, sizeof msg, "%s", st->msg);
            st_fail(st, st->code, "record %lld: %s", (long long)n + 1, msg);
            return -1;
        }
        n++;
        p = nl + 1;
    }
    reply_int(c, n);
    return 0;
}

static void dump_cron(server *s, uint64_t now) {
    if (!s->dom) return;
    for (struct dom_dump **p = &s->dom->dumps; *p;) {
        struct dom_dump *d = *p;
        if (now - d->used > CURSOR_IDLE_MS) {
            *p = d->next;
            server_log(LL_NOTICE, "dump cursor %llu idle for 10 minutes: released", (unsigned long long)d->id);
            cursor_free(d);
        } else {
            p = &d->next;
        }
    }
}

#define ADMIN_DB0 (CMD_ADMIN | CMD_DB0 | CMD_DENY_MULTI)
static const cmd_def rows[] = {
    {.name = "dump.begin", .proc = dump_begin, .arity = -1, .flags = ADMIN_DB0 | CMD_READONLY,
     .group = "maintenance", .args = "[PREFIX p]",
     .summary = "Starts a consistent dump (a snapshot of this instant): [cursor, keys]."},
    {.name = "dump.scan", .proc = dump_scan, .arity = 3, .flags = ADMIN_DB0 | CMD_READONLY,
     .group = "maintenance", .args = "cursor count",
     .summary = "The next records of a dump (at most count) as lines of JSON; empty when the dump is complete."},
    {.name = "dump.end", .proc = dump_end, .arity = 2, .flags = ADMIN_DB0 | CMD_READONLY,
     .group = "maintenance", .args = "cursor",
     .summary = "Releases a dump's snapshot."},
    {.name = "dump.restore", .proc = dump_restore, .arity = 2, .flags = ADMIN_DB0 | CMD_WRITE | CMD_DOMAIN,
     .group = "maintenance", .args = "lines",
     .summary = "Writes dump records (lines of JSON) into an empty server, all or none; replies the number "
                "written. Derived data: DOMAIN.REBUILD."},
    CMD_TABLE_END,
};

const cmd_family dump_family = {.name = "dump", .rows = rows, .cron = dump_cron};
