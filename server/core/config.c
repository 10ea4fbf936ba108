/* Configuration: one table of options drives the config file, the command
 * line, CONFIG GET and CONFIG SET. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

enum opt_type { T_INT, T_LL, T_SIZE, T_STR, T_BOOL, T_FSYNC, T_LOGLEVEL, T_OCTAL, T_CONST, T_ENABLE, T_NOTIFY, T_COBL };

typedef struct option {
    const char *name;
    enum opt_type type;
    size_t off;           /* into config; unused for T_CONST */
    int mutable_;         /* CONFIG SET allowed */
    long long min, max;
    const char *constval; /* T_CONST: what CONFIG GET answers */
} option;

#define F(x) offsetof(config, x)
static const option options[] = {
    {"port", T_INT, F(port), 0, 0, 65535, NULL},
    {"bind", T_STR, F(bind), 0, 0, 0, NULL},
    {"dir", T_STR, F(dir), 0, 0, 0, NULL},
    {"unixsocket", T_STR, F(unixsocket), 0, 0, 0, NULL},
    {"unixsocketperm", T_OCTAL, F(unixsocketperm), 0, 0, 0777, NULL},
    {"fsync", T_FSYNC, F(fsync), 1, 0, 0, NULL},
    {"appendfsync", T_FSYNC, F(fsync), 1, 0, 0, NULL},
    {"maxclients", T_INT, F(maxclients), 1, 1, 1000000, NULL},
    {"proto-max-bulk-len", T_SIZE, F(proto_max_bulk_len), 1, 1024 * 1024, 1LL << 40, NULL},
    {"requirepass", T_STR, F(requirepass), 1, 0, 0, NULL},
    {"loglevel", T_LOGLEVEL, F(loglevel), 1, 0, 0, NULL},
    {"logfile", T_STR, F(logfile), 0, 0, 0, NULL},
    {"timeout", T_INT, F(timeout), 1, 0, 100000000, NULL},
    {"tcp-keepalive", T_INT, F(tcp_keepalive), 1, 0, 100000000, NULL},
    {"domain-write-guard", T_BOOL, F(domain_write_guard), 1, 0, 0, NULL},
    {"max-kv-value-size", T_SIZE, F(max_kv_value_size), 1, 1, 1LL << 40, NULL},
    {"max-document-size", T_SIZE, F(max_document_size), 1, 1, 1LL << 30, NULL},
    {"client-query-buffer-limit", T_SIZE, F(query_buffer_limit), 1, 1024 * 1024, 1LL << 40, NULL},
    {"enable-debug-fault", T_BOOL, F(enable_debug_fault), 0, 0, 0, NULL},
    {"client-output-buffer-limit-bytes", T_SIZE, F(output_buffer_limit), 1, 1024 * 1024, 1LL << 40, NULL},
    {"block-cache-size", T_SIZE, F(block_cache_size), 0, 1024 * 1024, 1LL << 40, NULL},
    {"write-buffer-size", T_SIZE, F(write_buffer_size), 0, 1024 * 1024, 1LL << 40, NULL},
    {"meta-write-buffer-size", T_SIZE, F(meta_write_buffer_size), 0, 1024 * 1024, 1LL << 40, NULL},
    {"key-cache-size", T_SIZE, F(key_cache_size), 0, 0, 1LL << 40, NULL},
    {"value-cache-size", T_SIZE, F(value_cache_size), 0, 0, 1LL << 40, NULL},
    {"cache-index-and-filter-blocks", T_BOOL, F(cache_index_and_filter_blocks), 0, 0, 0, NULL},
    {"memtable-insert-hints", T_BOOL, F(memtable_insert_hints), 0, 0, 0, NULL},
    {"databases", T_INT, F(databases), 0, 16, 16, NULL},
    {"batch-commits", T_BOOL, F(batch_commits), 1, 0, 0, NULL},
    {"writer-thread", T_BOOL, F(writer_thread), 0, 0, 0, NULL},
    {"writer-thread-min-writes", T_INT, F(writer_thread_min_writes), 1, 1, 1000000000, NULL},
    {"slowlog-log-slower-than", T_LL, F(slowlog_slower_than), 1, -1, 1LL << 40, NULL},
    {"slowlog-max-len", T_INT, F(slowlog_max_len), 1, 0, 1000000, NULL},
    /* Answered for clients and tools that ask (redis-benchmark asks for
     * save and appendonly); stagekv persists through the RocksDB WAL. */
    {"save", T_CONST, 0, 1, 0, 0, ""},
    /* stagekv never evicts: only 0 (no limit) is accepted */
    {"maxmemory", T_SIZE, F(maxmemory), 1, 0, 0, NULL},
    {"appendonly", T_CONST, 0, 0, 0, 0, "yes"},
    /* Redis's in-memory encoding thresholds: collections here are records
     * in RocksDB (docs/keys.md), so these mean nothing; accepted (CONFIG SET
     * is a no-op) and answered with Redis's defaults, so that tools and test
     * suites that tune them run. */
    {"hash-max-listpack-entries", T_CONST, 0, 1, 0, 0, "128"},
    {"hash-max-ziplist-entries", T_CONST, 0, 1, 0, 0, "128"},
    {"hash-max-listpack-value", T_CONST, 0, 1, 0, 0, "64"},
    {"hash-max-ziplist-value", T_CONST, 0, 1, 0, 0, "64"},
    {"set-max-intset-entries", T_CONST, 0, 1, 0, 0, "512"},
    {"zset-max-listpack-entries", T_CONST, 0, 1, 0, 0, "128"},
    {"zset-max-ziplist-entries", T_CONST, 0, 1, 0, 0, "128"},
    {"zset-max-listpack-value", T_CONST, 0, 1, 0, 0, "64"},
    {"zset-max-ziplist-value", T_CONST, 0, 1, 0, 0, "64"},
    {"list-max-listpack-size", T_CONST, 0, 1, 0, 0, "-2"},
    {"list-max-ziplist-size", T_CONST, 0, 1, 0, 0, "-2"},
    {"list-compress-depth", T_CONST, 0, 1, 0, 0, "0"},
    {"aclfile", T_STR, F(aclfile), 0, 0, 0, NULL},
    {"acllog-max-len", T_INT, F(acllog_max_len), 1, 0, 1000000, NULL},
    {"enable-protected-configs", T_ENABLE, F(enable_protected_configs), 0, 0, 0, NULL},
    {"enable-debug-command", T_ENABLE, F(enable_debug_command), 0, 0, 0, NULL},
    {"notify-keyspace-events", T_NOTIFY, F(notify_keyspace_events), 1, 0, 0, NULL},
    /* Redis's classes: normal (its limit is client-output-buffer-limit-bytes,
     * so only "0 0 0" is taken), replica (no replicas here: accepted,
     * ignored) and pubsub (subscribers and MONITOR clients) */
    {"client-output-buffer-limit", T_COBL, 0, 1, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#undef F

/* Options whose change at runtime could undo the server's protections or
 * its durability (Redis's PROTECTED_CONFIG): CONFIG SET needs
 * enable-protected-configs. The immutable ones are listed too, in case one
 * becomes mutable. */
static const char *const protected_options[] = {
    "requirepass", "domain-write-guard", "fsync", "appendfsync", "batch-commits", "dir", "aclfile",
    "unixsocket", "unixsocketperm", "bind", "port", "logfile", NULL,
};

void config_defaults(config *c) {
    memset(c, 0, sizeof *c);
    c->port = 6380;
    c->bind = strdup("127.0.0.1");
    c->dir = strdup("./data");
    c->unixsocketperm = 0700;
    c->fsync = FSYNC_EVERYSEC;
    c->maxclients = 10000;
    c->proto_max_bulk_len = 512LL * 1024 * 1024;
    c->loglevel = LL_NOTICE;
    c->tcp_keepalive = 300;
    c->domain_write_guard = 1;
    c->max_kv_value_size = 16LL * 1024 * 1024;
    c->max_document_size = 1024 * 1024;
    c->output_buffer_limit = 512LL * 1024 * 1024;
    c->query_buffer_limit = 1024LL * 1024 * 1024;
    c->block_cache_size = 256LL * 1024 * 1024;
    c->write_buffer_size = 16LL * 1024 * 1024;
    c->meta_write_buffer_size = 4LL * 1024 * 1024;
    c->key_cache_size = -1; /* auto: config_cache_sizes */
    c->value_cache_size = -1;
    c->cache_index_and_filter_blocks = 1;
    c->databases = 16;
    c->slowlog_slower_than = 10000;
    c->slowlog_max_len = 128;
    c->batch_commits = 1;
    c->writer_thread = 1;
    c->writer_thread_min_writes = 128;
    c->acllog_max_len = 128;
    c->pubsub_hard_limit = 32LL * 1024 * 1024; /* Redis's default: pubsub 32mb 8mb 60 */
    c->pubsub_soft_limit = 8LL * 1024 * 1024;
    c->pubsub_soft_seconds = 60;
}

void config_free(config *c) {
    for (const option *o = options; o->name; o++)
        if (o->type == T_STR) {
            char **p = (char **)((char *)c + o->off);
            free(*p);
            *p = NULL;
        }
}

int config_parse_size(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0) return -1;
    long long mul = 1;
    if (!strcasecmp(end, "") || !strcasecmp(end, "b")) mul = 1;
    else if (!strcasecmp(end, "k")) mul = 1000;
    else if (!strcasecmp(end, "kb")) mul = 1024;
    else if (!strcasecmp(end, "m")) mul = 1000 * 1000;
    else if (!strcasecmp(end, "mb")) mul = 1024 * 1024;
    else if (!strcasecmp(end, "g")) mul = 1000LL * 1000 * 1000;
    else if (!strcasecmp(end, "gb")) mul = 1024LL * 1024 * 1024;
    else return -1;
    if (v > (long long)(9e18 / (double)mul)) return -1;
    *out = v * mul;
    return 0;
}

/* One setting bounds the caches' memory: an operator who sized the block
 * cache keeps that RSS when the key and value caches are on (they came
 * after block-cache-size and would otherwise add 192 MB on top of it).
 * Left at auto, they scale with it, so a config that sets only
 * block-cache-size, however small, still starts: the key cache a quarter
 * (at most 64 MB), the value cache half (at most 128 MB), the block cache
 * the rest. Byte for byte the value cache serves more reads than the block
 * cache: an entry is one key's value, a block ~30 keys' of which few are
 * hot (docs/performance.md, thirteenth round). */
static long long cache_size(long long set, long long budget, int shift, long long most) {
    if (set >= 0) return set;
    return budget >> shift < most ? budget >> shift : most;
}

int config_cache_sizes(const config *c, long long *key, long long *value, long long *block) {
    long long room = c->block_cache_size - c->block_cache_size / 4; /* for the key and value caches */
    *key = cache_size(c->key_cache_size, c->block_cache_size, 2, 64LL << 20);
    *value = cache_size(c->value_cache_size, c->block_cache_size, 1, 128LL << 20);
    /* an auto size takes what a set one leaves, so that only set sizes refuse */
    if (c->value_cache_size < 0 && *key + *value > room) *value = room - *key > 0 ? room - *key : 0;
    if (c->key_cache_size < 0 && *key + *value > room) *key = room - *value > 0 ? room - *value : 0;
    *block = c->block_cache_size - *key - *value;
    return *block >= c->block_cache_size / 4 ? 0 : -1;
}

/* notify-keyspace-events: Redis's letters; -1 for an unknown one. */
static int notify_parse(const char *s) {
    static const char letters[] = "g$lshzxetKEmdnA";
    static const int flags[] = {NOTIFY_GENERIC, NOTIFY_STRING, NOTIFY_LIST, NOTIFY_SET, NOTIFY_HASH,
                                NOTIFY_ZSET, NOTIFY_EXPIRED, NOTIFY_EVICTED, NOTIFY_STREAM, NOTIFY_KEYSPACE,
                                NOTIFY_KEYEVENT, NOTIFY_KEY_MISS, NOTIFY_MODULE, NOTIFY_NEW, NOTIFY_ALL};
    int f = 0;
    for (; *s; s++) {
        const char *at = strchr(letters, *s);
        if (!at) return -1;
        f |= flags[at - letters];
    }
    return f;
}

/* As Redis prints them: "A" for every class, then K, E, m, n. */
static void notify_format(int f, char *buf, size_t cap) {
    static const char letters[] = "g$lshzxetd";
    static const int flags[] = {NOTIFY_GENERIC, NOTIFY_STRING, NOTIFY_LIST, NOTIFY_SET, NOTIFY_HASH,
                                NOTIFY_ZSET, NOTIFY_EXPIRED, NOTIFY_EVICTED, NOTIFY_STREAM, NOTIFY_MODULE};
    size_t n = 0;
    char out[32];
    if ((f & NOTIFY_ALL) == NOTIFY_ALL) out[n++] = 'A';
    else
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if (f & flags[i]) out[n++] = letters[i];
    if (f & NOTIFY_KEYSPACE) out[n++] = 'K';
    if (f & NOTIFY_KEYEVENT) out[n++] = 'E';
    if (f & NOTIFY_KEY_MISS) out[n++] = 'm';
    if (f & NOTIFY_NEW) out[n++] = 'n';
    out[n] = 0;
    snprintf(buf, cap, "%s", out);
}

/* client-output-buffer-limit "<class> <hard> <soft> <seconds> ...": all
 * triples are checked before any is applied. */
static int cobl_parse(config *c, const char *val, char *err, size_t cap) {
    char words[12][64];
    int n = 0;
    for (const char *p = val; *p;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t l = 0;
        while (p[l] && !isspace((unsigned char)p[l])) l++;
        if (n == 12 || l >= sizeof words[0]) goto bad;
        memcpy(words[n], p, l);
        words[n++][l] = 0;
        p += l;
    }
    if (n == 0 || n % 4) goto bad;
    long long hard[3], soft[3], secs[3];
    for (int i = 0; i < n; i += 4) {
        long long secv;
        char *end;
        if (strcasecmp(words[i], "normal") && strcasecmp(words[i], "replica") && strcasecmp(words[i], "slave") &&
            strcasecmp(words[i], "pubsub"))
            goto bad;
        errno = 0;
        secv = strtoll(words[i + 3], &end, 10);
        if (config_parse_size(words[i + 1], &hard[i / 4]) < 0 || config_parse_size(words[i + 2], &soft[i / 4]) < 0 ||
            *end || end == words[i + 3] || errno || secv < 0 || secv > 100000000)
            goto bad;
        secs[i / 4] = secv;
        if (!strcasecmp(words[i], "normal") && (hard[i / 4] || soft[i / 4] || secv)) {
            snprintf(err, cap, "the normal class is set by client-output-buffer-limit-bytes (only '0 0 0' here)");
            return -1;
        }
    }
    for (int i = 0; i < n; i += 4)
        if (!strcasecmp(words[i], "pubsub")) {
            c->pubsub_hard_limit = hard[i / 4];
            c->pubsub_soft_limit = soft[i / 4];
            c->pubsub_soft_seconds = (int)secs[i / 4];
        }
    return 0;
bad:
    snprintf(err, cap, "Invalid argument '%s' for CONFIG SET 'client-output-buffer-limit'", val);
    return -1;
}

static const option *find_option(const char *name) {
    for (const option *o = options; o->name; o++)
        if (!strcasecmp(o->name, name)) return o;
    return NULL;
}

int config_option_flags(const char *name) {
    const option *o = find_option(name);
    if (!o) return 0;
    int f = CONFIG_KNOWN | (o->mutable_ ? CONFIG_MUTABLE : 0);
    for (const char *const *p = protected_options; *p; p++)
        if (!strcmp(*p, o->name)) f |= CONFIG_PROTECTED;
    return f;
}

int config_set(config *c, const char *name, const char *val, int runtime, char *err, size_t cap) {
    const option *o = find_option(name);
    if (!o) {
        snprintf(err, cap, "unknown option '%s'", name);
        return -1;
    }
    if (runtime && !o->mutable_) {
        snprintf(err, cap, "option '%s' can't be set at runtime", o->name);
        return -1;
    }
    void *p = (char *)c + o->off;
    long long v;
    char *end;
    switch (o->type) {
    case T_CONST:
        return 0; /* accepted and ignored: compatibility only */
    case T_NOTIFY: {
        int f = notify_parse(val);
        if (f < 0) goto bad;
        *(int *)p = f;
        return 0;
    }
    case T_COBL:
        return cobl_parse(c, val, err, cap);
    case T_STR: {
        if (!val[0] && (!strcmp(o->name, "bind") || !strcmp(o->name, "dir"))) {
            snprintf(err, cap, "'%s' must not be empty", o->name); /* the old value stays */
            return -1;
        }
        char *dup = val[0] ? strdup(val) : NULL;
        if (val[0] && !dup) { snprintf(err, cap, "out of memory"); return -1; }
        free(*(char **)p);
        *(char **)p = dup;
        return 0;
    }
    case T_INT:
    case T_OCTAL:
        errno = 0;
        v = strtoll(val, &end, o->type == T_OCTAL ? 8 : 10);
        if (end == val || *end || errno || v < o->min || v > o->max) goto bad;
        *(int *)p = (int)v;
        return 0;
    case T_LL:
        errno = 0;
        v = strtoll(val, &end, 10);
        if (end == val || *end || errno || v < o->min || v > o->max) goto bad;
        *(long long *)p = v;
        return 0;
    case T_SIZE:
        if (config_parse_size(val, &v) < 0 || v < o->min || v > o->max) goto bad;
        *(long long *)p = v;
        return 0;
    case T_BOOL:
        if (!strcasecmp(val, "yes")) *(int *)p = 1;
        else if (!strcasecmp(val, "no")) *(int *)p = 0;
        else goto bad;
        return 0;
    case T_ENABLE:
        if (!strcasecmp(val, "no")) *(int *)p = 0;
        else if (!strcasecmp(val, "yes")) *(int *)p = 1;
        else if (!strcasecmp(val, "local")) *(int *)p = 2;
        else goto bad;
        return 0;
    case T_FSYNC:
        if (!strcasecmp(val, "always")) *(int *)p = FSYNC_ALWAYS;
        else if (!strcasecmp(val, "everysec")) *(int *)p = FSYNC_EVERYSEC;
        else if (!strcasecmp(val, "no")) *(int *)p = FSYNC_NO;
        else goto bad;
        return 0;
    case T_LOGLEVEL: {
        static const char *lv[] = {"debug", "verbose", "notice", "warning"};
        for (int i = 0; i < 4; i++)
            if (!strcasecmp(val, lv[i])) { *(int *)p = i; server_log_level(i); return 0; }
        goto bad;
    }
    }
bad:
    snprintf(err, cap, "argument '%s' is invalid for option '%s'", val, o->name);
    return -1;
}

static void format_value(const config *c, const option *o, char *buf, size_t cap) {
    const void *p = (const char *)c + o->off;
    switch (o->type) {
    case T_CONST: snprintf(buf, cap, "%s", o->constval); break;
    case T_NOTIFY: notify_format(*(const int *)p, buf, cap); break;
    case T_COBL:
        snprintf(buf, cap, "normal 0 0 0 slave 268435456 67108864 60 pubsub %lld %lld %d", c->pubsub_hard_limit,
                 c->pubsub_soft_limit, c->pubsub_soft_seconds);
        break;
    case T_STR: snprintf(buf, cap, "%s", *(char *const *)p ? *(char *const *)p : ""); break;
    case T_INT: snprintf(buf, cap, "%d", *(const int *)p); break;
    case T_OCTAL: snprintf(buf, cap, "%o", *(const int *)p); break;
    case T_SIZE:
    case T_LL: {
        long long v = *(const long long *)p, k, vc, b;
        if (p == (const void *)&c->key_cache_size || p == (const void *)&c->value_cache_size) {
            config_cache_sizes(c, &k, &vc, &b); /* auto (-1) shows the size in use */
            v = p == (const void *)&c->key_cache_size ? k : vc;
        }
        snprintf(buf, cap, "%lld", v);
        break;
    }
    case T_BOOL: snprintf(buf, cap, "%s", *(const int *)p ? "yes" : "no"); break;
    case T_ENABLE: {
        int v = *(const int *)p;
        snprintf(buf, cap, "%s", v == 2 ? "local" : v == 1 ? "yes" : "no");
        break;
    }
    case T_FSYNC: {
        int v = *(const int *)p;
        snprintf(buf, cap, "%s", v == FSYNC_ALWAYS ? "always" : v == FSYNC_NO ? "no" : "everysec");
        break;
    }
    case T_LOGLEVEL: {
        static const char *lv[] = {"debug", "verbose", "notice", "warning"};
        snprintf(buf, cap, "%s", lv[*(const int *)p & 3]);
        break;
    }
    }
}

void config_each(const config *c, const char *pat, size_t pl,
                 void (*fn)(void *arg, const char *name, const char *value), void *arg) {
    char buf[1024];
    for (const option *o = options; o->name; o++) {
        if (!glob_match(pat, pl, o->name, strlen(o->name), 1)) continue;
        format_value(c, o, buf, sizeof buf);
        fn(arg, o->name, buf);
    }
}

/* ---- file and command line ----------------------------------------------- */

/* Splits a config line into at most two words: name and the rest (quotes
 * around the value are removed). */
static int load_file(config *c, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open config file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096], err[256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        char *name = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        if (*p) *p++ = 0;
        while (isspace((unsigned char)*p)) p++;
        char *val = p, *e = p + strlen(p);
        while (e > val && isspace((unsigned char)e[-1])) *--e = 0;
        if (e - val >= 2 && (val[0] == '"' || val[0] == '\'') && e[-1] == val[0]) {
            val++;
            e[-1] = 0;
        }
        if (config_set(c, name, val, 0, err, sizeof err) < 0) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno, err);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static void usage(void) {
    printf("Usage: stagekv-server [CONFIG_FILE] [--port 6380] [--bind 127.0.0.1] [--dir ./data]\n"
           "                      [--OPTION VALUE ...]\n"
           "       stagekv-server --help | --version\n\n"
           "Options (config file directives and --flags alike):\n");
    config d;
    config_defaults(&d);
    char buf[256];
    for (const option *o = options; o->name; o++) {
        format_value(&d, o, buf, sizeof buf);
        printf("  %-34s default: %s%s\n", o->name, buf[0] ? buf : "(unset)",
               o->type == T_CONST ? " (compatibility; ignored)" : "");
    }
    config_free(&d);
}

int config_from_args(config *c, int argc, char **argv) {
    int i = 1;
    char err[256];
    for (int j = 1; j < argc; j++) {
        if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) { usage(); return 1; }
        if (!strcmp(argv[j], "--version") || !strcmp(argv[j], "-v")) {
            printf("stagekv-server %s (Redis protocol %s)\n", STAGEKV_VERSION, REDIS_COMPAT_VERSION);
            return 1;
        }
    }
    if (i < argc && strncmp(argv[i], "--", 2) != 0) {
        if (load_file(c, argv[i]) < 0) return -1;
        i++;
    }
    for (; i < argc; i += 2) { /* --option value */
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "bad argument '%s' (expected --option value; see --help)\n", argv[i]);
            return -1;
        }
        if (config_set(c, argv[i] + 2, argv[i + 1], 0, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    return 0;
}

/* ---- logging ------------------------------------------------------------- */

/* Logging is process-wide state by nature (like stderr itself). */
