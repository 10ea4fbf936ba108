/* Unit tests for server/core/config.c: sizes, the option table through
 * config_set (types, bounds, runtime refusals), config_each, and
 * config_from_args with a temporary config file and --flags. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "../unit_leak.h"

TestSuite(config_parse_size, .fini = unit_leak_check);

/* ---- config_parse_size -------------------------------------------------- */

static long long size_of(const char *s) {
    long long v = -12345;
    cr_assert_eq(config_parse_size(s, &v), 0, "'%s' refused", s);
    return v;
}

Test(config_parse_size, units) {
    cr_expect_eq(size_of("100"), 100);
    cr_expect_eq(size_of("0"), 0);
    cr_expect_eq(size_of("5b"), 5);
    cr_expect_eq(size_of("1k"), 1000);
    cr_expect_eq(size_of("1kb"), 1024);
    cr_expect_eq(size_of("1m"), 1000000);
    cr_expect_eq(size_of("512mb"), 512LL * 1024 * 1024);
    cr_expect_eq(size_of("1g"), 1000000000LL);
    cr_expect_eq(size_of("1gb"), 1024LL * 1024 * 1024);
    cr_expect_eq(size_of("2GB"), 2LL * 1024 * 1024 * 1024, "units are case-insensitive");
    cr_expect_eq(size_of("16Mb"), 16LL * 1024 * 1024);
    cr_expect_eq(size_of("8000000000gb"), 8000000000LL * 1024 * 1024 * 1024);
}

Test(config_parse_size, bad_inputs) {
    static const char *bad[] = {"", "abc", "mb", "-1", "-1mb", "1x", "1.5mb", "1 mb", "1mbb", "1tb", "10kib",
                                "99999999999999999999", "9000000000gb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        long long v = -12345;
        cr_expect_eq(config_parse_size(bad[i], &v), -1, "'%s' accepted as %lld", bad[i], v);
        cr_expect_eq(v, -12345, "'%s': out written on failure", bad[i]);
    }
}

/* ---- config_set ------------------------------------------------------------ */

static config cfg;
static char err[256];

static void setup(void) {
    config_defaults(&cfg);
    err[0] = 0;
}
static void teardown(void) {
    config_free(&cfg);
    server_log_level(LL_NOTICE);
    unit_leak_check();
}
TestSuite(config_set, .init = setup, .fini = teardown);
TestSuite(config_each, .init = setup, .fini = teardown);
TestSuite(config_from_args, .init = setup, .fini = teardown);

static int set(const char *name, const char *val, int runtime) {
    err[0] = 0;
    return config_set(&cfg, name, val, runtime, err, sizeof err);
}

Test(config_set, defaults) {
    cr_expect_eq(cfg.port, 6380);
    cr_expect_str_eq(cfg.bind, "127.0.0.1");
    cr_expect_str_eq(cfg.dir, "./data");
    cr_expect_eq(cfg.fsync, FSYNC_EVERYSEC);
    cr_expect_eq(cfg.maxclients, 10000);
    cr_expect_eq(cfg.databases, 16);
    cr_expect_eq(cfg.domain_write_guard, 1);
    cr_expect_eq(cfg.max_kv_value_size, 16LL * 1024 * 1024);
    cr_expect_eq(cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
    cr_expect_eq(cfg.maxmemory, 0);
    cr_expect_null(cfg.requirepass);
    cr_expect_null(cfg.logfile);
}

/* block-cache-size bounds all three caches: RocksDB's block cache gets what
 * the key and value caches leave, and at least a quarter of it; left at
 * auto, those two take a quarter each, at most 64 MB. */
static void grab(void *arg, const char *name, const char *value) {
    (void)name;
    snprintf(arg, 64, "%s", value);
}

static long long share(long long *k, long long *v) {
    long long b = -2;
    if (config_cache_sizes(&cfg, k, v, &b) < 0) return -1;
    return b;
}

Test(config_set, cache_sizes_split_block_cache_size) {
    const long long mb = 1024 * 1024;
    long long k, v;
    cr_expect_eq(share(&k, &v), 64 * mb, "defaults: 256 MB less 64 + 128");
    cr_expect_eq(k, 64 * mb);
    cr_expect_eq(v, 128 * mb);
    char buf[64] = "";
    config_each(&cfg, "key-cache-size", 14, grab, buf);
    cr_expect_str_eq(buf, "67108864", "CONFIG GET shows the size in use, not auto");
    cr_expect_eq(set("block-cache-size", "1gb", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), 832 * mb, "auto is at most 64 and 128 MB");
    cr_expect_eq(set("block-cache-size", "64mb", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), 16 * mb, "auto is a quarter and a half of a small budget: it still starts");
    cr_expect_eq(k, 16 * mb);
    cr_expect_eq(v, 32 * mb);
    cr_expect_eq(set("value-cache-size", "40mb", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), 16 * mb, "40 + 8 (auto, what the set size leaves) leave exactly a quarter");
    cr_expect_eq(k, 8 * mb);
    cr_expect_eq(set("value-cache-size", "0", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), 48 * mb, "a cache turned off gives its share back");
    cr_expect_eq(set("key-cache-size", "32mb", 0), 0, "%s", err);
    cr_expect_eq(set("value-cache-size", "-1", 0), -1, "auto is the default, not a value to set");
    cr_expect_eq(set("value-cache-size", "17mb", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), -1, "a set size that leaves under a quarter");
    cr_expect_eq(set("value-cache-size", "0", 0), 0, "%s", err);
    cr_expect_eq(set("key-cache-size", "1gb", 0), 0, "%s", err);
    cr_expect_eq(share(&k, &v), -1, "more than the whole budget");
}

Test(config_set, types_and_names) {
    cr_expect_eq(set("port", "7000", 0), 0, "%s", err);
    cr_expect_eq(cfg.port, 7000);
    cr_expect_eq(set("MAXCLIENTS", "50", 1), 0, "names are case-insensitive: %s", err);
    cr_expect_eq(cfg.maxclients, 50);
    cr_expect_eq(set("max-kv-value-size", "1mb", 1), 0, "%s", err);
    cr_expect_eq(cfg.max_kv_value_size, 1024 * 1024);
    cr_expect_eq(set("domain-write-guard", "no", 1), 0);
    cr_expect_eq(cfg.domain_write_guard, 0);
    cr_expect_eq(set("domain-write-guard", "YES", 1), 0);
    cr_expect_eq(cfg.domain_write_guard, 1);
    cr_expect_eq(set("fsync", "always", 1), 0);
    cr_expect_eq(cfg.fsync, FSYNC_ALWAYS);
    cr_expect_eq(set("appendfsync", "no", 1), 0, "appendfsync is an alias of fsync");
    cr_expect_eq(cfg.fsync, FSYNC_NO);
    cr_expect_eq(set("unixsocketperm", "755", 0), 0);
    cr_expect_eq(cfg.unixsocketperm, 0755);
    cr_expect_eq(set("slowlog-log-slower-than", "-1", 1), 0);
    cr_expect_eq(cfg.slowlog_slower_than, -1);
    cr_expect_eq(set("loglevel", "warning", 1), 0);
    cr_expect_eq(cfg.loglevel, LL_WARNING);
    cr_expect_eq(set("requirepass", "s3cret", 1), 0);
    cr_expect_str_eq(cfg.requirepass, "s3cret");
    cr_expect_eq(set("requirepass", "", 1), 0, "an empty password clears it");
    cr_expect_null(cfg.requirepass);
    /* compatibility-only options are accepted from a file or flag and
     * change nothing (CONFIG GET keeps answering their constant) */
    cr_expect_eq(set("save", "900 1", 0), 0);
    cr_expect_eq(set("appendonly", "no", 0), 0);
    cr_expect_eq(set("maxmemory", "0", 1), 0);
}

Test(config_set, bad_values_and_bounds) {
    struct { const char *name, *val; } bad[] = {
        {"port", "65536"}, {"port", "-1"}, {"port", "80x"}, {"port", ""},
        {"maxclients", "0"}, {"maxclients", "1000001"},
        {"databases", "32"}, {"domain-write-guard", "maybe"}, {"domain-write-guard", "1"},
        {"fsync", "sometimes"}, {"loglevel", "loud"}, {"unixsocketperm", "8"}, {"unixsocketperm", "1000"},
        {"proto-max-bulk-len", "1k"}, {"max-kv-value-size", "0"}, {"max-kv-value-size", "lots"},
        {"maxmemory", "1gb"}, {"slowlog-log-slower-than", "-2"}, {"timeout", "1.5"},
    };
    config before = cfg;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_eq(set(bad[i].name, bad[i].val, 0), -1, "%s '%s' accepted", bad[i].name, bad[i].val);
        char want[200];
        snprintf(want, sizeof want, "argument '%s' is invalid for option '%s'", bad[i].val, bad[i].name);
        cr_expect_str_eq(err, want);
    }
    /* nothing changed (the string options are pointers: compare the rest) */
    cr_expect_eq(cfg.port, before.port);
    cr_expect_eq(cfg.maxclients, before.maxclients);
    cr_expect_eq(cfg.fsync, before.fsync);
    cr_expect_eq(cfg.loglevel, before.loglevel);
    cr_expect_eq(cfg.max_kv_value_size, before.max_kv_value_size);
    cr_expect_eq(cfg.maxmemory, 0);
    cr_expect_eq(cfg.domain_write_guard, 1);
}

Test(config_set, unknown_option) {
    cr_expect_eq(set("no-such-option", "1", 0), -1);
    cr_expect_str_eq(err, "unknown option 'no-such-option'");
    cr_expect_eq(set("no-such-option", "1", 1), -1);
}

Test(config_set, runtime_refuses_immutable_options) {
    static const char *immutable[] = {"dir", "logfile", "port", "bind", "unixsocket", "databases",
                                      "block-cache-size"};
    for (size_t i = 0; i < sizeof immutable / sizeof *immutable; i++) {
        cr_expect_eq(set(immutable[i], "/tmp/x", 1), -1, "%s set at runtime", immutable[i]);
        char want[200];
        snprintf(want, sizeof want, "option '%s' can't be set at runtime", immutable[i]);
        cr_expect_str_eq(err, want);
    }
    cr_expect_str_eq(cfg.dir, "./data", "dir changed by a refused CONFIG SET");
    cr_expect_null(cfg.logfile, "logfile changed by a refused CONFIG SET");
    /* the same options are fine at start */
    cr_expect_eq(set("dir", "/tmp/stagekv-x", 0), 0, "%s", err);
    cr_expect_str_eq(cfg.dir, "/tmp/stagekv-x");
    cr_expect_eq(set("logfile", "/tmp/stagekv.log", 0), 0, "%s", err);
    cr_expect_str_eq(cfg.logfile, "/tmp/stagekv.log");
}

Test(config_set, empty_dir_or_bind_refused) {
    cr_expect_eq(set("dir", "", 0), -1);
    cr_expect_str_eq(err, "'dir' must not be empty");
    cr_expect_eq(set("bind", "", 0), -1);
    cr_expect_str_eq(err, "'bind' must not be empty");
}

/* A refused empty dir/bind keeps the old value (it was freed first once). */
Test(config_set, refused_empty_dir_keeps_old_value) {
    cr_expect_eq(set("dir", "", 0), -1);
    cr_expect_not_null(cfg.dir);
    if (cfg.dir) cr_expect_str_eq(cfg.dir, "./data");
}

/* ---- config_each ---------------------------------------------------------- */

typedef struct seen {
    char names[64][64];
    char values[64][128];
    int n;
} seen;

static void collect(void *arg, const char *name, const char *value) {
    seen *s = arg;
    cr_assert_lt(s->n, 64);
    snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
    s->n++;
}

static const char *value_of(const seen *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) return s->values[i];
    return NULL;
}

Test(config_each, glob_and_formatting) {
    seen s = {0};
    config_each(&cfg, "max*", 4, collect, &s);
    cr_expect_eq(s.n, 4, "max*: %d options", s.n);
    cr_expect_str_eq(value_of(&s, "maxclients"), "10000");
    cr_expect_str_eq(value_of(&s, "maxmemory"), "0");
    cr_expect_str_eq(value_of(&s, "max-kv-value-size"), "16777216");
    cr_expect_not_null(value_of(&s, "max-document-size"));

    memset(&s, 0, sizeof s);
    config_each(&cfg, "*", 1, collect, &s);
    cr_expect_gt(s.n, 20);
    cr_expect_str_eq(value_of(&s, "fsync"), "everysec");
    cr_expect_str_eq(value_of(&s, "appendfsync"), "everysec");
    cr_expect_str_eq(value_of(&s, "domain-write-guard"), "yes");
    cr_expect_str_eq(value_of(&s, "unixsocketperm"), "700");
    cr_expect_str_eq(value_of(&s, "loglevel"), "notice");
    cr_expect_str_eq(value_of(&s, "requirepass"), "");
    cr_expect_str_eq(value_of(&s, "save"), "");
    cr_expect_str_eq(value_of(&s, "appendonly"), "yes");

    memset(&s, 0, sizeof s);
    config_each(&cfg, "PORT", 4, collect, &s);
    cr_expect_eq(s.n, 1, "patterns match case-insensitively");
    memset(&s, 0, sizeof s);
    config_each(&cfg, "nothing*", 8, collect, &s);
    cr_expect_eq(s.n, 0);
}

/* ---- config_from_args ------------------------------------------------------- */

static char conf_path[64];

static void write_conf(const char *text) {
    snprintf(conf_path, sizeof conf_path, "/tmp/stagekv-unit-conf-XXXXXX");
    int fd = mkstemp(conf_path);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static int from_args(int argc, const char **argv) { return config_from_args(&cfg, argc, (char **)argv); }

Test(config_from_args, file_directives_and_comments) {
    write_conf("# a comment\n"
               "\n"
               "   # an indented comment\n"
               "port 7001\n"
               "  maxclients   77  \n"
               "dir \"/tmp/stagekv quoted dir\"\n"
               "requirepass 'pw'\n"
               "fsync always\r\n"
               "max-kv-value-size 2mb\n"
               "save \"\"\n");
    const char *argv[] = {"stagekv-server", conf_path};
    int r = from_args(2, argv);
    unlink(conf_path);
    cr_assert_eq(r, 0);
    cr_expect_eq(cfg.port, 7001);
    cr_expect_eq(cfg.maxclients, 77);
    cr_expect_str_eq(cfg.dir, "/tmp/stagekv quoted dir");
    cr_expect_str_eq(cfg.requirepass, "pw");
    cr_expect_eq(cfg.fsync, FSYNC_ALWAYS, "CRLF line endings");
    cr_expect_eq(cfg.max_kv_value_size, 2 * 1024 * 1024);
}

Test(config_from_args, flags_override_the_file) {
    write_conf("port 7001\nmaxclients 77\n");
    const char *argv[] = {"stagekv-server", conf_path, "--port", "7002", "--dir", "/tmp/d"};
    int r = from_args(6, argv);
    unlink(conf_path);
    cr_assert_eq(r, 0);
    cr_expect_eq(cfg.port, 7002);
    cr_expect_eq(cfg.maxclients, 77);
    cr_expect_str_eq(cfg.dir, "/tmp/d");
}

Test(config_from_args, flags_alone) {
    const char *argv[] = {"stagekv-server", "--port", "7003", "--fsync", "no", "--logfile", "/tmp/l"};
    cr_assert_eq(from_args(7, argv), 0);
    cr_expect_eq(cfg.port, 7003);
    cr_expect_eq(cfg.fsync, FSYNC_NO);
    cr_expect_str_eq(cfg.logfile, "/tmp/l");
    const char *none[] = {"stagekv-server"};
    cr_expect_eq(from_args(1, none), 0);
}

Test(config_from_args, bad_file_directives_refused) {
    write_conf("port 7001\nno-such-option 1\n");
    const char *argv[] = {"stagekv-server", conf_path};
    int r = from_args(2, argv);
    unlink(conf_path);
    cr_expect_eq(r, -1);

    write_conf("maxclients lots\n");
    const char *argv2[] = {"stagekv-server", conf_path};
    r = from_args(2, argv2);
    unlink(conf_path);
    cr_expect_eq(r, -1);

    const char *missing[] = {"stagekv-server", "/nonexistent/stagekv.conf"};
    cr_expect_eq(from_args(2, missing), -1);
}

Test(config_from_args, bad_flags_refused) {
    const char *unknown[] = {"stagekv-server", "--no-such-option", "1"};
    cr_expect_eq(from_args(3, unknown), -1);
    const char *no_value[] = {"stagekv-server", "--port"};
    cr_expect_eq(from_args(2, no_value), -1);
    const char *bad_value[] = {"stagekv-server", "--port", "99999"};
    cr_expect_eq(from_args(3, bad_value), -1);
    const char *not_a_flag[] = {"stagekv-server", "--port", "7000", "stray"};
    cr_expect_eq(from_args(4, not_a_flag), -1);
    write_conf("port 7001\n");
    const char *two_files[] = {"stagekv-server", conf_path, conf_path};
    int r = from_args(3, two_files);
    unlink(conf_path);
    cr_expect_eq(r, -1, "a second file name");
}

Test(config_from_args, help_and_version) {
    const char *help[] = {"stagekv-server", "--port", "1", "--help"};
    cr_expect_eq(from_args(4, help), 1);
    const char *version[] = {"stagekv-server", "-v"};
    cr_expect_eq(from_args(2, version), 1);
}

/* notify-keyspace-events: Redis's letters in, Redis's spelling out. */
Test(config_each, notify_keyspace_events) {
    seen s = {0};
    config_each(&cfg, "notify-keyspace-events", 22, collect, &s);
    cr_expect_str_eq(value_of(&s, "notify-keyspace-events"), "", "off by default");
    static const struct { const char *in, *out; int flags; } cases[] = {
        {"KA", "AK", NOTIFY_ALL | NOTIFY_KEYSPACE},
        {"EA", "AE", NOTIFY_ALL | NOTIFY_KEYEVENT},
        {"gKE", "gKE", NOTIFY_GENERIC | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT},
        {"$lshzxeKE", "$lshzxeKE", 0},
        {"Exn", "xEn", NOTIFY_KEYEVENT | NOTIFY_EXPIRED | NOTIFY_NEW},
        {"", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(set("notify-keyspace-events", cases[i].in, 1), 0, "'%s': %s", cases[i].in, err);
        if (cases[i].flags) cr_expect_eq(cfg.notify_keyspace_events, cases[i].flags, "'%s'", cases[i].in);
        memset(&s, 0, sizeof s);
        config_each(&cfg, "notify-keyspace-events", 22, collect, &s);
        cr_expect_str_eq(value_of(&s, "notify-keyspace-events"), cases[i].out, "'%s'", cases[i].in);
    }
    int before = cfg.notify_keyspace_events;
    cr_expect_eq(set("notify-keyspace-events", "KQ", 1), -1, "an unknown letter is refused");
    cr_expect_eq(cfg.notify_keyspace_events, before, "a refused value changes nothing");
}

/* client-output-buffer-limit: the pubsub class is kept, normal must be 0 0 0. */
Test(config_set, client_output_buffer_limit) {
    cr_expect_eq(cfg.pubsub_hard_limit, 32LL << 20);
    cr_expect_eq(cfg.pubsub_soft_limit, 8LL << 20);
    cr_expect_eq(cfg.pubsub_soft_seconds, 60);
    cr_assert_eq(set("client-output-buffer-limit", "normal 0 0 0 slave 256mb 64mb 60 pubsub 1mb 256kb 5", 1), 0,
                 "%s", err);
    cr_expect_eq(cfg.pubsub_hard_limit, 1LL << 20);
    cr_expect_eq(cfg.pubsub_soft_limit, 256LL << 10);
    cr_expect_eq(cfg.pubsub_soft_seconds, 5);
    static const char *bad[] = {"pubsub 1mb 1mb", "pubsub x 0 0", "pubsub 1mb 0 -1", "other 0 0 0", "normal 1mb 0 0",
                                "pubsub 0 0 0 pubsub", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(set("client-output-buffer-limit", bad[i], 1), -1, "'%s' accepted", bad[i]);
        cr_expect_eq(cfg.pubsub_hard_limit, 1LL << 20, "'%s' changed the limit", bad[i]);
    }
    cr_assert_eq(set("client-output-buffer-limit", "pubsub 0 0 0", 1), 0, "%s", err);
    cr_expect_eq(cfg.pubsub_hard_limit, 0);
}
