/* The configuration: defaults, redis.conf-style file, --flags, CONFIG SET. */
#ifndef STAGEKV_CONFIG_H
#define STAGEKV_CONFIG_H

#include <stddef.h>

#define SERVER_NAME "stagekv"
#define REDIS_COMPAT_VERSION "7.0.15"

/* ---- configuration ---------------------------------------------------- */

enum fsync_mode { FSYNC_NO = 0, FSYNC_EVERYSEC = 1, FSYNC_ALWAYS = 2 };

typedef struct config {
    int port;
    char *bind;
    char *dir;
    char *unixsocket;
    int unixsocketperm;
    int fsync;
    int maxclients;
    long long proto_max_bulk_len;
    char *requirepass;
    int loglevel;          /* 0 debug, 1 verbose, 2 notice, 3 warning */
    char *logfile;
    int timeout;           /* idle seconds, 0 = never */
    int tcp_keepalive;
    int domain_write_guard;
    long long max_kv_value_size;
    long long max_document_size;
    long long output_buffer_limit; /* bytes of unsent replies before disconnect */
    long long block_cache_size;  /* all three caches: see config_cache_sizes */
    long long write_buffer_size; /* RocksDB memtable size: data and element CFs */
    long long meta_write_buffer_size; /* ... the meta CF (the domain's counters and indexes) */
    long long key_cache_size;    /* storage/keycache.h; 0 = off, -1 = auto (config_cache_sizes) */
    long long value_cache_size;  /* storage/valcache.h; 0 = off, -1 = auto */
    int cache_index_and_filter_blocks; /* 0: outside block-cache-size, faster GETs */
    int memtable_insert_hints;         /* 1: faster writes, prefix deletes key by key */
    int databases;
    long long slowlog_slower_than; /* µs; negative disables */
    int slowlog_max_len;
    long long maxmemory; /* always 0: no eviction */
    int batch_commits;   /* group the writes of a loop iteration into one batch */
    int writer_thread;   /* groups may be written by the store's writer thread */
    int writer_thread_min_writes; /* ... when they hold at least this many records */
    char *aclfile;       /* ACL users (ACL SAVE/LOAD), loaded at start */
    int acllog_max_len;
    int enable_protected_configs; /* 0 no, 1 yes, 2 local: CONFIG SET of protected options */
    int enable_debug_command;     /* 0 no, 1 yes, 2 local: DEBUG */
    long long query_buffer_limit; /* bytes of one pending request before disconnect */
    int enable_debug_fault; /* DEBUG FAULT exists (tests only; startup option) */
    int notify_keyspace_events; /* NOTIFY_* flags (notify-keyspace-events) */
    /* client-output-buffer-limit pubsub <hard> <soft> <soft-seconds>: for
     * subscribers and MONITOR clients (0 = no limit) */
    long long pubsub_hard_limit, pubsub_soft_limit;
    int pubsub_soft_seconds;
} config;

enum config_option_flags { CONFIG_KNOWN = 1, CONFIG_MUTABLE = 2, CONFIG_PROTECTED = 4 };
/* CONFIG_* flags of an option by name (0 unknown). A protected option
 * (requirepass, domain-write-guard, fsync, ...) may be changed by CONFIG SET
 * only where enable-protected-configs allows it. */
int config_option_flags(const char *name);

/* notify-keyspace-events classes, Redis's values and letters. */
enum notify_flags {
    NOTIFY_KEYSPACE = 1 << 0, /* K */
    NOTIFY_KEYEVENT = 1 << 1, /* E */
    NOTIFY_GENERIC = 1 << 2,  /* g */
    NOTIFY_STRING = 1 << 3,   /* $ */
    NOTIFY_LIST = 1 << 4,     /* l */
    NOTIFY_SET = 1 << 5,      /* s */
    NOTIFY_HASH = 1 << 6,     /* h */
    NOTIFY_ZSET = 1 << 7,     /* z */
    NOTIFY_EXPIRED = 1 << 8,  /* x */
    NOTIFY_EVICTED = 1 << 9,  /* e */
    NOTIFY_STREAM = 1 << 10,  /* t */
    NOTIFY_KEY_MISS = 1 << 11, /* m */
    NOTIFY_MODULE = 1 << 13,  /* d */
    NOTIFY_NEW = 1 << 14,     /* n */
    NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET |
                 NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE, /* A */
};

void config_defaults(config *cfg);
void config_free(config *cfg);
/* Sets an option by name from text. runtime = CONFIG SET (immutable
 * options refused). 0 ok; -1 with a message in err. */
int config_set(config *c, const char *name, const char *val, int runtime, char *err, size_t cap);
/* Calls fn for every option whose name matches the glob pattern. */
void config_each(const config *c, const char *pat, size_t pl,
                 void (*fn)(void *arg, const char *name, const char *value), void *arg);

/* Loads argv (a file name first, then --name value pairs). 0 ok, -1 with a
 * message printed to stderr; 1 when --help/--version was handled. */
int config_from_args(config *cfg, int argc, char **argv);
/* Parses a size like "512mb", "1gb", "100": 0 ok, -1 bad. */
int config_parse_size(const char *s, long long *out);
/* block-cache-size split between the three caches: the key and value
 * caches as set, or when left at auto a quarter of it each (at most 64 MB),
 * and RocksDB's block cache the rest. -1 when the rest is under a quarter
 * of it (the block cache also holds every index and filter block). */
int config_cache_sizes(const config *c, long long *key, long long *value, long long *block);

#endif
