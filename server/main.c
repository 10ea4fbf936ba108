/* stagekv-server: configuration, then the loop until SIGTERM/SHUTDOWN. */
#include <stdio.h>
#include <string.h>

#include "server.h"

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
    /* the data dir (and its parents) is created by store_open */
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
