/* The fault-injecting proxy (see support.h): one accept thread, one relay
 * thread per connection, poll() with a short timeout so stop is prompt. */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 128

struct ts_proxy {
    int lfd, port, server_port;
    atomic_int stop;
    pthread_t acceptor;
    pthread_mutex_t mu;
    char target[64]; /* command whose reply is dropped */
    int drops_left, seen, dropped;
    pthread_t relays[MAX_CONNS];
    int nrelays;
};

typedef struct relay {
    ts_proxy *p;
    int cfd, sfd;
} relay;

static int send_all(int fd, const char *b, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The command name of a RESP request starting at b ("*N\r\n$L\r\nNAME"),
 * copied into name; 0 when b does not start one. */
static int request_name(const char *b, size_t n, char name[64]) {
    const char *e = b + n, *p;
    if (n < 4 || b[0] != '*' || !(p = memchr(b, '\n', n)) || ++p >= e || *p != '$') return 0;
    long len = strtol(p + 1, NULL, 10);
    if (!(p = memchr(p, '\n', (size_t)(e - p)))) return 0;
    p++;
    if (len <= 0 || len >= 64 || p + len > e) return 0;
    memcpy(name, p, (size_t)len);
    name[len] = '\0';
    return 1;
}

static void *relay_main(void *arg) {
    relay *r = arg;
    ts_proxy *p = r->p;
    char buf[65536], name[64];
    int armed = 0;
    while (!atomic_load(&p->stop)) {
        struct pollfd f[2] = {{.fd = r->cfd, .events = POLLIN}, {.fd = r->sfd, .events = POLLIN}};
        if (poll(f, 2, 50) <= 0) continue;
        if (f[0].revents) {
            ssize_t n = recv(r->cfd, buf, sizeof buf, 0);
            if (n <= 0) break;
            if (request_name(buf, (size_t)n, name)) {
                pthread_mutex_lock(&p->mu);
                if (p->target[0] && strcasecmp(name, p->target) == 0) {
                    p->seen++;
                    if (p->drops_left > 0) {
                        p->drops_left--;
                        armed = 1;
                    }
                }
                pthread_mutex_unlock(&p->mu);
            }
            if (send_all(r->sfd, buf, (size_t)n) < 0) break;
        }
        if (f[1].revents) {
            ssize_t n = recv(r->sfd, buf, sizeof buf, 0);
            if (n <= 0) break;
            if (armed) { /* the server has executed it and answered: lose the answer */
                pthread_mutex_lock(&p->mu);
                p->dropped++;
                pthread_mutex_unlock(&p->mu);
                break;
            }
            if (send_all(r->cfd, buf, (size_t)n) < 0) break;
        }
    }
    close(r->cfd);
    close(r->sfd);
    free(r);
    return NULL;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

static void *accept_main(void *arg) {
    ts_proxy *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd f = {.fd = p->lfd, .events = POLLIN};
        if (poll(&f, 1, 50) <= 0) continue;
        int cfd = accept(p->lfd, NULL, NULL);
        if (cfd < 0) continue;
        int sfd = dial(p->server_port);
        relay *r = malloc(sizeof *r);
        pthread_mutex_lock(&p->mu);
        int room = p->nrelays < MAX_CONNS;
        pthread_mutex_unlock(&p->mu);
        if (sfd < 0 || !r || !room) { /* the server is away: so is the proxy */
            close(cfd);
            if (sfd >= 0) close(sfd);
            free(r);
            continue;
        }
        r->p = p;
        r->cfd = cfd;
        r->sfd = sfd;
        pthread_t t;
        if (pthread_create(&t, NULL, relay_main, r) != 0) {
            close(cfd);
            close(sfd);
            free(r);
            continue;
        }
        pthread_mutex_lock(&p->mu);
        p->relays[p->nrelays++] = t;
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

ts_proxy *ts_proxy_start(int server_port) {
    ts_proxy *p = calloc(1, sizeof *p);
    cr_assert(p);
    p->server_port = server_port;
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(p->lfd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(listen(p->lfd, 64) == 0);
    socklen_t l = sizeof a;
    getsockname(p->lfd, (struct sockaddr *)&a, &l);
    p->port = ntohs(a.sin_port);
    cr_assert(pthread_create(&p->acceptor, NULL, accept_main, p) == 0);
    return p;
}

int ts_proxy_port(const ts_proxy *p) { return p->port; }

void ts_proxy_drop_reply(ts_proxy *p, const char *cmd, int times) {
    pthread_mutex_lock(&p->mu);
    snprintf(p->target, sizeof p->target, "%s", cmd);
    p->drops_left = times;
    p->seen = 0;
    pthread_mutex_unlock(&p->mu);
}

int ts_proxy_seen(ts_proxy *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->seen;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int ts_proxy_dropped(ts_proxy *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->dropped;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void ts_proxy_stop(ts_proxy *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_join(p->acceptor, NULL);
    for (int i = 0; i < p->nrelays; i++) pthread_join(p->relays[i], NULL);
    close(p->lfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
