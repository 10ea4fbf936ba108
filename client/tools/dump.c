/* stagekv-dump [-h host] [-p port] [-a password] [--prefix P] [-o FILE] [--batch N]
 * stagekv-dump ... --sql DIR
 *
 * Writes a consistent dump of the server (one point in time: DUMP.BEGIN's
 * snapshot, whatever is written meanwhile) as JSON lines: a header, the
 * records the server makes (server/domain/dump.h), a trailer with their
 * number. Standard output by default. Memory stays constant: each page of
 * records is written as it arrives, with the next page already asked for
 * (two DUMP.SCAN in flight). With --sql, PostgreSQL COPY files for
 * docs/schema.sql instead (sql.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql.h"
#include "tool.h"

static const char PROG[] = "stagekv-dump";

static void usage(FILE *f) {
    fprintf(f, "usage: %s [-h host] [-p port] [-a password] [--prefix P] [-o FILE] [--batch N]\n"
               "       %s [-h host] [-p port] [-a password] --sql DIR\n",
            PROG, PROG);
}




int dump_pages(redisContext *c, const char *prefix, int batch, page_fn fn, void *arg, int64_t *total_keys) {
    redisReply *r = prefix ? tool_cmd(c, PROG, "DUMP.BEGIN PREFIX %s", prefix) : tool_cmd(c, PROG, "DUMP.BEGIN");
    if (!r) return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "%s: unexpected reply to DUMP.BEGIN\n", PROG);
        freeReplyObject(r);
        return -1;
    }
    char cursor[32];
    snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
    *total_keys = r->element[1]->integer;
    freeReplyObject(r);
    int rc = 0, inflight = 0, done = 0;
    char count[16];
    snprintf(count, sizeof count, "%d", batch);
    /* two pages in flight: the server reads the next while this one is written */
    for (; inflight < 2; inflight++) redisAppendCommand(c, "DUMP.SCAN %s %s", cursor, count);
    while (inflight > 0) {
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            fprintf(stderr, "%s: connection error: %s\n", PROG, c->errstr);
            return -1;
        }
        inflight--;
        if (r->type != REDIS_REPLY_STRING) {
            if (rc == 0) fprintf(stderr, "%s: DUMP.SCAN: %s\n", PROG, r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
            rc = -1;
        } else if (r->len == 0) {
            done = 1;
        } else if (rc == 0) {
            int64_t lines = 0;
            for (const char *p = r->str, *e = r->str + r->len; (p = memchr(p, '\n', (size_t)(e - p))); p++) lines++;
            if (fn(r->str, r->len, lines, arg) < 0) rc = -1;
        }
        freeReplyObject(r);
        if (!done && rc == 0) {
            redisAppendCommand(c, "DUMP.SCAN %s %s", cursor, count);
            inflight++;
        }
    }
    r = tool_cmd(c, PROG, "DUMP.END %s", cursor);
    if (!r) return -1;
    freeReplyObject(r);
    return rc;
}

typedef struct out_st {
    FILE *f;
    int64_t records, bytes, total;
    progress pr;
} out_st;

static int write_page(const char *p, size_t n, int64_t lines, void *arg) {
    out_st *o = arg;
    if (fwrite(p, 1, n, o->f) != n) {
        fprintf(stderr, "%s: write: %s\n", PROG, strerror(errno));
        return -1;
    }
    o->records += lines;
    o->bytes += (int64_t)n;
    progress_show(&o->pr, o->records, o->bytes, o->records, o->total, 0);
    return 0;
}

int main(int argc, char **argv) {
    tool_opts o = {0};
    const char *prefix = NULL, *file = NULL, *sqldir = NULL;
    int batch = 2000;
    for (int i = 1; i < argc; i++) {
        int r = tool_conn_arg(&o, argc, argv, &i, PROG);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || (strcmp(a, "--prefix") && strcmp(a, "-o") && strcmp(a, "--sql") && strcmp(a, "--batch"))) {
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--prefix")) prefix = v;
        else if (!strcmp(a, "-o")) file = v;
        else if (!strcmp(a, "--sql")) sqldir = v;
        else if ((batch = atoi(v)) < 1 || batch > 100000) {
            fprintf(stderr, "%s: --batch must be 1..100000\n", PROG);
            return 2;
        }
    }
    redisContext *c = tool_connect(&o, PROG);
    if (!c) return 1;
    if (sqldir) {
        int rc = sql_export(c, sqldir, prefix);
        redisFree(c);
        return rc;
    }
    out_st st = {.f = stdout};
    if (file && !(st.f = fopen(file, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", PROG, file, strerror(errno));
        redisFree(c);
        return 1;
    }
    progress_init(&st.pr, "dump");
    json_t *h = json_pack("{s:s, s:i, s:s?}", "format", DUMP_FORMAT, "version", DUMP_VERSION, "prefix", prefix);
    char *head = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    if (!head) h = NULL; /* out of memory: reported below */
    int rc = head && fprintf(st.f, "%s\n", head) > 0 ? 0 : -1;
    free(head);
    if (rc == 0) rc = dump_pages(c, prefix, batch, write_page, &st, &st.total);
    if (rc == 0 && fprintf(st.f, "{\"end\":true,\"records\":%lld}\n", (long long)st.records) < 0) rc = -1;
    if (fflush(st.f) != 0 || (file && fsync(fileno(st.f)) != 0)) {
        fprintf(stderr, "%s: write: %s\n", PROG, strerror(errno));
        rc = -1;
    }
    progress_end(&st.pr, st.records, st.bytes);
    if (file) fclose(st.f);
    redisFree(c);
    if (rc < 0) {
        if (file) remove(file); /* never leave a dump that looks complete */
        return 1;
    }
    return 0;
}
