/* Fuzz target: the config file parser and the command line
 * (server/config.c: config_from_args, through load_file; config_set;
 * config_parse_size; config_each).
 *
 * config_from_args reads a file by name, so the input is written to an
 * in-memory file (memfd) and passed as /proc/self/fd/N: no disk traffic.
 * Input: the first byte picks the layout:
 *   bit 0 clear: the rest is the file;
 *   bit 0 set:   the rest is split at NUL bytes: the file, then up to 15
 *                more arguments (normally "--name" "value" pairs).
 * Invariants: the result is 0, -1 or 1; config_free releases every
 * string (LeakSanitizer checks); CONFIG GET of every option ("*") formats
 * each value, and setting every value back as text is accepted and gives
 * the same text again (what CONFIG REWRITE relies on). Error messages go to
 * stderr: run the fuzzer with -close_fd_mask=2 to keep its output short. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "server.h"

static int memfd = -1;
static char fdpath[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    memfd = memfd_create("stagekv-fuzz-config", 0);
    if (memfd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", memfd);
    return 0;
}

typedef struct kv {
    char name[64];
    char value[1024];
} kv;

typedef struct kvs {
    kv items[64];
    int n;
} kvs;

static void collect(void *arg, const char *name, const char *value) {
    kvs *s = arg;
    FUZZ_CHECK(s->n < 64);
    FUZZ_CHECK(strlen(name) < sizeof s->items[0].name);
    snprintf(s->items[s->n].name, sizeof s->items[0].name, "%s", name);
    snprintf(s->items[s->n].value, sizeof s->items[0].value, "%s", value);
    s->n++;
}

static void check_round_trip(config *c) {
    static kvs before, after;
    char err[256];
    before.n = after.n = 0;
    config_each(c, "*", 1, collect, &before);
    FUZZ_CHECK(before.n > 0);
    for (int i = 0; i < before.n; i++) {
        /* a value longer than the 1024-byte CONFIG GET buffer is cut: skip */
        if (strlen(before.items[i].value) >= sizeof before.items[i].value - 1) continue;
        /* empty bind/dir are refused: they cannot be empty after a load */
        if (config_set(c, before.items[i].name, before.items[i].value, 0, err, sizeof err) != 0) {
            fprintf(stderr, "set back '%s' '%s': %s\n", before.items[i].name,
                    before.items[i].value, err);
            FUZZ_CHECK(0);
        }
    }
    config_each(c, "*", 1, collect, &after);
    FUZZ_CHECK(after.n == before.n);
    for (int i = 0; i < before.n; i++) {
        FUZZ_CHECK(strcmp(before.items[i].name, after.items[i].name) == 0);
        if (strlen(before.items[i].value) < sizeof before.items[i].value - 1)
            FUZZ_CHECK(strcmp(before.items[i].value, after.items[i].value) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t sel = (uint8_t)fuzz_take(&data, &size, 1);
    size_t flen = size;
    char *args[16];
    int nargs = 0;
    char *copy = NULL;

    if (sel & 1) {
        const uint8_t *z = memchr(data, 0, size);
        flen = z ? (size_t)(z - data) : size;
        if (z) {
            size_t rl = size - flen - 1;
            copy = malloc(rl + 1);
            FUZZ_CHECK(copy);
            memcpy(copy, z + 1, rl);
            copy[rl] = 0;
            char *p = copy, *end = copy + rl;
            while (nargs < 15 && p <= end) {
                args[nargs++] = p;
                p += strlen(p) + 1;
            }
        }
    }
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    FUZZ_CHECK(pwrite(memfd, data, flen, 0) == (ssize_t)flen);

    char *argv[18];
    int argc = 0;
    argv[argc++] = "stagekv-server";
    argv[argc++] = fdpath;
    for (int i = 0; i < nargs; i++) {
        /* --help/--version print usage on stdout: nothing to fuzz there */
        if (!strcmp(args[i], "--help") || !strcmp(args[i], "-h") ||
            !strcmp(args[i], "--version") || !strcmp(args[i], "-v"))
            continue;
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    config c;
    config_defaults(&c);
    int r = config_from_args(&c, argc, argv);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0 && c.bind && c.dir) check_round_trip(&c);
    config_free(&c);
    free(copy);

    /* config_parse_size on the file's first line */
    {
        char line[64];
        size_t n = flen < sizeof line - 1 ? flen : sizeof line - 1;
        long long v;
        memcpy(line, data, n);
        line[n] = 0;
        if (config_parse_size(line, &v) == 0) FUZZ_CHECK(v >= 0);
    }
    server_log_level(LL_NOTICE);
    return 0;
}
