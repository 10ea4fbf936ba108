#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long ts_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void ts_sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* The pid of the server answering on port (0: none answers yet, -1: an
 * answer without a pid yet). Another process on this shared machine may have
 * taken the port between free_port() and our bind: the pid tells. */
static long answering_pid(const ts_server *s) {
    struct timeval tv = {1, 0};
    long pid = 0;
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && !c->err) {
        redisReply *r;
        for (int i = 0; i + 1 < s->nextra; i++)
            if (strcmp(s->extra[i], "--requirepass") == 0 && (r = redisCommand(c, "AUTH %s", s->extra[i + 1])))
                freeReplyObject(r);
        r = redisCommand(c, "INFO server");
        if (r) {
            const char *p = r->type == REDIS_REPLY_STRING ? strstr(r->str, "process_id:") : NULL;
            pid = p ? atol(p + 11) : -1;
            freeReplyObject(r);
        }
    }
    if (c) redisFree(c);
    return pid;
}

/* Starts the server and waits until it answers; 0 when it is up, -1 when
 * the port turned out to be someone else's. */
static int spawn_once(ts_server *s) {
    char port[16];
    const char *argv[40];
    int n = 0;
    snprintf(port, sizeof port, "%d", s->port);
    argv[n++] = STAGEKV_SERVER_BIN;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    for (int i = 0; i < s->nextra; i++) argv[n++] = s->extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 500; i++) { /* up to 10 s */
        long who = answering_pid(s);
        if (who == pid) return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0;
            if (who > 0) return -1; /* it lost the port to the one answering */
            cr_assert_fail("stagekv-server exited during start (see %s)", s->log);
        }
        if (who > 0) { /* someone else answers on our port */
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            s->pid = 0;
            return -1;
        }
        ts_sleep_ms(20);
    }
    cr_assert_fail("stagekv-server did not answer on port %d", s->port);
    return -1;
}

static void spawn(ts_server *s, int may_move) {
    for (int tries = 0; tries < 5; tries++) {
        if (spawn_once(s) == 0) return;
        cr_assert(may_move, "port %d was taken by another process", s->port);
        s->port = free_port();
    }
    cr_assert_fail("no free port for stagekv-server");
}

void ts_start(ts_server *s, const char *const *extra) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/stagekv-cclient-XXXXXX");
    cr_assert(mkdtemp(s->dir) != NULL);
    snprintf(s->log, sizeof s->log, "%s.log", s->dir);
    for (; extra && extra[s->nextra] && s->nextra < 16; s->nextra++) s->extra[s->nextra] = strdup(extra[s->nextra]);
    s->port = free_port();
    spawn(s, 1);
}

void ts_restart(ts_server *s) {
    cr_assert(s->pid == 0, "server still running");
    spawn(s, 0);
}

void ts_stop(ts_server *s) {
    if (!s->pid) return;
    kill(s->pid, SIGCONT); /* a stopped server cannot act on SIGTERM */
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void ts_cleanup(ts_server *s) {
    char cmd[600];
    ts_stop(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", s->dir, s->log);
    if (system(cmd) != 0) { /* best effort */ }
    for (int i = 0; i < s->nextra; i++) free(s->extra[i]);
    s->nextra = 0;
}

skv_options ts_options(int port) {
    skv_options o;
    skv_options_init(&o);
    o.port = port;
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = 5000;
    o.backoff_base_ms = 20;
    o.backoff_cap_ms = 200;
    return o;
}

skv_client *ts_open(const ts_server *s) {
    skv_options o = ts_options(s->port);
    skv_client *c = NULL;
    skv_error err;
    skv_status st = skv_open(&o, &c, &err);
    cr_assert_eq(st, SKV_OK, "skv_open: %s %s", skv_status_name(st), err.msg);
    return c;
}
