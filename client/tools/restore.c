/* stagekv-restore [-h host] [-p port] [-a password] [--batch BYTES] [FILE]
 *
 * Restores a dump (stagekv-dump's JSON lines; standard input by default)
 * into an empty server, then rebuilds its derived data (DOMAIN.REBUILD)
 * and waits for it.
 *
 * The whole file is checked first: the header, every record (JSON, type,
 * fields, base64, its checksum) and the trailer (present, last, with the
 * number of records). A damaged or truncated file is refused with the
 * number of the line, and nothing is written. Then the records go in pages
 * of about --batch bytes (DUMP.RESTORE, each page one batch on the server),
 * several pages in flight. Standard input is spooled to a temporary file
 * during the check, so memory stays constant.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "tool.h"

static const char PROG[] = "stagekv-restore";
#define INFLIGHT 4

static int bad_line(long long line, const char *why) {
    fprintf(stderr, "%s: line %lld: %s; nothing was written\n", PROG, line, why);
    return -1;
}

/* One of name / name64 as a string (base64 checked). */
static const char *field_problem(const json_t *rec, const char *name) {
    char n64[16];
    snprintf(n64, sizeof n64, "%s64", name);
    const json_t *t = json_object_get(rec, name), *b = json_object_get(rec, n64);
    if ((t != NULL) == (b != NULL)) return "needs exactly one of k/k64 and of v/v64";
    if (t) return json_is_string(t) ? NULL : "k and v must be strings";
    if (!json_is_string(b) || !b64_valid(json_string_value(b), json_string_length(b))) return "bad base64";
    return NULL;
}

/* ---- the server's record shape, checked without a JSON parser ------------------------- */

static int lit(const char **pp, const char *end, const char *s) {
    size_t n = strlen(s);
    if ((size_t)(end - *pp) < n || memcmp(*pp, s, n) != 0) return 0;
    *pp += n;
    return 1;
}

/* A JSON string body up to its closing quote as the server writes it:
 * valid UTF-8 (no overlong forms, no surrogates), no raw control
 * character, escapes \" \\ \/ \b \f \n \r \t or \u0000-\u007f. */
static int canon_str(const char **pp, const char *end) {
    const unsigned char *p = (const unsigned char *)*pp, *e = (const unsigned char *)end;
    while (p < e && *p != '"') {
        unsigned c = *p;
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (e - p < 2) return 0;
            c = p[1];
            if (c == 'u') {
                if (e - p < 6 || p[2] != '0' || p[3] != '0' || p[4] < '0' || p[4] > '7' || !isxdigit(p[5])) return 0;
                p += 6;
            } else if (strchr("\"\\/bfnrt", (int)c) && c) {
                p += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned min, cp;
        if ((c & 0xe0) == 0xc0) len = 2, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) len = 3, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) len = 4, min = 0x10000, cp = c & 0x07;
        else return 0;
        if ((size_t)(e - p) < len) return 0;
        for (size_t j = 1; j < len; j++) {
            if ((p[j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        p += len;
    }
    if (p >= e) return 0;
    *pp = (const char *)p + 1;
    return 1;
}

static int canon_field(const char **pp, const char *end, const char *name) {
    char t[16], t64[16];
    snprintf(t, sizeof t, "\"%s\":\"", name);
    snprintf(t64, sizeof t64, "\"%s64\":\"", name);
    if (lit(pp, end, t)) return canon_str(pp, end);
    if (!lit(pp, end, t64)) return 0;
    const char *q = memchr(*pp, '"', (size_t)(end - *pp));
    if (!q || !b64_valid(*pp, (size_t)(q - *pp))) return 0;
    *pp = q + 1;
    return 1;
}

/* A JSON integer from lo to 10^17 (no sign, no leading zero). */
static int canon_int(const char **pp, const char *end, long long lo, long long hi) {
    const char *p = *pp;
    long long x = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - *pp < 17) x = x * 10 + (*p++ - '0');
    if (p == *pp || (p < end && *p >= '0' && *p <= '9') || (**pp == '0' && p - *pp > 1) || x < lo || x > hi)
        return 0;
    *pp = p;
    return 1;
}

/* 1 when the line (checksum checked) is in exactly the shape the server
 * writes, with valid fields: jansson would accept it and every check below
 * pass. 0 says nothing: the line then goes through jansson. */
static int canonical_record(const char *p, size_t n) {
    const char *end = p + n - 16; /* ,"c":"xxxxxxxx"} */
    int kv = 0;
    if (lit(&p, end, "{\"t\":\"kv\",\"db\":")) {
        if (!canon_int(&p, end, 0, 15) || !lit(&p, end, ",")) return 0;
        kv = 1;
    } else if (!lit(&p, end, "{\"t\":\"meta\",")) {
        return 0;
    }
    if (!canon_field(&p, end, "k") || !lit(&p, end, ",") || !canon_field(&p, end, "v")) return 0;
    if (kv && lit(&p, end, ",\"exp\":") && !canon_int(&p, end, 1, 100000000000000000LL)) return 0;
    return p == end;
}

/* A record line (without its newline): NULL when valid, else why. */
static const char *record_problem(const char *line, size_t n) {
    static const char tail[] = ",\"c\":\"";
    const size_t tl = sizeof tail - 1, suffix = tl + 8 + 2;
    if (n < suffix + 2 || memcmp(line + n - suffix, tail, tl) != 0 || line[n - 2] != '"' || line[n - 1] != '}')
        return "not a record (no checksum)";
    char want[9];
    snprintf(want, sizeof want, "%08x", tool_fnv(line, n - suffix));
    if (memcmp(line + n - 10, want, 8) != 0) return "checksum mismatch (the line is damaged)";
    if (canonical_record(line, n)) return NULL; /* the server's shape: no JSON parse needed */
    json_t *rec = json_loadb(line, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
    const char *why = NULL;
    const char *t = json_string_value(json_object_get(rec, "t"));
    if (!json_is_object(rec)) why = "not a JSON object";
    else if (!t || (strcmp(t, "kv") && strcmp(t, "meta"))) why = "unknown record type";
    else if ((why = field_problem(rec, "k")) || (why = field_problem(rec, "v"))) {
    } else if (!strcmp(t, "kv")) {
        const json_t *db = json_object_get(rec, "db"), *exp = json_object_get(rec, "exp");
        if (!json_is_integer(db) || json_integer_value(db) < 0 || json_integer_value(db) > 15) why = "bad db";
        else if (exp && (!json_is_integer(exp) || json_integer_value(exp) <= 0)) why = "bad exp";
    }
    json_decref(rec);
    return why;
}

/* Reads the next line into *buf; its length without the newline, -1 at
 * the end, -2 when the last line has no newline (truncated). */
static ssize_t next_line(FILE *f, char **buf, size_t *cap, FILE *spool) {
    ssize_t n = getline(buf, cap, f);
    if (n < 0) return -1;
    if (spool && fwrite(*buf, 1, (size_t)n, spool) != (size_t)n) return -3;
    if ((*buf)[n - 1] != '\n') return -2;
    (*buf)[n - 1] = 0;
    return n - 1;
}

/* The check of the whole file. */
static int check_file(FILE *f, FILE *spool, long long *records) {
    char *line = NULL;
    size_t cap = 0;
    long long no = 0, n = 0;
    int rc = -1, ended = 0;
    ssize_t len;
    while ((len = next_line(f, &line, &cap, spool)) != -1) {
        no++;
        if (len == -3) {
            fprintf(stderr, "%s: spooling standard input: %s\n", PROG, strerror(errno));
            goto out;
        }
        if (len == -2) {
            bad_line(no, "truncated (the file ends inside a line)");
            goto out;
        }
        if (ended) {
            bad_line(no, "data after the trailer");
            goto out;
        }
        if (no == 1) {
            json_t *h = json_loadb(line, (size_t)len, 0, NULL);
            const char *fmt = json_string_value(json_object_get(h, "format"));
            json_int_t v = json_integer_value(json_object_get(h, "version"));
            int ok = fmt && !strcmp(fmt, DUMP_FORMAT) && json_is_integer(json_object_get(h, "version"));
            json_decref(h);
            if (!ok) {
                bad_line(no, "not a stagekv dump (no header)");
                goto out;
            }
            if (v != DUMP_VERSION) {
                char why[80];
                snprintf(why, sizeof why, "format version %lld; this restore reads version %d", (long long)v,
                         DUMP_VERSION);
                bad_line(no, why);
                goto out;
            }
            continue;
        }
        if (len > 0 && line[0] == '{' && strncmp(line, "{\"end\":", 7) == 0) {
            json_t *t = json_loadb(line, (size_t)len, 0, NULL);
            const json_t *cnt = json_object_get(t, "records");
            int ok = json_is_true(json_object_get(t, "end")) && json_is_integer(cnt) && json_integer_value(cnt) == n;
            json_decref(t);
            if (!ok) {
                bad_line(no, "trailer does not match the records (lines lost?)");
                goto out;
            }
            ended = 1;
            continue;
        }
        const char *why = record_problem(line, (size_t)len);
        if (why) {
            bad_line(no, why);
            goto out;
        }
        n++;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read: %s\n", PROG, strerror(errno));
        goto out;
    }
    if (no == 0) {
        bad_line(1, "empty file");
        goto out;
    }
    if (!ended) {
        bad_line(no, "truncated (no trailer after the last line)");
        goto out;
    }
    *records = n;
    rc = 0;
out:
    free(line);
    return rc;
}

/* Refuses a server that holds keys (INFO keyspace lists a db). */
static int server_empty(redisContext *c) {
    redisReply *r = tool_cmd(c, PROG, "INFO keyspace");
    if (!r) return -1;
    int empty = r->type == REDIS_REPLY_STRING && !strstr(r->str, "keys=");
    freeReplyObject(r);
    if (!empty) fprintf(stderr, "%s: the server holds keys: a restore goes into an empty server\n", PROG);
    return empty ? 0 : -1;
}

typedef struct sender {
    redisContext *c;
    int inflight;
    long long sent, written;
    int failed;
} sender;

static int read_reply(sender *s) {
    redisReply *r;
    if (redisGetReply(s->c, (void **)&r) != REDIS_OK) {
        fprintf(stderr, "%s: connection error: %s\n", PROG, s->c->errstr);
        return -1;
    }
    s->inflight--;
    if (r->type == REDIS_REPLY_INTEGER) s->written += r->integer;
    else {
        if (!s->failed)
            fprintf(stderr, "%s: DUMP.RESTORE: %s\n", PROG, r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
        s->failed = 1;
    }
    freeReplyObject(r);
    return s->failed ? -1 : 0;
}

static int send_page(sender *s, const char *p, size_t n) {
    const char *argv[2] = {"DUMP.RESTORE", p};
    size_t lens[2] = {12, n};
    if (redisAppendCommandArgv(s->c, 2, argv, lens) != REDIS_OK) return -1;
    s->inflight++;
    while (s->inflight >= INFLIGHT)
        if (read_reply(s) < 0) return -1;
    return 0;
}

static int load(redisContext *c, FILE *f, size_t batch, long long records, long long size) {
    sender s = {.c = c};
    char *line = NULL, *page = malloc(batch + 1);
    size_t cap = 0, pl = 0;
    long long no = 0, bytes = 0;
    ssize_t len;
    progress pr;
    progress_init(&pr, "restore");
    int rc = page ? 0 : -1;
    while (rc == 0 && (len = next_line(f, &line, &cap, NULL)) >= 0) {
        no++;
        bytes += len + 1;
        if (no == 1 || strncmp(line, "{\"end\":", 7) == 0) continue; /* header, trailer */
        if (pl && pl + (size_t)len + 1 > batch) {
            rc = send_page(&s, page, pl);
            pl = 0;
        }
        if ((size_t)len + 1 > batch) { /* a record larger than a page goes alone */
            line[len] = '\n';
            if (rc == 0) rc = send_page(&s, line, (size_t)len + 1);
        } else {
            memcpy(page + pl, line, (size_t)len);
            page[pl + (size_t)len] = '\n';
            pl += (size_t)len + 1;
        }
        s.sent++;
        progress_show(&pr, s.sent, bytes, bytes, size, 0);
    }
    if (rc == 0 && pl) rc = send_page(&s, page, pl);
    while (s.inflight > 0)
        if (read_reply(&s) < 0) rc = -1;
    progress_end(&pr, s.sent, bytes);
    free(line);
    free(page);
    if (rc < 0 || s.failed) {
        fprintf(stderr, "%s: the restore stopped after %lld of %lld records\n", PROG, s.written, records);
        return -1;
    }
    return 0;
}

/* DOMAIN.REBUILD, then STATUS until it is no longer running. */
static int rebuild(redisContext *c) {
    /* FRESH: the server was empty, so it holds no derived entry that the
     * documents do not imply (the server checks it) */
    redisReply *r = tool_cmd(c, PROG, "DOMAIN.REBUILD FRESH STEP 256"); /* nobody else is served yet */
    if (!r) return -1;
    freeReplyObject(r);
    for (;;) {
        if (!(r = tool_cmd(c, PROG, "DOMAIN.REBUILD STATUS"))) return -1;
        const char *state = "", *err = "";
        long long fixes = 0;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
            const char *k = r->element[i]->str;
            if (!strcmp(k, "state")) state = r->element[i + 1]->str;
            else if (!strcmp(k, "error")) err = r->element[i + 1]->str;
            else if (!strcmp(k, "corrections")) fixes = r->element[i + 1]->integer;
        }
        int running = !strcmp(state, "running"), ok = !strcmp(state, "done");
        if (!running) {
            if (ok && isatty(STDERR_FILENO)) fprintf(stderr, "rebuild: %lld derived entries written\n", fixes);
            if (!ok) fprintf(stderr, "%s: DOMAIN.REBUILD ended %s: %s\n", PROG, state, err);
        }
        freeReplyObject(r);
        if (!running) return ok ? 0 : -1;
        usleep(20000);
    }
}

int main(int argc, char **argv) {
    tool_opts o = {0};
    const char *file = NULL;
    size_t batch = 1 << 20;
    for (int i = 1; i < argc; i++) {
        int r = tool_conn_arg(&o, argc, argv, &i, PROG);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--help")) {
            printf("usage: %s [-h host] [-p port] [-a password] [--batch BYTES] [FILE]\n", PROG);
            return 0;
        }
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            long long b = atoll(argv[++i]);
            if (b < 1024 || b > (256ll << 20)) {
                fprintf(stderr, "%s: --batch must be 1024..268435456 bytes\n", PROG);
                return 2;
            }
            batch = (size_t)b;
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            fprintf(stderr, "usage: %s [-h host] [-p port] [-a password] [--batch BYTES] [FILE]\n", PROG);
            return 2;
        }
    }
    FILE *f = file ? fopen(file, "r") : stdin, *spool = NULL;
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", PROG, file, strerror(errno));
        return 1;
    }
    struct stat sb;
    int seekable = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
    if (!seekable && !(spool = tmpfile())) {
        fprintf(stderr, "%s: temporary file: %s\n", PROG, strerror(errno));
        return 1;
    }
    long long records = 0;
    int rc = 1;
    redisContext *c = NULL;
    if (check_file(f, spool, &records) < 0) goto out;
    FILE *in = spool ? spool : f;
    long long size = seekable ? (long long)sb.st_size : (long long)ftell(spool);
    rewind(in);
    if (!(c = tool_connect(&o, PROG)) || server_empty(c) < 0) goto out;
    if (load(c, in, batch, records, size) < 0 || rebuild(c) < 0) goto out;
    rc = 0;
out:
    if (spool) fclose(spool);
    if (file) fclose(f);
    redisFree(c);
    return rc;
}
