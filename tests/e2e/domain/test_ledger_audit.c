/* End-to-end ledger audit (the approach of TigerBeetle's VOPR auditor): a
 * seeded random workload of COINS.ADD / SPEND / TRANSFER and DONATION.SEND
 * from 8 concurrent connections, every operation carrying a unique IDEMP
 * key and sent 1-3 times, while the server is killed with SIGKILL and
 * restarted twice. Clients whose connection drops reconnect and re-send
 * their in-flight operation with the same IDEMP key (a quarter of them
 * abandon it instead, leaving an operation of unknown outcome). Afterwards an
 * auditor reads every user's COINS.HISTORY, COINS.BALANCE, DONATION.LIST
 * and COINS.VERIFY and checks the ledger against the clients' own log:
 *
 *   - no balance and no balance_after is negative;
 *   - balance = sum of the user's rows, and each row's balance_after is the
 *     previous row's plus its amount (oldest first);
 *   - every row belongs to a logged operation (reason "op:<key>" for ADD,
 *     SPEND and TRANSFER; "donation" rows match DONATION.LIST documents
 *     whose message is "msg:<key>"), with the right amount and counterparty;
 *   - every acknowledged operation is present exactly once, and the reply
 *     the client got equals the row's balance_after (or the donation id);
 *     a refused one is absent; one whose reply was lost in a crash is
 *     present at most once; a retry never gets another answer than the
 *     first success (IDEMP replay);
 *   - a transfer has both rows or neither; donations: per (from, to) pair
 *     the documents, the payer's rows and the payee's rows agree;
 *   - total coins = sum of present ADDs - sum of present SPENDs;
 *   - COINS.VERIFY is +OK for every user.
 *
 * STAGEKV_SEED=n replays a run's choices (the interleaving is up to the
 * scheduler); STAGEKV_AUDIT_SECONDS sets the traffic time (default 20).
 * A second test proves the auditor fails on a tampered ledger. */
#include "e2e_json.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static skv_server srv;
static void down(void) { skv_cleanup(&srv); }

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static long long rng_range(uint64_t *s, long long lo, long long hi) {
    return lo + (long long)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

/* ---- the operation log ------------------------------------------------------------ */

typedef enum { OP_ADD, OP_SPEND, OP_TRANSFER, OP_DONATE } op_kind;
static const char *const op_names[] = {"ADD", "SPEND", "TRANSFER", "DONATE"};

typedef enum {
    ST_UNSENT,   /* never sent */
    ST_ACKED,    /* a success reply came: applied exactly once */
    ST_REFUSED,  /* the last reply was -INSUFFICIENT_FUNDS, none a success: absent */
    ST_UNKNOWN,  /* the last send got no reply: present at most once */
} op_state;
static const char *const st_names[] = {"unsent", "acked", "refused", "unknown"};

typedef struct op {
    op_kind kind;
    int a, b; /* user indexes: the owner / payer, and the payee */
    long long amount;
    op_state state;
    int sends, drops; /* commands sent; connections lost while it was in flight */
    long long r1, r2; /* first success: new balance(s) */
    char did[24];     /* first success of DONATE: the donation id */
    char reply[96];   /* the last reply, for the log */
} op;

typedef struct client_log {
    int id, port, nusers;
    uint64_t rng;
    op *ops;
    size_t n, cap;
    redisContext *c;
    long long reconnect_deadline_ms;
    int bugs;       /* replies that break the contract during the run */
    char bug[4][200];
    int gave_up;    /* could not reconnect in time */
    int reconnects;
} client_log;

static void client_bug(client_log *w, const char *fmt, ...) {
    if (w->bugs < 4) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->bug[w->bugs], sizeof w->bug[0], fmt, ap);
        va_end(ap);
    }
    w->bugs++;
}

static void op_key(const client_log *w, size_t i, char *out, size_t cap) {
    snprintf(out, cap, "c%d-%zu", w->id, i);
}

/* Connects (retrying until the bounded deadline while the server restarts). */
static int client_connect(client_log *w) {
    long long until = mono_ms() + 30000;
    for (;;) {
        struct timeval tv = {1, 0};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", w->port, tv);
        if (c && !c->err) {
            redisSetTimeout(c, (struct timeval){15, 0});
            w->c = c;
            return 0;
        }
        if (c) redisFree(c);
        if (mono_ms() > until) return -1;
        usleep(20000);
    }
}

/* Sends op i once; on a lost connection reconnects and re-sends the same
 * command (same IDEMP key) until a reply comes. NULL when giving up; then
 * *abandoned says whether it was a choice (a client that dies after a drop
 * without retrying: the op stays unknown) rather than a failure to reconnect. */
static redisReply *send_op(client_log *w, size_t i, int *abandoned) {
    op *o = &w->ops[i];
    char key[32], reason[40], us_a[8], us_b[8], amt[24];
    op_key(w, i, key, sizeof key);
    snprintf(reason, sizeof reason, "%s:%s", o->kind == OP_DONATE ? "msg" : "op", key);
    snprintf(us_a, sizeof us_a, "u%d", o->a);
    snprintf(us_b, sizeof us_b, "u%d", o->b);
    snprintf(amt, sizeof amt, "%lld", o->amount);
    const char *argv[10];
    int argc = 0;
    switch (o->kind) {
    case OP_ADD:
    case OP_SPEND:
        argv[argc++] = o->kind == OP_ADD ? "COINS.ADD" : "COINS.SPEND";
        argv[argc++] = us_a;
        argv[argc++] = amt;
        argv[argc++] = reason;
        break;
    case OP_TRANSFER:
        argv[argc++] = "COINS.TRANSFER";
        argv[argc++] = us_a;
        argv[argc++] = us_b;
        argv[argc++] = amt;
        argv[argc++] = reason;
        break;
    case OP_DONATE:
        argv[argc++] = "DONATION.SEND";
        argv[argc++] = us_a;
        argv[argc++] = us_b;
        argv[argc++] = amt;
        argv[argc++] = "MESSAGE";
        argv[argc++] = reason;
        break;
    }
    argv[argc++] = "IDEMP";
    argv[argc++] = key;
    for (int tries = 0; tries < 20; tries++) {
        if (!w->c) {
            if (client_connect(w) < 0) return NULL;
            w->reconnects++;
        }
        o->sends++;
        redisReply *r = redisCommandArgv(w->c, argc, argv, NULL);
        if (r) return r;
        o->drops++;
        redisFree(w->c);
        w->c = NULL;
        if (rng_next(&w->rng) % 4 == 0) {
            *abandoned = 1;
            return NULL;
        }
    }
    return NULL;
}

/* Runs op i: planned 1-3 sends (some after a deliberate reconnect), checks
 * each reply against the contract, and settles its state. -1: gave up. */
static int run_op(client_log *w, size_t i, int planned) {
    op *o = &w->ops[i];
    int acked = 0, refused_last = 0;
    for (int k = 0; k < planned; k++) {
        if (k > 0 && w->c && rng_next(&w->rng) % 16 == 0) { /* the retry comes on a new connection */
            redisFree(w->c);
            w->c = NULL;
        }
        int abandoned = 0;
        redisReply *r = send_op(w, i, &abandoned);
        if (!r) {
            o->state = acked ? ST_ACKED : ST_UNKNOWN;
            return abandoned ? 0 : -1;
        }
        int ok = 0;
        long long v1 = 0, v2 = 0;
        const char *did = "";
        snprintf(o->reply, sizeof o->reply, "(reply type %d)", r->type);
        if (o->kind == OP_ADD || o->kind == OP_SPEND) {
            ok = r->type == REDIS_REPLY_INTEGER;
            v1 = r->integer;
            if (ok) snprintf(o->reply, sizeof o->reply, ":%lld", v1);
        } else if (o->kind == OP_TRANSFER) {
            ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
                 r->element[1]->type == REDIS_REPLY_INTEGER;
            if (ok) {
                v1 = r->element[0]->integer;
                v2 = r->element[1]->integer;
                snprintf(o->reply, sizeof o->reply, "[%lld, %lld]", v1, v2);
            }
        } else {
            ok = r->type == REDIS_REPLY_STRING && r->len == 16;
            if (ok) did = r->str;
            snprintf(o->reply, sizeof o->reply, "%.90s", r->str ? r->str : "?");
        }
        if (!ok && r->type == REDIS_REPLY_ERROR) snprintf(o->reply, sizeof o->reply, "-%.90s", r->str);
        char key[32];
        op_key(w, i, key, sizeof key);
        if (ok) {
            if (!acked) {
                o->r1 = v1;
                o->r2 = v2;
                snprintf(o->did, sizeof o->did, "%s", did);
                acked = 1;
            } else if (o->r1 != v1 || o->r2 != v2 || strcmp(o->did, did) != 0) {
                client_bug(w, "%s %s: retry got %s, the first success was [%lld %lld %s] (IDEMP replay differs)",
                           op_names[o->kind], key, o->reply, o->r1, o->r2, o->did);
            }
            refused_last = 0;
        } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "INSUFFICIENT_FUNDS", 18) == 0 &&
                   o->kind != OP_ADD) {
            if (acked)
                client_bug(w, "%s %s: retry refused (%s) after a success (IDEMP did not replay)",
                           op_names[o->kind], key, r->str);
            refused_last = 1;
        } else {
            client_bug(w, "%s %s u%d u%d %lld: unexpected reply type %d '%s'", op_names[o->kind], key, o->a, o->b,
                       o->amount, r->type, o->reply);
            refused_last = 0;
        }
        freeReplyObject(r);
    }
    o->state = acked ? ST_ACKED : refused_last ? ST_REFUSED : ST_UNKNOWN;
    return 0;
}

static size_t new_op(client_log *w) {
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->ops = realloc(w->ops, w->cap * sizeof *w->ops);
    }
    memset(&w->ops[w->n], 0, sizeof w->ops[0]);
    return w->n++;
}

static atomic_int stop_traffic;

static void *client_main(void *arg) {
    client_log *w = arg;
    if (client_connect(w) < 0) {
        w->gave_up = 1;
        return NULL;
    }
    while (!atomic_load(&stop_traffic)) {
        size_t i = new_op(w);
        op *o = &w->ops[i];
        int pick = (int)rng_range(&w->rng, 0, 99);
        o->kind = pick < 30 ? OP_ADD : pick < 55 ? OP_SPEND : pick < 85 ? OP_TRANSFER : OP_DONATE;
        o->a = (int)rng_range(&w->rng, 0, w->nusers - 1);
        o->b = (int)rng_range(&w->rng, 0, w->nusers - 2);
        if (o->b >= o->a) o->b++;
        if (o->kind == OP_ADD || o->kind == OP_SPEND) o->b = -1;
        /* spends big enough that some are refused (-INSUFFICIENT_FUNDS) */
        o->amount = rng_range(&w->rng, 1, o->kind == OP_ADD ? 1000 : o->kind == OP_SPEND ? 1500 : 800);
        int planned = (int)rng_range(&w->rng, 1, 3);
        if (run_op(w, i, planned) < 0) {
            w->gave_up = 1;
            break;
        }
    }
    if (w->c) redisFree(w->c);
    w->c = NULL;
    return NULL;
}

/* ---- reading the rows (e2e_json.h) --------------------------------------------------- */

/* Member name of the object json when it has that type ('s', 'i', 'n'), read
 * into v; NULL otherwise, also when json is not a well-formed object. */
static const jval *member(const char *json, const char *name, char type, jval *v) {
    return json_member(json, name, v) == 1 && v->type == type ? v : NULL;
}

/* ---- the auditor ---------------------------------------------------------------------- */

typedef struct run {
    client_log *clients;
    int nclients, nusers;
} run;

typedef struct audit_state {
    int problems;
    long long rows, donations; /* what the audit read */
    char *report;
    size_t len, cap;
} audit_state;

static void problem(audit_state *a, const char *fmt, ...) {
    a->problems++;
    if (a->problems > 60) return;
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    if (a->len + (size_t)n + 3 > a->cap) {
        a->cap = (a->cap + (size_t)n + 3) * 2;
        a->report = realloc(a->report, a->cap);
    }
    a->report[a->len++] = ' ';
    memcpy(a->report + a->len, line, (size_t)n);
    a->len += (size_t)n;
    a->report[a->len++] = '\n';
    a->report[a->len] = 0;
}

/* "u<i>" with 0 <= i < nusers -> i, else -1 */
static int user_index(const char *s, int nusers) {
    if (s[0] != 'u' || s[1] < '0' || s[1] > '9') return -1;
    char *end;
    long v = strtol(s + 1, &end, 10);
    if (*end || v >= nusers || (s[1] == '0' && s[2])) return -1;
    return (int)v;
}

/* "<prefix>c<k>-<n>" naming a logged op -> the op, else NULL */
static op *op_by_text(const run *rn, const char *s, const char *prefix, size_t *ci, size_t *oi) {
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0 || s[pl] != 'c') return NULL;
    char *end;
    unsigned long k = strtoul(s + pl + 1, &end, 10);
    if (*end != '-' || k >= (unsigned long)rn->nclients) return NULL;
    unsigned long n = strtoul(end + 1, &end, 10);
    if (*end || n >= rn->clients[k].n) return NULL;
    *ci = k;
    *oi = n;
    return &rn->clients[k].ops[n];
}

typedef struct op_seen {
    int rows_a, rows_b, docs; /* rows on the owner's / payee's side; donation documents */
} op_seen;

typedef struct pair_sum {
    long long docs, docs_amt, out, out_amt, in, in_amt;
} pair_sum;

/* Pages through a list command (HISTORY or DONATION.LIST) for one user:
 * calls fn on each document, newest first. Returns -1 when a reply is not
 * an array of JSON strings. */
typedef void (*doc_fn)(audit_state *a, const run *rn, int user, const char *json, void *ctx);

static int page_list(redisContext *c, audit_state *a, const run *rn, const char *cmd, int user, doc_fn fn,
                     void *ctx) {
    char after[64] = "", prev[64] = "";
    for (int page = 0; page < 10000; page++) {
        redisReply *r = after[0] ? skv_cmd(c, "%s u%d AFTER %s LIMIT 1000", cmd, user, after)
                                 : skv_cmd(c, "%s u%d LIMIT 1000", cmd, user);
        if (r->type != REDIS_REPLY_ARRAY) {
            problem(a, "%s u%d: reply type %d '%s'", cmd, user, r->type, r->str ? r->str : "");
            freeReplyObject(r);
            return -1;
        }
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_STRING) {
                problem(a, "%s u%d: element of type %d", cmd, user, e->type);
                continue;
            }
            jval idv;
            const jval *id = member(e->str, "id", 's', &idv);
            if (!id) {
                problem(a, "%s u%d: document without an id: %.200s", cmd, user, e->str);
                continue;
            }
            /* newest first: ids strictly decrease, also across pages */
            if (prev[0] && strcmp(id->s, prev) >= 0)
                problem(a, "%s u%d: id %s after %s (not newest first, or repeated)", cmd, user, id->s, prev);
            snprintf(prev, sizeof prev, "%.63s", id->s);
            fn(a, rn, user, e->str, ctx);
        }
        freeReplyObject(r);
        if (n < 1000) return 0;
        snprintf(after, sizeof after, "%s", prev);
    }
    problem(a, "%s u%d: paging does not end", cmd, user);
    return -1;
}

typedef struct row {
    char id[24];
    long long amount, balance_after;
} row;

typedef struct hist_ctx {
    row *rows;
    size_t n, cap;
    op_seen **seen;
    pair_sum *pairs; /* [from * nusers + to] */
} hist_ctx;

static void on_row(audit_state *a, const run *rn, int u, const char *json, void *vctx) {
    hist_ctx *h = vctx;
    jval v[7];
    const jval *id = member(json, "id", 's', &v[0]), *amount = member(json, "amount", 'i', &v[1]),
               *ba = member(json, "balance_after", 'i', &v[2]), *reason = member(json, "reason", 's', &v[3]),
               *cp = member(json, "counterparty", 's', &v[4]), *cpnull = member(json, "counterparty", 'n', &v[5]);
    if (!amount || !ba || !reason || (!cp && !cpnull) || !member(json, "created_at", 's', &v[6])) {
        problem(a, "u%d: malformed ledger row %.200s", u, json);
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->rows = realloc(h->rows, h->cap * sizeof *h->rows);
    }
    row *rw = &h->rows[h->n++];
    a->rows++;
    snprintf(rw->id, sizeof rw->id, "%.23s", id->s);
    rw->amount = amount->i;
    rw->balance_after = ba->i;
    if (amount->i == 0) problem(a, "u%d row %s: amount 0", u, id->s);

    if (strcmp(reason->s, "donation") == 0) {
        int other = cp ? user_index(cp->s, rn->nusers) : -1;
        if (other < 0 || other == u) {
            problem(a, "u%d row %s: donation row with counterparty %s", u, id->s, cp ? cp->s : "null");
            return;
        }
        pair_sum *ps = amount->i < 0 ? &h->pairs[u * rn->nusers + other] : &h->pairs[other * rn->nusers + u];
        if (amount->i < 0) {
            ps->out++;
            ps->out_amt -= amount->i;
        } else {
            ps->in++;
            ps->in_amt += amount->i;
        }
        return;
    }
    size_t ci, oi;
    op *o = op_by_text(rn, reason->s, "op:", &ci, &oi);
    if (!o || o->kind == OP_DONATE) {
        problem(a, "u%d row %s: reason '%s' names no logged operation (an invented row)", u, id->s, reason->s);
        return;
    }
    op_seen *s = &h->seen[ci][oi];
    long long want_amt;
    const char *want_cp;
    char other[8];
    int side_b = 0;
    if (o->kind != OP_TRANSFER) {
        if (u != o->a) {
            problem(a, "u%d row %s: %s of u%d booked on u%d", u, id->s, reason->s, o->a, u);
            return;
        }
        want_amt = o->kind == OP_ADD ? o->amount : -o->amount;
        want_cp = o->kind == OP_ADD ? "_system" : NULL;
    } else if (u == o->a || u == o->b) {
        side_b = u == o->b;
        want_amt = side_b ? o->amount : -o->amount;
        snprintf(other, sizeof other, "u%d", side_b ? o->a : o->b);
        want_cp = other;
    } else {
        problem(a, "u%d row %s: transfer %s u%d->u%d booked on u%d", u, id->s, reason->s, o->a, o->b, u);
        return;
    }
    if (side_b) s->rows_b++;
    else s->rows_a++;
    if (amount->i != want_amt)
        problem(a, "u%d row %s (%s %s): amount %lld, expected %lld", u, id->s, op_names[o->kind], reason->s,
                amount->i, want_amt);
    if (want_cp ? !cp || strcmp(cp->s, want_cp) != 0 : !cpnull)
        problem(a, "u%d row %s (%s %s): counterparty %s, expected %s", u, id->s, op_names[o->kind], reason->s,
                cp ? cp->s : "null", want_cp ? want_cp : "null");
    if (o->state == ST_ACKED && ba->i != (side_b ? o->r2 : o->r1))
        problem(a, "u%d row %s (%s %s): balance_after %lld, but the client was told %lld", u, id->s,
                op_names[o->kind], reason->s, ba->i, side_b ? o->r2 : o->r1);
}

static void on_donation(audit_state *a, const run *rn, int u, const char *json, void *vctx) {
    hist_ctx *h = vctx;
    jval v[6];
    const jval *id = member(json, "id", 's', &v[0]), *from = member(json, "from", 's', &v[1]),
               *to = member(json, "user_id", 's', &v[2]), *amount = member(json, "amount", 'i', &v[3]),
               *msg = member(json, "message", 's', &v[4]);
    if (!from || !to || !amount || !msg || !member(json, "created_at", 's', &v[5])) {
        problem(a, "u%d: malformed donation %.200s", u, json);
        return;
    }
    size_t ci, oi;
    op *o = op_by_text(rn, msg->s, "msg:", &ci, &oi);
    if (!o || o->kind != OP_DONATE) {
        problem(a, "u%d donation %s: message '%s' names no logged donation", u, id->s, msg->s);
        return;
    }
    h->seen[ci][oi].docs++;
    a->donations++;
    int f = user_index(from->s, rn->nusers);
    if (o->b != u || f != o->a || user_index(to->s, rn->nusers) != u || amount->i != o->amount)
        problem(a, "u%d donation %s (%s): from %s to %s amount %lld, expected u%d -> u%d %lld", u, id->s, msg->s,
                from->s, to->s, amount->i, o->a, o->b, o->amount);
    if (o->state == ST_ACKED && strcmp(o->did, id->s) != 0)
        problem(a, "u%d donation %s (%s): the client was told id %s", u, id->s, msg->s, o->did);
    if (f >= 0 && f != u) {
        h->pairs[f * rn->nusers + u].docs++;
        h->pairs[f * rn->nusers + u].docs_amt += amount->i;
    }
}

/* The audit: returns the number of problems; *report lists them (malloc)
 * after a line saying what was read. */
static int audit(redisContext *c, const run *rn, char **report) {
    audit_state a = {0};
    int nu = rn->nusers;
    hist_ctx h = {0};
    h.seen = calloc((size_t)rn->nclients, sizeof *h.seen);
    for (int k = 0; k < rn->nclients; k++) h.seen[k] = calloc(rn->clients[k].n + 1, sizeof **h.seen);
    h.pairs = calloc((size_t)(nu * nu), sizeof *h.pairs);
    long long total = 0;

    for (int u = 0; u < nu; u++) {
        h.n = 0;
        if (page_list(c, &a, rn, "COINS.HISTORY", u, on_row, &h) < 0) continue;
        /* oldest first: each balance_after chains from the previous one */
        long long run_bal = 0, sum = 0;
        for (size_t i = h.n; i-- > 0;) {
            row *rw = &h.rows[i];
            sum += rw->amount;
            if (rw->balance_after != run_bal + rw->amount)
                problem(&a, "u%d row %s: balance_after %lld, but the previous balance %lld + amount %lld = %lld", u,
                        rw->id, rw->balance_after, run_bal, rw->amount, run_bal + rw->amount);
            if (rw->balance_after < 0) problem(&a, "u%d row %s: negative balance_after %lld", u, rw->id, rw->balance_after);
            run_bal = rw->balance_after;
        }
        redisReply *r = skv_cmd(c, "COINS.BALANCE u%d", u);
        if (r->type != REDIS_REPLY_INTEGER) {
            problem(&a, "COINS.BALANCE u%d: reply type %d '%s'", u, r->type, r->str ? r->str : "");
        } else {
            total += r->integer;
            if (r->integer < 0) problem(&a, "u%d: negative balance %lld", u, r->integer);
            if (r->integer != sum)
                problem(&a, "u%d: balance %lld != sum of its %zu rows %lld", u, r->integer, h.n, sum);
            if (h.n && r->integer != h.rows[0].balance_after)
                problem(&a, "u%d: balance %lld != balance_after %lld of its newest row", u, r->integer,
                        h.rows[0].balance_after);
        }
        freeReplyObject(r);
        r = skv_cmd(c, "COINS.VERIFY u%d", u);
        if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0)
            problem(&a, "COINS.VERIFY u%d: %s", u, r->str ? r->str : "(not a status)");
        freeReplyObject(r);
        page_list(c, &a, rn, "DONATION.LIST", u, on_donation, &h);
    }

    /* every logged operation against what the ledger holds */
    long long added = 0, spent = 0;
    for (int k = 0; k < rn->nclients; k++) {
        for (size_t i = 0; i < rn->clients[k].n; i++) {
            const op *o = &rn->clients[k].ops[i];
            const op_seen *s = &h.seen[k][i];
            int present = o->kind == OP_DONATE ? s->docs : s->rows_a;
            int other = o->kind == OP_TRANSFER ? s->rows_b : present;
            const char *st = st_names[o->state];
            if (present > 1 || other > 1)
                problem(&a, "c%d-%zu %s (%s): applied %d/%d times", k, i, op_names[o->kind], st, present, other);
            if (present != other)
                problem(&a, "c%d-%zu transfer u%d->u%d %lld (%s): %d row(s) on the payer, %d on the payee", k, i,
                        o->a, o->b, o->amount, st, present, other);
            if (o->state == ST_ACKED && present != 1)
                problem(&a, "c%d-%zu %s u%d %lld acknowledged (%s) but present %d times", k, i, op_names[o->kind],
                        o->a, o->amount, o->reply, present);
            if ((o->state == ST_REFUSED || o->state == ST_UNSENT) && present != 0)
                problem(&a, "c%d-%zu %s u%d %lld %s (%s) but present %d times", k, i, op_names[o->kind], o->a,
                        o->amount, st, o->reply, present);
            if (o->kind == OP_ADD) added += o->amount * s->rows_a;
            if (o->kind == OP_SPEND) spent += o->amount * s->rows_a;
        }
    }
    if (total != added - spent)
        problem(&a, "total coins %lld != added %lld - spent %lld = %lld", total, added, spent, added - spent);
    for (int f = 0; f < nu; f++)
        for (int t = 0; t < nu; t++) {
            const pair_sum *p = &h.pairs[f * nu + t];
            if (p->docs != p->out || p->docs != p->in || p->docs_amt != p->out_amt || p->docs_amt != p->in_amt)
                problem(&a,
                        "donations u%d->u%d: %lld documents (%lld coins), %lld payer rows (%lld), %lld payee rows "
                        "(%lld)",
                        f, t, p->docs, p->docs_amt, p->out, p->out_amt, p->in, p->in_amt);
        }
    if (a.problems > 60) problem(&a, "... %d problems in all", a.problems - 1);
    char head[160];
    snprintf(head, sizeof head, "audited %lld ledger rows, %lld donations, %lld coins in %d accounts\n", a.rows,
             a.donations, total, nu);
    size_t hl = strlen(head);
    char *out = malloc(hl + a.len + 1);
    memcpy(out, head, hl);
    memcpy(out + hl, a.report ? a.report : "", a.len);
    out[hl + a.len] = 0;
    free(a.report);

    for (int k = 0; k < rn->nclients; k++) free(h.seen[k]);
    free(h.seen);
    free(h.pairs);
    free(h.rows);
    *report = out;
    return a.problems;
}

/* Writes the operation log for a failed run (one line per operation). */
static void dump_log(const run *rn, uint64_t seed, char *path, size_t cap) {
    snprintf(path, cap, "/tmp/stagekv-ledger-audit-%llu.log", (unsigned long long)seed);
    FILE *f = fopen(path, "w");
    if (!f) return;
    for (int k = 0; k < rn->nclients; k++)
        for (size_t i = 0; i < rn->clients[k].n; i++) {
            const op *o = &rn->clients[k].ops[i];
            fprintf(f, "c%d-%zu %s u%d u%d %lld %s sends=%d drops=%d reply=%s\n", k, i, op_names[o->kind], o->a, o->b,
                    o->amount, st_names[o->state], o->sends, o->drops, o->reply);
        }
    fclose(f);
}

/* ---- the seeded run with crashes ------------------------------------------------------- */

#define NCLIENTS 8

Test(ledger_audit, concurrent_ops_with_kill9, .fini = down, .timeout = 170) {
    const char *env = getenv("STAGEKV_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    const char *secs_env = getenv("STAGEKV_AUDIT_SECONDS");
    long long traffic_ms = (secs_env && atoi(secs_env) > 0 ? atoi(secs_env) : 20) * 1000LL;
    signal(SIGPIPE, SIG_IGN); /* a client may write to a killed server */
    fprintf(stderr, "ledger audit: seed %llu (replay with STAGEKV_SEED=%llu)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    uint64_t rng = seed;
    int nusers = (int)rng_range(&rng, 10, 20);
    long long crash_at[2] = {rng_range(&rng, traffic_ms * 25 / 100, traffic_ms * 40 / 100),
                             rng_range(&rng, traffic_ms * 55 / 100, traffic_ms * 75 / 100)};
    long long down_ms[2] = {rng_range(&rng, 0, 400), rng_range(&rng, 0, 400)};

    skv_start(&srv, NULL);
    long long t0 = mono_ms();
    static client_log clients[NCLIENTS];
    memset(clients, 0, sizeof clients);
    pthread_t th[NCLIENTS];
    atomic_store(&stop_traffic, 0);
    for (int k = 0; k < NCLIENTS; k++) {
        clients[k].id = k;
        clients[k].port = srv.port;
        clients[k].nusers = nusers;
        uint64_t mix = seed ^ ((uint64_t)(k + 1) << 56);
        clients[k].rng = rng_next(&mix); /* independent streams, not shifted copies */
        cr_assert(pthread_create(&th[k], NULL, client_main, &clients[k]) == 0);
    }
    for (int i = 0; i < 2; i++) {
        long long wait = t0 + crash_at[i] - mono_ms();
        if (wait > 0) usleep((useconds_t)(wait * 1000));
        skv_kill9(&srv);
        usleep((useconds_t)(down_ms[i] * 1000));
        skv_restart(&srv);
        fprintf(stderr, "ledger audit: kill -9 at %lld ms, back after %lld ms\n", crash_at[i], mono_ms() - t0 - crash_at[i]);
    }
    long long wait = t0 + traffic_ms - mono_ms();
    if (wait > 0) usleep((useconds_t)(wait * 1000));
    atomic_store(&stop_traffic, 1);
    for (int k = 0; k < NCLIENTS; k++) pthread_join(th[k], NULL);
    long long t_traffic = mono_ms() - t0;

    run rn = {clients, NCLIENTS, nusers};
    size_t nops = 0, count[4] = {0}, drops = 0, reconnects = 0;
    int bugs = 0, gave_up = 0;
    for (int k = 0; k < NCLIENTS; k++) {
        for (size_t i = 0; i < clients[k].n; i++) {
            count[clients[k].ops[i].state]++;
            drops += (size_t)clients[k].ops[i].drops;
        }
        nops += clients[k].n;
        reconnects += (size_t)clients[k].reconnects;
        bugs += clients[k].bugs;
        gave_up += clients[k].gave_up;
        for (int b = 0; b < clients[k].bugs && b < 4; b++) fprintf(stderr, "  client %d: %s\n", k, clients[k].bug[b]);
    }
    redisContext *c = skv_connect(&srv);
    char *report = NULL;
    long long ta = mono_ms();
    int problems = audit(c, &rn, &report);
    fprintf(stderr,
            "ledger audit: seed %llu, %d users, %zu ops (acked %zu, refused %zu, unknown %zu), %zu sends lost in "
            "crashes, %zu reconnects; traffic %lld ms, audit %lld ms, %d problems\n",
            (unsigned long long)seed, nusers, nops, count[ST_ACKED], count[ST_REFUSED], count[ST_UNKNOWN], drops,
            reconnects, t_traffic, mono_ms() - ta, problems);
    if (problems || bugs) {
        char path[128];
        dump_log(&rn, seed, path, sizeof path);
        fprintf(stderr, "ledger audit problems (seed %llu, operation log in %s):\n", (unsigned long long)seed, path);
    }
    fprintf(stderr, "ledger audit: %s", report);
    cr_expect_eq(gave_up, 0, "seed %llu: %d clients could not reconnect", (unsigned long long)seed, gave_up);
    cr_expect_eq(bugs, 0, "seed %llu: %d replies broke the contract during the run", (unsigned long long)seed, bugs);
    cr_expect_eq(problems, 0, "seed %llu: the audit found %d problems:\n%s", (unsigned long long)seed, problems, report);
    cr_expect_gt(count[ST_ACKED], (size_t)100, "seed %llu: too little traffic to audit", (unsigned long long)seed);
    cr_expect_gt(drops, (size_t)0, "seed %llu: no operation was in flight at a crash", (unsigned long long)seed);
    free(report);
    redisFree(c);
    for (int k = 0; k < NCLIENTS; k++) free(clients[k].ops);
}

/* ---- the auditor must catch a broken ledger ----------------------------------------------- */

/* Logs and runs one operation synchronously (one send); asserts it succeeded. */
static void do_op(client_log *w, op_kind kind, int a, int b, long long amount) {
    size_t i = new_op(w);
    w->ops[i].kind = kind;
    w->ops[i].a = a;
    w->ops[i].b = b;
    w->ops[i].amount = amount;
    cr_assert_eq(run_op(w, i, 1), 0);
    cr_assert_eq(w->ops[i].state, ST_ACKED, "%s: %s", op_names[kind], w->ops[i].reply);
}

static int audit_expect(redisContext *c, const run *rn, int want_problems, const char *want_text) {
    char *report = NULL;
    int n = audit(c, rn, &report);
    fprintf(stderr, "tamper audit (%d problems): %s", n, report);
    if (want_problems) {
        cr_expect_gt(n, 0, "the audit did not see the tampering");
        cr_expect(strstr(report, want_text) != NULL, "the audit report does not mention '%s':\n%s", want_text, report);
    } else {
        cr_expect_eq(n, 0, "the audit of an intact ledger found %d problems:\n%s", n, report);
    }
    free(report);
    return n;
}

Test(ledger_audit, auditor_catches_tampering, .fini = down, .timeout = 60) {
    const char *extra[] = {"--domain-write-guard", "no", NULL};
    skv_start(&srv, extra);
    static client_log w;
    memset(&w, 0, sizeof w);
    w.port = srv.port;
    w.nusers = 3;
    w.rng = 1;
    w.c = skv_connect(&srv);
    do_op(&w, OP_ADD, 0, -1, 500);
    do_op(&w, OP_ADD, 1, -1, 300);
    do_op(&w, OP_TRANSFER, 0, 1, 200);
    do_op(&w, OP_DONATE, 1, 0, 50);
    do_op(&w, OP_SPEND, 0, -1, 10);
    do_op(&w, OP_TRANSFER, 1, 2, 70);
    cr_assert_eq(w.bugs, 0, "%s", w.bug[0]);
    run rn = {&w, 1, 3};
    redisContext *c = w.c;
    audit_expect(c, &rn, 0, NULL);

    /* 1. a balance written around the engine */
    redisReply *orig = skv_cmd(c, "KV.GET coins:u0:balance");
    cr_assert_eq(orig->type, REDIS_REPLY_STRING);
    expect_status(skv_cmd(c, "KV.SET coins:u0:balance 999999"), "OK");
    audit_expect(c, &rn, 1, "u0: balance 999999");
    expect_status(skv_cmd(c, "KV.SET coins:u0:balance %b", orig->str, orig->len), "OK");
    freeReplyObject(orig);
    audit_expect(c, &rn, 0, NULL);

    /* 2. one side of a transfer removed: the payee's row of c0-5 (u1 -> u2) */
    redisReply *r = skv_cmd(c, "COINS.HISTORY u2");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "history of u2: type %d", r->type);
    jval idv;
    const jval *id = member(r->element[0]->str, "id", 's', &idv);
    cr_assert(id != NULL);
    expect_int(skv_cmd(c, "KV.DEL coins:u2:transactions:%s", id->s), 1);
    freeReplyObject(r);
    audit_expect(c, &rn, 1, "c0-5 transfer u1->u2 70 (acked): 1 row(s) on the payer, 0 on the payee");

    /* 3. an invented row */
    expect_status(skv_cmd(c, "KV.SET coins:u2:transactions:%s %s", id->s,
                          "{\"id\":\"ffffffffffffffff\",\"amount\":5,\"balance_after\":5,\"reason\":\"gift\","
                          "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"counterparty\":null}"),
                  "OK");
    audit_expect(c, &rn, 1, "names no logged operation");
    free(w.ops);
}
