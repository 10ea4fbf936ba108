/* stagekv-import --from hosted: imports an export of the platform's hosted
 * KV table (a JSON array, or JSON lines, of {"key": ..., "value": ...}) in
 * the old shapes into a stagekv server, through the domain engine
 * (IMPORT.RECORD; docs/migration.md).
 *
 *   stagekv-import --from hosted [-h host] [-p port] [-a password] [--check] [FILE]
 *
 * Records stream in constant memory: each is parsed, sent (pipelined, a
 * window of WINDOW records), and forgotten, except the phase-2 records
 * the server defers (balances, unread lists, feeds, a user's profile,
 * ticket replies), which are kept and sent after the last record, so the
 * records of one user may come in any order. Every record that is not
 * imported is reported on standard output with its key and why; the last
 * line sums up. Exit status: 0 every record imported (or imported before,
 * or derived), 1 some record refused, 2 the import could not run (usage,
 * input, connection).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 256 /* records in flight */

typedef struct opts {
    const char *host, *password, *file;
    int port, check;
} opts;

/* ---- the report ------------------------------------------------------------------ */

typedef struct counts {
    uint64_t records, imported, skipped, derived, refused, deferred;
} counts;

/* One report line: WHAT "key" (JSON-quoted, so any byte is shown): why */
static void report(const char *what, const char *key, size_t kl, const char *why) {
    json_t *k = key ? json_stringn_nocheck(key, kl) : NULL;
    char *q = k ? json_dumps(k, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
    printf("%s %s: %s\n", what, q ? q : "(no key)", why);
    free(q);
    json_decref(k);
}

/* ---- progress ------------------------------------------------------------------- */

typedef struct progress {
    int on;
    double start, last;
    uint64_t total; /* bytes of a regular file, 0 unknown */
} progress;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_show(progress *p, const counts *c, uint64_t bytes, int final) {
    if (!p->on) return;
    double t = now_s();
    if (!final && t - p->last < 0.25) return;
    p->last = t;
    double el = t - p->start, rate = el > 0 ? (double)c->records / el : 0;
    char eta[32] = "?";
    if (p->total && bytes && el > 0) {
        double left = el * (double)(p->total - (bytes < p->total ? bytes : p->total)) / (double)bytes;
        snprintf(eta, sizeof eta, "%.0fs", left);
    }
    fprintf(stderr, "\r%llu records, %.0f records/s, %.1f%%, ETA %s, refused %llu   ", (unsigned long long)c->records,
            rate, p->total ? 100.0 * (double)bytes / (double)p->total : 0.0, final ? "0s" : eta,
            (unsigned long long)c->refused);
    if (final) fputc('\n', stderr);
}

/* ---- the input: a JSON array or JSON lines, one record at a time ---------------------- */

typedef struct reader {
    FILE *f;
    int array;      /* 1 array, 0 lines, -1 not known yet */
    int done;
    uint64_t line;  /* the current line, 1-based */
    uint64_t bytes; /* read so far */
    uint64_t rec_line; /* where the last record began */
    char *buf;
    size_t len, cap;
} reader;

static int rd_getc(reader *r) {
    int c = getc(r->f);
    if (c == EOF) return EOF;
    r->bytes++;
    if (c == '\n') r->line++;
    return c;
}

static void rd_ungetc(reader *r, int c) {
    ungetc(c, r->f);
    r->bytes--;
    if (c == '\n') r->line--;
}

static int rd_put(reader *r, int c) {
    if (r->len + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        char *b = realloc(r->buf, cap);
        if (!b) return -1;
        r->buf = b;
        r->cap = cap;
    }
    r->buf[r->len++] = (char)c;
    r->buf[r->len] = 0;
    return 0;
}

static int skip_ws(reader *r) {
    int c;
    while ((c = rd_getc(r)) == ' ' || c == '\t' || c == '\n' || c == '\r') {
    }
    return c;
}

/* After an element: ',' goes on, ']' is left for the next call. 1, or -1. */
static int after_elem(reader *r, char *why, size_t cap) {
    int n = skip_ws(r);
    if (n == ',') return 1;
    if (n == ']') {
        rd_ungetc(r, n);
        return 1;
    }
    snprintf(why, cap, "line %llu: %s", (unsigned long long)r->line,
             n == EOF ? "the file ends inside the array (truncated?)" : "',' or ']' expected after a record");
    return -1;
}

/* Next record's text into r->buf: 1, 0 at the end, -1 with why (a file
 * that cannot be delimited any further: truncated or not JSON). */
static int rd_next(reader *r, char *why, size_t cap) {
    if (r->done) return 0;
    int c = skip_ws(r);
    if (r->array < 0) {
        if (c == EOF) return r->done = 1, 0;
        r->array = c == '[';
        if (r->array) c = skip_ws(r);
    }
    r->len = 0;
    if (!r->array) { /* JSON lines: one record a line; blank lines skipped */
        if (c == EOF) return r->done = 1, 0;
        r->rec_line = r->line;
        do {
            if (rd_put(r, c) < 0) return snprintf(why, cap, "out of memory"), -1;
        } while ((c = rd_getc(r)) != EOF && c != '\n');
        return 1;
    }
    /* an array: one element, delimited by brackets outside strings */
    if (c == ']') {
        if (skip_ws(r) != EOF) {
            snprintf(why, cap, "line %llu: text after the closing ']'", (unsigned long long)r->line);
            return -1;
        }
        return r->done = 1, 0;
    }
    if (c == EOF) {
        snprintf(why, cap, "line %llu: the file ends inside the array (truncated?)", (unsigned long long)r->line);
        return -1;
    }
    r->rec_line = r->line;
    if (c != '{' && c != '[' && c != '"') { /* a scalar element: up to , ] or white space */
        while (c != EOF && c != ',' && c != ']' && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            if (rd_put(r, c) < 0) return snprintf(why, cap, "out of memory"), -1;
            c = rd_getc(r);
        }
        if (c != EOF) rd_ungetc(r, c);
        return after_elem(r, why, cap);
    }
    int depth = 0, in_str = 0, esc = 0;
    for (;;) {
        if (rd_put(r, c) < 0) return snprintf(why, cap, "out of memory"), -1;
        if (in_str) {
            if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
        if (depth == 0 && !in_str) return after_elem(r, why, cap);
        if ((c = rd_getc(r)) == EOF) {
            snprintf(why, cap, "line %llu: the file ends inside a record (truncated?)", (unsigned long long)r->line);
            return -1;
        }
    }
}

/* ---- the server --------------------------------------------------------------------- */

typedef struct pending {
    char *key;
    size_t kl;
    char *value; /* kept for a record the server may defer */
    size_t vl;
} pending;

typedef struct run {
    redisContext *rc;
    opts *o;
    counts n;
    pending win[WINDOW];
    int inflight;
    pending *later; /* deferred records */
    size_t nlater, caplater;
    int phase2;
} run;

static int fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("stagekv-import: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* Reads the replies of the records in flight. 0, or 2 (connection lost). */
static int drain(run *r) {
    for (int i = 0; i < r->inflight; i++) {
        pending *p = &r->win[i];
        redisReply *rep = NULL;
        if (redisGetReply(r->rc, (void **)&rep) != REDIS_OK || !rep) {
            return fatal("connection lost: %s", r->rc->errstr[0] ? r->rc->errstr : "no reply");
        }
        const char *s = rep->str ? rep->str : "";
        if (rep->type == REDIS_REPLY_ERROR) {
            r->n.refused++;
            report("REFUSED", p->key, p->kl, s);
        } else if (rep->type == REDIS_REPLY_STATUS && strncmp(s, "DEFERRED", 8) == 0) {
            if (r->nlater == r->caplater) {
                size_t cap = r->caplater ? r->caplater * 2 : 64;
                pending *l = realloc(r->later, cap * sizeof *l);
                if (!l) return fatal("out of memory");
                r->later = l;
                r->caplater = cap;
            }
            r->later[r->nlater++] = *p;
            p->key = p->value = NULL;
            r->n.deferred++;
        } else if (rep->type == REDIS_REPLY_STATUS && strncmp(s, "DERIVED", 7) == 0) {
            r->n.derived++;
            report("DERIVED", p->key, p->kl, s + 8);
        } else if (rep->type == REDIS_REPLY_STATUS && strncmp(s, "SKIPPED", 7) == 0) {
            r->n.skipped++;
        } else if (rep->type == REDIS_REPLY_STATUS) {
            r->n.imported++; /* IMPORTED ..., or OK ... of --check */
        } else {
            r->n.refused++;
            report("REFUSED", p->key, p->kl, "unexpected reply");
        }
        freeReplyObject(rep);
        free(p->key);
        free(p->value);
        p->key = p->value = NULL;
    }
    r->inflight = 0;
    return 0;
}

/* Queues one record (key and value are taken over). 0 or 2. */
static int send_record(run *r, char *key, size_t kl, char *value, size_t vl) {
    const char *argv[4] = {r->o->check ? "IMPORT.CHECK" : "IMPORT.RECORD", key, value, "DEFER"};
    size_t lens[4] = {strlen(argv[0]), kl, vl, 5};
    int argc = r->o->check || r->phase2 ? 3 : 4;
    if (redisAppendCommandArgv(r->rc, argc, argv, lens) != REDIS_OK) return fatal("out of memory");
    pending *p = &r->win[r->inflight++];
    p->key = key;
    p->kl = kl;
    p->value = value;
    p->vl = vl;
    if (r->inflight == WINDOW) return drain(r);
    return 0;
}

/* The key of a record that is not valid JSON, when it can still be seen:
 * the first "key" member followed by a JSON string. NULL when not. */
static json_t *salvage_key(const char *text, size_t len) {
    json_t *loose = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, NULL);
    json_t *k = json_incref(json_object_get(loose, "key"));
    json_decref(loose);
    if (json_is_string(k)) return k;
    json_decref(k);
    for (const char *p = text; (p = strstr(p, "\"key\"")) && (size_t)(p - text) < len; p += 5) {
        const char *q = p + 5;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        if (*q++ != ':') continue;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        if (*q != '"') continue;
        const char *e = q + 1;
        while (*e && *e != '"') e += e[0] == '\\' && e[1] ? 2 : 1;
        if (*e != '"') return NULL;
        k = json_loadb(q, (size_t)(e - q + 1), JSON_DECODE_ANY, NULL);
        if (json_is_string(k)) return k;
        json_decref(k);
        return NULL;
    }
    return NULL;
}

/* One record's text: parsed, checked for a key, sent. 0 or 2. */
static int one_record(run *r, const char *text, size_t len, uint64_t line) {
    json_error_t err;
    char why[400];
    r->n.records++;
    json_t *rec = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!rec) {
        json_t *k = salvage_key(text, len); /* name the key when it can be seen */
        snprintf(why, sizeof why, "%s (line %llu): %s",
                 strstr(err.text, "too big") ? "an integer out of range (overflow)" : "invalid JSON",
                 (unsigned long long)(line + (uint64_t)(err.line > 0 ? err.line - 1 : 0)), err.text);
        r->n.refused++;
        report("REFUSED", json_is_string(k) ? json_string_value(k) : NULL, json_is_string(k) ? json_string_length(k) : 0,
               why);
        json_decref(k);
        return 0;
    }
    json_t *k = json_object_get(rec, "key"), *v = json_object_get(rec, "value");
    if (!json_is_object(rec) || !json_is_string(k) || !v) {
        snprintf(why, sizeof why, "record at line %llu is not {\"key\": string, \"value\": ...}",
                 (unsigned long long)line);
        r->n.refused++;
        report("REFUSED", json_is_string(k) ? json_string_value(k) : NULL, json_is_string(k) ? json_string_length(k) : 0,
               why);
        json_decref(rec);
        return 0;
    }
    char *value = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *key = malloc(json_string_length(k) + 1);
    if (!value || !key) {
        free(value);
        free(key);
        json_decref(rec);
        return fatal("out of memory");
    }
    size_t kl = json_string_length(k);
    memcpy(key, json_string_value(k), kl + 1);
    json_decref(rec);
    return send_record(r, key, kl, value, strlen(value));
}

static int usage(void) {
    fprintf(stderr, "usage: stagekv-import --from hosted [-h host] [-p port] [-a password] [--check] [FILE]\n"
                    "  FILE: an export of the hosted KV table (JSON array or JSON lines of {\"key\", \"value\"});\n"
                    "        standard input when absent or \"-\"\n"
                    "  --check: report what would be refused; write nothing\n");
    return 2;
}

int main(int argc, char **argv) {
    opts o = {.host = "127.0.0.1", .port = 6380};
    const char *from = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--from") == 0 && more) from = argv[++i];
        else if (strcmp(a, "-h") == 0 && more) o.host = argv[++i];
        else if (strcmp(a, "-p") == 0 && more) o.port = atoi(argv[++i]);
        else if (strcmp(a, "-a") == 0 && more) o.password = argv[++i];
        else if (strcmp(a, "--check") == 0) o.check = 1;
        else if (strcmp(a, "--help") == 0) return usage(), 0;
        else if ((a[0] != '-' || strcmp(a, "-") == 0) && !o.file) o.file = a;
        else return usage();
    }
    if (!from || strcmp(from, "hosted") != 0) {
        fprintf(stderr, "stagekv-import: --from hosted is required (the only source known)\n");
        return usage();
    }
    if (o.port <= 0 || o.port > 65535) return fatal("bad port");
    if (!o.password) o.password = getenv("STAGEKV_PASSWORD");

    reader rd = {.array = -1, .line = 1};
    progress pg = {.on = isatty(2)};
    if (o.file && strcmp(o.file, "-") != 0) {
        if (!(rd.f = fopen(o.file, "r"))) return fatal("%s: %s", o.file, strerror(errno));
        struct stat st;
        if (fstat(fileno(rd.f), &st) == 0 && S_ISREG(st.st_mode)) pg.total = (uint64_t)st.st_size;
    } else {
        rd.f = stdin;
    }
    struct timeval tv = {5, 0};
    redisContext *rc = redisConnectWithTimeout(o.host, o.port, tv);
    if (!rc || rc->err) return fatal("cannot connect to %s:%d: %s", o.host, o.port, rc ? rc->errstr : "out of memory");
    if (o.password) {
        redisReply *rep = redisCommand(rc, "AUTH %s", o.password);
        if (!rep || rep->type == REDIS_REPLY_ERROR)
            return fatal("AUTH failed: %s", rep && rep->str ? rep->str : rc->errstr);
        freeReplyObject(rep);
    }
    run r = {.rc = rc, .o = &o};
    pg.start = pg.last = now_s();
    int rc2 = 0;
    char why[300];
    for (;;) {
        int got = rd_next(&rd, why, sizeof why);
        if (got < 0) { /* the rest cannot be delimited: reported, and the run stops */
            r.n.refused++;
            report("REFUSED", NULL, 0, why);
            break;
        }
        if (got == 0) break;
        if ((rc2 = one_record(&r, rd.buf, rd.len, rd.rec_line)) != 0) goto out;
        progress_show(&pg, &r.n, rd.bytes, 0);
    }
    if (ferror(rd.f)) {
        rc2 = fatal("read error: %s", strerror(errno));
        goto out;
    }
    if ((rc2 = drain(&r)) != 0) goto out;
    r.phase2 = 1; /* the deferred records, now that every phase-1 record is in */
    for (size_t i = 0; i < r.nlater; i++) {
        pending *p = &r.later[i];
        if ((rc2 = send_record(&r, p->key, p->kl, p->value, p->vl)) != 0) goto out;
        p->key = p->value = NULL;
    }
    if ((rc2 = drain(&r)) != 0) goto out;
    progress_show(&pg, &r.n, rd.bytes, 1);
    printf("%s: %llu records: %llu %s, %llu imported before, %llu derived (nothing to write), %llu refused\n",
           o.check ? "check" : "import", (unsigned long long)r.n.records, (unsigned long long)r.n.imported,
           o.check ? "would be imported" : "imported", (unsigned long long)r.n.skipped,
           (unsigned long long)r.n.derived, (unsigned long long)r.n.refused);
    rc2 = r.n.refused ? 1 : 0;
out:
    for (int i = 0; i < r.inflight; i++) free(r.win[i].key), free(r.win[i].value);
    for (size_t i = 0; i < r.nlater; i++) free(r.later[i].key), free(r.later[i].value);
    free(r.later);
    free(rd.buf);
    if (rd.f != stdin) fclose(rd.f);
    redisFree(rc);
    fflush(stdout);
    return rc2;
}
