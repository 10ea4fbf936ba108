/* Replays a corpus without libFuzzer: runs LLVMFuzzerTestOneInput over
 * every regular file of each directory (or file) given on the command line,
 * in name order, each input in a buffer of exactly its size so that the
 * sanitizers see any read past its end. A path that does not exist is
 * skipped (git keeps no empty directories); no input at all is a failure.
 *
 *   fuzz_replay_<target> DIR|FILE...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;

    if (!f) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        fclose(f);
        return -1;
    }
    buf = malloc(n ? (size_t)n : 1);
    if (!buf || (n && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "%s: read failed\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int only_files(const struct dirent *d) { return d->d_name[0] != '.'; }

int main(int argc, char **argv) {
    long ran = 0, failed = 0;

    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("%s: absent, skipped\n", argv[i]);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += run_file(argv[i]) < 0;
            ran++;
            continue;
        }
        struct dirent **list;
        int n = scandir(argv[i], &list, only_files, alphasort);
        if (n < 0) {
            perror(argv[i]);
            return 1;
        }
        for (int k = 0; k < n; k++) {
            size_t len = strlen(argv[i]) + strlen(list[k]->d_name) + 2;
            char *path = malloc(len);
            if (!path) return 1;
            snprintf(path, len, "%s/%s", argv[i], list[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                failed += run_file(path) < 0;
                ran++;
            }
            free(path);
            free(list[k]);
        }
        free(list);
    }
    printf("%ld passed, %ld failed\n", ran - failed, failed);
    if (ran == 0) {
        fprintf(stderr, "no input replayed\n");
        return 1;
    }
    return failed ? 1 : 0;
}
