/* DOMAIN.CHECK and DOMAIN.REBUILD (admin): the derived data against the
 * documents (rebuild.h for what each family covers).
 *
 * CHECK walks on the loop in one go (read only, like KEYS: it blocks for
 * its duration) and replies the findings. REBUILD runs the same walk with
 * corrections as a background job: a libuv idle handle takes one step of
 * `STEP` units per loop turn and commits it (its own batch, between
 * commands, as the expiry sweep does), so clients are served between
 * steps; DOMAIN.REBUILD STATUS reports its progress.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain_args.h"
#include "rebuild.h"
#include "server.h"
#include "cmd_domain.h"

#define CHECK_BUDGET 1024       /* units per walk step in CHECK */
#define CHECK_FINDINGS_MAX 1000 /* findings replied; the rest are counted */
#define STEP_DEFAULT 64
#define STEP_MAX 100000

struct dom_rebuild {
    uv_idle_t idle;
    server *s;
    rb_walk w;
    int budget;
    int running, failed;
    char family[40];            /* "all" or the family's name */
    uint64_t started_ms, finished_ms;
    int64_t steps;
    char err[600];
};

typedef struct findings {
    char **v;
    size_t n, cap;
    int64_t more;
    int nomem;
} findings;

static void add_finding(void *arg, const char *text) {
    findings *f = arg;
    if (f->n >= CHECK_FINDINGS_MAX || f->nomem) {
        f->more++;
        return;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        char **v = realloc(f->v, cap * sizeof *v);
        if (!v) {
            f->nomem = 1;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    if (!(f->v[f->n] = strdup(text))) f->nomem = 1;
    else f->n++;
}

/* The family argument at argv[i], or NULL when absent; replies -1 when unknown. */
static int family_arg(client *c, int i, rb_walk *w) {
    char name[40] = "";
    if (i < c->argc) {
        size_t n = c->argv[i].len < sizeof name - 1 ? c->argv[i].len : sizeof name - 1;
        memcpy(name, c->argv[i].ptr, n);
        name[n] = 0;
    }
    if (rb_walk_init(w, i < c->argc ? name : NULL) == 0) return 0;
    reply_errorf(c, "ERR unknown family '%.*s' (DOMAIN.CHECK HELP lists them)", (int)c->argv[i].len,
                 c->argv[i].ptr);
    return -1;
}

static int is_word(const resp_slice *a, const char *w) { return a->len == strlen(w) && !strncasecmp(a->ptr, w, a->len); }

static void reply_families(client *c) {
    reply_array(c, (int64_t)rb_family_count());
    for (size_t i = 0; i < rb_family_count(); i++) reply_bulkstr(c, rb_family_name(i));
}

/* DOMAIN.CHECK [family|HELP]
 * +OK when every counter, index, feed and balance agrees with the
 * documents and ledger rows, else an array of findings (key, expected,
 * found), at most 1000, then one line with the number left out. HELP: the
 * families. */
static int domain_check(client *c) {
    if (c->argc > 2) return reply_syntax_error(c), -1;
    if (c->argc == 2 && is_word(&c->argv[1], "help")) return reply_families(c), 0;
    rb_walk w;
    if (family_arg(c, 1, &w) < 0) return -1;
    findings f = {0};
    int rc = 0;
    while (!w.done && rc == 0) rc = rb_walk_step(DOM(c), &w, 0, CHECK_BUDGET, add_finding, &f);
    if (rc < 0) {
        reply_fail(c, &KS(c)->err);
    } else if (f.nomem) {
        reply_error(c, "ERR out of memory");
        rc = -1;
    } else if (w.findings == 0) {
        reply_ok(c);
    } else {
        reply_array(c, (int64_t)f.n + (f.more > 0));
        for (size_t i = 0; i < f.n; i++) reply_bulkstr(c, f.v[i]);
        if (f.more) {
            char line[80];
            snprintf(line, sizeof line, "... and %lld more findings", (long long)f.more);
            reply_bulkstr(c, line);
        }
    }
    for (size_t i = 0; i < f.n; i++) free(f.v[i]);
    free(f.v);
    return rc < 0 && !f.nomem ? 0 : rc; /* the failure is replied */
}

static void job_stop(struct dom_rebuild *j) {
    uv_idle_stop(&j->idle);
    j->running = 0;
    j->finished_ms = now_ms();
}

/* One step per loop turn, in its own batch between commands. */
static void on_idle(uv_idle_t *h) {
    struct dom_rebuild *j = h->data;
    server *s = j->s;
    if (s->shutting_down) {
        j->failed = 1;
        snprintf(j->err, sizeof j->err, "stopped by shutdown");
        job_stop(j);
        uv_close((uv_handle_t *)&j->idle, NULL);
        return;
    }
    net_quiesce(s); /* its own batch, with nothing on the writer thread */
    ks_mark m;
    ks_mark_begin(&s->ks, &m);
    int r = rb_walk_step(s->dom, &j->w, 1, j->budget, NULL, NULL);
    if (r < 0) ks_mark_rollback(&s->ks, &m);
    if (r < 0 || ks_commit(&s->ks) < 0) {
        j->failed = 1;
        snprintf(j->err, sizeof j->err, "%s", s->ks.err.msg);
        server_log(LL_WARNING, "DOMAIN.REBUILD failed: %s", j->err);
        job_stop(j);
        return;
    }
    j->steps++;
    if (j->w.done) {
        job_stop(j);
        server_log(LL_NOTICE, "DOMAIN.REBUILD %s done: %lld units, %lld entries, %lld corrections", j->family,
                   (long long)j->w.units, (long long)j->w.entries, (long long)j->w.findings);
    }
}

static int rebuild_status(client *c) {
    struct dom_rebuild *j = DOM(c)->rebuild;
    const char *state = !j ? "idle" : j->running ? "running" : j->failed ? "failed" : "done";
    reply_map(c, 8);
    reply_bulkstr(c, "state");
    reply_bulkstr(c, state);
    reply_bulkstr(c, "family");
    reply_bulkstr(c, j ? j->family : "");
    reply_bulkstr(c, "units");
    reply_int(c, j ? j->w.units : 0);
    reply_bulkstr(c, "entries");
    reply_int(c, j ? j->w.entries : 0);
    reply_bulkstr(c, "corrections");
    reply_int(c, j ? j->w.findings : 0);
    reply_bulkstr(c, "steps");
    reply_int(c, j ? j->steps : 0);
    reply_bulkstr(c, "elapsed_ms");
    reply_int(c, j ? (int64_t)((j->running ? now_ms() : j->finished_ms) - j->started_ms) : 0);
    reply_bulkstr(c, "error");
    reply_bulkstr(c, j ? j->err : "");
    return 0;
}

/* DOMAIN.REBUILD [family] [FRESH] [STEP n] | DOMAIN.REBUILD STATUS
 * Starts recomputing the derived data of one family (all without one) from
 * the documents in the background, n units per loop turn (64), and replies
 * +OK at once; STATUS: state (idle|running|done|failed), family, units,
 * entries, corrections, steps, elapsed_ms, error. FRESH (stagekv-restore,
 * after a restore into an empty server): refused unless the server holds
 * no derived entry of those families; then only the documents' passes run
 * (rb_walk_fresh). */
static int domain_rebuild(client *c) {
    if (c->argc == 2 && is_word(&c->argv[1], "status")) return rebuild_status(c);
    struct dom_engine *e = DOM(c);
    int i = 1, budget = STEP_DEFAULT, fresh = 0;
    rb_walk w;
    int named = c->argc > 1 && !is_word(&c->argv[1], "step") && !is_word(&c->argv[1], "fresh");
    if (family_arg(c, named ? 1 : c->argc, &w) < 0) return -1;
    if (named) i++;
    while (i < c->argc) {
        int64_t n;
        if (is_word(&c->argv[i], "fresh") && !fresh) {
            fresh = 1;
            i++;
            continue;
        }
        if (i + 1 >= c->argc || !is_word(&c->argv[i], "step")) return reply_syntax_error(c), -1;
        if (resp_parse_ll(c->argv[i + 1].ptr, c->argv[i + 1].len, &n) < 0 || n < 1 || n > STEP_MAX) {
            reply_errorf(c, "ERR STEP must be an integer from 1 to %d", STEP_MAX);
            return -1;
        }
        budget = (int)n;
        i += 2;
    }
    if (e->rebuild && e->rebuild->running) {
        reply_error(c, "ERR a rebuild is already in progress (DOMAIN.REBUILD STATUS)");
        return -1;
    }
    if (fresh) {
        int r = rb_walk_fresh(e, &w);
        if (r < 0) return -1;
        if (r == 0) {
            reply_error(c, "ERR FRESH needs a server without derived data (a restore into an empty server); "
                           "run DOMAIN.REBUILD without FRESH");
            return -1;
        }
    }
    struct dom_rebuild *j = e->rebuild;
    if (!j) {
        if (!(j = calloc(1, sizeof *j))) return reply_error(c, "ERR out of memory"), -1;
        if (uv_idle_init(c->srv->loop, &j->idle) != 0) {
            free(j);
            return reply_error(c, "ERR cannot start the rebuild"), -1;
        }
        j->idle.data = j;
        j->s = c->srv;
        e->rebuild = j;
    }
    j->w = w;
    j->budget = budget;
    j->failed = 0;
    j->err[0] = 0;
    j->steps = 0;
    snprintf(j->family, sizeof j->family, "%s", named ? rb_family_name((size_t)w.family) : "all");
    j->started_ms = now_ms();
    if (uv_idle_start(&j->idle, on_idle) != 0) return reply_error(c, "ERR cannot start the rebuild"), -1;
    j->running = 1;
    reply_ok(c);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "domain.check", .proc = domain_check, .arity = -1, .flags = CMD_ADMIN | CMD_READONLY | CMD_DOMAIN | CMD_DB0,
     .group = "maintenance", .args = "[family|HELP]",
     .summary = "Compares every counter, index, feed and balance with the documents and ledger rows: +OK, or the "
                "findings (key, expected, found)."},
    {.name = "domain.rebuild", .proc = domain_rebuild, .arity = -1, .flags = CMD_ADMIN | CMD_DOMAIN | CMD_DB0 | CMD_DENY_MULTI,
     .group = "maintenance", .args = "[family] [FRESH] [STEP n] | STATUS",
     .summary = "Recomputes the derived data from the documents in the background, n units per loop turn (FRESH: "
                "a server without derived data, documents' passes only); STATUS reports its progress."},
    CMD_TABLE_END,
};

const cmd_family domain_admin_family = {.name = "domain admin", .rows = rows};
