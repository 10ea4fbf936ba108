/* stagekv-server: configuration, then the loop until SIGTERM/SHUTDOWN. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server.h"

/* mkdir -p: the data dir and any missing parents. */
static int mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--commands-md") == 0) {
        cmd_write_markdown(stdout);
        return 0;
    }
    config cfg;
    config_defaults(&cfg);
    int r = config_from_args(&cfg, argc, argv);
    if (r != 0) {
        config_free(&cfg);
        return r > 0 ? 0 : 1;
    }
    server_log_open(&cfg);
    if (mkdir_p(cfg.dir) < 0) {
        server_log(LL_WARNING, "cannot create dir '%s': %s", cfg.dir, strerror(errno));
        config_free(&cfg);
        return 1;
    }
    static server srv; /* large; lives for the whole process */
    if (server_init(&srv, &cfg) < 0) {
        server_free(&srv);
        config_free(&srv.cfg);
        return 1;
    }
    int code = server_run(&srv);
    server_free(&srv);
    server_log(LL_NOTICE, "stagekv stopped, WAL synced");
    config_free(&srv.cfg);
    return code;
}
